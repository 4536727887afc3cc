// posthorn/mta/submit.h — sendmail's command-line submission, sans I/O.
//
// PURPOSE
//   `sendmail [-t] [-f from] [-F name] [-i|-oi] [rcpt...] < message` as cron,
//   PHP's mail() and git send-email use it. Submission turns the bytes
//   read from stdin into a queued message:
//   - LF line ends become CRLF (CRLF is kept; a bare CR stays data but is
//     never doubled); a last line without an end gets one.
//   - Without -i/-oi a line holding only "." ends the input (the rest is
//     ignored, as sendmail does); with it the dot is data.
//   - -t: recipients from To:, Cc:, Bcc: (plus any given on the command
//     line), Bcc: removed. Without -t at least one argument is needed.
//   - Missing Date:, Message-ID:, From: added (HeaderFixup), From: with
//     the -F name. A Received: field "from <user>@localhost by <host>
//     (posthorn) id <qid>; <date>" comes first, as sendmail writes it.
//   - Bare local recipients ("alice") stay local; the sender defaults to
//     the invoking user @ hostname.
//   - -V / -R / -N: the DSN fields of SubmitOptions go into the queued
//     envelope (ENVID, RET, every recipient's NOTIFY).
//
//     mta::Submission sub(options, queue);
//     while (n = read(0, ...)) if (!sub.Feed(bytes).ok()) ...;
//     auto id = sub.Finish();   // durable queue id, or the error
//
// ERRORS
//   InvalidArgument: no recipients (EX_USAGE 64), an address that is not
//   a mailbox (EX_DATAERR 65); ResourceExhausted: larger than
//   message_size_limit (EX_DATAERR); queue errors as the queue returns
//   them (EX_TEMPFAIL 75 / EX_CANTCREAT 73 in tools/sendmail). Nothing is
//   queued on any error.

#ifndef POSTHORN_MTA_SUBMIT_H_
#define POSTHORN_MTA_SUBMIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {

struct SubmitOptions {
  std::string hostname;                 // this host (required)
  std::string login_name;               // the invoking user, for Received:
  std::string sender;                   // -f; "" -> login_name@hostname;
                                        // "<>" -> the null sender
  std::string full_name;                // -F
  bool ignore_dots = false;             // -i / -oi
  bool extract_recipients = false;      // -t
  std::vector<std::string> recipients;  // command-line arguments
  std::uint64_t message_size_limit = 10240000;  // 0 = none
  std::uint64_t recipient_limit = 1000;
  absl::Time now = absl::Now();
  // DSN (RFC 3461), as sendmail's -V, -R and -N set them: the envelope's
  // ENVID and RET=HDRS, and one NOTIFY for every recipient (command line
  // and -t alike). The defaults are what NOTIFY absent means; -N never is
  // all three false.
  std::string envid;
  bool ret_headers_only = false;
  bool notify_success = false;
  bool notify_failure = true;
  bool notify_delay = true;
};

class Submission {
 public:
  // queue must outlive the submission.
  Submission(SubmitOptions options, store::Queue* queue);
  ~Submission();  // without Finish(): nothing is queued
  Submission(const Submission&) = delete;
  Submission& operator=(const Submission&) = delete;

  // Bytes as read from stdin, any split. After the ending "." line further
  // input is ignored. The first error sticks (later calls return it).
  absl::Status Feed(std::string_view bytes);
  // End of input: the message is durable in the queue; its id.
  absl::StatusOr<std::string> Finish();

  // Known after Finish(): the envelope as queued.
  const store::QueueEnvelope& envelope() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A recipient as Submission takes it from the command line or from To:,
// Cc:, Bcc: with -t: "a@b", "Name <a@b>", or a bare local name ("alice",
// stays local). The address to queue, or nullopt when the text is not one
// mailbox ("a@b@c", "a b@c", "@c", "a@"). tools/sendmail checks its
// arguments with it before anything is queued (EX_DATAERR).
std::optional<std::string> ParseSubmissionRecipient(std::string_view text);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_SUBMIT_H_
