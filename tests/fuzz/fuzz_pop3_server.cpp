// libFuzzer target for posthorn/pop3/server_session.h: a whole session
// driven by fuzz bytes.
//
// Input layout: byte 0 picks options (bit 0: plaintext auth allowed, bit 1:
// TLS available, bit 2: APOP timestamp, bit 3: bare LF accepted, bit 4:
// small limits (1 failed login, 5 errors), bit 5: TOP/RETR streamed one
// byte at a time, bit 6: every other login refused, bit 7: no Start());
// byte 1 is the chunk separator: the rest is cut into Receive() calls at
// every occurrence of that byte. Logins get a three-message listing
// (messages with "." lines); RETR/TOP stream the message, and every third
// fails mid-way; UPDATE alternates success and failure; kStartTls is
// followed by OnTlsStarted(). Checked: no crash (sanitizers), Receive()
// consumes at most what it is given and stops early only while waiting,
// event views are readable, UPDATE lists only valid ascending indexes,
// output stays proportional to the input, the session ends on EOF.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/pop3/server_session.h"

namespace {

using namespace posthorn::pop3;

void Check(bool ok) {
  if (!ok) std::abort();
}

const std::string kMessages[3] = {
    "Subject: a\r\n\r\n.\r\n..x\r\nend\r\n",
    "Subject: b\r\nX: y\r\n\r\nline\r\nline\r\nline\r\n",
    "no header at all",
};

struct Driver {
  ServerSession session;
  std::uint8_t flags;
  int logins = 0;
  int retrievals = 0;
  int updates = 0;
  std::string out;

  Driver(const ServerOptions& o, std::uint8_t f) : session(o), flags(f) {}

  void Drain() {
    int guard = 0;
    while (auto e = session.NextEvent()) {
      Check(++guard < 1'000'000);
      volatile std::size_t sink = e->user.size() + e->password.size() +
                                  e->authzid.size() + e->apop_timestamp.size();
      (void)sink;
      switch (e->kind) {
        case EventKind::kStartTls:
          session.TakeOutput(&out);
          session.OnTlsStarted();
          break;
        case EventKind::kLogin:
          if ((flags & 64) && (logins++ % 2 == 0)) {
            session.RejectLogin(LoginFailure{});
          } else {
            MaildropListing l;
            for (int i = 0; i < 3; ++i) {
              l.sizes.push_back(kMessages[i].size());
              l.uids.push_back("uid" + std::to_string(i));
            }
            Check(session.AcceptLogin(l).ok());
          }
          break;
        case EventKind::kRetrieve: {
          Check(e->index < 3);
          const std::string& m = kMessages[e->index];
          const std::size_t step = (flags & 32) ? 1 : 5;
          const bool fail = ++retrievals % 3 == 0;
          for (std::size_t off = 0; off < m.size(); off += step) {
            if (!session.SendMessageData(std::string_view(m).substr(off, step))) {
              break;
            }
            Check(session.output().size() < 4096);
            session.TakeOutput(&out);
            if (fail) break;
          }
          if (fail) {
            session.FailMessage(absl::DataLossError("fuzz"));
          } else {
            session.EndMessageData();
          }
          break;
        }
        case EventKind::kUpdate: {
          for (std::size_t i = 0; i < e->deleted.size(); ++i) {
            Check(e->deleted[i] < 3);
            if (i > 0) Check(e->deleted[i] > e->deleted[i - 1]);
          }
          session.AnswerUpdate(updates++ % 2 == 0
                                   ? absl::OkStatus()
                                   : absl::UnavailableError("fuzz"));
          break;
        }
        default:
          break;
      }
    }
  }

  void Feed(std::string_view chunk) {
    for (int guard = 0; !chunk.empty(); ++guard) {
      Check(guard < 1'000'000);
      const std::string copy(chunk);
      const std::size_t n = session.Receive(copy);
      Check(n <= copy.size());
      Check(n == copy.size() || session.waiting_for_answer());
      chunk.remove_prefix(n);
      Drain();
      Check(!session.waiting_for_answer());
      // Longest replies: CAPA (~150 octets) and a LIST/UIDL of three
      // messages, each for a command line of at least 2 octets.
      Check(session.output().size() <= 512 + 256 * (copy.size() + 1));
      session.TakeOutput(&out);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const char separator = static_cast<char>(data[1]);
  const std::string_view input(reinterpret_cast<const char*>(data) + 2,
                               size - 2);
  ServerOptions o;
  o.allow_plaintext_auth = (flags & 1) != 0;
  o.tls_available = (flags & 2) != 0;
  if (flags & 4) o.apop_timestamp = "<1.2@fuzz>";
  o.accept_bare_lf = (flags & 8) != 0;
  if (flags & 16) {
    o.limits.max_failed_logins = 1;
    o.limits.max_errors = 5;
  }
  Driver d(o, flags);
  if ((flags & 128) == 0) d.session.Start();
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find(separator, start);
    end = end == std::string_view::npos ? input.size() : end + 1;
    d.Feed(input.substr(start, end - start));
    start = end;
    if (d.session.closed()) break;
  }
  d.session.OnEof();
  d.Drain();
  Check(d.session.closed());
  Check(!d.session.waiting_for_answer());
  return 0;
}
