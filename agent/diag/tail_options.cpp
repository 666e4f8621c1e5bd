#include "diag/tail_options.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/config_reader.hpp"
#include "core/mqtt_config.hpp"
#include "publish/sparkplug_topics.hpp"

namespace rackwatch::cli {

namespace {

// Empty when `path` is a regular file this user may read; otherwise why not.
std::string unreadable(const std::string& path) {
  // O_NONBLOCK: a FIFO must not hang the command.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::strerror(errno);
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  return regular ? std::string() : "not a regular file";
}

// `problem` and what to do about it, unless it says so already.
std::string with_hint(const std::string& problem, const std::string& hint) {
  return problem.find("; ") == std::string::npos ? problem + "; " + hint : problem;
}

// What the command line says, before it is laid over a config.
struct Given {
  std::string config;
  std::vector<std::string> brokers;
  std::optional<std::string> prefix, topic, username, password, password_file;
  std::optional<std::string> ca_file, cert_file, key_file, key_password_file;
  bool sparkplug = false;
  std::string sparkplug_group;  // empty: the config's group, or all
};

// What a config says of its agent's topics.
struct ConfigTopics {
  bool sparkplug = false;  // mqtt.format: sparkplug
  std::string group;       // mqtt.sparkplug.group_id (the site unless set)
  std::string rack;        // /{site}/{rack}/#
};

std::vector<std::string> sparkplug_filters(const std::string& group) {
  return {std::string(kSparkplugNamespace) + "/" + group + "/#", std::string(kSparkplugNamespace) + "/STATE/#"};
}

// Empty when `group` may stand in a subscription as one topic level.
std::string group_problem(const std::string& group) {
  if (group.empty()) return "is empty";
  if (group.find_first_of("/#") != std::string::npos) return "holds '/' or '#': it names one topic level";
  if (group.find('+') != std::string::npos && group != "+") return "holds '+': give + alone for all groups";
  return {};
}

bool any_tls_option(const Given& g) { return g.ca_file || g.cert_file || g.key_file || g.key_password_file; }

std::string first_tls_option(const Given& g) {
  return g.ca_file ? "--ca-file" : g.cert_file ? "--cert-file" : g.key_file ? "--key-file" : "--key-password-file";
}

// Takes the agent's broker settings from its config; false with `error` set.
bool take_config(const std::string& path, const SourceParsers& types, TailOptions& o, ConfigTopics& topics,
                 std::string& error) {
  Diagnostics diags;
  const auto config = load_config(path, types, diags);
  if (!config) {
    std::ostringstream out;
    diags.print(out);
    bool denied = false;
    for (const auto& d : diags.items()) denied = denied || d.message.find(std::strerror(EACCES)) != std::string::npos;
    out << "rackwatch tail: cannot take the broker settings from " << path << " (above): ";
    if (denied) {
      out << "it names files this user may not read; run as the agent's user or group (e.g. sudo -u rackwatch), "
             "or give the broker options on the command line\n";
    } else {
      out << "fix it (rackwatch check-config " << path << "), or give the broker options on the command line\n";
    }
    error = out.str();
    return false;
  }
  const auto& m = config->mqtt;
  o.brokers = m.brokers;
  o.prefix = m.prefix;
  topics.sparkplug = m.format == MqttFormat::sparkplug;
  topics.group = m.sparkplug.group_id;
  topics.rack = "/" + config->agent.site + "/" + config->agent.rack + "/#";
  o.username = m.username;
  o.password = m.password;
  o.tls = m.tls;
  o.connect_timeout = m.connect_timeout;
  return true;
}

// Lays the TLS options over what the config gave; false with `error` set.
bool take_tls(const Given& g, TailOptions& o, std::string& error) {
  bool any_tls = false;
  for (const auto& b : o.brokers) any_tls = any_tls || is_tls_uri(b);
  if (!any_tls) {
    if (any_tls_option(g)) {
      error = first_tls_option(g) + " is for TLS brokers, and " + o.brokers.front() +
              " is plain: name the broker's TLS port as ssl://HOST:PORT (8883 by default)";
      return false;
    }
    o.tls.reset();
    return true;
  }
  if (!o.tls) {
    o.tls.emplace();
    o.tls->ca_file = kSystemCaBundle;
  }
  auto& t = *o.tls;
  if (g.ca_file) t.ca_file = *g.ca_file;
  if (g.cert_file) t.cert_file = *g.cert_file;
  if (g.key_file) t.key_file = *g.key_file;
  auto check = [&](const std::optional<std::string>& given, const char* option, const char* what, bool secret) {
    if (!given) return true;
    auto problem = secret ? private_file_problem(*given) : std::string();
    if (problem.empty()) problem = unreadable(*given);
    if (problem.empty()) return true;
    error = std::string(option) + " '" + *given + "': " + with_hint(problem, what);
    return false;
  };
  if (!check(g.ca_file, "--ca-file", "name the CA certificate (PEM) that signed the broker's certificate", false) ||
      !check(g.cert_file, "--cert-file", "name this client's certificate (PEM), signed by a CA the broker trusts",
             false) ||
      !check(g.key_file, "--key-file", "name the private key (PEM) of --cert-file", true)) {
    return false;
  }
  if (t.cert_file.empty() != t.key_file.empty()) {
    error = std::string(t.cert_file.empty() ? "--key-file" : "--cert-file") +
            " needs " + (t.cert_file.empty() ? "--cert-file" : "--key-file") +
            ": the client certificate and its private key go together";
    return false;
  }
  if (g.key_password_file) {
    if (t.key_file.empty()) {
      error = "--key-password-file needs --key-file: it unlocks that key";
      return false;
    }
    auto secret = read_secret_file(*g.key_password_file);
    if (!secret.value) {
      error = "--key-password-file '" + *g.key_password_file + "': " +
              with_hint(secret.error, "name a file that holds the key's passphrase on its first line");
      return false;
    }
    t.key_password = std::move(*secret.value);
  }
  return true;
}

}  // namespace

std::optional<TailOptions> parse_tail_options(const Args& args, const SourceParsers& types, std::string& error) {
  TailOptions o;
  Given g;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--sparkplug") {
      g.sparkplug = true;
      // GROUP is optional: a next argument that is no option is it.
      if (i + 1 < args.size() && !args[i + 1].starts_with("-")) {
        g.sparkplug_group = args[++i];
        if (const auto problem = group_problem(g.sparkplug_group); !problem.empty()) {
          error = "--sparkplug '" + g.sparkplug_group + "': the group " + problem;
          return std::nullopt;
        }
      }
      continue;
    }
    if (a == "--help" || a == "-h") {
      o.help = true;
      return o;
    }
    static const char* const kWithValue[] = {
        "--broker",   "--prefix",    "--topic",    "--username",          "--password", "--password-file",
        "--ca-file",  "--cert-file", "--key-file", "--key-password-file", "--config",   "-c",
        "--count",    "--timeout",   "--hold",     "--catalog-cache"};
    bool known = false;
    for (const char* k : kWithValue) known = known || a == k;
    if (!known) {
      error = "unexpected argument '" + a + "'";
      return std::nullopt;
    }
    if (i + 1 >= args.size()) {
      error = a + " needs a value";
      return std::nullopt;
    }
    const auto& v = args[++i];
    if (a == "--broker") g.brokers.push_back(v);
    else if (a == "--prefix") g.prefix = v;
    else if (a == "--topic") g.topic = v;
    else if (a == "--username") g.username = v;
    else if (a == "--password") g.password = v;
    else if (a == "--password-file") g.password_file = v;
    else if (a == "--ca-file") g.ca_file = v;
    else if (a == "--cert-file") g.cert_file = v;
    else if (a == "--key-file") g.key_file = v;
    else if (a == "--key-password-file") g.key_password_file = v;
    else if (a == "--config" || a == "-c") g.config = v;
    else if (a == "--count") {
      try {
        o.count = std::stoll(v);
      } catch (const std::exception&) {
        o.count = 0;
      }
      if (o.count <= 0) {
        error = "--count needs a positive number, not '" + v + "'";
        return std::nullopt;
      }
    } else if (a == "--hold") {
      const auto hold = v == "0" ? std::optional<std::chrono::milliseconds>(0) : parse_duration(v);
      if (!hold || hold->count() < 0) {
        error = "--hold needs a duration such as 2s (0: do not hold), not '" + v + "'";
        return std::nullopt;
      }
      o.hold = *hold;
    } else if (a == "--catalog-cache") {
      std::error_code ec;
      if (!std::filesystem::is_directory(v, ec)) {
        error = "--catalog-cache '" + v + "': not a directory; create it first";
        return std::nullopt;
      }
      if (::access(v.c_str(), W_OK | X_OK) != 0) {
        error = "--catalog-cache '" + v + "': " + std::strerror(errno) + "; name a directory this user may write";
        return std::nullopt;
      }
      o.catalog_cache = v;
    } else if (a == "--timeout") {
      o.timeout = parse_duration(v);
      if (!o.timeout) {
        error = "--timeout needs a duration such as 10s, not '" + v + "'";
        return std::nullopt;
      }
    }
  }

  ConfigTopics from_config;
  if (!g.config.empty() && !take_config(g.config, types, o, from_config, error)) return std::nullopt;
  if (!g.brokers.empty()) o.brokers = g.brokers;
  if (o.brokers.empty()) {
    error = "which broker? give --broker URI, or --config FILE to use the agent's";
    return std::nullopt;
  }
  // As the agent reads them: checked, and the port made explicit.
  for (auto& b : o.brokers) {
    auto parsed = parse_broker_uri(b);
    if (!parsed.error.empty()) {
      error = parsed.error;
      return std::nullopt;
    }
    b = std::move(parsed.uri);
  }
  if (g.sparkplug && g.prefix) {
    error = "give --prefix (the native topics) or --sparkplug, not both";
    return std::nullopt;
  }
  if (g.prefix) o.prefix = *g.prefix;
  if (g.sparkplug) {
    const auto group = !g.sparkplug_group.empty() ? g.sparkplug_group
                       : g.config.empty()         ? std::string("+")
                                                  : from_config.group;
    o.filters = sparkplug_filters(group);
  } else if (from_config.sparkplug && !g.prefix) {
    o.filters = sparkplug_filters(from_config.group);
  } else {
    // The config's rack (under another prefix when given); otherwise all of it.
    o.filters = {o.prefix + (g.config.empty() ? "/#" : from_config.rack)};
  }
  if (g.topic) o.filters = {*g.topic};
  if (g.username) o.username = *g.username;
  if (g.password && g.password_file) {
    error = "give --password-file or --password, not both";
    return std::nullopt;
  }
  if (g.password) o.password = *g.password;
  if (g.password_file) {
    auto secret = read_secret_file(*g.password_file);
    if (!secret.value) {
      error = "--password-file '" + *g.password_file + "': " +
              with_hint(secret.error, "name a file that holds the broker password on its first line");
      return std::nullopt;
    }
    o.password = std::move(*secret.value);
  }
  if (!o.password.empty() && o.username.empty()) {
    error = "a password needs a user name: give --username";
    return std::nullopt;
  }
  if (!take_tls(g, o, error)) return std::nullopt;
  return o;
}

}  // namespace rackwatch::cli
