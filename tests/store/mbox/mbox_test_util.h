// tests/store/mbox/mbox_test_util.h — a fresh spool folder per test and
// small helpers to deliver and read back messages of the mbox store.

#ifndef POSTHORN_TESTS_STORE_MBOX_MBOX_TEST_UTIL_H_
#define POSTHORN_TESTS_STORE_MBOX_MBOX_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/store/common/temp_dir.h"
#include "posthorn/store/mbox.h"
#include "posthorn/store/message_reader.h"
#include "store/fs/file_util.h"

namespace posthorn::store::mbox_testing {

using testing::TempDir;

inline MboxStoreOptions TestOptions(const std::string& dir) {
  MboxStoreOptions options;
  options.spool_dir = dir;
  options.lock_timeout = absl::Seconds(5);
  // A killed child's dot-lock names a dead pid and is broken at once.
  options.stale_lock_age = absl::Minutes(5);
  options.fsync = false;
  return options;
}

inline std::unique_ptr<Mailstore> MakeStore(const MboxStoreOptions& options) {
  auto store = MakeMboxStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

inline absl::Status DeliverString(Mailstore& store, std::string_view user,
                                  std::string_view message,
                                  std::string sender = "bob@example.org",
                                  absl::Time arrival =
                                      absl::FromUnixSeconds(1700000000)) {
  StringReader reader(message);
  return store.Deliver(user, {.envelope_sender = std::move(sender),
                              .arrival = arrival},
                       reader);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void AppendFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// LF -> CRLF (input with LF line ends only), the wire form of a message.
inline std::string ToCrlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

struct Listed {
  std::string uid;
  std::uint64_t size = 0;
  std::string bytes;  // CRLF, as read
};

// Opens a session, reads every message, ends the session without Commit.
inline absl::StatusOr<std::vector<Listed>> ListAll(Mailstore& store,
                                                   std::string_view user) {
  auto session = store.OpenSession(user);
  if (!session.ok()) return session.status();
  std::vector<Listed> out;
  for (std::size_t i = 0; i < (*session)->messages().size(); ++i) {
    auto reader = (*session)->Read(i);
    if (!reader.ok()) return reader.status();
    auto bytes = ReadAll(**reader);
    if (!bytes.ok()) return bytes.status();
    out.push_back({(*session)->messages()[i].uid,
                   (*session)->messages()[i].size, std::move(*bytes)});
  }
  return out;
}

}  // namespace posthorn::store::mbox_testing

#endif  // POSTHORN_TESTS_STORE_MBOX_MBOX_TEST_UTIL_H_
