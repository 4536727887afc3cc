// mta::StatusFromReply and mta::ShouldNotify: the RFC 3463 status of an
// SMTP reply, and whether a sender may be sent a notice at all.
//
//   status-code = class "." subject "." detail      (RFC 3463 section 2)
//   class       = "2" / "4" / "5"
//   subject     = 1*3digit
//   detail      = 1*3digit
#include <string>
#include <string_view>

#include "posthorn/mta/dsn.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::mta {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool ShouldNotify(const store::QueueEnvelope& envelope) {
  // The null sender: never bounce a bounce (RFC 5321 4.5.5).
  return !envelope.sender.empty() && envelope.sender != "<>";
}

std::string StatusFromReply(std::string_view reply) {
  // "550 5.1.1 text", "550-5.1.1 text" (multi-line), "550 text", "550".
  if (reply.size() < 3 || !IsDigit(reply[0]) || !IsDigit(reply[1]) ||
      !IsDigit(reply[2])) {
    return {};
  }
  const char cls = reply[0];
  if (cls != '2' && cls != '4' && cls != '5') return {};
  if (reply.size() > 4 && (reply[3] == ' ' || reply[3] == '-')) {
    std::string_view rest = reply.substr(4);
    const std::size_t end = rest.find_first_of(" \t\r\n");
    const std::string_view word = rest.substr(0, end);
    // The enhanced code must agree with the reply's class (RFC 2034 sec 3).
    if (smtp::IsEnhancedStatusCode(word) && word[0] == cls) {
      return std::string(word);
    }
  }
  return std::string(1, cls) + ".0.0";
}

}  // namespace posthorn::mta
