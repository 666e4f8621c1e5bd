// `tail` as a consumer of the wire contract: catalogs by id (held telemetry
// released by its catalog, a cache across runs), gaps and duplicates in each
// boot's sequence numbers, stale alarm sets and the retained snapshot.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "diag/catalog_cache.hpp"
#include "diag/wire_decoder.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = cli::WireDecoder::Clock;

constexpr const char* kBase = "rackwatch/v1/s/r/";
constexpr std::int64_t kTime = 1'800'000'000'000;

std::string catalog(const std::string& id) {
  v1::Catalog c;
  c.set_agent_id("a1");
  c.set_site("s");
  c.set_rack("r");
  c.set_catalog_id(id);
  for (const auto& [name, unit] : {std::pair{"pdu.total", "W"}, std::pair{"cdu.flow", "L/min"}}) {
    auto* p = c.add_points();
    p->set_id(name);
    p->set_unit_symbol(unit);
  }
  return c.SerializeAsString();
}

std::string telemetry(std::uint64_t sequence, const std::string& catalog_id = "c1", const std::string& boot = "b1") {
  v1::Telemetry t;
  t.set_agent_id("a1");
  t.set_boot_id(boot);
  t.set_sequence(sequence);
  t.set_catalog_id(catalog_id);
  t.set_source("pdu");
  t.set_time_ms(kTime);
  auto* s = t.add_samples();
  s->set_point(0);
  s->set_value(4200);
  s->set_quality(v1::QUALITY_GOOD);
  return t.SerializeAsString();
}

std::string status(std::uint64_t pending, std::uint64_t last_sequence, std::uint64_t dropped = 0,
                   const std::string& boot = "b1") {
  v1::AgentStatus s;
  s.set_state(v1::AgentStatus::STATE_ONLINE);
  s.set_agent_id("a1");
  s.set_boot_id(boot);
  s.set_telemetry_sequence(last_sequence);
  s.mutable_outbox()->set_pending(pending);
  s.mutable_outbox()->set_dropped(dropped);
  return s.SerializeAsString();
}

std::string snapshot(const std::string& catalog_id) {
  v1::Snapshot n;
  n.set_agent_id("a1");
  n.set_boot_id("b1");
  n.set_catalog_id(catalog_id);
  n.set_time_ms(kTime);
  n.set_telemetry_sequence(77);
  auto* good = n.add_samples();
  good->set_point(0);
  good->set_value(4200);
  good->set_quality(v1::QUALITY_GOOD);
  good->set_time_offset_ms(-1500);
  auto* never = n.add_samples();
  never->set_point(1);
  never->set_quality(v1::QUALITY_UNKNOWN);
  never->set_reason("not read yet");
  return n.SerializeAsString();
}

std::string type_of(const json::object& o) { return std::string(o.at("type").as_string()); }

// ---- Holding telemetry until its catalog comes --------------------------

struct Arrival {
  std::string kind;  // the topic under {base}
  std::string payload;
  std::chrono::milliseconds at;  // since the start
};

struct HoldCase {
  const char* name;
  std::chrono::milliseconds hold;
  std::size_t max_held;
  std::vector<Arrival> arrivals;
  std::chrono::milliseconds expire_at;  // then expire(); 0: not called
  // What came out, in order: "type" or "type:known" / "type:unknown" for
  // telemetry and snapshots.
  std::vector<std::string> want;
};

class HoldTest : public ::testing::TestWithParam<HoldCase> {};

TEST_P(HoldTest, ReleasesInOrder) {
  const auto& c = GetParam();
  cli::WireDecoder dec("rackwatch/v1", {c.hold, c.max_held, 64, {}});
  const auto start = Clock::time_point{} + 1h;
  std::vector<std::string> got;
  auto take = [&](const std::vector<json::object>& batch) {
    for (const auto& o : batch) {
      auto t = type_of(o);
      if (t == "telemetry" || t == "snapshot") {
        t += o.at("catalog_known").as_bool() ? ":known" : ":unknown";
        if (t == "telemetry:known" || t == "telemetry:unknown") t += "#" + json::serialize(o.at("sequence"));
      }
      got.push_back(t);
    }
  };
  for (const auto& a : c.arrivals) {
    take(dec.expire(start + a.at));
    take(dec.receive(kBase + a.kind, a.payload, false, start + a.at));
  }
  if (c.expire_at.count() > 0) take(dec.expire(start + c.expire_at));
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Catalogs, HoldTest,
    ::testing::Values(
        HoldCase{"ReleasedByItsCatalogById",
                 2s, 100,
                 {{"telemetry", telemetry(1), 0ms}, {"telemetry", telemetry(2), 100ms},
                  {"catalog/c1", catalog("c1"), 500ms}},
                 0ms,
                 {"catalog", "telemetry:known#1", "telemetry:known#2"}},
        HoldCase{"ReleasedByTheCurrentCatalog",
                 2s, 100,
                 {{"telemetry", telemetry(1), 0ms}, {"catalog", catalog("c1"), 500ms}},
                 0ms,
                 {"catalog", "telemetry:known#1"}},
        HoldCase{"AnotherCatalogReleasesNothing",
                 2s, 100,
                 {{"telemetry", telemetry(1), 0ms}, {"catalog/c2", catalog("c2"), 500ms}},
                 0ms,
                 {"catalog"}},
        HoldCase{"UnnamedAfterTheHold",
                 2s, 100,
                 {{"telemetry", telemetry(1), 0ms}, {"telemetry", telemetry(2), 1500ms}},
                 2100ms,
                 {"telemetry:unknown#1"}},
        HoldCase{"AKnownCatalogIsNotHeld",
                 2s, 100,
                 {{"catalog/c1", catalog("c1"), 0ms}, {"telemetry", telemetry(1), 100ms}},
                 0ms,
                 {"catalog", "telemetry:known#1"}},
        HoldCase{"NoHold",
                 0ms, 100,
                 {{"telemetry", telemetry(1), 0ms}, {"catalog/c1", catalog("c1"), 100ms}},
                 0ms,
                 {"telemetry:unknown#1", "catalog"}},
        HoldCase{"TheOldestGoesWhenTooManyWait",
                 2s, 2,
                 {{"telemetry", telemetry(1), 0ms}, {"telemetry", telemetry(2), 0ms}, {"telemetry", telemetry(3), 0ms},
                  {"catalog/c1", catalog("c1"), 100ms}},
                 0ms,
                 {"telemetry:unknown#1", "catalog", "telemetry:known#2", "telemetry:known#3"}},
        HoldCase{"ASnapshotWaitsToo",
                 2s, 100,
                 {{"snapshot", snapshot("c1"), 0ms}, {"catalog/c1", catalog("c1"), 100ms}},
                 0ms,
                 {"catalog", "snapshot:known"}}),
    [](const auto& test) { return std::string(test.param.name); });

// ---- Sequence numbers ----------------------------------------------------

struct SequenceCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> messages;  // topic under {base}, payload
  std::vector<std::string> want;                               // report lines
};

class SequenceTest : public ::testing::TestWithParam<SequenceCase> {};

TEST_P(SequenceTest, Reports) {
  const auto& c = GetParam();
  cli::WireDecoder dec("rackwatch/v1");
  std::vector<std::string> got;
  for (const auto& [kind, payload] : c.messages) {
    for (const auto& o : dec.receive(kBase + kind, payload, false, Clock::now())) {
      const auto t = type_of(o);
      if (t == "gap" || t == "duplicate") got.push_back(dec.to_text(o));
    }
  }
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Telemetry, SequenceTest,
    ::testing::Values(
        SequenceCase{"TheFirstIsABaseline", {{"telemetry", telemetry(17)}, {"telemetry", telemetry(18)}}, {}},
        SequenceCase{"Duplicate",
                     {{"telemetry", telemetry(11)}, {"telemetry", telemetry(12)}, {"telemetry", telemetry(12)}},
                     {"! duplicate: sequence 12 of boot b1  s/r\n"}},
        SequenceCase{"BelowTheBaselineIsHistoryNotAGap",
                     {{"telemetry", telemetry(10)}, {"telemetry", telemetry(7)}, {"telemetry", telemetry(7)}},
                     {"! duplicate: sequence 7 of boot b1  s/r\n"}},
        SequenceCase{"ProvisionalWithoutAStatus",
                     {{"telemetry", telemetry(16)}, {"telemetry", telemetry(20)}},
                     {"! gap: sequences 17-19 of boot b1 missing (provisional: no status seen yet)  s/r\n"}},
        SequenceCase{"ProvisionalWhileABacklogIsPending",
                     {{"status", status(42, 30)}, {"telemetry", telemetry(16)}, {"telemetry", telemetry(18)}},
                     {"! gap: sequence 17 of boot b1 missing (provisional: backlog of 42 pending)  s/r\n"}},
        SequenceCase{"FilledByTheBacklog",
                     {{"telemetry", telemetry(1)}, {"telemetry", telemetry(4)}, {"telemetry", telemetry(3)},
                      {"telemetry", telemetry(2)}, {"status", status(0, 4)}},
                     {"! gap: sequences 2-3 of boot b1 missing (provisional: no status seen yet)  s/r\n",
                      "! gap: sequences 2-3 of boot b1 filled by late arrivals  s/r\n"}},
        SequenceCase{"ConfirmedOnceTheBacklogDrained",
                     {{"telemetry", telemetry(1)}, {"telemetry", telemetry(5)}, {"telemetry", telemetry(3)},
                      {"status", status(3, 5)}, {"status", status(0, 5)}},
                     {"! gap: sequences 2-4 of boot b1 missing (provisional: no status seen yet)  s/r\n",
                      "! gap: sequences 2-4 of boot b1 missing (confirmed: the backlog drained; 2 messages lost)  "
                      "s/r\n"}},
        SequenceCase{"DroppedByTheAgent",
                     {{"telemetry", telemetry(1)}, {"telemetry", telemetry(4)}, {"status", status(0, 4, 2)}},
                     {"! gap: sequences 2-3 of boot b1 missing (provisional: no status seen yet)  s/r\n",
                      "! gap: sequences 2-3 of boot b1 missing (confirmed: the backlog drained; all dropped by the "
                      "agent)  s/r\n"}},
        SequenceCase{"AStatusFromBeforeTheGapConfirmsNothing",
                     {{"telemetry", telemetry(1)}, {"telemetry", telemetry(4)}, {"status", status(0, 2)}},
                     {"! gap: sequences 2-3 of boot b1 missing (provisional: no status seen yet)  s/r\n"}},
        SequenceCase{"ANewBootsDrainedOutboxConfirmsTheOldBoots",
                     {{"telemetry", telemetry(1)}, {"telemetry", telemetry(3)}, {"status", status(0, 1, 0, "b2")},
                      {"telemetry", telemetry(1, "c1", "b2")}},
                     {"! gap: sequence 2 of boot b1 missing (provisional: no status seen yet)  s/r\n",
                      "! gap: sequence 2 of boot b1 missing (confirmed: the backlog drained; 1 message lost)  "
                      "s/r\n"}}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(SequenceJsonTest, GapAndDuplicateObjects) {
  cli::WireDecoder dec("rackwatch/v1");
  const auto now = Clock::now();
  dec.receive(std::string(kBase) + "status", status(42, 9), false, now);
  dec.receive(std::string(kBase) + "telemetry", telemetry(1), false, now);
  auto out = dec.receive(std::string(kBase) + "telemetry", telemetry(4), false, now);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(json::serialize(out[1]),
            R"({"type":"gap","site":"s","rack":"r","agent_id":"a1","boot_id":"b1","state":"provisional",)"
            R"("first":2,"last":3,"missing":2,"pending":42})");
  out = dec.receive(std::string(kBase) + "telemetry", telemetry(4), false, now);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(json::serialize(out[1]),
            R"({"type":"duplicate","site":"s","rack":"r","agent_id":"a1","boot_id":"b1","sequence":4})");
  out = dec.receive(std::string(kBase) + "status", status(0, 9, 5), false, now);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(json::serialize(out[1]),
            R"({"type":"gap","site":"s","rack":"r","agent_id":"a1","boot_id":"b1","state":"confirmed",)"
            R"("first":2,"last":3,"missing":2,"dropped_by_agent":2})");
}

// ---- Alarm sets ------------------------------------------------------------

struct AlarmSetCase {
  const char* name;
  std::string status_boot;  // empty: no status before
  std::string set_boot;
  int active;
  bool stale;
  std::string text;  // in the text form
};

class AlarmSetTest : public ::testing::TestWithParam<AlarmSetCase> {};

TEST_P(AlarmSetTest, StaleOrCurrent) {
  const auto& c = GetParam();
  cli::WireDecoder dec("rackwatch/v1");
  if (!c.status_boot.empty()) dec.decode(std::string(kBase) + "status", status(0, 1, 0, c.status_boot));
  v1::ActiveAlarms a;
  a.set_agent_id("a1");
  a.set_boot_id(c.set_boot);
  a.set_time_ms(kTime);
  for (int i = 0; i < c.active; ++i) {
    auto* e = a.add_alarms();
    e->set_point_id("cdu.supply");
    e->set_kind("high_critical");
    e->set_severity(v1::AlarmEvent::SEVERITY_CRITICAL);
  }
  const auto o = dec.decode(std::string(kBase) + "alarms", a.SerializeAsString());
  EXPECT_EQ(o.at("stale").as_bool(), c.stale);
  EXPECT_EQ(o.at("active").as_array().size(), static_cast<std::size_t>(c.active));
  EXPECT_NE(dec.to_text(o).find(c.text), std::string::npos) << dec.to_text(o);
}

INSTANTIATE_TEST_SUITE_P(
    Alarms, AlarmSetTest,
    ::testing::Values(AlarmSetCase{"EmptyIsNoneActive", "b1", "b1", 0, false, "s/r  alarms: none active\n"},
                      AlarmSetCase{"OfTheCurrentBoot", "b1", "b1", 1, false, "alarms: 1 active alarm\n"},
                      AlarmSetCase{"OfAnEarlierBoot", "b2", "b1", 1, true,
                                   "alarms: 1 active alarm  (from an earlier boot: stale)\n"},
                      AlarmSetCase{"EmptyOfAnEarlierBoot", "b2", "b1", 0, true,
                                   "alarms: none active  (from an earlier boot: stale)\n"},
                      AlarmSetCase{"NoStatusYet", "", "b1", 1, false, "alarms: 1 active alarm\n"}),
    [](const auto& test) { return std::string(test.param.name); });

// ---- Snapshot --------------------------------------------------------------

TEST(SnapshotTest, NamesEveryPointAndShowsNoValueForOneNeverRead) {
  cli::WireDecoder dec("rackwatch/v1");
  dec.decode(std::string(kBase) + "catalog/c1", catalog("c1"));
  const auto o = dec.decode(std::string(kBase) + "snapshot", snapshot("c1"));
  ASSERT_FALSE(o.contains("error")) << json::serialize(o);
  EXPECT_EQ(type_of(o), "snapshot");
  EXPECT_TRUE(o.at("catalog_known").as_bool());
  EXPECT_EQ(o.at("telemetry_sequence").as_uint64(), 77u);
  const auto& samples = o.at("samples").as_array();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].at("point").as_string(), "pdu.total");
  EXPECT_EQ(samples[0].at("value").as_double(), 4200);
  EXPECT_EQ(samples[0].at("unit").as_string(), "W");
  EXPECT_EQ(samples[0].at("time_ms").as_int64(), kTime - 1500);
  EXPECT_EQ(samples[1].at("point").as_string(), "cdu.flow");
  EXPECT_TRUE(samples[1].at("value").is_null());
  EXPECT_EQ(samples[1].at("quality").as_string(), "unknown");
  const auto text = dec.to_text(o);
  EXPECT_NE(text.find("snapshot of 2 points (to telemetry #77)"), std::string::npos) << text;
  EXPECT_NE(text.find("pdu.total  4.2  kW"), std::string::npos) << text;
  EXPECT_NE(text.find("cdu.flow"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown: not read yet"), std::string::npos) << text;
}

// ---- Catalog cache ---------------------------------------------------------

TEST(CatalogCacheTest, ARestartedTailNamesTelemetryAtOnce) {
  test::TempDir dir("rackwatch-catalog-cache");
  const std::string site_topic = "rackwatch/v1/hall_a/r%1/";
  {
    cli::WireDecoder first("rackwatch/v1", {2s, 100, 64, dir.path().string()});
    first.receive(site_topic + "catalog/c1", catalog("c1"), true, Clock::now());
    EXPECT_TRUE(first.take_warnings().empty());
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "hall%5Fa_r%251_c1.pb"));
  EXPECT_EQ(cli::catalog_file_name("hall_a", "r%1", "c1"), "hall%5Fa_r%251_c1.pb");

  cli::WireDecoder second("rackwatch/v1", {2s, 100, 64, dir.path().string()});
  EXPECT_TRUE(second.take_warnings().empty());
  const auto out = second.receive(site_topic + "telemetry", telemetry(1), false, Clock::now());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].at("catalog_known").as_bool());
  EXPECT_EQ(out[0].at("samples").at(0).at("point").as_string(), "pdu.total");
  // Another rack's telemetry naming the same id is not named by it.
  EXPECT_FALSE(second.decode("rackwatch/v1/hall_a/r2/telemetry", telemetry(1)).at("catalog_known").as_bool());
}

TEST(CatalogCacheTest, AFileThatIsNotACatalogIsReported) {
  test::TempDir dir("rackwatch-catalog-cache");
  std::filesystem::create_directories(dir.path());
  { std::ofstream(dir / "s_r_c1.pb") << "\xff\xff\xff"; }
  { std::ofstream(dir / "stray.pb") << ""; }
  cli::WireDecoder dec("rackwatch/v1", {2s, 100, 64, dir.path().string()});
  const auto warnings = dec.take_warnings();
  ASSERT_EQ(warnings.size(), 2u);
}

TEST(CatalogCacheTest, OnlySoManyCatalogsPerRackStayInMemory) {
  cli::WireDecoder dec("rackwatch/v1", {0ms, 100, 2, {}});
  for (const char* id : {"c1", "c2", "c3"}) dec.decode(std::string(kBase) + "catalog/" + id, catalog(id));
  EXPECT_FALSE(dec.decode(std::string(kBase) + "telemetry", telemetry(1, "c1")).at("catalog_known").as_bool());
  EXPECT_TRUE(dec.decode(std::string(kBase) + "telemetry", telemetry(2, "c3")).at("catalog_known").as_bool());
}

}  // namespace
}  // namespace rackwatch
