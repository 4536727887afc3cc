// Internal: proleptic Gregorian calendar arithmetic on day numbers (days
// since 1970-01-01), used to turn dates into instants and back without
// going through a time zone database.

#ifndef POSTHORN_SRC_MESSAGE_FIELDS_CALENDAR_H_
#define POSTHORN_SRC_MESSAGE_FIELDS_CALENDAR_H_

#include <cstdint>
#include <string>

namespace posthorn::message::fields {

inline bool IsLeapYear(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

inline int DaysInMonth(std::int64_t y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeapYear(y)) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (m 1..12, d 1..31); the era arithmetic
// works for any year.
inline std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;                      // [0, 399]
  const std::int64_t mp = (m + 9) % 12;                        // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;         // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct CivilDate {
  std::int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

inline CivilDate CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

// 0 = Sunday .. 6 = Saturday.
inline int WeekdayFromDays(std::int64_t z) {
  return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

// Appends the decimal digits of `v` (not negative), zero-padded to at least
// `width` digits: the numbers of dates and of generated Message-IDs.
inline void AppendDigits(std::int64_t v, int width, std::string* out) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) buf[n++] = '0';
  while (n > 0) out->push_back(buf[--n]);
}

}  // namespace posthorn::message::fields

#endif  // POSTHORN_SRC_MESSAGE_FIELDS_CALENDAR_H_
