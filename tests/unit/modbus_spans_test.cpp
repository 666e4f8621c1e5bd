#include "sources/modbus/modbus_spans.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rackwatch::modbus {
namespace {

constexpr auto kHr = Table::holding_register;
constexpr auto kIr = Table::input_register;
constexpr auto kCoil = Table::coil;
constexpr auto kDi = Table::discrete_input;

using Points = std::vector<RegisterRange>;

SpanPlan plan(const Points& points, SpanOptions options = {}, const Points& unreadable = {}) {
  auto r = plan_spans(points, options, unreadable);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : SpanPlan{};
}

// Each point's (span, offset), failing the test for a point left out.
std::vector<std::pair<std::size_t, std::uint16_t>> placements(const SpanPlan& p) {
  std::vector<std::pair<std::size_t, std::uint16_t>> out;
  for (const auto& r : p.points) {
    EXPECT_TRUE(r) << r.error().message;
    out.emplace_back(r ? r->span : 999, r ? r->offset : 0);
  }
  return out;
}

using P = std::vector<std::pair<std::size_t, std::uint16_t>>;

TEST(ModbusSpans, AdjacentPointsShareARead) {
  auto p = plan({{kHr, 3, 2}, {kHr, 0, 2}, {kHr, 2, 1}});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 0, 5}}));
  EXPECT_EQ(placements(p), (P{{0, 3}, {0, 0}, {0, 2}}));
  EXPECT_EQ(p.spans[0].request(), (ReadRequest{FunctionCode::read_holding_registers, 0, 5}));
}

TEST(ModbusSpans, ReadsThroughGapsUpToTheMaximum) {
  const Points points{{kHr, 0, 1}, {kHr, 5, 1}};  // 4 unneeded registers between
  EXPECT_EQ(plan(points).spans.size(), 2u);       // max_gap 0 by default
  EXPECT_EQ(plan(points, {.max_gap = 3}).spans.size(), 2u);
  auto p = plan(points, {.max_gap = 4});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 0, 6}}));
  EXPECT_EQ(placements(p), (P{{0, 0}, {0, 5}}));
}

TEST(ModbusSpans, SplitsAt125Registers) {
  Points points;
  for (std::uint16_t a = 0; a < 130; ++a) points.push_back({kHr, a, 1});
  auto p = plan(points);
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 0, 125}, {kHr, 125, 5}}));
  EXPECT_EQ(p.points[124]->span, 0u);
  EXPECT_EQ(p.points[124]->offset, 124);
  EXPECT_EQ(p.points[125]->span, 1u);
  EXPECT_EQ(p.points[125]->offset, 0);

  // A two-register value does not straddle the limit: it starts the next read.
  auto q = plan({{kHr, 0, 2}, {kHr, 123, 2}, {kHr, 124, 2}}, {.max_gap = 125});
  EXPECT_EQ(q.spans, (std::vector<Span>{{kHr, 0, 125}, {kHr, 124, 2}}));
  EXPECT_EQ(placements(q), (P{{0, 0}, {0, 123}, {1, 0}}));

  // A lower limit for a device that refuses long reads.
  auto r = plan({{kIr, 0, 4}, {kIr, 4, 4}, {kIr, 8, 4}}, {.max_registers = 8});
  EXPECT_EQ(r.spans, (std::vector<Span>{{kIr, 0, 8}, {kIr, 8, 4}}));
}

TEST(ModbusSpans, BitsSplitAt2000) {
  auto p = plan({{kCoil, 0, 1}, {kCoil, 1999, 1}}, {.max_gap = 2000});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kCoil, 0, 2000}}));
  auto q = plan({{kCoil, 0, 1}, {kCoil, 2000, 1}}, {.max_gap = 2000});
  EXPECT_EQ(q.spans, (std::vector<Span>{{kCoil, 0, 1}, {kCoil, 2000, 1}}));
  // The register limit does not apply to bits, nor the bit limit to registers.
  auto r = plan({{kDi, 0, 300}, {kHr, 0, 125}});
  EXPECT_EQ(r.spans, (std::vector<Span>{{kDi, 0, 300}, {kHr, 0, 125}}));
}

TEST(ModbusSpans, NeverReadsAcrossAnUnreadableRegister) {
  const Points points{{kHr, 0, 1}, {kHr, 2, 1}, {kHr, 4, 2}};
  auto p = plan(points, {.max_gap = 10}, {{kHr, 1, 1}});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 0, 1}, {kHr, 2, 4}}));
  EXPECT_EQ(placements(p), (P{{0, 0}, {1, 0}, {1, 2}}));
  // An unreadable register of another table is no barrier.
  EXPECT_EQ(plan(points, {.max_gap = 10}, {{kIr, 1, 1}}).spans.size(), 1u);
  // A barrier range, in the gap between two points.
  auto q = plan({{kHr, 0, 1}, {kHr, 10, 1}}, {.max_gap = 20}, {{kHr, 3, 4}});
  EXPECT_EQ(q.spans.size(), 2u);
}

TEST(ModbusSpans, APointOnAnUnreadableRegisterIsLeftOut) {
  auto p = plan({{kHr, 0, 2}, {kHr, 10, 2}, {kHr, 12, 1}}, {}, {{kHr, 11, 1}});
  ASSERT_EQ(p.points.size(), 3u);
  EXPECT_TRUE(p.points[0]);
  ASSERT_FALSE(p.points[1]);
  EXPECT_EQ(p.points[1].error().code, ErrorCode::unreadable_register);
  EXPECT_EQ(p.points[1].error().message, "holding register 11 is unreadable");
  EXPECT_TRUE(p.points[2]);
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 0, 2}, {kHr, 12, 1}}));
}

TEST(ModbusSpans, KeepsTablesApart) {
  auto p = plan({{kIr, 0, 1}, {kHr, 0, 1}, {kDi, 0, 1}, {kCoil, 0, 1}, {kHr, 1, 1}});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kCoil, 0, 1}, {kDi, 0, 1}, {kHr, 0, 2}, {kIr, 0, 1}}));
  EXPECT_EQ(placements(p), (P{{3, 0}, {2, 0}, {1, 0}, {0, 0}, {2, 1}}));
  EXPECT_EQ(p.spans[0].request().function, FunctionCode::read_coils);
  EXPECT_EQ(p.spans[1].request().function, FunctionCode::read_discrete_inputs);
  EXPECT_EQ(p.spans[3].request().function, FunctionCode::read_input_registers);
}

TEST(ModbusSpans, DuplicateAndOverlappingPoints) {
  auto p = plan({{kHr, 10, 2}, {kHr, 10, 2}, {kHr, 11, 1}, {kHr, 10, 1}});
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 10, 2}}));
  EXPECT_EQ(placements(p), (P{{0, 0}, {0, 0}, {0, 1}, {0, 0}}));

  auto q = plan({{kHr, 10, 4}, {kHr, 12, 4}});
  EXPECT_EQ(q.spans, (std::vector<Span>{{kHr, 10, 6}}));
  EXPECT_EQ(placements(q), (P{{0, 0}, {0, 2}}));

  // Overlapping points that do not fit one read: the later read serves
  // what both cover.
  auto r = plan({{kHr, 0, 100}, {kHr, 90, 40}, {kHr, 95, 2}});
  EXPECT_EQ(r.spans, (std::vector<Span>{{kHr, 0, 100}, {kHr, 90, 40}}));
  EXPECT_EQ(placements(r), (P{{0, 0}, {1, 0}, {1, 5}}));
}

TEST(ModbusSpans, PointsNoReadCanCoverAreLeftOut) {
  auto p = plan({{kHr, 0, 0}, {kHr, 0, 126}, {kHr, 65535, 2}, {kHr, 65535, 1}, {kCoil, 0, 2001}});
  ASSERT_EQ(p.points.size(), 5u);
  EXPECT_EQ(p.points[0].error().code, ErrorCode::invalid_range);
  EXPECT_EQ(p.points[1].error().message,
            "holding register 0 count 126 does not fit one read (1..125, ending by 65535)");
  EXPECT_EQ(p.points[2].error().code, ErrorCode::invalid_range);
  ASSERT_TRUE(p.points[3]);
  EXPECT_EQ(p.points[4].error().code, ErrorCode::invalid_range);
  EXPECT_EQ(p.spans, (std::vector<Span>{{kHr, 65535, 1}}));
}

TEST(ModbusSpans, RefusesUnusableOptions) {
  EXPECT_EQ(plan_spans(Points{}, {.max_registers = 0}).error().code, ErrorCode::invalid_range);
  EXPECT_EQ(plan_spans(Points{}, {.max_registers = 126}).error().message,
            "max_registers 126 is outside 1..125");
  EXPECT_FALSE(plan_spans(Points{}, {.max_bits = 2001}));
  auto empty = plan_spans(Points{});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->spans.empty());
}

// Random plans keep every promise: reads within the limits and the address
// space, each point inside its read, no unreadable register read, gaps no
// longer than allowed, and no two reads that one could replace.
TEST(ModbusSpans, RandomPlansKeepTheirPromises) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    SpanOptions options;
    options.max_gap = static_cast<std::uint16_t>(rng() % 12);
    options.max_registers = static_cast<std::uint16_t>(1 + rng() % 125);
    Points points;
    const std::size_t n = 1 + rng() % 60;
    for (std::size_t i = 0; i < n; ++i) {
      const auto table = static_cast<Table>(rng() % 4);
      const auto count = static_cast<std::uint16_t>(1 + rng() % 8);
      const auto address = static_cast<std::uint16_t>(65400 + rng() % 136);
      points.push_back({table, address, count});
    }
    Points unreadable;
    for (std::size_t i = 0; i < rng() % 4; ++i) {
      unreadable.push_back(
          {static_cast<Table>(rng() % 4), static_cast<std::uint16_t>(65400 + rng() % 136), 1});
    }
    auto p = plan(points, options, unreadable);
    ASSERT_EQ(p.points.size(), points.size());
    std::vector<std::vector<bool>> covered(p.spans.size());
    for (std::size_t s = 0; s < p.spans.size(); ++s) {
      const auto& span = p.spans[s];
      const bool bits = span.table == kCoil || span.table == kDi;
      ASSERT_GE(span.count, 1);
      ASSERT_LE(span.count, bits ? options.max_bits : options.max_registers);
      ASSERT_LE(std::uint32_t{span.address} + span.count, 0x10000u);
      for (const auto& u : unreadable) {
        ASSERT_FALSE(u.table == span.table && u.address >= span.address &&
                     u.address < span.address + span.count)
            << "reads unreadable " << u.address;
      }
      covered[s].assign(span.count, false);
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& pt = points[i];
      const auto& r = p.points[i];
      if (!r) {
        // Left out only for a reason it can show.
        bool on_unreadable = false;
        for (const auto& u : unreadable) {
          on_unreadable |=
              u.table == pt.table && u.address >= pt.address && u.address < pt.address + pt.count;
        }
        const bool too_far =
            std::uint32_t{pt.address} + pt.count > 0x10000u || pt.count > options.max_registers;
        ASSERT_TRUE(on_unreadable || too_far) << r.error().message;
        continue;
      }
      ASSERT_LT(r->span, p.spans.size());
      const auto& span = p.spans[r->span];
      ASSERT_EQ(span.table, pt.table);
      ASSERT_EQ(span.address + r->offset, pt.address);
      ASSERT_LE(r->offset + pt.count, span.count);
      for (std::uint16_t k = 0; k < pt.count; ++k) covered[r->span][r->offset + k] = true;
    }
    for (std::size_t s = 0; s < p.spans.size(); ++s) {
      // Every read starts and ends with a needed register, and reads
      // through no more than max_gap unneeded ones in a row.
      ASSERT_TRUE(covered[s].front());
      ASSERT_TRUE(covered[s].back());
      std::size_t run = 0;
      for (bool c : covered[s]) {
        run = c ? 0 : run + 1;
        ASSERT_LE(run, options.max_gap);
      }
    }
    // Consecutive reads of a table could not have been one.
    for (std::size_t s = 1; s < p.spans.size(); ++s) {
      const auto& a = p.spans[s - 1];
      const auto& b = p.spans[s];
      if (a.table != b.table) continue;
      const std::uint32_t end = std::max<std::uint32_t>(a.address + a.count, b.address + b.count);
      const bool bits = a.table == kCoil || a.table == kDi;
      const bool fits = end - a.address <= (bits ? options.max_bits : options.max_registers);
      const bool near = b.address <= a.address + a.count + options.max_gap;
      bool barrier = false;
      for (const auto& u : unreadable) {
        barrier |= u.table == a.table && u.address >= a.address && u.address < end;
      }
      ASSERT_FALSE(fits && near && !barrier) << "reads " << s - 1 << " and " << s << " could merge";
    }
  }
}

}  // namespace
}  // namespace rackwatch::modbus
