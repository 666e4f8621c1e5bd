// outbox_bench: the durable outbox's throughput, append + acknowledge of
// 1 KiB messages, under each fsync policy; then the cost of recovering a
// full spool on open and reading it back for replay. Plain main; prints
// numbers, asserts nothing.
//
//   outbox_bench [--dir DIR] [--seconds S] [--payload BYTES] [--window N]
//
// DIR (default: a new directory under $TMPDIR) must be on the disk under
// test: fsync on tmpfs costs nothing. Acknowledgements trail the appends by
// an in-flight window of N (default 64), as a broker's would.
#include <sys/statfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "publish/outbox.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

struct Settings {
  std::string dir;
  double seconds = 3.0;
  std::size_t payload = 1024;
  std::uint64_t window = 64;
};

struct Result {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;  // topic + payload
  std::uint64_t syncs = 0;
  double seconds = 0;
  std::uint64_t segments = 0;
  std::uint64_t errors = 0;
};

const char* name(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "?";
}

Message message(std::size_t payload, std::uint64_t n) {
  Message m;
  m.topic = "rackwatch/v1/hall-a/r12/telemetry";
  m.payload.assign(payload, '\0');
  for (std::size_t i = 0; i < payload; ++i) m.payload[i] = static_cast<char>((n * 131 + i * 7) & 0xFF);
  m.qos = 1;
  return m;
}

std::unique_ptr<Outbox> open(const OutboxOptions& options) {
  std::error_code error;
  auto outbox = Outbox::open(options, error);
  if (!outbox) {
    std::fprintf(stderr, "outbox_bench: cannot open %s: %s\n", options.dir.c_str(), error.message().c_str());
    std::exit(1);
  }
  return outbox;
}

// Appends for `seconds`, acknowledging `window` behind, calling sync() on
// the interval when the policy asks for it; a final sync() is timed too.
Result run(const Settings& s, FsyncPolicy policy, const std::string& dir) {
  OutboxOptions options;
  options.dir = dir;
  options.fsync = policy;
  auto outbox = open(options);
  // Payloads made up front: the benchmark measures the outbox, not memset.
  std::vector<Message> messages;
  for (std::uint64_t i = 0; i < 16; ++i) messages.push_back(message(s.payload, i));

  Result r;
  const auto start = Clock::now();
  const auto end = start + Seconds(s.seconds);
  auto next_sync = start + options.fsync_interval;
  std::error_code error;
  for (std::uint64_t n = 0;; ++n) {
    // The clock is read every 64 appends: it costs as much as a small append.
    if ((n & 63) == 0 || policy == FsyncPolicy::always) {
      const auto now = Clock::now();
      if (now >= end) break;
      if (policy == FsyncPolicy::interval && now >= next_sync) {
        if (outbox->sync()) ++r.errors;
        ++r.syncs;
        next_sync += options.fsync_interval;
      }
    }
    const Message& m = messages[n % messages.size()];
    const auto id = outbox->append(m, error);
    if (!id) {
      ++r.errors;
      continue;
    }
    ++r.messages;
    r.bytes += m.topic.size() + m.payload.size();
    if (*id > s.window) outbox->acknowledge(*id - s.window);
  }
  for (std::uint64_t id = outbox->first_pending(); id != 0 && id <= outbox->last_id(); ++id) {
    outbox->acknowledge(id);
  }
  if (outbox->sync()) ++r.errors;
  ++r.syncs;
  r.seconds = Seconds(Clock::now() - start).count();
  r.segments = outbox->stats().segments;
  return r;
}

// A full spool: appended without acknowledgements, reopened (the recovery
// scan of every segment), and every record read back in order.
void replay(const Settings& s, const std::string& dir) {
  OutboxOptions options;
  options.dir = dir;
  options.fsync = FsyncPolicy::never;
  const Message m = message(s.payload, 1);
  const std::uint64_t record = 32 + m.topic.size() + m.payload.size();
  const std::uint64_t count = options.max_bytes / record - 16;
  {
    auto outbox = open(options);
    std::error_code error;
    for (std::uint64_t i = 0; i < count; ++i) outbox->append(m, error);
    outbox->sync();
  }
  const auto t0 = Clock::now();
  auto outbox = open(options);
  const double open_s = Seconds(Clock::now() - t0).count();
  const auto t1 = Clock::now();
  std::uint64_t read = 0;
  std::uint64_t after = 0;
  for (;;) {
    const auto ids = outbox->pending(after, 256);
    if (ids.empty()) break;
    for (const auto id : ids) {
      if (outbox->read(id)) ++read;
    }
    after = ids.back();
  }
  const double read_s = Seconds(Clock::now() - t1).count();
  const double mb = static_cast<double>(outbox->stats().bytes_on_disk) / 1e6;
  std::printf("\nrecovery of a full spool: %llu records, %.1f MB in %llu segments\n",
              static_cast<unsigned long long>(outbox->stats().recovered), mb,
              static_cast<unsigned long long>(outbox->stats().segments));
  std::printf("  open (scan + CRC of every record): %8.1f ms  %8.0f MB/s\n", open_s * 1e3, mb / open_s);
  std::printf("  pending + read of each record:     %8.1f ms  %8.0f records/s (%llu read)\n",
              read_s * 1e3, static_cast<double>(read) / read_s, static_cast<unsigned long long>(read));
}

bool tmpfs(const std::string& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && st.f_type == 0x01021994;  // TMPFS_MAGIC
}

int run_bench(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--dir" && has_value) {
      s.dir = argv[++i];
    } else if (a == "--seconds" && has_value) {
      s.seconds = std::atof(argv[++i]);
    } else if (a == "--payload" && has_value) {
      s.payload = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a == "--window" && has_value) {
      s.window = static_cast<std::uint64_t>(std::atol(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--dir DIR] [--seconds S] [--payload BYTES] [--window N]\n", argv[0]);
      return 2;
    }
  }
  log::set_level(log::Level::error);  // the cap and reclaim messages are not the point here
  std::optional<test::TempDir> temp;
  if (s.dir.empty()) {
    temp.emplace("outbox-bench");
    s.dir = temp->path().string();
  }
  std::filesystem::create_directories(s.dir);

  OutboxOptions defaults;
  const Message m = message(s.payload, 0);
  std::printf("outbox_bench: append + acknowledge (window %llu), %.1f s per policy, in %s%s\n",
              static_cast<unsigned long long>(s.window), s.seconds, s.dir.c_str(),
              tmpfs(s.dir) ? " (tmpfs: fsync is free here)" : "");
  std::printf("message: %zu bytes payload + %zu bytes topic = %zu bytes a record; "
              "segments %llu MiB, cap %llu MiB, sync() every %lld ms for interval\n\n",
              m.payload.size(), m.topic.size(), m.payload.size() + m.topic.size() + 32,
              static_cast<unsigned long long>(std::min<std::uint64_t>(4ull << 20, defaults.max_bytes / 8) >> 20),
              static_cast<unsigned long long>(defaults.max_bytes >> 20),
              static_cast<long long>(defaults.fsync_interval.count()));
  std::printf("%-9s %12s %10s %10s %8s %9s %7s\n", "fsync", "messages", "msg/s", "MB/s", "syncs",
              "segments", "errors");
  for (const auto policy : {FsyncPolicy::always, FsyncPolicy::interval, FsyncPolicy::never}) {
    const std::string dir = s.dir + "/" + name(policy);
    const Result r = run(s, policy, dir);
    std::printf("%-9s %12llu %10.0f %10.1f %8llu %9llu %7llu\n", name(policy),
                static_cast<unsigned long long>(r.messages), static_cast<double>(r.messages) / r.seconds,
                static_cast<double>(r.bytes) / r.seconds / 1e6, static_cast<unsigned long long>(r.syncs),
                static_cast<unsigned long long>(r.segments), static_cast<unsigned long long>(r.errors));
    std::filesystem::remove_all(dir);
  }
  replay(s, s.dir + "/replay");
  std::filesystem::remove_all(s.dir + "/replay");
  return 0;
}

}  // namespace
}  // namespace rackwatch::bench

int main(int argc, char** argv) { return rackwatch::bench::run_bench(argc, argv); }
