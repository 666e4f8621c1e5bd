// The `type: snmp` config keys: the agent's address, the version and its
// credentials (secrets only from files other users cannot read), the
// request settings, and each point's OID.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"
#include "core/mqtt_config.hpp"
#include "sources/device_config.hpp"
#include "sources/host_port.hpp"
#include "sources/profile_file.hpp"
#include "sources/snmp/snmp_profile.hpp"
#include "sources/snmp/snmp_settings.hpp"
#include "sources/snmp/snmp_source.hpp"

namespace rackwatch::snmp {

namespace {

using std::chrono::milliseconds;

// What `profile: auto` reads when the device is no vendor's it knows.
constexpr const char* kFallbackProfile = "entity-sensor";

// net-snmp refuses shorter passphrases (RFC 3414 11.2 recommends 8 or more).
constexpr std::size_t kMinPassphrase = 8;

std::optional<AuthProtocol> auth_protocol(const std::string& text) {
  if (text == "MD5") return AuthProtocol::md5;
  if (text == "SHA" || text == "SHA-1") return AuthProtocol::sha1;
  if (text == "SHA-224") return AuthProtocol::sha224;
  if (text == "SHA-256") return AuthProtocol::sha256;
  if (text == "SHA-384") return AuthProtocol::sha384;
  if (text == "SHA-512") return AuthProtocol::sha512;
  return std::nullopt;
}

std::optional<PrivProtocol> priv_protocol(const std::string& text) {
  if (text == "DES") return PrivProtocol::des;
  if (text == "AES" || text == "AES-128") return PrivProtocol::aes128;
  if (text == "AES-192") return PrivProtocol::aes192;
  if (text == "AES-256") return PrivProtocol::aes256;
  return std::nullopt;
}

// A secret from its file (first line), or an error at the key.
std::optional<std::string> secret(const YAML::Node& map, const char* key, ConfigReader& r) {
  auto path = r.string(map, key, true);
  if (!path) return std::nullopt;
  auto file = read_secret_file(*path);
  if (!file.value) {
    r.error(r.child(map, key), std::string(key) + " '" + *path + "': " + file.error);
    return std::nullopt;
  }
  if (file.value->empty()) {
    r.error(r.child(map, key), std::string(key) + " '" + *path + "' is empty");
    return std::nullopt;
  }
  return file.value;
}

class SnmpSourceType final : public SourceType {
 public:
  std::string_view name() const override { return "snmp"; }
  std::vector<std::string_view> source_keys() const override {
    return {"host",           "version",      "community_file", "user",          "security",
            "auth",           "priv",         "context",        "request_timeout", "max_varbinds",
            "dormant_after",  "reprobe_min",  "reprobe_max",     "profile",      "max_repetitions"};
  }
  std::vector<std::string_view> point_keys() const override { return {"oid"}; }
  bool points_optional() const override { return true; }

  std::shared_ptr<const SourceSettings> parse(const YAML::Node& source,
                                              const std::vector<YAML::Node>& point_nodes,
                                              std::vector<PointConfig>& points,
                                              ConfigReader& r) const override {
    auto s = std::make_shared<SnmpSettings>();
    if (auto v = r.string(source, "host", true)) {
      if (auto hp = parse_host_port(*v)) {
        s->host = hp->host;
        s->port = hp->port.value_or(161);
      } else {
        r.error(r.child(source, "host"), "'host' must be HOST, HOST:PORT or [IPv6]:PORT, found '" + *v + "'");
      }
    }
    parse_credentials(source, r, s->credentials);

    s->request_timeout =
        parse_step_timeout(source, "request_timeout", r, std::min(source_timeout(source), milliseconds{1'000}));
    if (auto v = r.integer(source, "max_varbinds")) {
      if (*v < 1 || *v > 100) {
        r.error(r.child(source, "max_varbinds"), "'max_varbinds' must be 1..100");
      } else {
        s->max_varbinds = static_cast<unsigned>(*v);
      }
    }
    if (auto v = r.integer(source, "max_repetitions")) {
      if (*v < 1 || *v > 100) {
        r.error(r.child(source, "max_repetitions"), "'max_repetitions' must be 1..100");
      } else {
        s->max_repetitions = static_cast<unsigned>(*v);
      }
    }
    parse_health_policy(source, r, s->health);

    for (const auto& node : point_nodes) {
      SnmpPoint p;
      if (auto v = r.string(node, "oid", true)) {
        if (auto oid = parse_oid(*v)) {
          p.oid = std::move(*oid);
        } else {
          r.error(r.child(node, "oid"), "'oid' must be a numeric OID such as 1.3.6.1.2.1.1.3.0, found '" + *v + "'");
        }
      }
      s->points.push_back(std::move(p));
    }
    parse_profile(source, points, *s, r);
    return s;
  }

  // net-snmp keeps one set of keys for a user of an engine, shared by every
  // session: two sources that ask one device as one user with different
  // keys would both use whichever was discovered last.
  std::vector<std::string> advise(const std::vector<const SourceConfig*>& sources) const override {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const auto* a = dynamic_cast<const SnmpSettings*>(sources[i]->settings.get());
      if (!a || a->credentials.version != Version::v3) continue;
      for (std::size_t j = i + 1; j < sources.size(); ++j) {
        const auto* b = dynamic_cast<const SnmpSettings*>(sources[j]->settings.get());
        if (!b || b->credentials.version != Version::v3 || a->endpoint() != b->endpoint() ||
            a->credentials.user != b->credentials.user) {
          continue;
        }
        const auto& x = a->credentials;
        const auto& y = b->credentials;
        if (x.level == y.level && x.auth == y.auth && x.priv == y.priv && x.auth_passphrase == y.auth_passphrase &&
            x.priv_passphrase == y.priv_passphrase) {
          continue;
        }
        out.push_back("snmp sources '" + sources[i]->name + "' and '" + sources[j]->name + "' ask " + a->endpoint() +
                      " as user '" + x.user + "' with different keys or levels: one device's user has one set of "
                      "keys, and both sources would use whichever was discovered last; give them the same");
      }
    }
    return out;
  }

  std::unique_ptr<Source> create(const SourceConfig& config, const SourceEnv& env) const override {
    auto settings = std::dynamic_pointer_cast<const SnmpSettings>(config.settings);
    if (!settings || settings->points.size() != config.points.size()) {  // the configured points
      throw std::invalid_argument("snmp source '" + config.name + "' has no valid settings");
    }
    return std::make_unique<SnmpSource>(config, std::move(settings), env.executor);
  }

 private:
  // `profile: NAME` adds the profile's scalar points after the source's
  // own; `profile: auto` loads every SNMP profile, to choose one later.
  static void parse_profile(const YAML::Node& source, std::vector<PointConfig>& points, SnmpSettings& s,
                            ConfigReader& r) {
    const auto value = r.string(source, "profile");
    if (!value) {
      if (points.empty() && !r.child(source, "points").IsDefined()) {
        r.error(source, "an snmp source needs a 'profile' (a name, or auto) or 'points' with OIDs");
      }
      return;
    }
    if (*value == "auto") {
      s.auto_profile = true;
      std::set<std::string> seen;
      for (const auto& dir : profile_dirs(r.file())) {
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
          if (entry.path().extension() == ".yaml") files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
          // The first directory's file of a name hides the installed one.
          if (!seen.insert(f.stem().string()).second || profile_kind(f.string()) != ProfileKind::snmp) continue;
          auto profile = load_snmp_profile(f.string(), r.diags());
          if (!profile) {
            r.error(r.child(source, "profile"), "profile: auto reads every SNMP profile, and " + f.string() +
                                                    " has errors");
            continue;
          }
          auto shared = std::make_shared<const SnmpProfile>(std::move(*profile));
          if (shared->name == kFallbackProfile) s.fallback = shared;
          s.candidates.push_back(std::move(shared));
        }
      }
      if (!s.fallback) {
        std::string where;
        for (const auto& d : profile_dirs(r.file())) where += (where.empty() ? "" : ", ") + d;
        r.error(r.child(source, "profile"), std::string("profile: auto falls back to ") + kFallbackProfile +
                                                ".yaml, found in none of " + where);
      }
      return;
    }
    std::vector<std::string> tried;
    const auto file = find_profile(*value, r.file(), tried);
    if (!file) {
      std::string where;
      for (const auto& t : tried) where += (where.empty() ? "" : ", ") + t;
      r.error(r.child(source, "profile"), "no profile '" + *value + "' (looked for " + where + ")");
      return;
    }
    if (profile_kind(*file) == ProfileKind::modbus) {
      r.error(r.child(source, "profile"), "profile '" + *value + "' (" + *file + ") is not an SNMP profile: it has "
                                                                             "no 'snmp:' mapping");
      return;
    }
    auto profile = load_snmp_profile(*file, r.diags());
    if (!profile) {
      r.error(r.child(source, "profile"), "profile '" + *value + "' (" + *file + ") has errors");
      return;
    }
    std::set<std::string> names;
    for (const auto& p : points) names.insert(p.name);
    for (std::size_t i = 0; i < profile->points.size(); ++i) {
      if (!names.insert(profile->points[i].name).second) {
        r.error(r.child(source, "points"), "point '" + profile->points[i].name + "' is also a point of profile '" +
                                               *value + "'; give yours another name");
        continue;
      }
      points.push_back(profile->points[i]);
      s.points.push_back(profile->oids[i]);
    }
    s.profile = std::make_shared<const SnmpProfile>(std::move(*profile));
  }

  static void parse_credentials(const YAML::Node& source, ConfigReader& r, Credentials& c) {
    std::string version = "2c";
    if (auto v = r.string(source, "version")) version = *v;
    if (version == "2c") {
      c.version = Version::v2c;
      if (auto v = secret(source, "community_file", r)) c.community = std::move(*v);
      for (const char* key : {"user", "security", "auth", "priv", "context"}) {
        if (r.child(source, key).IsDefined()) {
          r.error(r.child(source, key), std::string("'") + key + "' is for SNMPv3 ('version: 3'); v2c has a community_file");
        }
      }
      return;
    }
    if (version != "3") {
      r.error(r.child(source, "version"), "'version' must be 2c or 3, found '" + version + "'");
      return;
    }
    c.version = Version::v3;
    if (r.child(source, "community_file").IsDefined()) {
      r.error(r.child(source, "community_file"), "'community_file' is for SNMPv2c; SNMPv3 has a user and keys");
    }
    if (auto v = r.string(source, "user", true)) c.user = *v;
    if (auto v = r.string(source, "context")) c.context = *v;
    const auto auth = r.child(source, "auth");
    const auto priv = r.child(source, "priv");
    if (auth.IsDefined()) parse_key(auth, "auth", r, c);
    if (priv.IsDefined()) {
      if (!auth.IsDefined()) r.error(priv, "'priv' needs 'auth': USM encrypts only authenticated messages");
      parse_key(priv, "priv", r, c);
    }
    c.level = priv.IsDefined() ? SecurityLevel::auth_priv
              : auth.IsDefined() ? SecurityLevel::auth_no_priv
                                 : SecurityLevel::no_auth_no_priv;
    if (auto v = r.string(source, "security")) {
      const SecurityLevel given = *v == "authPriv"       ? SecurityLevel::auth_priv
                                  : *v == "authNoPriv"   ? SecurityLevel::auth_no_priv
                                  : *v == "noAuthNoPriv" ? SecurityLevel::no_auth_no_priv
                                                         : c.level;
      if (*v != "authPriv" && *v != "authNoPriv" && *v != "noAuthNoPriv") {
        r.error(r.child(source, "security"), "'security' must be noAuthNoPriv, authNoPriv or authPriv, found '" + *v + "'");
      } else if (given != c.level) {
        r.error(r.child(source, "security"), "'security: " + *v + "' does not match the keys given (" +
                                                 security_level_name(c.level) +
                                                 "): authNoPriv needs 'auth', authPriv 'auth' and 'priv'");
      }
    }
  }

  static void parse_key(const YAML::Node& node, const char* which, ConfigReader& r, Credentials& c) {
    const bool is_auth = std::string_view(which) == "auth";
    if (!node.IsMap()) {
      r.error(node, std::string("'") + which + "' must be a mapping: {protocol: " + (is_auth ? "SHA-256" : "AES") +
                        ", passphrase_file: /etc/rackwatch/snmp-" + which + "}");
      return;
    }
    r.check_keys(node, {"protocol", "passphrase_file"}, std::string("'") + which + "'");
    if (auto v = r.string(node, "protocol", true)) {
      if (is_auth) {
        if (auto p = auth_protocol(*v)) {
          c.auth = *p;
        } else {
          r.error(r.child(node, "protocol"), "auth 'protocol' must be MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512, found '" + *v + "'");
        }
      } else if (auto p = priv_protocol(*v)) {
        c.priv = *p;
      } else {
        r.error(r.child(node, "protocol"), "priv 'protocol' must be DES, AES (AES-128), AES-192 or AES-256, found '" + *v + "'");
      }
    }
    if (auto v = secret(node, "passphrase_file", r)) {
      if (v->size() < kMinPassphrase) {
        r.error(r.child(node, "passphrase_file"), std::string(which) + " passphrase in '" +
                                                      node["passphrase_file"].Scalar() + "' is shorter than 8 characters");
      }
      (is_auth ? c.auth_passphrase : c.priv_passphrase) = std::move(*v);
    }
  }
};

}  // namespace

const SourceType& snmp_source_type() {
  static const SnmpSourceType type;
  return type;
}

}  // namespace rackwatch::snmp
