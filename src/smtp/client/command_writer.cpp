// MAIL / RCPT / AUTH lines for the client. See command_writer.h.

#include "smtp/client/command_writer.h"

#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "posthorn/message/base64.h"
#include "posthorn/smtp/command.h"

namespace posthorn::smtp::client_internal {
namespace {

bool HasControl(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Builds "<prefix><address>[suffix]" and asks the command parser whether it
// is a valid line: the grammar lives in one place (src/smtp/syntax).
absl::Status CheckPath(std::string_view prefix, std::string_view address,
                       std::string_view suffix, bool smtputf8,
                       std::string_view what) {
  if (address.size() + 2 > kMaxPathOctets) {
    return absl::InvalidArgumentError(
        fmt::format("{} address longer than {} octets", what,
                    kMaxPathOctets - 2));
  }
  if (HasControl(address)) {
    return absl::InvalidArgumentError(
        fmt::format("{} address holds a control character", what));
  }
  std::string line;
  line.reserve(prefix.size() + address.size() + suffix.size() + 2);
  line.append(prefix).append("<").append(address).append(">").append(suffix);
  CommandOptions options;
  options.smtputf8 = smtputf8;
  auto parsed = ParseCommand(line, options);
  if (const auto* error = std::get_if<CommandError>(&parsed)) {
    return absl::InvalidArgumentError(fmt::format(
        "{} address <{}> refused: {}", what, address, error->message));
  }
  return absl::OkStatus();
}

void AppendOrcpt(std::string_view orcpt, std::string* out) {
  // orcpt-parameter = "ORCPT=" addr-type ";" xtext
  out->append(" ORCPT=");
  const std::size_t semicolon = orcpt.find(';');
  if (semicolon == std::string_view::npos) {
    out->append("rfc822;").append(EncodeXtext(orcpt));
  } else {
    out->append(EncodeXtext(orcpt.substr(0, semicolon)))
        .append(";")
        .append(EncodeXtext(orcpt.substr(semicolon + 1)));
  }
}

}  // namespace

absl::Status ValidateEnvelope(const ClientEnvelope& envelope) {
  if (envelope.recipients.empty()) {
    return absl::InvalidArgumentError("envelope without a recipient");
  }
  if (envelope.body == BodyType::kBinaryMime) {
    return absl::InvalidArgumentError(
        "BODY=BINARYMIME needs BDAT, which the client does not send");
  }
  if (envelope.envid.size() > kMaxEnvidOctets) {
    return absl::InvalidArgumentError("ENVID longer than 100 characters");
  }
  if (absl::Status s =
          CheckPath("MAIL FROM:", envelope.mail_from,
                    envelope.smtputf8 ? " SMTPUTF8" : "", envelope.smtputf8,
                    "sender");
      !s.ok()) {
    return s;
  }
  for (const ClientRecipient& rcpt : envelope.recipients) {
    if (rcpt.address.empty()) {
      return absl::InvalidArgumentError("empty recipient address");
    }
    if (absl::Status s = CheckPath("RCPT TO:", rcpt.address, "",
                                   envelope.smtputf8, "recipient");
        !s.ok()) {
      return s;
    }
    if (rcpt.orcpt.size() > kMaxOrcptOctets) {
      return absl::InvalidArgumentError("ORCPT longer than 500 characters");
    }
  }
  return absl::OkStatus();
}

void AppendMailFrom(const ClientEnvelope& envelope,
                    const ServerCapabilities& caps, std::string* out) {
  out->append("MAIL FROM:<").append(envelope.mail_from).append(">");
  // RFC 1870 6: size-value = 1*20DIGIT
  if (caps.size.has_value() && envelope.size.has_value()) {
    out->append(fmt::format(" SIZE={}", *envelope.size));
  }
  // RFC 6152 2: body-value = "7BIT" / "8BITMIME"
  if (caps.eightbitmime) {
    if (envelope.body == BodyType::k7Bit) out->append(" BODY=7BIT");
    if (envelope.body == BodyType::k8BitMime) out->append(" BODY=8BITMIME");
  }
  if (caps.smtputf8 && envelope.smtputf8) out->append(" SMTPUTF8");
  if (caps.dsn) {
    // RFC 3461 4.3: ret-value = "FULL" / "HDRS"
    if (envelope.ret == DsnRet::kFull) out->append(" RET=FULL");
    if (envelope.ret == DsnRet::kHeaders) out->append(" RET=HDRS");
    // RFC 3461 4.4: envid-parameter = "ENVID=" xtext
    if (!envelope.envid.empty()) {
      out->append(" ENVID=").append(EncodeXtext(envelope.envid));
    }
  }
  out->append("\r\n");
}

void AppendRcptTo(const ClientRecipient& recipient,
                  const ServerCapabilities& caps, std::string* out) {
  out->append("RCPT TO:<").append(recipient.address).append(">");
  if (caps.dsn) {
    // RFC 3461 4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
    //               notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
    const DsnNotify& n = recipient.notify;
    if (n.present) {
      if (n.never) {
        out->append(" NOTIFY=NEVER");
      } else {
        std::string_view sep = " NOTIFY=";
        const bool any = n.success || n.failure || n.delay;
        if (n.success) out->append(sep).append("SUCCESS"), sep = ",";
        if (n.failure) out->append(sep).append("FAILURE"), sep = ",";
        if (n.delay) out->append(sep).append("DELAY"), sep = ",";
        // "present" with nothing chosen: the RFC 3461 default.
        if (!any) out->append(" NOTIFY=FAILURE");
      }
    }
    if (!recipient.orcpt.empty()) AppendOrcpt(recipient.orcpt, out);
  }
  out->append("\r\n");
}

absl::Status CheckPlainCredentials(const ClientCredentials& credentials) {
  const auto has_nul = [](std::string_view s) {
    return s.find('\0') != std::string_view::npos;
  };
  if (has_nul(credentials.authzid) || has_nul(credentials.username) ||
      has_nul(credentials.password)) {
    return absl::InvalidArgumentError("AUTH credentials hold a NUL byte");
  }
  return absl::OkStatus();
}

std::string PlainInitialResponse(const ClientCredentials& credentials) {
  std::string message;
  message.reserve(credentials.authzid.size() + credentials.username.size() +
                  credentials.password.size() + 2);
  message.append(credentials.authzid).push_back('\0');
  message.append(credentials.username).push_back('\0');
  message.append(credentials.password);
  return message::Base64Encode(message, 0);
}

std::string Base64Line(std::string_view text) {
  // RFC 4954 4: a continuation line is the bare base64 (empty for "").
  return message::Base64Encode(text, 0);
}

}  // namespace posthorn::smtp::client_internal
