// Sparkplug's bdSeq (0..255), kept in a file so that it goes on counting
// across restarts: each connection the broker accepted takes the next one.
// Attempts that fail (the broker is away) reuse it, so a host sees it one
// more at each birth after a broker outage as after a restart.
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
  // last one committed (mod 256).
  std::uint64_t upcoming();
  // A connect with `value` succeeded: it is the last one, written durably.
  // When the file cannot be written it still counts on in memory, and logs why.
  void commit(std::uint64_t value);

  const std::string& path() const { return path_; }

 private:
  std::optional<std::uint64_t> load() const;

  std::string path_;
  std::optional<std::uint64_t> last_;
  bool warned_ = false;
};

}  // namespace rackwatch
