// The durable outbox: a bounded, ordered queue of encoded messages on disk.
// Append-only segment files with a length and CRC per record; a record
// leaves only when the broker acknowledged it; segments are deleted once
// every record in them is acknowledged. Survives restarts and power loss;
// unreadable data found on open is skipped, counted and reported.
//
// Not thread-safe: the agent uses it from its executor only. All I/O is
// plain POSIX file I/O on a local disk (page cache); only fsync blocks for
// long, and its policy is the operator's choice.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "core/config.hpp"
#include "publish/message.hpp"

namespace rackwatch {

struct OutboxOptions {
  std::string dir;                                   // created if missing
  std::uint64_t max_bytes = 64ull << 20;             // cap of all its files together
  std::uint64_t segment_bytes = 0;                   // 0: min(4 MiB, max_bytes / 8)
  FsyncPolicy fsync = FsyncPolicy::interval;
  std::chrono::milliseconds fsync_interval{200};     // for the owner's timer
};

// One stored message and its place in the log.
struct OutboxRecord {
  std::uint64_t id = 0;  // rises by one per append, across restarts
  Message message;
  std::int64_t appended_ms = 0;  // wall clock at append, for "oldest age"
};

struct OutboxStats {
  std::uint64_t appended = 0;        // since open
  std::uint64_t acknowledged = 0;    // since open
  std::uint64_t dropped = 0;         // unacknowledged records deleted by the cap, since open
  std::uint64_t skipped = 0;         // unreadable records found on open (corrupt, torn)
  std::uint64_t skipped_bytes = 0;   // bytes of those
  std::uint64_t recovered = 0;       // unacknowledged records found on open
  std::uint64_t pending = 0;         // unacknowledged records now
  std::uint64_t bytes_on_disk = 0;   // all segment files now
  std::uint64_t segments = 0;
  std::int64_t oldest_ms = 0;        // append time of the oldest unacknowledged record; 0 if none
  std::uint64_t write_errors = 0;    // appends that failed (disk full, I/O error)
};

class Outbox {
 public:
  // Opens (or creates) the outbox in options.dir and recovers its content:
  // a torn last record is cut off, corrupt records are skipped (resyncing on
  // the next valid record), files that are not ours are left alone and
  // logged. Returns an error only when the directory itself is unusable.
  static std::unique_ptr<Outbox> open(const OutboxOptions& options, std::error_code& error);

  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends a message; returns its id. When the cap would be exceeded, the
  // oldest segments are deleted first (their unacknowledged records are
  // counted as dropped). On a write error (ENOSPC, EIO) returns nullopt with
  // the error; the message is not stored, and the outbox stays usable.
  std::optional<std::uint64_t> append(const Message& message, std::error_code& error);

  // Reads the record with this id (it must be unacknowledged and stored),
  // from disk. nullopt when it is gone (dropped by the cap) or unreadable.
  std::optional<OutboxRecord> read(std::uint64_t id);

  // Ids of unacknowledged records, in order, starting after `after` (0: from
  // the first), at most `limit` of them. Cheap: from the in-memory index.
  std::vector<std::uint64_t> pending(std::uint64_t after, std::size_t limit) const;

  // The broker acknowledged `id`. Acknowledgements may come in any order;
  // segments whose records are all acknowledged are deleted.
  void acknowledge(std::uint64_t id);

  // Makes appended records and acknowledgements durable now (fdatasync).
  std::error_code sync();

  std::uint64_t first_pending() const;  // 0 when empty
  std::uint64_t last_id() const;        // id of the last append; 0 when none ever
  const OutboxStats& stats() const;
  const OutboxOptions& options() const;

 private:
  class Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks that a file can be created and written in `dir` or, when it does
// not exist yet, that it could be created (nothing is created then);
// otherwise a message that names the directory and the reason. For the
// config check.
std::optional<std::string> check_outbox_dir(const std::string& dir);

// Why Outbox::open failed with device_or_resource_busy: which process holds
// `dir` (another rackwatchd, with its pid, when it can be told), and what to do.
std::string outbox_in_use_text(const std::string& dir);

}  // namespace rackwatch
