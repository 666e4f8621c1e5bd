// DeviceHealth: dormant after N consecutive failures, probes with a doubling
// back-off up to the cap, any answer resumes.
#include <gtest/gtest.h>

#include "sources/device_health.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;
using Time = DeviceHealth::SteadyClock::time_point;

const Time t0{};

TEST(ModbusHealthTest, DormantOnlyAfterNConsecutiveFailures) {
  DeviceHealth h({3, 10s, 60s});
  EXPECT_EQ(h.state(), DeviceState::ok);
  EXPECT_FALSE(h.failed(t0, "timeout"));
  EXPECT_EQ(h.state(), DeviceState::degraded);
  EXPECT_FALSE(h.failed(t0, "timeout"));
  h.answered();  // the run is broken: counting starts again
  EXPECT_EQ(h.state(), DeviceState::ok);
  EXPECT_EQ(h.consecutive_failures(), 0u);
  EXPECT_FALSE(h.failed(t0, "a"));
  EXPECT_FALSE(h.failed(t0, "b"));
  EXPECT_TRUE(h.failed(t0 + 1s, "crc"));
  EXPECT_EQ(h.state(), DeviceState::dormant);
  EXPECT_EQ(h.last_error(), "crc");
  EXPECT_EQ(h.dormant_count(), 1u);
  EXPECT_EQ(h.next_probe(), t0 + 11s);
}

TEST(ModbusHealthTest, DormantDeviceIsProbedWithDoublingBackoffUpToTheCap) {
  DeviceHealth h({1, 10s, 35s});
  EXPECT_TRUE(h.failed(t0, "timeout"));
  EXPECT_FALSE(h.due(t0 + 9s));
  EXPECT_TRUE(h.due(t0 + 10s));
  // Failed probes: 20 s, then 35 s (capped), then 35 s again.
  EXPECT_FALSE(h.failed(t0 + 10s, "timeout"));
  EXPECT_EQ(h.next_probe(), t0 + 30s);
  EXPECT_FALSE(h.failed(t0 + 30s, "timeout"));
  EXPECT_EQ(h.next_probe(), t0 + 65s);
  EXPECT_FALSE(h.failed(t0 + 65s, "timeout"));
  EXPECT_EQ(h.next_probe(), t0 + 100s);
  EXPECT_EQ(h.dormant_count(), 1u) << "a failed probe is not a new dormancy";
  EXPECT_EQ(h.consecutive_failures(), 4u);
}

TEST(ModbusHealthTest, AnswerAfterDormancyResumesAndResetsTheBackoff) {
  DeviceHealth h({2, 1s, 8s});
  h.failed(t0, "x");
  h.failed(t0, "x");
  h.failed(t0 + 1s, "x");  // failed probe: 2 s
  ASSERT_EQ(h.backoff(), 2s);
  h.answered();
  EXPECT_EQ(h.state(), DeviceState::ok);
  EXPECT_TRUE(h.due(t0));
  EXPECT_FALSE(h.next_probe().has_value());
  // A second dormancy starts from the minimum again.
  h.failed(t0 + 5s, "y");
  EXPECT_TRUE(h.failed(t0 + 5s, "y"));
  EXPECT_EQ(h.next_probe(), t0 + 6s);
  EXPECT_EQ(h.dormant_count(), 2u);
}

TEST(ModbusHealthTest, StateNames) {
  EXPECT_EQ(device_state_name(DeviceState::ok), "ok");
  EXPECT_EQ(device_state_name(DeviceState::degraded), "degraded");
  EXPECT_EQ(device_state_name(DeviceState::dormant), "dormant");
}

}  // namespace
}  // namespace rackwatch
