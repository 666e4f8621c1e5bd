#include "sources/redfish/redfish_discovery.hpp"

#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "sources/redfish/redfish_excerpts.hpp"

namespace rackwatch::redfish {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// A GET that may find nothing (404): a value, nothing, or the failure that
// ends the walk.
using Found = Result<std::optional<json::value>, Error>;

// A member of a collection, its body, and the expanded collection that
// carried it (empty when it was read by itself).
struct Member {
  std::string uri;
  json::value body;
  std::string via;
};
using Members = Result<std::vector<Member>, Error>;

// An excerpt waits until every Sensor is known: it may copy a Sensor of
// a chassis walked later.
struct Pending {
  FoundPoint point;
  std::string owner;
};

// The kinds of power and cooling equipment, and what their members are
// named by (pdu1, shelf1, cdu1).
struct Equipment {
  std::string_view collection;
  std::string_view owner;
};
constexpr std::array kPowerEquipment{
    Equipment{"RackPDUs", "pdu"},       Equipment{"FloorPDUs", "floorpdu"},    Equipment{"PowerShelves", "shelf"},
    Equipment{"ElectricalBuses", "bus"}, Equipment{"TransferSwitches", "ats"}, Equipment{"Switchgear", "switchgear"},
};
constexpr std::array kCircuits{
    Equipment{"Mains", "mains_"},     Equipment{"Feeders", "feeder_"}, Equipment{"Subfeeds", "subfeed_"},
    Equipment{"Branches", "branch_"}, Equipment{"Outlets", "outlet_"},
};
constexpr std::array kCoolingEquipment{
    Equipment{"CDUs", "cdu"},
    Equipment{"HeatExchangers", "hx"},
    Equipment{"ImmersionUnits", "immersion"},
};

bool expand_refused(const Error& e) {
  return e.kind == ErrorKind::too_large || e.kind == ErrorKind::bad_json ||
         (e.kind == ErrorKind::status && e.status != 404 && e.status != 401 && e.status != 403);
}

class Walk {
 public:
  Walk(Fetcher& fetch, DiscoveryOptions options) : fetch_(fetch), options_(options) {}

  asio::awaitable<Found> get(const std::string& uri) {
    ++out_.requests;
    auto answer = co_await fetch_.get(uri);
    if (answer) co_return std::optional<json::value>(std::move(answer).value());
    if (answer.error().kind == ErrorKind::status && answer.error().status == 404) {
      out_.absent.push_back(uri);
      co_return std::optional<json::value>();
    }
    co_return answer.error();
  }

  void use_expand(const json::value& root) {
    if (options_.expand) out_.expand = expand_query(root);
  }

  // The resource a link of `resource` names, if it is there.
  asio::awaitable<Result<std::optional<Member>, Error>> linked(const json::value& resource, std::string_view key) {
    const auto uri = link(resource, key);
    if (!uri) co_return std::optional<Member>();
    auto found = co_await get(*uri);
    if (!found) co_return found.error();
    if (!*found) co_return std::optional<Member>();
    co_return std::optional<Member>(Member{*uri, std::move(**found), {}});
  }

  // The members of the collection a link of `resource` names: from one
  // expanded answer when the service expands it, else one GET each.
  asio::awaitable<Members> members_of(const json::value& resource, std::string_view key) {
    const auto uri = link(resource, key);
    if (!uri) co_return std::vector<Member>();
    std::string collection_uri = *uri;
    if (!out_.expand.empty()) collection_uri += (uri->find('?') == std::string::npos ? "?" : "&") + out_.expand;
    auto collection = co_await get(collection_uri);
    if (!collection && !out_.expand.empty() && expand_refused(collection.error())) {
      // Too large for max_body, or refused by a service that offers
      // $expand and fails it: this collection is read member by member.
      out_.quirks.push_back(collection_uri + ": " + collection.error().message + "; read member by member instead");
      collection_uri = *uri;
      collection = co_await get(collection_uri);
    }
    if (!collection) co_return collection.error();
    if (!*collection) co_return std::vector<Member>();
    // A named value: its members are read after the co_await.
    const json::value body = std::move(**collection);
    std::vector<Member> out;
    if (collection_uri != *uri && members_expanded(body)) {
      for (const auto& m : members(body)) out.push_back({m, *expanded_member(body, m), collection_uri});
      co_return out;
    }
    // A service that ignored $expand answered with links only.
    for (const auto& m : members(body)) {
      auto found = co_await get(m);
      if (!found) co_return found.error();
      if (*found) out.push_back({m, std::move(**found), {}});
    }
    co_return out;
  }

  asio::awaitable<std::optional<Error>> chassis_sensors(const Member& chassis) {
    const std::string owner = text(chassis.body, "Id");
    if (!link(chassis.body, "Sensors")) co_return co_await legacy(chassis, owner);
    if (auto e = co_await sensors_of(chassis.body, "Sensors", owner)) co_return e;
    // A chassis's LeakDetectors are its leak sensors.
    auto detectors = co_await members_of(chassis.body, "LeakDetectors");
    if (!detectors) co_return detectors.error();
    for (const auto& m : *detectors) {
      for (auto& p : leak_points(m.body, m.uri, text(m.body, "Id"))) {
        p.via = m.via;
        sensors_.insert(m.uri);
        add(std::move(p), owner);
      }
    }
    co_return std::nullopt;
  }

  // The members of a collection of Sensors, each a point.
  asio::awaitable<std::optional<Error>> sensors_of(const json::value& resource, std::string_view key,
                                                   std::string owner) {
    auto sensors = co_await members_of(resource, key);
    if (!sensors) co_return sensors.error();
    for (const auto& s : *sensors) {
      auto point = sensor_point(s.body, s.uri);
      if (!point) {
        out_.skipped.push_back(point.error());
        continue;
      }
      FoundPoint p = std::move(point).value();
      p.via = s.via;
      sensors_.insert(s.uri);
      // Ids repeat where they should not (public-cooling-unit's
      // SecondaryHeatLoad says "PrimaryHeatLoad"); its URI's last segment
      // is unique within the collection.
      add(std::move(p), owner, point_name(s.uri.substr(s.uri.find_last_of('/') + 1)));
    }
    co_return std::nullopt;
  }

  // An older BMC's deprecated Power and Thermal, for a chassis without Sensors.
  asio::awaitable<std::optional<Error>> legacy(const Member& chassis, std::string owner) {
    static constexpr std::array<const char*, 2> kLegacy{"Power", "Thermal"};
    for (const char* key : kLegacy) {
      auto found = co_await linked(chassis.body, key);
      if (!found) co_return found.error();
      if (!*found) continue;
      for (auto& p : legacy_points((*found)->body, (*found)->uri, owner, out_.skipped)) add(std::move(p), owner);
    }
    co_return std::nullopt;
  }

  asio::awaitable<std::optional<Error>> chassis_parts(const Member& chassis) {
    const std::string owner = text(chassis.body, "Id");
    if (auto e = co_await metrics(chassis.body, "EnvironmentMetrics", owner, owner)) co_return e;
    auto power = co_await linked(chassis.body, "PowerSubsystem");
    if (!power) co_return power.error();
    if (*power && text((*power)->body, "@odata.type").rfind("#SensorCollection.", 0) == 0) {
      // public-power-shelf's chassis links its Sensors as PowerSubsystem
      // and has no Sensors link: what the link leads to decides.
      out_.quirks.push_back(chassis.uri + ": PowerSubsystem links to a SensorCollection; its members are read as Sensors");
      if (auto e = co_await sensors_of(chassis.body, "PowerSubsystem", owner)) co_return e;
    } else if (*power) {
      const json::value body = std::move((*power)->body);
      if (auto e = co_await parts(body, "PowerSupplies", owner + "_psu", owner, true)) co_return e;
      if (auto e = co_await parts(body, "Batteries", owner + "_battery", owner, true)) co_return e;
    }
    auto thermal = co_await linked(chassis.body, "ThermalSubsystem");
    if (!thermal) co_return thermal.error();
    if (*thermal) {
      const json::value body = std::move((*thermal)->body);
      if (auto e = co_await metrics(body, "ThermalMetrics", owner, owner)) co_return e;
      if (auto e = co_await parts(body, "Fans", owner + "_fan", owner, false)) co_return e;
      if (auto e = co_await cooling_parts(body, owner)) co_return e;
    }
    co_return std::nullopt;
  }

  // The excerpts of the resource a link of `resource` names.
  asio::awaitable<std::optional<Error>> metrics(const json::value& resource, std::string_view key,
                                                std::string prefix, std::string owner) {
    auto found = co_await linked(resource, key);
    if (!found) co_return found.error();
    if (*found) excerpts(**found, prefix, owner);
    co_return std::nullopt;
  }

  // The members of a collection as parts named `prefix`+Id, each with its
  // excerpts and, with `with_metrics`, those of its Metrics.
  asio::awaitable<std::optional<Error>> parts(const json::value& resource, std::string_view key,
                                              std::string prefix, std::string owner, bool with_metrics) {
    auto list = co_await members_of(resource, key);
    if (!list) co_return list.error();
    for (const auto& m : *list) {
      const std::string name = prefix + text(m.body, "Id");
      excerpts(m, name, owner);
      if (with_metrics) {
        if (auto e = co_await metrics(m.body, "Metrics", name, owner)) co_return e;
      }
    }
    co_return std::nullopt;
  }

  // What a cooling unit and a ThermalSubsystem both hold: coolant
  // connectors, pumps (and their health) and leak detectors.
  asio::awaitable<std::optional<Error>> cooling_parts(const json::value& unit, std::string owner) {
    if (auto e = co_await parts(unit, "PrimaryCoolantConnectors", owner + "_primary", owner, false)) co_return e;
    if (auto e = co_await parts(unit, "SecondaryCoolantConnectors", owner + "_secondary", owner, false)) co_return e;
    if (auto e = co_await parts(unit, "CoolantConnectors", owner + "_connector", owner, false)) co_return e;
    auto pumps = co_await members_of(unit, "Pumps");
    if (!pumps) co_return pumps.error();
    for (const auto& m : *pumps) {
      const std::string name = owner + "_pump" + text(m.body, "Id");
      excerpts(m, name, owner);
      for (auto& p : health_points(m.body, m.uri, name)) add_part(std::move(p), m, owner);
    }
    auto leaks = co_await linked(unit, "LeakDetection");
    if (!leaks) co_return leaks.error();
    if (*leaks) {
      const Member detection = std::move(**leaks);
      for (auto& p : leak_group_points(detection.body, detection.uri, owner)) add_part(std::move(p), detection, owner);
      const json::value& body = detection.body;
      auto detectors = co_await members_of(body, "LeakDetectors");
      if (!detectors) co_return detectors.error();
      for (const auto& m : *detectors) {
        for (auto& p : leak_points(m.body, m.uri, owner + "_" + text(m.body, "Id"))) add_part(std::move(p), m, owner);
      }
    }
    co_return std::nullopt;
  }

  // PowerEquipment or ThermalEquipment: each kind's members, each with
  // what a unit of that side holds.
  asio::awaitable<std::optional<Error>> equipment(const json::value& root, std::string_view key, bool power) {
    auto found = co_await linked(root, key);
    if (!found) co_return found.error();
    if (!*found) co_return std::nullopt;
    const json::value equipment_root = std::move((*found)->body);
    const auto* kinds = power ? kPowerEquipment.data() : kCoolingEquipment.data();
    const auto count = power ? kPowerEquipment.size() : kCoolingEquipment.size();
    for (std::size_t k = 0; k < count; ++k) {
      auto list = co_await members_of(equipment_root, kinds[k].collection);
      if (!list) co_return list.error();
      for (const auto& m : *list) {
        const std::string owner = std::string(kinds[k].owner) + text(m.body, "Id");
        std::optional<Error> e;
        if (power) {
          e = co_await power_unit(m, owner);
        } else {
          e = co_await cooling_unit(m, owner);
        }
        if (e) co_return e;
      }
    }
    co_return std::nullopt;
  }

  // A PDU, shelf, bus or switch: its Metrics and its circuits.
  asio::awaitable<std::optional<Error>> power_unit(const Member& m, std::string owner) {
    if (auto e = co_await metrics(m.body, "Metrics", owner, owner)) co_return e;
    for (const auto& circuit : kCircuits) {
      if (auto e = co_await parts(m.body, circuit.collection, std::string(circuit.owner), owner, false)) co_return e;
    }
    co_return std::nullopt;
  }

  // A CDU, heat exchanger or immersion unit.
  asio::awaitable<std::optional<Error>> cooling_unit(const Member& m, std::string owner) {
    if (auto e = co_await metrics(m.body, "EnvironmentMetrics", owner, owner)) co_return e;
    co_return co_await cooling_parts(m.body, owner);
  }

  void excerpts(const Member& m, const std::string& prefix, const std::string& owner) {
    for (auto& p : excerpt_points(m.body, m.uri, prefix)) {
      p.via = m.via;
      pending_.push_back({std::move(p), owner});
    }
  }

  void add_part(FoundPoint p, const Member& m, const std::string& owner) {
    p.via = m.via;
    pending_.push_back({std::move(p), owner});
  }

  // Names stay unique: a name taken already is tried as `alternative`,
  // then each with its owner's name in front (a second chassis's sensor of
  // the same Id).
  void add(FoundPoint p, const std::string& owner, const std::string& alternative = {}) {
    if (out_.points.size() >= options_.max_points) {
      if (!full_) out_.skipped.push_back("more than " + std::to_string(options_.max_points) + " points; the rest are left out");
      full_ = true;
      return;
    }
    if (names_.count(p.name) && !alternative.empty() && !names_.count(alternative)) p.name = alternative;
    if (names_.count(p.name)) {
      auto other = point_name(owner + "_" + p.name);
      if (names_.count(other) && !alternative.empty()) other = point_name(owner + "_" + alternative);
      if (other.empty() || names_.count(other)) {
        out_.skipped.push_back(p.resource + p.pointer + ": point '" + p.name + "' exists already");
        return;
      }
      p.name = other;
    }
    names_.insert(p.name);
    out_.points.push_back(std::move(p));
  }

  Discovery take() {
    for (auto& [p, owner] : pending_) {
      if (!p.source_uri.empty() && sensors_.count(p.source_uri)) {
        ++out_.copies;
        continue;
      }
      add(std::move(p), owner);
    }
    pending_.clear();
    return std::move(out_);
  }

 private:
  Fetcher& fetch_;
  DiscoveryOptions options_;
  Discovery out_;
  std::set<std::string> names_;
  std::set<std::string> sensors_;  // URIs of the Sensors that are points
  std::vector<Pending> pending_;
  bool full_ = false;
};

bool flag(const json::value& v, std::string_view key) {
  const auto* f = member(v, key);
  return f && f->is_bool() && f->get_bool();
}

}  // namespace

std::string expand_query(const json::value& root) {
  const auto* features = member(root, "ProtocolFeaturesSupported");
  const auto* expand = features ? member(*features, "ExpandQuery") : nullptr;
  if (!expand) return {};
  // "." expands what is not under Links; "*" all of it, which for a
  // collection is the same: its Members.
  const char* which = flag(*expand, "NoLinks") ? "." : flag(*expand, "ExpandAll") ? "*" : nullptr;
  if (!which) return {};
  return std::string("$expand=") + which + (flag(*expand, "Levels") ? "($levels=1)" : "");
}

bool same_points(const std::vector<FoundPoint>& a, const std::vector<FoundPoint>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.name != y.name || x.resource != y.resource || x.pointer != y.pointer || x.via != y.via ||
        x.kind.quantity != y.kind.quantity || x.kind.unit != y.kind.unit || x.kind.from.factor != y.kind.from.factor ||
        x.kind.from.offset != y.kind.from.offset || x.description != y.description || x.states != y.states ||
        x.thresholds != y.thresholds) {
      return false;
    }
  }
  return true;
}

asio::awaitable<Result<Discovery, Error>> discover(Fetcher& fetch, DiscoveryOptions options) {
  Walk walk(fetch, options);
  auto found = co_await walk.get(kServiceRoot);
  if (!found) co_return found.error();
  if (!*found) co_return Error{ErrorKind::status, std::string("no service root at ") + kServiceRoot, 404};
  const json::value root = std::move(**found);
  walk.use_expand(root);
  auto chassis = co_await walk.members_of(root, "Chassis");
  if (!chassis) co_return chassis.error();
  for (const auto& c : *chassis) {
    if (auto e = co_await walk.chassis_sensors(c)) co_return *e;
  }
  for (const auto& c : *chassis) {
    if (auto e = co_await walk.chassis_parts(c)) co_return *e;
  }
  if (auto e = co_await walk.equipment(root, "PowerEquipment", true)) co_return *e;
  if (auto e = co_await walk.equipment(root, "ThermalEquipment", false)) co_return *e;
  co_return walk.take();
}

}  // namespace rackwatch::redfish
