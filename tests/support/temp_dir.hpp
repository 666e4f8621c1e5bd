// A private temporary directory for one test, removed with all its contents
// when the object goes.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace rackwatch::test {

class TempDir {
 public:
  // Creates $TMPDIR/PREFIX-XXXXXX (or /tmp/...) with mode 0700.
  explicit TempDir(const std::string& prefix = "rackwatch-test") {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    std::string pattern = (base / (prefix + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    path_ = buffer.data();
  }

  ~TempDir() {
    std::error_code ec;  // a destructor must not throw; leftovers are harmless
    std::filesystem::remove_all(path_, ec);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace rackwatch::test
