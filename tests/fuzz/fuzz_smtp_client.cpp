// libFuzzer target for posthorn/smtp/client_session.h: the fuzz input is
// what a hostile server sends.
//
// Input layout: byte 0 holds options (bit 0: use pipelining, bits 1-2: TLS
// mode, bit 3: implicit TLS, bit 4: credentials, bit 5: plaintext AUTH
// allowed, bit 6: LF body input, bit 7: Quit() at kReady, no
// transaction); byte 1 is the separator: the rest is
// cut into server chunks at each occurrence of that byte (the separator
// itself is dropped). A driver answers every event as a real one would:
// kReady -> StartTransaction (up to three, three recipients each, DSN and
// SIZE set), kStartTls -> OnTlsStarted, kSendBody -> a body in chunks,
// kTransactionDone -> the next transaction or Quit.
//
// Invariants checked:
//   - Receive() always reports every byte consumed;
//   - the output of one step is bounded (no unbounded growth);
//   - at most one kClosed, nothing but kTransactionDone-before-kClosed
//     after a failure, no event at all after kClosed;
//   - a finished transaction has one result per recipient, and an
//     outcome of kOk only with a positive final reply;
//   - after OnConnectionLost (always called at the end) the session is
//     closed and ignores everything; status() is not OK
//     exactly when failure_outcome() is not kOk.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "posthorn/smtp/client_session.h"

namespace {

using namespace posthorn::smtp;

void Check(bool ok) {
  if (!ok) std::abort();
}

// The most one step may write: a pipelined group of three recipients with
// every parameter, or a body chunk stuffed (at most twice its size), or an
// AUTH line. Far below this in practice.
constexpr std::size_t kMaxStepOutput = 16 * 1024;
constexpr int kMaxTransactions = 3;

ClientEnvelope MakeEnvelope(int n) {
  ClientEnvelope env;
  env.mail_from = n == 1 ? "" : "sender@example.org";
  env.size = 100 + static_cast<std::uint64_t>(n) * 1000;
  env.body = n == 2 ? BodyType::k8BitMime : BodyType::kNone;
  env.ret = DsnRet::kHeaders;
  env.envid = "id+=" + std::to_string(n);
  for (int i = 0; i < 3; ++i) {
    ClientRecipient r;
    r.address = "rcpt" + std::to_string(i) + "@example.net";
    r.notify.present = true;
    r.notify.success = true;
    r.notify.failure = i == 1;
    r.orcpt = "rfc822;" + r.address;
    env.recipients.push_back(r);
  }
  return env;
}

class Driver {
 public:
  Driver(ClientOptions options, int max_transactions)
      : session_(std::move(options)), max_transactions_(max_transactions) {}

  void Feed(std::string_view chunk) {
    Check(session_.Receive(chunk) == chunk.size());
    Step();
  }

  void Lose() {
    session_.OnConnectionLost(absl::UnavailableError("fuzz: eof"));
    Step();
    Check(closed_);
    // Nothing moves after kClosed.
    Check(session_.Receive("250 ok\r\n") == 8);
    session_.Quit();
    Check(!session_.NextEvent().has_value() && !session_.has_output());
  }

  void Finish() {
    Check(session_.status().ok() ==
          (session_.failure_outcome() == Outcome::kOk));
  }

 private:
  void Step() {
    while (auto event = session_.NextEvent()) {
      Check(!closed_);
      switch (event->kind) {
        case ClientEventKind::kReady:
          Check(!ready_);
          ready_ = true;
          Start();
          break;
        case ClientEventKind::kStartTls:
          session_.OnTlsStarted();
          break;
        case ClientEventKind::kSendBody:
          for (int i = 0; i < 4; ++i) {
            session_.SendBody(i == 2 ? ".dot line\r\n" : "text\r\n.\r\n");
            Check(session_.TakeOutput().size() <= kMaxStepOutput);
          }
          session_.EndBody();
          break;
        case ClientEventKind::kTransactionDone: {
          const TransactionResult& r = session_.result();
          Check(r.recipients.size() == 3);
          if (r.outcome == Outcome::kOk) Check(r.reply.positive());
          Start();
          break;
        }
        case ClientEventKind::kClosed:
          closed_ = true;
          break;
      }
    }
    Check(session_.TakeOutput().size() <= kMaxStepOutput);
  }

  void Start() {
    if (transactions_ >= max_transactions_) {
      session_.Quit();
      return;
    }
    ++transactions_;
    const absl::Status s = session_.StartTransaction(MakeEnvelope(transactions_));
    Check(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
  }

  ClientSession session_;
  bool ready_ = false;
  bool closed_ = false;
  int max_transactions_;
  int transactions_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const char separator = static_cast<char>(data[1]);
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);

  ClientOptions options;
  options.use_pipelining = (flags & 1) != 0;
  switch ((flags >> 1) & 3) {
    case 0: options.tls = TlsMode::kNone; break;
    case 1: options.tls = TlsMode::kOpportunistic; break;
    default: options.tls = TlsMode::kRequired; break;
  }
  options.tls_active = (flags & 8) != 0;
  if ((flags & 16) != 0) {
    options.credentials = ClientCredentials{"user", "secret", ""};
  }
  options.allow_plaintext_auth = (flags & 32) != 0;
  options.body_input = (flags & 64) != 0
                           ? posthorn::wire::EncoderInput::kLfToCrlf
                           : posthorn::wire::EncoderInput::kCrlf;

  Driver driver(options, (flags & 128) != 0 ? 0 : kMaxTransactions);
  while (!rest.empty()) {
    const std::size_t cut = rest.find(separator);
    const std::string chunk(rest.substr(0, cut));  // exactly sized copy
    driver.Feed(chunk);
    rest.remove_prefix(cut == std::string_view::npos ? rest.size() : cut + 1);
  }
  driver.Lose();
  driver.Finish();
  return 0;
}
