#include "sources/modbus/sunspec_config.hpp"

#include <string>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"
#include "sources/modbus/sunspec_chain.hpp"

namespace rackwatch::modbus {

namespace {

std::string range_text(const RegisterRange& r) {
  return std::string(table_name(r.table)) + " " + std::to_string(r.address) +
         (r.count > 1 ? "-" + std::to_string(r.address + r.count - 1) : "");
}

}  // namespace

std::optional<SunSpecModel> parse_sunspec_model(const YAML::Node& root, const std::vector<ProfilePoint>& points,
                                                ConfigReader& r) {
  const auto node = r.child(root, "sunspec");
  if (!node.IsDefined()) return std::nullopt;
  if (!node.IsMap()) {
    r.error(node, "'sunspec' must be a mapping: {model: 203, length: 105, data_start: 40072}");
    return std::nullopt;
  }
  r.check_keys(node, {"model", "length", "data_start"}, "the profile's 'sunspec'");
  const auto model = r.integer(node, "model", true);
  const auto length = r.integer(node, "length", true);
  const auto start = r.integer(node, "data_start", true);
  if (!model || !length || !start) return std::nullopt;
  bool ok = true;
  if (*model < 1 || *model >= sunspec::kEndId) {
    r.error(r.child(node, "model"), "'model' must be a SunSpec model ID 1..65534");
    ok = false;
  }
  if (*length < 1 || *length > 65535) {
    r.error(r.child(node, "length"), "'length' must be the model's length in registers, 1..65535");
    ok = false;
  }
  if (*start < 2 || *start > 65535) {
    r.error(r.child(node, "data_start"), "'data_start' must be a register address 2..65535 (after the model's ID and length)");
    ok = false;
  }
  if (ok && *start + *length > 65536) {
    r.error(r.child(node, "length"), "the model's data runs past address 65535 from 'data_start'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  SunSpecModel m{static_cast<std::uint16_t>(*model), static_cast<std::uint16_t>(*length),
                 static_cast<std::uint16_t>(*start)};
  const std::uint32_t end = std::uint32_t{m.data_start} + m.length;
  auto outside = [&](const RegisterRange& range) {
    return range.table != Table::holding_register || range.address < m.data_start ||
           std::uint32_t{range.address} + range.count > end;
  };
  for (const auto& p : points) {
    const auto value = p.registers.range();
    const auto sf = p.registers.scale_factor_range();
    for (const auto& range : {std::optional<RegisterRange>(value), sf}) {
      if (!range || !outside(*range)) continue;
      r.error(node, "point '" + p.point.name + "' needs " + range_text(*range) + ", outside model " +
                        std::to_string(m.id) + "'s data (holding register " + std::to_string(m.data_start) + "-" +
                        std::to_string(end - 1) + "): a SunSpec profile reads only its model");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return m;
}

std::optional<SunSpecSettings> parse_sunspec_source(const YAML::Node& source, const Profile* profile,
                                                    const std::vector<YAML::Node>& own_address, ConfigReader& r) {
  const auto node = r.child(source, "sunspec");
  if (!node.IsDefined()) return std::nullopt;
  if (!node.IsMap()) {
    r.error(node, "'sunspec' must be a mapping: {base: auto} (or 0, 40000, 50000)");
    return std::nullopt;
  }
  r.check_keys(node, {"base"}, "'sunspec'");
  SunSpecSettings s;
  s.bases.assign(sunspec::kAutoBases.begin(), sunspec::kAutoBases.end());
  bool ok = true;
  if (auto base = r.child(node, "base"); base.IsDefined()) {
    const std::string text = base.IsScalar() ? base.Scalar() : "";
    if (text != "auto") {
      bool known = false;
      for (auto b : sunspec::kAutoBases) {
        if (text == std::to_string(b)) {
          s.bases = {b};
          s.base_auto = false;
          known = true;
        }
      }
      if (!known) {
        r.error(base, "'base' must be auto, 0, 40000 or 50000 (where the device's \"SunS\" marker is), found '" +
                          text + "'");
        ok = false;
      }
    }
  }
  if (!profile) {
    if (!r.child(source, "profile").IsDefined()) {
      r.error(node, "'sunspec' finds a profile's SunSpec model in the device: it needs a 'profile' such as "
                    "sunspec-203-meter");
    }
    return std::nullopt;
  }
  if (!profile->sunspec) {
    r.error(node, "'sunspec' finds a profile's SunSpec model in the device, but profile '" + profile->file +
                      "' names none: it needs a 'sunspec: {model, length, data_start}' block");
    return std::nullopt;
  }
  for (const auto& p : own_address) {
    r.error(r.child(p, "address"), "a point with its own 'address' is not moved with the SunSpec model; read it "
                                   "in a source of its own without 'sunspec'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  s.model = *profile->sunspec;
  return s;
}

}  // namespace rackwatch::modbus
