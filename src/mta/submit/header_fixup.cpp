// mta::HeaderFixup: a streaming filter over the header section of a local
// submission. Notes Date, Message-ID, From, Received, Bcc and the address
// fields, drops Bcc for sendmail -t, and adds the missing Date, Message-ID
// and From just before the empty line that ends the header section.
//
// How the stream is cut: a header field is its first line plus every
// following line that starts with SP or HTAB (RFC 5322 2.2.3), so a field is
// complete only when the first byte of the next line is known. The filter
// holds the current field (field_) and the unfinished line (pending_),
// bounded by kMaxFieldBytes; a longer field is passed through as it arrives
// (overflow_) until a line starts with something other than WSP.
#include "posthorn/mta/header_fixup.h"

#include <fmt/format.h>

#include <random>
#include <utility>

#include "mta/submit/ascii_case.h"
#include "posthorn/message/address.h"
#include "posthorn/message/date.h"
#include "posthorn/message/message_id.h"

namespace posthorn::mta {
namespace {

// One header field with its continuation lines; longer ones are passed on
// without being held or inspected.
constexpr std::size_t kMaxFieldBytes = 64 * 1024;
// Fields whose address lists are parsed (To, Cc, Bcc beyond this are
// passed on; their names are still checked).
constexpr std::size_t kMaxInspectedFields = 1000;
// Addresses collected from To/Cc/Bcc (the submission's recipient_limit is
// far lower; this only bounds memory on hostile input).
constexpr std::size_t kMaxCollected = 10'000;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

using detail::SameIgnoringCase;

// The field name of a header line ("Subject" of "Subject : x"), or "" when
// the line has no colon or the name holds a space or control character.
std::string_view FieldName(std::string_view field) {
  const std::size_t colon = field.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && IsWsp(name.back())) name.remove_suffix(1);
  for (char c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return {};
  }
  return name;
}

// Text we write into a field: no CR, LF or NUL can end the line early
// (the options come from the command line).
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

// The From: value for an envelope sender: "Name <a@b>" or "<a@b>".
std::string FromValue(const HeaderFixupOptions& o, const std::string& host) {
  std::string address = OneLine(o.sender);
  if (address.empty()) {
    address = "MAILER-DAEMON@" + host;  // the null sender
  } else if (address.find('@') == std::string::npos) {
    address += "@" + host;
  }
  message::Mailbox box;
  if (auto parsed = message::ParseAddrSpec(address)) {
    box = *parsed;
  } else {
    const std::size_t at = address.rfind('@');
    box.local_part = address.substr(0, at);
    box.domain = address.substr(at + 1);
  }
  const std::string name = OneLine(o.full_name);
  if (name.find_first_not_of(" \t") == std::string::npos) {
    return "<" + box.Address() + ">";
  }
  box.display_name = name;
  return message::FormatMailbox(box);
}

}  // namespace

HeaderFixup::HeaderFixup(HeaderFixupOptions options)
    : options_(std::move(options)) {
  options_.hostname = OneLine(options_.hostname);
  if (options_.hostname.empty()) options_.hostname = "localhost";
  options_.queue_id = OneLine(options_.queue_id);
}

std::size_t HeaderFixup::received_count() const { return received_; }
bool HeaderFixup::header_done() const { return header_done_; }
const std::vector<std::string>& HeaderFixup::recipients() const {
  return recipients_;
}

namespace {

// What the filter needs to know about one field; shared by the normal and
// the overflow path so that names are always checked.
struct FieldKind {
  bool date = false, message_id = false, from = false, received = false;
  bool bcc = false, address_list = false;
};

FieldKind Classify(std::string_view name) {
  FieldKind k;
  k.date = SameIgnoringCase(name, "Date");
  k.message_id = SameIgnoringCase(name, "Message-ID");
  k.from = SameIgnoringCase(name, "From");
  k.received = SameIgnoringCase(name, "Received");
  k.bcc = SameIgnoringCase(name, "Bcc");
  k.address_list =
      k.bcc || SameIgnoringCase(name, "To") || SameIgnoringCase(name, "Cc");
  return k;
}

void AddRecipient(const std::string& address, std::vector<std::string>* list) {
  if (list->size() >= kMaxCollected) return;
  for (const auto& have : *list) {
    if (SameIgnoringCase(have, address)) return;
  }
  list->push_back(address);
}

// The fields that were not seen, each ending in CRLF.
std::string MissingFields(const HeaderFixupOptions& o, bool date,
                          bool message_id, bool from) {
  std::string out;
  if (!o.add_missing) return out;
  if (!date) {
    out += "Date: " + message::FormatDate(o.now, absl::UTCTimeZone()) + "\r\n";
  }
  if (!message_id) {
    if (o.queue_id.empty()) {
      std::random_device random;
      const std::uint64_t r =
          (static_cast<std::uint64_t>(random()) << 32) ^ random();
      out += "Message-ID: " + message::MakeMessageId(o.now, r, o.hostname) +
             "\r\n";
    } else {
      out += fmt::format(
          "Message-ID: <{}.{}@{}>\r\n",
          absl::FormatTime("%Y%m%d%H%M%S", o.now, absl::UTCTimeZone()),
          o.queue_id, o.hostname);
    }
  }
  if (!from) out += "From: " + FromValue(o, o.hostname) + "\r\n";
  return out;
}

}  // namespace

bool HeaderFixup::NoteName(std::string_view name) {
  if (name.empty()) return false;
  ++fields_;
  const FieldKind k = Classify(name);
  seen_date_ = seen_date_ || k.date;
  seen_message_id_ = seen_message_id_ || k.message_id;
  seen_from_ = seen_from_ || k.from;
  if (k.received) ++received_;
  return k.bcc && options_.remove_bcc;
}

void HeaderFixup::FinishField(std::string* out) {
  if (field_.empty()) return;
  const std::string_view name = FieldName(field_);
  const bool drop = NoteName(name);
  if (options_.collect_recipients && !name.empty() &&
      fields_ <= kMaxInspectedFields && Classify(name).address_list) {
    std::string_view value(field_);
    value.remove_prefix(field_.find(':') + 1);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
      value.remove_suffix(1);
    }
    for (const auto& box : message::ParseAddressList(value).Mailboxes()) {
      if (!box.local_part.empty()) AddRecipient(box.Address(), &recipients_);
    }
  }
  if (!drop) out->append(field_);
  field_.clear();
}

void HeaderFixup::Overflow(std::string* out, std::string_view next) {
  // A Bcc field is dropped whatever its length (its addresses are private).
  // The name is in the field's first line, which may not have arrived yet.
  constexpr std::size_t kNameWindow = 1024;
  std::string head = field_.empty() ? pending_ : field_;
  if (head.size() < kNameWindow) {
    head.append(next.substr(0, kNameWindow - head.size()));
  }
  in_bcc_ = NoteName(FieldName(head));
  if (!in_bcc_) {
    out->append(field_);
    out->append(pending_);
  }
  field_.clear();
  pending_.clear();
  overflow_ = true;
  at_line_start_ = false;
}

std::string HeaderFixup::Feed(std::string_view chunk) {
  if (header_done_) return std::string(chunk);
  std::string out;
  std::size_t i = 0;
  while (i < chunk.size() && !header_done_) {
    if (overflow_) {
      if (at_line_start_ && !IsWsp(chunk[i])) {
        overflow_ = false;  // the long field ended; inspect the next one
        in_bcc_ = false;
        continue;
      }
      const std::size_t lf = chunk.find('\n', i);
      const std::size_t end =
          lf == std::string_view::npos ? chunk.size() : lf + 1;
      if (!in_bcc_) out.append(chunk.substr(i, end - i));
      at_line_start_ = lf != std::string_view::npos;
      i = end;
      continue;
    }
    // A line that does not start with WSP ends the field before it.
    if (pending_.empty() && !IsWsp(chunk[i])) FinishField(&out);
    const std::size_t lf = chunk.find('\n', i);
    const std::size_t end =
        lf == std::string_view::npos ? chunk.size() : lf + 1;
    if (field_.size() + pending_.size() + (end - i) > kMaxFieldBytes) {
      Overflow(&out, chunk.substr(i, end - i));
      continue;
    }
    pending_.append(chunk.substr(i, end - i));
    i = end;
    if (lf == std::string_view::npos) break;
    if (pending_ == "\r\n" || pending_ == "\n") {
      // The empty line; the held field was finished at its first byte.
      out += MissingFields(options_, seen_date_, seen_message_id_, seen_from_);
      out += pending_;
      pending_.clear();
      header_done_ = true;
    } else {
      field_ += pending_;
      pending_.clear();
    }
  }
  if (header_done_ && i < chunk.size()) out.append(chunk.substr(i));
  if (!out.empty()) last_out_ = out.back();
  return out;
}

std::string HeaderFixup::Finish() {
  if (header_done_) return {};
  header_done_ = true;
  std::string out;
  if (!overflow_ && pending_ == "\r") {
    // The input ended inside an empty line: still the end of the header.
    out = MissingFields(options_, seen_date_, seen_message_id_, seen_from_);
    out += pending_;
    pending_.clear();
    return out;
  }
  if (!overflow_) {
    // An unended last line continues the held field, or the held field was
    // finished at the line's first byte: either way it joins field_.
    field_ += pending_;
    pending_.clear();
    FinishField(&out);
  }
  const std::string missing =
      MissingFields(options_, seen_date_, seen_message_id_, seen_from_);
  if (!missing.empty()) {
    // Only header lines: the fields go after the last one, on a line of
    // their own.
    const char last = out.empty() ? last_out_ : out.back();
    if (last == '\r') {
      out += '\n';
    } else if (last != '\n') {
      out += "\r\n";
    }
    out += missing;
  }
  if (!out.empty()) last_out_ = out.back();
  return out;
}

}  // namespace posthorn::mta
