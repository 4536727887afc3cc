// ServerLimits::Validate() and FormatReceived(); see
// posthorn/smtp/server_session.h.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::smtp {

// RFC 5321 4.5.3.1: "the maximum total length of a command line including
// the command word and the <CRLF> is 512 octets" (4.5.3.1.4), text line 1000
// (4.5.3.1.6), "the minimum total number of recipients that MUST be
// buffered is 100" (4.5.3.1.8), message content at least 64K octets
// (4.5.3.1.7). RFC 4954 4: a server supports AUTH lines of 12288 octets.
absl::Status ServerLimits::Validate() const {
  if (max_command_line < 512) {
    return absl::InvalidArgumentError(fmt::format(
        "max_command_line {} is below the RFC 5321 minimum of 512",
        max_command_line));
  }
  if (max_text_line < 1000) {
    return absl::InvalidArgumentError(fmt::format(
        "max_text_line {} is below the RFC 5321 minimum of 1000",
        max_text_line));
  }
  if (max_recipients < 100) {
    return absl::InvalidArgumentError(fmt::format(
        "max_recipients {} is below the RFC 5321 minimum of 100",
        max_recipients));
  }
  if (max_message_size != 0 && max_message_size < 65536) {
    return absl::InvalidArgumentError(fmt::format(
        "max_message_size {} is below the RFC 5321 minimum of 65536 "
        "(0 means unlimited)",
        max_message_size));
  }
  if (soft_error_limit < 1 || hard_error_limit < 1) {
    return absl::InvalidArgumentError("error limits must be at least 1");
  }
  if (soft_error_limit > hard_error_limit) {
    return absl::InvalidArgumentError(fmt::format(
        "soft_error_limit {} is above hard_error_limit {}", soft_error_limit,
        hard_error_limit));
  }
  if (max_auth_attempts < 1) {
    return absl::InvalidArgumentError("max_auth_attempts must be at least 1");
  }
  if (max_auth_line < 12'288) {
    return absl::InvalidArgumentError(fmt::format(
        "max_auth_line {} is below the RFC 4954 minimum of 12288",
        max_auth_line));
  }
  return absl::OkStatus();
}

namespace {

// Every field of a trace header may come from the client (HELO name) or
// from configuration: control bytes, 8-bit bytes and the comment
// delimiters become '?' so the header can neither be split nor unbalanced.
void AppendSanitized(std::string_view text, bool in_comment,
                     std::string* out) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool bad = u < 0x21 || u >= 0x7f ||
                     (in_comment && (c == '(' || c == ')' || c == '\\'));
    out->push_back(bad ? '?' : c);
  }
}

}  // namespace

// RFC 5321 4.4:
//   Time-stamp-line = "Received:" FWS Stamp <CRLF>
//   Stamp = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
//   From-domain = "FROM" FWS Extended-Domain
//   Extended-Domain = Domain / ( Domain FWS "(" TCP-info ")" ) /
//                     ( address-literal FWS "(" TCP-info ")" )
//   TCP-info = address-literal / ( Domain FWS address-literal )
//   By-domain = CFWS "BY" FWS Extended-Domain
//   Opt-info = [Via] [With] [ID] [For] [Additional-Registered-Clauses]
//   With = CFWS "WITH" FWS Protocol
//   ID = CFWS "ID" FWS ( Atom / msg-id )
//   For = CFWS "FOR" FWS ( Path / Mailbox )
std::string FormatReceived(const ReceivedInfo& info) {
  std::string out;
  out.reserve(160 + info.helo_name.size() + info.client_hostname.size() +
              info.by_hostname.size() + info.for_recipient.size() +
              info.date.size());
  out += "Received: from ";
  if (info.helo_name.empty()) {
    out += "unknown";
  } else {
    AppendSanitized(info.helo_name, /*in_comment=*/true, &out);
  }
  if (!info.client_address.empty() || !info.client_hostname.empty()) {
    out += " (";
    if (info.client_hostname.empty()) {
      out += "unknown";
    } else {
      AppendSanitized(info.client_hostname, true, &out);
    }
    if (!info.client_address.empty()) {
      out += " [";
      AppendSanitized(info.client_address, true, &out);
      out += ']';
    }
    out += ')';
  }
  out += "\r\n\tby ";
  AppendSanitized(info.by_hostname.empty() ? std::string_view("localhost")
                                           : info.by_hostname,
                  false, &out);
  if (!info.protocol.empty()) {
    out += " with ";
    AppendSanitized(info.protocol, false, &out);
  }
  if (!info.id.empty()) {
    out += " id ";
    AppendSanitized(info.id, false, &out);
  }
  if (!info.for_recipient.empty()) {
    out += "\r\n\tfor <";
    AppendSanitized(info.for_recipient, false, &out);
    out += ">; ";
  } else {
    out += ";\r\n\t";
  }
  // The date is the caller's RFC 5322 date-time; spaces are part of it.
  for (const char c : info.date) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
  }
  out += "\r\n";
  return out;
}

}  // namespace posthorn::smtp
