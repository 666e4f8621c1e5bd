// SNMP device profiles: a device model's OIDs and tables described once, as
// YAML data (config/profiles/README.md has the format), and the choice of
// one by what a device says it is (sysObjectID, sysDescr) for `profile: auto`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/diagnostics.hpp"
#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_settings.hpp"
#include "sources/snmp/snmp_table.hpp"

namespace rackwatch::snmp {

struct SnmpProfile {
  std::string file;
  std::string name;  // the file's name without .yaml
  std::string description;
  std::vector<Oid> match_oids;          // sysObjectID prefixes
  std::vector<std::string> match_descr;  // sysDescr substrings
  std::vector<PointConfig> points;      // scalars
  std::vector<SnmpPoint> oids;          // one per point
  std::vector<TableSpec> tables;
};

// Loads an SNMP profile; every problem goes to `diags` as FILE:LINE:COL.
std::optional<SnmpProfile> load_snmp_profile(const std::string& path, Diagnostics& diags);

// What `profile: auto` chose, and why, in words for `rackwatch probe`.
struct ProfileChoice {
  std::shared_ptr<const SnmpProfile> profile;
  std::string why;
};

// The profile of the longest sysObjectID prefix that matches; when none
// does, the first whose sysDescr substring is found; else `fallback`.
ProfileChoice choose_profile(const std::vector<std::shared_ptr<const SnmpProfile>>& candidates,
                             std::shared_ptr<const SnmpProfile> fallback, const std::optional<Oid>& sys_object_id,
                             std::string_view sys_descr);

}  // namespace rackwatch::snmp
