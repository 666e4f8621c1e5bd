// What a `type: snmp` source is configured with: the agent it asks (address,
// version, community or v3 user and keys), how long it waits, and its
// points as OIDs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "sources/device_health.hpp"
#include "sources/snmp/snmp_oid.hpp"

namespace rackwatch::snmp {

enum class Version : std::uint8_t { v2c, v3 };
enum class SecurityLevel : std::uint8_t { no_auth_no_priv, auth_no_priv, auth_priv };
enum class AuthProtocol : std::uint8_t { none, md5, sha1, sha224, sha256, sha384, sha512 };
// aes128 is RFC 3826's AES; aes192 and aes256 extend the key as
// draft-blumenthal-aes-usm-04 does (what net-snmp's AES-192/AES-256 mean).
enum class PrivProtocol : std::uint8_t { none, des, aes128, aes192, aes256 };

const char* security_level_name(SecurityLevel level);
const char* auth_protocol_name(AuthProtocol protocol);
const char* priv_protocol_name(PrivProtocol protocol);

struct Credentials {
  Version version = Version::v2c;
  std::string community;  // v2c
  // v3 (USM)
  std::string user;
  SecurityLevel level = SecurityLevel::no_auth_no_priv;
  AuthProtocol auth = AuthProtocol::none;
  std::string auth_passphrase;
  PrivProtocol priv = PrivProtocol::none;
  std::string priv_passphrase;
  std::string context;
};

struct SnmpPoint {
  Oid oid;
};

struct SnmpSettings final : SourceSettings {
  std::string host;
  std::uint16_t port = 161;
  Credentials credentials;
  std::chrono::milliseconds request_timeout{1'000};
  unsigned max_varbinds = 20;  // per GET
  HealthPolicy health;
  std::vector<SnmpPoint> points;  // one per point of the source, in its order

  std::string endpoint() const;  // "host:port", "[v6]:port"
  bool holds_secrets() const override {
    return !credentials.community.empty() || !credentials.auth_passphrase.empty() ||
           !credentials.priv_passphrase.empty();
  }
};

}  // namespace rackwatch::snmp
