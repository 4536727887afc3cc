// libFuzzer target for posthorn/message/date.h (and received.h, which
// parses a date after its clauses).
//
// Invariants checked, not just "no crash":
//   - defect offsets lie inside [base, base + size];
//   - a parsed date's zone offset is within +-99:59, and the date formats
//     back (in the zone it was written in) to a text that parses to the
//     same instant with the same offset and no defect;
//   - a nullopt result always comes with kInvalidDate.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "posthorn/message/date.h"
#include "posthorn/message/received.h"

namespace {

using posthorn::message::Defect;
using posthorn::message::DefectKind;
using posthorn::message::Defects;

constexpr std::size_t kBase = 500;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckDefects(const Defects& d, std::size_t size) {
  for (const Defect& x : d) Check(x.offset >= kBase && x.offset <= kBase + size);
}

bool Has(const Defects& d, DefectKind k) {
  for (const Defect& x : d) {
    if (x.kind == k) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Defects d;
  int offset = 0;
  const auto t = posthorn::message::ParseDate(in, &offset, &d, kBase);
  CheckDefects(d, size);
  if (!t) {
    Check(Has(d, DefectKind::kInvalidDate));
  } else {
    // Years 1..9998 in UTC: FormatDate's range with room for any offset.
    static const absl::Time kLow = absl::FromUnixSeconds(-62135596800);
    static const absl::Time kHigh = absl::FromUnixSeconds(253370764800);
    Check(offset > -100 * 3600 && offset < 100 * 3600);
    if (*t >= kLow && *t < kHigh && offset > -24 * 3600 &&
        offset < 24 * 3600) {
      const std::string text =
          posthorn::message::FormatDate(*t, absl::FixedTimeZone(offset));
      Defects d2;
      int offset2 = 0;
      Check(posthorn::message::ParseDate(text, &offset2, &d2) == t);
      Check(offset2 == offset && d2.empty());
    }
  }

  d.clear();
  const auto r = posthorn::message::ParseReceived(in, &d, kBase);
  CheckDefects(d, size);
  if (!r.date) Check(Has(d, DefectKind::kInvalidDate));
  return 0;
}
