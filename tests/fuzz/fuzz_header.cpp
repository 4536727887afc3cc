// libFuzzer target for posthorn/message/header.h.
//
// The whole input is the message; its size picks the limits (one input in
// three runs with tiny limits, so the kResourceExhausted paths are fuzzed
// too). Invariants checked, not just "no crash":
//   - a failed parse is kResourceExhausted and nothing else;
//   - every field's name and raw_value lie inside the input, at the offsets
//     the field states, and fields come in increasing offset order;
//   - names are valid field names; a value starts after its name;
//   - body_offset <= size, after the last field; defect offsets <= size;
//   - Unfolded is never longer than raw_value, holds no CR or LF, and both
//     overloads agree;
//   - Find(name) is the first field with that name, FindAll lists every one
//     in order, and Count agrees.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/message/header.h"

namespace {

using posthorn::message::Defects;
using posthorn::message::HeaderField;
using posthorn::message::HeaderLimits;
using posthorn::message::HeaderSection;
using posthorn::message::IsValidFieldName;
using posthorn::message::ParseHeaderSection;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Lookup checks against a plain scan; bounded so big sections stay fast.
void CheckLookups(const HeaderSection& section) {
  const auto fields = section.fields();
  const std::size_t n = fields.size() < 64 ? fields.size() : 64;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view name = fields[i].name;
    std::vector<const HeaderField*> expected;
    for (const HeaderField& f : fields) {
      if (f.NameIs(name)) expected.push_back(&f);
    }
    Check(!expected.empty());
    Check(section.Find(name) == expected.front());
    Check(section.FindAll(name) == expected);
    Check(section.Count(name) == expected.size());
    const HeaderField* first = section.Find(name);
    Check(first <= &fields[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  HeaderLimits limits;
  if (size % 3 == 0) {
    limits.max_fields = 8;
    limits.max_field_bytes = 64;
    limits.max_section_bytes = 256;
  }
  constexpr std::size_t kBase = 1000;
  Defects defects;
  auto result = ParseHeaderSection(input, &defects, limits, kBase);
  if (!result.ok()) {
    Check(result.status().code() == absl::StatusCode::kResourceExhausted);
    return 0;
  }
  const HeaderSection& section = *result;
  Check(section.size() <= limits.max_fields);

  const char* const begin = input.data();
  const char* const end = begin + size;
  std::size_t previous_end = kBase;  // in the same frame as the offsets
  std::string scratch;
  for (const HeaderField& f : section.fields()) {
    Check(f.name.data() >= begin && f.name.data() + f.name.size() <= end);
    Check(f.raw_value.data() >= begin &&
          f.raw_value.data() + f.raw_value.size() <= end);
    Check(f.offset == kBase + static_cast<std::size_t>(f.name.data() - begin));
    Check(f.value_offset ==
          kBase + static_cast<std::size_t>(f.raw_value.data() - begin));
    Check(f.offset >= previous_end);
    Check(f.value_offset >= f.offset + f.name.size() + 1);
    previous_end = f.value_offset + f.raw_value.size();
    Check(IsValidFieldName(f.name));
    Check(f.raw_value.size() + (f.value_offset - f.offset) <=
          limits.max_field_bytes);
    Check(f.folded ==
          (f.raw_value.find_first_of("\r\n") != std::string_view::npos));

    const std::string_view unfolded = f.Unfolded(&scratch);
    Check(unfolded.size() <= f.raw_value.size());
    Check(unfolded.find_first_of("\r\n") == std::string_view::npos);
    Check(f.Unfolded() == unfolded);
  }
  Check(section.body_offset() >= previous_end);
  Check(section.body_offset() <= kBase + size);
  Check(section.body_offset() >= kBase);
  if (!section.has_separator()) {
    Check(!defects.empty());
  }
  for (const auto& d : defects) Check(d.offset <= kBase + size);
  CheckLookups(section);
  return 0;
}
