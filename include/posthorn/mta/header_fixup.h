// posthorn/mta/header_fixup.h — add what a local submission left out.
//
// PURPOSE
//   A streaming filter for the header section of a message (CRLF line
//   ends). It passes bytes through unchanged, notes which of Date:,
//   Message-ID:, From: (and Sender:, To:, Cc:, Bcc:, Received:) occur, and
//   at the end of the header section (the empty line, or the end of the
//   input) inserts the missing ones before the empty line:
//     Date: Thu, 26 Nov 2026 09:00:45 +0000        (RFC 5322 3.6.1)
//     Message-ID: <20261126090045.<queue id>@<hostname>>
//     From: Full Name <sender@hostname>            (RFC 5322 3.6.2)
//   Optionally (sendmail -t) Bcc: fields are removed with their folded
//   continuation lines, and the addresses of To/Cc/Bcc are collected.
//
//     mta::HeaderFixup fixup({.hostname = "example.org", .queue_id = id,
//                             .sender = "alice@example.org"});
//     writer->Write(fixup.Feed(chunk)); ...; writer->Write(fixup.Finish());
//
// LIMITS
//   A header field (with its continuation lines) longer than 64 KiB is
//   passed on unchanged and not inspected further (a Bcc: field is still
//   removed when remove_bcc is set); the address lists of at most 1,000
//   header fields are parsed (names are always checked); at most 10,000
//   recipients are collected. Line ends may be CRLF or a bare LF (the
//   added fields end in CRLF). The body is passed through unparsed.

#ifndef POSTHORN_MTA_HEADER_FIXUP_H_
#define POSTHORN_MTA_HEADER_FIXUP_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace posthorn::mta {

struct HeaderFixupOptions {
  std::string hostname;   // Message-ID right side; domain of a bare sender
  std::string queue_id;   // part of the Message-ID
  std::string sender;     // envelope sender, for a missing From:
  std::string full_name;  // sendmail -F, the phrase of the added From:
  absl::Time now = absl::Now();
  bool add_missing = true;       // Date, Message-ID, From
  bool remove_bcc = false;       // sendmail -t
  bool collect_recipients = false;  // addresses of To, Cc, Bcc
};

class HeaderFixup {
 public:
  explicit HeaderFixup(HeaderFixupOptions options);
  // Returns what to write now (may be empty, may be longer than `chunk`).
  std::string Feed(std::string_view chunk);
  // End of the message: whatever is held back (and the added fields when
  // the message had no body and no empty line).
  std::string Finish();

  // How many Received: fields the header section held (for hop counts).
  std::size_t received_count() const;
  // True once the end of the header section was seen.
  bool header_done() const;
  // collect_recipients: the mailboxes of To/Cc/Bcc ("a@b"), in order,
  // duplicates removed; group syntax and display names understood.
  const std::vector<std::string>& recipients() const;

 private:
  bool NoteName(std::string_view name);  // true: drop the field (Bcc)
  void FinishField(std::string* out);    // the held field is complete
  // The held field (with `next`, its bytes still to come) is too long.
  void Overflow(std::string* out, std::string_view next);
  HeaderFixupOptions options_;
  std::string pending_;  // bytes of an unfinished header line
  std::string field_;    // complete lines of the field being read
  std::vector<std::string> recipients_;
  std::size_t received_ = 0;
  std::size_t fields_ = 0;
  bool seen_date_ = false, seen_message_id_ = false, seen_from_ = false;
  bool in_bcc_ = false, header_done_ = false, overflow_ = false;
  bool at_line_start_ = true;  // overflow_: the next byte starts a line
  char last_out_ = '\n';       // last byte returned (Finish adds a CRLF)
};

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_HEADER_FIXUP_H_
