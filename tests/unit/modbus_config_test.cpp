// The `type: modbus` keys: links, unit ids, profiles and their points,
// points of one's own, and the reading and health settings, each mistake
// reported at its line; and which sources share a link.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "core/config.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch::modbus {
namespace {

using ::testing::HasSubstr;

// Parsed as if it sat in the repository's config/, beside profiles/.
const std::string kFile = std::string(RACKWATCH_SOURCE_DIR) + "/config/test.yaml";

std::string config_with(const std::string& sources) {
  return "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n" + sources;
}

std::string lines_of(const Diagnostics& d) {
  std::string out;
  for (const auto& i : d.items()) out += format_mark(i.mark) + ": " + i.message + "\n";
  return out;
}

const ModbusSettings& settings_of(const SourceConfig& s) {
  return dynamic_cast<const ModbusSettings&>(*s.settings);
}

TEST(ModbusConfigTest, ProfileGivesEveryPointWithDefaults) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - name: psu1
    type: modbus
    interval: 2s
    tcp: 10.0.0.5
    unit: 192
    profile: orv3-psu
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& src = cfg->sources.at(0);
  const auto& s = settings_of(src);
  EXPECT_EQ(s.link.kind, LinkSettings::Kind::tcp);
  EXPECT_EQ(s.link.host, "10.0.0.5");
  EXPECT_EQ(s.link.port, 502);
  EXPECT_EQ(s.unit, 192);
  EXPECT_EQ(s.request_timeout, std::chrono::milliseconds{1000});
  EXPECT_EQ(s.spans.max_gap, 0);
  EXPECT_EQ(s.health.dormant_after, 3u);
  EXPECT_GE(src.points.size(), 10u);
  EXPECT_EQ(src.points.size(), s.registers.size());
  EXPECT_THAT(s.profile_file, HasSubstr("config/profiles/orv3-psu.yaml"));
  EXPECT_EQ(s.link.key(), "modbus tcp 10.0.0.5:502");
}

TEST(ModbusConfigTest, PointsSelectAndOverrideProfilePointsOrBringTheirOwn) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - name: psu1
    type: modbus
    interval: 2s
    timeout: 1500ms
    tcp: "[fd00::5]:1502"
    unit: 1
    profile: orv3-psu
    request_timeout: 300ms
    inter_request_delay: 20ms
    max_gap: 8
    max_registers: 64
    dormant_after: 5
    reprobe_min: 2s
    reprobe_max: 1m
    points:
      - {name: output_voltage, min: 40, max: 60, location: shelf-a/psu1, deadband: 0.2, max_age: 5m}
      - {name: spare_temp, address: 0x200, type: s16, precision: 7, quantity: temperature}
      - {name: fan_alarm, thresholds: {alarm_when: 1, severity: critical}}
      - {name: dcdc_fail}
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& src = cfg->sources.at(0);
  const auto& s = settings_of(src);
  EXPECT_EQ(s.link.host, "fd00::5");
  EXPECT_EQ(s.link.port, 1502);
  EXPECT_EQ(s.link.inter_request_delay, std::chrono::milliseconds{20});
  EXPECT_EQ(s.request_timeout, std::chrono::milliseconds{300});
  EXPECT_EQ(s.spans.max_gap, 8);
  EXPECT_EQ(s.spans.max_registers, 64);
  EXPECT_EQ(s.health.dormant_after, 5u);
  EXPECT_EQ(s.health.reprobe_min, std::chrono::milliseconds{2000});
  EXPECT_EQ(s.health.reprobe_max, std::chrono::milliseconds{60000});
  ASSERT_EQ(src.points.size(), 4u);
  EXPECT_EQ(src.points[0].name, "output_voltage");
  EXPECT_EQ(src.points[0].deadband, 0.2);
  EXPECT_EQ(src.points[0].max_age, std::chrono::milliseconds{300'000});
  // The profile's caution on the fan alarm, made critical here; the DC/DC
  // failure keeps the profile's.
  ASSERT_TRUE(src.points[2].thresholds);
  EXPECT_EQ(src.points[2].thresholds->state_severity, Severity::critical);
  ASSERT_TRUE(src.points[3].thresholds);
  EXPECT_EQ(src.points[3].thresholds->alarm_state, 1.0);
  EXPECT_EQ(src.points[0].unit, Unit::volt);  // from the profile
  EXPECT_EQ(src.points[0].min, 40.0);          // from the source
  EXPECT_EQ(src.points[0].location, "shelf-a/psu1");
  EXPECT_EQ(s.registers[0].format.scaling, Scaling::fixed_point);
  EXPECT_EQ(s.registers[1].address, 0x200);
  EXPECT_EQ(s.registers[1].format.type, ValueType::s16);
  EXPECT_EQ(s.registers[1].format.precision, 7u);
}

TEST(ModbusConfigTest, RtuLineSettings) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - name: rpu
    type: modbus
    interval: 1s
    rtu: {device: /dev/ttyUSB0, baud: 9600, parity: none}
    unit: 247
    points: [{name: flow, address: 0, quantity: flow}]
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.link.kind, LinkSettings::Kind::rtu);
  EXPECT_EQ(s.link.device, "/dev/ttyUSB0");
  EXPECT_EQ(s.link.serial.baud, 9600u);
  EXPECT_EQ(s.link.serial.parity, Parity::none);
  EXPECT_EQ(s.link.serial.stop_bits, 2u) << "no parity: two stop bits (§2.5.1)";
  EXPECT_EQ(s.link.key(), "modbus rtu /dev/ttyUSB0");
}

TEST(ModbusConfigTest, MistakesAreReportedAtTheirLines) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(config_with(R"(  - name: a
    type: modbus
    interval: 1s
    unit: 1
    profile: no-such-model
  - name: b
    type: modbus
    interval: 1s
    tcp: "h:99999"
    unit: 256
  - name: c
    type: modbus
    interval: 1s
    request_timeout: 2s
    tcp: h
    unit: 1
    profile: orv3-psu
    points:
      - {name: nosuch}
      - {name: output_voltage, address: 3, precision: 2}
      - {name: output_current, type: f32}
  - name: d
    type: modbus
    interval: 1s
    rtu: {device: /dev/ttyS0, parity: mark, data_bits: 7, speed: 1}
    unit: 0
    points: [{name: x, address: 1, type: bit, bit: 16, quantity: leak}]
)"), kFile, builtin_source_types(), d));
  const auto text = lines_of(d);
  EXPECT_THAT(text, HasSubstr("test.yaml:4:5: a modbus source needs exactly one of 'tcp: HOST[:PORT]', 'rtu: "
                              "{device: ...}' or 'rtu_over_tcp: HOST:PORT'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:8:14: no profile 'no-such-model' (looked for "));
  EXPECT_THAT(text, HasSubstr("test.yaml:12:10: 'tcp' must be HOST, HOST:PORT or [IPv6]:PORT, found 'h:99999'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:13:11: 'unit' must be 0..255"));
  EXPECT_THAT(text, HasSubstr("test.yaml:17:22: 'request_timeout' must be at least 10ms and at most the source's timeout (1000ms)"));
  EXPECT_THAT(text, HasSubstr("test.yaml:22:9: profile has no point 'nosuch' (it has: "));
  EXPECT_THAT(text, HasSubstr("test.yaml:24:38: 'type' of profile point 'output_current' is set by the profile"));
  EXPECT_THAT(text, HasSubstr("test.yaml:28:39: 'parity' must be none, even or odd, found 'mark'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:28:56: 'data_bits' must be 8"));
  EXPECT_THAT(text, HasSubstr("test.yaml:28:59: unknown key 'speed' in 'rtu'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:29:11: 'unit' must be 1..247 on a serial line"));
  EXPECT_THAT(text, HasSubstr("test.yaml:30:52: 'bit' must be 0..15"));
}

// A device that repeats one block (a breaker of an Eaton PXG card every
// 200 registers): the profile's registers move, a point of one's own stays.
TEST(ModbusConfigTest, AnAddressOffsetMovesTheProfilesRegistersOnly) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - name: breaker14
    type: modbus
    interval: 2s
    tcp: 10.0.0.9
    unit: 18
    profile: eaton-pxg-breaker
    address_offset: 2600
    points:
      - {name: current_a}
      - {name: power_a}
      - {name: own, address: 1037, type: f32, table: input, quantity: current}
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& s = settings_of(cfg->sources.at(0));
  ASSERT_EQ(s.registers.size(), 3u);
  EXPECT_EQ(s.registers[0].address, 1037 + 2600);
  EXPECT_EQ(s.registers[1].address, 1055 + 2600);
  EXPECT_EQ(s.registers[2].address, 1037);
  EXPECT_EQ(s.registers[0].table, Table::input_register);
}

TEST(ModbusConfigTest, AnAddressOffsetPastTheLastRegisterOrWithSunSpecIsRefused) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(config_with(R"(  - name: a
    type: modbus
    interval: 2s
    tcp: h
    unit: 18
    profile: eaton-pxg-breaker
    address_offset: 64500
  - name: b
    type: modbus
    interval: 2s
    tcp: h
    unit: 1
    profile: sunspec-203-meter
    sunspec: {base: auto}
    address_offset: 10
  - name: c
    type: modbus
    interval: 2s
    tcp: h
    unit: 1
    profile: eaton-pxg-breaker
    address_offset: -1
)"), kFile, builtin_source_types(), d));
  const auto text = lines_of(d);
  EXPECT_THAT(text, HasSubstr("test.yaml:10:21: 'address_offset' 64500 moves point 'current_b' (1039, 2 registers) "
                              "past address 65535"));
  EXPECT_THAT(text, HasSubstr("test.yaml:18:21: 'address_offset' and 'sunspec' do not go together"));
  EXPECT_THAT(text, HasSubstr("test.yaml:25:21: 'address_offset' must be 0..65535, found -1"));
}

TEST(ModbusConfigTest, SunSpecDiscoveryTakesTheProfilesModel) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - {name: m1, type: modbus, interval: 5s, tcp: h, unit: 1, profile: sunspec-203-meter,
     sunspec: {base: auto}}
  - {name: m2, type: modbus, interval: 5s, tcp: h, unit: 2, profile: sunspec-204-meter, sunspec: {base: 50000},
     points: [{name: power_total}]}
  - {name: m3, type: modbus, interval: 5s, tcp: h, unit: 3, profile: sunspec-201-meter, sunspec: {}}
  - {name: m4, type: modbus, interval: 5s, tcp: h, unit: 4, profile: sunspec-203-meter}
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& m1 = settings_of(cfg->sources[0]);
  ASSERT_TRUE(m1.sunspec);
  EXPECT_EQ(m1.sunspec->bases, (std::vector<std::uint16_t>{0, 40000, 50000}));
  EXPECT_TRUE(m1.sunspec->base_auto);
  EXPECT_EQ(m1.sunspec->model.id, 203);
  EXPECT_EQ(m1.sunspec->model.length, 105);
  EXPECT_EQ(m1.sunspec->model.data_start, 40072);
  const auto& m2 = settings_of(cfg->sources[1]);
  ASSERT_TRUE(m2.sunspec);
  EXPECT_EQ(m2.sunspec->bases, (std::vector<std::uint16_t>{50000}));
  EXPECT_FALSE(m2.sunspec->base_auto);
  EXPECT_EQ(m2.sunspec->model.id, 204);
  EXPECT_EQ(cfg->sources[1].points.size(), 1u);
  ASSERT_TRUE(settings_of(cfg->sources[2]).sunspec) << "base auto by default";
  EXPECT_EQ(settings_of(cfg->sources[2]).sunspec->bases.size(), 3u);
  EXPECT_FALSE(settings_of(cfg->sources[3]).sunspec) << "without the key: the fixed addresses, as before";
}

TEST(ModbusConfigTest, SunSpecMistakesAreReportedAtTheirLines) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(config_with(R"(  - name: a
    type: modbus
    interval: 1s
    tcp: h
    unit: 1
    profile: sunspec-203-meter
    sunspec: {base: 40001}
  - name: b
    type: modbus
    interval: 1s
    tcp: h
    unit: 1
    profile: orv3-psu
    sunspec: {base: auto}
  - name: c
    type: modbus
    interval: 1s
    tcp: h
    unit: 1
    sunspec: {base: auto}
    points: [{name: x, address: 1, quantity: power}]
  - name: d
    type: modbus
    interval: 1s
    tcp: h
    unit: 1
    profile: sunspec-203-meter
    sunspec: {bass: auto}
    points:
      - {name: power_total}
      - {name: spare, address: 40300, quantity: power}
  - name: e
    type: modbus
    interval: 1s
    tcp: h
    unit: 1
    profile: sunspec-203-meter
    sunspec: auto
)"), kFile, builtin_source_types(), d));
  const auto text = lines_of(d);
  EXPECT_THAT(text, HasSubstr("test.yaml:10:21: 'base' must be auto, 0, 40000 or 50000 (where the device's \"SunS\" "
                              "marker is), found '40001'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:17:14: 'sunspec' finds a profile's SunSpec model in the device, but profile '"));
  EXPECT_THAT(text, HasSubstr("orv3-psu.yaml' names none"));
  EXPECT_THAT(text, HasSubstr("test.yaml:23:14: 'sunspec' finds a profile's SunSpec model in the device: it needs a "
                              "'profile'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:31:15: unknown key 'bass' in 'sunspec'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:34:32: a point with its own 'address' is not moved with the SunSpec model"));
  EXPECT_THAT(text, HasSubstr("test.yaml:41:14: 'sunspec' must be a mapping: {base: auto}"));
}

TEST(ModbusConfigTest, SourceWithoutProfileOrPointsSaysWhatItNeeds) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(config_with(R"(  - {name: a, type: modbus, interval: 1s, tcp: h, unit: 1}
)"), kFile, builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), HasSubstr("a modbus source needs a 'profile' or 'points' with addresses"));
}

TEST(ModbusConfigTest, RtuOverTcpTakesAGatewayPortAndSerialUnitIds) {
  Diagnostics d;
  auto cfg = parse_config(config_with(R"(  - name: rdhx
    type: modbus
    interval: 1s
    rtu_over_tcp: 10.0.0.7:4001
    unit: 247
    inter_request_delay: 30ms
    points: [{name: flow, address: 0, quantity: flow}]
  - name: cdu
    type: modbus
    interval: 1s
    rtu_over_tcp: "[fd00::7]:4002"
    unit: 1
    points: [{name: flow, address: 0, quantity: flow}]
)"), kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.link.kind, LinkSettings::Kind::rtu_over_tcp);
  EXPECT_EQ(s.link.host, "10.0.0.7");
  EXPECT_EQ(s.link.port, 4001);
  EXPECT_EQ(s.link.inter_request_delay, std::chrono::milliseconds{30});
  EXPECT_EQ(s.unit, 247);
  EXPECT_EQ(s.link.key(), "modbus rtu-over-tcp 10.0.0.7:4001");
  const auto& v6 = settings_of(cfg->sources.at(1));
  EXPECT_EQ(v6.link.host, "fd00::7");
  EXPECT_EQ(v6.link.port, 4002);
}

TEST(ModbusConfigTest, RtuOverTcpMistakesAreReportedAtTheirLines) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(config_with(R"(  - name: a
    type: modbus
    interval: 1s
    rtu_over_tcp: 10.0.0.7
    unit: 1
    points: [{name: x, address: 0, quantity: flow}]
  - name: b
    type: modbus
    interval: 1s
    rtu_over_tcp: "10.0.0.7:0"
    unit: 0
    points: [{name: x, address: 0, quantity: flow}]
  - name: c
    type: modbus
    interval: 1s
    tcp: 10.0.0.7:502
    rtu_over_tcp: 10.0.0.7:4001
    unit: 248
    points: [{name: x, address: 0, quantity: flow}]
)"), kFile, builtin_source_types(), d));
  const auto text = lines_of(d);
  EXPECT_THAT(text, HasSubstr("test.yaml:7:19: 'rtu_over_tcp' needs the port of the gateway's serial port, HOST:PORT "
                              "(there is no standard one; Moxa NPort's first is 4001), found '10.0.0.7'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:13:19: 'rtu_over_tcp' must be HOST:PORT or [IPv6]:PORT, found '10.0.0.7:0'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:14:11: 'unit' must be 1..247 on a serial line"));
  EXPECT_THAT(text, HasSubstr("test.yaml:16:5: a modbus source needs exactly one of 'tcp: HOST[:PORT]', 'rtu: "
                              "{device: ...}' or 'rtu_over_tcp: HOST:PORT'"));
}

// Sources share a link when they name the same one: the same gateway port
// over RTU over TCP shares, while Modbus TCP to the same host and port, or
// another port of the gateway, is a link of its own.
TEST(ModbusConfigTest, SourcesOnOneGatewayPortShareOneLink) {
  Diagnostics d;
  auto source = [](const std::string& name, const std::string& link) {
    return "  - {name: " + name + ", type: modbus, interval: 1s, " + link +
           ", unit: 1, points: [{name: x, address: 0, quantity: flow}]}\n";
  };
  auto cfg = parse_config(config_with(source("a", "rtu_over_tcp: 'gw:4001'") + source("b", "rtu_over_tcp: 'gw:4001'") +
                                      source("c", "rtu_over_tcp: 'gw:4002'") + source("d", "tcp: 'gw:4001'")),
                          kFile, builtin_source_types(), d);
  ASSERT_TRUE(cfg) << lines_of(d);
  boost::asio::io_context io;
  const SourceEnv env{io.get_executor(), io.get_executor()};
  std::vector<std::unique_ptr<Source>> sources;
  for (const auto& config : cfg->sources) sources.push_back(modbus_source_type().create(config, env));
  auto link_of = [&](std::size_t i) { return &dynamic_cast<const ModbusSource&>(*sources.at(i)).link(); };
  EXPECT_EQ(link_of(0), link_of(1));
  EXPECT_NE(link_of(0), link_of(2));
  EXPECT_NE(link_of(0), link_of(3));
  EXPECT_EQ(link_of(0)->describe(), "rtu-over-tcp gw:4001");
  EXPECT_EQ(link_of(3)->describe(), "tcp gw:4001");
  EXPECT_FALSE(link_of(0)->connected()) << "connects on first use, not at start";
}

}  // namespace
}  // namespace rackwatch::modbus
