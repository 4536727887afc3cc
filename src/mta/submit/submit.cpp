// mta::Submission: sendmail's command-line submission into the queue.
//
// The envelope needs the recipients (with -t: from the header) and the
// added Message-ID needs the queue id, which only BeginEnqueue gives. So
// the header section is held (at most kMaxHeaderBytes) while a first
// HeaderFixup only looks for its end and its recipients; then the message
// is enqueued, the Received: field written, and the held bytes go through a
// second HeaderFixup (Bcc removed, Date / Message-ID / From added) into the
// queue. The body then streams straight through.
#include "posthorn/mta/submit.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "mta/submit/ascii_case.h"
#include "mta/submit/stdin_lines.h"
#include "posthorn/message/address.h"
#include "posthorn/message/date.h"
#include "posthorn/mta/header_fixup.h"

namespace posthorn::mta {
namespace {

// The header section held before the message can be enqueued.
constexpr std::size_t kMaxHeaderBytes = 1024 * 1024;

using detail::SameIgnoringCase;

// RFC 5322 atext, plus "." between atoms: a bare local name ("alice").
bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
  char prev = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || u >= 0x80 ||
                    kSpecials.find(c) != std::string_view::npos;
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

}  // namespace

// Quoted and angle forms go through the mailbox parser; a bare address
// must parse as an addr-spec with no defect at all.
std::optional<std::string> ParseSubmissionRecipient(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return std::nullopt;
  }
  std::string address(text);
  if (text.find_first_of("<(\"") != std::string_view::npos) {
    message::Defects defects;
    auto box = message::ParseMailbox(text, &defects);
    if (!box.has_value() || box->local_part.empty()) return std::nullopt;
    address = box->Address();
  }
  if (address.find('@') == std::string::npos) {
    if (!IsDotAtom(address)) return std::nullopt;
    return address;  // stays local
  }
  message::Defects defects;
  auto spec = message::ParseAddrSpec(address, &defects);
  if (!spec.has_value() || spec->local_part.empty() || spec->domain.empty() ||
      !defects.empty()) {
    return std::nullopt;
  }
  return spec->Address();
}

class Submission::Impl {
 public:
  Impl(SubmitOptions options, store::Queue* queue)
      : o_(std::move(options)),
        queue_(queue),
        lines_(o_.ignore_dots),
        scan_(ScanOptions()) {
    if (o_.hostname.empty()) o_.hostname = "localhost";
    status_ = BuildEnvelope();
    if (status_.ok() && !o_.extract_recipients && envelope_.recipients.empty()) {
      status_ = absl::InvalidArgumentError("no recipient addresses");
    }
  }

  ~Impl() {
    if (writer_ != nullptr && !committed_) writer_->Abort();
  }

  absl::Status Feed(std::string_view bytes) {
    if (!status_.ok() || lines_.ended()) return status_;
    std::string data;
    lines_.Convert(bytes, &data);
    return Fail(Route(data));
  }

  absl::StatusOr<std::string> Finish() {
    if (!status_.ok()) return status_;
    if (committed_) return envelope_.id;
    std::string data;
    lines_.Finish(&data);
    if (absl::Status s = Route(data); !s.ok()) return Fail(s);
    if (writer_ == nullptr) {
      (void)scan_.Finish();
      if (absl::Status s = StartQueue(); !s.ok()) return Fail(s);
    }
    if (absl::Status s = Write(fixup_->Finish()); !s.ok()) return Fail(s);
    auto id = writer_->Commit();
    if (!id.ok()) return Fail(id.status());
    committed_ = true;
    envelope_.id = *id;
    envelope_.size = written_;
    return *id;
  }

  const store::QueueEnvelope& envelope() const { return envelope_; }

 private:
  HeaderFixupOptions ScanOptions() const {
    HeaderFixupOptions s;
    s.hostname = o_.hostname;
    s.add_missing = false;
    s.collect_recipients = o_.extract_recipients;
    return s;
  }

  // The first error sticks; nothing is queued after it.
  absl::Status Fail(absl::Status s) {
    if (!s.ok() && status_.ok()) {
      status_ = s;
      if (writer_ != nullptr) writer_->Abort();
      writer_.reset();
    }
    return status_;
  }

  absl::Status BuildEnvelope() {
    std::string sender = o_.sender;
    if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>') {
      sender = sender.substr(1, sender.size() - 2);  // "<>" -> ""
    } else if (sender.empty()) {
      sender = o_.login_name.empty() ? "nobody" : o_.login_name;
    }
    if (!sender.empty()) {
      auto address = ParseSubmissionRecipient(sender);
      if (!address.has_value()) {
        return absl::InvalidArgumentError(
            fmt::format("invalid sender address: {}", sender));
      }
      sender = *address;
      if (sender.find('@') == std::string::npos) {
        sender += "@" + o_.hostname;
      }
    }
    envelope_.sender = sender;
    envelope_.arrival = o_.now;
    envelope_.envid = o_.envid;
    envelope_.ret_headers_only = o_.ret_headers_only;
    envelope_.received_from =
        (o_.login_name.empty() ? std::string("unknown") : o_.login_name) +
        "@localhost";
    for (const auto& arg : o_.recipients) {
      if (absl::Status s = AddRecipient(arg); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status AddRecipient(std::string_view text) {
    auto address = ParseSubmissionRecipient(text);
    if (!address.has_value()) {
      return absl::InvalidArgumentError(
          fmt::format("not a valid recipient address: {}", text));
    }
    for (const auto& r : envelope_.recipients) {
      if (SameIgnoringCase(r.address, *address)) return absl::OkStatus();
    }
    if (envelope_.recipients.size() >= o_.recipient_limit) {
      return absl::ResourceExhaustedError(fmt::format(
          "too many recipients (the limit is {})", o_.recipient_limit));
    }
    store::QueuedRecipient r;
    r.address = *address;
    r.notify_success = o_.notify_success;
    r.notify_failure = o_.notify_failure;
    r.notify_delay = o_.notify_delay;
    envelope_.recipients.push_back(std::move(r));
    return absl::OkStatus();
  }

  absl::Status Route(std::string_view data) {
    if (data.empty()) return absl::OkStatus();
    if (writer_ != nullptr) return Write(fixup_->Feed(data));
    (void)scan_.Feed(data);
    held_.append(data);
    if (o_.message_size_limit != 0 && held_.size() > o_.message_size_limit) {
      return TooBig();
    }
    if (scan_.header_done()) return StartQueue();
    if (held_.size() > kMaxHeaderBytes) {
      return absl::ResourceExhaustedError(fmt::format(
          "the header section is larger than {} bytes", kMaxHeaderBytes));
    }
    return absl::OkStatus();
  }

  absl::Status TooBig() const {
    return absl::ResourceExhaustedError(
        fmt::format("message larger than the size limit of {} bytes",
                    o_.message_size_limit));
  }

  // The header section is known: enqueue, then pass the held bytes on.
  absl::Status StartQueue() {
    for (const auto& address : scan_.recipients()) {
      if (absl::Status s = AddRecipient(address); !s.ok()) return s;
    }
    if (envelope_.recipients.empty()) {
      return absl::InvalidArgumentError("no recipient addresses");
    }
    auto writer = queue_->BeginEnqueue(envelope_);
    if (!writer.ok()) return writer.status();
    writer_ = std::move(*writer);

    HeaderFixupOptions f;
    f.hostname = o_.hostname;
    f.queue_id = writer_->id();
    f.sender = envelope_.sender;
    f.full_name = o_.full_name;
    f.now = o_.now;
    f.remove_bcc = o_.extract_recipients;
    fixup_.emplace(std::move(f));

    // As sendmail writes it for a local submission.
    std::string login = o_.login_name.empty() ? "unknown" : o_.login_name;
    for (char& c : login) {
      if (c == '\r' || c == '\n' || c == '(' || c == ')') c = '_';
    }
    const std::string received = fmt::format(
        "Received: (from {}@localhost)\r\n\tby {} (posthorn) id {}; {}\r\n",
        login, o_.hostname, writer_->id(),
        message::FormatDate(o_.now, absl::UTCTimeZone()));
    if (absl::Status s = Write(received); !s.ok()) return s;
    std::string held = std::move(held_);
    held_.clear();
    return Write(fixup_->Feed(held));
  }

  absl::Status Write(std::string_view bytes) {
    if (bytes.empty()) return absl::OkStatus();
    written_ += bytes.size();
    if (o_.message_size_limit != 0 && written_ > o_.message_size_limit) {
      return TooBig();
    }
    return writer_->Write(bytes);
  }

  SubmitOptions o_;
  store::Queue* queue_;
  detail::StdinLines lines_;
  HeaderFixup scan_;                  // finds the end and the recipients
  std::optional<HeaderFixup> fixup_;  // what goes into the queue
  std::string held_;                  // the header section, until enqueued
  std::unique_ptr<store::QueueWriter> writer_;
  store::QueueEnvelope envelope_;
  std::uint64_t written_ = 0;
  absl::Status status_;
  bool committed_ = false;
};

Submission::Submission(SubmitOptions options, store::Queue* queue)
    : impl_(std::make_unique<Impl>(std::move(options), queue)) {}

Submission::~Submission() = default;

absl::Status Submission::Feed(std::string_view bytes) {
  return impl_->Feed(bytes);
}

absl::StatusOr<std::string> Submission::Finish() { return impl_->Finish(); }

const store::QueueEnvelope& Submission::envelope() const {
  return impl_->envelope();
}

}  // namespace posthorn::mta
