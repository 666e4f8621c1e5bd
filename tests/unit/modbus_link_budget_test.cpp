// The link budget from the configuration alone: a serial bus of 30 devices
// of 60 registers at 9600 baud cannot be polled every second; the same
// devices at 115200 baud, or a few behind a TCP gateway, can. Also the
// probe_timeout defaults that go into it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/modbus/link_budget.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/registry.hpp"

namespace rackwatch::modbus {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// `devices` sources of `registers` u16 points each on one link.
Config config_of(int devices, int registers, const std::string& link, const std::string& interval = "1s") {
  std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n";
  for (int d = 1; d <= devices; ++d) {
    text += "  - name: d" + std::to_string(d) + "\n    type: modbus\n    interval: " + interval + "\n    " + link +
            "\n    unit: " + std::to_string(d) + "\n    points:\n";
    for (int r = 0; r < registers; ++r) {
      text += "      - {name: r" + std::to_string(r) + ", address: " + std::to_string(r) + ", quantity: power}\n";
    }
  }
  Diagnostics diags;
  auto config = parse_config(text, "/nonexistent/rack.yaml", builtin_source_types(), diags);
  if (!config) throw std::runtime_error("config refused");
  return std::move(*config);
}

std::vector<const SourceConfig*> all(const Config& c) {
  std::vector<const SourceConfig*> out;
  for (const auto& s : c.sources) out.push_back(&s);
  return out;
}

struct Case {
  const char* what;
  int devices;
  int registers;
  std::string link;
  const char* interval;
  bool over_booked;
};

TEST(LinkBudgetTest, ALinkIsOverBookedWhenItsPollsAndAProbeExceedItsShortestInterval) {
  const Case cases[] = {
      {"30 devices x 60 registers at 9600 baud every second", 30, 60, "rtu: {device: /dev/ttyS1, baud: 9600}", "1s",
       true},
      {"the same every 10 s", 30, 60, "rtu: {device: /dev/ttyS1, baud: 9600}", "10s", false},
      {"3 devices x 60 registers at 9600 baud every second", 3, 60, "rtu: {device: /dev/ttyS1, baud: 9600}", "1s",
       false},
      {"30 devices at 115200 baud every second", 30, 60, "rtu: {device: /dev/ttyS1, baud: 115200}", "1s", false},
      {"30 devices at 115200 baud every 500 ms", 30, 60, "rtu: {device: /dev/ttyS1, baud: 115200}", "500ms", true},
      {"4 devices behind a TCP gateway", 4, 60, "tcp: 10.0.0.5", "1s", false},
      {"4 devices behind a serial device server", 4, 60, "rtu_over_tcp: 10.0.0.7:4001", "1s", false},
      {"30 devices behind a serial device server", 30, 60, "rtu_over_tcp: 10.0.0.7:4001", "1s", true},
      {"100 devices behind a TCP gateway", 100, 60, "tcp: 10.0.0.5", "1s", true},
  };
  for (const auto& c : cases) {
    const auto config = config_of(c.devices, c.registers, c.link, c.interval);
    const auto loads = link_loads(all(config));
    ASSERT_EQ(loads.size(), 1u) << c.what;
    EXPECT_EQ(loads[0].devices, static_cast<std::size_t>(c.devices)) << c.what;
    EXPECT_EQ(loads[0].requests, static_cast<std::size_t>(c.devices)) << c.what << ": 60 registers are one read";
    EXPECT_EQ(loads[0].over_booked(), c.over_booked)
        << c.what << ": a round of " << loads[0].poll_round.count() << " us plus a " << loads[0].probe.count()
        << " ms probe in " << loads[0].shortest_interval.count() << " ms";
  }
}

TEST(LinkBudgetTest, TheEstimateOfASerialReadIsItsBytesAtTheLineSpeed) {
  // One read of 60 registers at 9600 8E1 (11 bits a character, 1146 us):
  // 8 + 125 bytes and 3.5 characters of silence, plus 5 ms to turn round.
  const auto config = config_of(1, 60, "rtu: {device: /dev/ttyS1, baud: 9600}");
  const auto load = link_loads(all(config)).at(0);
  EXPECT_NEAR(static_cast<double>(load.poll_round.count()), (133 + 3.5) * 1145.83 + 5000, 50);
  // The default probe: the longest read (8 + 255 bytes) at that speed + 100 ms.
  EXPECT_EQ(load.probe, 402ms);
}

TEST(LinkBudgetTest, TheWarningSaysWhatIsOverBookedByHowMuchAndWhatToDo) {
  const auto config = config_of(30, 60, "rtu: {device: /dev/ttyS1, baud: 9600}");
  const auto advice = source_advice(config, builtin_source_types());
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_THAT(advice[0], HasSubstr("rtu /dev/ttyS1 9600 8E1 is over-booked: its 30 devices need about 4"));
  EXPECT_THAT(advice[0], HasSubstr("(30 reads of 1800 registers, at the line's speed"));
  EXPECT_THAT(advice[0], HasSubstr("more than its shortest interval of 1000ms"));
  EXPECT_THAT(advice[0], HasSubstr("lengthen the intervals"));
  EXPECT_TRUE(source_advice(config_of(3, 60, "rtu: {device: /dev/ttyS1, baud: 9600}"), builtin_source_types()).empty());
  const auto gateway = source_advice(config_of(30, 60, "rtu_over_tcp: 10.0.0.7:4001"), builtin_source_types());
  ASSERT_EQ(gateway.size(), 1u);
  EXPECT_THAT(gateway[0], HasSubstr("rtu-over-tcp 10.0.0.7:4001 is over-booked"));
  EXPECT_THAT(gateway[0], HasSubstr("19200 baud behind the gateway"));
}

TEST(LinkBudgetTest, TheProbeTimeoutDefaultsToTheLinksAndStaysWithinTheRequestTimeout) {
  auto probe = [](const std::string& link, const std::string& extra = "") {
    auto c = config_of(1, 1, link + extra);
    return dynamic_cast<const ModbusSettings&>(*c.sources.at(0).settings).probe_timeout;
  };
  EXPECT_EQ(probe("tcp: 10.0.0.5"), 200ms);
  EXPECT_EQ(probe("tcp: 10.0.0.5", "\n    request_timeout: 50ms"), 50ms);
  EXPECT_EQ(probe("tcp: 10.0.0.5", "\n    probe_timeout: 80ms"), 80ms);
  EXPECT_EQ(probe("rtu: {device: /dev/ttyS1, baud: 19200}"), 251ms);
}

}  // namespace
}  // namespace rackwatch::modbus
