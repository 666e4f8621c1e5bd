// SunSpec discovery against a real peer (the libmodbus `modbus_peer`): a
// device whose map begins at a base other than the usual 40000 — "SunS" at
// 50000, holding 0 readable zeros, 40000 refused — with the common model
// (1) holding its maker's strings, then a float meter (213) that rackwatch
// has no profile for, then the profile's model at a place no fixed map
// would have it. The agent finds the model by walking the chain, never
// reads 213's data, and every point decodes as served (the checks of the
// shipped-profile test, support/modbus_profile_maps.hpp, on the profile's
// addresses moved to where the model is). The common model's strings are
// what the source says the device is. Then what goes wrong: no "SunS" at
// any base, a chain that runs past 65535 or would loop, a profile's model
// missing; a device whose map changes (a restart with another layout, the
// marker gone) is discovered again; a dead device's discovery is a probe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "core/diagnostics.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "support/modbus_expected.hpp"
#include "support/config_text.hpp"
#include "support/modbus_peer.hpp"
#include "support/modbus_profile_maps.hpp"
#include "support/run.hpp"
#include "support/sunspec_image.hpp"

namespace rackwatch::test {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

// The usual suspects at the bases auto tries first: holding 0 reads zeros
// (unmapped), 40000 answers "illegal data address".
constexpr const char* kBusyBases = "holding 40000-40001 unreadable\n";
constexpr std::uint32_t kBase = 50000;

// ---------------------------------------------------------------------------
// The agent's side.

Config parse(const std::string& text) { return test::parse_config_text(text); }

// One source a unit, each with `sunspec` discovery. Generous timeouts: a
// loaded machine must not fail a read.
std::string config_text(const std::string& profile, const std::string& link, const std::vector<int>& units,
                        const std::string& sunspec = "{base: auto}", const std::string& extra = "") {
  std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n";
  for (int unit : units) {
    text += "  - name: dev" + std::to_string(unit) + "\n    type: modbus\n    interval: 10s\n    timeout: 5s\n" +
            "    request_timeout: 2s\n    " + link + "\n    unit: " + std::to_string(unit) + "\n    profile: " +
            profile + "\n    sunspec: " + sunspec + "\n" + extra;
  }
  return text;
}

std::string profile_file(const std::string& name) { return source_path("config/profiles/" + name + ".yaml"); }

// The profile's model block as its YAML says (read without the agent).
Block model_block(const std::string& path) {
  const YAML::Node node = YAML::LoadFile(path)["sunspec"];
  return {static_cast<std::uint16_t>(node["model"].as<unsigned>()), static_cast<std::uint16_t>(node["length"].as<unsigned>())};
}
std::uint32_t model_data_start(const std::string& path) { return YAML::LoadFile(path)["sunspec"]["data_start"].as<std::uint32_t>(); }

// The spec with every address moved by `shift`.
ProfileSpec moved(ProfileSpec spec, std::int64_t shift) {
  for (auto& p : spec.points) {
    p.address = static_cast<std::uint32_t>(p.address + shift);
    if (p.scale_factor) p.scale_factor = static_cast<std::uint32_t>(*p.scale_factor + shift);
  }
  return spec;
}

// The requests of `unit` the peer logged from `from` on.
std::vector<ServedRequest> served_since(const ModbusPeer& peer, std::size_t from, int unit) {
  std::vector<ServedRequest> out;
  const auto all = peer.served();
  for (std::size_t k = from; k < all.size(); ++k) {
    if (all[k].unit == unit) out.push_back(all[k]);
  }
  return out;
}

std::string requests_text(const std::vector<ServedRequest>& served) {
  std::string out;
  for (const auto& r : served) {
    out += "  " + r.table + " " + std::to_string(r.addr) + " (" + std::to_string(r.count) + ") " + r.outcome + "\n";
  }
  return out;
}

bool overlaps(const ServedRequest& r, std::uint32_t first, std::uint32_t end) {
  return r.table == "holding" && r.addr < end && first < std::uint32_t{r.addr} + r.count;
}

std::string notes_text(const SourceHealth& h) {
  std::string out;
  for (const auto& n : h.notes) out += n + "\n";
  return out;
}

// Sources of a config, made on one io_context.
class Sources {
 public:
  explicit Sources(const Config& config) : config_(config) {
    const SourceEnv env{io_.get_executor(), pool_.get_executor()};
    for (const auto& sc : config_.sources) sources_.push_back(modbus::modbus_source_type().create(sc, env));
  }
  modbus::ModbusSource& operator[](std::size_t i) { return dynamic_cast<modbus::ModbusSource&>(*sources_.at(i)); }
  const SourceConfig& config(std::size_t i) const { return config_.sources.at(i); }
  std::vector<RawReading> poll(std::size_t i) { return test::poll(io_, *sources_.at(i)); }
  asio::io_context& io() { return io_; }

 private:
  const Config& config_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  std::vector<std::unique_ptr<Source>> sources_;
};

// ---------------------------------------------------------------------------
// Found by walking: every SunSpec profile, its model behind model 1 and a 213.

enum class Transport { tcp, rtu };
using Param = std::tuple<std::string, Transport>;

class ModbusSunSpecTest : public ::testing::TestWithParam<Param> {};

TEST_P(ModbusSunSpecTest, FoundByWalkingAndEveryPointDecodesAsServed) {
  const auto& [name, transport] = GetParam();
  const std::string path = profile_file(name);
  const Block model = model_block(path);
  const Strings strings;
  const Skeleton sk = skeleton(kBase, {{1, 66}, {213, 124}, model}, strings);
  const std::uint32_t header = sk.header.at(model.id);
  ASSERT_EQ(header, 50196u) << "1 at 50002 (66), 213 at 50070 (124), the model at 50196";
  const std::int64_t shift = std::int64_t{header} + 2 - model_data_start(path);
  const ProfileSpec spec = moved(read_profile_yaml(path), shift);

  // The conditioning of the points as the agent reads them (for the map's
  // ranges); the link here is a placeholder.
  const Config placeholder = parse(config_text(path, "tcp: 127.0.0.1:1", {1}));
  const MapWriter maps(spec, placeholder.sources[0].points);

  ModbusPeer::Options options;
  options.rtu = transport == Transport::rtu;
  options.unit_maps = {{1, kBusyBases + sk.map + maps.normal()}, {2, kBusyBases + sk.map + maps.sentinels()}};
  ModbusPeer peer(options);
  const std::string link = options.rtu ? "rtu: {device: " + peer.pty_path() + ", baud: 19200, parity: even}"
                                       : "tcp: " + peer.endpoint();
  const Config config = parse(config_text(path, link, {1, 2}));
  Sources sources(config);

  std::vector<PollRecord> records;
  for (std::size_t k = 0; k < kPollClocks.size(); ++k) {
    const double t = kPollClocks[k];
    SCOPED_TRACE("poll at peer clock " + number(t));
    peer.set_clock(t);
    const auto before = peer.served().size();
    const auto readings = sources.poll(0);
    const auto served = served_since(peer, before, 1);
    SCOPED_TRACE("requests:\n" + requests_text(served));
    if (k == 0) {
      // The discovery: the marker at 0 (zeros), 40000 (refused), 50000; the
      // headers one by one to the end marker; the common model's data.
      const std::vector<std::tuple<std::uint16_t, std::uint16_t, std::string>> walk{
          {0, 2, "ok"},     {40000, 2, "exception"}, {50000, 2, "ok"},      {50002, 2, "ok"},
          {50070, 2, "ok"}, {50196, 2, "ok"},        {50303, 2, "ok"},      {50004, 66, "ok"}};
      ASSERT_GT(served.size(), walk.size());
      for (std::size_t i = 0; i < walk.size(); ++i) {
        EXPECT_EQ(served[i].addr, std::get<0>(walk[i])) << "request " << i;
        EXPECT_EQ(served[i].count, std::get<1>(walk[i])) << "request " << i;
        EXPECT_EQ(served[i].outcome, std::get<2>(walk[i])) << "request " << i;
      }
    } else {
      for (const auto& r : served) {
        EXPECT_FALSE(overlaps(r, 0, 50196)) << "discovery is kept: no marker, header or common model read again";
      }
    }
    for (const auto& r : served) {
      EXPECT_FALSE(overlaps(r, 50072, 50196)) << "model 213's data is skipped by its length, never read";
      if (r.addr != 40000) {
        EXPECT_EQ(r.outcome, "ok") << r.addr;
      }
    }
    EXPECT_TRUE(std::any_of(served.begin(), served.end(),
                            [](const ServedRequest& r) { return r.addr <= 50196 && r.addr + r.count >= 50198; }))
        << "the model's header is read with its data at every poll";
    std::vector<ServedRequest> model_reads;
    for (const auto& r : served) {
      if (overlaps(r, 50196, 50303)) model_reads.push_back(r);
    }
    records.push_back(check_poll(spec, sources.config(0), readings, model_reads));
    EXPECT_EQ(records.back().good, static_cast<int>(spec.points.size()))
        << "points good of " << spec.points.size() << "; the map:\n" << maps.normal();
  }

  const auto info = sources[0].device_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->manufacturer, strings.manufacturer);
  EXPECT_EQ(info->model, strings.model);
  EXPECT_EQ(info->serial_number, strings.serial);
  EXPECT_EQ(info->version, strings.version);
  const auto health = sources[0].health();
  const std::string notes = notes_text(health);
  EXPECT_THAT(notes, HasSubstr("SunSpec \"SunS\" at holding register 50000 (base auto; 0: 0x0000 0x0000; "
                               "40000: exception 0x02 illegal data address)"));
  EXPECT_THAT(notes, HasSubstr("SunSpec chain: 1 at 50002 (66), 213 at 50070 (124), " + std::to_string(model.id) +
                               " at 50196 (105), end at 50303"));
  EXPECT_THAT(notes, HasSubstr("SunSpec models read: 1 (common: device info), " + std::to_string(model.id) +
                               " (the profile's, data from 50198); skipped: 213"));
  EXPECT_THAT(notes, HasSubstr("device: manufacturer \"Rackwatch Test Meters\", model \"RT-3Y 400V\", serial "
                               "\"RT0042-0815\", version \"4.2.0\""));

  {
    SCOPED_TRACE("poll of the sentinel map (unit 2)");
    peer.set_clock(kSentinelPollClock);
    const auto before = peer.served().size();
    const auto readings = sources.poll(1);
    std::vector<ServedRequest> model_reads;
    for (const auto& r : served_since(peer, before, 2)) {
      if (overlaps(r, 50196, 50303)) model_reads.push_back(r);
    }
    const PollRecord r = check_poll(spec, sources.config(1), readings, model_reads);
    EXPECT_GT(r.value_sentinels, 0) << "no point was served its sentinel";
    EXPECT_GT(r.scale_factor_sentinels, 0) << "no scale factor sentinel served";
  }
}

std::vector<std::string> sunspec_profiles() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("config/profiles"))) {
    if (entry.path().extension() == ".yaml" && YAML::LoadFile(entry.path().string())["sunspec"]) {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = std::get<0>(info.param);
  for (auto& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name + (std::get<1>(info.param) == Transport::tcp ? "_tcp" : "_rtu");
}

INSTANTIATE_TEST_SUITE_P(SunSpecProfiles, ModbusSunSpecTest,
                         ::testing::Combine(::testing::ValuesIn(sunspec_profiles()),
                                            ::testing::Values(Transport::tcp)),
                         param_name);
INSTANTIATE_TEST_SUITE_P(SunSpecOverRtu, ModbusSunSpecTest,
                         ::testing::Values(Param{"sunspec-203-meter", Transport::rtu}), param_name);

TEST(ModbusSunSpecProfiles, TheMetersHaveTheirModels) {
  const auto names = sunspec_profiles();
  EXPECT_EQ(names, (std::vector<std::string>{"sunspec-201-meter", "sunspec-202-meter", "sunspec-203-meter",
                                             "sunspec-204-meter"}));
  for (const auto& n : names) EXPECT_EQ(model_block(profile_file(n)).length, 105) << n;
}

// ---------------------------------------------------------------------------
// What goes wrong.

// Polls unit 1 of a one-source config against a peer serving `map`.
class ModbusSunSpecErrorTest : public ::testing::Test {
 protected:
  void serve(const std::string& map, const std::string& profile = "sunspec-203-meter",
             const std::string& sunspec = "{base: auto}") {
    ModbusPeer::Options options;
    options.unit_maps = {{1, map}};
    peer_.emplace(options);
    config_.emplace(parse(config_text(profile_file(profile), "tcp: " + peer_->endpoint(), {1}, sunspec)));
    sources_.emplace(*config_);
  }
  // One poll; every reading must fail with the same reason, which is returned.
  std::string failing_poll() {
    const auto readings = sources_->poll(0);
    EXPECT_FALSE(readings.empty());
    for (const auto& r : readings) {
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(r.error, readings.front().error);
    }
    return readings.empty() ? "" : readings.front().error;
  }

  std::optional<ModbusPeer> peer_;
  std::optional<Config> config_;
  std::optional<Sources> sources_;
};

TEST_F(ModbusSunSpecErrorTest, NoMarkerAtAnyBaseNamesTheAddressesTried) {
  // Zeros at 0, refused at 40000, the marker's bytes swapped at 50000.
  serve(std::string(kBusyBases) + "holding 50000 0x7553 0x536E\n");
  const std::string why = failing_poll();
  EXPECT_THAT(why, HasSubstr("SunSpec discovery (unit 1 on tcp " + peer_->endpoint() + ")"));
  EXPECT_THAT(why, HasSubstr("no SunSpec marker \"SunS\" (0x5375 0x6E53) at holding registers 0, 40000 or 50000 "
                             "(0: 0x0000 0x0000; 40000: exception 0x02 illegal data address; 50000: 0x7553 0x536E)"));
  EXPECT_THAT(why, HasSubstr("check the unit id"));
  EXPECT_EQ(peer_->served().size(), 3u);
  EXPECT_EQ((*sources_)[0].health().state, DeviceState::ok) << "it answered: alive, just not SunSpec";
  EXPECT_FALSE((*sources_)[0].device_info());
  // Tried again at the next poll.
  failing_poll();
  EXPECT_EQ(peer_->served().size(), 6u);
}

TEST_F(ModbusSunSpecErrorTest, AFixedBaseLooksThereOnly) {
  const Skeleton sk = skeleton(kBase, {{1, 66}, {203, 105}}, {});
  serve(sk.map, "sunspec-203-meter", "{base: 40000}");
  const std::string why = failing_poll();
  EXPECT_THAT(why, HasSubstr("no SunSpec marker \"SunS\" (0x5375 0x6E53) at holding register 40000 (40000: 0x0000 0x0000)"));
  ASSERT_EQ(peer_->served().size(), 1u);
  EXPECT_EQ(peer_->served()[0].addr, 40000);
}

TEST_F(ModbusSunSpecErrorTest, AChainPastAddress65535IsAnErrorNotAHang) {
  // Model 999's length takes the walk to 65072, where 998 would end at 65673.
  serve(std::string(kBusyBases) + "holding 50000 0x5375 0x6E53\nholding 50002 1 66\nholding 50070 999 15000\nholding 65072 998 600\n");
  const std::string why = failing_poll();
  EXPECT_THAT(why, HasSubstr("model 998 at holding register 65072 (length 600) would end at register 65673, past "
                             "address 65535: the device's model chain is broken"));
  EXPECT_EQ(peer_->served().size(), 6u) << "0, 40000, 50000, and the headers at 50002, 50070, 65072";
}

TEST_F(ModbusSunSpecErrorTest, AChainThatWouldLoopIsAnErrorNotAHang) {
  // 50072 + 65466 is 50002 in 16 bits: a walk that wrapped would read model 1 again, for ever.
  serve(std::string(kBusyBases) + "holding 50000 0x5375 0x6E53\nholding 50002 1 66\nholding 50070 999 65466\n");
  const std::string why = failing_poll();
  EXPECT_THAT(why, HasSubstr("model 999 at holding register 50070 (length 65466) would end at register 115537, past "
                             "address 65535"));
  EXPECT_EQ(peer_->served().size(), 5u);
}

TEST_F(ModbusSunSpecErrorTest, AModelNotInTheChainIsNamedWithTheChain) {
  serve(skeleton(40000, {{1, 66}, {213, 124}, {204, 105}}, {}).map, "sunspec-203-meter");
  const std::string why = failing_poll();
  EXPECT_THAT(why, HasSubstr("model 203 is not in the device's chain (models 1, 213, 204 from \"SunS\" at 40000): "
                             "check the profile, or the unit id"));
  const auto info = (*sources_)[0].device_info();
  ASSERT_TRUE(info) << "the common model was read all the same";
  EXPECT_EQ(info->serial_number, Strings{}.serial);
}

// A device restarted with another layout (its model moved) is discovered
// again, and so is one whose marker is gone.
TEST(ModbusSunSpecRediscovery, AChangedChainIsDiscoveredAgain) {
  const std::string path = profile_file("sunspec-203-meter");
  const ProfileSpec reference = read_profile_yaml(path);
  const Config placeholder = parse(config_text(path, "tcp: 127.0.0.1:1", {1}));

  // First layout: the map at 50000, 203 behind a 213.
  const ProfileSpec first = moved(reference, 50198 - 40072);
  const Strings first_strings;
  ModbusPeer::Options options;
  options.unit_maps = {{1, std::string(kBusyBases) + skeleton(kBase, {{1, 66}, {213, 124}, {203, 105}}, first_strings).map +
                               MapWriter(first, placeholder.sources[0].points).normal()}};
  std::optional<ModbusPeer> peer;
  peer.emplace(options);
  const Config config = parse(config_text(path, "tcp: " + peer->endpoint(), {1}));
  Sources sources(config);
  auto all_good = [&](const std::vector<RawReading>& readings) {
    return std::all_of(readings.begin(), readings.end(), [](const RawReading& r) { return r.ok(); });
  };
  ASSERT_TRUE(all_good(sources.poll(0)));
  EXPECT_EQ(sources[0].device_info()->serial_number, first_strings.serial);

  // The device restarts with the common layout: 203 right after model 1 at
  // 40000, another serial number. Same port.
  const std::uint16_t port = peer->port();
  peer->stop();
  const ProfileSpec second = moved(reference, 0);
  Strings second_strings;
  second_strings.serial = "RT0099-0001";
  options.port = port;
  options.unit_maps = {{1, skeleton(40000, {{1, 66}, {203, 105}}, second_strings).map +
                               MapWriter(second, placeholder.sources[0].points).normal()}};
  peer.emplace(options);

  // The next poll finds the old place gone (the connection dropped, or
  // model 203 no longer there): bad, and discovery runs again at the one
  // after.
  std::vector<RawReading> readings;
  int polls = 0;
  while (polls < 4) {
    ++polls;
    const auto before = peer->served().size();
    readings = sources.poll(0);
    if (all_good(readings)) {
      const auto served = served_since(*peer, before, 1);
      EXPECT_EQ(served.front().addr, 0) << "the walk began again at base 0\n" << requests_text(served);
      std::vector<ServedRequest> model_reads;
      for (const auto& r : served) {
        if (overlaps(r, 40070, 40177)) model_reads.push_back(r);
      }
      const PollRecord record = check_poll(second, config.sources[0], readings, model_reads);
      EXPECT_EQ(record.good, static_cast<int>(second.points.size()));
      break;
    }
  }
  ASSERT_TRUE(all_good(readings)) << "not discovered again within 4 polls: " << readings.front().error;
  EXPECT_EQ(polls, 2) << "one poll to notice, one to discover";
  EXPECT_EQ(sources[0].device_info()->serial_number, second_strings.serial);
  EXPECT_THAT(notes_text(sources[0].health()), HasSubstr("SunSpec chain: 1 at 40002 (66), 203 at 40070 (105), end at 40177"));

  // And again, with the marker gone.
  peer->stop();
  options.unit_maps = {{1, MapWriter(second, placeholder.sources[0].points).normal()}};
  peer.emplace(options);
  for (polls = 0; polls < 4; ++polls) {
    readings = sources.poll(0);
    if (readings.front().error.find("no SunSpec marker") != std::string::npos) break;
  }
  ASSERT_LT(polls, 4) << readings.front().error;
  EXPECT_FALSE(sources[0].device_info()) << "no SunSpec map: what it said it was is gone";
}

// The model's header, read with its data at every poll, notices a chain
// that changed under a connection that stayed: that poll is bad, the next
// discovers again and says what it finds.
TEST(ModbusSunSpecRediscovery, AHeaderThatChangesIsNoticedAtTheNextPoll) {
  const std::string path = profile_file("sunspec-203-meter");
  const ProfileSpec spec = read_profile_yaml(path);
  const Config placeholder = parse(config_text(path, "tcp: 127.0.0.1:1", {1}));
  ModbusPeer::Options options;
  // Model 203 at 40070 until clock 100, then 204 there.
  options.unit_maps = {{1, skeleton(40000, {{1, 66}, {203, 105, "u16 ramp 203 1 100"}}, {}).map +
                               MapWriter(spec, placeholder.sources[0].points).normal()}};
  ModbusPeer peer(options);
  const Config config = parse(config_text(path, "tcp: " + peer.endpoint(), {1}));
  Sources sources(config);
  for (const auto& r : sources.poll(0)) ASSERT_TRUE(r.ok()) << r.error;
  const auto requests = peer.served().size();
  for (const auto& r : sources.poll(0)) ASSERT_TRUE(r.ok()) << r.error;
  for (const auto& r : served_since(peer, requests, 1)) {
    EXPECT_GE(r.addr, 40070) << "discovery kept: no marker, common model or end marker read\n"
                             << requests_text(served_since(peer, 0, 1));
    EXPECT_LT(r.addr, 40177) << requests_text(served_since(peer, 0, 1));
  }
  EXPECT_EQ(served_since(peer, requests, 1).front().addr, 40070) << "the header read with the first data";

  peer.set_clock(100);
  auto readings = sources.poll(0);
  EXPECT_THAT(readings.front().error,
              HasSubstr("model 203 is no longer at holding register 40070: it holds model 204 length 105 (was length "
                        "105); the device's map changed; discovering again at the next poll"));
  readings = sources.poll(0);
  EXPECT_THAT(readings.front().error, HasSubstr("model 203 is not in the device's chain (models 1, 204 from \"SunS\" "
                                                "at 40000)"));
  EXPECT_EQ(sources[0].health().state, DeviceState::ok) << "the device answered throughout";
  peer.set_clock(0);
  readings = sources.poll(0);
  for (const auto& r : readings) EXPECT_TRUE(r.ok()) << r.error;
  const auto counters = sources[0].health().counters;
  const auto discoveries = std::find_if(counters.begin(), counters.end(),
                                        [](const auto& c) { return c.first == "sunspec_discoveries"; });
  ASSERT_NE(discoveries, counters.end());
  EXPECT_EQ(discoveries->second, 2u);
}

// A walk longer than a poll's time (a long chain, a slow device) goes on at
// the next poll where it stopped: no read is cut off by the deadline and
// counted against the device, and no model is read twice.
TEST(ModbusSunSpecSlowDevice, ALongWalkGoesOnAtTheNextPoll) {
  const std::string path = profile_file("sunspec-203-meter");
  std::vector<Block> blocks{{1, 66}, {213, 124}};
  for (std::uint16_t i = 0; i < 30; ++i) blocks.push_back({static_cast<std::uint16_t>(64001 + i), 2});
  blocks.push_back({203, 105});
  const Skeleton sk = skeleton(40000, blocks, {});
  const std::uint32_t header = sk.header.at(203);
  const ProfileSpec spec = moved(read_profile_yaml(path), std::int64_t{header} + 2 - 40072);
  const Config placeholder = parse(config_text(path, "tcp: 127.0.0.1:1", {1}));
  ModbusPeer::Options options;
  options.unit_maps = {{1, sk.map + MapWriter(spec, placeholder.sources[0].points).normal()}};
  options.extra_args = {"--delay-ms", "80"};  // every answer 80 ms late
  ModbusPeer peer(options);
  // A 2 s poll holds about twenty reads of 80 ms; the walk takes 36, then
  // the common model. One read of the model's data (max_gap) after that.
  std::string text = config_text(path, "tcp: " + peer.endpoint(), {1});
  text.replace(text.find("timeout: 5s"), 11, "timeout: 2s");
  text += "    max_gap: 30\n";
  const Config config = parse(text);
  Sources sources(config);

  std::vector<RawReading> readings = sources.poll(0);
  EXPECT_THAT(readings.front().error, HasSubstr("not done: the poll's time ran out in the model chain"));
  EXPECT_THAT(readings.front().error, HasSubstr("it goes on at the next poll"));
  int polls = 1;
  while (!readings.front().ok() && polls < 6) {
    readings = sources.poll(0);
    ++polls;
  }
  for (const auto& r : readings) EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_GE(polls, 2);
  EXPECT_LE(polls, 4);
  EXPECT_EQ(sources[0].counters().timeouts, 0u) << "no read was cut off by a poll's deadline";
  // Each header once: the walk was never started again.
  std::map<std::uint16_t, int> reads;
  for (const auto& r : peer.served()) {
    if (r.count == 2) ++reads[r.addr];
  }
  for (const auto& [address, n] : reads) EXPECT_EQ(n, 1) << "holding " << address;
  EXPECT_EQ(reads.size(), blocks.size() + 3) << "base 0 (zeros), the marker at 40000, each header, the end marker";
}

// A dead SunSpec device's discovery goes out as a probe, in the link's idle
// time, and leaves a live neighbour's poll whole.
TEST(ModbusSunSpecProbe, ADeadDevicesDiscoveryIsAProbe) {
  const std::string path = profile_file("sunspec-203-meter");
  const ProfileSpec spec = read_profile_yaml(path);
  const Config placeholder = parse(config_text(path, "tcp: 127.0.0.1:1", {1}));
  ModbusPeer::Options options;
  options.unit_maps = {{1, skeleton(40000, {{1, 66}, {203, 105}}, {}).map +
                               MapWriter(spec, placeholder.sources[0].points).normal()}};
  ModbusPeer peer(options);  // unit 9 is not served: a gateway with no answer for it
  const Config config = parse(config_text(path, "tcp: " + peer.endpoint(), {1, 9}, "{base: auto}",
                                          "    probe_timeout: 100ms\n"));
  Sources sources(config);
  // Both at once, as their runners would on a shared tick.
  std::optional<std::vector<RawReading>> live;
  std::optional<std::vector<RawReading>> dead;
  asio::co_spawn(sources.io(), poll_into(sources[0], live), asio::detached);
  asio::co_spawn(sources.io(), poll_into(sources[1], dead), asio::detached);
  sources.io().restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (!(live && dead) && std::chrono::steady_clock::now() < deadline) sources.io().run_one_until(deadline);
  ASSERT_TRUE(live && dead);
  for (const auto& r : *live) EXPECT_TRUE(r.ok()) << r.error;
  for (const auto& r : *dead) EXPECT_THAT(r.error, HasSubstr("SunSpec discovery (unit 9 on tcp " + peer.endpoint() + "): not done: "));
  const auto& counters = sources[1].counters();
  EXPECT_EQ(counters.probes + counters.not_sent, 1u) << "one probe (or one given up unsent), nothing more";
  EXPECT_EQ(counters.requests, counters.probes);
}

}  // namespace
}  // namespace rackwatch::test
