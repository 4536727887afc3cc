// libFuzzer target for posthorn/pop3/client_session.h: fuzz bytes as the
// server's side of a session.
//
// Byte 0 picks options (bit 0: TLS required, bit 1: opportunistic TLS,
// bit 2: plaintext login allowed, bit 3: APOP digest available, bit 4: no
// CAPA, bit 5: AUTH PLAIN forced, bit 6: no pipelining); byte 1 is the
// chunk separator. On kReady the driver queues STAT, LIST, UIDL, RETR 1,
// TOP 2 0, DELE 1, LAST, QUIT; kStartTls is followed by OnTlsStarted().
// Checked: no crash, data views readable, every command issued gets
// exactly one kDone (or the session closes), kClosed comes at most once
// and last, the client's output stays bounded.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/pop3/client_session.h"

namespace {

using namespace posthorn::pop3;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const char separator = static_cast<char>(data[1]);
  const std::string_view input(reinterpret_cast<const char*>(data) + 2,
                               size - 2);
  ClientOptions o;
  o.tls = (flags & 1)   ? TlsMode::kRequired
          : (flags & 2) ? TlsMode::kOpportunistic
                        : TlsMode::kNone;
  o.allow_plaintext_auth = (flags & 4) != 0;
  o.credentials.user = "user";
  o.credentials.password = "pass";
  if (flags & 8) {
    o.credentials.apop_digest = [](std::string_view ts) {
      Check(ts.size() >= 3 && ts.front() == '<' && ts.back() == '>');
      return std::string(32, 'a');
    };
  }
  o.use_capa = (flags & 16) == 0;
  if (flags & 32) o.auth = AuthMethod::kSaslPlain;
  o.use_pipelining = (flags & 64) == 0;
  o.max_listing_octets = 1 << 16;
  ClientSession c(o);
  int issued = 0, done = 0;
  bool closed = false;
  auto drain = [&] {
    while (auto e = c.NextEvent()) {
      Check(!closed);
      volatile std::size_t sink = e->data.size() + e->response.text.size();
      (void)sink;
      switch (e->kind) {
        case ClientEventKind::kReady:
          issued += c.Stat().ok();
          issued += c.List().ok();
          issued += c.Uidl().ok();
          issued += c.Retrieve(1).ok();
          issued += c.Top(2, 0).ok();
          issued += c.Delete(1).ok();
          issued += c.Last().ok();
          // Holding answers that came early, a command can already have
          // ended the session (malformed answer): then QUIT is a no-op.
          if (c.status().ok()) ++issued;
          c.Quit();
          break;
        case ClientEventKind::kStartTls:
          c.OnTlsStarted();
          break;
        case ClientEventKind::kDone:
          ++done;
          Check(done <= issued);
          break;
        case ClientEventKind::kClosed:
          closed = true;
          break;
        default:
          break;
      }
    }
    Check(c.TakeOutput().size() < 4096);
  };
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find(separator, start);
    end = end == std::string_view::npos ? input.size() : end + 1;
    const std::string copy(input.substr(start, end - start));
    c.Receive(copy);
    drain();
    start = end;
  }
  c.OnConnectionLost(absl::UnavailableError("fuzz end"));
  drain();
  Check(closed);
  Check(done == issued);
  return 0;
}
