#include "publish/mqtt_backoff.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace rackwatch {
namespace {

using Millis = MqttBackoff::Millis;

TEST(MqttBackoff, CeilingDoublesFromTheFloorAndIsCapped) {
  MqttBackoff backoff(Millis{100}, Millis{1'000}, 1, 1);
  std::vector<Millis> ceilings;
  for (int i = 0; i < 6; ++i) {
    ceilings.push_back(backoff.ceiling());
    backoff.failed();
  }
  EXPECT_EQ(ceilings, (std::vector<Millis>{Millis{200}, Millis{400}, Millis{800}, Millis{1'000},
                                            Millis{1'000}, Millis{1'000}}));
}

TEST(MqttBackoff, EveryWaitLiesBetweenTheFloorAndItsCeiling) {
  MqttBackoff backoff(Millis{50}, Millis{3'000}, 3, 42);
  for (int i = 0; i < 1'000; ++i) {
    const Millis ceiling = backoff.ceiling();
    const Millis wait = (i % 2 == 0) ? backoff.failed() : backoff.lost();
    ASSERT_GE(wait, Millis{50}) << "wait " << i;
    ASSERT_LE(wait, ceiling) << "wait " << i;
    ASSERT_LE(wait, Millis{3'000}) << "wait " << i;
  }
}

TEST(MqttBackoff, WaitsGrowAndAreJittered) {
  // Once capped, waits spread over [min, max]: many distinct values, some in
  // the upper half (the range grew), some in the lower (full jitter).
  MqttBackoff backoff(Millis{10}, Millis{10'000}, 1, 7);
  std::vector<Millis> late;
  for (int i = 0; i < 200; ++i) {
    const Millis wait = backoff.failed();
    if (i >= 20) late.push_back(wait);
  }
  std::sort(late.begin(), late.end());
  EXPECT_GT(std::unique(late.begin(), late.end()) - late.begin(), 100);
  EXPECT_GT(late.back(), Millis{5'000});
  EXPECT_LT(late.front(), Millis{5'000});
}

TEST(MqttBackoff, FirstWaitIsAtMostTwiceTheFloor) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    MqttBackoff backoff(Millis{100}, Millis{60'000}, 2, seed);
    const Millis wait = backoff.lost();
    EXPECT_GE(wait, Millis{100});
    EXPECT_LE(wait, Millis{200});
  }
}

TEST(MqttBackoff, ResetsAfterSuccess) {
  MqttBackoff backoff(Millis{100}, Millis{60'000}, 1, 3);
  for (int i = 0; i < 10; ++i) backoff.failed();
  EXPECT_EQ(backoff.ceiling(), Millis{60'000});
  backoff.connected();
  EXPECT_EQ(backoff.ceiling(), Millis{200});
  EXPECT_LE(backoff.lost(), Millis{200});
}

TEST(MqttBackoff, SameSeedSameWaits) {
  MqttBackoff a(Millis{100}, Millis{60'000}, 2, 99);
  MqttBackoff b(Millis{100}, Millis{60'000}, 2, 99);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.failed(), b.failed());
}

TEST(MqttBackoff, FailuresRotateThroughTheBrokersInOrder) {
  MqttBackoff backoff(Millis{1}, Millis{10}, 3, 1);
  std::vector<std::size_t> order{backoff.broker()};
  for (int i = 0; i < 6; ++i) {
    backoff.failed();
    order.push_back(backoff.broker());
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(MqttBackoff, LossRetriesTheSameBrokerFirst) {
  MqttBackoff backoff(Millis{1}, Millis{10}, 3, 1);
  backoff.failed();  // on broker 1 now
  backoff.connected();
  backoff.lost();
  EXPECT_EQ(backoff.broker(), 1U);
  backoff.failed();
  EXPECT_EQ(backoff.broker(), 2U);
}

TEST(MqttBackoff, DegenerateSettingsAreMadeSafe) {
  // max below min, zero min, no broker: still a wait ≥ 1 ms and broker 0.
  MqttBackoff backoff(Millis{0}, Millis{0}, 0, 1);
  EXPECT_GE(backoff.failed(), Millis{1});
  EXPECT_EQ(backoff.broker(), 0U);
  MqttBackoff inverted(Millis{500}, Millis{100}, 1, 1);
  EXPECT_EQ(inverted.failed(), Millis{500});
}

}  // namespace
}  // namespace rackwatch
