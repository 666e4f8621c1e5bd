// The derived-point stage: after a source's poll, every derived point that
// depends on it is computed from the latest samples, inputs before users.
// Pure: samples in, samples out; the state of rate, integral and counter
// lives in each point's evaluator.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/reading.hpp"
#include "pipeline/expression.hpp"

namespace rackwatch {

class DerivedPoints {
 public:
  // The catalog places every point, polled and derived; it is needed only
  // while constructing.
  DerivedPoints(const Config& config, const Catalog& catalog);

  // Computes the derived points that depend on `source` from `latest` (by
  // catalog index), stores their samples there too and returns them.
  std::vector<Sample> evaluate(std::size_t source, std::vector<Sample>& latest, TimePoint now);

  // Takes over the state (rate, integral, counter) of `old`'s points whose
  // id and expression are unchanged, so a reload does not restart an energy total.
  void keep_state(DerivedPoints& old);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string id;
    PointConfig point;
    std::uint32_t index = 0;             // catalog index
    std::vector<std::uint32_t> inputs;   // catalog indices, as the expression's references
    expr::Evaluator evaluator;
    std::vector<Sample> scratch;         // the inputs of one evaluation
  };

  std::vector<Entry> entries_;                       // in evaluation order
  std::vector<std::vector<std::size_t>> by_source_;  // source → entries, in evaluation order
};

}  // namespace rackwatch
