// posthorn/message/received.h — the Received trace field.
//
// STANDARDS
//   RFC 5322 section 3.6.7 (trace fields), 4.5.7 (obsolete), RFC 5321
//   section 4.4 (the clauses SMTP servers write).
//
//   received      = "Received:" [1*received-token / CFWS] ";" date-time CRLF
//   received-token = word / angle-addr / addr-spec / domain
//   obs-received  = "Received:" *received-token CRLF
//   (RFC 5321) Stamp = From-domain By-domain Opt-info [CFWS] ";"
//                      FWS date-time
//   Opt-info      = [Via] [With] [ID] [For] [Additional-Registered-Clauses]
//
// LENIENCY
//   Every "name value" pair before the last ";" is collected; the values of
//   from / by / via / with / id / for go to their members (the first one
//   wins, a repeated one goes to `other`), any other name to `other`. A
//   clause value runs up to the next known clause name, or to an unknown
//   word followed by a value; comments after it (such as "(64.66.177.193)" or
//   "(Apple Internet Mail Server 1.1)") are kept in the value as written.
//   A missing or unparsable date is recorded (kInvalidDate) and leaves
//   `date` empty.

#ifndef POSTHORN_MESSAGE_RECEIVED_H_
#define POSTHORN_MESSAGE_RECEIVED_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "posthorn/message/defect.h"

namespace posthorn::message {

struct ReceivedField {
  // Each clause's value with surrounding whitespace trimmed, comments kept:
  // from = "cybercursos.net (64.66.177.193)".
  std::string from, by, via, with, id, for_path;
  // Other clauses (name lower-cased, value as above), in order.
  std::vector<std::pair<std::string, std::string>> other;
  std::optional<absl::Time> date;
};

ReceivedField ParseReceived(std::string_view value, Defects* defects = nullptr,
                            std::size_t base_offset = 0);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_RECEIVED_H_
