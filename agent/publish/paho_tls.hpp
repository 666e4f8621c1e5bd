// Paho's TLS settings from the agent's, in one place: the session and
// `rackwatch tail` must connect the same way.
#pragma once

#include <mqtt/ssl_options.h>

#include "core/config.hpp"

namespace rackwatch {

// The CA, the client's certificate, key and passphrase, and both checks
// (certificate chain and host name) unless `tls.verify` is off.
mqtt::ssl_options paho_ssl_options(const TlsConfig& tls);

}  // namespace rackwatch
