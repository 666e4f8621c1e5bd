// Fuzz target: the config loader on arbitrary text. A config file is operator
// input: whatever it holds, parse_config must answer with a Config or with
// diagnostics, never crash, hang or let an exception out.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/config.hpp"
#include "fuzz_check.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace {

using rackwatch::fuzz::require;

// What a Config that passed validation promises to the rest of the agent.
void check_valid(const rackwatch::Config& cfg) {
  require(!cfg.agent.site.empty() && !cfg.agent.rack.empty(), "agent site and rack are set");
  require(!cfg.agent.id.empty(), "agent id is set");
  require(!cfg.mqtt.brokers.empty(), "at least one broker");
  require(cfg.mqtt.reconnect_min <= cfg.mqtt.reconnect_max, "reconnect_min <= reconnect_max");
  require(cfg.outbox.max_bytes >= (64u << 10), "outbox max_bytes >= 64KiB");
  require(!cfg.sources.empty(), "at least one source");
  for (const auto& s : cfg.sources) {
    require(s.interval >= rackwatch::kMinInterval && s.interval <= rackwatch::kMaxInterval,
            "interval in range");
    require(s.timeout >= rackwatch::Millis{10} && s.timeout <= s.interval,
            "timeout within the interval");
    require(!s.points.empty(), "a source has points");
    require(s.settings != nullptr, "a known type made its settings");
    for (const auto& p : s.points) {
      require(!p.name.empty(), "a point has a name");
      require(p.unit != rackwatch::Unit::unspecified, "a point has a unit");
      require(p.scale != 0, "scale is not 0");
      require(!p.min || !p.max || *p.min <= *p.max, "min <= max");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  rackwatch::Diagnostics diags;
  const auto cfg = rackwatch::parse_config(text, "fuzz.yaml", rackwatch::builtin_source_types(), diags);
  require(cfg.has_value() == diags.empty(), "a config comes back exactly when nothing is wrong");
  if (cfg) {
    check_valid(*cfg);
  } else {
    for (const auto& d : diags.items()) {
      require(!d.message.empty(), "a diagnostic says something");
      require(d.mark.line >= 0 && d.mark.column >= 0, "a diagnostic's place is not negative");
    }
    // What check-config and rackwatchd print.
    std::ostringstream out;
    diags.print(out);
    require(!out.str().empty(), "diagnostics print");
  }
  return 0;
}
