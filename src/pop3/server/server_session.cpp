// The POP3 server state machine; see posthorn/pop3/server_session.h.
//
// Everything that affects a transition lives in this file: the states
// below, one Handle* function per command, the SASL exchange, the answers
// to the driver's events. Responses are appended to out_ in order; events
// are queued in entries_ and turned into public Events by NextEvent(), so
// their views point into strings the session owns.
//
//   state           what comes next                      leaves to
//   kInit           Start()                              kAuthorization
//   kAuthorization  USER PASS APOP AUTH CAPA STLS QUIT   kTransaction (login
//                                                        accepted), kSasl,
//                                                        kTlsPending, kClosed
//   kSasl           one base64 line after "+ "           kAuthorization
//   kTlsPending     OnTlsStarted()                       kAuthorization
//   kTransaction    STAT LIST RETR DELE NOOP LAST RSET   kClosed (after
//                   TOP UIDL CAPA QUIT                   QUIT's UPDATE)
//   kClosed         nothing: input is discarded
//
// Pausing: an event that needs an answer sets pending_; Receive() stops
// after the line that raised it and returns the bytes consumed so far.
// The answer (AcceptLogin, EndMessageData, AnswerUpdate, ...) writes the
// response and clears pending_.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "wire/internal/sasl.h"
#include "posthorn/pop3/server_session.h"
#include "posthorn/wire/dot_stuffing.h"
#include "posthorn/wire/line_reader.h"
#include "posthorn/wire/top_cut.h"

namespace posthorn::pop3 {
namespace {

constexpr std::string_view kPlaintextRefused =
    "Plaintext authentication disallowed on non-secure (SSL/TLS) "
    "connections";
constexpr std::string_view kWrongState = "command not valid in this state";
// RFC 1939 section 3 keeps a response line within 512 octets; the user
// name echoed in responses is already bounded by CommandLimits.
constexpr std::size_t kMinCommandLine = wire::kPop3CommandLineMax;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// RFC 1939 section 7: unique-id = 1*70 of 0x21..0x7E.
bool IsUniqueId(std::string_view uid) {
  if (uid.empty() || uid.size() > 70) return false;
  return std::all_of(uid.begin(), uid.end(),
                     [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view Plural(std::uint64_t n, std::string_view one,
                        std::string_view many) {
  return n == 1 ? one : many;
}

void Wipe(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

}  // namespace

std::string_view LoginMechanismName(LoginMechanism m) {
  switch (m) {
    case LoginMechanism::kUserPass: return "pass";
    case LoginMechanism::kApop: return "apop";
    case LoginMechanism::kSaslPlain: return "plain";
  }
  return "?";
}

class ServerSession::Impl {
 public:
  explicit Impl(ServerOptions options);

  enum class State : std::uint8_t {
    kInit, kAuthorization, kSasl, kTlsPending, kTransaction, kClosed,
  };

  struct Entry {
    EventKind kind = EventKind::kQuit;
    bool needs_answer = false;
    std::size_t index = 0;
    std::optional<std::uint64_t> top_lines;
    absl::Status reason;
  };

  // Lifecycle and input.
  void Start();
  std::size_t Receive(std::string_view bytes);
  void OnEof();
  void OnTimeout();
  void OnTlsStarted();
  std::optional<Event> NextEvent();

  // Answers.
  absl::Status AcceptLogin(MaildropListing listing);
  void RejectLogin(const LoginFailure& failure);
  bool SendMessageData(std::string_view chunk);
  void EndMessageData();
  void FailMessage(const absl::Status& why);
  void AnswerUpdate(const absl::Status& result);

  // Output.
  void Ok(std::string_view text) { AppendStatusLine(true, "", text, &out_); }
  void Err(std::string_view text) { ErrWithCode("", text); }
  void ErrWithCode(std::string_view code, std::string_view text);
  void Close() { state_ = State::kClosed; }

  // Events.
  Entry& Push(EventKind kind, bool needs_answer);
  void ReleaseIfDrained();
  void Abort(absl::Status reason);

  // Commands.
  void HandleLine(const wire::Line& line);
  void HandleTooLong();
  void HandleCommand();
  void HandleAuthorization();
  void HandleTransaction();
  void HandleUser();
  void HandlePass();
  void HandleApop();
  void HandleAuth();
  void HandleSaslResponse(std::string_view text);
  void EndSasl();
  void HandleCapa();
  void HandleStls();
  void HandleStat();
  void HandleList();
  void HandleRetrOrTop();
  void HandleDele();
  void HandleRset();
  void HandleUidl();
  void HandleQuit();
  void QueueLogin(LoginMechanism mechanism);

  // Maildrop.
  bool PlaintextAllowed() const {
    return tls_active_ || options_.allow_plaintext_auth;
  }
  std::size_t count() const { return listing_.sizes.size(); }
  // Checks a message number: true and the 0-based index, or an -ERR sent.
  bool Lookup(std::uint64_t number, std::size_t* index);
  std::uint64_t LiveOctets() const { return total_octets_ - deleted_octets_; }
  std::size_t LiveCount() const { return count() - deleted_count_; }

  ServerOptions options_;
  State state_ = State::kInit;
  wire::LineReader reader_;
  std::string out_;
  std::string cmd_buf_;  // the current line (parse results view into it)
  Command cmd_{};

  // Event queue: entries_[head_, count_) are pending; slots are reused.
  std::vector<Entry> entries_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::optional<EventKind> pending_;  // the event awaiting an answer

  // AUTHORIZATION.
  bool tls_active_ = false;
  bool user_given_ = false;  // a USER was accepted just before
  std::string user_;         // USER name, then the logged-in user
  std::string login_secret_;  // PASS / APOP digest / PLAIN password
  std::string login_authzid_;
  LoginMechanism login_mechanism_ = LoginMechanism::kUserPass;
  std::string sasl_decoded_;
  int failed_logins_ = 0;
  int errors_ = 0;

  // TRANSACTION.
  MaildropListing listing_;
  std::vector<bool> deleted_;
  std::size_t deleted_count_ = 0;
  std::uint64_t total_octets_ = 0;
  std::uint64_t deleted_octets_ = 0;
  std::uint64_t last_ = 0;
  std::vector<std::size_t> deleted_indexes_;  // kUpdate's view

  // A RETR / TOP in progress.
  wire::DotStuffingEncoder encoder_;
  wire::TopCut top_cut_;
  std::string retr_status_;  // "+OK 120 octets\r\n", sent with the data
  bool retr_started_ = false;
  std::size_t retr_index_ = 0;
};

ServerSession::Impl::Impl(ServerOptions options)
    : options_(std::move(options)),
      reader_(std::max(options_.limits.max_command_line, kMinCommandLine)),
      tls_active_(options_.tls_active) {
  ServerLimits& l = options_.limits;
  l.max_command_line = std::max(l.max_command_line, kMinCommandLine);
  l.max_auth_line = std::max(l.max_auth_line, kMinCommandLine);
  l.max_failed_logins = std::max(l.max_failed_logins, 1);
  l.max_errors = std::max(l.max_errors, 1);
  out_.reserve(512);
  cmd_buf_.reserve(l.max_command_line);
  entries_.reserve(4);
}

// ---------------------------------------------------------------------------
// Output and events.

// Every -ERR counts; past max_errors the session gives up (a client that
// only produces errors is a scanner or a broken script).
void ServerSession::Impl::ErrWithCode(std::string_view code,
                                      std::string_view text) {
  AppendStatusLine(false, code, text, &out_);
  if (++errors_ >= options_.limits.max_errors && state_ != State::kClosed) {
    AppendStatusLine(false, "", "too many errors", &out_);
    Abort(absl::ResourceExhaustedError("too many errors"));
    Close();
  }
}

ServerSession::Impl::Entry& ServerSession::Impl::Push(EventKind kind,
                                                      bool needs_answer) {
  if (count_ == entries_.size()) entries_.emplace_back();
  Entry& e = entries_[count_++];
  e = Entry{};
  e.kind = kind;
  e.needs_answer = needs_answer;
  if (needs_answer) pending_ = kind;
  return e;
}

void ServerSession::Impl::ReleaseIfDrained() {
  if (head_ == count_) head_ = count_ = 0;
}

// The maildrop is open (TRANSACTION) but will not be committed: tell the
// driver so it releases it. A retrieval in progress is dropped with it.
void ServerSession::Impl::Abort(absl::Status reason) {
  if (state_ != State::kTransaction) return;
  if (pending_ == EventKind::kUpdate) return;  // QUIT came first: UPDATE
  if (pending_ == EventKind::kRetrieve) pending_.reset();
  Entry& e = Push(EventKind::kAborted, false);
  e.reason = std::move(reason);
}

std::optional<Event> ServerSession::Impl::NextEvent() {
  ReleaseIfDrained();
  if (head_ == count_) return std::nullopt;
  const Entry& e = entries_[head_++];
  Event ev;
  ev.kind = e.kind;
  ev.needs_answer = e.needs_answer;
  switch (e.kind) {
    case EventKind::kLogin:
      ev.mechanism = login_mechanism_;
      ev.user = user_;
      ev.password = login_secret_;
      ev.authzid = login_authzid_;
      if (login_mechanism_ == LoginMechanism::kApop) {
        ev.apop_timestamp = options_.apop_timestamp;
      }
      break;
    case EventKind::kRetrieve:
      ev.index = e.index;
      ev.top_lines = e.top_lines;
      break;
    case EventKind::kUpdate:
      ev.deleted = deleted_indexes_;
      break;
    case EventKind::kAborted:
      ev.reason = e.reason;
      break;
    default:
      break;
  }
  return ev;
}

// ---------------------------------------------------------------------------
// Lifecycle.

// RFC 1939 section 4: "+OK POP3 server ready <1896.697170952@dbc...>".
void ServerSession::Impl::Start() {
  if (state_ != State::kInit) return;
  std::string text = options_.greeting;
  if (!options_.apop_timestamp.empty()) {
    if (!text.empty()) text += ' ';
    text += options_.apop_timestamp;
  }
  Ok(text);
  state_ = State::kAuthorization;
}

void ServerSession::Impl::OnEof() {
  if (state_ == State::kClosed) return;
  Abort(absl::AbortedError("client disconnected"));
  Close();
}

// RFC 1939 section 3: "If a session ends for any reason other than a
// client-issued QUIT command, the POP3 session does NOT enter the UPDATE
// state and MUST not remove any messages from the maildrop."
void ServerSession::Impl::OnTimeout() {
  if (state_ == State::kClosed) return;
  const bool mid_response = pending_ == EventKind::kRetrieve && retr_started_;
  if (!mid_response) Err("autologout timer expired");
  Abort(absl::DeadlineExceededError("inactivity timeout"));
  Close();
}

// RFC 2595 section 4: after the handshake the client starts over; nothing
// learned before (the USER name) is kept.
void ServerSession::Impl::OnTlsStarted() {
  if (state_ != State::kTlsPending) return;
  reader_.Reset();
  tls_active_ = true;
  user_given_ = false;
  user_.clear();
  state_ = State::kAuthorization;
}

// ---------------------------------------------------------------------------
// Input.

std::size_t ServerSession::Impl::Receive(std::string_view bytes) {
  ReleaseIfDrained();
  if (bytes.empty()) return 0;
  switch (state_) {
    case State::kClosed:
    case State::kTlsPending:
      // After STLS, plaintext that arrives before the handshake was
      // injected (CVE-2011-0411): never read it as a command.
      return bytes.size();
    case State::kInit:
      // Talking before the greeting: nothing sensible can follow.
      Close();
      return bytes.size();
    default:
      break;
  }
  if (pending_.has_value()) return 0;
  std::string_view input = bytes;
  while (!input.empty() && !pending_.has_value() &&
         state_ != State::kClosed && state_ != State::kTlsPending) {
    switch (reader_.Next(&input)) {
      case wire::LineReader::Event::kLine:
        HandleLine(reader_.line());
        break;
      case wire::LineReader::Event::kLineTooLong:
        HandleTooLong();
        break;
      case wire::LineReader::Event::kNeedMoreData:
      case wire::LineReader::Event::kEndOfStream:
        break;
    }
  }
  if (state_ == State::kClosed || state_ == State::kTlsPending) {
    return bytes.size();
  }
  return bytes.size() - input.size();
}

void ServerSession::Impl::HandleTooLong() {
  if (state_ == State::kSasl) {
    EndSasl();
    Err("authentication line too long");
    return;
  }
  user_given_ = false;
  Err("line too long");
}

void ServerSession::Impl::HandleLine(const wire::Line& line) {
  const bool crlf = line.ending == wire::LineEnding::kCrLf ||
                    (line.ending == wire::LineEnding::kLf &&
                     options_.accept_bare_lf);
  if (state_ == State::kSasl) {
    // Copy first: resetting the reader's limit frees its buffer, which a
    // line that spanned chunks points into.
    cmd_buf_.assign(line.text.data(), line.text.size());
    EndSasl();
    if (!crlf) {
      Err("command lines must end with CRLF");
      return;
    }
    HandleSaslResponse(cmd_buf_);
    Wipe(&cmd_buf_);
    return;
  }
  if (!crlf) {
    user_given_ = false;
    Err("command lines must end with CRLF");
    return;
  }
  // Events and responses use cmd_, which views into cmd_buf_ (owned),
  // never into the driver's buffer.
  cmd_buf_.assign(line.text.data(), line.text.size());
  HandleCommand();
}

void ServerSession::Impl::HandleCommand() {
  auto parsed = ParseCommand(cmd_buf_, options_.limits.arguments);
  if (auto* error = std::get_if<CommandError>(&parsed)) {
    user_given_ = false;
    Err(error->message);
    return;
  }
  cmd_ = std::get<Command>(parsed);
  if (state_ == State::kAuthorization) {
    HandleAuthorization();
  } else {
    HandleTransaction();
  }
}

// RFC 1939 section 4 / RFC 2449 / RFC 2595 / RFC 5034: the AUTHORIZATION
// state's commands.
void ServerSession::Impl::HandleAuthorization() {
  // PASS is valid only right after a successful USER (RFC 1939 section 7).
  const bool after_user = user_given_;
  user_given_ = false;
  switch (cmd_.verb) {
    case Verb::kUser: HandleUser(); break;
    case Verb::kPass:
      if (!after_user) {
        Err("send USER first");
      } else {
        HandlePass();
      }
      break;
    case Verb::kApop: HandleApop(); break;
    case Verb::kAuth: HandleAuth(); break;
    case Verb::kCapa: HandleCapa(); break;
    case Verb::kStls: HandleStls(); break;
    case Verb::kQuit:
      // No UPDATE: nothing was opened (RFC 1939 section 6).
      Ok(fmt::format("{} POP3 server signing off", options_.hostname));
      Push(EventKind::kQuit, false);
      Close();
      break;
    default:
      Err(kWrongState);
      break;
  }
}

void ServerSession::Impl::HandleTransaction() {
  switch (cmd_.verb) {
    case Verb::kStat: HandleStat(); break;
    case Verb::kList: HandleList(); break;
    case Verb::kRetr:
    case Verb::kTop: HandleRetrOrTop(); break;
    case Verb::kDele: HandleDele(); break;
    case Verb::kNoop: Ok(""); break;
    case Verb::kLast: Ok(fmt::format("{}", last_)); break;
    case Verb::kRset: HandleRset(); break;
    case Verb::kUidl: HandleUidl(); break;
    case Verb::kCapa: HandleCapa(); break;
    case Verb::kQuit: HandleQuit(); break;
    default: Err(kWrongState); break;
  }
}

// ---------------------------------------------------------------------------
// AUTHORIZATION.

void ServerSession::Impl::HandleUser() {
  if (!options_.user_enabled) {
    Err("USER not supported, use APOP or AUTH");
    return;
  }
  if (!PlaintextAllowed()) {
    ErrWithCode(kCodeAuth, kPlaintextRefused);
    return;
  }
  user_.assign(cmd_.argument.data(), cmd_.argument.size());
  user_given_ = true;
  // qpopper's text: it does not tell whether the user exists.
  Ok(fmt::format("Password required for {}.", user_));
}

void ServerSession::Impl::HandlePass() {
  if (!PlaintextAllowed()) {  // TLS went away? Never send it on.
    ErrWithCode(kCodeAuth, kPlaintextRefused);
    return;
  }
  login_secret_.assign(cmd_.argument.data(), cmd_.argument.size());
  login_authzid_.clear();
  QueueLogin(LoginMechanism::kUserPass);
}

// RFC 1939 section 7: APOP name digest, digest = MD5(timestamp secret) in
// hex. The driver checks it; here it is only lower-cased.
void ServerSession::Impl::HandleApop() {
  if (options_.apop_timestamp.empty()) {
    Err("APOP not supported");
    return;
  }
  user_.assign(cmd_.argument.data(), cmd_.argument.size());
  login_secret_.assign(cmd_.argument2.data(), cmd_.argument2.size());
  for (char& c : login_secret_) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  login_authzid_.clear();
  QueueLogin(LoginMechanism::kApop);
}

void ServerSession::Impl::QueueLogin(LoginMechanism mechanism) {
  login_mechanism_ = mechanism;
  Push(EventKind::kLogin, true);
}

// RFC 5034 section 4:
//   auth-command = "AUTH" SP sasl-mech [SP initial-response] CRLF
//                  *(client-response CRLF) [cancel-response CRLF]
//   initial-response = base64 / "="
//   cancel-response  = "*"
void ServerSession::Impl::HandleAuth() {
  const bool plain_offered = options_.sasl_plain_enabled && PlaintextAllowed();
  if (cmd_.argument.empty()) {
    // "AUTH" alone: the mechanism list (RFC 1734 practice; Outlook asks).
    Ok("");
    if (plain_offered) out_ += "PLAIN\r\n";
    out_ += ".\r\n";
    return;
  }
  if (!options_.sasl_plain_enabled || !EqualsIgnoreCase(cmd_.argument, "PLAIN")) {
    Err("unsupported authentication mechanism");
    return;
  }
  if (!PlaintextAllowed()) {
    ErrWithCode(kCodeAuth, kPlaintextRefused);
    return;
  }
  if (!cmd_.argument2.empty()) {
    HandleSaslResponse(cmd_.argument2);
    return;
  }
  // RFC 5034 section 4: "+" SP [base64]; PLAIN starts with an empty one.
  out_ += "+ \r\n";
  state_ = State::kSasl;
  // The AUTH line has just ended, so the reader is between lines.
  reader_.set_max_line_length(options_.limits.max_auth_line).IgnoreError();
}

void ServerSession::Impl::EndSasl() {
  if (state_ == State::kSasl) state_ = State::kAuthorization;
  reader_.set_max_line_length(options_.limits.max_command_line).IgnoreError();
}

void ServerSession::Impl::HandleSaslResponse(std::string_view text) {
  if (text == "*") {
    Err("authentication cancelled");
    return;
  }
  if (text == "=") text = {};
  if (!wire::internal::DecodeBase64Strict(text, &sasl_decoded_)) {
    Wipe(&sasl_decoded_);
    Err("invalid base64 data");
    return;
  }
  wire::internal::PlainMessage plain;
  if (!wire::internal::SplitPlain(sasl_decoded_, &plain)) {
    Wipe(&sasl_decoded_);
    Err("invalid PLAIN message");
    return;
  }
  const std::size_t max_name = options_.limits.arguments.max_user_name;
  if (plain.authcid.size() > max_name || plain.authzid.size() > max_name) {
    Wipe(&sasl_decoded_);
    Err("user name too long");
    return;
  }
  user_.assign(plain.authcid.data(), plain.authcid.size());
  login_authzid_.assign(plain.authzid.data(), plain.authzid.size());
  login_secret_.assign(plain.password.data(), plain.password.size());
  Wipe(&sasl_decoded_);
  QueueLogin(LoginMechanism::kSaslPlain);
}

// RFC 2449 section 5: the capabilities of the current state.
void ServerSession::Impl::HandleCapa() {
  const bool auth = state_ == State::kAuthorization;
  Ok("Capability list follows");
  out_ += "TOP\r\n";
  if (auth && options_.user_enabled && PlaintextAllowed()) out_ += "USER\r\n";
  out_ += "UIDL\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n";
  if (auth && options_.sasl_plain_enabled && PlaintextAllowed()) {
    out_ += "SASL PLAIN\r\n";
  }
  if (auth && options_.tls_available && !tls_active_) out_ += "STLS\r\n";
  out_ += "EXPIRE NEVER\r\nIMPLEMENTATION posthorn\r\n.\r\n";
}

// RFC 2595 section 4: "STLS" only in AUTHORIZATION.
void ServerSession::Impl::HandleStls() {
  if (tls_active_) {
    Err("TLS already active");
    return;
  }
  if (!options_.tls_available) {
    Err("STLS not available");
    return;
  }
  Ok("Begin TLS negotiation");
  Push(EventKind::kStartTls, false);
  // At this point there must not be any pending plaintext: what the reader
  // holds and the rest of this Receive() are dropped.
  reader_.Reset();
  state_ = State::kTlsPending;
}

absl::Status ServerSession::Impl::AcceptLogin(MaildropListing listing) {
  ReleaseIfDrained();
  if (pending_ != EventKind::kLogin) {
    return absl::FailedPreconditionError("no login waits for an answer");
  }
  if (listing.uids.size() != listing.sizes.size()) {
    return absl::InvalidArgumentError(
        fmt::format("listing has {} sizes but {} uids", listing.sizes.size(),
                    listing.uids.size()));
  }
  for (std::size_t i = 0; i < listing.uids.size(); ++i) {
    if (!IsUniqueId(listing.uids[i])) {
      return absl::InvalidArgumentError(
          fmt::format("uid of message {} is not an RFC 1939 unique-id", i + 1));
    }
  }
  pending_.reset();
  Wipe(&login_secret_);
  listing_ = std::move(listing);
  listing_.last_accessed = std::min<std::uint64_t>(listing_.last_accessed,
                                                   listing_.sizes.size());
  deleted_.assign(count(), false);
  deleted_count_ = 0;
  deleted_octets_ = 0;
  total_octets_ = 0;
  for (const std::uint64_t s : listing_.sizes) total_octets_ += s;
  last_ = listing_.last_accessed;
  if (state_ == State::kClosed) {
    // The client left while the maildrop was being opened.
    state_ = State::kTransaction;
    Abort(absl::AbortedError("client disconnected during login"));
    state_ = State::kClosed;
    return absl::OkStatus();
  }
  state_ = State::kTransaction;
  // RFC 1939 section 7: "+OK mrose's maildrop has 2 messages (320 octets)".
  Ok(fmt::format("{}'s maildrop has {} {} ({} octets)", user_, count(),
                 Plural(count(), "message", "messages"), total_octets_));
  return absl::OkStatus();
}

void ServerSession::Impl::RejectLogin(const LoginFailure& failure) {
  ReleaseIfDrained();
  if (pending_ != EventKind::kLogin) return;
  pending_.reset();
  Wipe(&login_secret_);
  if (state_ == State::kClosed) return;
  const std::string_view code =
      IsResponseCode(failure.code) ? std::string_view(failure.code) : "";
  AppendStatusLine(false, code, failure.text.empty() ? "authentication failed"
                                                     : failure.text,
                   &out_);
  user_.clear();
  if (code.empty() || code == kCodeAuth) {
    if (++failed_logins_ >= options_.limits.max_failed_logins) Close();
  }
}

// ---------------------------------------------------------------------------
// TRANSACTION.

bool ServerSession::Impl::Lookup(std::uint64_t number, std::size_t* index) {
  if (number == 0 || number > count()) {
    // RFC 1939 section 5 (LIST example).
    Err(fmt::format("no such message, only {} {} in maildrop", count(),
                    Plural(count(), "message", "messages")));
    return false;
  }
  *index = static_cast<std::size_t>(number - 1);
  if (deleted_[*index]) {
    Err(fmt::format("message {} already deleted", number));
    return false;
  }
  return true;
}

void ServerSession::Impl::HandleStat() {
  Ok(fmt::format("{} {}", LiveCount(), LiveOctets()));
}

void ServerSession::Impl::HandleList() {
  std::size_t i;
  if (cmd_.has_message) {
    if (Lookup(cmd_.message, &i)) {
      Ok(fmt::format("{} {}", i + 1, listing_.sizes[i]));
    }
    return;
  }
  Ok(fmt::format("{} {} ({} octets)", LiveCount(),
                 Plural(LiveCount(), "message", "messages"), LiveOctets()));
  for (i = 0; i < count(); ++i) {
    if (!deleted_[i]) fmt::format_to(std::back_inserter(out_), "{} {}\r\n",
                                     i + 1, listing_.sizes[i]);
  }
  out_ += ".\r\n";
}

void ServerSession::Impl::HandleUidl() {
  std::size_t i;
  if (cmd_.has_message) {
    if (Lookup(cmd_.message, &i)) Ok(fmt::format("{} {}", i + 1, listing_.uids[i]));
    return;
  }
  Ok("");
  for (i = 0; i < count(); ++i) {
    if (!deleted_[i]) fmt::format_to(std::back_inserter(out_), "{} {}\r\n",
                                     i + 1, listing_.uids[i]);
  }
  out_ += ".\r\n";
}

// RFC 1939 RETR / TOP; RFC 1460: RETR raises the highest number accessed.
void ServerSession::Impl::HandleRetrOrTop() {
  std::size_t i;
  if (!Lookup(cmd_.message, &i)) return;
  const bool top = cmd_.verb == Verb::kTop;
  retr_status_.clear();
  if (top) {
    AppendStatusLine(true, "", "", &retr_status_);
  } else {
    last_ = std::max<std::uint64_t>(last_, i + 1);
    AppendStatusLine(true, "", fmt::format("{} octets", listing_.sizes[i]),
                     &retr_status_);
  }
  retr_started_ = false;
  retr_index_ = i;
  encoder_.Reset();
  top_cut_.Reset(top ? std::optional<std::uint64_t>(cmd_.top_lines)
                        : std::nullopt);
  Entry& e = Push(EventKind::kRetrieve, true);
  e.index = i;
  if (top) e.top_lines = cmd_.top_lines;
}

void ServerSession::Impl::HandleDele() {
  std::size_t i;
  if (!Lookup(cmd_.message, &i)) return;
  deleted_[i] = true;
  ++deleted_count_;
  deleted_octets_ += listing_.sizes[i];
  // RFC 1460 DELE: "If the number associated with this message is higher
  // than the highest access number, the server updates it".
  last_ = std::max<std::uint64_t>(last_, i + 1);
  Ok(fmt::format("message {} deleted", i + 1));
}

// RFC 1939 RSET example: "+OK maildrop has 2 messages (320 octets)";
// RFC 1460: the highest access number goes back to its initial value.
void ServerSession::Impl::HandleRset() {
  std::fill(deleted_.begin(), deleted_.end(), false);
  deleted_count_ = 0;
  deleted_octets_ = 0;
  last_ = listing_.last_accessed;
  Ok(fmt::format("maildrop has {} {} ({} octets)", count(),
                 Plural(count(), "message", "messages"), total_octets_));
}

void ServerSession::Impl::HandleQuit() {
  deleted_indexes_.clear();
  for (std::size_t i = 0; i < count(); ++i) {
    if (deleted_[i]) deleted_indexes_.push_back(i);
  }
  Push(EventKind::kUpdate, true);
}

bool ServerSession::Impl::SendMessageData(std::string_view chunk) {
  ReleaseIfDrained();
  if (pending_ != EventKind::kRetrieve || state_ == State::kClosed) {
    return false;
  }
  if (top_cut_.done()) return false;
  if (!retr_started_) {
    out_ += retr_status_;
    retr_started_ = true;
  }
  encoder_.Update(top_cut_.Filter(chunk), &out_);
  return !top_cut_.done();
}

void ServerSession::Impl::EndMessageData() {
  ReleaseIfDrained();
  if (pending_ != EventKind::kRetrieve) return;
  pending_.reset();
  if (state_ == State::kClosed) return;
  if (!retr_started_) out_ += retr_status_;
  encoder_.Finish(&out_);
}

void ServerSession::Impl::FailMessage(const absl::Status& why) {
  ReleaseIfDrained();
  if (pending_ != EventKind::kRetrieve) return;
  pending_.reset();
  if (state_ == State::kClosed) return;
  if (!retr_started_) {
    ErrWithCode(kCodeSysTemp,
                fmt::format("cannot read message {}", retr_index_ + 1));
    return;
  }
  // The multi-line response has begun and cannot become an -ERR: close
  // without its terminator so the client sees a failed download.
  Abort(absl::Status(why.code(), fmt::format("message {} unreadable: {}",
                                             retr_index_ + 1,
                                             std::string(why.message()))));
  Close();
}

// RFC 1939 section 6 (UPDATE) and its QUIT examples.
void ServerSession::Impl::AnswerUpdate(const absl::Status& result) {
  ReleaseIfDrained();
  if (pending_ != EventKind::kUpdate) return;
  pending_.reset();
  const bool was_closed = state_ == State::kClosed;
  Close();
  if (was_closed) return;
  if (!result.ok()) {
    AppendStatusLine(false, kCodeSysTemp,
                     "some deleted messages not removed", &out_);
    return;
  }
  const std::size_t left = LiveCount();
  if (left == 0) {
    Ok(fmt::format("{} POP3 server signing off (maildrop empty)",
                   options_.hostname));
  } else {
    Ok(fmt::format("{} POP3 server signing off ({} {} left)",
                   options_.hostname, left, Plural(left, "message", "messages")));
  }
}

// ---------------------------------------------------------------------------
// The public class forwards to Impl.

ServerSession::ServerSession(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ServerSession::~ServerSession() = default;

void ServerSession::Start() { impl_->Start(); }
std::size_t ServerSession::Receive(std::string_view bytes) {
  return impl_->Receive(bytes);
}
void ServerSession::OnEof() { impl_->OnEof(); }
void ServerSession::OnTimeout() { impl_->OnTimeout(); }
void ServerSession::OnTlsStarted() { impl_->OnTlsStarted(); }
std::optional<Event> ServerSession::NextEvent() { return impl_->NextEvent(); }
bool ServerSession::waiting_for_answer() const {
  return impl_->pending_.has_value() &&
         impl_->state_ != Impl::State::kClosed;
}
absl::Status ServerSession::AcceptLogin(MaildropListing listing) {
  return impl_->AcceptLogin(std::move(listing));
}
void ServerSession::RejectLogin(const LoginFailure& failure) {
  impl_->RejectLogin(failure);
}
bool ServerSession::SendMessageData(std::string_view chunk) {
  return impl_->SendMessageData(chunk);
}
void ServerSession::EndMessageData() { impl_->EndMessageData(); }
void ServerSession::FailMessage(const absl::Status& why) {
  impl_->FailMessage(why);
}
void ServerSession::AnswerUpdate(const absl::Status& result) {
  impl_->AnswerUpdate(result);
}
std::string ServerSession::TakeOutput() {
  std::string out;
  out.swap(impl_->out_);
  return out;
}
void ServerSession::TakeOutput(std::string* out) {
  out->clear();
  out->swap(impl_->out_);
}
std::string_view ServerSession::output() const { return impl_->out_; }
bool ServerSession::has_output() const { return !impl_->out_.empty(); }
bool ServerSession::closed() const {
  return impl_->state_ == Impl::State::kClosed;
}
bool ServerSession::tls_active() const { return impl_->tls_active_; }
bool ServerSession::in_transaction() const {
  return impl_->state_ == Impl::State::kTransaction;
}
std::string_view ServerSession::user() const { return impl_->user_; }
std::size_t ServerSession::deleted_count() const {
  return impl_->deleted_count_;
}
std::uint64_t ServerSession::deleted_octets() const {
  return impl_->deleted_octets_;
}
const ServerOptions& ServerSession::options() const { return impl_->options_; }

}  // namespace posthorn::pop3
