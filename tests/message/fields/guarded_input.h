// A copy of a test input placed at the very end of an exact-size heap
// block, so that reading one byte past it is caught by AddressSanitizer
// (and is likely to fault without it).

#ifndef POSTHORN_TESTS_MESSAGE_FIELDS_GUARDED_INPUT_H_
#define POSTHORN_TESTS_MESSAGE_FIELDS_GUARDED_INPUT_H_

#include <cstring>
#include <memory>
#include <string_view>

namespace posthorn::message::testing {

class GuardedInput {
 public:
  explicit GuardedInput(std::string_view s)
      : size_(s.size()), buf_(new char[s.size() == 0 ? 1 : s.size()]) {
    if (size_ != 0) std::memcpy(buf_.get(), s.data(), size_);
  }
  std::string_view view() const { return {buf_.get(), size_}; }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> buf_;
};

}  // namespace posthorn::message::testing

#endif  // POSTHORN_TESTS_MESSAGE_FIELDS_GUARDED_INPUT_H_
