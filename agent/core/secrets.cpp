#include "core/secrets.hpp"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace rackwatch {

bool holds_secrets(const MqttConfig& mqtt) {
  return !mqtt.password.empty() || (mqtt.tls && (!mqtt.tls->key_file.empty() || !mqtt.tls->key_password.empty()));
}

bool holds_secrets(const Config& config) {
  if (holds_secrets(config.mqtt)) return true;
  for (const auto& source : config.sources) {
    if (source.settings && source.settings->holds_secrets()) return true;
  }
  return false;
}

namespace {

void make_non_dumpable() {
  if (::prctl(PR_GET_DUMPABLE) == 0) return;
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) {
    log::warning("could not make the process non-dumpable (", std::strerror(errno),
                 "): a core dump, or another process of this user, could read the broker password, TLS key or "
                 "SNMP keys");
  }
}

}  // namespace

void keep_secrets_out_of_dumps(const MqttConfig& mqtt) {
  if (holds_secrets(mqtt)) make_non_dumpable();
}

void keep_secrets_out_of_dumps(const Config& config) {
  if (holds_secrets(config)) make_non_dumpable();
}

}  // namespace rackwatch
