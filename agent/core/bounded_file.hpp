// Reading a file the config names (the config itself, a device profile, a
// TLS file, a password file) without trusting what it is: only a regular
// file (symlinks followed), opened non-blocking so that a FIFO cannot hang
// the agent, and never more than a limit read, whatever its size claims
// (/dev/zero says 0 and never ends).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace rackwatch {

struct BoundedFile {
  std::optional<std::string> text;
  std::string error;  // when there is no text: "not a regular file (a FIFO)", "larger than 1024 KiB", strerror
};

BoundedFile read_bounded_file(const std::string& path, std::size_t limit);

}  // namespace rackwatch
