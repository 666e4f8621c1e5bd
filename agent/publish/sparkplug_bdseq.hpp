// Sparkplug's bdSeq (0..255), kept in a file so that it goes on counting
// across restarts: each connect takes the next one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rackwatch {

// The file's name in the agent's state directory (the outbox's).
inline constexpr const char* kBdSeqFileName = "sparkplug-bdseq";

class BdSeqFile {
 public:
  explicit BdSeqFile(std::string path) : path_(std::move(path)) {}

  // The bdSeq for the next connect: 0 the first time, then one more than the
  // last (mod 256); written durably before it is returned. When the file
  // cannot be written it still counts on in memory, and logs why.
  std::uint64_t next();

  const std::string& path() const { return path_; }

 private:
  std::optional<std::uint64_t> load() const;

  std::string path_;
  std::optional<std::uint64_t> last_;
  bool warned_ = false;
};

}  // namespace rackwatch
