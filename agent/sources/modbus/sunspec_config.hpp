// The SunSpec config keys: a profile's `sunspec: {model, length, data_start}`
// block, and a source's `sunspec: {base: auto | 0 | 40000 | 50000}`, which
// turns on discovery of the profile's model in the device's chain.
#pragma once

#include <optional>
#include <vector>

#include "sources/modbus/modbus_profile.hpp"
#include "sources/modbus/sunspec_settings.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {
class ConfigReader;
}

namespace rackwatch::modbus {

// A profile's `sunspec:` block (none: nothing), checked against its points:
// every register a point needs, its scale factor's too, is a holding
// register inside the model's data as the block places it.
std::optional<SunSpecModel> parse_sunspec_model(const YAML::Node& root, const std::vector<ProfilePoint>& points,
                                                ConfigReader& r);

// A source's `sunspec:` key (none: nothing). Needs a profile with a
// `sunspec:` block; `own_address` lists the source's points that bring an
// `address` of their own, which discovery could not place.
// The operator names the model (the profile) rather than the agent taking
// whatever models a device has: the points, and so the catalog, are known
// from the config at start, as for any source, and do not come and go (or
// change the catalog id) with a device's answers and restarts; a model
// the device lacks is a bad reading that says so.
std::optional<SunSpecSettings> parse_sunspec_source(const YAML::Node& source, const Profile* profile,
                                                    const std::vector<YAML::Node>& own_address, ConfigReader& r);

}  // namespace rackwatch::modbus
