// Evaluation of derived-point expressions: a walk of the tree over the
// latest samples, with quality carried up (the first bad input decides, else
// the first uncertain one) and the state of rate, integral and counter kept
// per call site.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/plural.hpp"
#include "pipeline/expression.hpp"

namespace rackwatch::expr {

namespace {

constexpr double kSecondsPerHour = 3600;

Result bad(std::string reason) { return {0, Quality::bad, std::move(reason)}; }

double seconds(TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Evaluator::Evaluator(ExpressionPtr e) : expr_(std::move(e)), states_(expr_->stateful_calls()) {}

Result Evaluator::evaluate(std::span<const Sample> inputs, TimePoint now) {
  const auto expected = expr_->references().size();
  if (inputs.size() != expected) {
    return bad("expected " + plural(expected, "input") + ", found " + std::to_string(inputs.size()));
  }
  inputs_ = inputs;
  now_ = now;
  auto v = eval(expr_->root());
  inputs_ = {};
  return std::move(v.r);
}

namespace {

// Folds an operand's quality into the accumulated one: the first bad input
// decides, else the first uncertain one. The caller combines the values.
template <typename V>
void merge(V& acc, V& v) {
  acc.time = std::max(acc.time, v.time);
  auto& a = acc.r;
  auto& b = v.r;
  if (a.quality == Quality::bad) return;
  if (b.quality == Quality::bad || (b.quality == Quality::uncertain && a.quality == Quality::good)) {
    a.quality = b.quality;
    a.reason = std::move(b.reason);
  }
}

// A bad result is worth 0; a good one that is not a number is bad.
void settle(Result& r) {
  if (r.quality == Quality::bad) {
    r.value = 0;
  } else if (!std::isfinite(r.value)) {
    r = bad("not a finite number");
  }
}

}  // namespace

Evaluator::Value Evaluator::eval(std::uint32_t node) {
  const auto& n = expr_->nodes()[node];
  switch (n.kind) {
    case Node::Kind::number: return {{n.number, Quality::good, {}}};
    case Node::Kind::point: {
      const auto& s = inputs_[n.index];
      // Never read counts as bad: there is no value to compute with.
      Value v{{s.value, s.quality == Quality::unknown ? Quality::bad : s.quality, {}}, s.time};
      const auto& id = expr_->references()[n.index].id;
      if (s.quality != Quality::good) {
        v.r.reason = id + ": " + (s.reason.empty() ? std::string(quality_name(s.quality)) : s.reason);
      } else if (!std::isfinite(s.value)) {
        v.r = bad(id + ": not a finite number");
      }
      settle(v.r);
      return v;
    }
    case Node::Kind::negate: {
      auto v = eval(n.operands[0]);
      v.r.value = -v.r.value;
      settle(v.r);
      return v;
    }
    case Node::Kind::sum_chain:
    case Node::Kind::product_chain: {
      auto acc = eval(n.operands[0]);
      for (std::size_t k = 1; k < n.operands.size(); ++k) {
        auto v = eval(n.operands[k]);
        merge(acc, v);
        const double x = v.r.value;
        switch (n.ops[k]) {
          case '+': acc.r.value += x; break;
          case '-': acc.r.value -= x; break;
          case '*': acc.r.value *= x; break;
          default:
            if (acc.r.quality != Quality::bad && x == 0) acc.r = bad("division by zero");
            acc.r.value = acc.r.quality == Quality::bad ? 0 : acc.r.value / x;
        }
        settle(acc.r);
      }
      return acc;
    }
    case Node::Kind::call: return call(n);
  }
  return {bad("unknown node")};
}

Evaluator::Value Evaluator::call(const Node& n) {
  const auto& args = n.operands;
  switch (n.function) {
    case Function::if_good: {
      // Both are evaluated, so that state inside the fallback keeps up.
      auto x = eval(args[0]);
      auto fallback = eval(args[1]);
      return x.r.quality == Quality::good ? x : fallback;
    }
    case Function::good: {
      auto x = eval(args[0]);
      return {{x.r.quality == Quality::good ? 1.0 : 0.0, Quality::good, {}}, x.time};
    }
    case Function::rate:
    case Function::integral:
    case Function::counter: return stateful(n, eval(args[0]));
    default: break;
  }
  // The rest fold their arguments left to right.
  auto acc = eval(args[0]);
  for (std::size_t k = 1; k < args.size(); ++k) {
    auto v = eval(args[k]);
    merge(acc, v);
    const double x = v.r.value;
    switch (n.function) {
      case Function::min: acc.r.value = std::min(acc.r.value, x); break;
      case Function::max: acc.r.value = std::max(acc.r.value, x); break;
      case Function::diff: acc.r.value -= x; break;
      default: acc.r.value += x;  // sum, avg
    }
  }
  if (n.function == Function::avg) acc.r.value /= static_cast<double>(args.size());
  if (n.function == Function::abs) acc.r.value = std::fabs(acc.r.value);
  settle(acc.r);
  return acc;
}

// The state moves only on an input newer than the last this call site took;
// until then it answers as it did then.
Evaluator::Value Evaluator::stateful(const Node& n, Value x) {
  auto& s = states_[n.index];
  const auto t = x.time == TimePoint::min() ? now_ : x.time;  // a constant moves with the clock
  if (t <= s.seen) return {s.last, x.time};
  s.seen = t;
  Result r;
  switch (n.function) {
    case Function::rate: r = rate(s, x, t); break;
    case Function::integral: r = integral(s, n, x, t); break;
    default: r = counter(s, x); break;
  }
  settle(r);
  s.last = r;
  return {std::move(r), x.time};
}

Result Evaluator::rate(State& s, Value& x, TimePoint t) {
  if (x.r.quality == Quality::bad) {
    s.has_previous = false;  // the next good sample starts over
    return std::move(x.r);
  }
  const bool first = !s.has_previous;
  const double previous = s.previous;
  const auto previous_time = s.previous_time;
  s.has_previous = true;
  s.previous = x.r.value;
  s.previous_time = t;
  if (first) return bad("rate: waiting for a second sample");
  x.r.value = (x.r.value - previous) / seconds(t - previous_time);
  return std::move(x.r);
}

// Trapezoids in x·seconds, given out in x·hours: whole seconds of a whole
// number of watts add up exactly.
Result Evaluator::integral(State& s, const Node& n, Value& x, TimePoint t) {
  if (x.r.quality == Quality::bad) {
    // The last good sample is kept: a short outage is bridged by the next one.
    auto r = bad("integral: " + x.r.reason);
    if (s.has_previous) r = {s.total / kSecondsPerHour, Quality::uncertain, std::move(r.reason)};
    return r;
  }
  if (s.has_previous) {
    const double dt = seconds(t - s.previous_time);
    const double area = (s.previous + x.r.value) / 2 * dt;
    // Energy in a gap longer than the limit is unknown: it is left out.
    if (dt > 0 && dt <= n.number && std::isfinite(s.total + area)) s.total += area;
  }
  s.has_previous = true;
  s.previous = x.r.value;
  s.previous_time = t;
  x.r.value = s.total / kSecondsPerHour;
  return std::move(x.r);
}

// A device's cumulative counter made monotonic: a decrease is a restart
// from 0, so the new value is all increase.
Result Evaluator::counter(State& s, Value& x) {
  if (x.r.quality == Quality::bad) {
    auto r = bad("counter: " + x.r.reason);
    if (s.has_previous) r = {s.total, Quality::uncertain, std::move(r.reason)};
    return r;
  }
  const double v = x.r.value;
  if (!s.has_previous) {
    s.total = v;
  } else {
    s.total += v >= s.previous ? v - s.previous : v;
  }
  s.has_previous = true;
  s.previous = v;
  x.r.value = s.total;
  return std::move(x.r);
}

}  // namespace rackwatch::expr
