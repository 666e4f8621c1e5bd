#include "sources/redfish/redfish_discovery.hpp"

#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace rackwatch::redfish {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// A GET that may find nothing (404): a value, nothing, or the failure that
// ends the walk.
using Found = Result<std::optional<json::value>, Error>;

class Walk {
 public:
  Walk(Fetcher& fetch, std::size_t max_points) : fetch_(fetch), max_points_(max_points) {}

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

  // The members of the collection a link of `resource` names.
  asio::awaitable<Result<std::vector<std::string>, Error>> members_of(const json::value& resource,
                                                                      std::string_view key) {
    const auto uri = link(resource, key);
    if (!uri) co_return std::vector<std::string>();
    auto collection = co_await get(*uri);
    if (!collection) co_return collection.error();
    if (!*collection) co_return std::vector<std::string>();
    // A named value: its members are read after the co_await.
    const json::value body = std::move(**collection);
    co_return members(body);
  }

  asio::awaitable<std::optional<Error>> chassis(const std::string& uri) {
    auto found = co_await get(uri);
    if (!found) co_return found.error();
    if (!*found) co_return std::nullopt;
    const json::value body = std::move(**found);
    const std::string owner = text(body, "Id");
    auto sensors = co_await members_of(body, "Sensors");
    if (!sensors) co_return sensors.error();
    for (const auto& s : *sensors) {
      auto sensor = co_await get(s);
      if (!sensor) co_return sensor.error();
      if (!*sensor) continue;
      const json::value sensor_body = std::move(**sensor);
      auto point = sensor_point(sensor_body, s);
      if (!point) {
        out_.skipped.push_back(point.error());
        continue;
      }
      sensors_.insert(s);
      // Ids repeat where they should not (public-cooling-unit's
      // SecondaryHeatLoad says "PrimaryHeatLoad"); its URI's last segment
      // is unique within the collection.
      add(std::move(point).value(), owner, point_name(s.substr(s.find_last_of('/') + 1)));
    }
    co_return std::nullopt;
  }

  // The excerpts of each member of `resource`'s collection `key`, named
  // `kind` and the member's Id.
  asio::awaitable<std::optional<Error>> equipment(const json::value& resource, std::string_view key,
                                                  std::string kind, std::string owner) {
    auto list = co_await members_of(resource, key);
    if (!list) co_return list.error();
    for (const auto& uri : *list) {
      auto found = co_await get(uri);
      if (!found) co_return found.error();
      if (!*found) continue;
      const json::value body = std::move(**found);
      excerpts(body, uri, kind + text(body, "Id"), owner);
    }
    co_return std::nullopt;
  }

  void excerpts(const json::value& body, const std::string& uri, const std::string& prefix, const std::string& owner) {
    for (auto& p : excerpt_points(body, uri, prefix)) {
      if (!p.source_uri.empty() && sensors_.count(p.source_uri)) {
        ++out_.copies;
        continue;
      }
      add(std::move(p), owner);
    }
  }

  asio::awaitable<std::optional<Error>> power(const json::value& root) {
    const auto uri = link(root, "PowerEquipment");
    if (!uri) co_return std::nullopt;
    auto found = co_await get(*uri);
    if (!found) co_return found.error();
    if (!*found) co_return std::nullopt;
    const json::value equipment_root = std::move(**found);
    auto pdus = co_await members_of(equipment_root, "RackPDUs");
    if (!pdus) co_return pdus.error();
    for (const auto& p : *pdus) {
      auto pdu = co_await get(p);
      if (!pdu) co_return pdu.error();
      if (!*pdu) continue;
      const json::value body = std::move(**pdu);
      const std::string owner = "pdu" + text(body, "Id");
      if (auto e = co_await equipment(body, "Mains", "mains_", owner)) co_return e;
      if (auto e = co_await equipment(body, "Branches", "branch_", owner)) co_return e;
      if (auto e = co_await equipment(body, "Outlets", "outlet_", owner)) co_return e;
    }
    co_return std::nullopt;
  }

  asio::awaitable<std::optional<Error>> cooling(const json::value& root) {
    const auto uri = link(root, "ThermalEquipment");
    if (!uri) co_return std::nullopt;
    auto found = co_await get(*uri);
    if (!found) co_return found.error();
    if (!*found) co_return std::nullopt;
    const json::value equipment_root = std::move(**found);
    auto cdus = co_await members_of(equipment_root, "CDUs");
    if (!cdus) co_return cdus.error();
    for (const auto& c : *cdus) {
      auto cdu = co_await get(c);
      if (!cdu) co_return cdu.error();
      if (!*cdu) continue;
      const json::value body = std::move(**cdu);
      const std::string owner = "cdu" + text(body, "Id");
      if (const auto env = link(body, "EnvironmentMetrics")) {
        auto metrics = co_await get(*env);
        if (!metrics) co_return metrics.error();
        if (*metrics) {
          const json::value metrics_body = std::move(**metrics);
          excerpts(metrics_body, *env, owner, owner);
        }
      }
      if (auto e = co_await equipment(body, "PrimaryCoolantConnectors", owner + "_primary", owner)) co_return e;
      if (auto e = co_await equipment(body, "SecondaryCoolantConnectors", owner + "_secondary", owner)) co_return e;
      if (auto e = co_await equipment(body, "Pumps", owner + "_pump", owner)) co_return e;
    }
    co_return std::nullopt;
  }

  // Names stay unique: a name taken already is tried as `alternative`,
  // then each with its owner's name in front (a second chassis's sensor of
  // the same Id).
  void add(FoundPoint p, const std::string& owner, const std::string& alternative = {}) {
    if (out_.points.size() >= max_points_) {
      if (!full_) out_.skipped.push_back("more than " + std::to_string(max_points_) + " points; the rest are left out");
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

  Discovery take() { return std::move(out_); }

 private:
  Fetcher& fetch_;
  std::size_t max_points_;
  Discovery out_;
  std::set<std::string> names_;
  std::set<std::string> sensors_;  // URIs of the Sensors that are points
  bool full_ = false;
};

}  // namespace

asio::awaitable<Result<Discovery, Error>> discover(Fetcher& fetch, std::size_t max_points) {
  Walk walk(fetch, max_points);
  auto found = co_await walk.get(kServiceRoot);
  if (!found) co_return found.error();
  if (!*found) co_return Error{ErrorKind::status, std::string("no service root at ") + kServiceRoot, 404};
  const json::value root = std::move(**found);
  auto chassis = co_await walk.members_of(root, "Chassis");
  if (!chassis) co_return chassis.error();
  for (const auto& c : *chassis) {
    if (auto e = co_await walk.chassis(c)) co_return *e;
  }
  if (auto e = co_await walk.power(root)) co_return *e;
  if (auto e = co_await walk.cooling(root)) co_return *e;
  co_return walk.take();
}

}  // namespace rackwatch::redfish
