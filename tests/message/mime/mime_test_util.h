// mime_test_util.h — helpers shared by the message/mime tests.

#ifndef POSTHORN_TESTS_MESSAGE_MIME_MIME_TEST_UTIL_H_
#define POSTHORN_TESTS_MESSAGE_MIME_MIME_TEST_UTIL_H_

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "posthorn/message/mime.h"

namespace posthorn::message::testing {

// A copy of `text` at the very end of a heap block of exactly its size, so
// AddressSanitizer reports any read past the end of the input.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::string_view text)
      : size_(text.size()), data_(new char[text.size() == 0 ? 1 : text.size()]) {
    if (size_ != 0) std::memcpy(data_.get(), text.data(), size_);
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> data_;
};

// Turns "\n" into "\r\n" (fixtures in test code are written with \n).
inline std::string Crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string TestData(const std::string& relative) {
  const char* dir = std::getenv("POSTHORN_TESTDATA");
  return std::string(dir != nullptr ? dir : "tests/data") + "/" + relative;
}

inline bool HasDefect(const Defects& defects, DefectKind kind) {
  for (const Defect& d : defects) {
    if (d.kind == kind) return true;
  }
  return false;
}

// Checks what must hold for every parsed tree: every view inside the input,
// raw = headers + body, children inside their parent and in increasing
// order, depth bounded. Iterative, like the parser.
inline void ExpectTreeInvariants(const Message& msg, std::string_view input,
                                 std::size_t max_depth = 32) {
  auto inside = [&](std::string_view v) {
    if (v.empty()) return true;
    return v.data() >= input.data() &&
           v.data() + v.size() <= input.data() + input.size();
  };
  std::vector<const MimePart*> todo = {&msg.root()};
  while (!todo.empty()) {
    const MimePart* p = todo.back();
    todo.pop_back();
    ASSERT_TRUE(inside(p->raw));
    ASSERT_TRUE(inside(p->body));
    ASSERT_TRUE(inside(p->preamble));
    ASSERT_TRUE(inside(p->epilogue));
    ASSERT_LE(p->depth, max_depth);
    if (!p->raw.empty()) {
      ASSERT_EQ(static_cast<std::size_t>(p->raw.data() - input.data()),
                p->offset);
    }
    ASSERT_LE(p->body.size(), p->raw.size());
    // The body is the tail of raw.
    if (!p->body.empty()) {
      ASSERT_EQ(p->body.data() + p->body.size(), p->raw.data() + p->raw.size());
    }
    std::size_t last_end = p->offset;
    for (const MimePart& c : p->children) {
      ASSERT_EQ(c.depth, p->depth + 1);
      ASSERT_GE(c.offset, last_end);
      ASSERT_LE(c.offset + c.raw.size(), p->offset + p->raw.size());
      last_end = c.offset + c.raw.size();
      todo.push_back(&c);
    }
  }
  for (const Defect& d : msg.defects()) ASSERT_LE(d.offset, input.size());
}

}  // namespace posthorn::message::testing

#endif  // POSTHORN_TESTS_MESSAGE_MIME_MIME_TEST_UTIL_H_
