#include "core/derived_config.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/catalog.hpp"
#include "core/config_reader.hpp"
#include "core/expression.hpp"

namespace rackwatch {
namespace {

constexpr std::size_t kMaxDerived = 1000;

// Where byte `offset` of a scalar's text is in the file. Exact for a scalar
// written on one line, plain or quoted; otherwise (a block scalar, a folded
// one) the scalar's own place, which still names the right point.
SourceMark place_in(const YAML::Node& scalar, std::size_t offset, const std::string& text,
                    ConfigReader& r) {
  auto mark = r.mark(scalar);
  if (mark.line <= 0 || mark.column <= 0) return mark;
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i < mark.line && std::getline(in, line); ++i) {
  }
  auto start = static_cast<std::size_t>(mark.column - 1);
  if (start < line.size() && (line[start] == '"' || line[start] == '\'')) ++start;
  const auto& value = scalar.Scalar();
  if (line.compare(start, value.size(), value) != 0) return mark;
  mark.column = static_cast<int>(start + offset + 1);
  return mark;
}

struct Parsed {
  YAML::Node expr_node;
  std::vector<std::string> refs;  // ids, as the expression's references
};

}  // namespace

void parse_derived(const YAML::Node& list, const std::string& text, ConfigReader& r, Config& cfg) {
  for (const auto& s : cfg.sources) {
    if (s.name == kDerivedDevice) {
      r.diags().error(s.mark, "source name '" + s.name + "' is reserved for derived points");
    }
  }
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    r.error(list, "'derived' must be a list of points, each with a name, a unit and an expr");
    return;
  }
  if (list.size() > kMaxDerived) {
    r.error(list, "'derived' has " + std::to_string(list.size()) + " points, at most " +
                      std::to_string(kMaxDerived) + " are allowed");
    return;
  }

  // Every id an expression may name, with the source it belongs to.
  std::map<std::string, std::size_t> polled;
  for (std::size_t i = 0; i < cfg.sources.size(); ++i) {
    for (const auto& p : cfg.sources[i].points) polled[point_id(cfg.sources[i].name, p.name)] = i;
  }
  std::map<std::string, std::size_t> derived_ids;  // "derived.NAME" → index in cfg.derived

  auto keys = kCommonPointKeys;
  keys.push_back("expr");
  std::vector<Parsed> parsed;
  for (const auto& node : list) {
    if (!node.IsMap()) {
      r.error(node, "each derived point must be a mapping with a name, a unit and an expr");
      continue;
    }
    r.check_keys(node, keys, "derived point");
    DerivedConfig d;
    d.point = parse_point_common(node, r);
    if (d.point.unit == Unit::unspecified && !d.point.name.empty()) {
      r.error(node, "derived point '" + d.point.name + "' needs a quantity or a unit");
    }
    const auto id = point_id(kDerivedDevice, d.point.name);
    if (!d.point.name.empty() && !derived_ids.emplace(id, cfg.derived.size()).second) {
      r.error(r.child(node, "name"), "duplicate derived point name '" + d.point.name + "'");
    }
    Parsed p{r.child(node, "expr"), {}};
    if (auto e = r.string(node, "expr", true)) {
      d.expr = *e;
      auto result = expr::parse(*e);
      if (auto* error = std::get_if<expr::ParseError>(&result)) {
        r.diags().error(place_in(p.expr_node, error->offset, text, r), "expr: " + error->message);
      } else {
        d.expression = std::get<std::shared_ptr<const expr::Expression>>(std::move(result));
      }
    }
    parsed.push_back(std::move(p));
    cfg.derived.push_back(std::move(d));
  }

  // References: a polled point, or a derived one.
  std::vector<std::vector<std::size_t>> uses(cfg.derived.size());  // derived → derived inputs
  std::vector<bool> unresolved(cfg.derived.size(), false);
  for (std::size_t i = 0; i < cfg.derived.size(); ++i) {
    auto& d = cfg.derived[i];
    if (!d.expression) continue;
    std::set<std::size_t> sources;
    for (const auto& ref : d.expression->references()) {
      if (auto it = polled.find(ref.id); it != polled.end()) {
        sources.insert(it->second);
      } else if (auto dt = derived_ids.find(ref.id); dt != derived_ids.end()) {
        uses[i].push_back(dt->second);
      } else {
        std::string hint = ref.id.find('.') == std::string::npos
                               ? " (a point is named SOURCE.POINT, a derived one derived.NAME)"
                               : "";
        if (ref.id.find('-') != std::string::npos) hint = " (to subtract, put spaces around '-')";
        unresolved[i] = true;
        r.diags().error(place_in(parsed[i].expr_node, ref.offset, text, r),
                        "expr: unknown point '" + ref.id + "'" + hint);
      }
    }
    d.sources.assign(sources.begin(), sources.end());
  }

  // Evaluation order, depth first; a derived point met again on its own path is a cycle.
  enum class Mark : std::uint8_t { none, visiting, done };
  std::vector<Mark> marks(cfg.derived.size(), Mark::none);
  std::vector<std::size_t> path;
  std::function<bool(std::size_t)> visit = [&](std::size_t i) {
    if (marks[i] == Mark::done) return true;
    if (marks[i] == Mark::visiting) {
      std::string cycle;
      const auto from = std::find(path.begin(), path.end(), i);
      for (auto it = from; it != path.end(); ++it) cycle += "derived." + cfg.derived[*it].point.name + " → ";
      cycle += "derived." + cfg.derived[i].point.name;
      // Reported at the reference that closes the cycle.
      const auto& last = cfg.derived[path.back()];
      std::size_t offset = 0;
      for (const auto& ref : last.expression->references()) {
        if (ref.id == "derived." + cfg.derived[i].point.name) offset = ref.offset;
      }
      r.diags().error(place_in(parsed[path.back()].expr_node, offset, text, r),
                      "expr: derived points depend on each other in a cycle: " + cycle);
      return false;
    }
    marks[i] = Mark::visiting;
    path.push_back(i);
    bool ok = true;
    for (auto j : uses[i]) {
      if (!visit(j)) {
        ok = false;
        break;
      }
    }
    path.pop_back();
    marks[i] = Mark::done;
    if (!ok) return false;
    // A derived point hears of every source its inputs hear of.
    auto& d = cfg.derived[i];
    std::set<std::size_t> sources(d.sources.begin(), d.sources.end());
    for (auto j : uses[i]) sources.insert(cfg.derived[j].sources.begin(), cfg.derived[j].sources.end());
    d.sources.assign(sources.begin(), sources.end());
    d.interval = Millis{0};
    for (auto s : d.sources) {
      const auto iv = cfg.sources[s].interval;
      if (d.interval == Millis{0} || iv < d.interval) d.interval = iv;
    }
    cfg.derived_order.push_back(i);
    return true;
  };
  for (std::size_t i = 0; i < cfg.derived.size(); ++i) {
    if (!visit(i)) return;
  }
  for (std::size_t i = 0; i < cfg.derived.size(); ++i) {
    if (cfg.derived[i].expression && !unresolved[i] && cfg.derived[i].sources.empty()) {
      r.error(parsed[i].expr_node, "expr: derived point '" + cfg.derived[i].point.name +
                                       "' reads no point, so it would never be computed");
    }
  }
}

}  // namespace rackwatch
