#include "core/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rackwatch {

namespace {

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string too_large(std::size_t limit) {
  return limit % 1024 == 0 ? "larger than " + std::to_string(limit / 1024) + " KiB"
                           : "larger than " + std::to_string(limit) + " bytes";
}

}  // namespace

BoundedFile read_bounded_file(const std::string& path, std::size_t limit) {
  // O_NONBLOCK: opening a FIFO with no writer must not block.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {std::nullopt, std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const auto why = S_ISREG(st.st_mode) ? std::string(std::strerror(errno)) : "not a regular file (" + kind_of(st.st_mode) + ")";
    ::close(fd);
    return {std::nullopt, why};
  }
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    ::close(fd);
    return {std::nullopt, too_large(limit)};
  }
  // Sized by what the file says, grown while it gives more, up to one byte
  // past the limit: that byte tells a file that grew, or never ends.
  const std::size_t cap = limit + 1;
  std::string text(std::min(cap, static_cast<std::size_t>(st.st_size) + 1), '\0');
  std::size_t got = 0;
  while (true) {
    if (got == text.size()) {
      if (text.size() == cap) break;
      text.resize(std::min(cap, text.size() * 2));
    }
    const auto n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return {std::nullopt, std::strerror(saved)};
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > limit) return {std::nullopt, too_large(limit)};
  text.resize(got);
  return {std::move(text), {}};
}

}  // namespace rackwatch
