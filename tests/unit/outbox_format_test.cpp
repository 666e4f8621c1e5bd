// The record codec, the CRC and the recovery scan of a segment's bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "publish/outbox_crc.hpp"
#include "publish/outbox_format.hpp"
#include "publish/outbox_segment.hpp"
#include "outbox_test_support.hpp"

namespace rackwatch::outbox {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(const OutboxRecord& r) {
  Bytes out;
  EXPECT_FALSE(encode_record(r, out));
  return out;
}

OutboxRecord record(std::uint64_t id, std::size_t payload = 40) {
  return OutboxRecord{id, test::outbox_message(id, payload), 1'700'000'000'000 + static_cast<std::int64_t>(id)};
}

// n records with ids first.., back to back, and where each starts.
Bytes segment(std::uint64_t first, std::size_t n, std::vector<std::size_t>* starts = nullptr) {
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) {
    if (starts) starts->push_back(out.size());
    // Sizes differ from record to record, so that offsets are not a pattern.
    EXPECT_FALSE(encode_record(record(first + i, 20 + 7 * (i % 5)), out));
  }
  return out;
}

std::uint64_t accounted(const SegmentScan& scan) {
  std::uint64_t total = 0;
  for (const auto& r : scan.records) total += r.bytes;
  for (const auto& s : scan.skipped) total += s.bytes;
  return total;
}

TEST(OutboxCrcTest, MatchesTheCrc32cCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32c(0, check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(0, "", 0), 0u);
}

TEST(OutboxCrcTest, ContinuesAcrossPieces) {
  std::string text(1000, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 31 + 7);
  const auto whole = crc32c(0, text.data(), text.size());
  for (std::size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    EXPECT_EQ(crc32c(crc32c(0, text.data(), cut), text.data() + cut, text.size() - cut), whole) << cut;
  }
}

TEST(OutboxFormatTest, LaysOutTheHeaderLittleEndian) {
  OutboxRecord r{0x0102030405060708ull, Message{"ab", "xyz", 2, true}, 0x1112131415161718ll};
  const Bytes b = encode(r);
  ASSERT_EQ(b.size(), kHeaderBytes + 2 + 3);
  const Bytes header_after_crc{
      1,    0x06,                                    // version; flags: QoS 2 | retain
      0x02, 0x00,                                    // topic length
      0x03, 0x00, 0x00, 0x00,                        // payload length
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // id
      0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // append time
  };
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 4), (Bytes{'R', 'W', 'Q', 0xF1}));
  EXPECT_EQ(Bytes(b.begin() + 8, b.begin() + 32), header_after_crc);
  EXPECT_EQ(std::string(b.begin() + 32, b.end()), "abxyz");
  const std::uint32_t crc = crc32c(0, b.data() + 8, b.size() - 8);
  EXPECT_EQ(Bytes(b.begin() + 4, b.begin() + 8),
            (Bytes{static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8),
                   static_cast<std::uint8_t>(crc >> 16), static_cast<std::uint8_t>(crc >> 24)}));
}

TEST(OutboxFormatTest, RoundTripsEveryFlagAndEdgeSize) {
  std::vector<OutboxRecord> cases = {
      {1, Message{"t", "p", 0, false}, 0},
      {2, Message{"t", "p", 1, true}, -5},
      {3, Message{"", "", 2, false}, 1},
      {kMaxRecordId, Message{std::string(kMaxTopicBytes, 't'), std::string(1000, '\0'), 1, false}, INT64_MIN},
  };
  for (const auto& want : cases) {
    const Bytes b = encode(want);
    EXPECT_EQ(b.size(), encoded_size(want.message));
    OutboxRecord got;
    std::size_t consumed = 0;
    ASSERT_EQ(decode_record(b, got, consumed), DecodeStatus::ok);
    EXPECT_EQ(consumed, b.size());
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.appended_ms, want.appended_ms);
    EXPECT_EQ(got.message.topic, want.message.topic);
    EXPECT_EQ(got.message.payload, want.message.payload);
    EXPECT_EQ(got.message.qos, want.message.qos);
    EXPECT_EQ(got.message.retain, want.message.retain);
  }
}

TEST(OutboxFormatTest, RefusesWhatCannotBeARecord) {
  Bytes out;
  EXPECT_EQ(encode_record({1, Message{std::string(kMaxTopicBytes + 1, 't'), "", 1, false}, 0}, out),
            std::errc::message_size);
  EXPECT_EQ(encode_record({1, Message{"t", std::string(kMaxPayloadBytes + 1, 'p'), 1, false}, 0}, out),
            std::errc::message_size);
  EXPECT_EQ(encode_record({1, Message{"t", "p", 3, false}, 0}, out), std::errc::invalid_argument);
  EXPECT_EQ(encode_record({1, Message{"t", "p", -1, false}, 0}, out), std::errc::invalid_argument);
  EXPECT_EQ(encode_record({0, Message{"t", "p", 1, false}, 0}, out), std::errc::invalid_argument);
  EXPECT_EQ(encode_record({kMaxRecordId + 1, Message{"t", "p", 1, false}, 0}, out),
            std::errc::invalid_argument);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encoded_size(Message{"t", "p", 3, false}), 0u);
}

TEST(OutboxFormatTest, NamesEachWayADecodeFails) {
  const Bytes good = encode(record(9));
  const auto status_of = [](Bytes b) {
    RecordHeader h;
    return check_record(b, h);
  };
  EXPECT_EQ(status_of(good), DecodeStatus::ok);
  EXPECT_EQ(status_of(Bytes(good.begin(), good.begin() + 3)), DecodeStatus::truncated);
  EXPECT_EQ(status_of(Bytes(good.begin(), good.begin() + 20)), DecodeStatus::truncated);
  EXPECT_EQ(status_of(Bytes(good.begin(), good.end() - 1)), DecodeStatus::truncated);
  auto b = good;
  b[0] ^= 1;
  EXPECT_EQ(status_of(b), DecodeStatus::bad_magic);
  b = good;
  b[8] = 2;
  EXPECT_EQ(status_of(b), DecodeStatus::bad_version);
  b = good;
  b[9] = 0x03;  // QoS 3
  EXPECT_EQ(status_of(b), DecodeStatus::bad_flags);
  b = good;
  b[9] |= 0x80;
  EXPECT_EQ(status_of(b), DecodeStatus::bad_flags);
  b = good;
  b[15] = 0x01;  // payload length 16 MiB + ...
  EXPECT_EQ(status_of(b), DecodeStatus::payload_too_long);
  b = good;
  b[good.size() - 1] ^= 0x10;
  EXPECT_EQ(status_of(b), DecodeStatus::bad_crc);
  b = good;
  b[20] ^= 0x01;  // the id: covered by the CRC too
  EXPECT_EQ(status_of(b), DecodeStatus::bad_crc);
  b = good;
  b[23] = 0x80;  // id 2^63 + 9
  EXPECT_EQ(status_of(b), DecodeStatus::bad_id);
  b = good;
  std::fill(b.begin() + 16, b.begin() + 24, 0);
  EXPECT_EQ(status_of(b), DecodeStatus::bad_id);
  EXPECT_STREQ(describe(DecodeStatus::bad_crc), "CRC mismatch");
}

TEST(OutboxFormatTest, AnImpossibleLengthIsRejectedFromTheHeaderAlone) {
  // A 32-byte header that claims 4 GiB: refused without looking further.
  Bytes b = encode(record(1));
  b.resize(kHeaderBytes);
  b[12] = b[13] = b[14] = b[15] = 0xFF;
  RecordHeader h;
  EXPECT_EQ(decode_header(b, h), DecodeStatus::payload_too_long);
}

TEST(OutboxSegmentNameTest, SortsLikeTheIdsAndParsesBack) {
  EXPECT_EQ(segment_file_name(1), "seg-00000000000000000001.rwq");
  EXPECT_EQ(segment_file_name(UINT64_MAX), "seg-18446744073709551615.rwq");
  EXPECT_LT(segment_file_name(9), segment_file_name(10));
  EXPECT_EQ(parse_segment_file_name("seg-00000000000000000042.rwq"), 42u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(kMaxRecordId)), kMaxRecordId);
  EXPECT_FALSE(parse_segment_file_name(segment_file_name(kMaxRecordId + 1)));
  for (const char* bad : {"seg-42.rwq", "seg-0000000000000000004x.rwq", "seg-00000000000000000042.rwq~",
                          "seg-00000000000000000000.rwq", "seg-99999999999999999999.rwq", "checkpoint",
                          "SEG-00000000000000000042.rwq", ""}) {
    EXPECT_FALSE(parse_segment_file_name(bad)) << bad;
  }
}

TEST(OutboxScanTest, FindsEveryRecordOfACleanSegment) {
  std::vector<std::size_t> starts;
  const Bytes b = segment(5, 10, &starts);
  const auto scan = scan_segment(b, 1);
  ASSERT_EQ(scan.records.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(scan.records[i].id, 5 + i);
    EXPECT_EQ(scan.records[i].offset, starts[i]);
  }
  EXPECT_TRUE(scan.skipped.empty());
  EXPECT_FALSE(scan.damaged_tail);
  EXPECT_TRUE(scan_segment({}, 1).records.empty());
}

TEST(OutboxScanTest, ATornLastRecordIsADamagedTailAtEveryCut) {
  std::vector<std::size_t> starts;
  const Bytes b = segment(1, 4, &starts);
  for (std::size_t cut = starts[3] + 1; cut < b.size(); ++cut) {
    const auto scan = scan_segment(std::span(b.data(), cut), 1);
    ASSERT_EQ(scan.records.size(), 3u) << cut;
    ASSERT_EQ(scan.skipped.size(), 1u) << cut;
    EXPECT_EQ(scan.skipped[0].offset, starts[3]);
    EXPECT_EQ(scan.skipped[0].bytes, cut - starts[3]);
    EXPECT_EQ(scan.skipped[0].records, 1u);
    EXPECT_TRUE(scan.damaged_tail);
  }
}

TEST(OutboxScanTest, ABitFlipAnywhereInARecordLosesThatRecordOnly) {
  std::vector<std::size_t> starts;
  const Bytes good = segment(1, 6, &starts);
  const std::size_t begin = starts[2], end = starts[3];
  for (std::size_t at = begin; at < end; ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = good;
      b[at] = static_cast<std::uint8_t>(b[at] ^ (1u << bit));
      const auto scan = scan_segment(b, 1);
      ASSERT_EQ(scan.records.size(), 5u) << "byte " << at << " bit " << bit;
      ASSERT_EQ(scan.skipped.size(), 1u);
      EXPECT_EQ(scan.skipped[0].offset, begin);
      EXPECT_EQ(scan.skipped[0].bytes, end - begin);
      EXPECT_EQ(scan.skipped[0].records, 1u);
      EXPECT_EQ(scan.records[2].id, 4u);
      EXPECT_FALSE(scan.damaged_tail);
      EXPECT_EQ(accounted(scan), b.size());
    }
  }
}

TEST(OutboxScanTest, ResyncsAfterALengthThatPointsPastTheEnd) {
  std::vector<std::size_t> starts;
  Bytes b = segment(1, 6, &starts);
  b[starts[1] + 12] = 0xFF;  // payload length: 0x..FF, longer than the segment
  b[starts[1] + 13] = 0xFF;
  const auto scan = scan_segment(b, 1);
  ASSERT_EQ(scan.records.size(), 5u);
  EXPECT_EQ(scan.records[1].id, 3u);
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_EQ(scan.skipped[0].bytes, starts[2] - starts[1]);
  EXPECT_EQ(scan.skipped[0].reason, DecodeStatus::truncated);
}

TEST(OutboxScanTest, CountsTwoAdjacentDamagedRecordsAsTwo) {
  std::vector<std::size_t> starts;
  Bytes b = segment(1, 6, &starts);
  b[starts[2] + 40] ^= 0x01;
  b[starts[3] + 40] ^= 0x01;
  const auto scan = scan_segment(b, 1);
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_EQ(scan.skipped[0].records, 2u);
  EXPECT_EQ(scan.skipped[0].bytes, starts[4] - starts[2]);
  EXPECT_EQ(scan.records.size(), 4u);
}

TEST(OutboxScanTest, ValidRecordsWhoseIdsDoNotRiseAreSkipped) {
  Bytes b = segment(10, 3);
  const Bytes again = segment(11, 1);  // a second record 11 after 12
  b.insert(b.end(), again.begin(), again.end());
  const Bytes more = segment(13, 1);
  b.insert(b.end(), more.begin(), more.end());
  const auto scan = scan_segment(b, 10);
  ASSERT_EQ(scan.records.size(), 4u);
  EXPECT_EQ(scan.records.back().id, 13u);
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_EQ(scan.skipped[0].reason, DecodeStatus::id_out_of_order);
  // And below the segment's first id.
  const auto low = scan_segment(segment(3, 2), 4);
  ASSERT_EQ(low.records.size(), 1u);
  EXPECT_EQ(low.records[0].id, 4u);
}

TEST(OutboxScanTest, GarbageIsOneSkippedRegion) {
  Bytes b(1000);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 17);
  const auto scan = scan_segment(b, 1);
  EXPECT_TRUE(scan.records.empty());
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_EQ(scan.skipped[0].bytes, b.size());
  EXPECT_TRUE(scan.damaged_tail);
}

}  // namespace
}  // namespace rackwatch::outbox
