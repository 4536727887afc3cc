// mta::BuildDsn: the delivery status notification sent back to a sender
// (RFC 3464 multipart/report; report-type=delivery-status, RFC 6522).
//
//   multipart/report
//     1. text/plain                  for people
//     2. message/delivery-status     per-message fields, then one block of
//                                    per-recipient fields per recipient
//     3. message/rfc822              the original message, or
//        text/rfc822-headers         its header section only (RET=HDRS or
//                                    larger than max_returned_bytes)
//
// The original's lines are copied as they are: message/rfc822 allows 8bit
// (RFC 2046 5.2.1, RFC 6533), and the parts say so when 8-bit bytes occur.
#include "posthorn/mta/dsn.h"

#include <fmt/format.h>

#include <array>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "posthorn/message/date.h"
#include "posthorn/message/message_id.h"

namespace posthorn::mta {
namespace {

// The header section returned when the message itself is not: longer ones
// are cut at a line end (a notice is not the place for megabytes of header).
constexpr std::size_t kMaxReturnedHeaderBytes = 256 * 1024;
// One reply in the report; a longer one is cut (lines stay below 998).
constexpr std::size_t kMaxDiagnosticBytes = 900;
// Attempts at a boundary that does not occur in the returned content.
constexpr int kBoundaryAttempts = 100;
constexpr std::size_t kReadChunk = 16 * 1024;

// Text from the envelope or a reply written into one header line.
std::string OneLine(std::string_view text,
                    std::size_t max = std::string::npos) {
  std::string out;
  for (char c : text.substr(0, max)) {
    out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
  }
  return out;
}

// RFC 3461 4: xtext "+XX" hex escapes, decoded for the report fields.
std::string DecodeXtext(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
        hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// End of the header section of `data` (after its empty line), or npos.
std::size_t HeaderEnd(std::string_view data) {
  if (data.starts_with("\r\n")) return 2;
  if (data.starts_with("\n")) return 1;
  const std::size_t crlf = data.find("\r\n\r\n");
  const std::size_t lf = data.find("\n\n");
  const std::size_t a = crlf == std::string_view::npos ? crlf : crlf + 4;
  const std::size_t b = lf == std::string_view::npos ? lf : lf + 2;
  return a < b ? a : b;  // npos is the largest value
}

struct Returned {
  std::string bytes;
  bool headers_only = false;
};

// Reads what goes into part 3: the whole message when allowed and small
// enough, else the header section (without its empty line).
absl::StatusOr<Returned> ReadReturned(store::MessageReader& original,
                                      bool headers_only,
                                      std::uint64_t max_bytes) {
  Returned r;
  r.headers_only = headers_only;
  std::array<char, kReadChunk> buffer;
  for (;;) {
    if (r.headers_only) {
      if (HeaderEnd(r.bytes) != std::string::npos ||
          r.bytes.size() > kMaxReturnedHeaderBytes) {
        break;
      }
    }
    auto n = original.Read(std::span<char>(buffer));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    r.bytes.append(buffer.data(), *n);
    if (!r.headers_only && r.bytes.size() > max_bytes) r.headers_only = true;
  }
  if (r.headers_only) {
    std::size_t end = HeaderEnd(r.bytes);
    if (end == std::string::npos) {
      // No empty line within reach: whole lines up to the limit.
      end = r.bytes.size();
      if (end > kMaxReturnedHeaderBytes) {
        end = r.bytes.rfind('\n', kMaxReturnedHeaderBytes);
        end = end == std::string::npos ? 0 : end + 1;
      }
      r.bytes.resize(end);
    } else {
      // Drop the empty line: the part holds the fields only.
      r.bytes.resize(end);
      if (r.bytes.ends_with("\r\n")) {
        r.bytes.resize(r.bytes.size() - 2);
      } else if (r.bytes.ends_with("\n")) {
        r.bytes.resize(r.bytes.size() - 1);
      }
    }
  }
  return r;
}

bool HasEightBit(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::string Date(absl::Time t) {
  return message::FormatDate(t, absl::UTCTimeZone());
}

const char* ActionName(DsnAction a) {
  switch (a) {
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kDelivered:
      return "delivered";
  }
  return "failed";
}

std::string StatusFor(const DsnRecipient& r) {
  std::string status = StatusFromReply(r.reply);
  if (!status.empty()) return status;
  switch (r.action) {
    case DsnAction::kDelivered:
      return "2.0.0";
    case DsnAction::kDelayed:
      return "4.0.0";
    case DsnAction::kFailed:
      break;
  }
  return "5.0.0";
}

// What the person reads first.
std::string HumanText(const store::QueueEnvelope& envelope,
                      const std::vector<DsnRecipient>& about,
                      const DsnOptions& o, DsnAction main) {
  std::string t =
      fmt::format("This is the mail system at host {}.\r\n\r\n", o.hostname);
  switch (main) {
    case DsnAction::kFailed:
      t += "I'm sorry to have to inform you that your message could not\r\n"
           "be delivered to one or more recipients. It's attached below.\r\n";
      break;
    case DsnAction::kDelayed:
      t += "Your message could not be delivered yet. The mail system will\r\n"
           "keep trying";
      if (o.retry_until != absl::InfinitePast() &&
          o.retry_until != absl::InfiniteFuture()) {
        t += " until " + Date(o.retry_until);
      }
      t += ".\r\nYou do not need to send it again.\r\n";
      break;
    case DsnAction::kDelivered:
      t += "Your message was successfully delivered to the destinations\r\n"
           "listed below.\r\n";
      break;
  }
  t += "\r\n";
  for (const auto& r : about) {
    const auto& rcpt = envelope.recipients[r.index];
    t += fmt::format("<{}>: {}", OneLine(rcpt.address),
                     r.action == DsnAction::kDelivered ? "delivered"
                     : r.action == DsnAction::kDelayed ? "delayed"
                                                       : "failed");
    if (!r.reply.empty()) {
      t += fmt::format(": {}", OneLine(r.reply, kMaxDiagnosticBytes));
    }
    if (!r.remote_mta.empty()) {
      t += fmt::format(" (remote host {})", OneLine(r.remote_mta));
    }
    t += "\r\n";
  }
  return t;
}

// RFC 3464 2.2 and 2.3.
std::string DeliveryStatus(const store::QueueEnvelope& envelope,
                           const std::vector<DsnRecipient>& about,
                           const DsnOptions& o) {
  std::string s = fmt::format("Reporting-MTA: dns; {}\r\n", o.hostname);
  if (!envelope.envid.empty()) {
    s += "Original-Envelope-Id: " + OneLine(DecodeXtext(envelope.envid)) +
         "\r\n";
  }
  if (envelope.arrival != absl::InfinitePast() &&
      envelope.arrival != absl::InfiniteFuture()) {
    s += "Arrival-Date: " + Date(envelope.arrival) + "\r\n";
  }
  for (const auto& r : about) {
    const auto& rcpt = envelope.recipients[r.index];
    s += "\r\n";
    if (!rcpt.orcpt.empty()) {
      // Stored as given in ORCPT=: "rfc822;bob@example.net" (xtext).
      std::string orcpt = OneLine(DecodeXtext(rcpt.orcpt));
      const std::size_t semi = orcpt.find(';');
      if (semi == std::string::npos) {
        orcpt = "rfc822; " + orcpt;
      } else {
        std::string_view address = std::string_view(orcpt).substr(semi + 1);
        while (address.starts_with(' ')) address.remove_prefix(1);
        orcpt = orcpt.substr(0, semi) + "; " + std::string(address);
      }
      s += "Original-Recipient: " + orcpt + "\r\n";
    }
    s += "Final-Recipient: rfc822; " + OneLine(rcpt.address) + "\r\n";
    s += fmt::format("Action: {}\r\n", ActionName(r.action));
    s += "Status: " + StatusFor(r) + "\r\n";
    if (!r.remote_mta.empty()) {
      s += "Remote-MTA: dns; " + OneLine(r.remote_mta) + "\r\n";
    }
    if (!r.reply.empty()) {
      s += "Diagnostic-Code: smtp; " + OneLine(r.reply, kMaxDiagnosticBytes) +
           "\r\n";
    }
    if (r.action == DsnAction::kDelayed &&
        o.retry_until != absl::InfinitePast() &&
        o.retry_until != absl::InfiniteFuture()) {
      s += "Will-Retry-Until: " + Date(o.retry_until) + "\r\n";
    }
  }
  return s;
}

}  // namespace

absl::StatusOr<std::string> BuildDsn(const store::QueueEnvelope& envelope,
                                     const std::vector<DsnRecipient>& about,
                                     store::MessageReader& original,
                                     const DsnOptions& options) {
  if (about.empty()) {
    return absl::InvalidArgumentError("a DSN needs at least one recipient");
  }
  for (const auto& r : about) {
    if (r.index >= envelope.recipients.size()) {
      return absl::InvalidArgumentError(
          fmt::format("DSN recipient index {} out of range", r.index));
    }
  }
  DsnOptions o = options;
  o.hostname = OneLine(o.hostname);
  if (o.hostname.empty()) o.hostname = "localhost";

  // One notice may mix actions; the subject follows the most serious.
  DsnAction main = DsnAction::kDelivered;
  for (const auto& r : about) {
    if (r.action == DsnAction::kFailed) main = DsnAction::kFailed;
    if (r.action == DsnAction::kDelayed && main == DsnAction::kDelivered) {
      main = DsnAction::kDelayed;
    }
  }
  const char* subject =
      main == DsnAction::kFailed    ? "Undelivered Mail Returned to Sender"
      : main == DsnAction::kDelayed ? "Delayed Mail (still being retried)"
                                    : "Successful Mail Delivery Report";

  auto returned =
      ReadReturned(original, envelope.ret_headers_only, o.max_returned_bytes);
  if (!returned.ok()) return returned.status();
  const std::string human = HumanText(envelope, about, o, main);
  const std::string status = DeliveryStatus(envelope, about, o);

  // A boundary that no part contains (RFC 2046 5.1.1).
  std::random_device random;
  std::string boundary;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kBoundaryAttempts) {
      return absl::InternalError("no unique MIME boundary found");
    }
    boundary = fmt::format("=_posthorn_{:08x}{:08x}.{}", random(), random(),
                           absl::ToUnixSeconds(o.now));
    const std::string dash = "--" + boundary;
    if (returned->bytes.find(dash) == std::string::npos &&
        human.find(dash) == std::string::npos &&
        status.find(dash) == std::string::npos) {
      break;
    }
  }
  const bool eight_bit =
      HasEightBit(returned->bytes) || HasEightBit(human) || HasEightBit(status);

  std::string out;
  out.reserve(returned->bytes.size() + human.size() + status.size() + 2048);
  out += "From: Mail Delivery System <MAILER-DAEMON@" + o.hostname + ">\r\n";
  out += "To: <" + OneLine(envelope.sender) + ">\r\n";
  out += fmt::format("Subject: {}\r\n", subject);
  out += "Date: " + Date(o.now) + "\r\n";
  out += "Message-ID: " +
         message::MakeMessageId(
             o.now, (static_cast<std::uint64_t>(random()) << 32) ^ random(),
             o.hostname) +
         "\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  out += "\tboundary=\"" + boundary + "\"\r\n";
  if (eight_bit) out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  out += "This is a MIME-encapsulated message.\r\n";

  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Description: Notification\r\n";
  out += fmt::format("Content-Type: text/plain; charset={}\r\n",
                     HasEightBit(human) ? "utf-8" : "us-ascii");
  out += "\r\n";
  out += human;

  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Description: Delivery report\r\n";
  out += "Content-Type: message/delivery-status\r\n";
  out += "\r\n";
  out += status;

  out += "\r\n--" + boundary + "\r\n";
  if (returned->headers_only) {
    out += "Content-Description: Undelivered Message Headers\r\n";
    out += "Content-Type: text/rfc822-headers\r\n";
  } else {
    out += main == DsnAction::kDelivered
               ? "Content-Description: Delivered Message\r\n"
               : "Content-Description: Undelivered Message\r\n";
    out += "Content-Type: message/rfc822\r\n";
  }
  if (HasEightBit(returned->bytes)) {
    out += "Content-Transfer-Encoding: 8bit\r\n";
  }
  out += "\r\n";
  out += returned->bytes;
  // The CRLF before the delimiter belongs to the delimiter.
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace posthorn::mta
