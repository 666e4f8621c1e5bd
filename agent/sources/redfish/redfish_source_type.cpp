// The `type: redfish` config keys: the service's URL, how to sign in (the
// password only from a file other users cannot read), how to trust its
// certificate, and how long and how much to wait for. Points are not
// configured: the source finds them on the service.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"
#include "core/mqtt_config.hpp"
#include "sources/device_config.hpp"
#include "sources/host_port.hpp"
#include "sources/redfish/redfish_settings.hpp"
#include "sources/redfish/redfish_source.hpp"

namespace rackwatch::redfish {

namespace {

using std::chrono::milliseconds;

constexpr long long kMinBody = 4 << 10;
constexpr long long kMaxBody = 64ll << 20;

// "https://host[:port][/]": the service; its root is always /redfish/v1/.
void parse_url(const YAML::Node& source, ConfigReader& r, RedfishSettings& s) {
  auto v = r.string(source, "url", true);
  if (!v) return;
  std::string rest;
  if (v->rfind("https://", 0) == 0) {
    s.scheme = Scheme::https;
    s.port = 443;
    rest = v->substr(8);
  } else if (v->rfind("http://", 0) == 0) {
    s.scheme = Scheme::http;
    s.port = 80;
    rest = v->substr(7);
  } else {
    r.error(r.child(source, "url"), "'url' must start with https:// or http://, found '" + *v + "'");
    return;
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto hp = rest.find('/') == std::string::npos ? parse_host_port(rest) : std::nullopt;
  if (!hp || hp->host.empty()) {
    r.error(r.child(source, "url"), "'url' must be SCHEME://HOST[:PORT] (the service root /redfish/v1/ is implied), "
                                    "found '" + *v + "'");
    return;
  }
  s.host = hp->host;
  if (hp->port) s.port = *hp->port;
}

void parse_auth(const YAML::Node& source, ConfigReader& r, RedfishSettings& s) {
  if (auto v = r.string(source, "auth")) {
    if (*v == "session") {
      s.auth = AuthKind::session;
    } else if (*v == "basic") {
      s.auth = AuthKind::basic;
    } else if (*v == "none") {
      s.auth = AuthKind::none;
    } else {
      r.error(r.child(source, "auth"), "'auth' must be session, basic or none, found '" + *v + "'");
      return;
    }
  }
  if (s.auth == AuthKind::none) {
    for (const char* key : {"user", "password_file"}) {
      if (r.child(source, key).IsDefined()) r.error(r.child(source, key), std::string("'") + key + "' needs 'auth: session' or 'auth: basic'");
    }
    return;
  }
  if (auto v = r.string(source, "user", true)) s.user = *v;
  auto path = r.string(source, "password_file", true);
  if (!path) return;
  auto file = read_secret_file(*path);
  if (!file.value) {
    r.error(r.child(source, "password_file"), "password_file '" + *path + "': " + file.error);
  } else if (file.value->empty()) {
    r.error(r.child(source, "password_file"), "password_file '" + *path + "' is empty");
  } else {
    s.password = std::move(*file.value);
  }
}

class RedfishSourceType final : public SourceType {
 public:
  std::string_view name() const override { return "redfish"; }
  std::vector<std::string_view> source_keys() const override {
    return {"url",      "auth",          "user",        "password_file", "ca_file",    "tls_verify",
            "max_body", "request_timeout", "expand",      "rediscover",    "dormant_after", "reprobe_min",
            "reprobe_max"};
  }
  std::vector<std::string_view> point_keys() const override { return {}; }
  bool points_optional() const override { return true; }

  std::shared_ptr<const SourceSettings> parse(const YAML::Node& source, const std::vector<YAML::Node>& point_nodes,
                                              std::vector<PointConfig>& points, ConfigReader& r) const override {
    (void)point_nodes;
    auto s = std::make_shared<RedfishSettings>();
    parse_url(source, r, *s);
    parse_auth(source, r, *s);
    if (auto v = r.string(source, "ca_file")) s->ca_file = *v;
    if (auto v = r.boolean(source, "tls_verify")) s->tls_verify = *v;
    if (s->scheme == Scheme::http) {
      for (const char* key : {"ca_file", "tls_verify"}) {
        if (r.child(source, key).IsDefined()) r.error(r.child(source, key), std::string("'") + key + "' is for https:// URLs");
      }
    }
    s->request_timeout = parse_step_timeout(source, "request_timeout", r, source_timeout(source));
    if (auto v = r.integer(source, "max_body")) {
      if (*v < kMinBody || *v > kMaxBody) {
        r.error(r.child(source, "max_body"), "'max_body' must be " + std::to_string(kMinBody) + ".." +
                                                 std::to_string(kMaxBody) + " bytes");
      } else {
        s->max_body = static_cast<std::size_t>(*v);
      }
    }
    if (auto v = r.boolean(source, "expand")) s->expand = *v;
    if (auto v = r.duration(source, "rediscover")) {
      if (v->count() != 0 && *v < std::chrono::minutes(1)) {
        r.error(r.child(source, "rediscover"), "'rediscover' must be 0 (never) or at least 1m: each walk reads the "
                                               "whole service");
      } else {
        s->rediscover = *v;
      }
    }
    parse_health_policy(source, r, s->health);
    if (!points.empty()) {
      r.error(r.child(source, "points"), "a redfish source finds its points on the service; leave out 'points'");
    }
    return s;
  }

  std::unique_ptr<Source> create(const SourceConfig& config, const SourceEnv& env) const override {
    auto settings = std::dynamic_pointer_cast<const RedfishSettings>(config.settings);
    if (!settings) throw std::invalid_argument("redfish source '" + config.name + "' has no valid settings");
    return std::make_unique<RedfishSource>(config, std::move(settings), env.executor);
  }
};

}  // namespace

const SourceType& redfish_source_type() {
  static const RedfishSourceType type;
  return type;
}

}  // namespace rackwatch::redfish
