#include "sources/builtin/builtin_types.hpp"

#if RACKWATCH_WITH_HWMON
#include "sources/hwmon/hwmon_source.hpp"
#endif
#if RACKWATCH_WITH_MODBUS
#include "sources/modbus/modbus_source.hpp"
#endif
#if RACKWATCH_WITH_REDFISH
#include "sources/redfish/redfish_source.hpp"
#endif
#if RACKWATCH_WITH_SIM
#include "sources/sim/sim_source.hpp"
#endif
#if RACKWATCH_WITH_SNMP
#include "sources/snmp/snmp_source.hpp"
#endif

namespace rackwatch {

const SourceTypes& builtin_source_types() {
  // One line a protocol, in the order that messages list them.
  static const SourceTypes types = [] {
    SourceTypes t;
#if RACKWATCH_WITH_HWMON
    t.add(hwmon_source_type());
#endif
#if RACKWATCH_WITH_MODBUS
    t.add(modbus::modbus_source_type());
#endif
#if RACKWATCH_WITH_REDFISH
    t.add(redfish::redfish_source_type());
#endif
#if RACKWATCH_WITH_SIM
    t.add(sim_source_type());
#endif
#if RACKWATCH_WITH_SNMP
    t.add(snmp::snmp_source_type());
#endif
    return t;
  }();
  return types;
}

}  // namespace rackwatch
