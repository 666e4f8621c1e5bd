// The `type: modbus` config keys: the link (tcp:, rtu: or rtu_over_tcp:),
// the unit id, the profile and the points, and the reading and health
// settings.
#include <charconv>
#include <memory>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"
#include "core/log.hpp"
#include "sources/device_config.hpp"
#include "sources/host_port.hpp"
#include "sources/modbus/modbus_profile.hpp"
#include "sources/profile_file.hpp"
#include "sources/modbus/modbus_rtu_client.hpp"
#include "sources/modbus/link_budget.hpp"
#include "sources/modbus/modbus_rtu_tcp_client.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/modbus/modbus_tcp_client.hpp"
#include "sources/modbus/sunspec_config.hpp"

namespace rackwatch::modbus {

std::string LinkSettings::key() const {
  switch (kind) {
    case Kind::tcp:
      return "modbus tcp " + host + ":" + std::to_string(port);
    case Kind::rtu:
      return "modbus rtu " + device;
    case Kind::rtu_over_tcp:
      return "modbus rtu-over-tcp " + host + ":" + std::to_string(port);
  }
  return "modbus ?";
}

namespace {

using std::chrono::milliseconds;

// "host", "host:port", "[v6]:port"; `port_given` says whether it had a port.
bool parse_endpoint(const std::string& text, LinkSettings& out, bool& port_given) {
  const auto parsed = parse_host_port(text);
  if (!parsed) return false;
  out.host = parsed->host;
  port_given = parsed->port.has_value();
  if (parsed->port) out.port = *parsed->port;
  return true;
}

void parse_rtu(const YAML::Node& node, ConfigReader& r, LinkSettings& link) {
  link.kind = LinkSettings::Kind::rtu;
  if (!node.IsMap()) {
    r.error(node, "'rtu' must be a mapping: {device: /dev/ttyUSB0, baud: 19200, parity: even, data_bits: 8, stop_bits: 1}");
    return;
  }
  r.check_keys(node, {"device", "baud", "parity", "data_bits", "stop_bits"}, "'rtu'");
  if (auto v = r.string(node, "device", true)) link.device = *v;
  if (auto v = r.integer(node, "baud")) {
    if (*v < 300 || *v > 4'000'000) {
      r.error(r.child(node, "baud"), "'baud' must be 300..4000000");
    } else {
      link.serial.baud = static_cast<unsigned>(*v);
    }
  }
  if (auto v = r.string(node, "parity")) {
    if (*v == "none") {
      link.serial.parity = Parity::none;
      link.serial.stop_bits = 2;  // §2.5.1: no parity takes two stop bits
    } else if (*v == "even") {
      link.serial.parity = Parity::even;
    } else if (*v == "odd") {
      link.serial.parity = Parity::odd;
    } else {
      r.error(r.child(node, "parity"), "'parity' must be none, even or odd, found '" + *v + "'");
    }
  }
  if (auto v = r.integer(node, "data_bits")) {
    if (*v != 8) {
      r.error(r.child(node, "data_bits"), "'data_bits' must be 8: RTU frames are bytes (Modbus over serial line §2.5.1)");
    } else {
      link.serial.data_bits = static_cast<unsigned>(*v);
    }
  }
  if (auto v = r.integer(node, "stop_bits")) {
    if (*v < 1 || *v > 2) {
      r.error(r.child(node, "stop_bits"), "'stop_bits' must be 1 or 2");
    } else {
      link.serial.stop_bits = static_cast<unsigned>(*v);
    }
  }
}

void copy_overrides(const YAML::Node& node, const PointConfig& given, PointConfig& out) {
  if (node["quantity"] || node["unit"] || node["from_unit"]) {
    out.quantity = given.quantity;
    out.unit = given.unit;
    out.from = given.from;
  }
  if (node["scale"]) out.scale = given.scale;
  if (node["offset"]) out.offset = given.offset;
  if (node["min"]) out.min = given.min;
  if (node["max"]) out.max = given.max;
  if (node["invalid"]) out.invalid = given.invalid;
  if (node["location"]) out.location = given.location;
  if (node["description"]) out.description = given.description;
  if (node["thresholds"]) out.thresholds = given.thresholds;
  if (node["deadband"]) {
    out.deadband = given.deadband;
    out.deadband_percent = given.deadband_percent;
  }
  if (node["max_age"]) out.max_age = given.max_age;
  out.mark = given.mark;
}

// A probe is a device's first read of a poll. Over TCP a gateway may still
// have a serial line behind it: 200 ms. On a bus: the longest read's
// request (8 bytes) and answer (5 + 2 × 125) at the line's speed, plus
// 100 ms for the device to turn round.
milliseconds default_probe_timeout(const LinkSettings& link) {
  if (link.kind != LinkSettings::Kind::rtu) return milliseconds{200};
  const auto timing = rtu_timing(link.serial);
  if (!timing) return milliseconds{200};
  return milliseconds{100} + std::chrono::ceil<milliseconds>(timing->character * (8 + 5 + 2 * kMaxReadRegisters));
}

class ModbusSourceType final : public SourceType {
 public:
  std::string_view name() const override { return "modbus"; }
  std::vector<std::string_view> source_keys() const override {
    return {"tcp",           "rtu",         "rtu_over_tcp", "unit",          "profile",
            "request_timeout", "inter_request_delay", "max_gap", "max_registers", "dormant_after",
            "reprobe_min",   "reprobe_max", "probe_timeout", "sunspec", "address_offset"};
  }
  std::vector<std::string_view> point_keys() const override { return kRegisterPointKeys; }
  bool points_optional() const override { return true; }

  std::shared_ptr<const SourceSettings> parse(const YAML::Node& source,
                                              const std::vector<YAML::Node>& point_nodes,
                                              std::vector<PointConfig>& points,
                                              ConfigReader& r) const override {
    auto s = std::make_shared<ModbusSettings>();
    parse_link(source, r, s->link);
    parse_unit(source, r, *s);
    parse_reading(source, r, *s);

    std::optional<Profile> profile;
    if (auto v = r.string(source, "profile")) {
      std::vector<std::string> tried;
      if (auto file = find_profile(*v, r.file(), tried)) {
        s->profile_file = *file;
        if (profile_kind(*file) == ProfileKind::snmp) {
          r.error(r.child(source, "profile"), "profile '" + *v + "' (" + *file +
                                                  ") is an SNMP profile; a modbus source needs a register map");
          return s;
        }
        profile = load_profile(*file, r.diags());
        if (!profile) r.error(r.child(source, "profile"), "profile '" + *v + "' (" + *file + ") has errors");
      } else {
        std::string where;
        for (const auto& t : tried) where += (where.empty() ? "" : ", ") + t;
        r.error(r.child(source, "profile"), "no profile '" + *v + "' (looked for " + where + ")");
      }
      if (!profile) return s;
      if (!move_profile(source, *profile, r)) return s;
      s->unreadable = profile->unreadable;
    }
    std::vector<YAML::Node> own_address;
    for (const auto& node : point_nodes) {
      if (node["address"]) own_address.push_back(node);
    }
    s->sunspec = parse_sunspec_source(source, profile ? &*profile : nullptr, own_address, r);

    if (point_nodes.empty()) {
      if (!profile) {
        if (!r.child(source, "profile").IsDefined()) {
          r.error(source, "a modbus source needs a 'profile' or 'points' with addresses");
        }
        return s;
      }
      for (const auto& p : profile->points) {
        points.push_back(p.point);
        s->registers.push_back(p.registers);
      }
      return s;
    }
    for (std::size_t i = 0; i < point_nodes.size(); ++i) {
      const auto& node = point_nodes[i];
      if (node["address"]) {
        auto reg = parse_register_point(node, r);
        s->registers.push_back(reg.value_or(RegisterPoint{}));
        continue;
      }
      const ProfilePoint* from = profile ? profile->find(points[i].name) : nullptr;
      if (!from) {
        r.error(node, profile ? "profile has no point '" + points[i].name + "' (it has: " +
                                    profile->point_names() + "); a point of your own needs an 'address'"
                              : "point '" + points[i].name + "' needs an 'address' (or the source a 'profile')");
        s->registers.emplace_back();
        continue;
      }
      for (auto key : kRegisterPointKeys) {
        if (node[std::string(key)]) {
          r.error(r.child(node, key), "'" + std::string(key) + "' of profile point '" + points[i].name +
                                          "' is set by the profile; a point with its own registers needs an 'address'");
        }
      }
      PointConfig merged = from->point;
      copy_overrides(node, points[i], merged);
      points[i] = std::move(merged);
      s->registers.push_back(from->registers);
    }
    return s;
  }

  std::vector<std::string> advise(const std::vector<const SourceConfig*>& sources) const override {
    return link_budget_warnings(sources);
  }

  std::unique_ptr<Source> create(const SourceConfig& config, const SourceEnv& env) const override {
    auto settings = std::dynamic_pointer_cast<const ModbusSettings>(config.settings);
    if (!settings || settings->registers.size() != config.points.size()) {
      throw std::invalid_argument("modbus source '" + config.name + "' has no valid settings");
    }
    const auto& ls = settings->link;
    auto make = [&]() -> std::shared_ptr<Link> {
      switch (ls.kind) {
        case LinkSettings::Kind::tcp:
          return std::make_shared<TcpClient>(env.executor, TcpClient::Options{ls.host, ls.port, ls.inter_request_delay});
        case LinkSettings::Kind::rtu:
          break;
        case LinkSettings::Kind::rtu_over_tcp:
          return std::make_shared<RtuOverTcpClient>(
              env.executor, RtuOverTcpClient::Options{ls.host, ls.port, ls.inter_request_delay});
      }
      return std::make_shared<RtuClient>(env.executor, RtuClient::Options{ls.device, ls.serial, ls.inter_request_delay});
    };
    auto link = env.shared ? env.shared->get<Link>(ls.key(), make) : make();
    if (link->inter_request_delay() != ls.inter_request_delay) {
      log::warning("modbus source '", config.name, "': ", link->describe(), " is shared with an inter_request_delay of ",
                   link->inter_request_delay().count(), "ms, the first source's; this source's ",
                   ls.inter_request_delay.count(), "ms does not apply");
    }
    if (ls.kind == LinkSettings::Kind::rtu) {
      auto* rtu = dynamic_cast<RtuClient*>(link.get());
      if (rtu && (rtu->options().serial.baud != ls.serial.baud || rtu->options().serial.parity != ls.serial.parity ||
                  rtu->options().serial.stop_bits != ls.serial.stop_bits ||
                  rtu->options().serial.data_bits != ls.serial.data_bits)) {
        log::warning("modbus source '", config.name, "': ", ls.device,
                     " is already open as ", rtu->describe(), "; one bus has one line setting, the first source's");
      }
    }
    return std::make_unique<ModbusSource>(config, std::move(settings), std::move(link));
  }

 private:
  // `address_offset: N` moves every register of the profile by N, for a
  // device that repeats one block (the Eaton PXG card's breaker k at
  // +200 x (k - 1)). Points with their own `address` stay where they say.
  static bool move_profile(const YAML::Node& source, Profile& profile, ConfigReader& r) {
    const auto node = r.child(source, "address_offset");
    if (!node.IsDefined()) return true;
    const auto v = r.integer(source, "address_offset");
    if (!v) return false;
    if (*v < 0 || *v > 65535) {
      r.error(node, "'address_offset' must be 0..65535, found " + std::to_string(*v));
      return false;
    }
    if (r.child(source, "sunspec").IsDefined()) {
      r.error(node, "'address_offset' and 'sunspec' do not go together: discovery places a SunSpec model itself");
      return false;
    }
    const auto offset = static_cast<std::uint32_t>(*v);
    auto fits = [&](const RegisterRange& range, std::string_view what) {
      if (range.address + offset + range.count - 1 <= 65535) return true;
      r.error(node, "'address_offset' " + std::to_string(offset) + " moves " + std::string(what) + " (" +
                        std::to_string(range.address) + ", " + std::to_string(range.count) +
                        " registers) past address 65535");
      return false;
    };
    bool ok = true;
    for (auto& p : profile.points) {
      ok = fits(p.registers.range(), "point '" + p.point.name + "'") && ok;
      if (auto sf = p.registers.scale_factor_range()) ok = fits(*sf, "the scale factor of '" + p.point.name + "'") && ok;
    }
    for (const auto& u : profile.unreadable) ok = fits(u, "an unreadable range") && ok;
    if (!ok) return false;
    for (auto& p : profile.points) {
      p.registers.address = static_cast<std::uint16_t>(p.registers.address + offset);
      if (p.registers.scale_factor_address) {
        p.registers.scale_factor_address = static_cast<std::uint16_t>(*p.registers.scale_factor_address + offset);
      }
    }
    for (auto& u : profile.unreadable) u.address = static_cast<std::uint16_t>(u.address + offset);
    return true;
  }

  static void parse_link(const YAML::Node& source, ConfigReader& r, LinkSettings& link) {
    const auto tcp = r.child(source, "tcp");
    const auto rtu = r.child(source, "rtu");
    const auto rtu_over_tcp = r.child(source, "rtu_over_tcp");
    const int given = (tcp.IsDefined() ? 1 : 0) + (rtu.IsDefined() ? 1 : 0) + (rtu_over_tcp.IsDefined() ? 1 : 0);
    bool port_given = false;
    if (given != 1) {
      r.error(source,
              "a modbus source needs exactly one of 'tcp: HOST[:PORT]', 'rtu: {device: ...}' or "
              "'rtu_over_tcp: HOST:PORT'");
    } else if (tcp.IsDefined()) {
      if (auto v = r.string(source, "tcp"); v && !parse_endpoint(*v, link, port_given)) {
        r.error(tcp, "'tcp' must be HOST, HOST:PORT or [IPv6]:PORT, found '" + *v + "'");
      }
    } else if (rtu_over_tcp.IsDefined()) {
      link.kind = LinkSettings::Kind::rtu_over_tcp;
      if (auto v = r.string(source, "rtu_over_tcp")) {
        if (!parse_endpoint(*v, link, port_given)) {
          r.error(rtu_over_tcp, "'rtu_over_tcp' must be HOST:PORT or [IPv6]:PORT, found '" + *v + "'");
        } else if (!port_given) {
          // 502 would be a guess: serial device servers have no standard port.
          r.error(rtu_over_tcp, "'rtu_over_tcp' needs the port of the gateway's serial port, HOST:PORT "
                                "(there is no standard one; Moxa NPort's first is 4001), found '" + *v + "'");
        }
      }
    } else {
      parse_rtu(rtu, r, link);
    }
    if (auto d = r.duration(source, "inter_request_delay")) {
      if (*d > milliseconds{10'000}) {
        r.error(r.child(source, "inter_request_delay"), "'inter_request_delay' must be at most 10s");
      } else {
        link.inter_request_delay = *d;
      }
    }
  }

  static void parse_unit(const YAML::Node& source, ConfigReader& r, ModbusSettings& s) {
    auto v = r.integer(source, "unit", true);
    if (!v) return;
    // RTU over TCP reaches devices on a serial line too.
    const bool rtu = s.link.kind == LinkSettings::Kind::rtu || s.link.kind == LinkSettings::Kind::rtu_over_tcp;
    const long long lo = rtu ? kMinRtuUnit : 0;
    const long long hi = rtu ? kMaxRtuUnit : 255;
    if (*v < lo || *v > hi) {
      r.error(r.child(source, "unit"), std::string("'unit' must be ") + (rtu ? "1..247 on a serial line" : "0..255"));
      return;
    }
    s.unit = static_cast<std::uint8_t>(*v);
  }

  static void parse_reading(const YAML::Node& source, ConfigReader& r, ModbusSettings& s) {
    s.request_timeout =
        parse_step_timeout(source, "request_timeout", r, std::min(source_timeout(source), milliseconds{1'000}));
    s.probe_timeout = parse_step_timeout(source, "probe_timeout", r,
                                         std::min(default_probe_timeout(s.link), s.request_timeout));
    if (auto v = r.integer(source, "max_gap")) {
      if (*v < 0 || *v > 124) {
        r.error(r.child(source, "max_gap"), "'max_gap' must be 0..124 registers");
      } else {
        s.spans.max_gap = static_cast<std::uint16_t>(*v);
      }
    }
    if (auto v = r.integer(source, "max_registers")) {
      if (*v < 1 || *v > kMaxReadRegisters) {
        r.error(r.child(source, "max_registers"), "'max_registers' must be 1..125");
      } else {
        s.spans.max_registers = static_cast<std::uint16_t>(*v);
      }
    }
    parse_health_policy(source, r, s.health);
  }
};

}  // namespace

const SourceType& modbus_source_type() {
  static const ModbusSourceType type;
  return type;
}

}  // namespace rackwatch::modbus
