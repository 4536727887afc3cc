// tests/store/aliases/db_test_util.h — small file helpers for the alias and
// auth database tests: a fresh temporary folder per test, whole-file
// writes and reads, and modification times.

#ifndef POSTHORN_TESTS_STORE_ALIASES_DB_TEST_UTIL_H_
#define POSTHORN_TESTS_STORE_ALIASES_DB_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/store/common/temp_dir.h"

namespace posthorn::store::dbtest {

using testing::TempDir;

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Sets the modification time of `path` to `seconds` since the epoch.
inline void SetMtime(const std::string& path, time_t seconds) {
  struct timespec times[2];
  times[0].tv_sec = seconds;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

inline time_t Mtime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mtime;
}

inline mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

inline bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Deterministic pseudo-random bytes (not LMDB's magic, ever).
inline std::string GarbageBytes(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (char& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return out;
}

}  // namespace posthorn::store::dbtest

#endif  // POSTHORN_TESTS_STORE_ALIASES_DB_TEST_UTIL_H_
