// What a `type: snmp` source is configured with: the agent it asks (address,
// version, community or v3 user and keys), how long it waits, its points as
// OIDs, and its profile.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
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

struct SnmpProfile;

struct SnmpSettings final : SourceSettings {
  std::string host;
  std::uint16_t port = 161;
  Credentials credentials;
  std::chrono::milliseconds request_timeout{1'000};
  unsigned max_varbinds = 20;  // per GET
  unsigned max_repetitions = 10;  // per GETBULK of a table walk
  HealthPolicy health;
  // One per point of the source's config, in its order: its own points,
  // then a named profile's.
  std::vector<SnmpPoint> points;
  // `profile: NAME`: its tables' rows are found at every poll.
  std::shared_ptr<const SnmpProfile> profile;
  // `profile: auto`: the profile is chosen among `candidates` by what the
  // device says it is, else `fallback` (ENTITY-SENSOR-MIB); its points are
  // found then.
  bool auto_profile = false;
  std::vector<std::shared_ptr<const SnmpProfile>> candidates;
  std::shared_ptr<const SnmpProfile> fallback;

  std::string endpoint() const;  // "host:port", "[v6]:port"
  bool finds_points() const override;
  bool holds_secrets() const override {
    return !credentials.community.empty() || !credentials.auth_passphrase.empty() ||
           !credentials.priv_passphrase.empty();
  }
};

}  // namespace rackwatch::snmp
