// Fuzz target: an SNMP datagram as a device (or anything on its address)
// sends it, through net-snmp's parser (snmp_parse: the message, v1/v2c
// community or v3 USM header, the PDU, the varbinds) and then the agent's
// own code on what it gives: the copy of the varbinds (snmp_varbinds.hpp)
// and their values as numbers (snmp_value.hpp). The library is not ours,
// but the bytes reach it from the device and its result reaches our code:
// both ends are exercised together, as the source runs them.
//
// Checks: a varbind's value is a finite number or it has a reason; a reason
// is never empty; copying the same PDU twice gives the same.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "fuzz_check.hpp"
#include "sources/snmp/snmp_library.hpp"
#include "sources/snmp/snmp_value.hpp"
#include "sources/snmp/snmp_varbinds.hpp"

namespace {

using rackwatch::fuzz::require;

// A v2c session that never sends: only its parse state is used.
struct session_list* session() {
  static struct session_list* s = [] {
    rackwatch::snmp::ensure_library();
    netsnmp_session init;
    snmp_sess_init(&init);
    char peer[] = "udp:127.0.0.1:9";
    char community[] = "public";
    init.peername = peer;
    init.version = SNMP_VERSION_2c;
    init.community = reinterpret_cast<u_char*>(community);
    init.community_len = sizeof community - 1;
    return static_cast<struct session_list*>(snmp_sess_open(&init));
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto* s = session();
  require(s != nullptr, "the session opens");
  std::vector<u_char> bytes(data, data + size);
  netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_RESPONSE);
  const int rc = snmp_parse(s, snmp_sess_session(s), pdu, bytes.data(), bytes.size());
  if (rc == SNMP_ERR_NOERROR) {
    const auto vars = rackwatch::snmp::varbinds_of(*pdu);
    const auto again = rackwatch::snmp::varbinds_of(*pdu);
    require(vars.size() == again.size(), "copying twice gives the same number of varbinds");
    for (std::size_t i = 0; i < vars.size(); ++i) {
      require(vars[i].oid == again[i].oid && vars[i].bytes == again[i].bytes, "copying twice gives the same");
      const auto n = rackwatch::snmp::to_number(vars[i]);
      if (n.value) {
        require(std::isfinite(*n.value), "a value is finite");
      } else {
        require(!n.error.empty(), "no value has a reason");
      }
    }
  }
  snmp_free_pdu(pdu);
  return 0;
}
