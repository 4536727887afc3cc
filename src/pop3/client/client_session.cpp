// The POP3 client state machine; see posthorn/pop3/client_session.h.
//
// Everything that affects a transition lives in this file. Status lines
// are read with a LineReader; the body of a multi-line response (CAPA,
// LIST, UIDL, RETR, TOP) goes through a DotStuffingDecoder, which stops
// right after ".\r\n" so the next status line goes back to the reader.
//
//   phase          waits for                         next
//   kGreeting      "+OK ... <timestamp>"             kCapa / kStls / login
//   kCapa          CAPA's answer (+ body)            kStls / login
//   kStls          STLS's answer                     kTlsPending / login
//   kTlsPending    OnTlsStarted()                    kCapa / login
//   kUser, kPass   USER / PASS answers               kTransaction
//   kApop          APOP's answer                     kTransaction
//   kPlain         "+ " or AUTH PLAIN's answer       kTransaction
//   kTransaction   the answers of queued commands    kClosed after QUIT
//   kClosed        nothing

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "wire/internal/sasl.h"
#include "posthorn/pop3/client_session.h"
#include "posthorn/wire/dot_stuffing.h"
#include "posthorn/wire/line_reader.h"

namespace posthorn::pop3 {
namespace {

// RFC 5034 section 4: the AUTH line with its initial response stays within
// 255 octets, else the response goes after the "+ " challenge.
constexpr std::size_t kMaxCommandLine = wire::kPop3CommandLineMax;
// Server bytes held while no command is outstanding (see Receive()).
constexpr std::size_t kMaxHeldInput = 64 * 1024;

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

// Splits off the first SP-separated word of *text.
std::string_view NextWord(std::string_view* text) {
  while (!text->empty() && text->front() == ' ') text->remove_prefix(1);
  const std::size_t sp = text->find(' ');
  const std::string_view word = text->substr(0, sp);
  text->remove_prefix(sp == std::string_view::npos ? text->size() : sp);
  return word;
}

bool IsMultiLine(Verb verb, bool has_message) {
  switch (verb) {
    case Verb::kList:
    case Verb::kUidl:
      return !has_message;
    case Verb::kRetr:
    case Verb::kTop:
    case Verb::kCapa:
      return true;
    default:
      return false;
  }
}

}  // namespace

class ClientSession::Impl {
 public:
  explicit Impl(ClientOptions options)
      : options_(std::move(options)),
        reader_(wire::kPop3ResponseLineMax),
        tls_active_(options_.tls_active) {}

  enum class Phase : std::uint8_t {
    kGreeting, kCapa, kStls, kTlsPending, kUser, kPass, kApop, kPlain,
    kTransaction, kClosed,
  };

  struct Pending {
    Verb verb = Verb::kNoop;
    bool has_message = false;
    std::uint64_t message = 0;
    std::uint64_t lines = 0;
  };

  void Receive(std::string_view bytes);
  void OnConnectionLost(absl::Status why);
  void OnTlsStarted();
  absl::Status Enqueue(Pending p);
  void Quit();

  void HandleLine(std::string_view line);
  void HandleBody(std::string_view* input);
  void FinishBody();
  void Complete(const Response& response);
  void AfterGreetingOrCapa();
  void StartLogin();
  void Ready();
  void Fail(absl::Status status, std::optional<Response> response = {});
  void Write(Verb verb, std::string_view a = {}, std::string_view b = {}) {
    out_ += FormatCommand(verb, a, b);
  }
  void WritePending(const Pending& p);
  void SendNextUnsent();
  void Emit(ClientEvent event, std::string data = {}) {
    events_.emplace_back(std::move(event), std::move(data));
  }
  bool Pipelining() const {
    return options_.use_pipelining && caps_.pipelining;
  }

  ClientOptions options_;
  Phase phase_ = Phase::kGreeting;
  wire::LineReader reader_;
  wire::DotStuffingDecoder decoder_;
  bool in_body_ = false;
  Verb body_verb_ = Verb::kNoop;  // CAPA during login, else queue_.front()
  std::string body_;              // CAPA / LIST / UIDL body
  Response body_status_;
  std::string out_;
  std::deque<std::pair<ClientEvent, std::string>> events_;
  std::string current_data_;  // backs the last kMessageData's view
  std::deque<Pending> sent_;    // written, awaiting answers, in order
  std::deque<Pending> unsent_;  // waiting for a turn (no PIPELINING)
  bool quit_asked_ = false;
  std::string held_;  // server bytes that came before any command

  ServerCapabilities caps_;
  Response greeting_;
  std::string timestamp_;
  bool tls_active_;
  bool logged_in_ = false;
  // AUTH PLAIN is one message: a "+ " is answered with the credentials
  // once; a server that asks again is failed, not fed them forever.
  bool plain_continuation_answered_ = false;
  absl::Status status_;
  std::optional<Response> failure_;
};

// ---------------------------------------------------------------------------
// Input.

void ClientSession::Impl::Receive(std::string_view bytes) {
  while (!bytes.empty()) {
    if (phase_ == Phase::kClosed || phase_ == Phase::kTlsPending) return;
    if (phase_ == Phase::kTransaction && sent_.empty() && !in_body_) {
      // Nothing asked yet (the driver issues commands on kReady, after
      // this call): hold the bytes until a command is written. A server
      // that talks unasked beyond a few lines is broken.
      held_.append(bytes.data(), bytes.size());
      if (held_.size() > kMaxHeldInput) {
        Fail(absl::DataLossError("unsolicited data from the server"));
      }
      return;
    }
    if (in_body_) {
      HandleBody(&bytes);
      continue;
    }
    switch (reader_.Next(&bytes)) {
      case wire::LineReader::Event::kLine:
        HandleLine(reader_.line().text);
        break;
      case wire::LineReader::Event::kLineTooLong:
        Fail(absl::DataLossError("response line over 512 octets"));
        return;
      case wire::LineReader::Event::kNeedMoreData:
      case wire::LineReader::Event::kEndOfStream:
        return;
    }
  }
}

void ClientSession::Impl::HandleBody(std::string_view* input) {
  std::string chunk;
  std::string* target =
      body_verb_ == Verb::kRetr || body_verb_ == Verb::kTop ? &chunk : &body_;
  const wire::DotDecodeResult r = decoder_.Update(*input, target);
  input->remove_prefix(r.consumed);
  if (target == &body_ && body_.size() > options_.max_listing_octets) {
    Fail(absl::ResourceExhaustedError("listing over max_listing_octets"));
    return;
  }
  if (!chunk.empty()) {
    ClientEvent e;
    e.kind = ClientEventKind::kMessageData;
    e.verb = body_verb_;
    e.message = sent_.empty() ? 0 : sent_.front().message;
    Emit(std::move(e), std::move(chunk));
  }
  if (r.done) FinishBody();
}

void ClientSession::Impl::HandleLine(std::string_view line) {
  std::optional<Response> parsed = ParseStatusLine(line);
  if (!parsed.has_value()) {
    Fail(absl::DataLossError("malformed POP3 status line"));
    return;
  }
  Response& r = *parsed;
  const bool ok = r.status == Status::kOk;
  if (r.status == Status::kContinuation && phase_ != Phase::kPlain) {
    Fail(absl::DataLossError("unexpected \"+ \" continuation"));
    return;
  }
  switch (phase_) {
    case Phase::kGreeting: {
      greeting_ = r;
      if (!ok) {
        Fail(absl::UnavailableError("server refused the connection"), r);
        return;
      }
      // RFC 1939 section 7: the timestamp is a msg-id, "<...@...>".
      const std::size_t open = r.text.find('<');
      const std::size_t close = r.text.find('>', open);
      if (open != std::string::npos && close != std::string::npos &&
          r.text.find('@', open) < close) {
        timestamp_ = r.text.substr(open, close - open + 1);
      }
      if (options_.use_capa) {
        Write(Verb::kCapa);
        phase_ = Phase::kCapa;
      } else {
        AfterGreetingOrCapa();
      }
      return;
    }
    case Phase::kCapa:
      if (ok) {
        caps_ = ServerCapabilities{};
        caps_.capa = true;
        body_.clear();
        body_verb_ = Verb::kCapa;
        decoder_.Reset();
        in_body_ = true;
      } else {
        AfterGreetingOrCapa();
      }
      return;
    case Phase::kStls:
      if (ok) {
        // RFC 2595 section 4 and the reverse of CVE-2011-0411: whatever
        // the server sent before the handshake is not trusted.
        reader_.Reset();
        phase_ = Phase::kTlsPending;
        ClientEvent e;
        e.kind = ClientEventKind::kStartTls;
        Emit(std::move(e));
      } else if (options_.tls == TlsMode::kRequired) {
        Fail(absl::FailedPreconditionError("server refused STLS"), r);
      } else {
        StartLogin();
      }
      return;
    case Phase::kUser:
      if (!ok) {
        Fail(absl::UnauthenticatedError("USER refused"), r);
        return;
      }
      Write(Verb::kPass, options_.credentials.password);
      phase_ = Phase::kPass;
      return;
    case Phase::kPlain:
      if (r.status == Status::kContinuation) {
        if (plain_continuation_answered_) {
          Fail(absl::DataLossError(
              "second \"+ \" continuation in AUTH PLAIN (a one-message "
              "mechanism, RFC 4616)"));
          return;
        }
        plain_continuation_answered_ = true;
        std::string message = options_.credentials.authzid;
        message += '\0';
        message += options_.credentials.user;
        message += '\0';
        message += options_.credentials.password;
        wire::internal::EncodeBase64(message, &out_);
        out_ += "\r\n";
        std::fill(message.begin(), message.end(), '\0');
        return;
      }
      [[fallthrough]];
    case Phase::kPass:
    case Phase::kApop:
      if (!ok) {
        Fail(absl::UnauthenticatedError("login refused"), r);
        return;
      }
      Ready();
      return;
    case Phase::kTransaction:
      if (sent_.empty()) {
        Fail(absl::DataLossError("response without a command"));
        return;
      }
      if (ok && IsMultiLine(sent_.front().verb, sent_.front().has_message)) {
        body_.clear();
        body_verb_ = sent_.front().verb;
        body_status_ = std::move(r);
        decoder_.Reset();
        in_body_ = true;
        return;
      }
      Complete(r);
      return;
    case Phase::kTlsPending:
    case Phase::kClosed:
      return;
  }
}

void ClientSession::Impl::FinishBody() {
  in_body_ = false;
  if (body_verb_ == Verb::kCapa && phase_ == Phase::kCapa) {
    // RFC 2449 section 6: one capability per line, keyword first.
    std::string_view rest = body_;
    while (!rest.empty()) {
      const std::size_t end = rest.find("\r\n");
      std::string_view line = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
      const std::string_view keyword = NextWord(&line);
      if (EqualsIgnoreCase(keyword, "TOP")) caps_.top = true;
      if (EqualsIgnoreCase(keyword, "USER")) caps_.user = true;
      if (EqualsIgnoreCase(keyword, "UIDL")) caps_.uidl = true;
      if (EqualsIgnoreCase(keyword, "PIPELINING")) caps_.pipelining = true;
      if (EqualsIgnoreCase(keyword, "RESP-CODES")) caps_.resp_codes = true;
      if (EqualsIgnoreCase(keyword, "STLS")) caps_.stls = true;
      if (EqualsIgnoreCase(keyword, "IMPLEMENTATION")) {
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        caps_.implementation = std::string(line);
      }
      if (EqualsIgnoreCase(keyword, "SASL")) {
        for (std::string_view m = NextWord(&line); !m.empty();
             m = NextWord(&line)) {
          if (EqualsIgnoreCase(m, "PLAIN")) caps_.sasl_plain = true;
        }
      }
    }
    AfterGreetingOrCapa();
    return;
  }
  Complete(body_status_);
}

// A command's answer is complete: its kDone event with the parsed values.
void ClientSession::Impl::Complete(const Response& response) {
  const Pending p = sent_.front();
  sent_.pop_front();
  ClientEvent e;
  e.kind = ClientEventKind::kDone;
  e.verb = p.verb;
  e.ok = response.ok();
  e.response = response;
  e.message = p.message;
  std::uint64_t a = 0, b = 0;
  std::string_view text = response.text;
  if (e.ok) {
    switch (p.verb) {
      case Verb::kStat:  // "+OK nn mm"
        if (ParseDecimal(NextWord(&text), &a) &&
            ParseDecimal(NextWord(&text), &b)) {
          e.count = a;
          e.octets = b;
        }
        break;
      case Verb::kLast:  // "+OK nn"
        if (ParseDecimal(NextWord(&text), &a)) e.count = a;
        break;
      case Verb::kList:
      case Verb::kUidl: {
        // "n size" / "n uid" lines: the single-line form's text, or the
        // body of the multi-line form.
        std::string_view rest = p.has_message ? text : std::string_view(body_);
        while (!rest.empty()) {
          const std::size_t end = rest.find("\r\n");
          std::string_view line = rest.substr(0, end);
          rest.remove_prefix(end == std::string_view::npos ? rest.size()
                                                           : end + 2);
          ListEntry entry;
          if (!ParseDecimal(NextWord(&line), &entry.number)) continue;
          const std::string_view value = NextWord(&line);
          if (p.verb == Verb::kList) {
            if (!ParseDecimal(value, &entry.size)) continue;
          } else {
            if (value.empty()) continue;
            entry.uid = std::string(value);
          }
          e.listing.push_back(std::move(entry));
        }
        if (p.has_message && !e.listing.empty()) e.octets = e.listing[0].size;
        body_.clear();
        break;
      }
      default:
        break;
    }
  }
  const bool quit = p.verb == Verb::kQuit;
  Emit(std::move(e));
  if (quit) {
    if (!response.ok()) {
      status_ = absl::UnavailableError("the server did not commit the UPDATE");
      failure_ = response;
    }
    phase_ = Phase::kClosed;
    ClientEvent closed;
    closed.kind = ClientEventKind::kClosed;
    Emit(std::move(closed));
    return;
  }
  SendNextUnsent();
}

// ---------------------------------------------------------------------------
// Login.

void ClientSession::Impl::AfterGreetingOrCapa() {
  if (!tls_active_ && options_.tls != TlsMode::kNone) {
    if (caps_.stls || (options_.tls == TlsMode::kRequired && !caps_.capa)) {
      Write(Verb::kStls);
      phase_ = Phase::kStls;
      return;
    }
    if (options_.tls == TlsMode::kRequired) {
      Fail(absl::FailedPreconditionError("server does not offer STLS"));
      return;
    }
  }
  StartLogin();
}

void ClientSession::Impl::StartLogin() {
  const ClientCredentials& c = options_.credentials;
  const bool apop_possible = !timestamp_.empty() && c.apop_digest != nullptr;
  const bool plaintext_ok = tls_active_ || options_.allow_plaintext_auth;
  AuthMethod method = options_.auth;
  if (method == AuthMethod::kAuto) {
    method = apop_possible        ? AuthMethod::kApop
             : caps_.sasl_plain   ? AuthMethod::kSaslPlain
                                  : AuthMethod::kUserPass;
  }
  if (method == AuthMethod::kApop) {
    if (!apop_possible) {
      Fail(absl::FailedPreconditionError(
          "APOP needs a greeting timestamp and apop_digest"));
      return;
    }
    const std::string digest = c.apop_digest(timestamp_);
    Write(Verb::kApop, c.user, digest);
    phase_ = Phase::kApop;
    return;
  }
  if (!plaintext_ok) {
    Fail(absl::FailedPreconditionError(
        "plaintext login refused without TLS (allow_plaintext_auth)"));
    return;
  }
  if (method == AuthMethod::kSaslPlain) {
    std::string message = c.authzid;
    message += '\0';
    message += c.user;
    message += '\0';
    message += c.password;
    std::string encoded;
    wire::internal::EncodeBase64(message, &encoded);
    std::fill(message.begin(), message.end(), '\0');
    if (encoded.size() + 13 <= kMaxCommandLine) {
      Write(Verb::kAuth, "PLAIN", encoded);
    } else {
      Write(Verb::kAuth, "PLAIN");
    }
    std::fill(encoded.begin(), encoded.end(), '\0');
    plain_continuation_answered_ = false;
    phase_ = Phase::kPlain;
    return;
  }
  Write(Verb::kUser, c.user);
  phase_ = Phase::kUser;
}

void ClientSession::Impl::Ready() {
  phase_ = Phase::kTransaction;
  logged_in_ = true;
  ClientEvent e;
  e.kind = ClientEventKind::kReady;
  Emit(std::move(e));
}

void ClientSession::Impl::OnTlsStarted() {
  if (phase_ != Phase::kTlsPending) return;
  tls_active_ = true;
  reader_.Reset();
  caps_ = ServerCapabilities{};  // asked again over TLS
  if (options_.use_capa) {
    Write(Verb::kCapa);
    phase_ = Phase::kCapa;
  } else {
    StartLogin();
  }
}

// ---------------------------------------------------------------------------
// Commands.

void ClientSession::Impl::WritePending(const Pending& p) {
  std::string number;
  std::string lines;
  if (p.has_message) number = fmt::format("{}", p.message);
  if (p.verb == Verb::kTop) lines = fmt::format("{}", p.lines);
  Write(p.verb, number, lines);
  sent_.push_back(p);
}

void ClientSession::Impl::SendNextUnsent() {
  if (!sent_.empty() || unsent_.empty()) return;
  const Pending p = unsent_.front();
  unsent_.pop_front();
  WritePending(p);
}

absl::Status ClientSession::Impl::Enqueue(Pending p) {
  if (phase_ != Phase::kTransaction || quit_asked_) {
    return absl::FailedPreconditionError(
        "POP3 commands need a logged-in session (kReady) before QUIT");
  }
  if (p.has_message && p.message == 0) {
    return absl::InvalidArgumentError("message numbers start at 1");
  }
  if (p.verb == Verb::kQuit) quit_asked_ = true;
  if (Pipelining() || (sent_.empty() && unsent_.empty())) {
    WritePending(p);
  } else {
    unsent_.push_back(p);
  }
  if (!held_.empty()) {
    const std::string held = std::move(held_);
    held_.clear();
    Receive(held);
  }
  return absl::OkStatus();
}

void ClientSession::Impl::Quit() {
  if (phase_ == Phase::kClosed || quit_asked_) return;
  if (phase_ == Phase::kTransaction) {
    Enqueue(Pending{Verb::kQuit}).IgnoreError();
    return;
  }
  // Login not finished: the exchange is abandoned; a QUIT is sent when
  // the server is between commands (never inside a SASL exchange).
  if (phase_ != Phase::kPlain && phase_ != Phase::kTlsPending) {
    Write(Verb::kQuit);
  }
  Fail(absl::CancelledError("QUIT before the login finished"));
}

void ClientSession::Impl::Fail(absl::Status status,
                               std::optional<Response> response) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  status_ = std::move(status);
  failure_ = std::move(response);
  in_body_ = false;
  // Outstanding commands fail with the session.
  for (auto* queue : {&sent_, &unsent_}) {
    for (const Pending& p : *queue) {
      ClientEvent e;
      e.kind = ClientEventKind::kDone;
      e.verb = p.verb;
      e.message = p.message;
      e.response.status = Status::kErr;
      e.response.text = std::string(status_.message());
      Emit(std::move(e));
    }
    queue->clear();
  }
  ClientEvent e;
  e.kind = ClientEventKind::kClosed;
  Emit(std::move(e));
}

void ClientSession::Impl::OnConnectionLost(absl::Status why) {
  if (phase_ == Phase::kClosed) return;
  if (why.ok()) why = absl::UnavailableError("connection closed");
  Fail(std::move(why));
}

// ---------------------------------------------------------------------------
// The public class forwards to Impl.

ClientSession::ClientSession(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ClientSession::~ClientSession() = default;

void ClientSession::Receive(std::string_view bytes) { impl_->Receive(bytes); }
void ClientSession::OnConnectionLost(absl::Status why) {
  impl_->OnConnectionLost(std::move(why));
}
void ClientSession::OnTlsStarted() { impl_->OnTlsStarted(); }

std::optional<ClientEvent> ClientSession::NextEvent() {
  if (impl_->events_.empty()) return std::nullopt;
  auto [event, data] = std::move(impl_->events_.front());
  impl_->events_.pop_front();
  impl_->current_data_ = std::move(data);
  event.data = impl_->current_data_;
  return std::move(event);
}
std::string ClientSession::TakeOutput() {
  std::string out;
  out.swap(impl_->out_);
  return out;
}
bool ClientSession::has_output() const { return !impl_->out_.empty(); }

absl::Status ClientSession::Stat() {
  return impl_->Enqueue(Impl::Pending{Verb::kStat});
}
absl::Status ClientSession::List(std::optional<std::uint64_t> message) {
  return impl_->Enqueue(
      Impl::Pending{Verb::kList, message.has_value(), message.value_or(0)});
}
absl::Status ClientSession::Uidl(std::optional<std::uint64_t> message) {
  return impl_->Enqueue(
      Impl::Pending{Verb::kUidl, message.has_value(), message.value_or(0)});
}
absl::Status ClientSession::Retrieve(std::uint64_t message) {
  return impl_->Enqueue(Impl::Pending{Verb::kRetr, true, message});
}
absl::Status ClientSession::Top(std::uint64_t message, std::uint64_t lines) {
  return impl_->Enqueue(Impl::Pending{Verb::kTop, true, message, lines});
}
absl::Status ClientSession::Delete(std::uint64_t message) {
  return impl_->Enqueue(Impl::Pending{Verb::kDele, true, message});
}
absl::Status ClientSession::Reset() {
  return impl_->Enqueue(Impl::Pending{Verb::kRset});
}
absl::Status ClientSession::Noop() {
  return impl_->Enqueue(Impl::Pending{Verb::kNoop});
}
absl::Status ClientSession::Last() {
  return impl_->Enqueue(Impl::Pending{Verb::kLast});
}
void ClientSession::Quit() { impl_->Quit(); }

const ServerCapabilities& ClientSession::capabilities() const {
  return impl_->caps_;
}
const Response& ClientSession::greeting() const { return impl_->greeting_; }
std::string_view ClientSession::apop_timestamp() const {
  return impl_->timestamp_;
}
bool ClientSession::tls_active() const { return impl_->tls_active_; }
bool ClientSession::logged_in() const { return impl_->logged_in_; }
absl::Status ClientSession::status() const { return impl_->status_; }
const std::optional<Response>& ClientSession::failure_response() const {
  return impl_->failure_;
}

}  // namespace posthorn::pop3
