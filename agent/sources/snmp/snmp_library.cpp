#include "sources/snmp/snmp_library.hpp"

#include <cstdlib>
#include <string>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "core/log.hpp"

namespace rackwatch::snmp {

namespace {

// The library's messages go to the agent's log without their newline: its
// errors as errors (a socket it could not open), the rest at debug level,
// since the source says the same in its own words ("Authentication failed
// for ops" is the source's "wrong digest").
int forward_log(int, int, void* server_arg, void* client_arg) {
  (void)client_arg;
  const auto* message = static_cast<const snmp_log_message*>(server_arg);
  if (message == nullptr || message->msg == nullptr) return 0;
  std::string text = message->msg;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return 0;
  if (message->priority <= LOG_ERR) {
    log::error("net-snmp: ", text);
  } else {
    log::debug("net-snmp: ", text);
  }
  return 0;
}

}  // namespace

void ensure_library() {
  static bool done = false;
  if (done) return;
  done = true;
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_NO_TOKEN_WARNINGS, 1);
  // Its start-up creates an (empty) certificate index under the persistent
  // directory, /var/lib/snmp by default, for TLS transports the agent does
  // not use. A directory under /proc can never be made: nothing is written
  // anywhere, and the library says nothing of it.
  netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, "/proc/self/rackwatch-no-net-snmp-state");
  // Points are numeric OIDs: the library has no MIB to load, and would
  // complain of each default module it cannot find. MIBS empty loads none.
  ::setenv("MIBS", "", 1);
  netsnmp_set_mib_directory("");
  snmp_disable_log();
  snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, forward_log, nullptr);
  snmp_enable_calllog();
  init_snmp("rackwatch");
}

}  // namespace rackwatch::snmp
