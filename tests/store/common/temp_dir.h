// tests/store/common/temp_dir.h — a fresh folder per test, removed with
// everything in it afterwards; shared by every store test.

#ifndef POSTHORN_TESTS_STORE_COMMON_TEMP_DIR_H_
#define POSTHORN_TESTS_STORE_COMMON_TEMP_DIR_H_

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace posthorn::store::testing {

// Names in `dir`, sorted ("." and ".." left out); empty when it is missing.
inline std::vector<std::string> FolderNames(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Made under $TMPDIR (or /tmp) as posthorn-store-XXXXXX.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/posthorn-store-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }
  std::vector<std::string> Names() const { return FolderNames(path_); }

 private:
  std::string path_;
};

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_COMMON_TEMP_DIR_H_
