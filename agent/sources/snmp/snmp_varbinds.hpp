// The varbinds of a PDU the library parsed, copied into the agent's own
// VarBind: the only place that reads net-snmp's variable list.
#pragma once

#include <vector>

#include "sources/snmp/snmp_value.hpp"

struct snmp_pdu;

namespace rackwatch::snmp {

std::vector<VarBind> varbinds_of(const snmp_pdu& pdu);

}  // namespace rackwatch::snmp
