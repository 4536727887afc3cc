// posthorn/message/message_id.h — Message-ID, In-Reply-To, References.
//
// STANDARDS
//   RFC 5322 section 3.6.4 (identification fields), 4.5.4 (obsolete).
//
//   msg-id       = [CFWS] "<" id-left "@" id-right ">" [CFWS]
//   id-left      = dot-atom-text / obs-id-left
//   id-right     = dot-atom-text / no-fold-literal / obs-id-right
//   no-fold-literal = "[" *dtext "]"
//   obs-id-left  = local-part
//   obs-id-right = domain
//   in-reply-to  = "In-Reply-To:" 1*msg-id CRLF
//   references   = "References:" 1*msg-id CRLF
//   obs-in-reply-to = "In-Reply-To:" *(phrase / msg-id) CRLF
//   obs-references  = "References:" *(phrase / msg-id) CRLF
//
// LENIENCY
//   Comments and whitespace around ids are skipped. An id written without
//   angle brackets ("abc@host") is accepted with kInvalidMessageId; so is an
//   id without "@". Phrases between ids (obsolete forms) are skipped.
//
// SECURITY
//   Returned views point into `value`, which must outlive them. When the id
//   inside the brackets contains CFWS (obsolete forms, or a fold), the
//   bracketed span is still returned as written.

#ifndef POSTHORN_MESSAGE_MESSAGE_ID_H_
#define POSTHORN_MESSAGE_MESSAGE_ID_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "posthorn/message/defect.h"

namespace posthorn::message {

// The first msg-id of `value`, "<left@right>" with its brackets (or the bare
// token when brackets are missing: a defect), as a view into `value`.
// nullopt (kInvalidMessageId) when there is none.
std::optional<std::string_view> ParseMessageId(std::string_view value,
                                               Defects* defects = nullptr,
                                               std::size_t base_offset = 0);

// Every msg-id of an In-Reply-To or References value, in order, as views
// into `value`; obsolete phrases are skipped.
std::vector<std::string_view> ParseMessageIdList(std::string_view value,
                                                 Defects* defects = nullptr,
                                                 std::size_t base_offset = 0);

// "<20261125152301.3f2a9c1b7d@host>": the UTC time of `now`, a dot, the
// random value in hex, "@", `hostname`. The caller supplies time and
// randomness (sans-I/O). An empty or invalid hostname becomes "localhost".
std::string MakeMessageId(absl::Time now, std::uint64_t random,
                          std::string_view hostname);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_MESSAGE_ID_H_
