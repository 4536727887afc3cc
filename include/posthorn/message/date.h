// posthorn/message/date.h — RFC 5322 date-time (Date, Resent-Date,
// Received).
//
// STANDARDS
//   RFC 5322 section 3.3 (date and time specification), 4.3 (obsolete date
//   and time), RFC 822 section 5.
//
//   date-time   = [ day-of-week "," ] date time [CFWS]
//   day-of-week = ([FWS] day-name) / obs-day-of-week
//   date        = day month year
//   day         = ([FWS] 1*2DIGIT FWS) / obs-day
//   year        = (FWS 4*DIGIT FWS) / obs-year
//   time        = time-of-day zone
//   time-of-day = hour ":" minute [ ":" second ]
//   zone        = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
//   obs-year    = [CFWS] 2*DIGIT [CFWS]
//   obs-zone    = "UT" / "GMT" / "EST" / "EDT" / "CST" / "CDT" / "MST" /
//                 "MDT" / "PST" / "PDT" / %d65-73 / %d75-90 / %d97-105 /
//                 %d107-122
//
// LENIENCY
//   Comments and extra whitespace may appear between any two tokens
//   ("09(comment):   55  :  06"). Two-digit years: 00-49 are 20xx, 50-99
//   are 19xx; three-digit years add 1900 (RFC 5322 4.3). Missing seconds,
//   obs-zone names and a missing zone are accepted and recorded as
//   kObsoleteDateSyntax; military single-letter zones are taken as -0000
//   (RFC 5322 4.3: their meaning was never reliable). A day-of-week that
//   does not match the date is ignored. Out-of-range values (month 13,
//   Feb 30, hour 25, zone minutes 60) and garbage are kInvalidDate and give
//   nullopt. A leap second ":60" is accepted as ":59". Also accepted, as
//   kObsoleteDateSyntax: full day and month names ("Friday", "July"), a
//   missing comma after the day name, "21-Nov-1997", month-first dates
//   ("Nov 21 1997") and the asctime form ("Tue May 19 15:22:05 1998"),
//   one-digit hours, "+02:00", zone names outside RFC 5322 ("CEST": taken
//   as UTC) and a zone name after the numeric zone ("-0500 EST"). Text
//   left after a complete date-time is recorded as kInvalidDate and
//   ignored: the date is still returned.
//
// SECURITY
//   Reads only inside `value`; no allocation.

#ifndef POSTHORN_MESSAGE_DATE_H_
#define POSTHORN_MESSAGE_DATE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "posthorn/message/defect.h"

namespace posthorn::message {

// Parses a date-time; the result is the UTC instant. nullopt (and
// kInvalidDate) when it is not a valid date. `base_offset` is the offset of
// `value` in the top-level buffer.
std::optional<absl::Time> ParseDate(std::string_view value,
                                    Defects* defects = nullptr,
                                    std::size_t base_offset = 0);

// Same, also returning the zone offset written in the field, in seconds
// east of UTC (0 for "-0000" and military zones).
std::optional<absl::Time> ParseDate(std::string_view value,
                                    int* zone_offset_seconds,
                                    Defects* defects,
                                    std::size_t base_offset = 0);

// "Tue, 1 Jul 2003 10:52:37 +0200": `t` shown in `zone` (RFC 5322 3.3).
std::string FormatDate(absl::Time t, absl::TimeZone zone);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_DATE_H_
