// Why a connect to the broker failed, in words that say what to fix. Paho
// hands a failure over as a bare code: a broker's refusal (MQTT 3.1.1: the
// CONNACK's code, 1 to 5; MQTT 5: its reason code, 0x80 and up), or
// "Failure" / "TCP/TLS connect failure" for everything below MQTT. For
// those, the agent's own TCP (and TLS) connection to the same broker finds
// the step that failed. Shared by the session and `rackwatch tail`.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/config.hpp"

namespace rackwatch {

// "the broker refused the connection: not authorized (...)"; empty when
// neither code is a refusal.
std::string connect_refusal(int return_code, int reason_code);

// Whether the codes are the broker refusing the user name, password or
// access (MQTT 3.1.1: 4, 5; MQTT 5: 0x86, 0x87).
bool refused_credentials(int return_code, int reason_code);

// Why Paho's connect to `uri` failed with (return_code, reason_code):
// the broker's refusal, else what a TCP connection and, for TLS brokers, a
// handshake with `tls` find within `timeout`; else that the broker took the
// connection but did not speak MQTT in time (with Paho's own `paho_text`).
boost::asio::awaitable<std::string> explain_connect_failure(std::string uri, int return_code, int reason_code,
                                                            std::optional<TlsConfig> tls,
                                                            std::chrono::milliseconds timeout,
                                                            std::string paho_text);

}  // namespace rackwatch
