#include "publish/sparkplug_bdseq.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/bounded_file.hpp"
#include "core/log.hpp"

namespace rackwatch {
namespace {

// Writes `text` to `path` by a renamed, synced temporary file; empty, or why not.
std::string write_durably(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return std::strerror(errno);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return std::strerror(err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return std::strerror(errno);
  return {};
}

}  // namespace

std::optional<std::uint64_t> BdSeqFile::load() const {
  const auto file = read_bounded_file(path_, 64);
  if (!file.text) return std::nullopt;
  unsigned value = 0;
  if (std::sscanf(file.text->c_str(), "%u", &value) != 1 || value > 255) return std::nullopt;
  return value;
}

std::uint64_t BdSeqFile::upcoming() {
  if (!last_) last_ = load();
  return last_ ? (*last_ + 1) % 256 : 0;
}

void BdSeqFile::commit(std::uint64_t value) {
  if (last_ && *last_ == value) return;
  last_ = value;
  if (auto error = write_durably(path_, std::to_string(value) + "\n"); !error.empty() && !warned_) {
    warned_ = true;
    log::error("sparkplug: cannot keep bdSeq in ", path_, ": ", error,
               "; counting on in memory (a restart starts again from the last value kept)");
  }
}

}  // namespace rackwatch
