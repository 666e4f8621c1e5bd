// Reading one sysfs attribute: a small text file holding one integer. Every
// failure comes back as a reason that names the file, never an exception.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rackwatch {

// A small file's text, or the errno of the call that failed.
struct FileText {
  std::string text;
  int error = 0;  // 0 on success

  bool ok() const { return error == 0; }
};

// Reads at most `limit` bytes with open/read/close, retrying on EINTR.
// Sysfs attributes are generated in one go and are far shorter than a page.
FileText read_small_file(const std::string& path, std::size_t limit = 256);

// The attribute's integer, or why there is none.
struct IntegerRead {
  std::optional<double> value;
  std::string reason;  // empty when value is set
  int error = 0;       // errno when the file could not be read; 0 otherwise
};

IntegerRead read_integer_file(const std::string& path);

// The integer in sysfs text ("45000\n"), tolerating surrounding whitespace.
// Values beyond int64 (an energy counter near wrap-around) still parse.
std::optional<double> parse_sysfs_integer(std::string_view text);

// "no such file: <path>", "permission denied: <path>", ... for an errno.
std::string describe_read_error(int error, const std::string& path);

// Text as shown in a reason: trimmed, shortened, control bytes escaped; "..."
// marks text that was shortened here or `cut` before.
std::string quote_content(std::string_view text, bool cut = false);

// Text without leading and trailing whitespace (sysfs ends lines with \n).
std::string_view trim_sysfs(std::string_view text);

}  // namespace rackwatch
