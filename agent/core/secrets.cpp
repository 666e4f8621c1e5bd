#include "core/secrets.hpp"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace rackwatch {

bool holds_secrets(const MqttConfig& mqtt) {
  return !mqtt.password.empty() || (mqtt.tls && (!mqtt.tls->key_file.empty() || !mqtt.tls->key_password.empty()));
}

void keep_secrets_out_of_dumps(const MqttConfig& mqtt) {
  if (!holds_secrets(mqtt) || ::prctl(PR_GET_DUMPABLE) == 0) return;
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) {
    log::warning("could not make the process non-dumpable (", std::strerror(errno),
                 "): a core dump, or another process of this user, could read the broker password or TLS key");
  }
}

}  // namespace rackwatch
