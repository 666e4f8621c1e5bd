#include "core/mqtt_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/bounded_file.hpp"
#include "core/config_reader.hpp"
#include "core/hash.hpp"

namespace rackwatch {
namespace {

constexpr std::size_t kMaxSecretBytes = 4096;
constexpr std::size_t kMaxTlsFileBytes = 1 << 20;  // a CA bundle is ~200 KiB

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

SecretFile read_bounded(const std::string& path, std::size_t limit) {
  auto file = read_bounded_file(path, limit);
  return {std::move(file.text), std::move(file.error)};
}

// `tls:` — how to reach ssl:// brokers. Present by default (the system's CA
// bundle, verification on) as soon as a broker is ssl://.
void parse_tls(const YAML::Node& mqtt, ConfigReader& r, MqttConfig& out) {
  bool any_tls = false;
  for (const auto& b : out.brokers) any_tls = any_tls || is_tls_uri(b);
  const auto node = r.child(mqtt, "tls");
  const bool given = node.IsDefined() && !node.IsNull();
  if (given && !node.IsMap()) {
    r.error(node, "'tls' must be a mapping with ca_file, cert_file, key_file, ...");
    return;
  }
  if (given) {
    r.check_keys(node, {"ca_file", "cert_file", "key_file", "key_password_file", "min_version", "verify"},
                 "mqtt tls");
    if (!any_tls) r.error(node, "'tls' is set but no broker is ssl:// or mqtts://");
  }
  if (!any_tls) return;
  TlsConfig t;
  t.ca_file = kSystemCaBundle;
  auto mark = [&](std::string_view key) { return given ? r.child(node, key) : mqtt; };
  std::uint64_t hash = kFnv1aOffset;
  // Files are read now: a missing one is a config error, and their contents
  // decide whether a reload must reconnect (a rotated certificate).
  auto take_file = [&](std::string_view key, std::string& dst, bool secret) {
    if (given) {
      if (auto v = r.string(node, key)) dst = *v;
    }
    if (dst.empty()) return;
    if (secret) {
      if (auto problem = private_file_problem(dst); !problem.empty()) {
        r.error(mark(key), std::string(key) + " '" + dst + "': " + problem);
        return;
      }
    }
    auto content = read_bounded(dst, kMaxTlsFileBytes);
    if (!content.value) {
      r.error(mark(key), std::string(key) + " '" + dst + "': " + content.error);
      return;
    }
    hash = fnv1a(*content.value, fnv1a(dst, hash));
    // Read only to fingerprint it: a private key leaves no copy behind.
    if (secret) ::explicit_bzero(content.value->data(), content.value->size());
  };
  take_file("ca_file", t.ca_file, false);
  take_file("cert_file", t.cert_file, false);
  take_file("key_file", t.key_file, true);
  if (t.cert_file.empty() != t.key_file.empty()) {
    r.error(mark(t.cert_file.empty() ? "key_file" : "cert_file"),
            "'cert_file' and 'key_file' go together: the client certificate and its private key");
  }
  if (given) {
    if (auto v = r.string(node, "key_password_file")) {
      auto secret = read_secret_file(*v);
      if (secret.value) {
        t.key_password = std::move(*secret.value);
      } else {
        r.error(r.child(node, "key_password_file"), "key password file '" + *v + "': " + secret.error);
      }
      if (t.key_file.empty()) r.error(r.child(node, "key_password_file"), "'key_password_file' needs 'key_file'");
    }
    if (auto v = r.string(node, "min_version")) {
      if (*v == "1.2" || *v == "1.3") {
        t.min_version = *v == "1.3" ? TlsVersion::v1_3 : TlsVersion::v1_2;
      } else {
        r.error(r.child(node, "min_version"), "'min_version' must be \"1.2\" or \"1.3\", found '" + *v + "'");
      }
    }
    if (auto v = r.boolean(node, "verify")) t.verify = *v;
  }
  t.files_hash = hash;
  out.tls = std::move(t);
}

}  // namespace

bool is_tls_uri(const std::string& uri) { return uri.rfind("ssl://", 0) == 0 || uri.rfind("mqtts://", 0) == 0; }

BrokerUri parse_broker_uri(const std::string& uri) {
  BrokerUri out;
  const auto sep = uri.find("://");
  const std::string scheme = sep == std::string::npos ? std::string() : uri.substr(0, sep);
  if (scheme == "ssl" || scheme == "mqtts") {
    out.tls = true;
  } else if (scheme != "tcp" && scheme != "mqtt") {
    out.error = "broker '" + uri + "' must start with tcp://, mqtt:// (plain) or ssl://, mqtts:// (TLS)";
    return out;
  }
  const std::string rest = uri.substr(sep + 3);
  std::string host;
  std::string port;
  std::size_t after_host = 0;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      out.error = "broker '" + uri + "': an IPv6 address needs its closing ']'";
      return out;
    }
    host = rest.substr(1, close - 1);
    after_host = close + 1;
  } else {
    after_host = std::min(rest.find(':'), rest.size());
    host = rest.substr(0, after_host);
  }
  if (after_host < rest.size()) {
    if (rest[after_host] != ':') {
      out.error = "broker '" + uri + "': expected ':PORT' or nothing after the host, found '" +
                  rest.substr(after_host) + "'";
      return out;
    }
    port = rest.substr(after_host + 1);
  }
  if (host.empty() || host.find_first_of("/?# ") != std::string::npos) {
    out.error = "broker '" + uri + "': expected scheme://HOST[:PORT], with no path";
    return out;
  }
  if (port.empty()) {
    port = out.tls ? kMqttTlsPort : kMqttPort;
    out.port_defaulted = true;
  } else {
    const bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoul(port) == 0 || std::stoul(port) > 65535) {
      out.error = "broker '" + uri + "': port '" + port + "' is not a number from 1 to 65535";
      return out;
    }
  }
  out.address = {host, port};
  const bool v6 = host.find(':') != std::string::npos;
  out.uri = scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + port;
  return out;
}

std::string private_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if ((st.st_mode & S_IRWXO) != 0) {
    // Say what others may do: readable leaks it, writable lets it be replaced.
    std::string may;
    if (st.st_mode & S_IROTH) may = "readable";
    if (st.st_mode & S_IWOTH) may += may.empty() ? "writable" : " and writable";
    if (may.empty()) may = "open (executable)";
    return may + " by other users (mode " + mode_text(st.st_mode) +
           "); allow the owner and the service's group only, e.g. chmod 0640";
  }
  return {};
}

SecretFile read_secret_file(const std::string& path) {
  if (auto problem = private_file_problem(path); !problem.empty()) return {std::nullopt, problem};
  auto file = read_bounded(path, kMaxSecretBytes);
  if (!file.value) {
    if (file.error.rfind("larger than", 0) == 0) file.error += "; expected one line";
    return file;
  }
  const auto eol = file.value->find_first_of("\r\n");
  if (eol != std::string::npos) file.value->resize(eol);
  return file;
}

namespace {

// A Sparkplug id is one topic level: not empty, no '/', '+' or '#'.
void sparkplug_id(const YAML::Node& node, ConfigReader& r, std::string_view key, std::string& out) {
  auto v = r.string(node, key);
  if (!v) return;
  if (v->empty() || v->find_first_of("/+#") != std::string::npos) {
    r.error(r.child(node, key), "'" + std::string(key) + "' must be a non-empty Sparkplug id without '/', '+' or '#', found '" + *v + "'");
    return;
  }
  out = *v;
}

// `format` and, for Sparkplug B, its ids and the session it requires
// (MQTT 3.1.1 with a clean session).
void parse_format(const YAML::Node& node, ConfigReader& r, MqttConfig& out) {
  if (auto v = r.string(node, "format")) {
    if (*v == "native" || *v == "sparkplug") {
      out.format = *v == "sparkplug" ? MqttFormat::sparkplug : MqttFormat::native;
    } else {
      r.error(r.child(node, "format"), "'format' must be \"native\" or \"sparkplug\", found '" + *v + "'");
    }
  }
  const auto sp = r.child(node, "sparkplug");
  if (sp.IsDefined()) {
    if (!sp.IsMap()) {
      r.error(sp, "'sparkplug' must be a mapping with group_id, edge_node_id, primary_host_id and qos");
    } else {
      r.check_keys(sp, {"group_id", "edge_node_id", "primary_host_id", "qos"}, "mqtt.sparkplug");
      sparkplug_id(sp, r, "group_id", out.sparkplug.group_id);
      sparkplug_id(sp, r, "edge_node_id", out.sparkplug.edge_node_id);
      sparkplug_id(sp, r, "primary_host_id", out.sparkplug.primary_host_id);
      if (auto q = r.integer(sp, "qos")) {
        if (*q == 0 || *q == 1) {
          out.sparkplug.qos = static_cast<int>(*q);
        } else {
          r.error(r.child(sp, "qos"), "'qos' must be 0 (as Sparkplug 3.0 asks) or 1 (the default: a reading leaves "
                                      "the outbox only once the broker has it), found " + std::to_string(*q));
        }
      }
    }
    if (out.format != MqttFormat::sparkplug) {
      r.error(sp, "'sparkplug' is set but 'format' is not sparkplug");
    }
  }
  if (out.format != MqttFormat::sparkplug) return;
  if (out.protocol == MqttProtocol::v5) {
    r.error(r.child(node, "protocol"), "format sparkplug runs on MQTT 3.1.1: remove 'protocol' or set it to \"3.1.1\"");
  }
  if (r.child(node, "clean_session").IsDefined() && !out.clean_session) {
    r.error(r.child(node, "clean_session"), "format sparkplug needs a clean session: remove 'clean_session' or set it to true");
  }
  out.clean_session = true;
}

}  // namespace

void parse_mqtt(const YAML::Node& node, ConfigReader& r, MqttConfig& out) {
  if (!node.IsDefined()) {
    r.error(node, "missing required section 'mqtt' (at least: brokers)");
    return;
  }
  if (!node.IsMap()) {
    r.error(node, "'mqtt' must be a mapping");
    return;
  }
  r.check_keys(node,
               {"brokers", "client_id", "username", "password", "password_file", "keepalive",
                "connect_timeout", "reconnect_min", "reconnect_max", "prefix", "clean_session",
                "status_interval", "tls", "protocol", "format", "sparkplug"},
               "mqtt");
  if (auto b = r.string_list(node, "brokers", true)) {
    if (b->empty()) r.error(r.child(node, "brokers"), "'brokers' must list at least one broker");
    if (b->size() > 16) r.error(r.child(node, "brokers"), "'brokers' lists " + std::to_string(b->size()) + "; at most 16");
    // Kept with the port made explicit: logs and status then say what was tried.
    out.brokers.clear();
    const auto list = r.child(node, "brokers");
    for (std::size_t i = 0; i < b->size(); ++i) {
      auto parsed = parse_broker_uri((*b)[i]);
      if (!parsed.error.empty()) {
        // At the URI itself when the list is a YAML sequence.
        r.error(list.IsSequence() ? list[i] : list, parsed.error);
      } else {
        out.brokers.push_back(std::move(parsed.uri));
      }
    }
  }
  if (auto v = r.string(node, "client_id")) out.client_id = *v;
  if (auto v = r.string(node, "username")) out.username = *v;
  if (r.child(node, "password").IsDefined()) {
    // A config is read by many (check-config, backups, support bundles).
    r.error(r.child(node, "password"),
            "'password' must not be written in the config: put it in a file of its own, readable "
            "only by the service (mode 0600 or 0640), and name it with 'password_file'");
  }
  if (auto v = r.string(node, "password_file")) {
    auto secret = read_secret_file(*v);
    if (secret.value) {
      out.password = std::move(*secret.value);
    } else {
      r.error(r.child(node, "password_file"), "password file '" + *v + "': " + secret.error);
    }
  }
  auto ranged = [&](std::string_view key, Millis lo, Millis hi, Millis& dst) {
    if (auto d = r.duration(node, key)) {
      if (*d < lo || *d > hi) {
        r.error(r.child(node, key), "'" + std::string(key) + "' must be between " +
                                        std::to_string(lo.count()) + "ms and " +
                                        std::to_string(hi.count()) + "ms");
      } else {
        dst = *d;
      }
    }
  };
  ranged("keepalive", Millis{1'000}, Millis{3'600'000}, out.keepalive);
  ranged("connect_timeout", Millis{100}, Millis{300'000}, out.connect_timeout);
  ranged("reconnect_min", Millis{10}, Millis{600'000}, out.reconnect_min);
  ranged("reconnect_max", Millis{10}, Millis{3'600'000}, out.reconnect_max);
  if (out.reconnect_max < out.reconnect_min) {
    r.error(r.child(node, "reconnect_max"), "'reconnect_max' must not be below 'reconnect_min'");
  }
  if (auto v = r.string(node, "prefix")) {
    const bool bad = v->empty() || v->front() == '/' || v->back() == '/' ||
                     v->find_first_of("#+") != std::string::npos;
    if (bad) {
      r.error(r.child(node, "prefix"),
              "'prefix' must be a topic without wildcards (#, +) or leading/trailing '/'");
    } else {
      out.prefix = *v;
    }
  }
  if (auto v = r.boolean(node, "clean_session")) out.clean_session = *v;
  if (auto v = r.string(node, "protocol")) {
    if (*v == "3.1.1" || *v == "5") {
      out.protocol = *v == "5" ? MqttProtocol::v5 : MqttProtocol::v3_1_1;
    } else {
      r.error(r.child(node, "protocol"), "'protocol' must be \"3.1.1\" or \"5\", found '" + *v + "'");
    }
  }
  ranged("status_interval", Millis{1'000}, Millis{3'600'000}, out.status_interval);
  parse_tls(node, r, out);
  parse_format(node, r, out);
}

}  // namespace rackwatch
