#include "publish/outbox_segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rackwatch::outbox {
namespace {

constexpr std::string_view kPrefix = "seg-";
constexpr std::string_view kSuffix = ".rwq";
constexpr std::size_t kIdDigits = 20;

std::error_code last_error() { return {errno, std::generic_category()}; }

// The next offset at or after `from` where a valid record with an id of at
// least `min_id` starts; bytes.size() when there is none.
std::size_t find_next_record(std::span<const std::uint8_t> bytes, std::size_t from,
                             std::uint64_t min_id) {
  constexpr auto kFirst = static_cast<unsigned char>(kRecordMagic & 0xFFu);
  while (from + kHeaderBytes <= bytes.size()) {
    const void* hit = std::memchr(bytes.data() + from, kFirst, bytes.size() - from);
    if (hit == nullptr) break;
    const auto at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - bytes.data());
    RecordHeader h;
    if (check_record(bytes.subspan(at), h) == DecodeStatus::ok && h.id >= min_id) return at;
    from = at + 1;
  }
  return bytes.size();
}

// How many records' headers tile [begin, end) from its start; at least one,
// since the region exists because something was there.
std::uint64_t count_records(std::span<const std::uint8_t> bytes, std::size_t begin, std::size_t end) {
  std::uint64_t n = 0;
  std::size_t at = begin;
  while (at < end) {
    RecordHeader h;
    if (decode_header(bytes.subspan(at, end - at), h) != DecodeStatus::ok) break;
    if (h.record_bytes() > end - at) break;
    ++n;
    at += h.record_bytes();
  }
  return std::max<std::uint64_t>(n, 1);
}

}  // namespace

std::string segment_file_name(std::uint64_t first_id) {
  char digits[kIdDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(first_id));
  std::string name(kPrefix);
  name.append(digits, kIdDigits);
  name.append(kSuffix);
  return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kIdDigits + kSuffix.size()) return std::nullopt;
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  std::uint64_t id = 0;
  for (const char c : name.substr(kPrefix.size(), kIdDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return std::nullopt;
    id = id * 10 + digit;
  }
  if (id == 0 || id > kMaxRecordId) return std::nullopt;
  return id;
}

SegmentScan scan_segment(std::span<const std::uint8_t> bytes, std::uint64_t min_id) {
  SegmentScan scan;
  std::size_t at = 0;
  while (at < bytes.size()) {
    RecordHeader h;
    auto status = check_record(bytes.subspan(at), h);
    if (status == DecodeStatus::ok && h.id < min_id) status = DecodeStatus::id_out_of_order;
    if (status == DecodeStatus::ok) {
      scan.records.push_back({h.id, at, static_cast<std::uint32_t>(h.record_bytes()), h.appended_ms});
      at += h.record_bytes();
      min_id = h.id + 1;
      continue;
    }
    // Resync from the next byte, not from the end the header claims: the
    // length itself may be what is damaged.
    const std::size_t next = find_next_record(bytes, at + 1, min_id);
    scan.skipped.push_back({at, next - at, count_records(bytes, at, next), status});
    at = next;
  }
  scan.damaged_tail =
      !scan.skipped.empty() && scan.skipped.back().offset + scan.skipped.back().bytes == bytes.size();
  return scan;
}

Segment::Segment(std::string path, std::uint64_t first_id, std::uint64_t size)
    : path_(std::move(path)), first_id_(first_id), size_(size) {}

Segment::~Segment() { close(); }

void Segment::add(const Entry& entry) {
  entries_.push_back(entry);
  if (!entry.done) {
    ++pending_;
  } else if (first_pending_ == entries_.size() - 1) {
    ++first_pending_;
  }
}

const Segment::Entry* Segment::find(std::uint64_t id) const {
  if (entries_.empty() || id < entries_.front().id || id > entries_.back().id) return nullptr;
  // Ids are dense unless records were skipped: try the direct slot first.
  const std::uint64_t guess = id - entries_.front().id;
  if (guess < entries_.size() && entries_[guess].id == id) return &entries_[guess];
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                                   [](const Entry& e, std::uint64_t v) { return e.id < v; });
  return it != entries_.end() && it->id == id ? &*it : nullptr;
}

Segment::Entry* Segment::find(std::uint64_t id) {
  return const_cast<Entry*>(static_cast<const Segment*>(this)->find(id));
}

bool Segment::mark_done(Entry& entry) {
  if (entry.done) return false;
  entry.done = true;
  --pending_;
  while (first_pending_ < entries_.size() && entries_[first_pending_].done) ++first_pending_;
  return true;
}

std::error_code Segment::open_for_append(bool create) {
  if (fd_ >= 0 && writable_) return {};
  close();
  const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  fd_ = ::open(path_.c_str(), flags, 0640);
  if (fd_ < 0) return last_error();
  writable_ = true;
  return {};
}

std::error_code Segment::append(std::span<const std::uint8_t> bytes, bool sync) {
  if (fd_ < 0 || !writable_ || sealed_) return std::make_error_code(std::errc::bad_file_descriptor);
  std::error_code error;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = last_error();
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!error) {
    dirty_ = true;
    if (sync) error = this->sync();
  }
  if (!error) {
    size_ += bytes.size();
    return {};
  }
  // Undo whatever part reached the file, so that it ends on a whole record.
  if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    sealed_ = true;
    struct stat st {};
    if (::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
  }
  return error;
}

std::error_code Segment::ensure_open_for_read() {
  if (fd_ >= 0) return {};
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return last_error();
  writable_ = false;
  return {};
}

std::error_code Segment::read(const Entry& entry, std::vector<std::uint8_t>& out) {
  if (auto e = ensure_open_for_read()) return e;
  out.resize(entry.bytes);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(entry.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (n == 0) {
      out.resize(done);  // shorter than indexed: the decoder reports it
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::error_code Segment::sync() {
  if (!dirty_) return {};
  int fd = fd_;
  int own = -1;
  if (fd < 0) {
    // fdatasync through any descriptor flushes the file's pages.
    own = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (own < 0) return last_error();
    fd = own;
  }
  std::error_code error;
  if (::fdatasync(fd) != 0) error = last_error();
  if (own >= 0) ::close(own);
  if (!error) dirty_ = false;
  return error;
}

std::error_code Segment::truncate(std::uint64_t size) {
  if (::truncate(path_.c_str(), static_cast<off_t>(size)) != 0) return last_error();
  size_ = size;
  return {};
}

void Segment::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  writable_ = false;
}

std::error_code Segment::remove() {
  close();
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return last_error();
  return {};
}

std::error_code read_whole_file(const std::string& path, std::vector<std::uint8_t>& out) {
  out.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code error;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = last_error();
  } else {
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = last_error();
        break;
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  return error;
}

}  // namespace rackwatch::outbox
