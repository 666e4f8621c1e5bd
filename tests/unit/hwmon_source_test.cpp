#include "sources/hwmon/hwmon_source.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "hwmon_fake_sysfs.hpp"
#include "sources/source.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
using test::FakeSysfs;
using test::hwmon_config_text;

std::string dump(const Diagnostics& diags) {
  std::string out;
  for (const auto& d : diags.items()) out += format_mark(d.mark) + ": " + d.message + "\n";
  return out;
}

// What one spawned poll gave back, filled in on the agent's executor.
struct PollResult {
  std::optional<std::vector<RawReading>> readings;
  std::exception_ptr error;
  std::thread::id thread;
};

class HwmonSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { fs_.populate(); }

  // Parses a config whose points are `points` and makes its source, reading
  // on `blocking` (the thread pool unless a test passes its own executor).
  std::unique_ptr<Source> make(const std::string& points,
                               std::optional<asio::any_io_executor> blocking = std::nullopt) {
    Diagnostics diags;
    auto cfg = parse_config(hwmon_config_text(fs_.root(), points), "hw.yaml", builtin_source_types(), diags);
    if (!cfg) {
      ADD_FAILURE() << dump(diags);
      return nullptr;
    }
    config_ = std::move(*cfg);
    SourceEnv env{io_.get_executor(), blocking ? *blocking : pool_.get_executor()};
    return hwmon_source_type().create(config_.sources.at(0), env);
  }

  std::shared_ptr<PollResult> spawn(Source& source) {
    auto result = std::make_shared<PollResult>();
    asio::co_spawn(io_, source.poll(), [result](std::exception_ptr e, std::vector<RawReading> r) {
      result->error = e;
      result->readings = std::move(r);
      result->thread = std::this_thread::get_id();
    });
    return result;
  }

  std::vector<RawReading> poll(Source& source) {
    auto result = spawn(source);
    io_.restart();
    io_.run();
    if (result->error) std::rethrow_exception(result->error);
    EXPECT_TRUE(result->readings);
    EXPECT_EQ(result->thread, std::this_thread::get_id())
        << "result not delivered on the io_context";
    return result->readings.value_or(std::vector<RawReading>{});
  }

  FakeSysfs fs_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  Config config_;
};

// Runs the handlers that are ready; an io_context that ran out of work stops
// and must be restarted before it runs anything again.
void run_ready(asio::io_context& io) {
  io.restart();
  io.poll();
}

// Asserts a reading succeeded with `value`.
#define EXPECT_READS(reading, expected)             \
  do {                                              \
    EXPECT_TRUE((reading).ok()) << (reading).error; \
    EXPECT_DOUBLE_EQ((reading).value, (expected));  \
  } while (false)

TEST_F(HwmonSourceTest, TypeIsRegisteredUnderItsName) {
  EXPECT_EQ(hwmon_source_type().name(), "hwmon");
  auto keys = hwmon_source_type().point_keys();
  for (auto k : {"chip", "label", "sensor", "attribute", "index", "path"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  }
}

TEST_F(HwmonSourceTest, SelectsByChipAndLabel) {
  auto src = make(
      "      - {name: pkg0, chip: coretemp, label: Package id 0, quantity: temperature}\n"
      "      - {name: core0, chip: coretemp, label: Core 0, quantity: temperature}\n"
      "      - {name: vin, chip: ina3221, label: VIN, quantity: voltage}\n"
      "      - {name: esock, chip: amd_energy, label: Esocket0, quantity: energy}\n"
      "      - {name: pkgmax, chip: coretemp, label: Package id 0, quantity: temperature, "
      "attribute: max}\n");
  ASSERT_TRUE(src);
  const auto before = Clock::now();
  auto r = poll(*src);
  const auto after = Clock::now();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_READS(r[0], 45000);
  EXPECT_READS(r[1], 41000);
  EXPECT_READS(r[2], 12100);
  EXPECT_READS(r[3], 7200000000);
  EXPECT_READS(r[4], 80000);
  for (const auto& reading : r) {
    EXPECT_GE(reading.time, before);
    EXPECT_LE(reading.time, after);
  }
}

TEST_F(HwmonSourceTest, SelectsBySensorAndAttribute) {
  auto src = make(
      "      - {name: p, chip: ina3221, sensor: power1}\n"
      "      - {name: pavg, chip: ina3221, sensor: power1, attribute: average}\n"
      "      - {name: i, chip: ina3221, sensor: curr1}\n"
      "      - {name: rh, chip: sht3x, sensor: humidity1}\n"
      "      - {name: t, chip: sht3x, sensor: temp1}\n"
      "      - {name: fan, chip: nct6775, sensor: fan1}\n"
      "      - {name: e, chip: amd_energy, sensor: energy1}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  ASSERT_EQ(r.size(), 7u);
  EXPECT_READS(r[0], 30250000);
  EXPECT_READS(r[1], 30000000);
  EXPECT_READS(r[2], 2500);
  EXPECT_READS(r[3], 41500);
  EXPECT_READS(r[4], -1500);
  EXPECT_READS(r[5], 4200);
  EXPECT_READS(r[6], 7200000000);
}

TEST_F(HwmonSourceTest, SelectsByPath) {
  auto src = make(
      "      - {name: t, path: hwmon2/temp1_input}\n"
      "      - {name: gone, path: hwmon2/temp5_input}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  EXPECT_READS(r[0], -1500);
  EXPECT_EQ(r[1].error, "no such file: " + fs_.path("hwmon2/temp5_input"));
}

TEST_F(HwmonSourceTest, ChipsOfOneNameByLabelOrIndex) {
  auto src = make(
      "      - {name: pkg1, chip: coretemp, label: Package id 1, quantity: temperature}\n"
      "      - {name: first, chip: coretemp, sensor: temp1}\n"
      "      - {name: second, chip: coretemp, sensor: temp1, index: 1}\n"
      "      - {name: third, chip: coretemp, sensor: temp1, index: 2}\n"
      "      - {name: wrong, chip: coretemp, label: Package id 1, quantity: temperature, "
      "index: 0}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  EXPECT_READS(r[0], 52000);
  EXPECT_READS(r[1], 45000);
  EXPECT_READS(r[2], 52000);
  EXPECT_EQ(r[3].error,
            "no hwmon chip named 'coretemp' with index 2 under " + fs_.root() + " (found 2)");
  EXPECT_EQ(r[4].error,
            "chip 'coretemp' has no sensor labelled 'Package id 1' (searched temp*_label)");
}

TEST_F(HwmonSourceTest, FollowsChipsWhenHwmonNumbersChange) {
  auto src = make(
      "      - {name: pkg0, chip: coretemp, label: Package id 0, quantity: temperature}\n"
      "      - {name: pkg1, chip: coretemp, label: Package id 1, quantity: temperature}\n"
      "      - {name: p, chip: ina3221, sensor: power1}\n"
      "      - {name: rh, chip: sht3x, sensor: humidity1}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  EXPECT_READS(r[0], 45000);
  EXPECT_READS(r[1], 52000);
  EXPECT_READS(r[2], 30250000);
  EXPECT_READS(r[3], 41500);

  // A driver reload: the two coretemp chips trade numbers, ina3221 and sht3x
  // trade numbers (each old path now holds the other chip's files), and the
  // values move on.
  fs_.rename("hwmon0", "tmp");
  fs_.rename("hwmon5", "hwmon0");
  fs_.rename("tmp", "hwmon5");
  fs_.rename("hwmon1", "tmp");
  fs_.rename("hwmon2", "hwmon1");
  fs_.rename("tmp", "hwmon12");
  fs_.write("hwmon5/temp1_input", "46000");
  fs_.write("hwmon0/temp1_input", "53000");
  fs_.write("hwmon12/power1_input", "31000000");
  fs_.write("hwmon1/humidity1_input", "42000");
  // The sht3x now sits where ina3221 was; give it a power file so that a
  // stale path would read without error, and wrongly.
  fs_.write("hwmon1/power1_input", "999");

  r = poll(*src);
  EXPECT_READS(r[0], 46000);
  EXPECT_READS(r[1], 53000);
  EXPECT_READS(r[2], 31000000);
  EXPECT_READS(r[3], 42000);
}

TEST_F(HwmonSourceTest, RecoversWhenAChipComesBack) {
  auto src = make(
      "      - {name: fan, chip: nct6775, sensor: fan1}\n"
      "      - {name: t, chip: sht3x, sensor: temp1}\n");
  ASSERT_TRUE(src);
  EXPECT_READS(poll(*src)[0], 4200);

  fs_.remove("hwmon4");
  auto r = poll(*src);
  EXPECT_EQ(r[0].error, "no hwmon chip named 'nct6775' under " + fs_.root());
  EXPECT_READS(r[1], -1500);

  fs_.write("hwmon7/name", "nct6775");
  fs_.write("hwmon7/fan1_input", "3900");
  EXPECT_READS(poll(*src)[0], 3900);
}

TEST_F(HwmonSourceTest, EachBadPointSaysWhyAndOthersStillRead) {
  fs_.write("hwmon0/temp2_input", "N/A");
  fs_.remove("hwmon1/curr1_input");
  fs_.make_dir("hwmon1/curr1_input");
  auto src = make(
      "      - {name: good1, chip: coretemp, label: Package id 0, quantity: temperature}\n"
      "      - {name: missing, chip: coretemp, sensor: temp7}\n"
      "      - {name: garbage, chip: coretemp, label: Core 0, quantity: temperature}\n"
      "      - {name: isdir, chip: ina3221, sensor: curr1}\n"
      "      - {name: nochip, chip: k10temp, sensor: temp1}\n"
      "      - {name: nolabel, chip: coretemp, label: Core 99, quantity: temperature}\n"
      "      - {name: good2, chip: ina3221, sensor: power1}\n");
  ASSERT_TRUE(src);
  const auto before = Clock::now();
  auto r = poll(*src);
  ASSERT_EQ(r.size(), 7u);
  EXPECT_READS(r[0], 45000);
  EXPECT_EQ(r[1].error, "no such file: " + fs_.path("hwmon0/temp7_input"));
  EXPECT_EQ(r[2].error, "not an integer: 'N/A' in " + fs_.path("hwmon0/temp2_input"));
  EXPECT_EQ(r[3].error, "is a directory: " + fs_.path("hwmon1/curr1_input"));
  EXPECT_EQ(r[4].error, "no hwmon chip named 'k10temp' under " + fs_.root());
  EXPECT_EQ(r[5].error, "chip 'coretemp' has no sensor labelled 'Core 99' (searched temp*_label)");
  EXPECT_READS(r[6], 30250000);
  for (const auto& reading : r) EXPECT_GE(reading.time, before);

  // Fixed files read again on the next poll.
  fs_.write("hwmon0/temp2_input", "40000");
  fs_.write("hwmon0/temp7_input", "39000");
  r = poll(*src);
  EXPECT_READS(r[1], 39000);
  EXPECT_READS(r[2], 40000);
}

TEST_F(HwmonSourceTest, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: chmod 000 does not stop root reading";
  fs_.chmod("hwmon1/power1_input", 0);
  auto src = make(
      "      - {name: p, chip: ina3221, sensor: power1}\n"
      "      - {name: i, chip: ina3221, sensor: curr1}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  EXPECT_EQ(r[0].error, "permission denied: " + fs_.path("hwmon1/power1_input"));
  EXPECT_READS(r[1], 2500);
}

TEST_F(HwmonSourceTest, MissingRoot) {
  fs_.remove("");
  auto src = make("      - {name: t, chip: coretemp, sensor: temp1}\n");
  ASSERT_TRUE(src);
  auto r = poll(*src);
  EXPECT_EQ(r.at(0).error, "cannot list hwmon chips: no such file: " + fs_.root());
}

TEST_F(HwmonSourceTest, OldDriversKeepAttributesInTheDevice) {
  fs_.write("hwmon8/device/name", "w83627ehf");
  fs_.write("hwmon8/device/fan2_input", "1800");
  auto src = make("      - {name: fan, chip: w83627ehf, sensor: fan2}\n");
  ASSERT_TRUE(src);
  EXPECT_READS(poll(*src).at(0), 1800);
}

// The reads happen on the blocking executor: while it does not run, the poll
// does not finish, and the agent's executor stays free.
TEST_F(HwmonSourceTest, ReadsOnTheBlockingExecutorOnly) {
  asio::io_context blocking;
  auto src = make("      - {name: t, chip: coretemp, sensor: temp1}\n", blocking.get_executor());
  ASSERT_TRUE(src);
  auto first = spawn(*src);
  run_ready(io_);
  EXPECT_FALSE(first->readings);

  // A second poll while the first read hangs fails at once instead of
  // queueing another read behind it.
  auto second = spawn(*src);
  run_ready(io_);
  ASSERT_TRUE(second->readings);
  EXPECT_EQ(second->readings->at(0).error,
            "previous read under " + fs_.root() + " has not finished (a sysfs read may be hung)");

  run_ready(blocking);
  run_ready(io_);
  ASSERT_TRUE(first->readings);
  EXPECT_READS(first->readings->at(0), 45000);
  EXPECT_EQ(first->thread, std::this_thread::get_id());
}

TEST_F(HwmonSourceTest, CancelledPollReturnsAtOnce) {
  asio::io_context blocking;
  auto src = make("      - {name: t, chip: coretemp, sensor: temp1}\n", blocking.get_executor());
  ASSERT_TRUE(src);
  asio::cancellation_signal cancel;
  auto result = std::make_shared<PollResult>();
  asio::co_spawn(io_, src->poll(),
                 asio::bind_cancellation_slot(
                     cancel.slot(), [result](std::exception_ptr e, std::vector<RawReading> r) {
                       result->error = e;
                       result->readings = std::move(r);
                     }));
  run_ready(io_);
  EXPECT_FALSE(result->readings);
  cancel.emit(asio::cancellation_type::terminal);
  run_ready(io_);
  ASSERT_TRUE(result->readings);
  EXPECT_EQ(result->readings->at(0).error, "poll cancelled while reading under " + fs_.root());

  // The abandoned read still finishes, and the source reads again after it.
  run_ready(blocking);
  run_ready(io_);
  auto next = spawn(*src);
  run_ready(io_);
  run_ready(blocking);
  run_ready(io_);
  ASSERT_TRUE(next->readings);
  EXPECT_READS(next->readings->at(0), 45000);
}

}  // namespace
}  // namespace rackwatch
