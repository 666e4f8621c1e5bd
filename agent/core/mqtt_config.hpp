// The `mqtt` section: brokers, identity, timers, TLS and the secrets it
// needs. Secrets come from files only, and a file that other users can read
// is refused, naming it and its mode.
#pragma once

#include <optional>
#include <string>

#include "core/config.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;

void parse_mqtt(const YAML::Node& node, ConfigReader& r, MqttConfig& out);

// A small secret from a regular file: its first line, or why not (missing,
// not a regular file, too big, readable by other users).
struct SecretFile {
  std::optional<std::string> value;
  std::string error;
};
SecretFile read_secret_file(const std::string& path);

// Empty when `path` is a regular file that only its owner and group may
// access; otherwise why not, with the mode ("readable by other users (mode 0644)").
std::string private_file_problem(const std::string& path);

// Where Debian keeps the system's CA bundle: ca_file's default.
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// True for ssl:// and mqtts:// broker URIs.
bool is_tls_uri(const std::string& uri);

// The MQTT ports (IANA): what a broker URI without a port means.
inline constexpr const char* kMqttPort = "1883";
inline constexpr const char* kMqttTlsPort = "8883";

// Host (without brackets for IPv6) and port of a broker URI.
struct BrokerAddress {
  std::string host;
  std::string port;
};

// A broker URI, scheme://host[:port], checked and with its port made
// explicit (1883 for tcp:// and mqtt://, 8883 for ssl:// and mqtts://), so
// that logs and status say where the agent connects. `error` says what is
// wrong when the URI is not one.
struct BrokerUri {
  std::string uri;  // "tcp://broker.example:1883"
  BrokerAddress address;
  bool tls = false;
  bool port_defaulted = false;
  std::string error;
};
BrokerUri parse_broker_uri(const std::string& uri);

}  // namespace rackwatch
