// store/queue/envelope_format.cpp — see envelope_format.h.
//
// The parser walks the text line by line with a cursor that never reads
// past the end, checks each record's keyword and field count, and decodes
// the fields with strict helpers. It allocates at most once per field and
// reserves recipients only after checking the declared count.

#include "store/queue/envelope_format.h"

#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "store/common/checksum.h"
#include "store/queue/queue_id.h"
#include "store/queue/xtext.h"

namespace posthorn::store::queue {
namespace {

constexpr std::string_view kMagic = "posthorn-queue-envelope";

std::string ChecksumText(std::string_view bytes) {
  return fmt::format("{:016x}", Fnv1a64(bytes));
}

void AppendTime(absl::Time time, std::string& out) {
  if (time == absl::InfinitePast()) {
    out += "-inf";
  } else if (time == absl::InfiniteFuture()) {
    out += "+inf";
  } else {
    out += std::to_string(absl::ToUnixMicros(time));
  }
}

std::string_view StateName(RecipientState state) {
  switch (state) {
    case RecipientState::kPending:
      return "pending";
    case RecipientState::kDelivered:
      return "delivered";
    case RecipientState::kFailed:
      return "failed";
  }
  return "pending";
}

void AppendRecipient(const QueuedRecipient& r, std::string& out) {
  out += "rcpt ";
  out += StateName(r.state);
  out += ' ';
  out += r.notify_success ? 'S' : '-';
  out += r.notify_failure ? 'F' : '-';
  out += r.notify_delay ? 'D' : '-';
  out += r.dsn_sent ? " 1 " : " 0 ";
  AppendXtextToken(r.address, out);
  out += ' ';
  AppendXtextToken(r.orcpt, out);
  out += ' ';
  AppendXtextToken(r.remote_host, out);
  out += ' ';
  AppendXtextToken(r.last_reply, out);
  out += '\n';
}

// --- parsing ---------------------------------------------------------------

class EnvelopeParser {
 public:
  EnvelopeParser(std::string_view text, std::string_view file_name)
      : text_(text), file_name_(file_name) {}

  absl::StatusOr<QueueEnvelope> Parse();

 private:
  absl::Status Error(std::string_view reason) const {
    return absl::DataLossError(fmt::format("queue envelope {} line {}: {}",
                                           file_name_, line_number_, reason));
  }
  // Moves to the next line and splits it into space-separated fields;
  // the first must be `keyword` and exactly `fields` more must follow.
  absl::Status NextRecord(std::string_view keyword, std::size_t fields);
  absl::StatusOr<std::string> Token(std::size_t index) const;
  absl::StatusOr<std::uint64_t> Unsigned(std::size_t index,
                                         std::uint64_t max) const;
  absl::StatusOr<absl::Time> Time(std::size_t index) const;
  absl::StatusOr<bool> Flag(std::size_t index) const;
  absl::StatusOr<QueuedRecipient> Recipient() const;

  std::string_view text_;
  std::string_view file_name_;
  std::size_t offset_ = 0;      // start of the next line
  std::size_t line_start_ = 0;  // start of the current line
  int line_number_ = 0;
  std::vector<std::string_view> fields_;
};

absl::Status EnvelopeParser::NextRecord(std::string_view keyword,
                                        std::size_t fields) {
  ++line_number_;
  if (offset_ >= text_.size()) return Error("file ends early");
  std::size_t end = text_.find('\n', offset_);
  if (end == std::string_view::npos) return Error("last line is cut off");
  line_start_ = offset_;
  std::string_view line = text_.substr(offset_, end - offset_);
  offset_ = end + 1;
  fields_.clear();
  for (std::size_t start = 0;;) {
    std::size_t space = line.find(' ', start);
    fields_.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (fields_[0] != keyword) {
    return Error(fmt::format("expected \"{}\" record", keyword));
  }
  if (fields_.size() != fields + 1) {
    return Error(
        fmt::format("\"{}\" needs {} field(s) separated by single spaces",
                    keyword, fields));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EnvelopeParser::Token(std::size_t index) const {
  std::optional<std::string> value = DecodeXtextToken(fields_[index]);
  if (!value) return Error(fmt::format("field {} is not xtext", index));
  return *std::move(value);
}

// Canonical decimal only: no sign, no leading zero, not empty, <= max.
std::optional<std::uint64_t> ParseCanonicalUnsigned(std::string_view digits,
                                                    std::uint64_t max) {
  if (digits.empty() || digits.size() > 20 ||
      (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

absl::StatusOr<std::uint64_t> EnvelopeParser::Unsigned(
    std::size_t index, std::uint64_t max) const {
  std::optional<std::uint64_t> value =
      ParseCanonicalUnsigned(fields_[index], max);
  if (!value) {
    return Error(fmt::format("field {} is not a number up to {}", index, max));
  }
  return *value;
}

absl::StatusOr<absl::Time> EnvelopeParser::Time(std::size_t index) const {
  std::string_view field = fields_[index];
  if (field == "-inf") return absl::InfinitePast();
  if (field == "+inf") return absl::InfiniteFuture();
  constexpr auto kMax =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::optional<std::uint64_t> magnitude;
  bool negative = !field.empty() && field[0] == '-';
  // The magnitude of INT64_MIN is max + 1; "-0" is not canonical.
  magnitude = negative ? ParseCanonicalUnsigned(field.substr(1), kMax + 1)
                       : ParseCanonicalUnsigned(field, kMax);
  if (!magnitude || (negative && *magnitude == 0)) {
    return Error(fmt::format("field {} is not a time", index));
  }
  return absl::FromUnixMicros(negative
                                  ? static_cast<std::int64_t>(0 - *magnitude)
                                  : static_cast<std::int64_t>(*magnitude));
}

absl::StatusOr<bool> EnvelopeParser::Flag(std::size_t index) const {
  if (fields_[index] == "0") return false;
  if (fields_[index] == "1") return true;
  return Error(fmt::format("field {} must be 0 or 1", index));
}

absl::StatusOr<QueuedRecipient> EnvelopeParser::Recipient() const {
  QueuedRecipient r;
  std::string_view state = fields_[1];
  if (state == "pending") {
    r.state = RecipientState::kPending;
  } else if (state == "delivered") {
    r.state = RecipientState::kDelivered;
  } else if (state == "failed") {
    r.state = RecipientState::kFailed;
  } else {
    return Error("unknown recipient state");
  }
  std::string_view notify = fields_[2];
  if (notify.size() != 3 || (notify[0] != 'S' && notify[0] != '-') ||
      (notify[1] != 'F' && notify[1] != '-') ||
      (notify[2] != 'D' && notify[2] != '-')) {
    return Error("notify must be three of S/-, F/-, D/-");
  }
  r.notify_success = notify[0] == 'S';
  r.notify_failure = notify[1] == 'F';
  r.notify_delay = notify[2] == 'D';
  absl::StatusOr<bool> dsn_sent = Flag(3);
  if (!dsn_sent.ok()) return dsn_sent.status();
  r.dsn_sent = *dsn_sent;
  std::string* strings[] = {&r.address, &r.orcpt, &r.remote_host,
                            &r.last_reply};
  for (std::size_t i = 0; i < 4; ++i) {
    absl::StatusOr<std::string> value = Token(4 + i);
    if (!value.ok()) return value.status();
    *strings[i] = *std::move(value);
  }
  return r;
}

// Shortens the repetitive "parse a record, return on error" steps.
#define POSTHORN_QUEUE_RETURN_IF_ERROR(expr) \
  do {                                       \
    absl::Status status_ = (expr);           \
    if (!status_.ok()) return status_;       \
  } while (0)
#define POSTHORN_QUEUE_ASSIGN(lhs, expr)      \
  do {                                        \
    auto value_ = (expr);                     \
    if (!value_.ok()) return value_.status(); \
    lhs = *std::move(value_);                 \
  } while (0)

absl::StatusOr<QueueEnvelope> EnvelopeParser::Parse() {
  if (text_.size() > kMaxEnvelopeBytes) {
    return Error(
        fmt::format("file is larger than {} bytes", kMaxEnvelopeBytes));
  }
  QueueEnvelope e;
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord(kMagic, 1));
  if (fields_[1] != std::to_string(kEnvelopeVersion)) {
    return Error(fmt::format("unsupported format version \"{}\"",
                             fields_[1].substr(0, 16)));
  }
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("id", 1));
  if (!IsValidQueueId(fields_[1])) return Error("malformed queue id");
  e.id = std::string(fields_[1]);
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("sender", 1));
  POSTHORN_QUEUE_ASSIGN(e.sender, Token(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("envid", 1));
  POSTHORN_QUEUE_ASSIGN(e.envid, Token(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("ret", 1));
  if (fields_[1] == "hdrs") {
    e.ret_headers_only = true;
  } else if (fields_[1] != "full") {
    return Error("ret must be full or hdrs");
  }
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("received-from", 1));
  POSTHORN_QUEUE_ASSIGN(e.received_from, Token(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("arrival", 1));
  POSTHORN_QUEUE_ASSIGN(e.arrival, Time(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("size", 1));
  POSTHORN_QUEUE_ASSIGN(e.size,
                        Unsigned(1, std::numeric_limits<std::uint64_t>::max()));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("attempts", 1));
  std::uint64_t attempts = 0;
  POSTHORN_QUEUE_ASSIGN(attempts, Unsigned(1, std::numeric_limits<int>::max()));
  e.attempts = static_cast<int>(attempts);
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("next-attempt", 1));
  POSTHORN_QUEUE_ASSIGN(e.next_attempt, Time(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("delay-warned", 1));
  POSTHORN_QUEUE_ASSIGN(e.delay_warned, Flag(1));
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("recipients", 1));
  std::uint64_t count = 0;
  POSTHORN_QUEUE_ASSIGN(count, Unsigned(1, kMaxRecipients));
  // Each record is at least 20 bytes, so the count cannot outrun the file
  // by much; checking it first bounds the reservation.
  if (count > (text_.size() - offset_) / 20) {
    return Error("more recipients declared than the file can hold");
  }
  e.recipients.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("rcpt", 7));
    QueuedRecipient recipient;
    POSTHORN_QUEUE_ASSIGN(recipient, Recipient());
    e.recipients.push_back(std::move(recipient));
  }
  POSTHORN_QUEUE_RETURN_IF_ERROR(NextRecord("end", 1));
  if (fields_[1] != ChecksumText(text_.substr(0, line_start_))) {
    return Error("checksum mismatch (torn or altered file)");
  }
  if (offset_ != text_.size()) {
    ++line_number_;
    return Error("data after the end record");
  }
  return e;
}

#undef POSTHORN_QUEUE_ASSIGN
#undef POSTHORN_QUEUE_RETURN_IF_ERROR

}  // namespace

absl::StatusOr<std::string> SerializeEnvelope(const QueueEnvelope& e) {
  if (!IsValidQueueId(e.id)) {
    return absl::InvalidArgumentError(
        fmt::format("queue envelope: malformed queue id \"{}\"", e.id));
  }
  if (e.recipients.size() > kMaxRecipients) {
    return absl::InvalidArgumentError(
        fmt::format("queue envelope {}: {} recipients, the limit is {}", e.id,
                    e.recipients.size(), kMaxRecipients));
  }
  if (e.attempts < 0) {
    return absl::InvalidArgumentError(
        fmt::format("queue envelope {}: negative attempt count", e.id));
  }
  std::string out;
  fmt::format_to(std::back_inserter(out), "{} {}\nid {}\nsender ", kMagic,
                 kEnvelopeVersion, e.id);
  AppendXtextToken(e.sender, out);
  out += "\nenvid ";
  AppendXtextToken(e.envid, out);
  out += e.ret_headers_only ? "\nret hdrs" : "\nret full";
  out += "\nreceived-from ";
  AppendXtextToken(e.received_from, out);
  out += "\narrival ";
  AppendTime(e.arrival, out);
  fmt::format_to(std::back_inserter(out),
                 "\nsize {}\nattempts {}\nnext-attempt ", e.size, e.attempts);
  AppendTime(e.next_attempt, out);
  fmt::format_to(std::back_inserter(out), "\ndelay-warned {}\nrecipients {}\n",
                 e.delay_warned ? 1 : 0, e.recipients.size());
  for (const QueuedRecipient& r : e.recipients) {
    AppendRecipient(r, out);
    if (out.size() > kMaxEnvelopeBytes) break;  // refused just below
  }
  std::string checksum = ChecksumText(out);
  out += "end " + checksum + "\n";
  if (out.size() > kMaxEnvelopeBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "queue envelope {}: larger than {} bytes", e.id, kMaxEnvelopeBytes));
  }
  return out;
}

absl::StatusOr<QueueEnvelope> ParseEnvelope(std::string_view text,
                                            std::string_view file_name) {
  return EnvelopeParser(text, file_name).Parse();
}

}  // namespace posthorn::store::queue
