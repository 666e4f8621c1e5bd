// Evaluation of derived-point expressions (the tree of core/expression.hpp):
// an Evaluator runs one over the latest samples of the points it names,
// keeping the state of its stateful functions (rate, integral, counter).
// Pure: no I/O, no clock; times come with the samples and the caller.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/expression.hpp"
#include "core/reading.hpp"

namespace rackwatch::expr {

struct Result {
  double value = 0;  // 0 when quality is bad
  Quality quality = Quality::good;
  std::string reason;  // why quality is not good
};

// An expression plus the state of its stateful functions: one per derived point.
// The time of a stateful function's argument is the newest sample time among
// the points it uses (`now` when it uses none); its state moves only when
// that time is newer than the last it took.
class Evaluator {
 public:
  explicit Evaluator(ExpressionPtr e);  // e must not be null

  // inputs[i] is the latest sample of references()[i] (a bad Sample with a
  // reason such as "no reading yet" for a point never read). `now` is the
  // evaluation time; samples carry their own times.
  Result evaluate(std::span<const Sample> inputs, TimePoint now);
  const Expression& expression() const { return *expr_; }

 private:
  // A value on its way up the tree: a Result and the newest sample time it
  // came from (none for constants).
  struct Value {
    Result r;
    TimePoint time = TimePoint::min();
  };
  struct State {
    TimePoint seen = TimePoint::min();  // newest input time this call site took
    Result last;                        // its result then, repeated until a newer input
    bool has_previous = false;          // a previous usable sample (counter: its raw value)
    double previous = 0;
    TimePoint previous_time{};
    double total = 0;  // integral (in x·seconds), counter
  };

  Value eval(std::uint32_t node);
  Value call(const Node& n);
  Value stateful(const Node& n, Value x);
  Result rate(State& s, Value& x, TimePoint t);
  Result integral(State& s, const Node& n, Value& x, TimePoint t);
  Result counter(State& s, Value& x);

  ExpressionPtr expr_;
  std::vector<State> states_;
  std::span<const Sample> inputs_;  // during evaluate()
  TimePoint now_{};
};

}  // namespace rackwatch::expr
