// The outbox at its limits: the size cap, failing writes, and the check of
// a spool directory.
#include <gtest/gtest.h>

#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "outbox_test_support.hpp"
#include "publish/outbox.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

namespace fs = std::filesystem;
using test::all_pending;
using test::id_range;
using test::open_outbox;
using test::outbox_message;
using test::outbox_options;
using test::segment_bytes_on_disk;
using test::segment_files;

std::uint64_t same(std::uint64_t id) { return id; }

// 100 ids have a two-digit topic suffix from 10 to 99: records of one size.
constexpr std::size_t kPayload = 100;
constexpr std::size_t kRecord = 32 + 20 + kPayload;

std::uint64_t append_one(Outbox& outbox, std::uint64_t n) {
  std::error_code error;
  const auto id = outbox.append(outbox_message(n, kPayload), error);
  EXPECT_TRUE(id) << error.message();
  return id.value_or(0);
}

TEST(OutboxCapTest, DropsTheOldestAndCountsExactlyTheUnacknowledgedOnesLost) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.max_bytes = 10 * kRecord + 50;
  options.segment_bytes = 3 * kRecord;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  // Ids from 10, so that every record has the same size.
  for (std::uint64_t n = 1; n < 10; ++n) {
    append_one(*outbox, n);
    outbox->acknowledge(n);
  }
  std::set<std::uint64_t> acknowledged;
  testing::internal::CaptureStderr();
  for (std::uint64_t n = 10; n < 100; ++n) {
    ASSERT_EQ(append_one(*outbox, n), n);
    // Acknowledge some out of order, so that dropped segments mix both.
    if (n % 3 == 0 && n > 12) {
      outbox->acknowledge(n - 2);
      acknowledged.insert(n - 2);
    }
    ASSERT_LE(outbox->stats().bytes_on_disk, options.max_bytes) << "after " << n;
    ASSERT_LE(segment_bytes_on_disk(dir.path()), options.max_bytes) << "after " << n;
    ASSERT_EQ(outbox->stats().bytes_on_disk, segment_bytes_on_disk(dir.path()));
  }
  const std::string log = testing::internal::GetCapturedStderr();

  // Lost: unacknowledged and no longer readable. They must be the oldest.
  std::uint64_t lost = 0;
  std::uint64_t newest_lost = 0;
  std::uint64_t oldest_kept = 0;
  for (std::uint64_t n = 10; n < 100; ++n) {
    if (acknowledged.count(n) > 0) continue;
    if (outbox->read(n)) {
      if (oldest_kept == 0) oldest_kept = n;
    } else {
      ++lost;
      newest_lost = n;
    }
  }
  EXPECT_GT(lost, 0u);
  EXPECT_LT(newest_lost, oldest_kept) << "only the oldest are dropped";
  EXPECT_EQ(outbox->stats().dropped, lost);
  EXPECT_EQ(outbox->first_pending(), oldest_kept);
  EXPECT_EQ(outbox->stats().pending, all_pending(*outbox).size());
  EXPECT_NE(log.find("unacknowledged records"), std::string::npos) << log;
  test::expect_pending_read_back(*outbox, same, kPayload);
}

TEST(OutboxCapTest, ASegmentLargerThanTheCapIsClosedSoThatItCanGo) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.max_bytes = 5 * kRecord;
  options.segment_bytes = 100 * kRecord;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  for (std::uint64_t n = 10; n < 30; ++n) {
    ASSERT_EQ(append_one(*outbox, n), n - 9);
    ASSERT_LE(segment_bytes_on_disk(dir.path()), options.max_bytes) << "after " << n;
  }
  EXPECT_EQ(outbox->stats().dropped, 15u);
  EXPECT_EQ(all_pending(*outbox), id_range(16, 20));
}

TEST(OutboxCapTest, ALowerCapAppliesOnOpen) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.segment_bytes = 2 * kRecord;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    for (std::uint64_t n = 10; n < 20; ++n) append_one(*outbox, n);
  }
  options.max_bytes = 5 * kRecord;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_LE(segment_bytes_on_disk(dir.path()), options.max_bytes);
  EXPECT_EQ(outbox->stats().dropped, 6u);
  EXPECT_EQ(all_pending(*outbox), id_range(7, 10));
  EXPECT_EQ(outbox->stats().recovered, 4u);
}

TEST(OutboxWriteErrorTest, AFailedWriteLeavesTheSegmentWholeAndLaterAppendsWork) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.fsync = FsyncPolicy::always;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    for (std::uint64_t n = 10; n < 40; ++n) append_one(*outbox, n);  // 30 records, 4.5 KiB
    const fs::path file = segment_files(dir.path()).at(0);
    const auto size = fs::file_size(file);
    ASSERT_EQ(size, 30 * kRecord);

    // Room for part of a record, then for none at all.
    for (const rlim_t room : {rlim_t{kRecord / 2}, rlim_t{0}}) {
      test::FileSizeLimit limit(size + room);
      ASSERT_TRUE(limit.ok());
      std::error_code error;
      EXPECT_FALSE(outbox->append(outbox_message(40, kPayload), error));
      limit.lift();
      EXPECT_EQ(error, std::errc::file_too_large) << error.message();
      EXPECT_EQ(fs::file_size(file), size) << "the partial record is cut off";
      EXPECT_EQ(outbox->stats().bytes_on_disk, size);
      EXPECT_EQ(outbox->last_id(), 30u);
      EXPECT_EQ(outbox->stats().pending, 30u);
    }
    EXPECT_EQ(outbox->stats().write_errors, 2u);
    EXPECT_EQ(outbox->stats().appended, 30u);

    std::error_code error;
    EXPECT_EQ(outbox->append(outbox_message(31, kPayload), error), 31u) << error.message();
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->stats().skipped, 0u);
  EXPECT_EQ(all_pending(*outbox), id_range(1, 31));
  const auto r = outbox->read(31);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message.payload, outbox_message(31, kPayload).payload);
}

TEST(OutboxWriteErrorTest, AFailedFirstWriteIntoANewSegmentIsRetriedThere) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.segment_bytes = 2 * kRecord;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_one(*outbox, 10);
    append_one(*outbox, 11);
    {
      test::FileSizeLimit limit(kRecord / 3);  // the new segment cannot take a whole record
      ASSERT_TRUE(limit.ok());
      std::error_code error;
      EXPECT_FALSE(outbox->append(outbox_message(12, kPayload), error));
      EXPECT_EQ(error, std::errc::file_too_large);
    }
    const auto files = segment_files(dir.path());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(fs::file_size(files[1]), 0u);
    EXPECT_EQ(append_one(*outbox, 12), 3u);
    EXPECT_EQ(segment_files(dir.path()).size(), 2u);
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), id_range(1, 3));
  EXPECT_EQ(outbox->stats().skipped, 0u);
}

TEST(OutboxWriteErrorTest, AHalfWrittenRecordLeftByACrashIsCutOffOnReopen) {
  // A write cut short that could not be undone would be a torn record; on
  // reopen it must be cut off and counted, and the outbox go on.
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_one(*outbox, 10);
    append_one(*outbox, 11);
  }
  const fs::path file = segment_files(dir.path()).at(0);
  std::string bytes = test::read_bytes(file);
  bytes += bytes.substr(0, kRecord / 2);  // half a record, as a crash leaves it
  test::write_bytes(file, bytes);
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->stats().skipped, 1u);
  EXPECT_EQ(outbox->stats().skipped_bytes, kRecord / 2);
  EXPECT_EQ(append_one(*outbox, 12), 3u);
}

TEST(OutboxCheckDirTest, AcceptsAWritableDirectoryAndCreatesNothing) {
  test::TempDir dir("outbox");
  EXPECT_EQ(check_outbox_dir(dir.path().string()), std::nullopt);
  EXPECT_TRUE(fs::is_empty(dir.path())) << "the probe file is gone";
  // Missing: fine when it could be made; a check leaves no trace.
  const fs::path nested = dir / "a" / "b" / "spool";
  EXPECT_EQ(check_outbox_dir(nested.string()), std::nullopt);
  EXPECT_FALSE(fs::exists(dir / "a"));
}

TEST(OutboxCheckDirTest, NamesTheDirectoryAndTheReason) {
  test::TempDir dir("outbox");
  test::write_bytes(dir / "file", "x");
  const std::string under = (dir / "file" / "spool").string();
  const auto message = check_outbox_dir(under);
  ASSERT_TRUE(message);
  EXPECT_EQ(*message, "outbox directory '" + under + "': cannot look at it: Not a directory");
  const auto file = check_outbox_dir((dir / "file").string());
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, "outbox directory '" + (dir / "file").string() + "': not a directory");
}

// check_outbox_dir(dir) as another user: root, whom directory modes do not
// bind, checks as nobody in a child process; anyone else as themselves.
std::optional<std::string> check_as_unprivileged(const std::string& dir) {
  if (::geteuid() != 0) return check_outbox_dir(dir);
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    std::string out = "ok";
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      out = "could not become nobody";
    } else if (auto m = check_outbox_dir(dir)) {
      out = *m;
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  if (got == "ok") return std::nullopt;
  return got;
}

TEST(OutboxCheckDirTest, RefusesAReadOnlyDirectory) {
  test::TempDir dir("outbox");
  ::chmod(dir.path().c_str(), 0755);  // nobody may look in, not write
  const fs::path ro = dir / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                          fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const auto message = check_as_unprivileged(ro.string());
  fs::permissions(ro, fs::perms::owner_all);
  ASSERT_TRUE(message);
  EXPECT_EQ(*message, "outbox directory '" + ro.string() + "': not writable: Permission denied");
}

}  // namespace
}  // namespace rackwatch
