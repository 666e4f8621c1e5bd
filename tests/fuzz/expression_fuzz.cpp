// Fuzz target: derived-point expressions, from the config, on arbitrary
// bytes. Checks that a parse error points inside the text, that an
// expression's canonical text parses to itself, and that evaluating it over
// several rounds of inputs (good, bad, uncertain, huge, zero, times going
// back) gives a finite value, 0 when bad, and a reason when not good.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "pipeline/expression.hpp"

namespace {

using rackwatch::fuzz::require;
namespace expr = rackwatch::expr;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte picks the inputs' values; the rest is the expression.
  const std::uint8_t seed = size > 0 ? data[0] : 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + (size > 0 ? 1 : 0), size > 0 ? size - 1 : 0);
  auto parsed = expr::parse(text);
  if (const auto* error = std::get_if<expr::ParseError>(&parsed)) {
    require(error->offset <= text.size(), "a parse error points inside the text");
    require(!error->message.empty(), "a parse error says what is wrong");
    return 0;
  }
  const auto e = std::get<expr::ExpressionPtr>(parsed);
  // Spacing may make the canonical text longer than the limit on what is
  // written; within it, the text parses to itself.
  const auto canonical = e->text();
  if (canonical.size() <= expr::kMaxTextBytes) {
    const auto again = expr::parse(canonical);
    require(std::holds_alternative<expr::ExpressionPtr>(again), "the canonical text parses");
    if (const auto* back = std::get_if<expr::ExpressionPtr>(&again)) {
      require((*back)->text() == canonical, "the canonical text parses to itself");
      require((*back)->references().size() == e->references().size(), "the canonical text names the same points");
    }
  }

  static const double kValues[] = {0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, 230.5, 1e15};
  expr::Evaluator evaluator(e);
  const auto t0 = rackwatch::TimePoint{} + std::chrono::hours(24 * 365 * 50);
  for (int round = 0; round < 6; ++round) {
    std::vector<rackwatch::Sample> inputs;
    for (std::size_t i = 0; i < e->references().size(); ++i) {
      const auto pick = static_cast<std::size_t>((seed >> (i % 4)) + static_cast<unsigned>(round) + i) % 8;
      const auto quality = static_cast<rackwatch::Quality>((seed + i + static_cast<unsigned>(round)) % 3);
      // Times mostly advance, sometimes repeat or go back.
      const auto at = t0 + std::chrono::seconds(round * 10 - ((seed & 0x80) && round == 3 ? 25 : 0));
      inputs.push_back({static_cast<std::uint32_t>(i), kValues[pick], quality,
                        quality == rackwatch::Quality::good ? "" : "fuzzed", at});
    }
    const auto r = evaluator.evaluate(inputs, t0 + std::chrono::seconds(round * 10));
    require(std::isfinite(r.value), "a result is finite");
    require(r.quality != rackwatch::Quality::bad || r.value == 0.0, "a bad result is 0");
    require(r.quality == rackwatch::Quality::good || !r.reason.empty(), "a result that is not good says why");
  }
  return 0;
}
