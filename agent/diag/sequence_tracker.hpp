// Telemetry sequence numbers per (agent, boot) as `tail` sees them arrive:
// gaps, the late arrivals that fill them, duplicates, and when the agent's
// status says a gap can no longer be filled.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rackwatch::cli {

struct SequenceReport {
  enum class Kind {
    gap,        // new, provisional: the agent's backlog may still bring it
    filled,     // every number of a provisional gap arrived late
    confirmed,  // the backlog drained and numbers are still missing
    duplicate,  // a sequence seen before
  };
  Kind kind = Kind::gap;
  std::string agent_id;
  std::string boot_id;
  std::uint64_t first = 0;  // the gap's range; a duplicate's sequence in both
  std::uint64_t last = 0;
  std::uint64_t missing = 0;  // confirmed: how many of first..last never came
  // gap: the backlog the rack's latest status reported; none without a status.
  std::optional<std::uint64_t> pending;
  std::uint64_t dropped_by_agent = 0;  // confirmed: of `missing`, reported dropped or skipped
};

// What a status says that bears on the sequences.
struct StatusCounts {
  std::string agent_id;
  std::string boot_id;
  std::uint64_t pending = 0;             // outbox.pending
  std::uint64_t telemetry_sequence = 0;  // the last one taken
  std::uint64_t dropped = 0;             // messages_dropped + outbox.dropped + outbox.skipped
};

class SequenceTracker {
 public:
  // Memory stays bounded: this many (agent, boot) pairs, the least recently
  // heard of forgotten first, and this many runs of numbers seen in each.
  static constexpr std::size_t kMaxBoots = 256;
  static constexpr std::size_t kMaxRuns = 4096;

  // A telemetry message of rack `base` arrived.
  std::vector<SequenceReport> telemetry(const std::string& base, const std::string& agent_id,
                                        const std::string& boot_id, std::uint64_t sequence);
  // A status of rack `base` arrived: pending 0 confirms what is still missing.
  std::vector<SequenceReport> status(const std::string& base, const StatusCounts& s);

 private:
  struct Boot {
    std::string agent_id;
    std::string boot_id;
    std::map<std::uint64_t, std::uint64_t> seen;  // runs: first → last
    std::map<std::uint64_t, std::uint64_t> gaps;  // open (provisional) gaps: first → last
    std::uint64_t highest = 0;
    std::uint64_t touched = 0;
  };
  bool seen(const Boot& b, std::uint64_t s) const;
  void add(Boot& b, std::uint64_t s);
  std::uint64_t missing_in(const Boot& b, std::uint64_t first, std::uint64_t last) const;
  void forget_oldest();

  std::map<std::string, Boot> boots_;  // agent_id '\0' boot_id
  std::map<std::string, std::optional<std::uint64_t>> pending_;  // rack base → latest status's pending
  std::map<std::string, std::uint64_t> attributed_;  // agent_id '\0' boot_id → drops already given to gaps
  std::uint64_t clock_ = 0;
};

}  // namespace rackwatch::cli
