// Helpers shared by the outbox tests: messages with recognisable content,
// options for a temporary directory, and views of the files on disk.
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "publish/outbox.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::test {

// Message n: its topic and payload name n, so a mix-up shows. The payload
// never holds the record marker's first byte 'R', so a resync can only land
// on a real record.
inline Message outbox_message(std::uint64_t n, std::size_t payload_bytes = 40) {
  Message m;
  m.topic = "rack/r1/telemetry/" + std::to_string(n);
  m.payload = "payload-" + std::to_string(n) + ":";
  for (std::size_t i = 0; m.payload.size() < payload_bytes; ++i) {
    m.payload.push_back(static_cast<char>('a' + (n + i) % 17));
  }
  m.payload.resize(payload_bytes);
  m.qos = static_cast<int>(n % 3);
  m.retain = n % 5 == 0;
  return m;
}

inline OutboxOptions outbox_options(const std::filesystem::path& dir) {
  OutboxOptions o;
  o.dir = dir.string();
  o.max_bytes = 1 << 20;
  o.segment_bytes = 64 << 10;
  o.fsync = FsyncPolicy::never;  // the tests kill nothing; page cache is the disk here
  return o;
}

inline std::unique_ptr<Outbox> open_outbox(const OutboxOptions& options) {
  std::error_code error;
  auto outbox = Outbox::open(options, error);
  EXPECT_TRUE(outbox) << "open " << options.dir << ": " << error.message();
  EXPECT_FALSE(error) << error.message();
  return outbox;
}

inline bool is_segment_name(const std::string& name) {
  return name.size() == 28 && name.rfind("seg-", 0) == 0 && name.substr(24) == ".rwq";
}

// Segment files in the directory, oldest first.
inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && is_segment_name(e.path().filename().string())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What the segment files take on disk, from a listing, not from the stats.
inline std::uint64_t segment_bytes_on_disk(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& p : segment_files(dir)) total += std::filesystem::file_size(p);
  return total;
}

inline std::vector<std::uint64_t> all_pending(const Outbox& outbox) {
  return outbox.pending(0, 1u << 30);
}

inline std::vector<std::uint64_t> id_range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Every pending record reads back as the message it was appended as, where
// the message for id i is outbox_message(message_of(i)).
template <typename MessageOf>
void expect_pending_read_back(Outbox& outbox, MessageOf message_of, std::size_t payload_bytes = 40) {
  for (const auto id : all_pending(outbox)) {
    const auto r = outbox.read(id);
    ASSERT_TRUE(r) << "record " << id;
    const Message want = outbox_message(message_of(id), payload_bytes);
    EXPECT_EQ(r->id, id);
    EXPECT_EQ(r->message.topic, want.topic) << "record " << id;
    EXPECT_EQ(r->message.payload, want.payload) << "record " << id;
    EXPECT_EQ(r->message.qos, want.qos) << "record " << id;
    EXPECT_EQ(r->message.retain, want.retain) << "record " << id;
  }
}

// Lowers RLIMIT_FSIZE for this process: a write past `bytes` fails with
// EFBIG (SIGXFSZ ignored), as a full disk would fail it with ENOSPC.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit lowered = previous_;
    lowered.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &lowered) == 0;
  }
  ~FileSizeLimit() { lift(); }
  void lift() {
    if (lifted_) return;
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
    lifted_ = true;
  }
  bool ok() const { return ok_; }

 private:
  rlimit previous_{};
  sighandler_t previous_handler_ = SIG_DFL;
  bool ok_ = false;
  bool lifted_ = false;
};

}  // namespace rackwatch::test
