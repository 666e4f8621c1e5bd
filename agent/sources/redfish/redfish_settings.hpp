// What a `type: redfish` source is configured with: the service it asks
// (http or https, host, port), how it signs in, how it trusts the
// server's certificate, and how long and how much it waits for.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "sources/device_health.hpp"

namespace rackwatch::redfish {

enum class Scheme : std::uint8_t { http, https };
// session: POST SessionService/Sessions once, then X-Auth-Token (what
// BMCs prefer: one login, not one password check per request);
// basic: the password with every request; none: for open lab services.
enum class AuthKind : std::uint8_t { session, basic, none };

const char* auth_kind_name(AuthKind kind);

struct RedfishSettings final : SourceSettings {
  Scheme scheme = Scheme::https;
  std::string host;
  std::uint16_t port = 443;
  AuthKind auth = AuthKind::session;
  std::string user;
  std::string password;  // from password_file
  std::string ca_file;   // empty: the system's CA store
  bool tls_verify = true;
  std::chrono::milliseconds request_timeout{5'000};  // each request: connect, handshake, write, read
  std::size_t max_body = 4u << 20;                   // bytes a response body may have
  // Read collections with $expand when the service root says it can
  // (ProtocolFeaturesSupported.ExpandQuery): one request for a collection
  // and its members, at discovery and at every poll.
  bool expand = true;
  // How often the walk from the service root runs again, to follow a
  // hot-plugged power supply or an outlet that appeared; 0: never.
  std::chrono::milliseconds rediscover{3'600'000};
  HealthPolicy health;

  std::string endpoint() const;  // "https://host:port"
  bool finds_points() const override { return true; }
  bool holds_secrets() const override { return !password.empty(); }
};

}  // namespace rackwatch::redfish
