// bench/bench_smtp.cpp — the SMTP core's hot paths.
//
// BM_ParseCommand   ParseCommand over a realistic mix of command lines
//                   (items/s = command lines per second).
// BM_ServerSession  a whole in-memory server session per iteration: greeting,
//                   EHLO, MAIL, 10 RCPT (pipelined), DATA, a 4 KiB body,
//                   QUIT; every event answered "accept" (items/s =
//                   sessions per second; bytes/s = client bytes).
// The driver reuses its output buffer (TakeOutput(std::string*)), as the
// net layer does.

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "posthorn/smtp/command.h"
#include "posthorn/smtp/server_session.h"

namespace {

using namespace posthorn::smtp;

const std::vector<std::string>& CommandMix() {
  static const std::vector<std::string> mix = {
      "EHLO client.example.org",
      "MAIL FROM:<alice.sender@example.org> SIZE=4096 BODY=8BITMIME",
      "RCPT TO:<bob@example.net>",
      "RCPT TO:<carol.recipient@mail.example.com> NOTIFY=SUCCESS,FAILURE",
      "RCPT TO:<\"quoted local\"@example.com>",
      "RCPT TO:<dave@[192.0.2.10]>",
      "DATA",
      "RSET",
      "NOOP",
      "QUIT",
      "MAIL FROM:<> RET=HDRS ENVID=QQ314159",
      "AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=",
      "XYZZY unknown",
  };
  return mix;
}

void BM_ParseCommand(benchmark::State& state) {
  const auto& mix = CommandMix();
  std::size_t bytes = 0;
  for (const auto& line : mix) bytes += line.size();
  for (auto _ : state) {
    for (const auto& line : mix) {
      auto parsed = ParseCommand(line);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(mix.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_ParseCommand);

struct SessionScript {
  std::vector<std::string> flights;
  std::size_t bytes = 0;
};

SessionScript MakeScript() {
  SessionScript s;
  s.flights.push_back("EHLO client.example.org\r\n");
  std::string group = "MAIL FROM:<alice@example.org> SIZE=4200\r\n";
  for (int i = 0; i < 10; ++i) {
    group += "RCPT TO:<user" + std::to_string(i) + "@example.net>\r\n";
  }
  group += "DATA\r\n";
  s.flights.push_back(group);
  std::string body =
      "From: alice@example.org\r\nTo: bob@example.net\r\n"
      "Subject: benchmark\r\n\r\n";
  while (body.size() < 4096) {
    body += "The quick brown fox jumps over the lazy dog. 0123456789 abcdef\r\n";
  }
  body += ".\r\nQUIT\r\n";
  s.flights.push_back(body);
  for (const auto& f : s.flights) s.bytes += f.size();
  return s;
}

void BM_ServerSession(benchmark::State& state) {
  const SessionScript script = MakeScript();
  ServerOptions options;
  options.hostname = "mx.example.org";
  std::string out;
  out.reserve(4096);
  std::size_t body_bytes = 0;
  for (auto _ : state) {
    ServerSession session(options);
    session.Start();
    session.TakeOutput(&out);
    for (const std::string& flight : script.flights) {
      std::string_view rest = flight;
      while (!rest.empty()) {
        rest.remove_prefix(session.Receive(rest));
        while (auto e = session.NextEvent()) {
          if (e->kind == EventKind::kMessageData) body_bytes += e->data.size();
          if (e->needs_answer) session.Answer(Verdict::Accept());
        }
      }
      session.TakeOutput(&out);
      benchmark::DoNotOptimize(out.data());
    }
    if (!session.closed()) state.SkipWithError("session did not end");
  }
  benchmark::DoNotOptimize(body_bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(script.bytes));
}
BENCHMARK(BM_ServerSession);

}  // namespace

BENCHMARK_MAIN();
