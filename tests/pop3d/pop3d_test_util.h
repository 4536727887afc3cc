// tests/pop3d/pop3d_test_util.h — shared by the pop3d tests: a log that
// records every line, a recursive listing of a folder (to prove nothing was
// created), and small file helpers.

#ifndef POSTHORN_TESTS_POP3D_POP3D_TEST_UTIL_H_
#define POSTHORN_TESTS_POP3D_POP3D_TEST_UTIL_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "posthorn/pop3d/pop3_service.h"
#include "store/common/temp_dir.h"

namespace posthorn::pop3d::testing {

using store::testing::TempDir;

// Collects log lines (thread-safe, as LogFunction must be).
class LogCapture {
 public:
  LogFunction Function() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(level, std::string(line));
    };
  }
  std::vector<std::pair<LogLevel, std::string>> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // The lines that contain `part`.
  std::vector<std::string> Matching(std::string_view part) const {
    std::vector<std::string> found;
    for (const auto& [level, line] : lines()) {
      if (line.find(part) != std::string::npos) found.push_back(line);
    }
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

// Every path under `dir` (relative, sorted).
inline std::vector<std::string> TreeOf(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    paths.push_back(
        std::filesystem::relative(it->path(), dir, error).string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace posthorn::pop3d::testing

#endif  // POSTHORN_TESTS_POP3D_POP3D_TEST_UTIL_H_
