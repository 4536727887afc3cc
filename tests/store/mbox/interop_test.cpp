// Interoperation with python3's mailbox.mbox, a widely used independent
// mbox implementation: an mbox posthorn writes is read by python, and an
// mbox python writes is read by posthorn. Skipped without python3.
//
// python's mbox is mboxo: on write it quotes "From " at the start of body
// lines as ">From " but leaves ">From " lines alone, and on read it
// unquotes nothing. posthorn is mboxrd. So python sees posthorn's quoted
// lines with their '>', and a ">From " line python wrote (unchanged) loses
// one '>' when posthorn reads it. Both consequences are asserted here.

#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/store/mbox/mbox_test_util.h"

namespace posthorn::store {
namespace {

using mbox_testing::DeliverString;
using mbox_testing::ListAll;
using mbox_testing::MakeStore;
using mbox_testing::ReadFile;
using mbox_testing::TempDir;
using mbox_testing::TestOptions;
using mbox_testing::ToCrlf;
using mbox_testing::WriteFile;

bool HavePython() {
  return std::system("python3 -c 'import mailbox' >/dev/null 2>&1") == 0;
}

// Runs python3 on `script` (written to a file in `dir`); returns stdout.
std::string RunPython(const TempDir& dir, const std::string& script,
                      const std::string& argument) {
  std::string path = dir.File("script.py");
  WriteFile(path, script);
  std::string command = "python3 '" + path + "' '" + argument + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  EXPECT_EQ(::pclose(pipe), 0) << out;
  return out;
}

// Each message as "<from line>\0<bytes>\0" so the C++ side can split.
constexpr char kReadScript[] = R"py(
import mailbox, sys
box = mailbox.mbox(sys.argv[1], create=False)
out = sys.stdout.buffer
for key in box.keys():
    out.write(box.get_message(key).get_from().encode() + b"\0")
    out.write(box.get_bytes(key) + b"\0")
)py";

constexpr char kWriteScript[] = R"py(
import mailbox, sys
box = mailbox.mbox(sys.argv[1])
box.lock()
box.add(b"Subject: one\n\nplain body\n")
box.add(b"Subject: two\n\nFrom the start of a line\nmid From not quoted\n")
box.add(b"Subject: three\n\n>From already quoted\n")
box.add(b"Subject: four\n\nno final newline")
box.add(b"Subject: five\n\n")
box.flush()
box.unlock()
box.close()
)py";

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\0') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

TEST(MboxInterop, PythonReadsWhatPosthornWrites) {
  if (!HavePython()) GTEST_SKIP() << "python3 with mailbox not found";
  TempDir dir;
  auto store = MakeStore(TestOptions(dir.path()));
  const std::vector<std::string> sent = {
      "Subject: one\r\n\r\nplain body\r\n",
      "Subject: two\n\nFrom the start\n>From once\n",
      "Subject: three\r\n\r\nno final newline",
      "Subject: four\n",
  };
  // What python must see: LF, a final newline, mboxrd-quoted lines with
  // their added '>' (python does not unquote).
  const std::vector<std::string> stored = {
      "Subject: one\n\nplain body\n",
      "Subject: two\n\n>From the start\n>>From once\n",
      "Subject: three\n\nno final newline\n",
      "Subject: four\n",
  };
  for (std::size_t i = 0; i < sent.size(); ++i) {
    ASSERT_TRUE(DeliverString(*store, "alice", sent[i], "bob@example.org",
                              absl::FromUnixSeconds(1700000000 + i))
                    .ok());
  }
  std::vector<std::string> parts =
      SplitNul(RunPython(dir, kReadScript, dir.File("alice")));
  ASSERT_EQ(parts.size(), 2 * sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(parts[2 * i], "bob@example.org Tue Nov 14 22:13:2" +
                                std::to_string(i) + " 2023");
    EXPECT_EQ(parts[2 * i + 1], stored[i]) << i;
  }
}

TEST(MboxInterop, PosthornReadsWhatPythonWrites) {
  if (!HavePython()) GTEST_SKIP() << "python3 with mailbox not found";
  TempDir dir;
  RunPython(dir, kWriteScript, dir.File("alice"));
  auto store = MakeStore(TestOptions(dir.path()));
  auto listed = ListAll(*store, "alice");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 5u);
  EXPECT_EQ((*listed)[0].bytes, ToCrlf("Subject: one\n\nplain body\n"));
  // python wrote ">From the start...": mboxrd reading restores it.
  EXPECT_EQ((*listed)[1].bytes,
            ToCrlf("Subject: two\n\nFrom the start of a line\n"
                   "mid From not quoted\n"));
  // mboxo ambiguity: python left ">From" alone, mboxrd removes one '>'.
  EXPECT_EQ((*listed)[2].bytes, ToCrlf("Subject: three\n\nFrom already quoted\n"));
  EXPECT_EQ((*listed)[3].bytes, ToCrlf("Subject: four\n\nno final newline\n"));
  EXPECT_EQ((*listed)[4].bytes, ToCrlf("Subject: five\n\n"));
  for (const auto& m : *listed) EXPECT_EQ(m.size, m.bytes.size());

  // posthorn appends to python's file; python still reads all of it.
  ASSERT_TRUE(DeliverString(*store, "alice", "Subject: six\n\nFrom p\n").ok());
  std::vector<std::string> parts =
      SplitNul(RunPython(dir, kReadScript, dir.File("alice")));
  ASSERT_EQ(parts.size(), 12u);
  EXPECT_EQ(parts[1], "Subject: one\n\nplain body\n");
  EXPECT_EQ(parts[11], "Subject: six\n\n>From p\n");
}

}  // namespace
}  // namespace posthorn::store
