#include "publish/outbox.hpp"
#include "publish/sparkplug_bdseq.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/log.hpp"
#include "core/plural.hpp"
#include "publish/outbox_crc.hpp"
#include "publish/outbox_format.hpp"
#include "publish/outbox_segment.hpp"

namespace rackwatch {
namespace {

using outbox::Segment;

// The acknowledgement checkpoint: the highest id up to which every record is
// acknowledged (or gone). Two slots in separate 4 KiB blocks, written in
// turn, each with its own CRC: a torn write spoils at most the slot being
// written, and the other still holds the previous checkpoint.
//   0 u32 magic "RWCK", 4 u32 CRC-32C of bytes 8..31,
//   8 u64 generation, 16 u64 checkpoint id, 24 u64 zero
constexpr const char* kCheckpointName = "checkpoint";
// The pid of the process that holds the outbox's lock, so that a second
// agent can say who has it (flock cannot tell).
constexpr const char* kOwnerName = "owner";
constexpr std::uint32_t kCheckpointMagic = 0x4B435752u;  // "RWCK" on disk
constexpr std::size_t kSlotBytes = 32;
constexpr std::size_t kSlotStride = 4096;
// The checkpoint file's size on disk: the cap covers it too, so segments get
// the rest ("disk use stays under the cap" means all of it).
constexpr std::uint64_t kCheckpointFileBytes = kSlotStride + kSlotBytes;

constexpr std::uint64_t kDefaultSegmentBytes = 4ull << 20;
// A shredded file must not flood the journal: its first regions are enough.
constexpr std::size_t kLoggedRegions = 8;

std::error_code last_error() { return {errno, std::generic_category()}; }

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

struct CheckpointSlot {
  std::uint64_t generation = 0;
  std::uint64_t id = 0;
};

std::array<std::uint8_t, kSlotBytes> encode_slot(const CheckpointSlot& slot) {
  std::array<std::uint8_t, kSlotBytes> b{};
  put_u32(b.data(), kCheckpointMagic);
  put_u64(b.data() + 8, slot.generation);
  put_u64(b.data() + 16, slot.id);
  put_u32(b.data() + 4, outbox::crc32c(0, b.data() + 8, kSlotBytes - 8));
  return b;
}

std::optional<CheckpointSlot> decode_slot(const std::uint8_t* b) {
  if (get_le(b, 4) != kCheckpointMagic) return std::nullopt;
  if (get_le(b + 4, 4) != outbox::crc32c(0, b + 8, kSlotBytes - 8)) return std::nullopt;
  if (get_le(b + 24, 8) != 0) return std::nullopt;
  const CheckpointSlot slot{get_le(b + 8, 8), get_le(b + 16, 8)};
  if (slot.id > outbox::kMaxRecordId) return std::nullopt;
  return slot;
}

// mkdir -p, with 0750 for what it creates.
std::error_code make_dirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? std::error_code{} : std::make_error_code(std::errc::not_a_directory);
  }
  std::string path;
  std::size_t at = 0;
  while (at != std::string::npos) {
    const std::size_t slash = dir.find('/', at + 1);
    path = dir.substr(0, slash);
    at = slash;
    if (path.empty() || path == "/") continue;
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) return last_error();
  }
  if (::stat(dir.c_str(), &st) != 0) return last_error();
  return S_ISDIR(st.st_mode) ? std::error_code{} : std::make_error_code(std::errc::not_a_directory);
}

std::string ids(std::uint64_t first, std::uint64_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + ".." + std::to_string(last);
}

}  // namespace

class Outbox::Impl {
 public:
  explicit Impl(const OutboxOptions& options) : options_(options) {
    if (options_.segment_bytes == 0) {
      options_.segment_bytes = std::max<std::uint64_t>(
          std::min(kDefaultSegmentBytes, options_.max_bytes / 8), 1);
    }
  }

  ~Impl() {
    // A clean stop keeps the acknowledgements, so that a restart does not
    // resend what the broker already has.
    if (dir_fd_ < 0) return;
    if (options_.fsync == FsyncPolicy::never) {
      write_checkpoint(false);
    } else if (const auto e = sync()) {
      log::warning("outbox ", options_.dir, ": final sync failed: ", e.message());
    }
    segments_.clear();
    if (checkpoint_fd_ >= 0) ::close(checkpoint_fd_);
    ::close(dir_fd_);  // also releases the lock
  }

  std::error_code open_dir() {
    if (options_.dir.empty()) return std::make_error_code(std::errc::invalid_argument);
    if (options_.max_bytes == 0) return std::make_error_code(std::errc::invalid_argument);
    if (auto e = make_dirs(options_.dir)) return e;
    dir_fd_ = ::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) return last_error();
    // Two writers on one spool would interleave records: refuse a second.
    if (::flock(dir_fd_, LOCK_EX | LOCK_NB) != 0) {
      const auto e = errno == EWOULDBLOCK ? std::make_error_code(std::errc::device_or_resource_busy)
                                          : last_error();
      ::close(dir_fd_);
      dir_fd_ = -1;
      return e;
    }
    write_owner();
    return {};
  }

  // Best effort: only a second agent's error message depends on it.
  void write_owner() const {
    const int fd = ::openat(dir_fd_, kOwnerName, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return;
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
      log::debug("outbox ", options_.dir, ": could not note this process as its owner");
    }
    ::close(fd);
  }

  void recover();

  std::optional<std::uint64_t> append(const Message& message, std::error_code& error);
  std::optional<OutboxRecord> read(std::uint64_t id);
  std::vector<std::uint64_t> pending(std::uint64_t after, std::size_t limit) const;
  void acknowledge(std::uint64_t id);
  std::error_code sync();

  std::uint64_t first_pending() const {
    for (const auto& s : segments_) {
      if (s->pending() > 0) return s->entries()[s->first_pending_index()].id;
    }
    return 0;
  }
  std::uint64_t last_id() const { return next_id_ - 1; }
  const OutboxStats& stats() const { return stats_; }
  const OutboxOptions& options() const { return options_; }

 private:
  std::string path_of(const std::string& name) const { return options_.dir + "/" + name; }
  std::string name_of(const Segment& s) const { return outbox::segment_file_name(s.first_id()); }

  Segment* find_segment(std::uint64_t id) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), id,
                               [](std::uint64_t v, const auto& s) { return v < s->first_id(); });
    if (it == segments_.begin()) return nullptr;
    return std::prev(it)->get();
  }

  // The highest id segment i can hold: ids below the next segment's first,
  // or below the next id for the last one.
  std::uint64_t upper_id(std::size_t i) const {
    return i + 1 < segments_.size() ? segments_[i + 1]->first_id() - 1 : next_id_ - 1;
  }

  std::optional<CheckpointSlot> load_checkpoint();
  std::error_code write_checkpoint(bool sync);
  std::error_code sync_dir();
  void advance_checkpoint();
  void update_oldest();
  void reclaim(std::uint64_t through);
  std::error_code drop_oldest();
  void close_active();
  void checkpoint_failed(const std::error_code& e) {
    if (checkpoint_failures_++ % 1000 == 0) {
      log::warning("outbox ", options_.dir, ": cannot write the checkpoint: ", e.message(), " (",
                   checkpoint_failures_, " times)");
    }
  }

  OutboxOptions options_;

  std::uint64_t segment_budget() const {
    return options_.max_bytes > 2 * kCheckpointFileBytes ? options_.max_bytes - kCheckpointFileBytes
                                                         : options_.max_bytes;
  }
  OutboxStats stats_;
  int dir_fd_ = -1;
  std::deque<std::unique_ptr<Segment>> segments_;  // by first id
  Segment* active_ = nullptr;                      // segments_.back() or none
  Segment* reader_ = nullptr;                      // a closed segment with a read descriptor
  bool dir_dirty_ = false;                         // entries created since the last directory fsync
  std::uint64_t next_id_ = 1;
  // Every id up to here is acknowledged or gone; the first pending is
  // checkpoint_ + 1 when there is one.
  std::uint64_t checkpoint_ = 0;
  std::uint64_t checkpoint_written_ = 0;
  std::uint64_t checkpoint_generation_ = 0;
  bool checkpoint_unsynced_ = false;
  std::uint64_t checkpoint_failures_ = 0;
  int checkpoint_fd_ = -1;
  std::vector<std::uint8_t> buffer_;
};

std::optional<CheckpointSlot> Outbox::Impl::load_checkpoint() {
  const std::string path = path_of(kCheckpointName);
  std::vector<std::uint8_t> bytes;
  if (const auto e = outbox::read_whole_file(path, bytes)) {
    if (e != std::errc::no_such_file_or_directory) {
      log::warning("outbox ", path, ": cannot read: ", e.message(),
                   "; every stored record is resent");
    }
    return std::nullopt;
  }
  std::optional<CheckpointSlot> best;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    const std::size_t at = slot * kSlotStride;
    if (bytes.size() < at + kSlotBytes) continue;
    const auto s = decode_slot(bytes.data() + at);
    if (s && (!best || s->generation > best->generation)) best = s;
  }
  if (!best) log::warning("outbox ", path, ": no valid checkpoint; every stored record is resent");
  return best;
}

std::error_code Outbox::Impl::write_checkpoint(bool sync) {
  if (checkpoint_ != checkpoint_written_) {
    if (checkpoint_fd_ < 0) {
      checkpoint_fd_ = ::open(path_of(kCheckpointName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
      if (checkpoint_fd_ < 0) return last_error();
      dir_dirty_ = true;  // it may be new; a spare fsync when it was not
    }
    // The next slot in turn: never the one holding the newest checkpoint.
    const CheckpointSlot slot{checkpoint_generation_ + 1, checkpoint_};
    const auto bytes = encode_slot(slot);
    const auto at = static_cast<off_t>((slot.generation % 2) * kSlotStride);
    ssize_t n = 0;
    do {
      n = ::pwrite(checkpoint_fd_, bytes.data(), bytes.size(), at);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(bytes.size())) {
      return n < 0 ? last_error() : std::make_error_code(std::errc::io_error);
    }
    checkpoint_generation_ = slot.generation;
    checkpoint_written_ = checkpoint_;
    checkpoint_unsynced_ = true;
  }
  if (!sync) return {};
  if (checkpoint_unsynced_) {
    if (::fdatasync(checkpoint_fd_) != 0) return last_error();
    checkpoint_unsynced_ = false;
  }
  return dir_dirty_ ? sync_dir() : std::error_code{};
}

std::error_code Outbox::Impl::sync_dir() {
  if (::fsync(dir_fd_) != 0) return last_error();
  dir_dirty_ = false;
  return {};
}

void Outbox::Impl::update_oldest() {
  stats_.oldest_ms = 0;
  for (const auto& s : segments_) {
    if (s->pending() > 0) {
      stats_.oldest_ms = s->entries()[s->first_pending_index()].appended_ms;
      return;
    }
  }
}

// Restores the invariant checkpoint_ == first pending - 1 (or last id).
void Outbox::Impl::advance_checkpoint() {
  const std::uint64_t first = first_pending();
  const std::uint64_t through = first == 0 ? next_id_ - 1 : first - 1;
  if (through > checkpoint_) checkpoint_ = through;
  update_oldest();
}

// Deletes the oldest segments whose every id is at most `through`, except
// the one being written (it would be created again at the next append).
void Outbox::Impl::reclaim(std::uint64_t through) {
  while (!segments_.empty() && segments_.front().get() != active_ && upper_id(0) <= through) {
    // The checkpoint must be on disk before the records it covers leave it:
    // otherwise a crash could make ids run backwards.
    if (checkpoint_written_ < upper_id(0)) {
      if (const auto e = write_checkpoint(options_.fsync != FsyncPolicy::never)) {
        checkpoint_failed(e);
        return;
      }
    }
    Segment& s = *segments_.front();
    if (const auto e = s.remove()) {
      log::error("outbox ", s.path(), ": cannot delete acknowledged segment: ", e.message());
      return;
    }
    log::debug("outbox ", s.path(), ": acknowledged, deleted");
    if (reader_ == &s) reader_ = nullptr;
    stats_.bytes_on_disk -= s.size();
    stats_.pending -= s.pending();
    segments_.pop_front();
    stats_.segments = segments_.size();
  }
}

// Deletes the oldest segment for the cap; its unacknowledged records are
// dropped.
std::error_code Outbox::Impl::drop_oldest() {
  Segment& s = *segments_.front();
  if (&s == active_) close_active();
  const std::size_t lost = s.pending();
  if (const auto e = s.remove()) {
    log::error("outbox ", s.path(), ": cannot delete segment for the cap: ", e.message());
    return e;
  }
  stats_.dropped += lost;
  stats_.pending -= lost;
  stats_.bytes_on_disk -= s.size();
  log::warning("outbox ", options_.dir, ": cap of ", plural(options_.max_bytes, "byte"), " reached: deleted ",
               name_of(s), " with ", plural(lost, "unacknowledged record"), " (", stats_.dropped,
               " dropped since start)");
  if (reader_ == &s) reader_ = nullptr;
  segments_.pop_front();
  stats_.segments = segments_.size();
  advance_checkpoint();
  return {};
}

void Outbox::Impl::close_active() {
  if (active_ == nullptr) return;
  // Its unsynced writes stay marked dirty: sync() flushes them later.
  active_->close();
  active_ = nullptr;
}

void Outbox::Impl::recover() {
  namespace fs = std::filesystem;
  struct Found {
    std::uint64_t first_id;
    std::string path;
  };
  std::vector<Found> found;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // The agent keeps the Sparkplug bdSeq beside the segments (its state directory).
    if (name == kCheckpointName || name == kOwnerName || name.rfind(kBdSeqFileName, 0) == 0) continue;
    const auto id = outbox::parse_segment_file_name(name);
    std::error_code type_error;
    const bool regular = it->symlink_status(type_error).type() == fs::file_type::regular;
    if (id && regular) {
      found.push_back({*id, it->path().string()});
    } else {
      log::warning("outbox ", options_.dir, ": leaving '", name, "' alone: ",
                   regular ? "not an outbox file" : "not a regular file");
    }
  }
  if (ec) log::error("outbox ", options_.dir, ": cannot list: ", ec.message());
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.first_id < b.first_id; });

  const auto slot = load_checkpoint();
  const std::uint64_t stored = slot ? slot->id : 0;
  checkpoint_ = checkpoint_written_ = stored;
  checkpoint_generation_ = slot ? slot->generation : 0;

  std::uint64_t last_seen = 0;      // highest valid id so far
  std::uint64_t expected = stored + 1;  // where the next segment should start
  bool known_end = true;            // the previous segment ended on a valid record
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const bool last = i + 1 == found.size();
    const Found& f = found[i];
    if (const auto e = outbox::read_whole_file(f.path, bytes)) {
      // Kept for a later start; its ids are unknown until then.
      log::error("outbox ", f.path, ": cannot read, left alone: ", e.message());
      struct stat st {};
      const auto size = ::stat(f.path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
      segments_.push_back(std::make_unique<Segment>(f.path, f.first_id, size));
      segments_.back()->seal();
      last_seen = std::max(last_seen, f.first_id);
      known_end = false;
      continue;
    }
    if (bytes.empty()) {
      // Nothing to lose: a segment created just before a crash or a failed write.
      if (::unlink(f.path.c_str()) != 0) log::warning("outbox ", f.path, ": cannot delete empty segment");
      continue;
    }
    if (known_end && f.first_id > expected) {
      log::warning("outbox ", options_.dir, ": records ", ids(expected, f.first_id - 1),
                   " are missing (a segment file was deleted?)");
    }
    const auto scan = outbox::scan_segment(bytes, std::max(f.first_id, last_seen + 1));
    auto seg = std::make_unique<Segment>(f.path, f.first_id, bytes.size());
    for (const auto& r : scan.records) {
      seg->add({r.id, r.offset, r.appended_ms, r.bytes, r.id <= stored});
      last_seen = r.id;
    }
    for (std::size_t k = 0; k < scan.skipped.size(); ++k) {
      const auto& region = scan.skipped[k];
      stats_.skipped += region.records;
      stats_.skipped_bytes += region.bytes;
      const bool tail = scan.damaged_tail && k + 1 == scan.skipped.size();
      if (tail && last) {
        // The end of the newest segment: an append that a crash cut short.
        if (const auto e = seg->truncate(region.offset)) {
          log::error("outbox ", f.path, ": cannot cut off the damaged end: ", e.message());
          seg->seal();
        } else {
          log::warning("outbox ", f.path, ": cut off a torn or damaged last record: ", plural(region.bytes, "byte"),
                       " at offset ", region.offset, " (", outbox::describe(region.reason), ")");
        }
      } else if (k < kLoggedRegions) {
        log::warning("outbox ", f.path, ": skipped ", plural(region.records, "unreadable record"), ", ",
                     plural(region.bytes, "byte"), " at offset ",
                     region.offset, " (", outbox::describe(region.reason), ")");
      } else if (k == kLoggedRegions) {
        log::warning("outbox ", f.path, ": ", plural(scan.skipped.size() - kLoggedRegions, "more unreadable region"),
                     " skipped (not listed)");
      }
    }
    known_end = !scan.damaged_tail || last;
    if (seg->empty()) {
      // Its ids are unknown; at least its name is taken.
      last_seen = std::max(last_seen, seg->size() > 0 ? f.first_id : 0);
    }
    expected = std::max(last_seen + 1, stored + 1);
    if (seg->size() == 0) {
      seg->remove();  // all of it was a torn write
      continue;
    }
    segments_.push_back(std::move(seg));
  }

  next_id_ = std::max(last_seen, stored) + 1;
  stats_.segments = segments_.size();
  for (const auto& s : segments_) {
    stats_.bytes_on_disk += s->size();
    stats_.pending += s->pending();
  }
  // Only what the stored checkpoint covers leaves at once; a segment whose
  // unreadable part lies above it stays until acknowledgements pass it.
  reclaim(stored);

  if (!segments_.empty()) {
    Segment& back = *segments_.back();
    if (!back.sealed() && back.size() < options_.segment_bytes) {
      if (const auto e = back.open_for_append(false)) {
        log::warning("outbox ", back.path(), ": cannot open for appending: ", e.message());
        back.seal();
      } else {
        active_ = &back;
      }
    }
  }
  advance_checkpoint();

  // A cap lowered since the last run applies now.
  while (stats_.bytes_on_disk > segment_budget() && !segments_.empty()) {
    if (drop_oldest()) break;
  }
  stats_.recovered = stats_.pending;
  if (!segments_.empty() || stats_.skipped > 0) {
    log::info("outbox ", options_.dir, ": ", plural(stats_.pending, "unacknowledged record"), " in ",
              plural(stats_.segments, "segment"), " (", plural(stats_.bytes_on_disk, "byte"), "), next id ", next_id_,
              stats_.skipped > 0 ? ", skipped " + plural(stats_.skipped, "unreadable record") + " (" +
                                       plural(stats_.skipped_bytes, "byte") + ")"
                                 : std::string());
  }
}

std::optional<std::uint64_t> Outbox::Impl::append(const Message& message, std::error_code& error) {
  error.clear();
  const std::size_t size = outbox::encoded_size(message);
  if (size == 0 || size > segment_budget()) {
    error = std::make_error_code(message.qos < 0 || message.qos > 2 ? std::errc::invalid_argument
                                                                    : std::errc::message_size);
    log::warning("outbox ", options_.dir, ": message for ", message.topic.substr(0, 200),
                 " not stored: ", error.message(), " (", message.topic.size(), " + ",
                 message.payload.size(), " bytes)");
    return std::nullopt;
  }

  bool roll = active_ == nullptr || active_->sealed() ||
              (active_->size() > 0 && active_->size() + size > options_.segment_bytes);
  if (stats_.bytes_on_disk + size > segment_budget()) {
    // The segment being written is never dropped; when it alone leaves no
    // room, it is closed first so that it can go.
    if (!roll && active_->size() + size > segment_budget()) roll = true;
    if (roll) close_active();
    while (stats_.bytes_on_disk + size > segment_budget()) {
      if (segments_.empty() || segments_.front().get() == active_) break;
      if (const auto e = drop_oldest()) {
        error = e;
        ++stats_.write_errors;
        return std::nullopt;
      }
    }
    if (const auto e = write_checkpoint(options_.fsync == FsyncPolicy::always)) {
      checkpoint_failed(e);
    }
  }

  const bool always = options_.fsync == FsyncPolicy::always;
  if (roll) {
    close_active();
    // A segment left with no record of its own (its write failed and could
    // not be undone) holds this name already.
    if (!segments_.empty() && segments_.back()->first_id() >= next_id_) {
      next_id_ = segments_.back()->first_id() + 1;
      if (stats_.pending == 0) checkpoint_ = next_id_ - 1;
    }
    auto seg = std::make_unique<Segment>(path_of(outbox::segment_file_name(next_id_)), next_id_, 0);
    if (const auto e = seg->open_for_append(true)) {
      error = e;
      ++stats_.write_errors;
      log::warning("outbox ", seg->path(), ": cannot create: ", e.message());
      return std::nullopt;
    }
    dir_dirty_ = true;
    segments_.push_back(std::move(seg));
    active_ = segments_.back().get();
    stats_.segments = segments_.size();
  }

  OutboxRecord record{next_id_, message, now_ms()};
  buffer_.clear();
  outbox::encode_record(record, buffer_);  // cannot fail: checked above
  const std::uint64_t before = active_->size();
  error = active_->append(buffer_, always);
  if (!error && always && dir_dirty_) error = sync_dir();
  stats_.bytes_on_disk = stats_.bytes_on_disk - before + active_->size();
  if (error) {
    ++stats_.write_errors;
    if (stats_.write_errors == 1 || stats_.write_errors % 1000 == 0) {
      log::warning("outbox ", active_->path(), ": append failed: ", error.message(), " (",
                   stats_.write_errors, " failed appends since start)");
    }
    return std::nullopt;
  }
  active_->add({record.id, before, record.appended_ms, static_cast<std::uint32_t>(size), false});
  ++stats_.appended;
  if (stats_.pending++ == 0) {
    stats_.oldest_ms = record.appended_ms;
    checkpoint_ = record.id - 1;  // keeps "first pending == checkpoint + 1"
  }
  return next_id_++;
}

std::optional<OutboxRecord> Outbox::Impl::read(std::uint64_t id) {
  Segment* s = find_segment(id);
  Segment::Entry* entry = s != nullptr ? s->find(id) : nullptr;
  if (entry == nullptr || entry->done) return std::nullopt;
  if (s != active_ && s != reader_) {
    // At most one descriptor besides the active one: replay reads in order.
    if (reader_ != nullptr) reader_->close();
    reader_ = s;
  }
  if (const auto e = s->read(*entry, buffer_)) {
    log::warning("outbox ", s->path(), ": cannot read record ", id, ": ", e.message());
    return std::nullopt;
  }
  OutboxRecord record;
  std::size_t consumed = 0;
  auto status = outbox::decode_record(buffer_, record, consumed);
  if (status == outbox::DecodeStatus::ok && record.id != id) {
    status = outbox::DecodeStatus::id_out_of_order;
  }
  if (status != outbox::DecodeStatus::ok) {
    // Damaged since it was written or recovered: it cannot be sent, so it is
    // no longer pending; keeping it would stall delivery for ever.
    log::error("outbox ", s->path(), ": record ", id, " at offset ", entry->offset,
               " became unreadable (", outbox::describe(status), "); skipped");
    ++stats_.skipped;
    stats_.skipped_bytes += entry->bytes;
    s->mark_done(*entry);
    --stats_.pending;
    advance_checkpoint();
    return std::nullopt;
  }
  return record;
}

std::vector<std::uint64_t> Outbox::Impl::pending(std::uint64_t after, std::size_t limit) const {
  std::vector<std::uint64_t> out;
  for (const auto& s : segments_) {
    if (out.size() >= limit) break;
    if (s->pending() == 0 || s->entries().back().id <= after) continue;
    const auto& entries = s->entries();
    auto it = entries.begin() + static_cast<std::ptrdiff_t>(s->first_pending_index());
    if (it->id <= after) {
      it = std::upper_bound(it, entries.end(), after,
                            [](std::uint64_t v, const Segment::Entry& e) { return v < e.id; });
    }
    for (; it != entries.end() && out.size() < limit; ++it) {
      if (!it->done) out.push_back(it->id);
    }
  }
  return out;
}

void Outbox::Impl::acknowledge(std::uint64_t id) {
  Segment* s = find_segment(id);
  Segment::Entry* entry = s != nullptr ? s->find(id) : nullptr;
  if (entry == nullptr || !s->mark_done(*entry)) return;  // gone, or acknowledged before
  ++stats_.acknowledged;
  --stats_.pending;
  if (id != checkpoint_ + 1) return;  // a later one: the contiguous prefix holds
  advance_checkpoint();
  if (options_.fsync == FsyncPolicy::always) {
    if (const auto e = write_checkpoint(true)) {
      checkpoint_failed(e);
    }
  }
  reclaim(checkpoint_);
}

std::error_code Outbox::Impl::sync() {
  std::error_code first;
  for (const auto& s : segments_) {
    if (const auto e = s->sync(); e && !first) first = e;
  }
  if (const auto e = write_checkpoint(true); e && !first) first = e;
  if (dir_dirty_) {
    if (const auto e = sync_dir(); e && !first) first = e;
  }
  return first;
}

std::unique_ptr<Outbox> Outbox::open(const OutboxOptions& options, std::error_code& error) {
  error.clear();
  auto impl = std::make_unique<Impl>(options);
  if ((error = impl->open_dir())) {
    log::error("outbox ", options.dir, ": cannot open: ", error.message());
    return nullptr;
  }
  impl->recover();
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::~Outbox() = default;

std::optional<std::uint64_t> Outbox::append(const Message& message, std::error_code& error) {
  return impl_->append(message, error);
}
std::optional<OutboxRecord> Outbox::read(std::uint64_t id) { return impl_->read(id); }
std::vector<std::uint64_t> Outbox::pending(std::uint64_t after, std::size_t limit) const {
  return impl_->pending(after, limit);
}
void Outbox::acknowledge(std::uint64_t id) { impl_->acknowledge(id); }
std::error_code Outbox::sync() { return impl_->sync(); }
std::uint64_t Outbox::first_pending() const { return impl_->first_pending(); }
std::uint64_t Outbox::last_id() const { return impl_->last_id(); }
const OutboxStats& Outbox::stats() const { return impl_->stats(); }
const OutboxOptions& Outbox::options() const { return impl_->options(); }

std::optional<std::string> check_outbox_dir(const std::string& dir) {
  const auto fail = [&dir](const std::string& step, const std::error_code& e) {
    return "outbox directory '" + dir + "': " + step + ": " + e.message();
  };
  if (dir.empty()) return std::string("outbox directory: empty path");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail("cannot look at it", last_error());
    // A check creates nothing: the agent makes the directory when it starts,
    // so its nearest existing ancestor must let it.
    std::string ancestor = dir;
    while (true) {
      const auto slash = ancestor.find_last_of('/');
      ancestor = slash == 0 ? "/" : ancestor.substr(0, slash);
      if (::stat(ancestor.c_str(), &st) == 0) break;
      if (errno != ENOENT || ancestor == "/") return fail("cannot look at " + ancestor, last_error());
    }
    if (!S_ISDIR(st.st_mode)) {
      return "outbox directory '" + dir + "': cannot create: '" + ancestor + "' is not a directory";
    }
    if (::access(ancestor.c_str(), W_OK | X_OK) != 0) {
      return fail("cannot create it in '" + ancestor + "'", last_error());
    }
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) return "outbox directory '" + dir + "': not a directory";
  const std::string probe = dir + "/.rackwatch-probe-" + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return fail("not writable", last_error());
  std::optional<std::string> problem;
  static constexpr char kProbe[] = "rackwatch outbox probe\n";
  ssize_t n = 0;
  do {
    n = ::write(fd, kProbe, sizeof kProbe - 1);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof kProbe - 1)) {
    problem = fail("cannot write", n < 0 ? last_error() : std::make_error_code(std::errc::no_space_on_device));
  }
  ::close(fd);
  if (::unlink(probe.c_str()) != 0 && !problem) problem = fail("cannot delete the probe file", last_error());
  return problem;
}

std::string outbox_in_use_text(const std::string& dir) {
  std::string holder = "another process";
  std::ifstream in(dir + "/" + kOwnerName);
  long pid = 0;
  if (in >> pid && pid > 0) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && !name.empty()) {
      holder = (name == "rackwatchd" ? "another rackwatchd" : "'" + name + "'") + " (pid " + std::to_string(pid) + ")";
    } else {
      holder = "another process (pid " + std::to_string(pid) + " when it took it)";
    }
  }
  return "outbox directory '" + dir + "' is in use by " + holder +
         ": two agents on one outbox would mix their records; stop the other one, or give this one its own "
         "outbox.dir";
}

}  // namespace rackwatch
