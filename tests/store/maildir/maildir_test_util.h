// tests/store/maildir/maildir_test_util.h — small helpers for the Maildir
// tests: a temporary folder, delivering and reading whole messages, and
// listing a Maildir's folders.

#ifndef POSTHORN_TESTS_STORE_MAILDIR_MAILDIR_TEST_UTIL_H_
#define POSTHORN_TESTS_STORE_MAILDIR_MAILDIR_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/store/common/temp_dir.h"
#include "posthorn/store/maildir.h"
#include "posthorn/store/message_reader.h"

namespace posthorn::store::testing {


inline std::unique_ptr<Mailstore> MakeTestMaildir(const std::string& root,
                                                  bool fsync = true) {
  auto store = MakeMaildirStore(
      {.root_dir = root, .hostname = "test.example", .fsync = fsync});
  if (!store.ok()) return nullptr;
  return std::move(*store);
}

inline absl::Status DeliverText(Mailstore& store, const std::string& user,
                                const std::string& text) {
  StringReader source(text);
  return store.Deliver(user, {.envelope_sender = "", .arrival = absl::Now()},
                       source);
}

inline std::string ReadWhole(MaildropSession& session, std::size_t index) {
  auto reader = session.Read(index);
  if (!reader.ok()) return "<" + reader.status().ToString() + ">";
  auto text = ReadAll(**reader);
  if (!text.ok()) return "<" + text.status().ToString() + ">";
  return *text;
}

inline std::vector<std::string> Names(const std::string& dir) {
  return FolderNames(dir);
}

inline std::string FileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string ToCrlf(const std::string& lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_MAILDIR_MAILDIR_TEST_UTIL_H_
