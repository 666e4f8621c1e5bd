// The outbox's behaviour in normal operation: order, acknowledgements, the
// checkpoint across restarts, rollover and reclaim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "outbox_test_support.hpp"
#include "publish/outbox.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

using test::all_pending;
using test::id_range;
using test::open_outbox;
using test::outbox_message;
using test::outbox_options;
using test::segment_files;

std::uint64_t same(std::uint64_t id) { return id; }

void append_n(Outbox& outbox, std::uint64_t first, std::uint64_t count, std::size_t payload = 40) {
  for (std::uint64_t n = first; n < first + count; ++n) {
    std::error_code error;
    const auto id = outbox.append(outbox_message(n, payload), error);
    ASSERT_TRUE(id) << error.message();
    ASSERT_EQ(*id, n);
  }
}

TEST(OutboxTest, AppendsReadsAndListsInOrder) {
  test::TempDir dir("outbox");
  auto outbox = open_outbox(outbox_options(dir.path()));
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->last_id(), 0u);
  EXPECT_EQ(outbox->first_pending(), 0u);
  EXPECT_TRUE(all_pending(*outbox).empty());
  append_n(*outbox, 1, 10);
  EXPECT_EQ(outbox->last_id(), 10u);
  EXPECT_EQ(outbox->first_pending(), 1u);
  EXPECT_EQ(all_pending(*outbox), id_range(1, 10));
  EXPECT_EQ(outbox->pending(3, 4), id_range(4, 7));
  EXPECT_EQ(outbox->pending(9, 100), id_range(10, 10));
  EXPECT_TRUE(outbox->pending(10, 100).empty());
  EXPECT_TRUE(outbox->pending(0, 0).empty());
  test::expect_pending_read_back(*outbox, same);
  const auto r = outbox->read(4);
  ASSERT_TRUE(r);
  EXPECT_GT(r->appended_ms, 1'600'000'000'000);
  EXPECT_FALSE(outbox->read(0));
  EXPECT_FALSE(outbox->read(11));

  const auto& s = outbox->stats();
  EXPECT_EQ(s.appended, 10u);
  EXPECT_EQ(s.pending, 10u);
  EXPECT_EQ(s.acknowledged, 0u);
  EXPECT_EQ(s.segments, 1u);
  EXPECT_EQ(s.bytes_on_disk, test::segment_bytes_on_disk(dir.path()));
  EXPECT_EQ(s.oldest_ms, outbox->read(1)->appended_ms);
  EXPECT_EQ(s.write_errors, 0u);
}

TEST(OutboxTest, IdsContinueAcrossReopen) {
  test::TempDir dir("outbox");
  const auto options = outbox_options(dir.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 5);
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->last_id(), 5u);
  EXPECT_EQ(outbox->stats().recovered, 5u);
  EXPECT_EQ(outbox->stats().pending, 5u);
  EXPECT_EQ(outbox->stats().appended, 0u);
  EXPECT_EQ(all_pending(*outbox), id_range(1, 5));
  append_n(*outbox, 6, 1);
  test::expect_pending_read_back(*outbox, same);
}

TEST(OutboxTest, InOrderAcknowledgementsSurviveAReopen) {
  test::TempDir dir("outbox");
  const auto options = outbox_options(dir.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 8);
    for (std::uint64_t id = 1; id <= 3; ++id) outbox->acknowledge(id);
    EXPECT_EQ(outbox->first_pending(), 4u);
    EXPECT_EQ(outbox->stats().acknowledged, 3u);
    EXPECT_EQ(outbox->stats().pending, 5u);
    EXPECT_FALSE(outbox->read(2)) << "an acknowledged record is not for reading";
    ASSERT_FALSE(outbox->sync());
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), id_range(4, 8));
  EXPECT_EQ(outbox->stats().recovered, 5u);
  EXPECT_EQ(outbox->first_pending(), 4u);
  test::expect_pending_read_back(*outbox, same);
}

TEST(OutboxTest, OutOfOrderAcknowledgementsMoveTheCheckpointOverTheContiguousPrefixOnly) {
  test::TempDir dir("outbox");
  const auto options = outbox_options(dir.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 10);
    for (const std::uint64_t id : std::vector<std::uint64_t>{2, 3, 5}) outbox->acknowledge(id);
    EXPECT_EQ(outbox->first_pending(), 1u);
    EXPECT_EQ(all_pending(*outbox), (std::vector<std::uint64_t>{1, 4, 6, 7, 8, 9, 10}));
    EXPECT_EQ(outbox->pending(1, 2), (std::vector<std::uint64_t>{4, 6}));
    EXPECT_EQ(outbox->stats().acknowledged, 3u);
    ASSERT_FALSE(outbox->sync());
  }
  {
    // Nothing contiguous was acknowledged: all are resent (2, 3 and 5 twice).
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), id_range(1, 10));
    for (const std::uint64_t id : std::vector<std::uint64_t>{2, 3, 5, 1}) outbox->acknowledge(id);
    EXPECT_EQ(outbox->first_pending(), 4u);
    ASSERT_FALSE(outbox->sync());
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), id_range(4, 10)) << "checkpoint 3: 5 is resent, 1..3 are not";
  test::expect_pending_read_back(*outbox, same);
}

TEST(OutboxTest, AcknowledgingTwiceOrUnknownIdsChangesNothing) {
  test::TempDir dir("outbox");
  auto outbox = open_outbox(outbox_options(dir.path()));
  ASSERT_TRUE(outbox);
  append_n(*outbox, 1, 3);
  outbox->acknowledge(2);
  outbox->acknowledge(2);
  outbox->acknowledge(0);
  outbox->acknowledge(99);
  EXPECT_EQ(outbox->stats().acknowledged, 1u);
  EXPECT_EQ(outbox->stats().pending, 2u);
  EXPECT_EQ(all_pending(*outbox), (std::vector<std::uint64_t>{1, 3}));
}

TEST(OutboxTest, RollsOverAtSegmentBytes) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  const std::size_t record = outbox_message(1).topic.size() + 40 + 32;  // ids 1..9 share a topic length
  options.segment_bytes = 4 * record;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  append_n(*outbox, 1, 9);
  const auto files = segment_files(dir.path());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "seg-00000000000000000001.rwq");
  EXPECT_EQ(files[1].filename(), "seg-00000000000000000005.rwq");
  EXPECT_EQ(files[2].filename(), "seg-00000000000000000009.rwq");
  EXPECT_EQ(std::filesystem::file_size(files[0]), 4 * record);
  EXPECT_EQ(std::filesystem::file_size(files[2]), record);
  EXPECT_EQ(outbox->stats().segments, 3u);
  EXPECT_EQ(outbox->stats().bytes_on_disk, 9 * record);
  test::expect_pending_read_back(*outbox, same);
}

TEST(OutboxTest, ARecordLargerThanASegmentGetsOneOfItsOwn) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.segment_bytes = 200;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  append_n(*outbox, 1, 3, 1000);
  EXPECT_EQ(segment_files(dir.path()).size(), 3u);
  test::expect_pending_read_back(*outbox, same, 1000);
}

TEST(OutboxTest, ReclaimsSegmentsOnceFullyAcknowledged) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  const std::size_t record = outbox_message(1).topic.size() + 40 + 32;
  options.segment_bytes = 4 * record;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 9);  // segments 1-4, 5-8, 9
    for (const std::uint64_t id : std::vector<std::uint64_t>{1, 2, 3}) outbox->acknowledge(id);
    EXPECT_EQ(segment_files(dir.path()).size(), 3u);
    outbox->acknowledge(4);
    EXPECT_EQ(segment_files(dir.path()).size(), 2u) << "1..4 acknowledged: first segment gone";
    EXPECT_EQ(segment_files(dir.path())[0].filename(), "seg-00000000000000000005.rwq");
    EXPECT_EQ(outbox->stats().segments, 2u);
    EXPECT_EQ(outbox->stats().bytes_on_disk, 5 * record);
    for (const std::uint64_t id : std::vector<std::uint64_t>{6, 7, 8}) outbox->acknowledge(id);
    EXPECT_EQ(segment_files(dir.path()).size(), 2u) << "5 still pending";
    outbox->acknowledge(5);
    EXPECT_EQ(segment_files(dir.path()).size(), 1u);
    outbox->acknowledge(9);
    // The segment being written stays until it is full or the outbox reopens.
    EXPECT_EQ(segment_files(dir.path()).size(), 1u);
    EXPECT_EQ(outbox->stats().pending, 0u);
    EXPECT_EQ(outbox->stats().oldest_ms, 0);
    EXPECT_EQ(outbox->first_pending(), 0u);
  }
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_TRUE(segment_files(dir.path()).empty()) << "everything acknowledged: no segment left";
  EXPECT_EQ(outbox->stats().bytes_on_disk, 0u);
  EXPECT_EQ(outbox->last_id(), 9u) << "ids continue from the checkpoint";
  append_n(*outbox, 10, 1);
  EXPECT_EQ(segment_files(dir.path())[0].filename(), "seg-00000000000000000010.rwq");
}

TEST(OutboxTest, EveryFsyncPolicyStoresAndSyncs) {
  for (const auto policy : {FsyncPolicy::always, FsyncPolicy::interval, FsyncPolicy::never}) {
    test::TempDir dir("outbox");
    auto options = outbox_options(dir.path());
    options.fsync = policy;
    options.segment_bytes = 300;
    {
      auto outbox = open_outbox(options);
      ASSERT_TRUE(outbox);
      append_n(*outbox, 1, 6);
      outbox->acknowledge(1);
      outbox->acknowledge(2);
      EXPECT_FALSE(outbox->sync());
      EXPECT_FALSE(outbox->sync());
    }
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), id_range(3, 6)) << static_cast<int>(policy);
    test::expect_pending_read_back(*outbox, same);
  }
}

TEST(OutboxTest, RefusesASecondOpenOfTheSameDirectory) {
  test::TempDir dir("outbox");
  auto first = open_outbox(outbox_options(dir.path()));
  ASSERT_TRUE(first);
  std::error_code error;
  EXPECT_FALSE(Outbox::open(outbox_options(dir.path()), error));
  EXPECT_EQ(error, std::errc::device_or_resource_busy);
  // Who holds it: this process, by the pid it noted and its name.
  EXPECT_THAT(outbox_in_use_text(dir.path().string()),
              ::testing::HasSubstr("' is in use by 'unit_tests' (pid " + std::to_string(::getpid()) + ")"));
}

TEST(OutboxTest, CreatesItsDirectoryAndDefaultsTheSegmentSize) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path() / "a" / "spool");
  options.segment_bytes = 0;
  options.max_bytes = 800 << 10;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->options().segment_bytes, 100u << 10);  // max_bytes / 8
  struct stat st {};
  ASSERT_EQ(::stat(options.dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(OutboxTest, OpenFailsOnAnUnusableDirectory) {
  test::TempDir dir("outbox");
  test::write_bytes(dir / "file", "x");
  std::error_code error;
  EXPECT_FALSE(Outbox::open(outbox_options(dir / "file" / "spool"), error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(Outbox::open(outbox_options(""), error));
  EXPECT_EQ(error, std::errc::invalid_argument);
}

TEST(OutboxTest, RejectsMessagesThatCannotBeStoredWithoutCountingThemAsWriteErrors) {
  test::TempDir dir("outbox");
  auto options = outbox_options(dir.path());
  options.max_bytes = 4096;
  auto outbox = open_outbox(options);
  ASSERT_TRUE(outbox);
  std::error_code error;
  EXPECT_FALSE(outbox->append(Message{"t", std::string(5000, 'p'), 1, false}, error));
  EXPECT_EQ(error, std::errc::message_size) << "larger than the cap";
  EXPECT_FALSE(outbox->append(Message{"t", "p", 7, false}, error));
  EXPECT_EQ(error, std::errc::invalid_argument);
  EXPECT_EQ(outbox->stats().write_errors, 0u);
  EXPECT_EQ(outbox->last_id(), 0u);
  append_n(*outbox, 1, 1);
}

}  // namespace
}  // namespace rackwatch
