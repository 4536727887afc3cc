// libFuzzer target for posthorn/smtp/command.h.
//
// The whole input is one command line; its size picks the options (SMTPUTF8
// for RCPT, lenient HELO). Invariants checked, not just "no crash":
//   - a refusal has a code in 500..555, a 5.x.y enhanced code and a
//     non-empty one-line message of bounded size;
//   - every view of an accepted Command lies inside the input;
//   - an accepted line holds no NUL or control byte, and 8-bit bytes only
//     in an SMTPUTF8 path;
//   - a path's mailbox is local_part "@" domain, within the RFC 5321
//     4.5.3.1 limits, and its domain passes IsValidDomain /
//     IsValidAddressLiteral;
//   - xtext values decode; DecodeXtext(EncodeXtext(x)) == x.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "posthorn/smtp/command.h"
#include "posthorn/smtp/reply.h"

namespace {

using posthorn::smtp::Command;
using posthorn::smtp::CommandError;
using posthorn::smtp::CommandOptions;
using posthorn::smtp::Path;
using posthorn::smtp::Verb;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

void CheckPath(const Path& p, std::string_view line, bool utf8_allowed) {
  Check(Inside(p.local_part, line) && Inside(p.domain, line) &&
        Inside(p.mailbox, line));
  if (p.null) {
    Check(p.mailbox.empty() && p.local_part.empty() && p.domain.empty());
    return;
  }
  if (p.postmaster) {
    Check(p.domain.empty() && p.mailbox == p.local_part);
    Check(p.local_part.size() == 10);
    return;
  }
  Check(!p.local_part.empty() && !p.domain.empty());
  Check(p.local_part.size() <= 64 && p.domain.size() <= 255);
  Check(p.mailbox.size() == p.local_part.size() + 1 + p.domain.size());
  Check(p.mailbox.data() == p.local_part.data());
  Check(p.mailbox[p.local_part.size()] == '@');
  Check(p.domain.data() == p.mailbox.data() + p.local_part.size() + 1);
  if (p.utf8) Check(utf8_allowed);
  if (p.address_literal) {
    Check(posthorn::smtp::IsValidAddressLiteral(p.domain));
  } else if (!p.utf8) {
    Check(posthorn::smtp::IsValidDomain(p.domain));
  }
}

void CheckXtext(std::string_view value) {
  if (value.empty() || value == "<>") return;
  Check(posthorn::smtp::DecodeXtext(value).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  CommandOptions options;
  options.smtputf8 = (size & 1) != 0;
  options.lenient_helo = (size & 2) != 0;

  const auto result = posthorn::smtp::ParseCommand(line, options);
  if (const auto* e = std::get_if<CommandError>(&result)) {
    Check(e->code >= 500 && e->code <= 555);
    Check(posthorn::smtp::IsEnhancedStatusCode(e->enhanced));
    Check(e->enhanced[0] == '5');
    Check(!e->message.empty() && e->message.size() < 200);
    Check(e->message.find_first_of(std::string_view("\r\n\0", 3)) ==
          std::string::npos);
  } else {
    const Command& c = std::get<Command>(result);
    Check(!posthorn::smtp::VerbName(c.verb).empty());
    Check(Inside(c.argument, line) && Inside(c.auth_initial_response, line));
    Check(Inside(c.mail.envid, line) && Inside(c.mail.auth, line) &&
          Inside(c.rcpt.orcpt, line));
    bool eight_bit = false;
    for (char ch : line) {
      const auto b = static_cast<unsigned char>(ch);
      Check(b >= 0x20 && b != 0x7F);
      eight_bit = eight_bit || b >= 0x80;
    }
    if (c.verb == Verb::kMail) {
      CheckPath(c.path, line, c.mail.smtputf8);
      Check(!c.path.postmaster);
      CheckXtext(c.mail.envid);
      Check(c.mail.envid.size() <= 100);
      CheckXtext(c.mail.auth);
    } else if (c.verb == Verb::kRcpt) {
      CheckPath(c.path, line, options.smtputf8);
      Check(!c.path.null);
      if (!c.rcpt.orcpt.empty()) {
        const std::size_t semi = c.rcpt.orcpt.find(';');
        Check(semi != std::string_view::npos);
        CheckXtext(c.rcpt.orcpt.substr(semi + 1));
      }
      const auto& n = c.rcpt.notify;
      if (n.never) Check(!n.success && !n.failure && !n.delay);
    } else {
      Check(!eight_bit);
      Check(c.path.mailbox.empty());
    }
    if ((c.verb == Verb::kHelo || c.verb == Verb::kEhlo) &&
        !options.lenient_helo) {
      Check(posthorn::smtp::IsValidDomain(c.argument));
    }
    if (c.verb == Verb::kBdat) {
      Check(c.bdat_size <= (std::uint64_t{1} << 63));
    }
  }

  // xtext round trip on the raw input (bounded so big inputs stay fast).
  const std::string_view sample = line.substr(0, 256);
  const auto decoded =
      posthorn::smtp::DecodeXtext(posthorn::smtp::EncodeXtext(sample));
  Check(decoded.has_value() && *decoded == sample);
  return 0;
}
