// Derived-point expressions, table-driven: the grammar (precedence, ids that
// contain '-', every parse error with its offset, the length and depth
// limits), then evaluation (functions, quality carried up, rate, integral and
// counter over time, two formulas of the field against numbers by hand).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pipeline/expression.hpp"

namespace rackwatch::expr {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + std::chrono::hours(24 * 365 * 50);

Sample good(double v, std::chrono::milliseconds at = 0ms) { return Sample{0, v, Quality::good, {}, t0 + at}; }
Sample bad(std::string why, std::chrono::milliseconds at = 0ms) { return Sample{0, 0, Quality::bad, std::move(why), t0 + at}; }
Sample uncertain(double v, std::string why, std::chrono::milliseconds at = 0ms) {
  return Sample{0, v, Quality::uncertain, std::move(why), t0 + at};
}

ExpressionPtr parsed(std::string_view text) {
  auto r = parse(text);
  if (const auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "'" << text << "': " << e->message << " at " << e->offset;
    return nullptr;
  }
  return std::get<ExpressionPtr>(r);
}

// The canonical text, or "error@offset: message".
std::string outcome(std::string_view text) {
  auto r = parse(text);
  if (const auto* e = std::get_if<ParseError>(&r)) return "error@" + std::to_string(e->offset) + ": " + e->message;
  return std::get<ExpressionPtr>(r)->text();
}

Result evaluate_once(std::string_view text, const std::vector<Sample>& inputs, TimePoint now = t0) {
  auto e = parsed(text);
  if (!e) return {};
  Evaluator ev(e);
  return ev.evaluate(inputs, now);
}

std::string ids(const Expression& e) {
  std::string out;
  for (const auto& r : e.references()) out += (out.empty() ? "" : " ") + r.id + "@" + std::to_string(r.offset);
  return out;
}

struct TextCase {
  const char* text;
  const char* canonical;
  const char* references;
};

TEST(ExpressionParseTest, CanonicalTextAndReferences) {
  const std::vector<TextCase> cases{
      {"1+2*3", "1 + 2 * 3", ""},
      {"(1+2)*3", "(1 + 2) * 3", ""},
      {"(a - b) - c", "a - b - c", "a@1 b@5 c@10"},
      {"a - (b - c)", "a - (b - c)", "a@0 b@5 c@9"},
      {"a / (b * c)", "a / (b * c)", "a@0 b@5 c@9"},
      {"-a*b", "-a * b", "a@1 b@3"},
      {"-(a*b)", "-(a * b)", "a@2 b@4"},
      {"- -a", "--a", "a@3"},
      {"a--b", "a - -b", "a@0 b@3"},
      {"2*-3", "2 * -3", ""},
      // A '-' between two id characters belongs to the id.
      {"a-b.c", "a-b.c", "a-b.c@0"},
      {"x-1", "x-1", "x-1@0"},
      {"a.x - b.y", "a.x - b.y", "a.x@0 b.y@6"},
      {"a.x -b.y", "a.x - b.y", "a.x@0 b.y@5"},
      {"a.x- b.y", "a.x - b.y", "a.x@0 b.y@5"},
      {"2-a", "2 - a", "a@2"},
      {"cdu-a.supply_temp*2", "cdu-a.supply_temp * 2", "cdu-a.supply_temp@0"},
      {"shelf.psu1-in + derived.rack_power", "shelf.psu1-in + derived.rack_power",
       "shelf.psu1-in@0 derived.rack_power@16"},
      {"_x.1st", "_x.1st", "_x.1st@0"},
      {" sum( a ,\tb )\n", "sum(a, b)", "a@6 b@10"},
      {"sum (a)", "sum(a)", "a@5"},
      {"sum", "sum", "sum@0"},
      {"integral(p, 300)", "integral(p)", "p@9"},
      {"integral(p,60)", "integral(p, 60)", "p@9"},
      {"integral(p, (60))", "integral(p, 60)", "p@9"},
      {"rate(integral(counter(e)))", "rate(integral(counter(e)))", "e@22"},
      {"1.5e3 + 0.50 + 2E-1 + 7e+0", "1500 + 0.5 + 0.2 + 7", ""},
      {"b + a*b - sum(c, a) + b", "b + a * b - sum(c, a) + b", "b@0 a@4 c@14"},
      {"if_good(a, 0) * good(a)", "if_good(a, 0) * good(a)", "a@8"},
  };
  for (const auto& c : cases) {
    auto e = parsed(c.text);
    if (!e) continue;
    EXPECT_EQ(e->text(), c.canonical) << c.text;
    EXPECT_EQ(ids(*e), c.references) << c.text;
    // The canonical text is a fixed point.
    EXPECT_EQ(outcome(e->text()), c.canonical) << c.text;
  }
}

struct ValueCase {
  const char* text;
  double value;
};

TEST(ExpressionParseTest, PrecedenceAndAssociativity) {
  const std::vector<ValueCase> cases{
      {"1 + 2 * 3", 7},   {"(1 + 2) * 3", 9},  {"10 - 4 - 3", 3},  {"10 - (4 - 3)", 9}, {"100 / 10 / 5", 2},
      {"8 / 4 * 2", 4},   {"2 * -3", -6},      {"-(1 - 3)", 2},    {"2 - -3", 5},       {"--4", 4},
      {"-2 * 3 + 1", -5}, {"1.5e3 / 3", 500},  {"2 * (3 + 4) * 5", 70},
  };
  for (const auto& c : cases) {
    const auto r = evaluate_once(c.text, {});
    EXPECT_EQ(r.quality, Quality::good) << c.text;
    EXPECT_DOUBLE_EQ(r.value, c.value) << c.text;
  }
}

struct ErrorCase {
  std::string text;
  std::size_t offset;
  std::string message;
};

TEST(ExpressionParseTest, ErrorsSayWhatAndWhere) {
  const std::string known = " (known: abs, avg, counter, diff, good, if_good, integral, max, min, rate, sum)";
  const std::string operand = "expected a number, a point or a function";
  const std::string gap = "integral's max gap must be a positive number of seconds";
  const std::vector<ErrorCase> cases{
      {"", 0, "empty expression"},
      {" \t\n", 0, "empty expression"},
      {"foo(a)", 0, "unknown function 'foo'" + known},
      {"1 + foo (a)", 4, "unknown function 'foo'" + known},
      {"a.b(1)", 0, "unknown function 'a.b'" + known},
      {"sum()", 0, "sum needs at least 1 argument"},
      {"2 * max( )", 4, "max needs at least 1 argument"},
      {"2 * diff(a, b, c)", 4, "diff takes 2 arguments, found 3"},
      {"if_good(a)", 0, "if_good takes 2 arguments, found 1"},
      {"abs(a, b)", 0, "abs takes 1 argument, found 2"},
      {"rate()", 0, "rate takes 1 argument, found 0"},
      {"integral(a, 1, 2)", 0, "integral takes 1 or 2 arguments, found 3"},
      {"integral()", 0, "integral takes 1 or 2 arguments, found 0"},
      {"integral(a, 0)", 12, gap},
      {"integral(a,  -5)", 13, gap},
      {"integral(a, b)", 12, gap},
      {"integral(a, 2 * 30)", 12, gap},
      {"(a + b", 6, "expected ')' to close the '(' at 0"},
      {"1 + (2 * (a + b)", 16, "expected ')' to close the '(' at 4"},
      {"sum(a b)", 6, "expected ')' or ',' after argument 1 of sum"},
      {"sum(a, b", 8, "expected ')' or ',' after argument 2 of sum"},
      {"sum(a,)", 6, operand},
      {"sum(,a)", 4, operand},
      {"a b", 2, "unexpected 'b'"},
      {"a + b)", 5, "unexpected ')'"},
      {"a 12", 2, "unexpected '12'"},
      {std::string("a \x01", 3), 2, "unexpected byte 0x01"},
      {"a +", 3, operand},
      {"* a", 0, operand},
      {".5", 0, operand},
      {"a + ()", 5, operand},
      {"-", 1, operand},
      {"+a", 0, operand},
      {"1e999", 0, "number out of range: '1e999'"},
      {"2 * 1e400", 4, "number out of range: '1e400'"},
      {"1.x", 0, "malformed number '1.x'"},
      {"2a", 0, "malformed number '2a'"},
      {"1e", 0, "malformed number '1e'"},
      {"1.", 0, "malformed number '1.'"},
      {"1.5.3", 0, "malformed number '1.5.3'"},
      {"a.", 2, "expected a letter, digit or '_' after '.'"},
      {"a.-b", 2, "expected a letter, digit or '_' after '.'"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(outcome(c.text), "error@" + std::to_string(c.offset) + ": " + c.message) << "'" << c.text << "'";
  }
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ExpressionParseTest, LengthIsBounded) {
  // 2048 terms: 4095 bytes, a long chain but not a deep one.
  const auto longest = "1" + repeat("+1", 2047);
  ASSERT_EQ(longest.size(), 4095u);
  EXPECT_EQ(evaluate_once(longest, {}).value, 2048);
  EXPECT_EQ(outcome(longest + " ").substr(0, 8), "1 + 1 + ") << "4096 bytes is within the limit";
  EXPECT_EQ(outcome(longest + "  "), "error@0: expression longer than 4096 bytes");
  EXPECT_EQ(outcome(std::string(5000, ' ')), "error@0: expression longer than 4096 bytes");
}

TEST(ExpressionParseTest, NestingIsBounded) {
  const std::string deepest = repeat("(", 64) + "a" + repeat(")", 64);
  EXPECT_EQ(outcome(deepest), "a");
  EXPECT_EQ(outcome(repeat("(", 65) + "a" + repeat(")", 65)), "error@64: nesting deeper than 64");
  EXPECT_EQ(outcome(repeat("-", 64) + "1"), repeat("-", 64) + "1");
  EXPECT_EQ(outcome(repeat("-", 65) + "1"), "error@64: nesting deeper than 64");
  EXPECT_EQ(outcome(repeat("abs(", 64) + "a" + repeat(")", 64)), repeat("abs(", 64) + "a" + repeat(")", 64));
  EXPECT_EQ(outcome(repeat("abs(", 65) + "a" + repeat(")", 65)), "error@256: nesting deeper than 64");
  // Hostile input within the length limit ends in an error, not a crash.
  EXPECT_EQ(outcome(std::string(4096, '(')), "error@64: nesting deeper than 64");
  EXPECT_EQ(outcome(std::string(4096, '-')), "error@64: nesting deeper than 64");
  EXPECT_EQ(outcome(repeat("sum(", 1024)), "error@256: nesting deeper than 64");
}

struct EvalCase {
  const char* name;
  const char* text;
  std::vector<Sample> inputs;
  double value;
  Quality quality;
  const char* reason;
};

void check(const std::vector<EvalCase>& cases) {
  for (const auto& c : cases) {
    const auto r = evaluate_once(c.text, c.inputs);
    EXPECT_NEAR(r.value, c.value, 1e-9) << c.name;
    EXPECT_EQ(quality_name(r.quality), quality_name(c.quality)) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name;
  }
}

TEST(ExpressionEvalTest, Functions) {
  const auto g = Quality::good;
  check({
      {"sum", "sum(a, b, c)", {good(1), good(2), good(3.5)}, 6.5, g, ""},
      {"sum of one", "sum(a)", {good(4)}, 4, g, ""},
      {"avg", "avg(a, b, c)", {good(1), good(2), good(6)}, 3, g, ""},
      {"min", "min(a, b, c)", {good(3), good(-1), good(2)}, -1, g, ""},
      {"max", "max(a, b, c)", {good(3), good(-1), good(2)}, 3, g, ""},
      {"diff", "diff(a, b)", {good(5), good(7)}, -2, g, ""},
      {"abs", "abs(a - b)", {good(5), good(7)}, 2, g, ""},
      {"a point used twice is one input", "a * a + a", {good(3)}, 12, g, ""},
      {"constants", "avg(1, 2) * 4", {}, 6, g, ""},
      {"heat removed: W from L/min and a delta-T", "cdu.flow / 60 * 0.9957 * 4186 * (cdu.return - cdu.supply)",
       {good(30), good(40), good(30)}, 20840.001, g, ""},
      {"phase imbalance in %", "(max(a.l1, a.l2, a.l3) - avg(a.l1, a.l2, a.l3)) / avg(a.l1, a.l2, a.l3) * 100",
       {good(10), good(12), good(11)}, 100.0 / 11, g, ""},
  });
}

TEST(ExpressionEvalTest, QualityIsCarriedUp) {
  const auto g = Quality::good;
  const auto b = Quality::bad;
  const auto u = Quality::uncertain;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  check({
      {"bad operand", "a + b", {good(1), bad("timeout")}, 0, b, "b: timeout"},
      {"uncertain operand keeps its value", "a + b", {uncertain(1, "over range"), good(2)}, 3, u, "a: over range"},
      {"bad beats uncertain", "a * b", {uncertain(1, "over range"), bad("timeout")}, 0, b, "b: timeout"},
      {"the first bad input names the reason", "sum(a, b)", {bad("timeout"), bad("crc")}, 0, b, "a: timeout"},
      {"the first uncertain one too", "a - b", {uncertain(1, "x"), uncertain(1, "y")}, 0, u, "a: x"},
      {"reason from the quality if the sample has none", "-a", {bad("")}, 0, b, "a: bad"},
      {"bad in a function", "max(a, b)", {good(5), bad("timeout")}, 0, b, "b: timeout"},
      {"not-a-number sample", "a + 1", {good(nan)}, 0, b, "a: not a finite number"},
      {"division by zero", "a / b", {good(1), good(0)}, 0, b, "division by zero"},
      {"division by an expression that is zero", "a / (b - b)", {good(1), good(3)}, 0, b, "division by zero"},
      {"a bad dividend comes first", "a / b", {bad("timeout"), good(0)}, 0, b, "a: timeout"},
      {"division by zero comes first", "a / 0 + b", {good(1), bad("timeout")}, 0, b, "division by zero"},
      {"overflow", "a * 1e300 * 1e300", {good(1)}, 0, b, "not a finite number"},
      {"overflow in a sum", "sum(1e308, 1e308, a)", {good(1)}, 0, b, "not a finite number"},
      {"if_good: good", "if_good(a, b)", {good(1), good(2)}, 1, g, ""},
      {"if_good: bad takes the fallback", "if_good(a, b)", {bad("timeout"), good(2)}, 2, g, ""},
      {"if_good: uncertain takes the fallback", "if_good(a, b)", {uncertain(1, "x"), good(2)}, 2, g, ""},
      {"if_good: the fallback's quality", "if_good(a, b)", {bad("timeout"), uncertain(2, "x")}, 2, u, "b: x"},
      {"if_good: both bad", "if_good(a, b)", {bad("timeout"), bad("crc")}, 0, b, "b: crc"},
      {"good: good", "good(a)", {good(7)}, 1, g, ""},
      {"good: bad", "good(a)", {bad("timeout")}, 0, g, ""},
      {"good: uncertain", "good(a)", {uncertain(7, "x")}, 0, g, ""},
      {"good of a failed division", "good(1 / a)", {good(0)}, 0, g, ""},
  });
}

TEST(ExpressionEvalTest, InputsMustMatchReferences) {
  const auto r = evaluate_once("a + b", {good(1)});
  EXPECT_EQ(r.quality, Quality::bad);
  EXPECT_EQ(r.reason, "expected 2 inputs, found 1");
}

struct Step {
  Sample input;
  double value;
  Quality quality;
  const char* reason;
};

// One evaluator fed a sample per step; `now` is the sample's time.
void run(std::string_view text, const std::vector<Step>& steps) {
  auto e = parsed(text);
  if (!e) return;
  Evaluator ev(e);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = steps[i];
    const auto r = ev.evaluate(std::span(&s.input, 1), s.input.time);
    EXPECT_NEAR(r.value, s.value, 1e-9) << text << " step " << i;
    EXPECT_EQ(quality_name(r.quality), quality_name(s.quality)) << text << " step " << i;
    EXPECT_EQ(r.reason, s.reason) << text << " step " << i;
  }
}

constexpr auto G = Quality::good;
constexpr auto B = Quality::bad;
constexpr auto U = Quality::uncertain;
constexpr const char* kWaiting = "rate: waiting for a second sample";

TEST(ExpressionEvalTest, Rate) {
  run("rate(a)", {
                     {good(100, 0s), 0, B, kWaiting},
                     {good(100, 0s), 0, B, kWaiting},  // the same sample again
                     {good(150, 10s), 5, G, ""},
                     {good(130, 20s), -2, G, ""},
                     {good(130, 20s), -2, G, ""},
                     {uncertain(160, "x", 30s), 3, U, "a: x"},
                     {bad("timeout", 40s), 0, B, "a: timeout"},
                     {good(200, 50s), 0, B, kWaiting},  // starts over after a bad sample
                     {good(210, 55s), 2, G, ""},
                     {good(0, 54s), 2, G, ""},  // older than the last: ignored
                 });
}

TEST(ExpressionEvalTest, EachStatefulCallHasItsOwnState) {
  auto e = parsed("rate(a) + rate(a * 2)");
  Evaluator ev(e);
  Evaluator other(e);
  const std::vector<Sample> first{good(0, 0s)}, second{good(10, 10s)};
  EXPECT_EQ(ev.evaluate(first, t0).reason, kWaiting);
  EXPECT_EQ(ev.evaluate(second, t0 + 10s).value, 3);
  EXPECT_EQ(other.evaluate(second, t0 + 10s).reason, kWaiting) << "a second evaluator starts afresh";
}

TEST(ExpressionEvalTest, IfGoodKeepsTheFallbacksStateMoving) {
  run("if_good(a, rate(a))", {
                                 {good(0, 0s), 0, G, ""},
                                 {good(10, 10s), 10, G, ""},
                                 {uncertain(30, "x", 20s), 2, U, "a: x"},
                             });
}

TEST(ExpressionEvalTest, IntegralOfAConstantPowerForAnHour) {
  auto e = parsed("integral(rack.power)");
  Evaluator ev(e);
  Result r;
  for (int s = 0; s <= 3600; s += 10) {
    const Sample in = good(1000, std::chrono::seconds(s));
    r = ev.evaluate(std::span(&in, 1), in.time);
  }
  EXPECT_NEAR(r.value, 1000, 1e-9);
  EXPECT_EQ(r.quality, Quality::good);
}

TEST(ExpressionEvalTest, IntegralOfARampIsTheTrapezoid) {
  auto e = parsed("integral(p)");
  Evaluator ev(e);
  Result r;
  // p = t in watts at uneven steps: the energy is t²/2 W·s.
  for (int s : {0, 7, 60, 61, 300, 550, 600, 720}) {
    const Sample in = good(s, std::chrono::seconds(s));
    r = ev.evaluate(std::span(&in, 1), in.time);
  }
  EXPECT_NEAR(r.value, 720.0 * 720 / 2 / 3600, 1e-9);
}

TEST(ExpressionEvalTest, IntegralAcrossOutagesAndGaps) {
  const double wh10 = 1000.0 * 10 / 3600;  // 1000 W for 10 s
  run("integral(p)", {
                         {good(1000, 0s), 0, G, ""},
                         {good(1000, 10s), wh10, G, ""},
                         {good(1000, 10s), wh10, G, ""},  // the same sample adds nothing
                         {bad("timeout", 20s), wh10, U, "integral: p: timeout"},
                         {bad("timeout", 60s), wh10, U, "integral: p: timeout"},
                         {good(1000, 70s), 7 * wh10, G, ""},  // a short outage is bridged
                         {bad("timeout", 80s), 7 * wh10, U, "integral: p: timeout"},
                         {good(1000, 400s), 7 * wh10, G, ""},  // 330 s: over the default 300
                         {good(1000, 410s), 8 * wh10, G, ""},
                         {uncertain(1000, "x", 420s), 9 * wh10, U, "p: x"},
                     });
  run("integral(p, 30)", {
                             {good(1000, 0s), 0, G, ""},
                             {good(1000, 30s), 3 * wh10, G, ""},
                             {good(1000, 70s), 3 * wh10, G, ""},  // 40 s without a sample
                             {good(1000, 80s), 4 * wh10, G, ""},
                         });
  run("integral(p)", {
                         {bad("no reading yet", 0s), 0, B, "integral: p: no reading yet"},
                         {good(500, 10s), 0, G, ""},
                         {good(1500, 20s), wh10, G, ""},
                     });
}

TEST(ExpressionEvalTest, IntegralOfAConstantFollowsTheClock) {
  auto e = parsed("integral(1000)");
  Evaluator ev(e);
  EXPECT_EQ(ev.evaluate({}, t0).value, 0);
  EXPECT_DOUBLE_EQ(ev.evaluate({}, t0 + 60s).value, 1000.0 / 60);
  EXPECT_DOUBLE_EQ(ev.evaluate({}, t0 + 60s).value, 1000.0 / 60);
}

TEST(ExpressionEvalTest, CounterIsMonotonicAcrossAReset) {
  run("counter(c)", {
                        {bad("no reading yet", 0s), 0, B, "counter: c: no reading yet"},
                        {good(100, 1s), 100, G, ""},
                        {good(150, 2s), 150, G, ""},
                        {bad("timeout", 3s), 150, U, "counter: c: timeout"},
                        {good(20, 4s), 170, G, ""},
                        {good(20, 4s), 170, G, ""},
                        {good(30, 5s), 180, G, ""},
                    });
}

TEST(ExpressionEvalTest, StatefulInsideStateful) {
  run("rate(counter(c))", {
                              {good(100, 0s), 0, B, kWaiting},
                              {good(150, 10s), 5, G, ""},
                              {good(20, 20s), 2, G, ""},
                          });
}

}  // namespace
}  // namespace rackwatch::expr
