// The SMTP server state machine; see posthorn/smtp/server_session.h.
//
// Everything that affects a transition lives in this file: the states
// below, one Handle* function per command, the data phase and the AUTH
// exchange. Replies are appended to out_ in order; events are queued in
// entries_ and materialised as public Events only when NextEvent() hands
// them out (so their views point into storage that cannot move before the
// next Receive(), Answer() or NextEvent()).
//
//   state        what comes next                 leaves to
//   kInit        Start() / StartRefused()        kGreeted / kClosed
//   kGreeted     HELO, EHLO (STARTTLS, AUTH ...) kReady
//   kReady       MAIL (accepted)                 kMail
//   kMail        RCPT (accepted)                 kRcpt
//   kRcpt        RCPT, DATA (accepted: 354)      kData
//   kData        body bytes to <CRLF>.<CRLF>     kReady (after the verdict)
//   kAuth        a SASL response line            kReady
//   kTlsPending  OnTlsStarted()                  kGreeted
//   kClosed      nothing: input is discarded
//
// Pausing: an event with needs_answer sets waiting_; Receive() stops at the
// end of the line (or end marker) that raised it and returns the bytes
// consumed so far. Answer() writes the reply and clears waiting_.

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/smtp/server_session.h"
#include "posthorn/wire/line_reader.h"
#include "wire/internal/sasl.h"

namespace posthorn::smtp {
namespace {

using wire::internal::DecodeBase64Strict;
using wire::internal::PlainMessage;
using wire::internal::SplitPlain;

// RFC 4954 4: the LOGIN mechanism's challenges, base64 of "Username:" and
// "Password:".
constexpr std::string_view kLoginUserChallenge = "334 VXNlcm5hbWU6\r\n";
constexpr std::string_view kLoginPassChallenge = "334 UGFzc3dvcmQ6\r\n";
// RFC 4954 4: continue-req = "334" SP [base64] CRLF; PLAIN asks with an
// empty challenge.
constexpr std::string_view kEmptyChallenge = "334 \r\n";

constexpr std::string_view kSyncError = "Error: SMTP protocol synchronization";
constexpr std::string_view kDefaultHelp =
    "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP ETRN "
    "STARTTLS AUTH";
// A HELP line from the configuration is cut to fit one reply line
// (RFC 5321 4.5.3.1.5: 512 octets with "214-2.0.0 " and CRLF).
constexpr std::size_t kMaxHelpText = 512 - 12;

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

// RFC 2920 3.1: "The EHLO, DATA, VRFY, EXPN, TURN, QUIT, and NOOP commands
// can only appear as the last command in a group"; RFC 3207 4.2 and
// RFC 4954 4 add STARTTLS and AUTH (the reply changes what may follow).
// VRFY, EXPN and NOOP are harmless to answer in order, so like Postfix only
// the commands whose reply changes the protocol are enforced.
bool MustEndGroup(Verb verb) {
  switch (verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
    case Verb::kData:
    case Verb::kStartTls:
    case Verb::kAuth:
    case Verb::kQuit:
      return true;
    default:
      return false;
  }
}

// Configuration text goes into replies; a CR or LF in it must not split a
// reply line.
void AppendReplyText(std::string_view text, std::string* out) {
  for (const char c : text) {
    out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  }
}

bool UsableReply(const Verdict& v, int accept_code);

}  // namespace

class ServerSession::Impl {
 public:
  explicit Impl(ServerOptions options);

  void Start();
  void StartRefused(const Reply& reply);
  std::size_t Receive(std::string_view bytes);
  void OnEof();
  void OnTimeout();
  void OnShutdown();
  void OnTlsStarted();
  std::optional<Event> NextEvent();
  void Answer(const Verdict& verdict);

  enum class State : std::uint8_t {
    kInit, kGreeted, kReady, kMail, kRcpt, kData, kAuth, kTlsPending,
    kClosed,
  };

  // One queued event. Views are built from it by NextEvent().
  struct Entry {
    EventKind kind = EventKind::kReset;
    bool needs_answer = false;
    bool esmtp = false;
    std::string text;  // kHelo name (slot reused: keeps its capacity)
    std::size_t data_offset = 0;  // kMessageData: range in data_buf_
    std::size_t data_size = 0;
    absl::Status reason;  // kMessageAborted
  };

  enum class AuthStep : std::uint8_t { kNone, kPlain, kLoginUser, kLoginPass };

  // Output.
  void Send(int code, std::string_view enhanced, std::string_view text);
  void SendError(int code, std::string_view enhanced, std::string_view text);
  void SendReply(const Reply& reply);
  void SendWithHost(int code, std::string_view enhanced,
                    std::string_view after_host);
  void Close() {
    state_ = State::kClosed;
    waiting_ = false;
  }
  void CloseWithSyncError() {
    Send(554, "5.5.0", kSyncError);
    Close();
  }

  // Events.
  Entry& Push(EventKind kind, bool needs_answer);
  void ReleaseIfDrained();

  // Input.
  void HandleLine(const wire::Line& line, bool more_input);
  void HandleTooLong();
  void HandleCommand(bool more_input);
  void HandleHelo();
  void HandleMail();
  void HandleRcpt();
  void HandleData();
  void HandleRset();
  void HandleQuit();
  void HandleVrfy();
  void HandleExpn();
  void HandleHelp();
  void HandleEtrn();
  void HandleStartTls();
  void HandleAuth();
  void HandleSaslLine(std::string_view text);
  void AuthCredentialsReady(std::string_view mechanism);
  void EndAuthExchange();
  void ConsumeData(std::string_view* input);
  void FinishData();

  // Transactions.
  bool InTransaction() const {
    return state_ == State::kMail || state_ == State::kRcpt ||
           state_ == State::kData;
  }
  void DropTransaction();
  void AbortTransaction(absl::Status reason);
  void ClearEnvelope();
  void BuildEhloReply();

  ServerOptions options_;
  State state_ = State::kInit;
  wire::LineReader reader_;
  wire::DotStuffingDecoder decoder_;

  std::string out_;
  std::string cmd_buf_;  // the current command line (events view into it)
  Command cmd_{};        // parsed from cmd_buf_
  std::string ehlo_reply_;
  std::string scratch_;

  // Event queue: entries_[head_, count_) are pending. Slots are reused.
  std::vector<Entry> entries_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::string data_buf_;  // decoded body bytes of queued kMessageData
  bool waiting_ = false;
  EventKind pending_ = EventKind::kReset;

  // Session facts.
  bool esmtp_ = false;
  bool tls_active_ = false;
  bool authenticated_ = false;
  std::string auth_user_;
  int error_count_ = 0;
  int auth_failures_ = 0;

  // AUTH exchange.
  AuthStep auth_step_ = AuthStep::kNone;
  std::string sasl_decoded_;
  std::string sasl_authzid_;
  std::string sasl_user_;
  std::string sasl_password_;
  std::string_view sasl_mechanism_;

  // Transaction.
  Envelope envelope_;
  std::vector<Envelope::Recipient> spare_recipients_;  // keeps capacity
  std::string pending_envid_;
  std::string pending_auth_;
  std::string pending_orcpt_;
  bool mail_smtputf8_ = false;
};

ServerSession::Impl::Impl(ServerOptions options)
    : options_(std::move(options)),
      reader_(options_.limits.max_command_line),
      tls_active_(options_.tls_active) {
  wire::DotDecoderOptions dot;
  dot.bare_newline = options_.bare_newline;
  dot.max_line_length =
      options_.enforce_text_line_limit ? options_.limits.max_text_line : 0;
  dot.max_content_bytes = options_.limits.max_message_size;
  decoder_ = wire::DotStuffingDecoder(dot);
  out_.reserve(1024);
  cmd_buf_.reserve(options_.limits.max_command_line);
  entries_.reserve(4);
  BuildEhloReply();
}

// ---------------------------------------------------------------------------
// Output.

void ServerSession::Impl::Send(int code, std::string_view enhanced,
                               std::string_view text) {
  AppendReply(code, enhanced, text, &out_);
}

// A 4xx/5xx reply to the client: counts towards the error limits
// (Postfix's smtpd_soft_error_limit / smtpd_hard_error_limit).
void ServerSession::Impl::SendError(int code, std::string_view enhanced,
                                    std::string_view text) {
  Send(code, enhanced, text);
  ++error_count_;
  if (error_count_ >= options_.limits.hard_error_limit &&
      state_ != State::kClosed) {
    SendWithHost(421, "4.7.0", " Error: too many errors");
    if (state_ == State::kData || InTransaction()) {
      AbortTransaction(absl::ResourceExhaustedError("too many errors"));
    }
    Close();
  }
}

void ServerSession::Impl::SendReply(const Reply& reply) {
  AppendReply(reply, &out_);
  if (reply.code >= 400) ++error_count_;
}

void ServerSession::Impl::SendWithHost(int code, std::string_view enhanced,
                                       std::string_view after_host) {
  scratch_.clear();
  AppendReplyText(options_.hostname, &scratch_);
  scratch_ += after_host;
  Send(code, enhanced, scratch_);
}

void ServerSession::Impl::BuildEhloReply() {
  const ServerOptions& o = options_;
  std::vector<std::string> lines;
  lines.push_back(o.hostname);
  lines.emplace_back("PIPELINING");
  lines.push_back(o.limits.max_message_size == 0
                      ? std::string("SIZE")
                      : "SIZE " + std::to_string(o.limits.max_message_size));
  if (o.etrn_enabled) lines.emplace_back("ETRN");
  if (o.tls_available && !tls_active_) lines.emplace_back("STARTTLS");
  if (o.auth_enabled && (tls_active_ || o.allow_plaintext_auth)) {
    lines.emplace_back("AUTH PLAIN LOGIN");
  }
  lines.emplace_back("ENHANCEDSTATUSCODES");
  lines.emplace_back("8BITMIME");
  if (o.dsn_enabled) lines.emplace_back("DSN");
  if (o.smtputf8_enabled) lines.emplace_back("SMTPUTF8");
  ehlo_reply_.clear();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ehlo_reply_ += i + 1 == lines.size() ? "250 " : "250-";
    AppendReplyText(lines[i], &ehlo_reply_);
    ehlo_reply_ += "\r\n";
  }
}

// ---------------------------------------------------------------------------
// Events.

ServerSession::Impl::Entry& ServerSession::Impl::Push(EventKind kind,
                                                      bool needs_answer) {
  if (count_ == entries_.size()) entries_.emplace_back();
  Entry& e = entries_[count_++];
  e.kind = kind;
  e.needs_answer = needs_answer;
  e.esmtp = false;
  e.text.clear();
  e.data_offset = e.data_size = 0;
  e.reason = absl::OkStatus();
  if (needs_answer) {
    waiting_ = true;
    pending_ = kind;
  }
  return e;
}

// All queued events were handed out and the caller made the next call:
// their views may now die, so the slots and the body buffer are recycled.
void ServerSession::Impl::ReleaseIfDrained() {
  if (head_ == count_) {
    head_ = count_ = 0;
    data_buf_.clear();
  }
}

std::optional<Event> ServerSession::Impl::NextEvent() {
  ReleaseIfDrained();
  if (head_ == count_) return std::nullopt;
  const Entry& e = entries_[head_++];
  Event ev{};
  ev.kind = e.kind;
  ev.needs_answer = e.needs_answer;
  switch (e.kind) {
    case EventKind::kHelo:
      ev.helo_name = e.text;
      ev.esmtp = e.esmtp;
      break;
    case EventKind::kMailFrom:
      ev.path = cmd_.path;
      ev.mail = cmd_.mail;
      break;
    case EventKind::kRcptTo:
      ev.path = cmd_.path;
      ev.rcpt = cmd_.rcpt;
      break;
    case EventKind::kMessageData:
      ev.data = std::string_view(data_buf_).substr(e.data_offset, e.data_size);
      break;
    case EventKind::kMessageAborted:
      ev.reason = e.reason;
      break;
    case EventKind::kAuth:
      ev.mechanism = sasl_mechanism_;
      ev.authzid = sasl_authzid_;
      ev.username = sasl_user_;
      ev.password = sasl_password_;
      break;
    case EventKind::kVrfy:
    case EventKind::kExpn:
    case EventKind::kEtrn:
      ev.argument = cmd_.argument;
      break;
    default:
      break;
  }
  return ev;
}

// ---------------------------------------------------------------------------
// Lifecycle.

void ServerSession::Impl::Start() {
  if (state_ != State::kInit) return;
  scratch_.clear();
  AppendReplyText(options_.hostname, &scratch_);
  scratch_ += ' ';
  AppendReplyText(options_.greeting, &scratch_);
  Send(220, "", scratch_);
  state_ = State::kGreeted;
}

void ServerSession::Impl::StartRefused(const Reply& reply) {
  if (state_ != State::kInit) return;
  Verdict check{false, reply};
  if (UsableReply(check, 0)) {
    AppendReply(reply, &out_);
  } else {
    Send(554, "5.7.1", "Service unavailable");
  }
  Close();
}

void ServerSession::Impl::OnEof() {
  if (state_ == State::kClosed) return;
  if (InTransaction()) {
    AbortTransaction(absl::AbortedError("client disconnected"));
  }
  Close();
}

void ServerSession::Impl::OnTimeout() {
  if (state_ == State::kClosed) return;
  SendWithHost(421, "4.4.2", " Error: timeout exceeded");
  if (InTransaction()) AbortTransaction(absl::DeadlineExceededError("timeout"));
  Close();
}

void ServerSession::Impl::OnShutdown() {
  if (state_ == State::kClosed) return;
  Send(421, "4.3.2", "Service shutting down");
  if (InTransaction()) {
    AbortTransaction(absl::UnavailableError("server shutting down"));
  }
  Close();
}

// RFC 3207 4.2: "the server MUST discard any knowledge obtained from the
// client, such as the argument to the EHLO command, which was not obtained
// from the TLS negotiation itself."
void ServerSession::Impl::OnTlsStarted() {
  if (state_ != State::kTlsPending) return;
  reader_.Reset();
  tls_active_ = true;
  esmtp_ = false;
  authenticated_ = false;
  auth_user_.clear();
  ClearEnvelope();
  envelope_.helo_name.clear();
  envelope_.esmtp = false;
  BuildEhloReply();
  state_ = State::kGreeted;
}

// ---------------------------------------------------------------------------
// Input.

std::size_t ServerSession::Impl::Receive(std::string_view bytes) {
  ReleaseIfDrained();
  if (bytes.empty()) return 0;
  switch (state_) {
    case State::kClosed:
    case State::kTlsPending:
      // After STARTTLS: plaintext that arrives before the handshake is
      // injected (CVE-2011-0411) and must never be read as a command.
      return bytes.size();
    case State::kInit:
      // RFC 5321 3.1 / 4.3.1: the client waits for the greeting. A client
      // that talks first is a spambot (Postfix postscreen "PREGREET").
      CloseWithSyncError();
      return bytes.size();
    default:
      break;
  }
  if (waiting_) return 0;
  std::string_view input = bytes;
  while (!input.empty() && !waiting_) {
    if (state_ == State::kData) {
      ConsumeData(&input);
      continue;
    }
    if (state_ == State::kClosed || state_ == State::kTlsPending) break;
    switch (reader_.Next(&input)) {
      case wire::LineReader::Event::kLine:
        HandleLine(reader_.line(), !input.empty());
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
  if (state_ == State::kAuth) {
    EndAuthExchange();
    SendError(500, "5.5.6", "Error: authentication line too long");
    return;
  }
  SendError(500, "5.5.6", "Error: line too long");
}

// RFC 5321 2.3.8: "In addition, the appearance of "bare" "CR" or "LF"
// characters in text (i.e., either without the other) has a long history of
// causing problems in mail implementations and applications that use the
// mail system as a tool. SMTP client implementations MUST NOT transmit
// these characters except when they are intended as line terminators and
// then MUST, as indicated above, transmit them only as a <CRLF> sequence."
void ServerSession::Impl::HandleLine(const wire::Line& line, bool more_input) {
  if (line.ending != wire::LineEnding::kCrLf &&
      options_.bare_newline == wire::BareNewlinePolicy::kReject) {
    if (state_ == State::kAuth) EndAuthExchange();
    SendError(500, "5.5.2",
              line.ending == wire::LineEnding::kCr
                  ? "Error: bare <CR> received"
                  : "Error: bare <LF> received");
    return;
  }
  if (state_ == State::kAuth) {
    // A SASL response also ends its group: the client must wait for the
    // next challenge or the 235/535.
    if (more_input && options_.reject_improper_pipelining) {
      CloseWithSyncError();
      return;
    }
    HandleSaslLine(line.text);
    return;
  }
  // Events view into cmd_buf_, which the driver cannot free or move.
  cmd_buf_.assign(line.text.data(), line.text.size());
  HandleCommand(more_input);
}

void ServerSession::Impl::HandleCommand(bool more_input) {
  CommandOptions parse_options;
  parse_options.smtputf8 = mail_smtputf8_;
  parse_options.lenient_helo = !options_.strict_helo;
  auto parsed = ParseCommand(cmd_buf_, parse_options);
  if (auto* error = std::get_if<CommandError>(&parsed)) {
    SendError(error->code, error->enhanced, error->message);
    return;
  }
  cmd_ = std::get<Command>(parsed);
  // RFC 2920 3.1 / CVE-2011-0411: bytes after a command that must end its
  // group were sent without waiting for the reply. After STARTTLS they
  // would be read as if they came over TLS; after DATA they would be
  // commands the client meant as data.
  if (more_input && options_.reject_improper_pipelining &&
      MustEndGroup(cmd_.verb)) {
    CloseWithSyncError();
    return;
  }
  switch (cmd_.verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
      HandleHelo();
      break;
    case Verb::kMail:
      HandleMail();
      break;
    case Verb::kRcpt:
      HandleRcpt();
      break;
    case Verb::kData:
      HandleData();
      break;
    case Verb::kBdat:
      // RFC 3030 CHUNKING is not announced.
      SendError(502, "5.5.1", "Error: command not implemented");
      break;
    case Verb::kRset:
      HandleRset();
      break;
    case Verb::kNoop:
      Send(250, "2.0.0", "Ok");
      break;
    case Verb::kQuit:
      HandleQuit();
      break;
    case Verb::kVrfy:
      HandleVrfy();
      break;
    case Verb::kExpn:
      HandleExpn();
      break;
    case Verb::kHelp:
      HandleHelp();
      break;
    case Verb::kEtrn:
      HandleEtrn();
      break;
    case Verb::kStartTls:
      HandleStartTls();
      break;
    case Verb::kAuth:
      HandleAuth();
      break;
  }
}

// RFC 5321 4.1.1.1:
//   ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
//   helo = "HELO" SP Domain CRLF
// RFC 5321 4.1.4: an EHLO later in the session is equivalent to RSET plus
// the EHLO.
void ServerSession::Impl::HandleHelo() {
  DropTransaction();
  const bool esmtp = cmd_.verb == Verb::kEhlo;
  esmtp_ = esmtp;
  envelope_.helo_name.assign(cmd_.argument.data(), cmd_.argument.size());
  envelope_.esmtp = esmtp;
  state_ = State::kReady;
  Entry& e = Push(EventKind::kHelo, false);
  e.text.assign(cmd_.argument.data(), cmd_.argument.size());
  e.esmtp = esmtp;
  if (esmtp) {
    out_ += ehlo_reply_;
  } else {
    scratch_.clear();
    AppendReplyText(options_.hostname, &scratch_);
    Send(250, "", scratch_);
  }
}

// RFC 5321 4.1.1.2:
//   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
void ServerSession::Impl::HandleMail() {
  const ServerOptions& o = options_;
  switch (state_) {
    case State::kGreeted:
      SendError(503, "5.5.1", "Error: send HELO/EHLO first");
      return;
    case State::kMail:
    case State::kRcpt:
      SendError(503, "5.5.1", "Error: nested MAIL command");
      return;
    default:
      break;
  }
  if (o.require_tls && !tls_active_) {
    SendError(530, "5.7.0", "Must issue a STARTTLS command first");
    return;
  }
  if (o.require_auth && !authenticated_) {
    SendError(530, "5.7.0", "Authentication required");
    return;
  }
  const MailParams& p = cmd_.mail;
  // RFC 1870 6.1: a declared size over the limit is refused at MAIL.
  if (p.size.has_value() && o.limits.max_message_size != 0 &&
      *p.size > o.limits.max_message_size) {
    SendError(552, "5.3.4", "Message size exceeds fixed limit");
    return;
  }
  if (p.smtputf8 && !o.smtputf8_enabled) {
    SendError(555, "5.5.4", "Unsupported option: SMTPUTF8");
    return;
  }
  if (p.body == BodyType::kBinaryMime) {
    SendError(555, "5.5.4", "Unsupported option: BODY=BINARYMIME");
    return;
  }
  if (!o.dsn_enabled && (p.ret != DsnRet::kNone || !p.envid.empty())) {
    SendError(555, "5.5.4", "Unsupported option: DSN");
    return;
  }
  pending_envid_.clear();
  pending_auth_.clear();
  if (!p.envid.empty()) {
    auto decoded = DecodeXtext(p.envid);
    if (!decoded.has_value()) {
      SendError(501, "5.5.4", "Bad ENVID parameter syntax");
      return;
    }
    pending_envid_ = std::move(*decoded);
  }
  if (!p.auth.empty() && p.auth != "<>") {
    auto decoded = DecodeXtext(p.auth);
    if (!decoded.has_value()) {
      SendError(501, "5.5.4", "Bad AUTH parameter syntax");
      return;
    }
    pending_auth_ = std::move(*decoded);
  }
  Push(EventKind::kMailFrom, true);
}

// RFC 5321 4.1.1.3:
//   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
//          Forward-path ) [SP Rcpt-parameters] CRLF
void ServerSession::Impl::HandleRcpt() {
  if (state_ != State::kMail && state_ != State::kRcpt) {
    SendError(503, "5.5.1", "Error: need MAIL command");
    return;
  }
  // RFC 5321 4.5.3.1.10: 452 for too many recipients.
  if (envelope_.recipients.size() >= options_.limits.max_recipients) {
    SendError(452, "4.5.3", "Error: too many recipients");
    return;
  }
  const RcptParams& p = cmd_.rcpt;
  if (!options_.dsn_enabled && (p.notify.present || !p.orcpt.empty())) {
    SendError(555, "5.5.4", "Unsupported option: DSN");
    return;
  }
  pending_orcpt_.clear();
  if (!p.orcpt.empty()) {
    auto decoded = DecodeXtext(p.orcpt);
    if (!decoded.has_value()) {
      SendError(501, "5.5.4", "Bad ORCPT parameter syntax");
      return;
    }
    pending_orcpt_ = std::move(*decoded);
  }
  Push(EventKind::kRcptTo, true);
}

void ServerSession::Impl::HandleData() {
  switch (state_) {
    case State::kRcpt:
      Push(EventKind::kDataStart, true);
      return;
    case State::kMail:
      SendError(503, "5.5.1", "Error: need RCPT command");
      return;
    case State::kGreeted:
      SendError(503, "5.5.1", "Error: send HELO/EHLO first");
      return;
    default:
      SendError(503, "5.5.1", "Error: need MAIL command");
      return;
  }
}

void ServerSession::Impl::HandleRset() {
  DropTransaction();
  Send(250, "2.0.0", "Ok");
}

void ServerSession::Impl::HandleQuit() {
  Send(221, "2.0.0", "Bye");
  ClearEnvelope();
  Push(EventKind::kQuit, false);
  Close();
}

// RFC 5321 3.5.3: 252 when the server will not verify but will try.
void ServerSession::Impl::HandleVrfy() {
  if (!options_.vrfy_enabled) {
    SendError(502, "5.5.1", "VRFY command is disabled");
  } else if (options_.vrfy_event) {
    Push(EventKind::kVrfy, true);
  } else {
    Send(252, "2.0.0",
         "Cannot VRFY user, but will accept message and attempt delivery");
  }
}

void ServerSession::Impl::HandleExpn() {
  if (!options_.expn_enabled) {
    SendError(502, "5.5.1", "EXPN command is disabled");
  } else {
    Push(EventKind::kExpn, true);
  }
}

void ServerSession::Impl::HandleHelp() {
  const auto& lines = options_.help_lines;
  if (lines.empty()) {
    Send(214, "2.0.0", kDefaultHelp);
    return;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view text =
        std::string_view(lines[i]).substr(0, kMaxHelpText);
    out_ += i + 1 == lines.size() ? "214 2.0.0 " : "214-2.0.0 ";
    AppendReplyText(text, &out_);
    out_ += "\r\n";
  }
}

// RFC 1985: etrn = "ETRN" SP node-name CRLF
void ServerSession::Impl::HandleEtrn() {
  if (!options_.etrn_enabled) {
    SendError(502, "5.5.1", "Error: command not implemented");
  } else if (state_ == State::kGreeted) {
    SendError(503, "5.5.1", "Error: send HELO/EHLO first");
  } else if (InTransaction()) {
    SendError(503, "5.5.1", "Error: MAIL transaction in progress");
  } else {
    Push(EventKind::kEtrn, true);
  }
}

// RFC 3207 4: STARTTLS with no parameters; 4.2: after the handshake the
// session starts over.
void ServerSession::Impl::HandleStartTls() {
  if (tls_active_) {
    SendError(554, "5.5.1", "Error: TLS already active");
    return;
  }
  if (!options_.tls_available) {
    SendError(502, "5.5.1", "Error: command not implemented");
    return;
  }
  if (InTransaction()) {
    SendError(503, "5.5.1", "Error: MAIL transaction in progress");
    return;
  }
  Send(220, "2.0.0", "Ready to start TLS");
  Push(EventKind::kStartTls, false);
  // At this point there must not be any pending plaintext: whatever the
  // reader holds (and the rest of this Receive(), see there) is dropped.
  reader_.Reset();
  state_ = State::kTlsPending;
}

// RFC 4954 4:
//   "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) [CRLF cancel]
//   initial-response = base64 / "="
//   cancel-response = "*"
void ServerSession::Impl::HandleAuth() {
  const ServerOptions& o = options_;
  if (!o.auth_enabled) {
    SendError(503, "5.5.1", "Error: authentication not enabled");
    return;
  }
  if (!esmtp_) {
    SendError(503, "5.5.1", "Error: send EHLO first");
    return;
  }
  if (authenticated_) {
    SendError(503, "5.5.1", "Error: already authenticated");
    return;
  }
  if (InTransaction()) {
    SendError(503, "5.5.1", "Error: MAIL transaction in progress");
    return;
  }
  // RFC 4954 4: 538 when the mechanism needs an encrypted channel.
  if (!tls_active_ && !o.allow_plaintext_auth) {
    SendError(538, "5.7.11",
              "Encryption required for requested authentication mechanism");
    return;
  }
  const std::string_view mech = cmd_.argument;
  const std::string_view initial = cmd_.auth_initial_response;
  AuthStep step;
  if (EqualsIgnoreCase(mech, "PLAIN")) {
    sasl_mechanism_ = "PLAIN";
    step = AuthStep::kPlain;
  } else if (EqualsIgnoreCase(mech, "LOGIN")) {
    sasl_mechanism_ = "LOGIN";
    step = AuthStep::kLoginUser;
  } else {
    SendError(504, "5.5.4", "Unsupported authentication mechanism");
    return;
  }
  // SASL lines are longer than command lines (RFC 4954 4: 12288 octets).
  // The AUTH line has just ended, so the reader is between lines.
  reader_.set_max_line_length(o.limits.max_auth_line).IgnoreError();
  state_ = State::kAuth;
  auth_step_ = step;
  if (initial.empty()) {
    out_ += step == AuthStep::kPlain ? kEmptyChallenge : kLoginUserChallenge;
    return;
  }
  HandleSaslLine(initial);
}

void ServerSession::Impl::EndAuthExchange() {
  auth_step_ = AuthStep::kNone;
  if (state_ == State::kAuth) state_ = State::kReady;
  reader_.set_max_line_length(options_.limits.max_command_line).IgnoreError();
}

void ServerSession::Impl::HandleSaslLine(std::string_view text) {
  if (text == "*") {
    EndAuthExchange();
    SendError(501, "5.0.0", "Authentication cancelled");
    return;
  }
  // "=" is the empty response (only meaningful as an initial response, but
  // harmless elsewhere).
  if (text == "=") text = {};
  if (!DecodeBase64Strict(text, &sasl_decoded_)) {
    EndAuthExchange();
    SendError(501, "5.5.2", "Invalid base64 data");
    return;
  }
  switch (auth_step_) {
    case AuthStep::kPlain: {
      PlainMessage creds;
      if (!SplitPlain(sasl_decoded_, &creds)) {
        EndAuthExchange();
        SendError(501, "5.5.2", "Invalid PLAIN authentication data");
        return;
      }
      sasl_authzid_.assign(creds.authzid.data(), creds.authzid.size());
      sasl_user_.assign(creds.authcid.data(), creds.authcid.size());
      sasl_password_.assign(creds.password.data(), creds.password.size());
      AuthCredentialsReady("PLAIN");
      return;
    }
    case AuthStep::kLoginUser:
      sasl_authzid_.clear();
      sasl_user_ = sasl_decoded_;
      auth_step_ = AuthStep::kLoginPass;
      out_ += kLoginPassChallenge;
      return;
    case AuthStep::kLoginPass:
      sasl_password_ = sasl_decoded_;
      AuthCredentialsReady("LOGIN");
      return;
    case AuthStep::kNone:
      EndAuthExchange();
      return;
  }
}

void ServerSession::Impl::AuthCredentialsReady(std::string_view mechanism) {
  // The decoded buffer held the password too.
  std::fill(sasl_decoded_.begin(), sasl_decoded_.end(), '\0');
  EndAuthExchange();
  sasl_mechanism_ = mechanism;
  Push(EventKind::kAuth, true);
}

// ---------------------------------------------------------------------------
// DATA.

void ServerSession::Impl::ConsumeData(std::string_view* input) {
  const std::size_t before = data_buf_.size();
  const wire::DotDecodeResult r = decoder_.Update(*input, &data_buf_);
  input->remove_prefix(r.consumed);
  const std::size_t added = data_buf_.size() - before;
  if (added != 0) {
    // Consecutive chunks not yet handed out become one event.
    if (count_ > head_ && entries_[count_ - 1].kind == EventKind::kMessageData) {
      entries_[count_ - 1].data_size += added;
    } else {
      Entry& e = Push(EventKind::kMessageData, false);
      e.data_offset = before;
      e.data_size = added;
    }
  }
  if (r.done) FinishData();
}

void ServerSession::Impl::FinishData() {
  const bool bare = options_.bare_newline == wire::BareNewlinePolicy::kReject &&
                    decoder_.saw_bare_newline();
  if (bare) {
    const bool cr_first =
        decoder_.first_bare_cr().has_value() &&
        (!decoder_.first_bare_lf().has_value() ||
         *decoder_.first_bare_cr() < *decoder_.first_bare_lf());
    AbortTransaction(decoder_.status());
    state_ = State::kReady;
    SendError(550, "5.6.0",
              cr_first ? "Error: bare <CR> received in message data"
                       : "Error: bare <LF> received in message data");
    return;
  }
  if (decoder_.size_exceeded()) {
    AbortTransaction(absl::ResourceExhaustedError("message too big"));
    state_ = State::kReady;
    SendError(552, "5.3.4", "Error: message file too big");
    return;
  }
  if (options_.enforce_text_line_limit &&
      decoder_.first_long_line().has_value()) {
    AbortTransaction(absl::ResourceExhaustedError("text line too long"));
    state_ = State::kReady;
    SendError(552, "5.3.4", "Error: message line too long");
    return;
  }
  Push(EventKind::kMessageEnd, true);
}

// ---------------------------------------------------------------------------
// Transactions.

void ServerSession::Impl::ClearEnvelope() {
  Envelope& env = envelope_;
  env.mail_from.clear();
  env.mail = MailParams{};
  env.envid.clear();
  env.auth_sender.clear();
  // Keep the recipients' strings (and their capacity) for the next message.
  while (!env.recipients.empty()) {
    spare_recipients_.push_back(std::move(env.recipients.back()));
    env.recipients.pop_back();
  }
  mail_smtputf8_ = false;
}

// RSET, EHLO, HELO: the transaction (if any) is gone.
void ServerSession::Impl::DropTransaction() {
  if (state_ == State::kMail || state_ == State::kRcpt) {
    Push(EventKind::kReset, false);
    state_ = State::kReady;
  }
  ClearEnvelope();
}

void ServerSession::Impl::AbortTransaction(absl::Status reason) {
  if (state_ == State::kData) {
    Entry& e = Push(EventKind::kMessageAborted, false);
    e.reason = std::move(reason);
  } else if (state_ == State::kMail || state_ == State::kRcpt) {
    Push(EventKind::kReset, false);
  }
  ClearEnvelope();
}

// ---------------------------------------------------------------------------
// Answers.

namespace {

// A verdict's reply is used only when its class fits the verdict: an
// "accept" with a 5xx, or a 354 where a 250 belongs, would desynchronise
// the client.
bool UsableReply(const Verdict& v, int accept_code) {
  if (!v.reply.has_value()) return false;
  const int code = v.reply->code;
  if (v.reply->lines.size() > kMaxReplyLines) return false;
  if (!v.reply->enhanced.empty() &&
      !IsEnhancedStatusCode(v.reply->enhanced)) {
    return false;
  }
  for (const std::string& line : v.reply->lines) {
    if (line.size() > kSmtpReplyLineMax - 16 ||
        line.find_first_of(std::string_view("\r\n\0", 3)) !=
            std::string::npos) {
      return false;
    }
  }
  if (v.accept) {
    return accept_code == 354 ? code == 354 : (code >= 200 && code < 300);
  }
  return code >= 400 && code < 600;
}

}  // namespace

void ServerSession::Impl::Answer(const Verdict& verdict) {
  ReleaseIfDrained();
  if (!waiting_ || state_ == State::kClosed) return;
  waiting_ = false;
  const bool accept = verdict.accept;
  auto reply = [&](int code, std::string_view enhanced,
                   std::string_view text) {
    const int accept_code = accept ? code : 250;
    if (UsableReply(verdict, accept_code)) {
      SendReply(*verdict.reply);
      if (error_count_ >= options_.limits.hard_error_limit) {
        SendWithHost(421, "4.7.0", " Error: too many errors");
        if (InTransaction()) {
          AbortTransaction(absl::ResourceExhaustedError("too many errors"));
        }
        Close();
      }
    } else if (code >= 400) {
      SendError(code, enhanced, text);
    } else {
      Send(code, enhanced, text);
    }
  };
  switch (pending_) {
    case EventKind::kMailFrom:
      if (accept) {
        Envelope& env = envelope_;
        env.mail_from.assign(cmd_.path.mailbox.data(),
                             cmd_.path.mailbox.size());
        env.mail = cmd_.mail;
        env.mail.envid = {};  // views into the line are not kept
        env.mail.auth = {};
        env.envid = pending_envid_;
        env.auth_sender = pending_auth_;
        mail_smtputf8_ = cmd_.mail.smtputf8;
        state_ = State::kMail;
        reply(250, "2.1.0", "Ok");
      } else {
        reply(550, "5.7.1", "Sender address rejected");
      }
      break;
    case EventKind::kRcptTo:
      if (accept) {
        Envelope::Recipient r;
        if (!spare_recipients_.empty()) {
          r = std::move(spare_recipients_.back());
          spare_recipients_.pop_back();
        }
        r.address.assign(cmd_.path.mailbox.data(), cmd_.path.mailbox.size());
        r.notify = cmd_.rcpt.notify;
        r.orcpt = pending_orcpt_;
        envelope_.recipients.push_back(std::move(r));
        state_ = State::kRcpt;
        reply(250, "2.1.5", "Ok");
      } else {
        reply(550, "5.1.1", "Recipient address rejected");
      }
      break;
    case EventKind::kDataStart:
      if (accept) {
        decoder_.Reset();
        state_ = State::kData;
        reply(354, "", "End data with <CR><LF>.<CR><LF>");
      } else {
        reply(451, "4.3.0", "Error: cannot accept data now");
      }
      break;
    case EventKind::kMessageEnd:
      // The transaction ends whatever the verdict (RFC 5321 4.1.1.4).
      state_ = State::kReady;
      if (accept) {
        // Postfix counts errors "without delivering mail".
        error_count_ = 0;
        reply(250, "2.0.0", "Ok: queued");
      } else {
        reply(554, "5.7.1", "Message rejected");
      }
      ClearEnvelope();
      break;
    case EventKind::kAuth:
      std::fill(sasl_password_.begin(), sasl_password_.end(), '\0');
      sasl_password_.clear();
      if (accept) {
        authenticated_ = true;
        auth_user_ = sasl_user_;
        reply(235, "2.7.0", "Authentication successful");
      } else {
        ++auth_failures_;
        reply(535, "5.7.8", "Error: authentication failed");
        if (state_ != State::kClosed &&
            auth_failures_ >= options_.limits.max_auth_attempts) {
          SendWithHost(421, "4.7.0",
                       " Error: too many failed authentication attempts");
          Close();
        }
      }
      break;
    case EventKind::kVrfy:
    case EventKind::kExpn:
      if (accept) {
        scratch_.assign("<");
        scratch_.append(cmd_.argument.data(), cmd_.argument.size());
        scratch_ += '>';
        reply(250, "2.1.5", scratch_);
      } else {
        reply(550, "5.1.1", "User unknown");
      }
      break;
    case EventKind::kEtrn:
      if (accept) {
        reply(250, "2.0.0", "Queuing started");
      } else {
        reply(458, "4.0.0", "Unable to queue messages");
      }
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// The public class forwards to Impl.

ServerSession::ServerSession(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ServerSession::~ServerSession() = default;

void ServerSession::Start() { impl_->Start(); }
void ServerSession::StartRefused(Reply reply) { impl_->StartRefused(reply); }
std::size_t ServerSession::Receive(std::string_view bytes) {
  return impl_->Receive(bytes);
}
void ServerSession::OnEof() { impl_->OnEof(); }
void ServerSession::OnTimeout() { impl_->OnTimeout(); }
void ServerSession::OnShutdown() { impl_->OnShutdown(); }
void ServerSession::OnTlsStarted() { impl_->OnTlsStarted(); }
std::optional<Event> ServerSession::NextEvent() { return impl_->NextEvent(); }
void ServerSession::Answer(const Verdict& verdict) { impl_->Answer(verdict); }
bool ServerSession::waiting_for_answer() const { return impl_->waiting_; }

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
void ServerSession::ConsumeOutput(std::size_t n) {
  std::string& out = impl_->out_;
  if (n >= out.size()) {
    out.clear();
  } else {
    out.erase(0, n);
  }
}
bool ServerSession::has_output() const { return !impl_->out_.empty(); }
bool ServerSession::closed() const {
  return impl_->state_ == Impl::State::kClosed;
}
bool ServerSession::penalty() const {
  return impl_->error_count_ >= impl_->options_.limits.soft_error_limit;
}
const Envelope& ServerSession::envelope() const { return impl_->envelope_; }
bool ServerSession::tls_active() const { return impl_->tls_active_; }
bool ServerSession::authenticated() const { return impl_->authenticated_; }
std::string_view ServerSession::authenticated_user() const {
  return impl_->auth_user_;
}
std::string_view ServerSession::protocol_name() const {
  // RFC 3848 2: ESMTPA / ESMTPS / ESMTPSA; RFC 5321: "SMTP" after HELO.
  const Impl& s = *impl_;
  if (!s.esmtp_) return "SMTP";
  if (s.tls_active_ && s.authenticated_) return "ESMTPSA";
  if (s.tls_active_) return "ESMTPS";
  if (s.authenticated_) return "ESMTPA";
  return "ESMTP";
}
std::uint64_t ServerSession::message_bytes() const {
  return impl_->decoder_.content_bytes();
}
const ServerOptions& ServerSession::options() const { return impl_->options_; }

}  // namespace posthorn::smtp
