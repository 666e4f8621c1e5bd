// rackwatch top's frame: fits the terminal and 100 columns, says what is bad
// in colour only when asked, shows large values with a prefix, and scrolls
// the points table by keys, saying which rows it shows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "diag/top_view.hpp"

namespace rackwatch::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::size_t visible_width(const std::string& line) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {  // skip an SGR sequence
      while (i < line.size() && line[i] != 'm') ++i;
      continue;
    }
    n += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
  }
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto pos = text.find("\r\n"); pos != std::string::npos; pos = text.find("\r\n", start)) {
    out.push_back(text.substr(start, pos - start));
    start = pos + 2;
  }
  out.push_back(text.substr(start));
  return out;
}

class TopViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    status_.set_agent_id("agent-7");
    status_.set_site("hall-a");
    status_.set_rack("r01");
    status_.set_start_time_ms(1'000'000);
    status_.mutable_broker()->set_connected(true);
    status_.mutable_broker()->set_broker("tcp://broker:1883");
    auto* ok = status_.add_sources();
    ok->set_name("pdu");
    ok->set_type("sim");
    ok->set_state("ok");
    ok->set_points(30);
    auto* dormant = status_.add_sources();
    dormant->set_name("psu-with-a-rather-long-source-name");
    dormant->set_type("modbus");
    dormant->set_state("dormant");
    dormant->set_points(2);
    dormant->set_bad_points(2);
    dormant->set_last_error(std::string(200, 'x'));
    for (int i = 0; i < 30; ++i) {
      auto* p = values_.add_points();
      p->set_id("pdu.point_" + std::to_string(i));
      p->set_value(230.5 + i);
      p->set_unit_symbol("°C");
      p->set_quality(i == 3 ? v1::QUALITY_BAD : v1::QUALITY_GOOD);
      p->set_reason(i == 3 ? "timeout: no answer from unit 1 before the deadline, and then some" : "");
      p->set_time_ms(i == 4 ? 0 : 1'059'000);
    }
  }
  TopFrame frame(int rows, int cols, bool color) {
    TopFrame f;
    f.status = &status_;
    f.values = &values_;
    f.rows = rows;
    f.cols = cols;
    f.color = color;
    f.now_ms = 1'060'000;
    return f;
  }
  v1::AgentState status_;
  v1::PointValues values_;
};

TEST_F(TopViewTest, FitsHundredColumnsAndTheTerminalsRows) {
  for (int cols : {80, 100, 250}) {
    for (int rows : {10, 24, 60}) {
      const auto lines = lines_of(render_top(frame(rows, cols, true)));
      EXPECT_LE(lines.size(), static_cast<std::size_t>(rows));
      for (const auto& l : lines) EXPECT_LE(visible_width(l), static_cast<std::size_t>(std::min(cols, 100))) << l;
    }
  }
}

TEST_F(TopViewTest, ShowsStateQualityAndWhatDidNotFit) {
  const auto text = render_top(frame(24, 100, false));
  EXPECT_THAT(text, HasSubstr("rackwatch top  agent-7  site hall-a  rack r01  up 1m"));
  EXPECT_THAT(text, HasSubstr("broker connected tcp://broker:1883"));
  EXPECT_THAT(text, HasSubstr("dormant"));
  EXPECT_THAT(text, HasSubstr("2/2"));
  EXPECT_THAT(text, HasSubstr("pdu.point_3"));
  EXPECT_THAT(text, HasSubstr("timeout: no answer"));
  EXPECT_THAT(text, HasSubstr("not read yet"));
  EXPECT_THAT(text, HasSubstr("rows 1–13 of 30  ↑↓ PgUp PgDn Home End scroll  q or Ctrl-C quits"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b[")));
  const auto all = render_top(frame(60, 100, false));
  EXPECT_THAT(all, HasSubstr("pdu.point_29"));
  EXPECT_THAT(all, HasSubstr("rows 1–30 of 30; q or Ctrl-C quits"));
  EXPECT_THAT(all, Not(HasSubstr("scroll")));
}

TEST_F(TopViewTest, ScrollsThePointsAndNeverPastTheLastPage) {
  auto f = frame(24, 100, false);
  const auto page = point_rows(f);
  ASSERT_EQ(page, 13u);  // 24 rows less 10 above the table and the footer
  f.first_point = 5;
  auto text = render_top(f);
  EXPECT_THAT(text, HasSubstr("rows 6–18 of 30"));
  EXPECT_THAT(text, HasSubstr("pdu.point_5 "));
  EXPECT_THAT(text, HasSubstr("pdu.point_17 "));
  EXPECT_THAT(text, Not(HasSubstr("pdu.point_4 ")));
  EXPECT_THAT(text, Not(HasSubstr("pdu.point_18 ")));
  // Beyond the end (the points shrank since the key): the last page.
  f.first_point = 1000;
  text = render_top(f);
  EXPECT_THAT(text, HasSubstr("rows 18–30 of 30"));
  EXPECT_THAT(text, HasSubstr("pdu.point_29 "));
  EXPECT_LE(lines_of(text).size(), 24u);
}

TEST(TopViewKeysTest, KeysMoveByRowPageOrToAnEnd) {
  // 30 rows, 10 to a page: the first row shown is 0..20.
  const struct {
    std::size_t first;
    TopKey key;
    std::size_t after;
  } cases[] = {
      {0, TopKey::up, 0},          {5, TopKey::up, 4},          {0, TopKey::down, 1},
      {20, TopKey::down, 20},      {0, TopKey::page_down, 10},  {15, TopKey::page_down, 20},
      {15, TopKey::page_up, 5},    {5, TopKey::page_up, 0},     {13, TopKey::home, 0},
      {0, TopKey::end, 20},        {25, TopKey::none, 20},      {7, TopKey::quit, 7},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(scroll(c.first, c.key, 10, 30), c.after) << c.first << " key " << static_cast<int>(c.key);
  }
  // Everything fits: nowhere to go.
  EXPECT_EQ(scroll(0, TopKey::end, 10, 4), 0u);
  EXPECT_EQ(scroll(0, TopKey::page_down, 10, 4), 0u);
  // No room at all still moves by one.
  EXPECT_EQ(scroll(0, TopKey::page_down, 0, 3), 1u);
}

TEST(TopViewKeysTest, ReadsTheSequencesTerminalsSend) {
  const struct {
    const char* input;
    TopKey key;
    std::size_t used;
  } cases[] = {
      {"\x1b[A", TopKey::up, 3},        {"\x1bOA", TopKey::up, 3},        {"k", TopKey::up, 1},
      {"\x1b[B", TopKey::down, 3},      {"\x1bOB", TopKey::down, 3},      {"j", TopKey::down, 1},
      {"\x1b[5~", TopKey::page_up, 4},  {"b", TopKey::page_up, 1},        {"\x1b[6~", TopKey::page_down, 4},
      {" ", TopKey::page_down, 1},      {"\x1b[H", TopKey::home, 3},      {"\x1b[1~", TopKey::home, 4},
      {"\x1b[7~", TopKey::home, 4},     {"\x1bOH", TopKey::home, 3},      {"g", TopKey::home, 1},
      {"\x1b[F", TopKey::end, 3},       {"\x1b[4~", TopKey::end, 4},      {"\x1b[8~", TopKey::end, 4},
      {"\x1bOF", TopKey::end, 3},       {"G", TopKey::end, 1},            {"q", TopKey::quit, 1},
      {"Q", TopKey::quit, 1},           {"x", TopKey::none, 1},           {"\x1b", TopKey::none, 1},
      {"\x1b[1;5A", TopKey::up, 6},     {"\x1b[2~", TopKey::none, 4},     {"\x1b[12", TopKey::none, 4},
  };
  for (const auto& c : cases) {
    const auto k = read_key(c.input);
    EXPECT_EQ(k.key, c.key) << ::testing::PrintToString(std::string(c.input));
    EXPECT_EQ(k.used, c.used) << ::testing::PrintToString(std::string(c.input));
  }
  // Two keys in one read: each in turn.
  std::string_view both = "\x1b[6~q";
  auto k = read_key(both);
  EXPECT_EQ(k.key, TopKey::page_down);
  both.remove_prefix(k.used);
  EXPECT_EQ(read_key(both).key, TopKey::quit);
}

TEST_F(TopViewTest, LargeValuesTakeAPrefix) {
  auto* energy = values_.mutable_points(0);
  energy->set_id("pdu-a.energy");
  energy->set_value(2313856652.5);
  energy->set_unit_symbol("Wh");
  const auto text = render_top(frame(24, 100, false));
  EXPECT_THAT(text, ::testing::ContainsRegex("pdu-a.energy +2313.86 MWh +good"));
}

TEST_F(TopViewTest, ColoursBadInRedAndOkInGreen) {
  const auto text = render_top(frame(24, 100, true));
  EXPECT_THAT(text, HasSubstr("\x1b[31mdormant"));
  EXPECT_THAT(text, HasSubstr("\x1b[32mok"));
  EXPECT_THAT(text, HasSubstr("\x1b[31mbad"));
}

TEST_F(TopViewTest, ShowsActiveAlarmsCriticalInRedAndAtMostThreeLines) {
  EXPECT_THAT(render_top(frame(24, 100, false)), HasSubstr("alarms none active"));
  auto add = [&](const std::string& point, v1::AlarmEvent::Severity severity) {
    auto* a = status_.add_active_alarms();
    a->set_point_id(point);
    a->set_kind("high_critical");
    a->set_severity(severity);
    a->set_value(36.2);
    a->set_limit(35);
    a->set_time_ms(1'030'000);
  };
  add("cdu.supply_temp", v1::AlarmEvent::SEVERITY_CRITICAL);
  add("air.inlet_temp", v1::AlarmEvent::SEVERITY_CAUTION);
  auto text = render_top(frame(24, 100, true));
  EXPECT_THAT(text, HasSubstr("\x1b[31malarm  CRITICAL cdu.supply_temp high_critical value 36.2, limit 35 for 30s"));
  EXPECT_THAT(text, HasSubstr("\x1b[33malarm  caution  air.inlet_temp"));
  EXPECT_THAT(text, Not(HasSubstr("none active")));
  for (int i = 0; i < 4; ++i) add("rack.p" + std::to_string(i), v1::AlarmEvent::SEVERITY_CAUTION);
  text = render_top(frame(24, 100, false));
  EXPECT_THAT(text, HasSubstr("alarm  ... and 4 more"));
  EXPECT_THAT(text, Not(HasSubstr("rack.p1")));
}

TEST(TopViewErrorTest, AnAgentThatWentAwayIsSaid) {
  TopFrame f;
  f.error = "no answer from the agent: /run/rackwatch/diag.sock: Connection refused";
  f.color = false;
  const auto text = render_top(f);
  EXPECT_THAT(text, HasSubstr("Connection refused"));
  EXPECT_THAT(text, HasSubstr("q or Ctrl-C quits"));
}

}  // namespace
}  // namespace rackwatch::cli
