// tests/smtp/syntax/parse_helpers.h — shared helpers for the command parser
// tests: every line is copied into a heap buffer of exactly its size, so an
// over-read faults under ASan, and every view of the result is checked to
// lie inside that buffer.

#ifndef POSTHORN_TESTS_SMTP_SYNTAX_PARSE_HELPERS_H_
#define POSTHORN_TESTS_SMTP_SYNTAX_PARSE_HELPERS_H_

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "gtest/gtest.h"
#include "posthorn/smtp/command.h"

namespace posthorn::smtp::testing {

// An owned copy of a line in a buffer of exactly line.size() bytes.
class GuardedLine {
 public:
  explicit GuardedLine(std::string_view line)
      : buffer_(new char[line.size() == 0 ? 1 : line.size()]),
        size_(line.size()) {
    if (size_ != 0) std::memcpy(buffer_.get(), line.data(), size_);
  }
  std::string_view view() const { return {buffer_.get(), size_}; }

 private:
  std::unique_ptr<char[]> buffer_;
  std::size_t size_;
};

inline bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

inline void ExpectViewsInside(const Command& c, std::string_view line) {
  EXPECT_TRUE(Inside(c.argument, line));
  EXPECT_TRUE(Inside(c.auth_initial_response, line));
  EXPECT_TRUE(Inside(c.path.local_part, line));
  EXPECT_TRUE(Inside(c.path.domain, line));
  EXPECT_TRUE(Inside(c.path.mailbox, line));
  EXPECT_TRUE(Inside(c.mail.envid, line));
  EXPECT_TRUE(Inside(c.mail.auth, line));
  EXPECT_TRUE(Inside(c.rcpt.orcpt, line));
}

// The result of parsing a line that must parse. Views point into a copy
// owned by the result.
struct Parsed {
  std::unique_ptr<GuardedLine> line;
  Command command{};
  bool ok = false;
};

inline Parsed Parse(std::string_view text, const CommandOptions& options = {}) {
  Parsed p;
  p.line = std::make_unique<GuardedLine>(text);
  auto result = ParseCommand(p.line->view(), options);
  if (const auto* e = std::get_if<CommandError>(&result)) {
    ADD_FAILURE() << "'" << text << "' refused: " << e->code << " "
                  << e->enhanced << " " << e->message;
    return p;
  }
  p.command = std::get<Command>(result);
  ExpectViewsInside(p.command, p.line->view());
  p.ok = true;
  return p;
}

inline CommandError Refuse(std::string_view text,
                           const CommandOptions& options = {}) {
  GuardedLine line(text);
  auto result = ParseCommand(line.view(), options);
  if (const auto* e = std::get_if<CommandError>(&result)) return *e;
  ADD_FAILURE() << "'" << text << "' was accepted";
  return CommandError{0, "", ""};
}

}  // namespace posthorn::smtp::testing

#endif  // POSTHORN_TESTS_SMTP_SYNTAX_PARSE_HELPERS_H_
