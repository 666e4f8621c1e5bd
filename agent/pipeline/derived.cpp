#include "pipeline/derived.hpp"

#include "core/derived_config.hpp"
#include "pipeline/condition.hpp"

namespace rackwatch {

DerivedPoints::DerivedPoints(const Config& config, const Catalog& catalog) {
  by_source_.resize(config.sources.size());
  for (const auto i : config.derived_order) {
    const auto& d = config.derived[i];
    if (!d.expression) continue;  // a config that loaded has one
    const auto index = catalog.index_of_derived(i);
    Entry e{catalog[index].id, d.point, index, {}, expr::Evaluator(d.expression), {}};
    // A config that loaded names only points that exist.
    for (const auto& ref : d.expression->references()) e.inputs.push_back(catalog.find(ref.id).value());
    for (const auto s : d.sources) by_source_[s].push_back(entries_.size());
    entries_.push_back(std::move(e));
  }
}

std::vector<Sample> DerivedPoints::evaluate(std::size_t source, std::vector<Sample>& latest, TimePoint now) {
  std::vector<Sample> out;
  if (source >= by_source_.size()) return out;
  out.reserve(by_source_[source].size());
  for (const auto k : by_source_[source]) {
    auto& e = entries_[k];
    e.scratch.clear();
    for (const auto in : e.inputs) {
      const auto& s = latest[in];
      if (s.time == TimePoint{} || s.quality == Quality::unknown) {
        e.scratch.push_back(Sample{in, 0.0, Quality::bad, "no reading yet", {}});
      } else {
        e.scratch.push_back(s);
      }
    }
    const auto r = e.evaluator.evaluate(e.scratch, now);
    // The result is conditioned like a device reading: range, unit, scale.
    Sample sample = !has_value(r.quality)
                        ? condition(e.point, e.index, RawReading::failure(r.reason, now))
                        : condition(e.point, e.index, RawReading::success(r.value, now));
    if (sample.quality == Quality::good && r.quality == Quality::uncertain) {
      sample.quality = Quality::uncertain;
      sample.reason = r.reason;
    }
    latest[e.index] = sample;
    out.push_back(std::move(sample));
  }
  return out;
}

void DerivedPoints::keep_state(DerivedPoints& old) {
  for (auto& e : entries_) {
    for (auto& o : old.entries_) {
      if (o.id == e.id && o.evaluator.expression().text() == e.evaluator.expression().text()) {
        e.evaluator = std::move(o.evaluator);
        break;
      }
    }
  }
}

}  // namespace rackwatch
