// The SMTP client state machine. Everything that decides what the client
// sends next, or what a reply means, is in this file.
//
// PHASES (what the driver may do)            EXPECTED REPLIES (a FIFO)
//   kSetup   greeting, EHLO/HELO, STARTTLS,    kGreeting, kEhlo, kHelo,
//            AUTH: one command at a time        kStartTls, kAuth*
//   kTlsWait "220" to STARTTLS received; every byte is discarded until
//            OnTlsStarted(), then EHLO again (RFC 3207 4.2)
//   kReady   StartTransaction() or Quit()
//   kTransaction  MAIL, RCPT..., DATA in flight    kMail, kRcpt, kData,
//            (one group with PIPELINING, else one  kDataEnd, kRset
//            at a time); the final reply; RSET
//   kBody    354 received: SendBody()... EndBody()
//   kQuitting QUIT sent                             kQuit
//   kClosed  nothing more; every input is ignored
//
// Replies are matched to commands strictly in order (RFC 2920 3.1: the
// server answers a pipelined group in order). A reply with nothing
// expected, an intermediate (3xx) reply other than 354 to DATA or 334 to
// AUTH LOGIN, or an unparsable reply means client and server no longer
// agree on the state: the session fails transient and closes without QUIT
// (anything we send could be read as data). "421" to anything is the
// server closing (RFC 5321 3.8): transient, closed, no QUIT.
//
// Failures while the two sides are still in sync (a refused greeting,
// EHLO, STARTTLS with TlsMode::kRequired, AUTH) send QUIT and close after
// its reply (RFC 5321 3.1: after a 554 greeting the client sends QUIT).

#include "posthorn/smtp/client_session.h"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "posthorn/smtp/command.h"
#include "posthorn/smtp/reply.h"
#include "smtp/client/capabilities.h"
#include "smtp/client/command_writer.h"

namespace posthorn::smtp {

Outcome Classify(const Reply& reply) {
  if (reply.positive()) return Outcome::kOk;
  if (reply.permanent()) return Outcome::kPermanent;
  // 4xx: try later. 3xx where a final reply was due, or a code out of range:
  // a protocol error, also "try later".
  return Outcome::kTransient;
}

namespace {

enum class Phase : std::uint8_t {
  kSetup,
  kTlsWait,
  kReady,
  kTransaction,
  kBody,
  kQuitting,
  kClosed,
};

enum class Expect : std::uint8_t {
  kGreeting,
  kEhlo,
  kHelo,
  kStartTls,
  kAuthPlain,      // AUTH PLAIN <initial response>
  kAuthLogin,      // AUTH LOGIN: 334 for the user name
  kAuthLoginUser,  // user name sent: 334 for the password
  kAuthLoginPass,  // password sent: 235
  kMail,
  kRcpt,
  kData,
  kDataEnd,  // the reply after <CRLF>.<CRLF>
  kRset,
  kQuit,
};

// RFC 5321 4.1.4 / 3.2: "a client SHOULD fall back to HELO" when EHLO is
// refused as unknown (500, 502), not implemented for that parameter (504)
// or refused in the manner of some old servers (550).
bool EhloRefusalAllowsHelo(int code) {
  return code == 500 || code == 502 || code == 504 || code == 550;
}

Outcome FailureOutcome(const Reply& reply) {
  return reply.permanent() ? Outcome::kPermanent : Outcome::kTransient;
}

// Debian's Abseil has its own string_view, which fmt cannot format.
std::string_view Message(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

std::string_view FirstLine(const Reply& reply) {
  return reply.lines.empty() ? std::string_view() : reply.lines.front();
}

}  // namespace

class ClientSession::Impl {
 public:
  explicit Impl(ClientOptions options)
      : options_(std::move(options)),
        encoder_(options_.body_input),
        tls_active_(options_.tls_active) {
    expects_.push_back(Expect::kGreeting);
  }

  std::size_t Receive(std::string_view bytes) {
    // After "220" to STARTTLS nothing the server sent in plaintext may be
    // read: it could be an injected reply (the reverse of CVE-2011-0411).
    if (phase_ == Phase::kClosed || phase_ == Phase::kTlsWait) {
      return bytes.size();
    }
    std::string_view input = bytes;
    while (!input.empty()) {
      switch (parser_.Next(&input)) {
        case ReplyParser::Event::kReply:
          HandleReply(parser_.TakeReply());
          if (phase_ == Phase::kTlsWait || phase_ == Phase::kClosed) {
            return bytes.size();  // the rest is discarded on purpose
          }
          break;
        case ReplyParser::Event::kNeedMoreData:
          return bytes.size();
        case ReplyParser::Event::kError:
          FailOutOfSync(
              absl::UnavailableError(fmt::format(
                  "malformed reply from the server: {}",
                  Message(parser_.status()))),
              MakeReply(451, "4.5.0", "malformed reply from the server"),
              Outcome::kTransient);
          return bytes.size();
      }
    }
    return bytes.size();
  }

  void OnConnectionLost(const absl::Status& why) {
    if (phase_ == Phase::kClosed) return;
    if (phase_ == Phase::kQuitting) {
      // QUIT was sent; a server closing before its 221 is no failure.
      Close();
      return;
    }
    const absl::Status status =
        why.ok() ? absl::UnavailableError("connection closed by the server")
                 : why;
    FailOutOfSync(status,
                  MakeReply(421, "4.4.2",
                            fmt::format("connection lost: {}",
                                        Message(status))),
                  Outcome::kTransient);
  }

  void OnTlsStarted() {
    if (phase_ != Phase::kTlsWait) return;
    tls_active_ = true;
    // RFC 3207 4.2: forget everything learned before the handshake.
    caps_ = ServerCapabilities{};
    parser_.Reset();
    parser_.set_expect_enhanced_codes(false);
    phase_ = Phase::kSetup;
    SendEhlo();
  }

  std::optional<ClientEvent> NextEvent() {
    if (events_.empty()) return std::nullopt;
    const ClientEvent event = events_.front();
    events_.pop_front();
    return event;
  }

  std::string TakeOutput() {
    std::string out;
    out.swap(out_);
    return out;
  }
  bool has_output() const { return !out_.empty(); }

  absl::Status StartTransaction(ClientEnvelope envelope) {
    if (phase_ != Phase::kReady) {
      return absl::FailedPreconditionError(
          "StartTransaction before kReady, or a transaction is running");
    }
    if (absl::Status s = client_internal::ValidateEnvelope(envelope);
        !s.ok()) {
      return s;
    }
    envelope_ = std::move(envelope);
    result_ = TransactionResult{};
    result_.recipients.resize(envelope_.recipients.size());
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
      result_.recipients[i].address = envelope_.recipients[i].address;
    }

    // Refusals decided here, before a byte is sent (RFC 1870 4: a client
    // SHOULD NOT send a message larger than the announced SIZE; RFC 6152 /
    // RFC 6531: 8-bit content or UTF-8 addresses need the extension; we
    // never downgrade a message).
    if (envelope_.size.has_value() && caps_.size.has_value() &&
        *caps_.size != 0 && *envelope_.size > *caps_.size) {
      RefuseLocally(MakeReply(
          552, "5.3.4",
          fmt::format("message size {} exceeds the server's limit of {}",
                      *envelope_.size, *caps_.size)));
      return absl::OkStatus();
    }
    if (envelope_.body == BodyType::k8BitMime && !caps_.eightbitmime) {
      RefuseLocally(MakeReply(
          554, "5.6.3", "8-bit message but the server lacks 8BITMIME"));
      return absl::OkStatus();
    }
    if (envelope_.smtputf8 && !caps_.smtputf8) {
      RefuseLocally(MakeReply(
          553, "5.6.7", "UTF-8 envelope but the server lacks SMTPUTF8"));
      return absl::OkStatus();
    }

    phase_ = Phase::kTransaction;
    tx_active_ = true;
    done_after_rset_ = false;
    mail_ok_ = false;
    mail_reply_ = Reply{};
    rcpt_replies_ = 0;
    accepted_ = 0;
    body_doomed_ = false;
    pipelined_ = options_.use_pipelining && caps_.pipelining;

    client_internal::AppendMailFrom(envelope_, caps_, &out_);
    expects_.push_back(Expect::kMail);
    if (pipelined_) {
      // RFC 2920 3.1: MAIL, every RCPT and DATA in one group; DATA is the
      // last command of the group.
      for (const ClientRecipient& rcpt : envelope_.recipients) {
        client_internal::AppendRcptTo(rcpt, caps_, &out_);
        expects_.push_back(Expect::kRcpt);
      }
      out_.append("DATA\r\n");
      expects_.push_back(Expect::kData);
    }
    return absl::OkStatus();
  }

  void SendBody(std::string_view chunk) {
    if (phase_ != Phase::kBody) return;
    encoder_.Update(chunk, &out_);
  }

  void EndBody() {
    if (phase_ != Phase::kBody) return;
    encoder_.Finish(&out_);
    expects_.push_back(Expect::kDataEnd);
    phase_ = Phase::kTransaction;
  }

  void Quit() {
    switch (phase_) {
      case Phase::kClosed:
      case Phase::kQuitting:
        return;
      case Phase::kReady:
        SendQuit();
        return;
      default:
        // In the middle of an exchange (inside DATA, say) a QUIT would be
        // read as data or out of order: give up and let the driver close
        // the connection, which makes the server discard the transaction.
        FailOutOfSync(absl::CancelledError("session abandoned by the caller"),
                      MakeReply(451, "4.3.0", "abandoned by the client"),
                      Outcome::kTransient);
        return;
    }
  }

  const ServerCapabilities& capabilities() const { return caps_; }
  const Reply& greeting() const { return greeting_; }
  bool tls_active() const { return tls_active_; }
  bool authenticated() const { return authenticated_; }
  const TransactionResult& result() const { return result_; }
  absl::Status status() const { return status_; }
  Outcome failure_outcome() const { return failure_outcome_; }
  const Reply& failure_reply() const { return failure_reply_; }

 private:
  // --- Reply dispatch. ----------------------------------------------------

  void HandleReply(Reply reply) {
    if (expects_.empty()) {
      Unexpected(reply);
      return;
    }
    const Expect expect = expects_.front();
    expects_.pop_front();
    if (expect == Expect::kGreeting) greeting_ = reply;
    // RFC 5321 3.8: 421 means the server is closing the channel, whatever
    // it answers.
    if (reply.code == 421 && expect != Expect::kQuit) {
      FailOutOfSync(
          absl::UnavailableError(fmt::format("server closing: {} {}",
                                             reply.code, FirstLine(reply))),
          reply, Outcome::kTransient);
      return;
    }
    switch (expect) {
      case Expect::kGreeting: OnGreeting(); break;
      case Expect::kEhlo: OnEhlo(reply); break;
      case Expect::kHelo: OnHelo(reply); break;
      case Expect::kStartTls: OnStartTls(reply); break;
      case Expect::kAuthPlain: OnAuthFinal(reply); break;
      case Expect::kAuthLogin: OnAuthLogin(reply, /*user_next=*/true); break;
      case Expect::kAuthLoginUser:
        OnAuthLogin(reply, /*user_next=*/false);
        break;
      case Expect::kAuthLoginPass: OnAuthFinal(reply); break;
      case Expect::kMail: OnMail(std::move(reply)); break;
      case Expect::kRcpt: OnRcpt(std::move(reply)); break;
      case Expect::kData: OnData(reply); break;
      case Expect::kDataEnd: OnDataEnd(std::move(reply)); break;
      case Expect::kRset: OnRset(); break;
      case Expect::kQuit: Close(); break;
    }
  }

  // A reply nobody asked for, or a 3xx where a final reply was due.
  void Unexpected(const Reply& reply) {
    FailOutOfSync(absl::UnavailableError(fmt::format(
                      "unexpected reply from the server: {} {}", reply.code,
                      FirstLine(reply))),
                  reply, FailureOutcome(reply));
  }

  // --- Setup: greeting, EHLO, STARTTLS, AUTH. -----------------------------

  // The reply is in greeting_ (HandleReply() keeps it, 421 included).
  void OnGreeting() {
    if (greeting_.intermediate()) {
      Unexpected(greeting_);
      return;
    }
    if (!greeting_.positive()) {
      FailInSync(greeting_, "server refused the connection");
      return;
    }
    if (!IsValidDomain(options_.helo_name) &&
        !IsValidAddressLiteral(options_.helo_name)) {
      FailInSync(absl::InvalidArgumentError(fmt::format(
                     "helo_name \"{}\" is not a domain or address literal",
                     options_.helo_name)),
                 MakeReply(501, "5.5.4", "invalid helo_name"),
                 Outcome::kPermanent);
      return;
    }
    SendEhlo();
  }

  void SendEhlo() {
    out_.append("EHLO ").append(options_.helo_name).append("\r\n");
    expects_.push_back(Expect::kEhlo);
  }

  void OnEhlo(const Reply& reply) {
    if (reply.positive()) {
      caps_ = client_internal::ParseEhloReply(reply);
      parser_.set_expect_enhanced_codes(caps_.enhanced_status_codes);
      AfterHello();
      return;
    }
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    if (EhloRefusalAllowsHelo(reply.code)) {
      out_.append("HELO ").append(options_.helo_name).append("\r\n");
      expects_.push_back(Expect::kHelo);
      return;
    }
    FailInSync(reply, "server refused EHLO");
  }

  void OnHelo(const Reply& reply) {
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    if (!reply.positive()) {
      FailInSync(reply, "server refused HELO");
      return;
    }
    caps_ = ServerCapabilities{};  // plain SMTP: no extension at all
    AfterHello();
  }

  void AfterHello() {
    if (!tls_active_ && options_.tls != TlsMode::kNone) {
      if (caps_.starttls) {
        out_.append("STARTTLS\r\n");
        expects_.push_back(Expect::kStartTls);
        return;
      }
      if (options_.tls == TlsMode::kRequired) {
        // Never fall back to plaintext: a man in the middle can strip the
        // STARTTLS keyword from the EHLO reply.
        FailInSync(
            absl::FailedPreconditionError(
                "TLS required but the server does not offer STARTTLS"),
            MakeReply(530, "5.7.10", "STARTTLS required but not offered"),
            Outcome::kPermanent);
        return;
      }
    }
    StartAuthOrReady();
  }

  void OnStartTls(const Reply& reply) {
    if (reply.code == 220) {
      // RFC 3207 4.2 (and the reverse of CVE-2011-0411): bytes the server
      // sent after "220" and before the handshake are not trusted; the
      // caller of Receive() drops the rest of its chunk, we drop our state.
      parser_.Reset();
      phase_ = Phase::kTlsWait;
      events_.push_back({ClientEventKind::kStartTls});
      return;
    }
    if (reply.intermediate() || reply.positive()) {
      Unexpected(reply);
      return;
    }
    if (options_.tls == TlsMode::kRequired) {
      FailInSync(absl::FailedPreconditionError(fmt::format(
                     "TLS required but the server refused STARTTLS: {} {}",
                     reply.code, FirstLine(reply))),
                 reply, Outcome::kPermanent);
      return;
    }
    StartAuthOrReady();  // opportunistic: go on in plaintext
  }

  void StartAuthOrReady() {
    if (!options_.credentials.has_value() || authenticated_) {
      phase_ = Phase::kReady;
      events_.push_back({ClientEventKind::kReady});
      return;
    }
    const ClientCredentials& credentials = *options_.credentials;
    if (!tls_active_ && !options_.allow_plaintext_auth) {
      FailInSync(absl::FailedPreconditionError(
                     "AUTH over a plaintext connection not allowed"),
                 MakeReply(538, "5.7.11", "encryption required for AUTH"),
                 Outcome::kPermanent);
      return;
    }
    if (caps_.auth_plain) {
      if (absl::Status s = client_internal::CheckPlainCredentials(credentials);
          !s.ok()) {
        FailInSync(s, MakeReply(501, "5.5.2", "credentials not encodable"),
                   Outcome::kPermanent);
        return;
      }
      // RFC 4954 4: AUTH mechanism [SP initial-response]
      out_.append("AUTH PLAIN ")
          .append(client_internal::PlainInitialResponse(credentials))
          .append("\r\n");
      expects_.push_back(Expect::kAuthPlain);
      return;
    }
    if (caps_.auth_login) {
      out_.append("AUTH LOGIN\r\n");
      expects_.push_back(Expect::kAuthLogin);
      return;
    }
    FailInSync(absl::FailedPreconditionError(
                   "the server offers no AUTH mechanism we support"),
               MakeReply(504, "5.7.4", "no supported AUTH mechanism"),
               Outcome::kPermanent);
  }

  void OnAuthLogin(const Reply& reply, bool user_next) {
    if (reply.code == 334) {
      const ClientCredentials& c = *options_.credentials;
      out_.append(client_internal::Base64Line(user_next ? c.username
                                                        : c.password))
          .append("\r\n");
      expects_.push_back(user_next ? Expect::kAuthLoginUser
                                   : Expect::kAuthLoginPass);
      return;
    }
    OnAuthFinal(reply);
  }

  void OnAuthFinal(const Reply& reply) {
    if (reply.positive()) {
      authenticated_ = true;
      StartAuthOrReady();
      return;
    }
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    const absl::Status status =
        reply.permanent()
            ? absl::PermissionDeniedError(fmt::format(
                  "AUTH refused: {} {}", reply.code, FirstLine(reply)))
            : absl::UnavailableError(fmt::format(
                  "AUTH failed: {} {}", reply.code, FirstLine(reply)));
    FailInSync(status, reply, FailureOutcome(reply));
  }

  // --- Transaction. -------------------------------------------------------

  void OnMail(Reply reply) {
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    mail_ok_ = reply.positive();
    mail_reply_ = std::move(reply);
    if (pipelined_) return;  // RCPT and DATA replies follow anyway
    if (!mail_ok_) {
      // No transaction was opened on the server: no RSET needed.
      FailTransaction(mail_reply_, Classify(mail_reply_), /*rset=*/false);
      return;
    }
    SendRcpt(0);
  }

  void SendRcpt(std::size_t index) {
    client_internal::AppendRcptTo(envelope_.recipients[index], caps_, &out_);
    expects_.push_back(Expect::kRcpt);
  }

  void OnRcpt(Reply reply) {
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    const std::size_t index = rcpt_replies_++;
    if (index >= result_.recipients.size()) return;  // cannot happen
    RecipientResult& rcpt = result_.recipients[index];
    rcpt.outcome = Classify(reply);
    rcpt.reply = std::move(reply);
    if (rcpt.outcome == Outcome::kOk) ++accepted_;
    if (pipelined_) return;
    if (rcpt_replies_ < envelope_.recipients.size()) {
      SendRcpt(rcpt_replies_);
    } else if (accepted_ > 0) {
      out_.append("DATA\r\n");
      expects_.push_back(Expect::kData);
    } else {
      FailEnvelope(/*rset=*/true);
    }
  }

  void OnData(const Reply& reply) {
    if (reply.code == 354) {
      encoder_.Reset();
      if (mail_ok_ && accepted_ > 0) {
        phase_ = Phase::kBody;
        events_.push_back({ClientEventKind::kSendBody});
        return;
      }
      // RFC 2920 3.1: with every RCPT refused the server should refuse
      // DATA; one that says 354 anyway gets an empty message, and its
      // final reply is read and ignored.
      body_doomed_ = true;
      encoder_.Finish(&out_);
      expects_.push_back(Expect::kDataEnd);
      return;
    }
    if (reply.intermediate() || reply.positive()) {
      Unexpected(reply);
      return;
    }
    if (!mail_ok_ || accepted_ == 0) {
      FailEnvelope(/*rset=*/mail_ok_);
      return;
    }
    FailTransaction(reply, Classify(reply), /*rset=*/true);
  }

  void OnDataEnd(Reply reply) {
    if (reply.intermediate()) {
      Unexpected(reply);
      return;
    }
    if (body_doomed_) {
      FailEnvelope(/*rset=*/false);
      return;
    }
    if (reply.positive()) {
      result_.outcome = Outcome::kOk;
      result_.reply = std::move(reply);
      FinishTransaction();
      return;
    }
    FailTransaction(reply, Classify(reply), /*rset=*/false);
  }

  void OnRset() {
    if (done_after_rset_) {
      done_after_rset_ = false;
      FinishTransaction();
    }
  }

  // MAIL refused, or every RCPT refused: the reason is in those replies.
  // With every recipient refused, a transient refusal wins (retrying the
  // whole envelope later may help), else the first recipient's reply.
  void FailEnvelope(bool rset) {
    if (!mail_ok_) {
      FailTransaction(mail_reply_, Classify(mail_reply_), rset);
      return;
    }
    const RecipientResult* reason = nullptr;
    for (const RecipientResult& r : result_.recipients) {
      if (r.outcome == Outcome::kTransient) {
        reason = &r;
        break;
      }
    }
    if (reason == nullptr && !result_.recipients.empty()) {
      reason = &result_.recipients.front();
    }
    const Reply why = reason != nullptr ? reason->reply : Reply{};
    FailTransaction(why, FailureOutcome(why), rset);
  }

  // The transaction failed: `reason` for the whole, and for every
  // recipient that was accepted (or never answered): their message was not
  // taken either. Recipients refused at RCPT keep their own reply, unless
  // MAIL itself failed (then their replies are only "503 need MAIL").
  void FailTransaction(const Reply& reason, Outcome outcome, bool rset) {
    result_.outcome =
        outcome == Outcome::kOk ? Outcome::kTransient : outcome;
    result_.reply = reason;
    for (RecipientResult& r : result_.recipients) {
      if (!mail_ok_ || r.outcome == Outcome::kOk || r.reply.code == 0) {
        r.reply = reason;
        r.outcome = result_.outcome;
      }
    }
    if (rset) {
      // The server may still hold a sender and recipients (RFC 5321
      // 4.1.1.5): clear them before the next transaction.
      out_.append("RSET\r\n");
      expects_.push_back(Expect::kRset);
      done_after_rset_ = true;
      return;
    }
    FinishTransaction();
  }

  void RefuseLocally(const Reply& reason) {
    result_.outcome = Outcome::kPermanent;
    result_.reply = reason;
    for (RecipientResult& r : result_.recipients) {
      r.reply = reason;
      r.outcome = Outcome::kPermanent;
    }
    events_.push_back({ClientEventKind::kTransactionDone});
  }

  void FinishTransaction() {
    tx_active_ = false;
    phase_ = Phase::kReady;
    events_.push_back({ClientEventKind::kTransactionDone});
  }

  // --- Endings. -----------------------------------------------------------

  void SendQuit() {
    out_.append("QUIT\r\n");
    expects_.clear();
    expects_.push_back(Expect::kQuit);
    phase_ = Phase::kQuitting;
  }

  void Close() {
    expects_.clear();
    phase_ = Phase::kClosed;
    events_.push_back({ClientEventKind::kClosed});
  }

  void RecordFailure(const absl::Status& status, const Reply& reply,
                     Outcome outcome) {
    if (!status_.ok()) return;  // the first reason is the one that counts
    status_ = status;
    failure_reply_ = reply;
    failure_outcome_ = outcome == Outcome::kOk ? Outcome::kTransient : outcome;
  }

  // A failed server reply while both sides agree on the state.
  void FailInSync(const Reply& reply, std::string_view what) {
    const std::string message =
        fmt::format("{}: {} {}", what, reply.code, FirstLine(reply));
    const absl::Status status = reply.permanent()
                                    ? absl::FailedPreconditionError(message)
                                    : absl::UnavailableError(message);
    FailInSync(status, reply, FailureOutcome(reply));
  }

  void FailInSync(const absl::Status& status, const Reply& reply,
                  Outcome outcome) {
    RecordFailure(status, reply, outcome);
    SendQuit();
  }

  // The session cannot go on: no QUIT, kTransactionDone for a running
  // transaction (unless its result was already final), then kClosed.
  void FailOutOfSync(const absl::Status& status, const Reply& reply,
                     Outcome outcome) {
    if (phase_ == Phase::kClosed) return;
    RecordFailure(status, reply, outcome);
    if (tx_active_) {
      if (mail_reply_.code != 0 && !mail_ok_) {
        // MAIL was refused already: that is the transaction's result.
        FailTransaction(mail_reply_, Classify(mail_reply_), /*rset=*/false);
      } else if (!done_after_rset_) {
        // Recipients already refused keep their reply; everything else
        // shares the fate of the transaction.
        FailTransaction(reply, outcome, /*rset=*/false);
      } else {
        FinishTransaction();
      }
      done_after_rset_ = false;
    }
    Close();
  }

  ClientOptions options_;
  ReplyParser parser_;
  wire::DotStuffingEncoder encoder_;
  std::string out_;
  std::deque<ClientEvent> events_;
  std::deque<Expect> expects_;
  Phase phase_ = Phase::kSetup;

  ServerCapabilities caps_;
  Reply greeting_;
  bool tls_active_;
  bool authenticated_ = false;
  absl::Status status_;
  Reply failure_reply_;
  Outcome failure_outcome_ = Outcome::kOk;

  // The current transaction.
  ClientEnvelope envelope_;
  TransactionResult result_;
  bool tx_active_ = false;
  bool pipelined_ = false;
  bool mail_ok_ = false;
  Reply mail_reply_;
  std::size_t rcpt_replies_ = 0;
  std::size_t accepted_ = 0;
  bool body_doomed_ = false;     // "." sent after a 354 nobody wanted
  bool done_after_rset_ = false;  // result final; kTransactionDone at RSET
};

ClientSession::ClientSession(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ClientSession::~ClientSession() = default;

std::size_t ClientSession::Receive(std::string_view bytes) {
  return impl_->Receive(bytes);
}
void ClientSession::OnConnectionLost(absl::Status why) {
  impl_->OnConnectionLost(why);
}
void ClientSession::OnTlsStarted() { impl_->OnTlsStarted(); }
std::optional<ClientEvent> ClientSession::NextEvent() {
  return impl_->NextEvent();
}
std::string ClientSession::TakeOutput() { return impl_->TakeOutput(); }
bool ClientSession::has_output() const { return impl_->has_output(); }
absl::Status ClientSession::StartTransaction(ClientEnvelope envelope) {
  return impl_->StartTransaction(std::move(envelope));
}
void ClientSession::SendBody(std::string_view chunk) {
  impl_->SendBody(chunk);
}
void ClientSession::EndBody() { impl_->EndBody(); }
void ClientSession::Quit() { impl_->Quit(); }
const ServerCapabilities& ClientSession::capabilities() const {
  return impl_->capabilities();
}
const Reply& ClientSession::greeting() const { return impl_->greeting(); }
bool ClientSession::tls_active() const { return impl_->tls_active(); }
bool ClientSession::authenticated() const { return impl_->authenticated(); }
const TransactionResult& ClientSession::result() const {
  return impl_->result();
}
absl::Status ClientSession::status() const { return impl_->status(); }
Outcome ClientSession::failure_outcome() const {
  return impl_->failure_outcome();
}
const Reply& ClientSession::failure_reply() const {
  return impl_->failure_reply();
}

}  // namespace posthorn::smtp
