// libFuzzer target for posthorn/smtp/server_session.h: a whole session
// driven by fuzz bytes.
//
// Input layout: byte 0 picks options (bit 0: normalize bare newlines,
// bit 1: TLS available, bit 2: AUTH enabled over plaintext, bit 3: the
// pipelining check off, bit 4: small limits (512-octet lines, 100
// recipients, 64 KiB messages, 12288-octet SASL lines), bit 5: vrfy/expn
// events, bit 6: text line limit, bit 7: no greeting (pregreet)); byte 1
// is the chunk separator: the rest is cut into Receive() calls at every
// occurrence of that byte (the byte itself is kept as data). Events are
// answered alternately accept / reject; kStartTls is followed by
// OnTlsStarted(). Checked: no crash (sanitizers), Receive() consumes at
// most what it is given and stops early only while waiting for an answer,
// the output per step stays proportional to the input, the event queue
// drains, and the session ends cleanly on EOF.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/smtp/server_session.h"

namespace {

using namespace posthorn::smtp;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Driver {
  ServerSession session;
  bool accept = true;
  std::string out;

  explicit Driver(const ServerOptions& o) : session(o) {}

  void Drain() {
    int guard = 0;
    while (auto e = session.NextEvent()) {
      Check(++guard < 1'000'000);
      // Views must be readable.
      volatile std::size_t sink = e->data.size() + e->path.mailbox.size() +
                                  e->helo_name.size() + e->argument.size() +
                                  e->username.size() + e->password.size();
      (void)sink;
      if (e->kind == EventKind::kStartTls) {
        session.TakeOutput(&out);
        session.OnTlsStarted();
      }
      if (e->needs_answer) {
        Check(session.waiting_for_answer() || session.closed());
        session.Answer(accept ? Verdict::Accept()
                              : Verdict::Reject(MakeReply(
                                    550, "5.7.1", "fuzz says no")));
        accept = !accept;
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
      // Replies are bounded by the input: the longest reply (EHLO, HELP,
      // 421 with a hostname) is under 1 KiB and needs at least 2 bytes.
      Check(session.output().size() <= 64 + 600 * (copy.size() + 1));
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
  if (flags & 1) o.bare_newline = posthorn::wire::BareNewlinePolicy::kNormalize;
  o.tls_available = (flags & 2) != 0;
  if (flags & 4) {
    o.auth_enabled = true;
    o.allow_plaintext_auth = true;
  }
  o.reject_improper_pipelining = (flags & 8) == 0;
  if (flags & 16) {
    o.limits.max_command_line = 512;
    o.limits.max_recipients = 100;
    o.limits.max_message_size = 65536;
    o.limits.max_auth_line = 12288;
  }
  if (flags & 32) {
    o.vrfy_event = true;
    o.expn_enabled = true;
  }
  o.enforce_text_line_limit = (flags & 64) != 0;
  Check(o.limits.Validate().ok());

  Driver d(o);
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
