// The catalog: every point once, polled then derived, in config order; ids
// made in one place; how points map across a reload.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

Config load(const std::string& sources, const std::string& derived = "") {
  Diagnostics d;
  auto cfg = parse_config("agent: {site: hall-a, rack: r07}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n" +
                              sources + (derived.empty() ? "" : "derived:\n" + derived),
                          "t.yaml", builtin_source_types(), d);
  if (!cfg) throw std::runtime_error("config does not load");
  return *cfg;
}

const std::string kTwo = R"y(  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
  - name: cdu
    type: sim
    interval: 2s
    points:
      - {name: supply, signal: cdu.supply_temp}
)y";

TEST(CatalogTest, NumbersPolledPointsThenDerivedInConfigOrder) {
  const auto cfg = load(kTwo, "  - {name: total, unit: W, expr: pdu.l1 + pdu.l2}\n");
  const Catalog c(cfg);
  ASSERT_EQ(c.size(), 4u);
  struct Row {
    std::uint32_t index;
    const char* id;
    const char* device;
    bool derived;
    long interval_ms;
  };
  const Row rows[] = {{0, "pdu.l1", "pdu", false, 1000},
                      {1, "pdu.l2", "pdu", false, 1000},
                      {2, "cdu.supply", "cdu", false, 2000},
                      {3, "derived.total", "derived", true, 1000}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.id);
    EXPECT_EQ(c[r.index].id, r.id);
    EXPECT_EQ(c[r.index].device, r.device);
    EXPECT_EQ(c[r.index].derived(), r.derived);
    EXPECT_EQ(c[r.index].interval.count(), r.interval_ms);
    EXPECT_EQ(c.find(r.id), r.index);
  }
  EXPECT_EQ(c[2].config, &cfg.sources[1].points[0]);
  EXPECT_EQ(c[3].config, &cfg.derived[0].point);
  EXPECT_EQ(c.first_point(1), 2u);
  EXPECT_EQ(c.first_derived(), 3u);
  EXPECT_EQ(c.index_of(1, 0), 2u);
  EXPECT_EQ(c.find_source("cdu"), 1u);
  EXPECT_FALSE(c.find_source("derived"));
  EXPECT_FALSE(c.find("pdu.l3"));
  EXPECT_EQ(point_id("pdu-a", "l1_power"), "pdu-a.l1_power");
}

TEST(CatalogTest, AReloadMapsEveryPointThatStaysToItsOldIndex) {
  const auto before_cfg = load(kTwo);
  const Catalog before(before_cfg);
  // cdu moves first, pdu loses l1 and gains l3.
  const auto after_cfg = load(R"y(  - name: cdu
    type: sim
    interval: 2s
    points:
      - {name: supply, signal: cdu.supply_temp}
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l2, signal: pdu.l2.power}
      - {name: l3, signal: pdu.l3.power}
)y");
  const Catalog after(after_cfg);
  const auto from = after.carried_from(before);
  ASSERT_EQ(from.size(), 3u);
  EXPECT_EQ(from[0], 2u);  // cdu.supply
  EXPECT_EQ(from[1], 1u);  // pdu.l2
  EXPECT_FALSE(from[2]);   // pdu.l3 is new
}

}  // namespace
}  // namespace rackwatch
