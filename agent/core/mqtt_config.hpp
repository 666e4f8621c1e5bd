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

}  // namespace rackwatch
