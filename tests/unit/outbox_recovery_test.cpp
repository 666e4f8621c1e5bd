// What the outbox finds on open after crashes and damage: torn writes at
// every byte, torn checkpoints, flipped bits, bad lengths, foreign files and
// missing segments. Each case copies a known spool, damages the copy and
// reopens it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "outbox_test_support.hpp"
#include "publish/outbox.hpp"
#include "publish/outbox_segment.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

namespace fs = std::filesystem;
using test::all_pending;
using test::id_range;
using test::open_outbox;
using test::outbox_message;
using test::outbox_options;
using test::read_bytes;
using test::segment_files;
using test::write_bytes;

std::uint64_t same(std::uint64_t id) { return id; }

// A spool's files by name, to restore into fresh directories.
using Snapshot = std::map<std::string, std::string>;

Snapshot snapshot(const fs::path& dir) {
  Snapshot s;
  for (const auto& e : fs::directory_iterator(dir)) s[e.path().filename().string()] = read_bytes(e.path());
  return s;
}

void restore(const Snapshot& s, const fs::path& dir) {
  for (const auto& [name, bytes] : s) write_bytes(dir / name, bytes);
}

void append_n(Outbox& outbox, std::uint64_t first, std::uint64_t count) {
  for (std::uint64_t n = first; n < first + count; ++n) {
    std::error_code error;
    ASSERT_EQ(outbox.append(outbox_message(n), error), n) << error.message();
  }
}

std::vector<std::uint64_t> without(std::vector<std::uint64_t> ids, std::vector<std::uint64_t> gone) {
  std::erase_if(ids, [&](std::uint64_t id) { return std::find(gone.begin(), gone.end(), id) != gone.end(); });
  return ids;
}

// Offsets of the records in a segment file, by id.
std::map<std::uint64_t, outbox::ScannedRecord> records_of(const fs::path& file) {
  const std::string bytes = read_bytes(file);
  const auto scan = outbox::scan_segment(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 1);
  EXPECT_TRUE(scan.skipped.empty()) << file;
  std::map<std::uint64_t, outbox::ScannedRecord> out;
  for (const auto& r : scan.records) out[r.id] = r;
  return out;
}

// Crash in the middle of writing the last record: the file ends at every
// byte offset inside it. Run with the last record sharing a segment and with
// it alone in a new segment.
void crash_at_every_byte(std::uint64_t segment_bytes) {
  test::TempDir base("outbox-base");
  auto options = outbox_options(base.path());
  options.segment_bytes = segment_bytes;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 5);
    outbox->acknowledge(1);
    ASSERT_FALSE(outbox->sync());
  }
  const Snapshot clean = snapshot(base.path());
  const fs::path last_file = segment_files(base.path()).back();
  const auto last = records_of(last_file).at(5);
  const std::string name = last_file.filename().string();

  for (std::uint64_t cut = last.offset; cut < last.offset + last.bytes; ++cut) {
    SCOPED_TRACE("file cut at " + std::to_string(cut));
    test::TempDir dir("outbox-cut");
    restore(clean, dir.path());
    fs::resize_file(dir / name, cut);
    options.dir = dir.path().string();
    {
      auto outbox = open_outbox(options);
      ASSERT_TRUE(outbox);
      EXPECT_EQ(all_pending(*outbox), id_range(2, 4));
      EXPECT_EQ(outbox->stats().recovered, 3u);
      EXPECT_EQ(outbox->last_id(), 4u);
      EXPECT_EQ(outbox->stats().skipped, cut > last.offset ? 1u : 0u);
      EXPECT_EQ(outbox->stats().skipped_bytes, cut - last.offset);
      if (last.offset > 0) {
        EXPECT_EQ(fs::file_size(dir / name), last.offset) << "torn bytes cut off";
      } else {
        EXPECT_FALSE(fs::exists(dir / name)) << "a segment holding only torn bytes goes";
      }
      EXPECT_EQ(outbox->stats().bytes_on_disk, test::segment_bytes_on_disk(dir.path()));
      test::expect_pending_read_back(*outbox, same);
      append_n(*outbox, 5, 2);
    }
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), id_range(2, 6));
    EXPECT_EQ(outbox->stats().skipped, 0u);
    test::expect_pending_read_back(*outbox, same);
  }
}

TEST(OutboxRecoveryTest, CrashAtEveryByteOfTheLastRecordOfASegment) { crash_at_every_byte(64 << 10); }

TEST(OutboxRecoveryTest, CrashAtEveryByteOfTheFirstRecordOfANewSegment) {
  const std::size_t record = outbox_message(1).topic.size() + 40 + 32;
  crash_at_every_byte(4 * record);  // 1..4 fill the first segment; 5 starts the next
}

TEST(OutboxRecoveryTest, ATornCheckpointFallsBackToTheOtherSlot) {
  test::TempDir base("outbox-base");
  auto options = outbox_options(base.path());
  Snapshot first_sync;
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 10);
    outbox->acknowledge(1);
    outbox->acknowledge(2);
    ASSERT_FALSE(outbox->sync());  // generation 1: checkpoint 2
    first_sync = snapshot(base.path());
    outbox->acknowledge(3);
    outbox->acknowledge(4);
    ASSERT_FALSE(outbox->sync());  // generation 2: checkpoint 4
    outbox->acknowledge(5);
    outbox->acknowledge(6);
    ASSERT_FALSE(outbox->sync());  // generation 3: checkpoint 6, over generation 1
  }
  const Snapshot clean = snapshot(base.path());
  const std::string newest = clean.at("checkpoint");
  const std::string oldest = first_sync.at("checkpoint");
  ASSERT_EQ(newest.size(), 4096u + 32u);

  const auto reopen_pending = [&](const std::string& checkpoint) {
    test::TempDir dir("outbox-tear");
    restore(clean, dir.path());
    write_bytes(dir / "checkpoint", checkpoint);
    options.dir = dir.path().string();
    auto outbox = open_outbox(options);
    EXPECT_TRUE(outbox);
    return outbox ? all_pending(*outbox) : std::vector<std::uint64_t>{};
  };

  EXPECT_EQ(reopen_pending(newest), id_range(7, 10));
  for (std::size_t k = 0; k < 32; ++k) {
    // The third write reached only its first k bytes; the rest is still the first.
    std::string torn = newest;
    torn.replace(4096 + k, 32 - k, oldest.substr(4096 + k, 32 - k));
    // Past byte 16 the old and new slot agree (the checkpoints 2 and 6
    // differ in one byte): the write is in fact whole.
    const bool whole = torn == newest;
    EXPECT_EQ(whole, k > 16);
    EXPECT_EQ(reopen_pending(torn), whole ? id_range(7, 10) : id_range(5, 10)) << "torn after " << k << " bytes";
    // Or the file was cut inside it.
    EXPECT_EQ(reopen_pending(newest.substr(0, 4096 + k)), id_range(5, 10)) << "cut at " << k;
  }
  // Nothing readable: everything stored is resent, nothing is lost.
  EXPECT_EQ(reopen_pending(""), id_range(1, 10));
  EXPECT_EQ(reopen_pending(std::string(5000, '\x5a')), id_range(1, 10));
}

TEST(OutboxRecoveryTest, AFlippedBitLosesExactlyThatRecord) {
  test::TempDir base("outbox-base");
  auto options = outbox_options(base.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 10);
  }
  const Snapshot clean = snapshot(base.path());
  const fs::path file = segment_files(base.path()).at(0);
  const std::string name = file.filename().string();
  const auto victim = records_of(file).at(5);

  for (std::uint64_t at = victim.offset; at < victim.offset + victim.bytes; ++at) {
    SCOPED_TRACE("bit flipped in byte " + std::to_string(at));
    test::TempDir dir("outbox-flip");
    Snapshot damaged = clean;
    damaged[name][at] = static_cast<char>(damaged[name][at] ^ (1 << (at % 8)));
    restore(damaged, dir.path());
    options.dir = dir.path().string();
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {5}));
    EXPECT_EQ(outbox->stats().skipped, 1u);
    EXPECT_EQ(outbox->stats().skipped_bytes, victim.bytes);
    EXPECT_EQ(outbox->last_id(), 10u);
    EXPECT_EQ(fs::file_size(dir / name), clean.at(name).size()) << "damage inside is left in place";
    test::expect_pending_read_back(*outbox, same);
  }
}

TEST(OutboxRecoveryTest, ACorruptLengthResyncsOnTheFollowingRecords) {
  test::TempDir base("outbox-base");
  auto options = outbox_options(base.path());
  {
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 10);
  }
  const Snapshot clean = snapshot(base.path());
  const std::string name = segment_files(base.path()).at(0).filename().string();
  const auto victim = records_of(base / name).at(3);

  // Payload length: huge, just too long, beyond the bound; topic length: huge.
  const std::vector<std::pair<std::size_t, std::string>> corruptions = {
      {12, std::string("\xFF\xFF\xFF\x00", 4)},
      {12, std::string("\x00\x10\x00\x00", 4)},
      {12, std::string("\xFF\xFF\xFF\xFF", 4)},
      {10, std::string("\xFF\xFF", 2)},
      {12, std::string("\x01\x00\x00\x00", 4)},  // shorter than it is
  };
  for (const auto& [field, value] : corruptions) {
    test::TempDir dir("outbox-len");
    Snapshot damaged = clean;
    damaged[name].replace(victim.offset + field, value.size(), value);
    restore(damaged, dir.path());
    options.dir = dir.path().string();
    auto outbox = open_outbox(options);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {3})) << "field at " << field;
    EXPECT_EQ(outbox->stats().skipped, 1u);
    EXPECT_EQ(outbox->stats().skipped_bytes, victim.bytes);
    test::expect_pending_read_back(*outbox, same);
  }
}

class OutboxSegmentsTest : public ::testing::Test {
 protected:
  // Three segments: 1-4, 5-8, 9-10.
  void SetUp() override {
    options_ = outbox_options(dir_.path());
    options_.segment_bytes = 4 * (outbox_message(1).topic.size() + 40 + 32);
    auto outbox = open_outbox(options_);
    ASSERT_TRUE(outbox);
    append_n(*outbox, 1, 10);
    files_ = segment_files(dir_.path());
    ASSERT_EQ(files_.size(), 3u);
  }

  test::TempDir dir_{"outbox"};
  OutboxOptions options_;
  std::vector<fs::path> files_;
};

TEST_F(OutboxSegmentsTest, LeavesForeignFilesAndDirectoriesAloneAndSaysSo) {
  write_bytes(dir_ / "notes.txt", "not a segment");
  write_bytes(dir_ / "seg-42.rwq", "a near miss");
  fs::create_directory(dir_ / "seg-00000000000000000099.rwq");
  fs::create_directory(dir_ / "sub");
  write_bytes(dir_ / "sub" / "inner", "x");
  testing::internal::CaptureStderr();
  {
    auto outbox = open_outbox(options_);
    ASSERT_TRUE(outbox);
    EXPECT_EQ(all_pending(*outbox), id_range(1, 10));
    EXPECT_EQ(outbox->stats().skipped, 0u);
    for (std::uint64_t id = 1; id <= 10; ++id) outbox->acknowledge(id);
  }
  const std::string log = testing::internal::GetCapturedStderr();
  for (const char* name : {"notes.txt", "seg-42.rwq", "seg-00000000000000000099.rwq", "sub"}) {
    EXPECT_NE(log.find(std::string("'") + name + "'"), std::string::npos) << name << " in:\n" << log;
  }
  EXPECT_EQ(read_bytes(dir_ / "notes.txt"), "not a segment");
  EXPECT_EQ(read_bytes(dir_ / "seg-42.rwq"), "a near miss");
  EXPECT_TRUE(fs::is_directory(dir_ / "seg-00000000000000000099.rwq"));
  EXPECT_EQ(read_bytes(dir_ / "sub" / "inner"), "x");
  EXPECT_EQ(segment_files(dir_.path()).size(), 1u) << "only the last, acknowledged segment left";
}

TEST_F(OutboxSegmentsTest, AMissingMiddleSegmentIsLoggedAndTheRestDelivered) {
  fs::remove(files_[1]);
  testing::internal::CaptureStderr();
  auto outbox = open_outbox(options_);
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {5, 6, 7, 8}));
  EXPECT_NE(log.find("records 5..8 are missing"), std::string::npos) << log;
  EXPECT_EQ(outbox->last_id(), 10u);
  test::expect_pending_read_back(*outbox, same);
  for (const std::uint64_t id : std::vector<std::uint64_t>{1, 2, 3, 4}) outbox->acknowledge(id);
  EXPECT_EQ(outbox->first_pending(), 9u);
  EXPECT_EQ(segment_files(dir_.path()).size(), 1u);
}

TEST_F(OutboxSegmentsTest, AnUnreadableSegmentIsSkippedAndStaysUntilAcknowledgementsPassIt) {
  const std::string garbage(fs::file_size(files_[1]), '\x33');
  write_bytes(files_[1], garbage);
  auto outbox = open_outbox(options_);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {5, 6, 7, 8}));
  EXPECT_EQ(outbox->stats().skipped, 1u);
  EXPECT_EQ(outbox->stats().skipped_bytes, garbage.size());
  EXPECT_EQ(read_bytes(files_[1]), garbage) << "not deleted while earlier records are pending";
  for (const std::uint64_t id : std::vector<std::uint64_t>{1, 2, 3, 4}) outbox->acknowledge(id);
  EXPECT_EQ(outbox->first_pending(), 9u);
  EXPECT_FALSE(fs::exists(files_[0]));
  EXPECT_FALSE(fs::exists(files_[1])) << "reclaimed with the checkpoint past it";
}

TEST_F(OutboxSegmentsTest, ATornEndOfAnOlderSegmentIsSkippedButNotCut) {
  const auto size = fs::file_size(files_[0]);
  fs::resize_file(files_[0], size - 10);
  auto outbox = open_outbox(options_);
  ASSERT_TRUE(outbox);
  EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {4}));
  EXPECT_EQ(outbox->stats().skipped, 1u);
  EXPECT_EQ(outbox->stats().skipped_bytes, size / 4 - 10);
  EXPECT_EQ(fs::file_size(files_[0]), size - 10);
  test::expect_pending_read_back(*outbox, same);
}

TEST_F(OutboxSegmentsTest, DamageFoundByReadTakesTheRecordOutOfPending) {
  auto outbox = open_outbox(options_);
  ASSERT_TRUE(outbox);
  std::string bytes = read_bytes(files_[0]);
  const auto r = records_of(files_[0]).at(2);
  bytes[r.offset + r.bytes - 1] ^= 0x01;
  write_bytes(files_[0], bytes);
  EXPECT_FALSE(outbox->read(2));
  EXPECT_EQ(outbox->stats().skipped, 1u);
  EXPECT_EQ(all_pending(*outbox), without(id_range(1, 10), {2}));
  outbox->acknowledge(1);
  EXPECT_EQ(outbox->first_pending(), 3u);
  EXPECT_TRUE(outbox->read(3));
}

TEST_F(OutboxSegmentsTest, AnEmptySegmentFileIsRemoved) {
  const fs::path empty = dir_ / "seg-00000000000000000011.rwq";
  write_bytes(empty, "");
  auto outbox = open_outbox(options_);
  ASSERT_TRUE(outbox);
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_EQ(outbox->last_id(), 10u);
  std::error_code error;
  EXPECT_EQ(outbox->append(outbox_message(11), error), 11u);
}

}  // namespace
}  // namespace rackwatch
