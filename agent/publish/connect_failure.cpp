#include "publish/connect_failure.hpp"

#include <cstdio>

#include <mqtt/async_client.h>

#include "core/mqtt_config.hpp"
#include "publish/tcp_probe.hpp"
#include "publish/tls_probe.hpp"

namespace rackwatch {

namespace {

constexpr const char* kCredentials = " (check mqtt.username and mqtt.password_file against the broker's users)";
constexpr const char* kAccess =
    " (the broker does not let this client in: check mqtt.username, mqtt.password_file, the client "
    "certificate, and the broker's access rules)";

std::string refusal_v3(int rc) {
  switch (rc) {
    case 1: return "unacceptable protocol version (set mqtt.protocol to what the broker speaks)";
    case 2: return "client identifier rejected (check mqtt.client_id)";
    case 3: return "server unavailable (the broker is up but not taking clients)";
    case 4: return std::string("bad user name or password") + kCredentials;
    case 5: return std::string("not authorized") + kAccess;
    default: return {};
  }
}

std::string refusal_v5(int reason) {
  switch (reason) {
    case MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD: return std::string("bad user name or password") + kCredentials;
    case MQTTREASONCODE_NOT_AUTHORIZED: return std::string("not authorized") + kAccess;
    case MQTTREASONCODE_CLIENT_IDENTIFIER_NOT_VALID: return "client identifier not valid (check mqtt.client_id)";
    case MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION:
      return "unsupported protocol version (set mqtt.protocol to what the broker speaks)";
    default: break;
  }
  const char* name = ::MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(reason));
  char code[16];
  std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned>(reason));
  return std::string(name ? name : "reason") + " (" + code + ")";
}

// The MQTT 5 reason code of a refusal, or 0 when the codes are MQTT 3's.
// Paho C++ gives 0xff as the reason code of an MQTT 3 operation, and under
// MQTT 5 hands a CONNACK's reason code over as the return code.
int v5_refusal(int return_code, int reason_code) {
  constexpr int kNotV5 = 0xff;
  if (reason_code >= 0x80 && reason_code != kNotV5) return reason_code;
  if (return_code >= 0x80 && return_code < kNotV5) return return_code;
  return 0;
}

}  // namespace

std::string connect_refusal(int return_code, int reason_code) {
  const int v5 = v5_refusal(return_code, reason_code);
  const std::string why = v5 != 0 ? refusal_v5(v5) : refusal_v3(return_code);
  return why.empty() ? why : "the broker refused the connection: " + why;
}

bool refused_credentials(int return_code, int reason_code) {
  const int v5 = v5_refusal(return_code, reason_code);
  if (v5 != 0) return v5 == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD || v5 == MQTTREASONCODE_NOT_AUTHORIZED;
  return return_code == 4 || return_code == 5;
}

boost::asio::awaitable<std::string> explain_connect_failure(std::string uri, int return_code, int reason_code,
                                                            std::optional<TlsConfig> tls,
                                                            std::chrono::milliseconds timeout,
                                                            std::string paho_text) {
  // The broker's own "no" says it all, and means the connection worked.
  if (auto refusal = connect_refusal(return_code, reason_code); !refusal.empty()) co_return refusal;
  if (is_tls_uri(uri) && tls) {
    const auto r = co_await probe_tls(uri, *tls, timeout);
    if (!r.ok) co_return r.error;
  } else if (auto why = co_await probe_tcp(uri, timeout); !why.empty()) {
    co_return why;
  }
  co_return "the broker took the connection but did not complete the MQTT connect within mqtt.connect_timeout "
            "(is it an MQTT port? Paho said: " + paho_text + ")";
}

}  // namespace rackwatch
