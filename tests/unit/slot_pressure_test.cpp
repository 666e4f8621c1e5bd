// SlotPressure: one episode from the first client evicted or refused until
// `calm` passes without another, however many come in between.
#include "diag/slot_pressure.hpp"

#include <gtest/gtest.h>

namespace rackwatch::diag {
namespace {

using namespace std::chrono_literals;
using Clock = SlotPressure::Clock;

TEST(SlotPressure, AFloodIsOneEpisodeWithItsCounts) {
  SlotPressure p(30s);
  const Clock::time_point t0{};
  EXPECT_FALSE(p.calm_at());
  EXPECT_FALSE(p.end_if_calm(t0));

  EXPECT_TRUE(p.evicted(t0)) << "the first one starts the episode";
  for (int i = 1; i <= 99; ++i) EXPECT_FALSE(p.evicted(t0 + i * 100ms)) << i;
  EXPECT_FALSE(p.refused(t0 + 10s));
  EXPECT_FALSE(p.refused(t0 + 20s));
  ASSERT_TRUE(p.calm_at());
  EXPECT_EQ(*p.calm_at(), t0 + 50s) << "30 s after the last";

  EXPECT_FALSE(p.end_if_calm(t0 + 49s)) << "not calm yet";
  const auto over = p.end_if_calm(t0 + 50s);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->evicted, 100u);
  EXPECT_EQ(over->refused, 2u);
  EXPECT_EQ(over->lasted, 20s);
  EXPECT_FALSE(p.calm_at());
  EXPECT_FALSE(p.end_if_calm(t0 + 60s)) << "ended once";
}

TEST(SlotPressure, AfterTheCalmANewEpisodeStartsAfresh) {
  SlotPressure p(1s);
  const Clock::time_point t0{};
  EXPECT_TRUE(p.refused(t0));
  ASSERT_TRUE(p.end_if_calm(t0 + 1s));
  EXPECT_TRUE(p.refused(t0 + 2s)) << "a new episode, warned again";
  const auto over = p.end_if_calm(t0 + 3s);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->refused, 1u);
  EXPECT_EQ(over->evicted, 0u);
}

}  // namespace
}  // namespace rackwatch::diag
