// net-snmp's process-wide set-up, done once before the first session: no
// configuration files, no MIB loading, no persistent state written under
// /var/lib/snmp, and the library's own log lines routed into the agent's.
#pragma once

namespace rackwatch::snmp {

void ensure_library();

}  // namespace rackwatch::snmp
