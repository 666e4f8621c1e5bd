// Report by exception, table-driven: what a deadband (absolute or per cent)
// and a maximum age let through, and what always goes (first sample, quality
// and reason changes, alarms).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/report_filter.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + std::chrono::hours(24 * 365 * 50);

struct Step {
  double value;
  std::chrono::milliseconds at;
  Quality quality = Quality::good;
  std::string reason = {};
  bool forced = false;
};

struct Case {
  const char* name;
  std::optional<ReportRule> rule;
  std::vector<Step> steps;
  std::string sent;  // one character a step: 'x' sent, '.' held back
};

// How gtest shows a case in listings and failures: by its name.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::string run(const Case& c) {
  ReportFilter f({c.rule});
  std::string out;
  for (const auto& s : c.steps) {
    const Sample sample{0, s.value, s.quality, s.reason, t0 + s.at};
    out += f.pass(sample, s.forced) ? 'x' : '.';
  }
  return out;
}

const ReportRule kAbs{0.5, false, 10s};
const ReportRule kPct{2.0, true, 60s};
const ReportRule kChangesOnly{0, false, 30s};

const std::vector<Case> kCases = {
    {"no rule sends everything", std::nullopt, {{1, 0s}, {1, 1s}, {1, 2s}}, "xxx"},
    {"first sample always goes", kAbs, {{20, 0s}}, "x"},
    {"inside the deadband is held", kAbs, {{20, 0s}, {20.3, 1s}, {19.6, 2s}, {20.5, 3s}}, "x..."},
    {"beyond it is sent", kAbs, {{20, 0s}, {20.6, 1s}, {20.9, 2s}, {21.2, 3s}}, "xx.x"},
    {"measured from the last value sent, so a slow drift goes out",
     kAbs, {{20, 0s}, {20.2, 1s}, {20.4, 2s}, {20.6, 3s}, {20.8, 4s}}, "x..x."},
    {"downwards too", kAbs, {{20, 0s}, {19.4, 1s}}, "xx"},
    {"max age resends a steady value", kAbs, {{20, 0s}, {20, 5s}, {20, 9s}, {20, 10s}, {20, 15s}, {20, 20s}}, "x..x.x"},
    {"per cent of the last value sent", kPct, {{1000, 0s}, {1019, 1s}, {981, 2s}, {1021, 3s}, {1041, 4s}}, "x..x."},
    {"per cent around zero: any change", kPct, {{0, 0s}, {0, 1s}, {0.001, 2s}}, "x.x"},
    {"quality change always goes",
     kAbs, {{20, 0s}, {0, 1s, Quality::bad, "timeout"}, {0, 2s, Quality::bad, "timeout"}, {20, 3s}}, "xx.x"},
    {"a new reason for a bad point goes",
     kAbs, {{0, 0s, Quality::bad, "timeout"}, {0, 1s, Quality::bad, "crc error"}, {0, 2s, Quality::bad, "crc error"}}, "xx."},
    {"uncertain is a quality of its own", kAbs, {{20, 0s}, {20, 1s, Quality::uncertain, "input stale"}}, "xx"},
    {"an alarm forces its sample out", kAbs, {{20, 0s}, {20.1, 1s, Quality::good, "", true}, {20.2, 2s}}, "xx."},
    {"forced sample becomes the reference", kAbs, {{20, 0s}, {20.4, 1s, Quality::good, "", true}, {20.8, 2s}}, "xx."},
    {"max age only: changes and a heartbeat", kChangesOnly, {{0, 0s}, {0, 10s}, {1, 20s}, {1, 40s}, {1, 50s}, {1, 51s}}, "x.x.x."},
    {"a clock that went back starts afresh", kAbs, {{20, 10s}, {20, 5s}, {20, 6s}}, "xx."},
};

class ReportFilterCases : public ::testing::TestWithParam<Case> {};

TEST_P(ReportFilterCases, SendsWhatIsNew) { EXPECT_EQ(run(GetParam()), GetParam().sent); }

std::string case_name(const ::testing::TestParamInfo<Case>& param) {
  std::string n;
  for (const char* p = param.param.name; *p; ++p) n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Table, ReportFilterCases, ::testing::ValuesIn(kCases), case_name);

TEST(ReportRule, OnlyPointsThatSetAKeyHaveOne) {
  PointConfig p;
  EXPECT_FALSE(ReportRule::of(p));
  p.deadband = 0.2;
  ASSERT_TRUE(ReportRule::of(p));
  EXPECT_EQ(ReportRule::of(p)->max_age, kDefaultMaxAge);
  PointConfig q;
  q.max_age = 30s;
  ASSERT_TRUE(ReportRule::of(q));
  EXPECT_EQ(ReportRule::of(q)->deadband, 0);
}

TEST(ReportFilter, PointsAreIndependent) {
  ReportFilter f({kAbs, std::nullopt});
  EXPECT_TRUE(f.pass({0, 20, Quality::good, {}, t0}));
  EXPECT_TRUE(f.pass({1, 20, Quality::good, {}, t0}));
  EXPECT_FALSE(f.pass({0, 20, Quality::good, {}, t0 + 1s}));
  EXPECT_TRUE(f.pass({1, 20, Quality::good, {}, t0 + 1s}));
}

TEST(ReportFilter, AMessageThatGoesAnywayTakesPointsPastHalfTheirMaxAge) {
  ReportFilter f({kAbs, kAbs, kAbs, std::nullopt});
  auto at = [](std::chrono::milliseconds t, double a, double b, double c, double d) {
    return std::vector<Sample>{{0, a, Quality::good, {}, t0 + t},
                               {1, b, Quality::good, {}, t0 + t},
                               {2, c, Quality::good, {}, t0 + t},
                               {3, d, Quality::good, {}, t0 + t}};
  };
  const std::vector<bool> none(4, false);
  EXPECT_EQ(f.select(at(0s, 1, 2, 3, 4), none), (std::vector<bool>{true, true, true, true}));
  // Nothing new but the unfiltered point: the others are not yet half way.
  EXPECT_EQ(f.select(at(4s, 1, 2, 3, 4), none), (std::vector<bool>{false, false, false, true}));
  // Point 0 moves at 5 s: half of the 10 s max age has passed for 1 and 2 too.
  EXPECT_EQ(f.select(at(5s, 2, 2, 3, 4), none), (std::vector<bool>{true, true, true, true}));
  // A message of filtered points only, none new: nothing, and no refresh.
  ReportFilter g({kAbs, kAbs});
  const std::vector<bool> two(2, false);
  EXPECT_EQ(g.select({{0, 1, Quality::good, {}, t0}, {1, 1, Quality::good, {}, t0}}, two),
            (std::vector<bool>{true, true}));
  EXPECT_EQ(g.select({{0, 1, Quality::good, {}, t0 + 6s}, {1, 1, Quality::good, {}, t0 + 6s}}, two),
            (std::vector<bool>{false, false}));
  // An alarm forces its point, and the message then refreshes the other.
  EXPECT_EQ(g.select({{0, 1, Quality::good, {}, t0 + 7s}, {1, 1, Quality::good, {}, t0 + 7s}}, {true, false}),
            (std::vector<bool>{true, true}));
}

TEST(ReportFilter, ApplyKeepsTheSamplesToSendWholeAndInOrder) {
  ReportFilter f({kAbs, kAbs, kAbs});
  std::vector<Sample> first{{0, 1, Quality::bad, "timeout", t0}, {1, 2, Quality::good, {}, t0},
                            {2, 3, Quality::uncertain, "pdu.l2: estimated", t0}};
  f.apply(first, {false, false, false});
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].reason, "timeout");
  EXPECT_EQ(first[2].reason, "pdu.l2: estimated");
  std::vector<Sample> next{{0, 0, Quality::bad, "crc error", t0 + 1s}, {1, 2, Quality::good, {}, t0 + 1s},
                           {2, 3, Quality::bad, "pdu.l2: timeout", t0 + 1s}};
  f.apply(next, {false, false, false});
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].point, 0u);
  EXPECT_EQ(next[0].reason, "crc error");
  EXPECT_EQ(next[1].point, 2u);
  EXPECT_EQ(next[1].reason, "pdu.l2: timeout");
}

TEST(ReportFilter, AReloadKeepsWhatWasSentOfEachPointThatStays) {
  ReportFilter old({kAbs, kAbs});
  ASSERT_TRUE(old.pass({0, 20, Quality::good, {}, t0}));
  ASSERT_TRUE(old.pass({1, 30, Quality::good, {}, t0}));
  // The points swapped places and a new one came first.
  ReportFilter next({kAbs, kAbs, kAbs});
  // Old a.x 0, a.y 1; new b.new 0, a.y 1, a.x 2.
  next.keep_state(old, {std::nullopt, 1u, 0u});
  EXPECT_TRUE(next.pass({0, 1, Quality::good, {}, t0 + 1s}));
  EXPECT_FALSE(next.pass({1, 30.1, Quality::good, {}, t0 + 1s}));
  EXPECT_FALSE(next.pass({2, 20.1, Quality::good, {}, t0 + 1s}));
  EXPECT_TRUE(next.pass({2, 21, Quality::good, {}, t0 + 2s}));
}

}  // namespace
}  // namespace rackwatch
