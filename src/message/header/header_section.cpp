// HeaderSection lookups by field name.
//
// Typical sections (20-40 fields) are scanned: the length check rejects most
// fields before a byte is compared. Sections over kIndexThreshold fields get
// an open-addressed hash index at parse time, with a chain through the fields
// of each name, so Find is O(1) and FindAll / Count touch only matching
// fields: a 10,000-field message cannot make a caller's per-field lookups
// quadratic.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "message/header/ascii.h"
#include "posthorn/message/header.h"

namespace posthorn::message {

using header_internal::EqualsIgnoreCase;
using header_internal::HashIgnoreCase;

void HeaderSection::BuildNameIndex() {
  std::size_t slots = 16;
  while (slots < fields_.size() * 2) slots *= 2;
  index_slots_.assign(slots, 0);
  next_same_.assign(fields_.size(), 0);
  // The last field seen of each name, to append to its chain in O(1).
  std::vector<std::uint32_t> tail(slots, 0);
  const std::size_t mask = slots - 1;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const std::string_view name = fields_[i].name;
    std::size_t s = HashIgnoreCase(name) & mask;
    while (true) {
      const std::uint32_t head = index_slots_[s];
      if (head == 0) {
        index_slots_[s] = static_cast<std::uint32_t>(i + 1);
        tail[s] = static_cast<std::uint32_t>(i + 1);
        break;
      }
      if (EqualsIgnoreCase(fields_[head - 1].name, name)) {
        next_same_[tail[s] - 1] = static_cast<std::uint32_t>(i + 1);
        tail[s] = static_cast<std::uint32_t>(i + 1);
        break;
      }
      s = (s + 1) & mask;
    }
  }
}

const HeaderField* HeaderSection::Find(std::string_view name) const {
  if (index_slots_.empty()) {
    for (const HeaderField& f : fields_) {
      if (EqualsIgnoreCase(f.name, name)) return &f;
    }
    return nullptr;
  }
  const std::size_t mask = index_slots_.size() - 1;
  std::size_t s = HashIgnoreCase(name) & mask;
  while (true) {
    const std::uint32_t head = index_slots_[s];
    if (head == 0) return nullptr;
    if (EqualsIgnoreCase(fields_[head - 1].name, name)) {
      return &fields_[head - 1];
    }
    s = (s + 1) & mask;
  }
}

std::vector<const HeaderField*> HeaderSection::FindAll(
    std::string_view name) const {
  std::vector<const HeaderField*> out;
  if (index_slots_.empty()) {
    for (const HeaderField& f : fields_) {
      if (EqualsIgnoreCase(f.name, name)) out.push_back(&f);
    }
    return out;
  }
  const HeaderField* first = Find(name);
  if (first == nullptr) return out;
  for (std::size_t i = static_cast<std::size_t>(first - fields_.data()) + 1;
       i != 0; i = next_same_[i - 1]) {
    out.push_back(&fields_[i - 1]);
  }
  return out;
}

std::size_t HeaderSection::Count(std::string_view name) const {
  std::size_t n = 0;
  if (index_slots_.empty()) {
    for (const HeaderField& f : fields_) {
      if (EqualsIgnoreCase(f.name, name)) ++n;
    }
    return n;
  }
  const HeaderField* first = Find(name);
  if (first == nullptr) return 0;
  for (std::size_t i = static_cast<std::size_t>(first - fields_.data()) + 1;
       i != 0; i = next_same_[i - 1]) {
    ++n;
  }
  return n;
}

}  // namespace posthorn::message
