// A process that holds a secret (the broker password, the TLS private key or
// its passphrase) must not let it out through a core dump or another
// process of the same user reading /proc/PID/mem: it makes itself
// non-dumpable, which also puts its /proc files out of that user's reach.
#pragma once

#include "core/config.hpp"

namespace rackwatch {

// Whether the mqtt settings put a secret in this process's memory: a
// password, a private key (loaded by the TLS library at every connect, read
// here to fingerprint it), or a key passphrase.
bool holds_secrets(const MqttConfig& mqtt);

// Makes the process non-dumpable when `mqtt` holds secrets. Once off, it
// stays off. A failure is logged: the process runs on, but says the risk.
void keep_secrets_out_of_dumps(const MqttConfig& mqtt);

}  // namespace rackwatch
