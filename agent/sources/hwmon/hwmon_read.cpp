#include "sources/hwmon/hwmon_read.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <system_error>

namespace rackwatch {
namespace {

constexpr std::size_t kShownContent = 40;
// An attribute holds one integer and a newline: anything longer is not one.
constexpr std::size_t kMaxAttributeBytes = 64;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

}  // namespace

FileText read_small_file(const std::string& path, std::size_t limit) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return {{}, errno};

  FileText out;
  out.text.resize(limit);
  std::size_t used = 0;
  while (used < limit) {
    const ssize_t n = ::read(fd, out.text.data() + used, limit - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = errno;
      break;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.text.resize(used);
  // Linux releases the descriptor even when close fails with EINTR: never retry.
  ::close(fd);
  if (!out.ok()) out.text.clear();
  return out;
}

std::string_view trim_sysfs(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<double> parse_sysfs_integer(std::string_view text) {
  text = trim_sysfs(text);
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  long long v = 0;
  auto [end, ec] = std::from_chars(first, last, v);
  if (ec == std::errc{} && end == last) return static_cast<double>(v);
  if (ec == std::errc::result_out_of_range && text.front() != '-') {
    unsigned long long u = 0;
    auto [uend, uec] = std::from_chars(first, last, u);
    if (uec == std::errc{} && uend == last) return static_cast<double>(u);
  }
  return std::nullopt;
}

std::string quote_content(std::string_view text, bool cut) {
  text = trim_sysfs(text);
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kShownContent; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut || text.size() > kShownContent) out += "...";
  return out;
}

std::string describe_read_error(int error, const std::string& path) {
  switch (error) {
    case ENOENT:
      return "no such file: " + path;
    case EACCES:
    case EPERM:
      return "permission denied: " + path;
    case ENODATA:
      return "no data (sensor disabled): " + path;
    default:
      break;
  }
  std::string what = std::error_code(error, std::generic_category()).message();
  // "Input/output error" → "input/output error: <path>", like the cases above.
  if (!what.empty() && what.front() >= 'A' && what.front() <= 'Z') {
    what.front() = static_cast<char>(what.front() - 'A' + 'a');
  }
  return what + ": " + path;
}

IntegerRead read_integer_file(const std::string& path) {
  // One byte more than allowed tells an over-long file from a full one.
  auto file = read_small_file(path, kMaxAttributeBytes + 1);
  if (!file.ok()) return {std::nullopt, describe_read_error(file.error, path), file.error};
  const bool overlong = file.text.size() > kMaxAttributeBytes;
  if (!overlong) {
    if (auto v = parse_sysfs_integer(file.text)) return {v, {}, 0};
  }
  return {std::nullopt, "not an integer: '" + quote_content(file.text, overlong) + "' in " + path,
          0};
}

}  // namespace rackwatch
