// MtaHandler's answers to AUTH (RFC 4954), ETRN (RFC 1985) and EXPN
// (RFC 5321 3.5.2); see posthorn/mta/smtpd.h.

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "mta/receive/receive_internal.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::mta {
namespace {

using receive_detail::ClientName;
using receive_detail::LogText;

// RFC 1035 host name limits, for the ETRN node name.
constexpr std::size_t kMaxDomain = 255;
constexpr std::size_t kMaxLabel = 63;
// One EXPN reply line (the reply line limit is 512 octets with the code).
constexpr std::size_t kMaxExpnLine = 400;
// EXPN lines sent; a longer expansion ends with a note (smtp's
// kMaxReplyLines is the hard limit of one reply).
constexpr std::size_t kMaxExpnLines = 50;

// Letters, digits and hyphens in dot-separated labels, or an address
// literal "[192.0.2.1]" / "[IPv6:::1]".
bool IsNodeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDomain) return false;
  if (name.front() == '[') {
    if (name.size() < 3 || name.back() != ']') return false;
    for (const char c : name.substr(1, name.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                      (c >= 'A' && c <= 'Z') || c == '.' || c == ':';
      if (!ok) return false;
    }
    return true;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0) return false;  // empty label
      label = 0;
      continue;
    }
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z') || c == '-';
    if (!ok || ++label > kMaxLabel) return false;
  }
  return true;  // "example.org." (a trailing dot) included
}

// Printable ASCII only (the reply must stay one line per entry).
std::string ReplyLine(std::string_view text) {
  std::string out(text.substr(0, kMaxExpnLine));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

}  // namespace

smtp::Verdict MtaHandler::OnAuth(const net::Peer& peer,
                                 std::string_view mechanism,
                                 std::string_view authzid,
                                 std::string_view username,
                                 std::string_view password) {
  const Impl& impl = *impl_;
  if (impl.options.auth_db == nullptr) {
    return smtp::Verdict::Reject(
        smtp::MakeReply(502, "5.5.1", "Error: authentication not enabled"));
  }
  const std::string client = ClientName(peer);
  auto failed = [&](std::string_view why) {
    // Never the password; the user name is client text, escaped.
    impl.Log(LogLevel::kWarning,
             fmt::format("{}: SASL {} authentication failed: user=<{}>{}",
                         client, LogText(mechanism), LogText(username), why));
    return smtp::Verdict::Reject(
        smtp::MakeReply(535, "5.7.8", "Authentication credentials invalid"));
  };
  // Acting as another user (RFC 4616 authzid) is not supported.
  if (!authzid.empty() && authzid != username) {
    return failed(", authorization identity refused");
  }
  absl::StatusOr<bool> ok =
      impl.options.auth_db->CheckPassword(username, password);
  if (!ok.ok()) {
    // A malformed user name is a wrong credential, not a broken database.
    if (ok.status().code() == absl::StatusCode::kInvalidArgument ||
        ok.status().code() == absl::StatusCode::kNotFound) {
      return failed("");
    }
    impl.Log(LogLevel::kError,
             fmt::format("{}: SASL {}: auth_db: {}", client,
                         LogText(mechanism),
                         LogText(ok.status().ToString())));
    return smtp::Verdict::Reject(smtp::MakeReply(
        454, "4.7.0", "Temporary authentication failure"));
  }
  if (!*ok) return failed("");
  impl.Log(LogLevel::kInfo,
           fmt::format("{}: sasl_method={}, sasl_username={}", client,
                       LogText(mechanism), LogText(username)));
  return smtp::Verdict::Accept(
      smtp::MakeReply(235, "2.7.0", "Authentication successful"));
}

// RFC 1985: node-name = domain / "@" domain / "#" String. "@domain" (that
// domain and its subdomains in sendmail) is run as the domain itself;
// queue names ("#") are not supported.
smtp::Verdict MtaHandler::OnEtrn(const net::Peer& peer,
                                 std::string_view argument) {
  const Impl& impl = *impl_;
  if (argument.starts_with('#')) {
    return smtp::Verdict::Reject(smtp::MakeReply(
        459, "4.3.0",
        fmt::format("Node {} not allowed: queue names are not supported",
                    ReplyLine(argument))));
  }
  std::string_view domain = argument;
  if (domain.starts_with('@')) domain.remove_prefix(1);
  if (!IsNodeName(domain)) {
    return smtp::Verdict::Reject(
        smtp::MakeReply(501, "5.5.4", "Syntax: ETRN domain"));
  }
  const std::string node(domain);
  if (!impl.options.on_etrn) {
    return smtp::Verdict::Reject(smtp::MakeReply(
        458, "4.3.0",
        fmt::format("Unable to queue messages for node {}", node)));
  }
  impl.Log(LogLevel::kInfo,
           fmt::format("{}: ETRN {}", ClientName(peer), LogText(node)));
  impl.options.on_etrn(node);
  return smtp::Verdict::Accept(smtp::MakeReply(
      250, "2.0.0", fmt::format("Queuing for node {} started", node)));
}

// Only asked when the server enables EXPN; even then only trusted clients
// learn an alias's members (they are addresses worth harvesting).
smtp::Verdict MtaHandler::OnExpn(const net::Peer& peer,
                                 std::string_view argument) {
  const Impl& impl = *impl_;
  if (!impl.options.expand) {
    return smtp::Verdict::Reject(
        smtp::MakeReply(502, "5.5.1", "Command not implemented"));
  }
  if (!impl.TrustedPeer(peer)) {
    impl.Log(LogLevel::kInfo,
             fmt::format("NOQUEUE: reject: EXPN from {}: 550 5.7.1 <{}>",
                         ClientName(peer), LogText(argument)));
    return smtp::Verdict::Reject(
        smtp::MakeReply(550, "5.7.1", "EXPN not permitted"));
  }
  absl::StatusOr<std::vector<std::string>> lines =
      impl.options.expand(argument);
  const std::string name = ReplyLine(argument);
  if (!lines.ok()) {
    if (lines.status().code() == absl::StatusCode::kNotFound ||
        lines.status().code() == absl::StatusCode::kInvalidArgument) {
      return smtp::Verdict::Reject(smtp::MakeReply(
          550, "5.1.1", fmt::format("<{}>: User unknown", name)));
    }
    impl.Log(LogLevel::kWarning,
             fmt::format("EXPN {}: {}", LogText(argument),
                         LogText(lines.status().ToString())));
    return smtp::Verdict::Reject(smtp::MakeReply(
        451, "4.3.0", fmt::format("<{}>: Temporary lookup failure", name)));
  }
  if (lines->empty()) {
    return smtp::Verdict::Reject(smtp::MakeReply(
        550, "5.1.1", fmt::format("<{}>: User unknown", name)));
  }
  std::string text;
  for (std::size_t i = 0; i < lines->size() && i < kMaxExpnLines; ++i) {
    if (i > 0) text += '\n';
    text += ReplyLine((*lines)[i]);
  }
  if (lines->size() > kMaxExpnLines) {
    text += fmt::format("\n... and {} more", lines->size() - kMaxExpnLines);
  }
  return smtp::Verdict::Accept(smtp::MakeReply(250, "2.1.5", text));
}

}  // namespace posthorn::mta
