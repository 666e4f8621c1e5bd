// One outbox segment file: its name, the recovery scan of its bytes, the
// in-memory index of its records (never their payloads) and the POSIX I/O
// to append to it and read from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "publish/outbox_format.hpp"

namespace rackwatch::outbox {

// "seg-" + the first id in 20 digits + ".rwq": names sort like the ids.
std::string segment_file_name(std::uint64_t first_id);
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

struct ScannedRecord {
  std::uint64_t id = 0;
  std::uint64_t offset = 0;
  std::uint32_t bytes = 0;
  std::int64_t appended_ms = 0;
};

// Bytes between valid records that are not one: a damaged or torn record.
struct SkippedRegion {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint64_t records = 0;  // how many record headers delimit it; at least 1
  DecodeStatus reason = DecodeStatus::ok;  // why the first of them failed
};

struct SegmentScan {
  std::vector<ScannedRecord> records;  // valid, ids rising
  std::vector<SkippedRegion> skipped;  // in file order
  // The last skipped region runs to the end of the bytes: no valid record
  // follows it (a torn write when it is the last segment).
  bool damaged_tail = false;
};

// Splits a segment's bytes into valid records and skipped regions; every
// byte is in exactly one of them. A record is valid when it decodes, its CRC
// matches and its id is at least `min_id` and above the previous one. After a
// damaged record the scan resyncs on the next marker that starts a valid
// record, so one bad length loses one record and not the rest of the file.
SegmentScan scan_segment(std::span<const std::uint8_t> bytes, std::uint64_t min_id);

// A segment as the outbox keeps it. Not copyable: it may own a descriptor.
class Segment {
 public:
  struct Entry {
    std::uint64_t id = 0;
    std::uint64_t offset = 0;
    std::int64_t appended_ms = 0;
    std::uint32_t bytes = 0;
    bool done = false;  // acknowledged, or found unreadable later
  };

  Segment(std::string path, std::uint64_t first_id, std::uint64_t size);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t first_id() const { return first_id_; }
  std::uint64_t size() const { return size_; }
  bool empty() const { return entries_.empty(); }
  std::size_t pending() const { return pending_; }
  // The index of the first entry not done (entries_.size() when none).
  std::size_t first_pending_index() const { return first_pending_; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool dirty() const { return dirty_; }
  // A failed append could not be undone: nothing more may be written here.
  bool sealed() const { return sealed_; }
  void seal() { sealed_ = true; }

  // Adds an entry found by the recovery scan or just written.
  void add(const Entry& entry);
  Entry* find(std::uint64_t id);
  const Entry* find(std::uint64_t id) const;
  // Marks an entry done; false when it already was.
  bool mark_done(Entry& entry);

  // Opens the file for appending (creating it when `create`).
  std::error_code open_for_append(bool create);
  // Writes `bytes` at the end, then fdatasyncs when `sync`. On any failure
  // the file is cut back to its previous size; when even that fails, the
  // segment is sealed and size() is what the file really holds.
  std::error_code append(std::span<const std::uint8_t> bytes, bool sync);
  // Reads `entry`'s bytes (with a descriptor of its own when not open).
  std::error_code read(const Entry& entry, std::vector<std::uint8_t>& out);
  // fdatasync when there are unsynced writes.
  std::error_code sync();
  // Cuts the file to `size` bytes (recovery of a torn tail).
  std::error_code truncate(std::uint64_t size);
  void close();
  std::error_code remove();

 private:
  std::error_code ensure_open_for_read();

  std::string path_;
  std::uint64_t first_id_;
  std::uint64_t size_;
  std::vector<Entry> entries_;
  std::size_t pending_ = 0;
  std::size_t first_pending_ = 0;
  int fd_ = -1;
  bool writable_ = false;
  bool dirty_ = false;
  bool sealed_ = false;
};

// Reads a whole file into `out`.
std::error_code read_whole_file(const std::string& path, std::vector<std::uint8_t>& out);

}  // namespace rackwatch::outbox
