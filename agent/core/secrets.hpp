// A process that holds a secret (the broker password, the TLS private key or
// its passphrase, a device's SNMP community or keys) must not let it out through a core dump or another
// process of the same user reading /proc/PID/mem: it makes itself
// non-dumpable, which also puts its /proc files out of that user's reach.
#pragma once

#include "core/config.hpp"

namespace rackwatch {

// Whether the mqtt settings put a secret in this process's memory: a
// password, a private key (loaded by the TLS library at every connect, read
// here to fingerprint it), or a key passphrase.
bool holds_secrets(const MqttConfig& mqtt);

// Whether the config puts a secret in memory: the mqtt settings', or a
// source's (SourceSettings::holds_secrets).
bool holds_secrets(const Config& config);

// Makes the process non-dumpable when `mqtt` (or `config`) holds secrets.
// Once off, it stays off. A failure is logged: the process runs on, but says
// the risk.
void keep_secrets_out_of_dumps(const MqttConfig& mqtt);
void keep_secrets_out_of_dumps(const Config& config);

}  // namespace rackwatch
