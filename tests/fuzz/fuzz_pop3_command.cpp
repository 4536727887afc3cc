// libFuzzer target for posthorn/pop3/command.h and response.h.
//
// The whole input is one command line (and, separately, one status line).
// Invariants checked, not just "no crash":
//   - an accepted Command's views lie inside the input and hold printable
//     ASCII only; PASS is the only argument with spaces;
//   - message numbers come from digits only; APOP digests are 32 hex;
//   - a refusal's text is non-empty, one line, bounded, and never echoes
//     the input;
//   - FormatCommand of an accepted command parses back to the same verb;
//   - a parsed status line's code is a valid resp-code.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "posthorn/pop3/command.h"
#include "posthorn/pop3/response.h"

namespace {

using namespace posthorn::pop3;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

bool Printable(std::string_view s, bool spaces) {
  for (const char c : s) {
    if (c == ' ' && spaces) continue;
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  CommandLimits limits;
  if (size % 3 == 0) limits.max_user_name = 8;
  auto r = ParseCommand(line, limits);
  if (auto* c = std::get_if<Command>(&r)) {
    Check(Inside(c->argument, line) && Inside(c->argument2, line));
    Check(Printable(c->argument, c->verb == Verb::kPass));
    Check(Printable(c->argument2, false));
    Check(c->argument.size() <= limits.max_argument);
    if (c->verb == Verb::kUser || c->verb == Verb::kApop) {
      Check(!c->argument.empty() && c->argument.size() <= limits.max_user_name);
    }
    if (c->verb == Verb::kApop) Check(c->argument2.size() == 32);
    const bool needs_msg = c->verb == Verb::kRetr || c->verb == Verb::kDele ||
                           c->verb == Verb::kTop;
    if (needs_msg) Check(c->has_message);
    // Numbers are re-written from their values (saturated ones too).
    std::string a(c->argument), b(c->argument2);
    if (c->has_message) a = std::to_string(c->message);
    if (c->verb == Verb::kTop) b = std::to_string(c->top_lines);
    const std::string back = FormatCommand(c->verb, a, b);
    Check(back.size() >= 5 && back.substr(back.size() - 2) == "\r\n");
    if (c->verb != Verb::kPass) {
      auto again = ParseCommand(
          std::string_view(back).substr(0, back.size() - 2), limits);
      Check(std::holds_alternative<Command>(again));
      const Command& d = std::get<Command>(again);
      Check(d.verb == c->verb && d.message == c->message &&
            d.top_lines == c->top_lines && d.argument == a.substr(0, d.argument.size()));
    }
  } else {
    const CommandError& e = std::get<CommandError>(r);
    Check(!e.message.empty() && e.message.size() < 80);
    Check(e.message.find_first_of("\r\n") == std::string::npos);
  }
  if (auto s = ParseStatusLine(line)) {
    Check(s->code.empty() || IsResponseCode(s->code));
    std::string out;
    AppendStatusLine(s->ok(), s->code, s->text, &out);
    Check(out.find('\n') == out.size() - 1);
  }
  return 0;
}
