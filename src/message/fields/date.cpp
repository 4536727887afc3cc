// RFC 5322 section 3.3 / 4.3 date-time parsing and formatting (see date.h).

#include "posthorn/message/date.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "message/fields/calendar.h"
#include "message/fields/lexer.h"

namespace posthorn::message {
namespace {

using fields::Is;
using fields::kAlpha;
using fields::kDigit;
using fields::Lexer;

constexpr std::string_view kDayNames[7] = {"sunday",   "monday", "tuesday",
                                           "wednesday", "thursday",
                                           "friday",   "saturday"};
constexpr std::string_view kMonthNames[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

// The first three letters, lower-cased, packed into one integer.
constexpr std::uint32_t Key3(std::string_view w) {
  std::uint32_t k = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    k = (k << 8) | static_cast<unsigned char>(fields::AsciiLower(w[i]));
  }
  return k;
}

// A name matches by its first three letters, or written out in full
// ("Friday, 21 Nov 1997" in RFC 5322 A.6.3's spirit).
bool MatchesName(std::string_view word, std::string_view full) {
  if (word.size() != 3 && word.size() != full.size()) return false;
  return fields::EqualsIgnoreCase(word, full.substr(0, word.size()));
}

int DayOfWeek(std::string_view word) {
  if (word.size() == 3) {
    switch (Key3(word)) {
      case Key3("sun"): return 0;
      case Key3("mon"): return 1;
      case Key3("tue"): return 2;
      case Key3("wed"): return 3;
      case Key3("thu"): return 4;
      case Key3("fri"): return 5;
      case Key3("sat"): return 6;
      default: return -1;
    }
  }
  for (int i = 0; i < 7; ++i) {
    if (MatchesName(word, kDayNames[i])) return i;
  }
  // "Tues", "Thur", "Thurs" and friends.
  if (word.size() == 4 || word.size() == 5) {
    for (int i = 0; i < 7; ++i) {
      if (fields::EqualsIgnoreCase(word, kDayNames[i].substr(0, word.size())))
        return i;
    }
  }
  return -1;
}

int MonthNumber(std::string_view word) {
  // The RFC form, three letters, without a loop of string compares.
  if (word.size() == 3) {
    switch (Key3(word)) {
      case Key3("jan"): return 1;
      case Key3("feb"): return 2;
      case Key3("mar"): return 3;
      case Key3("apr"): return 4;
      case Key3("may"): return 5;
      case Key3("jun"): return 6;
      case Key3("jul"): return 7;
      case Key3("aug"): return 8;
      case Key3("sep"): return 9;
      case Key3("oct"): return 10;
      case Key3("nov"): return 11;
      case Key3("dec"): return 12;
      default: return 0;
    }
  }
  for (int i = 0; i < 12; ++i) {
    if (MatchesName(word, kMonthNames[i])) return i + 1;
  }
  // "Sept".
  if (word.size() == 4 && fields::EqualsIgnoreCase(word, "sept")) return 9;
  return 0;
}

// obs-zone = "UT" / "GMT" /                ; Universal Time
//            "EST" / "EDT" / "CST" / "CDT" / "MST" / "MDT" /
//            "PST" / "PDT" /               ; North American UT offsets
//            %d65-73 / %d75-90 / %d97-105 / %d107-122  ; military
// Returns false for an unknown name.
bool ObsZoneOffset(std::string_view name, int* seconds) {
  struct Zone {
    std::string_view name;
    int hours;
  };
  static constexpr Zone kZones[] = {
      {"UT", 0},   {"GMT", 0},  {"UTC", 0},  {"Z", 0},    {"EST", -5},
      {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
      {"PST", -8}, {"PDT", -7},
  };
  for (const Zone& z : kZones) {
    if (fields::EqualsIgnoreCase(name, z.name)) {
      *seconds = z.hours * 3600;
      return true;
    }
  }
  // Military zones: their sign was defined backwards in RFC 822, so RFC
  // 5322 4.3 says to take them as -0000 (unknown).
  if (name.size() == 1 && Is(name[0], kAlpha) &&
      fields::AsciiLower(name[0]) != 'j') {
    *seconds = 0;
    return true;
  }
  return false;
}

class DateParser {
 public:
  DateParser(std::string_view value, Defects* defects, std::size_t base)
      : lx_(value, defects, base) {}

  std::optional<absl::Time> Parse(int* zone_offset);

 private:
  // Reads up to 9 digits; returns the count read (0: not a number).
  int Number(std::int64_t* value) {
    const std::size_t start = lx_.pos();
    std::int64_t v = 0;
    while (Is(lx_.Peek(), kDigit)) {
      if (lx_.pos() - start >= 9) return 10;  // too long for any field
      v = v * 10 + (lx_.Peek() - '0');
      lx_.Advance();
    }
    *value = v;
    return static_cast<int>(lx_.pos() - start);
  }
  std::string_view Word() {
    const std::size_t start = lx_.pos();
    while (Is(lx_.Peek(), kAlpha)) lx_.Advance();
    return lx_.input().substr(start, lx_.pos() - start);
  }
  void Obsolete(std::size_t at) {
    if (!obsolete_recorded_) {
      lx_.Record(DefectKind::kObsoleteDateSyntax, at);
      obsolete_recorded_ = true;
    }
  }
  std::optional<absl::Time> Invalid(std::size_t at) {
    lx_.Record(DefectKind::kInvalidDate, at);
    return std::nullopt;
  }
  // time-of-day = hour ":" minute [ ":" second ]
  bool TimeOfDay(int* h, int* m, int* s);
  // The year as written, with the RFC 5322 4.3 rules for short years.
  bool Year(std::int64_t* year);
  // zone = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
  bool Zone(int* offset);

  Lexer lx_;
  bool obsolete_recorded_ = false;
};

bool DateParser::TimeOfDay(int* h, int* m, int* s) {
  std::int64_t v = 0;
  const std::size_t start = lx_.pos();
  int n = Number(&v);
  if (n < 1 || n > 2 || v > 23) return false;
  if (n == 1) Obsolete(start);
  *h = static_cast<int>(v);
  // obs-hour / obs-minute / obs-second allow CFWS around the colons.
  if (lx_.SkipCfws()) Obsolete(lx_.pos());
  if (lx_.Peek() != ':') return false;
  lx_.Advance();
  if (lx_.SkipCfws()) Obsolete(lx_.pos());
  n = Number(&v);
  if (n != 2 || v > 59) return false;
  *m = static_cast<int>(v);
  const std::size_t after_minute = lx_.pos();
  lx_.SkipCfws();
  if (lx_.Peek() != ':') {
    Obsolete(after_minute);  // no seconds
    *s = 0;
    return true;
  }
  if (lx_.pos() != after_minute) Obsolete(after_minute);
  lx_.Advance();
  if (lx_.SkipCfws()) Obsolete(lx_.pos());
  n = Number(&v);
  if (n != 2 || v > 60) return false;
  *s = v == 60 ? 59 : static_cast<int>(v);  // a leap second
  return true;
}

// year     = (FWS 4*DIGIT FWS) / obs-year
// obs-year = [CFWS] 2*DIGIT [CFWS]
bool DateParser::Year(std::int64_t* year) {
  const std::size_t start = lx_.pos();
  std::int64_t v = 0;
  const int n = Number(&v);
  if (n < 2 || n > 4) return false;
  if (n == 2) {
    v += v < 50 ? 2000 : 1900;
    Obsolete(start);
  } else if (n == 3) {
    v += 1900;
    Obsolete(start);
  }
  *year = v;
  return true;
}

bool DateParser::Zone(int* offset) {
  const char c = lx_.Peek();
  if (c == '+' || c == '-') {
    lx_.Advance();
    std::int64_t v = 0;
    const std::size_t start = lx_.pos();
    int n = Number(&v);
    std::int64_t hours = 0;
    std::int64_t minutes = 0;
    if (n == 4) {
      hours = v / 100;
      minutes = v % 100;
    } else if (n == 2 && lx_.Peek() == ':') {
      // "+02:00" (ISO 8601 habit).
      Obsolete(start);
      hours = v;
      lx_.Advance();
      if (Number(&minutes) != 2) return false;
    } else {
      return false;
    }
    if (minutes > 59) return false;
    *offset = static_cast<int>((hours * 3600 + minutes * 60) *
                               (c == '-' ? -1 : 1));
    return true;
  }
  const std::size_t start = lx_.pos();
  const std::string_view name = Word();
  if (name.empty()) return false;
  Obsolete(start);
  if (!ObsZoneOffset(name, offset)) {
    // "MET", "CEST", ...: a name RFC 5322 does not define. Its offset is
    // unknown: taken as UTC.
    *offset = 0;
  }
  return true;
}

// date-time   = [ day-of-week "," ] date time [CFWS]
// date        = day month year
// time        = time-of-day zone
// Also accepted (recorded obsolete): "Nov 21 1997 ...", the asctime form
// "Fri Nov 21 09:55:06 1997", "21-Nov-1997".
std::optional<absl::Time> DateParser::Parse(int* zone_offset) {
  lx_.SkipCfws();
  if (lx_.AtEnd()) return Invalid(0);
  std::int64_t day = 0;
  int month = 0;
  std::int64_t year = 0;
  bool have_year = false;

  // [ day-of-week "," ]
  std::size_t at = lx_.pos();
  std::string_view word = Word();
  if (!word.empty()) {
    if (DayOfWeek(word) >= 0) {
      if (word.size() != 3) Obsolete(at);
      lx_.SkipCfws();
      if (lx_.Peek() == ',') {
        lx_.Advance();
      } else {
        Obsolete(lx_.pos());
      }
      lx_.SkipCfws();
      at = lx_.pos();
      word = Word();
    }
  }
  if (!word.empty()) {
    // month first: "Nov 21 1997" or asctime.
    month = MonthNumber(word);
    if (month == 0) return Invalid(at);
    Obsolete(at);
    lx_.SkipCfws();
    at = lx_.pos();
    const int n = Number(&day);
    if (n < 1 || n > 2) return Invalid(at);
    lx_.SkipCfws();
    if (lx_.Peek() == ',') {
      lx_.Advance();
      lx_.SkipCfws();
    }
    // A year here unless a time follows (asctime puts the year last).
    const std::size_t mark = lx_.pos();
    std::int64_t probe = 0;
    Number(&probe);
    lx_.SkipCfws();
    const bool colon = lx_.Peek() == ':';
    lx_.set_pos(mark);
    if (!colon) {
      if (!Year(&year)) return Invalid(mark);
      have_year = true;
    }
  } else {
    // day = ([FWS] 1*2DIGIT FWS) / obs-day
    at = lx_.pos();
    const int n = Number(&day);
    if (n < 1 || n > 2) return Invalid(at);
    const bool dash = lx_.Peek() == '-';
    if (dash) {
      Obsolete(lx_.pos());
      lx_.Advance();
    }
    lx_.SkipCfws();
    at = lx_.pos();
    month = MonthNumber(Word());
    if (month == 0) return Invalid(at);
    if (dash && lx_.Peek() == '-') lx_.Advance();
    lx_.SkipCfws();
    at = lx_.pos();
    if (!Year(&year)) return Invalid(at);
    have_year = true;
  }
  lx_.SkipCfws();
  at = lx_.pos();
  int h = 0;
  int mi = 0;
  int s = 0;
  if (!TimeOfDay(&h, &mi, &s)) return Invalid(at);
  lx_.SkipCfws();
  int offset = 0;
  if (!have_year) {
    at = lx_.pos();
    // asctime: an optional zone, then the year.
    if (!Is(lx_.Peek(), kDigit)) {
      if (!Zone(&offset)) return Invalid(at);
      lx_.SkipCfws();
      at = lx_.pos();
    }
    if (!Year(&year)) return Invalid(at);
    lx_.SkipCfws();
  } else if (lx_.AtEnd()) {
    Obsolete(lx_.pos());  // no zone: taken as UTC
  } else {
    at = lx_.pos();
    if (!Zone(&offset)) return Invalid(at);
    lx_.SkipCfws();
    // "-0500 EST": a zone name after the numeric zone, no parentheses.
    if (Is(lx_.Peek(), kAlpha)) {
      Obsolete(lx_.pos());
      Word();
      lx_.SkipCfws();
    }
  }
  if (!lx_.AtEnd()) {
    // Text after a complete date-time: recorded, ignored.
    lx_.Record(DefectKind::kInvalidDate, lx_.pos());
  }
  if (month < 1 || day < 1 || day > fields::DaysInMonth(year, month)) {
    return Invalid(0);
  }
  const std::int64_t days =
      fields::DaysFromCivil(year, month, static_cast<int>(day));
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset;
  if (zone_offset != nullptr) *zone_offset = offset;
  return absl::FromUnixSeconds(secs);
}

}  // namespace

std::optional<absl::Time> ParseDate(std::string_view value,
                                    int* zone_offset_seconds,
                                    Defects* defects,
                                    std::size_t base_offset) {
  DateParser p(value, defects, base_offset);
  return p.Parse(zone_offset_seconds);
}

std::optional<absl::Time> ParseDate(std::string_view value, Defects* defects,
                                    std::size_t base_offset) {
  return ParseDate(value, nullptr, defects, base_offset);
}

std::string FormatDate(absl::Time t, absl::TimeZone zone) {
  static constexpr std::string_view kDays[7] = {"Sun", "Mon", "Tue", "Wed",
                                                "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[12] = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun",
      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Years 0000-9999 only (year = 4*DIGIT, and older dates are nonsense).
  static const absl::Time kMin = absl::FromUnixSeconds(-62167219200 + 86400);
  static const absl::Time kMax = absl::FromUnixSeconds(253402214400);
  if (t < kMin) t = kMin;
  if (t > kMax) t = kMax;
  // The zone written has whole minutes: truncate the offset (historical
  // offsets such as +00:17:30) and show the instant in that offset, so
  // that the text still names exactly `t`.
  const int offset = zone.At(t).offset / 60 * 60;
  const std::int64_t local =
      absl::ToUnixSeconds(t) + offset;  // rounds toward the past
  std::int64_t days = local / 86400;
  std::int64_t secs = local % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const fields::CivilDate d = fields::CivilFromDays(days);
  std::string out;
  out.reserve(31);
  out.append(kDays[fields::WeekdayFromDays(days)]);
  out.append(", ");
  fields::AppendDigits(d.day, 1, &out);
  out.push_back(' ');
  out.append(kMonths[d.month - 1]);
  out.push_back(' ');
  fields::AppendDigits(d.year, 4, &out);
  out.push_back(' ');
  fields::AppendDigits(secs / 3600, 2, &out);
  out.push_back(':');
  fields::AppendDigits(secs / 60 % 60, 2, &out);
  out.push_back(':');
  fields::AppendDigits(secs % 60, 2, &out);
  out.push_back(' ');
  out.push_back(offset < 0 ? '-' : '+');
  const int abs_minutes = (offset < 0 ? -offset : offset) / 60;
  fields::AppendDigits(abs_minutes / 60, 2, &out);
  fields::AppendDigits(abs_minutes % 60, 2, &out);
  return out;
}

}  // namespace posthorn::message
