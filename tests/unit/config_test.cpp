#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/config_reader.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using ::testing::HasSubstr;

// A minimal valid document; tests append or edit lines of it.
const std::string kValid = R"(agent:
  site: hall-a
  rack: r07
mqtt:
  brokers: [tcp://127.0.0.1:1883]
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - name: total
        signal: pdu.total.power
)";

std::vector<std::string> lines_of(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& i : d.items()) out.push_back(format_mark(i.mark) + ": " + i.message);
  return out;
}

TEST(ConfigTest, ValidMinimalConfigGetsDefaults) {
  Diagnostics d;
  auto cfg = parse_config(kValid, "t.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines_of(d));
  EXPECT_EQ(cfg->agent.site, "hall-a");
  EXPECT_FALSE(cfg->agent.id.empty());  // host name
  EXPECT_EQ(cfg->mqtt.client_id, "rackwatch-" + cfg->agent.id);
  EXPECT_EQ(cfg->mqtt.prefix, "rackwatch/v1");
  ASSERT_EQ(cfg->sources.size(), 1u);
  EXPECT_EQ(cfg->sources[0].interval, Millis{1000});
  EXPECT_EQ(cfg->sources[0].timeout, Millis{1000});  // capped by the interval
  EXPECT_EQ(cfg->sources[0].points[0].unit, Unit::watt);
}

TEST(ConfigTest, ReportsEveryProblemWithItsPlace) {
  const std::string text = R"(agent:
  site: hall-a
  rack: r07
  colour: blue
mqtt:
  brokers: [tcp://127.0.0.1:1883]
  keepalive: often
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - name: total
        signal: pdu.total.power
  - name: pdu
    type: sim
    interval: 10ms
    points:
      - name: total
        signal: pdu.total.power
        scale: lots
)";
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "bad.yaml", builtin_source_types(), d));
  const auto lines = lines_of(d);
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("bad.yaml:4:3: unknown key 'colour' in agent")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("bad.yaml:7:14: 'keepalive': expected a duration")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("bad.yaml:15:11: duplicate source name 'pdu'")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("bad.yaml:17:15: interval 10ms is out of range")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("bad.yaml:21:16: 'scale': expected a number, found 'lots'")));
  EXPECT_EQ(d.size(), 5u) << ::testing::PrintToString(lines);
}

TEST(ConfigTest, YamlSyntaxErrorHasAPlace) {
  Diagnostics d;
  EXPECT_FALSE(parse_config("agent:\n  site: [unclosed\n", "s.yaml", builtin_source_types(), d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_THAT(lines_of(d)[0], HasSubstr("s.yaml:"));
  EXPECT_THAT(lines_of(d)[0], HasSubstr("YAML syntax"));
}

TEST(ConfigTest, UnitsMustFitTheQuantity) {
  std::string text = kValid;
  text += "        quantity: temperature\n        unit: W\n";
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "u.yaml", builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("unit 'W' does not fit quantity 'temperature'")));
}

TEST(ConfigTest, NonCanonicalUnitSuggestsFromUnit) {
  std::string text = kValid;
  text += "        unit: kW\n";
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "u.yaml", builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("write unit: W and from_unit: kW")));
}

TEST(ConfigTest, FromUnitSetsTheConversion) {
  std::string text = kValid;
  text += "        from_unit: kW\n";
  Diagnostics d;
  auto cfg = parse_config(text, "u.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines_of(d));
  EXPECT_EQ(cfg->sources[0].points[0].from.factor, 1000.0);
}

TEST(ConfigTest, TimeoutMustNotExceedInterval) {
  std::string text = kValid;
  text.replace(text.find("interval: 1s"), 12, "interval: 1s\n    timeout: 2s");
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "t.yaml", builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("t.yaml:10:14: timeout 2000ms must be")));
}

TEST(ConfigTest, UnknownSourceTypeListsKnownOnes) {
  std::string text = kValid;
  text.replace(text.find("type: sim"), 9, "type: carrier-pigeon");
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "t.yaml", builtin_source_types(), d));
#if RACKWATCH_WITH_HWMON && RACKWATCH_WITH_MODBUS && RACKWATCH_WITH_REDFISH && RACKWATCH_WITH_SIM && RACKWATCH_WITH_SNMP
  const std::string known = "hwmon, modbus, redfish, sim, snmp";
#else
  const std::string known = builtin_source_types().names();  // a build without some protocol
#endif
  EXPECT_THAT(lines_of(d),
              ::testing::Contains(HasSubstr("unknown source type 'carrier-pigeon' (known: " + known + ")")));
}

TEST(ConfigTest, MissingSectionsAreReported) {
  Diagnostics d;
  EXPECT_FALSE(parse_config("agent:\n  site: a\n  rack: b\n", "m.yaml", builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("missing required section 'mqtt'")));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("missing required section 'sources'")));
}

TEST(ConfigTest, BrokerSchemeIsChecked) {
  std::string text = kValid;
  text.replace(text.find("tcp://127.0.0.1:1883"), 20, "http://broker");
  Diagnostics d;
  EXPECT_FALSE(parse_config(text, "b.yaml", builtin_source_types(), d));
  EXPECT_THAT(lines_of(d), ::testing::Contains(HasSubstr("must start with tcp://")));
}

TEST(ConfigTest, DurationsParse) {
  EXPECT_EQ(parse_duration("250ms"), Millis{250});
  EXPECT_EQ(parse_duration("1.5s"), Millis{1500});
  EXPECT_EQ(parse_duration("2m"), Millis{120'000});
  EXPECT_EQ(parse_duration("1h"), Millis{3'600'000});
  EXPECT_EQ(parse_duration("7"), Millis{7'000});
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(ConfigTest, ShippedConfigsAreValid) {
  for (const char* name : {"/config/rackwatchd.yaml", "/config/demo.yaml"}) {
#if !RACKWATCH_WITH_HWMON || !RACKWATCH_WITH_MODBUS
    // The annotated example configures every protocol: a build without one rejects it.
    if (std::string_view(name) == "/config/rackwatchd.yaml") continue;
#endif
    Diagnostics d;
    EXPECT_TRUE(load_config(std::string(RACKWATCH_SOURCE_DIR) + name, builtin_source_types(), d))
        << name << ": " << ::testing::PrintToString(lines_of(d));
  }
}

TEST(ConfigTest, OutboxSectionHasDefaultsAndChecks) {
  Diagnostics d;
  auto cfg = parse_config(kValid, "o.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->outbox.dir, "/var/lib/rackwatch/outbox");
  EXPECT_EQ(cfg->outbox.fsync, FsyncPolicy::interval);
  EXPECT_EQ(cfg->outbox.max_bytes, 64ull << 20);
  EXPECT_FALSE(cfg->mqtt.clean_session);

  std::string text = kValid + "outbox:\n  dir: /srv/spool\n  max_size: 1MiB\n  fsync: always\n";
  Diagnostics d2;
  cfg = parse_config(text, "o.yaml", builtin_source_types(), d2);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines_of(d2));
  EXPECT_EQ(cfg->outbox.dir, "/srv/spool");
  EXPECT_EQ(cfg->outbox.max_bytes, 1u << 20);
  EXPECT_EQ(cfg->outbox.fsync, FsyncPolicy::always);
  EXPECT_EQ(cfg->outbox.dir_mark.line, 14);

  text = kValid + "outbox:\n  dir: spool\n  max_size: huge\n  fsync: sometimes\n  fsync_interval: 1h\n";
  Diagnostics d3;
  EXPECT_FALSE(parse_config(text, "o.yaml", builtin_source_types(), d3));
  const auto lines = lines_of(d3);
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("o.yaml:14:8: outbox 'dir' must be an absolute path")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("o.yaml:15:13: 'max_size': expected a size")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("o.yaml:16:10: 'fsync' must be always, interval or never")));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("o.yaml:17:19: 'fsync_interval' must be between")));
}

TEST(ConfigTest, SizesParse) {
  EXPECT_EQ(parse_size("64MiB"), 64ull << 20);
  EXPECT_EQ(parse_size("512KiB"), 512ull << 10);
  EXPECT_EQ(parse_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_FALSE(parse_size("lots"));
  EXPECT_FALSE(parse_size("5 parsecs"));
}

TEST(ConfigTest, PasswordFileMustBeASmallRegularFile) {
  auto with_password_file = [](const std::string& path) {
    std::string text = kValid;
    text.replace(text.find("  brokers:"), 0, "  password_file: " + path + "\n");
    Diagnostics d;
    auto cfg = parse_config(text, "p.yaml", builtin_source_types(), d);
    return std::make_pair(cfg, lines_of(d));
  };
  auto [dev_zero, zero_lines] = with_password_file("/dev/zero");
  EXPECT_FALSE(dev_zero);
  EXPECT_THAT(zero_lines, ::testing::Contains(HasSubstr("password file '/dev/zero': not a regular file")));

  const auto dir = std::filesystem::temp_directory_path() / ("rw-secret-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto [from_fifo, fifo_lines] = with_password_file(fifo.string());  // must not block
  EXPECT_FALSE(from_fifo);
  std::ofstream(dir / "secret") << "s3cret\nsecond line\n";
  std::filesystem::permissions(dir / "secret", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto [ok, ok_lines] = with_password_file((dir / "secret").string());
  ASSERT_TRUE(ok) << ::testing::PrintToString(ok_lines);
  EXPECT_EQ(ok->mqtt.password, "s3cret");
  std::filesystem::remove_all(dir);
}

// Whatever a config holds, reading it is bounded: size, nesting, counts, text.
TEST(ConfigTest, WhatAConfigMayHoldIsBounded) {
  Diagnostics big;
  EXPECT_FALSE(parse_config(kValid + "# " + std::string(kMaxConfigBytes, 'x') + "\n", "b.yaml",
                            builtin_source_types(), big));
  EXPECT_THAT(lines_of(big), ::testing::Contains(HasSubstr("bytes; at most 1048576 are read")));

  // Flow nesting that would exhaust yaml-cpp's stack, refused where it gets too deep.
  Diagnostics deep;
  EXPECT_FALSE(parse_config("agent: " + std::string(100'000, '[') + "\n", "d.yaml", builtin_source_types(),
                            deep));
  EXPECT_THAT(lines_of(deep), ::testing::ElementsAre("d.yaml:1:72: nested deeper than 64 levels of [ ] or { }"));
  // Brackets in quotes and comments are text.
  Diagnostics quoted;
  auto ok =
      parse_config(kValid + "# " + std::string(200, '[') + "\n", "q.yaml", builtin_source_types(), quoted);
  EXPECT_TRUE(ok) << ::testing::PrintToString(lines_of(quoted));

  std::string many = kValid;
  std::string points;
  for (std::size_t i = 0; i <= kMaxPointsPerSource; ++i) points += "      - {name: p" + std::to_string(i) + ", signal: pdu.total.power}\n";
  many.replace(many.find("      - name: total"), std::string::npos, points);
  Diagnostics count;
  EXPECT_FALSE(parse_config(many, "c.yaml", builtin_source_types(), count));
  EXPECT_THAT(lines_of(count), ::testing::Contains(HasSubstr("'points' has 10001 entries; at most 10000")));

  std::string text = kValid + "        description: " + std::string(2000, 'd') + "\n";
  Diagnostics longtext;
  EXPECT_FALSE(parse_config(text, "t.yaml", builtin_source_types(), longtext));
  EXPECT_THAT(lines_of(longtext), ::testing::Contains(HasSubstr("'description' is 2000 bytes long; at most 1024")));
}

}  // namespace
}  // namespace rackwatch
