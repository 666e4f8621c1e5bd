// The agent's configuration as validated structs. Loaded from YAML by
// load_config(); every problem found is reported with FILE:LINE:COL.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/threshold_config.hpp"
#include "core/units.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;
class SourceParsers;
namespace expr {
class Expression;
}

using Millis = std::chrono::milliseconds;

// Enum-like config values: checked when the file is read, named here once.
enum class FsyncPolicy : std::uint8_t {
  always,    // every append is on disk before append() returns
  interval,  // the outbox is synced every fsync_interval
  never,     // left to the kernel
};
enum class MqttProtocol : std::uint8_t { v3_1_1, v5 };
// What the agent's messages look like on the broker (publish/wire_format.hpp).
enum class MqttFormat : std::uint8_t { native, sparkplug };
enum class TlsVersion : std::uint8_t { v1_2, v1_3 };

std::string_view fsync_policy_name(FsyncPolicy p);  // as written in the config
std::string_view mqtt_protocol_name(MqttProtocol p);
std::string_view mqtt_format_name(MqttFormat f);
std::string_view tls_version_name(TlsVersion v);

struct AgentConfig {
  std::string site;
  std::string rack;
  std::string id;  // defaults to the host name
  friend bool operator==(const AgentConfig&, const AgentConfig&) = default;
};

// How to reach ssl:// brokers (see core/mqtt_config.hpp).
struct TlsConfig {
  std::string ca_file;       // the CA bundle the broker's certificate must chain to
  std::string cert_file;     // the agent's certificate (mutual TLS); empty: none
  std::string key_file;      // its private key
  std::string key_password;  // from key_password_file; empty: the key is not encrypted
  TlsVersion min_version = TlsVersion::v1_2;
  bool verify = true;        // false: no certificate or host name check (lab use only)
  std::uint64_t files_hash = 0;  // of the files' names and contents: a rotated certificate is a change
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// Sparkplug B 3.0 identity (mqtt.format: sparkplug): spBv1.0/{group_id}/.../{edge_node_id}.
struct SparkplugConfig {
  std::string group_id;         // defaults to the agent's site
  std::string edge_node_id;     // defaults to the agent's rack
  std::string primary_host_id;  // empty: no primary host application
  // Births, data and device deaths: 1 (the outbox lets a reading go once the
  // broker has it) or 0 (as Sparkplug 3.0 asks; let go once written out).
  int qos = 1;
  friend bool operator==(const SparkplugConfig&, const SparkplugConfig&) = default;
};

struct MqttConfig {
  std::vector<std::string> brokers;  // tried in turn: tcp://host:port, ssl://host:port
  std::string client_id;             // defaults to "rackwatch-{agent id}"
  std::string username;
  std::string password;
  Millis keepalive{30'000};
  Millis connect_timeout{10'000};
  Millis reconnect_min{1'000};
  Millis reconnect_max{60'000};
  std::string prefix = "rackwatch/v1";
  bool clean_session = false;  // persistent session: the broker keeps our state across reconnects
  // "3.1.1" or "5". Under 5 a broker can say no to a publish (an ACL), and
  // the agent keeps such messages and says so; 3.1.1 has no way to refuse.
  MqttProtocol protocol = MqttProtocol::v3_1_1;
  Millis status_interval{60'000};  // the retained status (with counters) is refreshed this often
  std::optional<TlsConfig> tls;      // set when a broker is ssl:// or mqtts://
  MqttFormat format = MqttFormat::native;
  SparkplugConfig sparkplug;         // for format sparkplug; ids filled in from agent when not set
  friend bool operator==(const MqttConfig&, const MqttConfig&) = default;
};

// Where messages wait for the broker (see publish/outbox.hpp).
struct OutboxConfig {
  std::string dir = "/var/lib/rackwatch/outbox";
  std::uint64_t max_bytes = 64ull << 20;
  FsyncPolicy fsync = FsyncPolicy::interval;
  Millis fsync_interval{200};
  SourceMark dir_mark;             // for messages about the directory
};

// The local diagnostic socket (see diag/diag_server.hpp).
struct DiagConfig {
  std::string socket = "/run/rackwatch/diag.sock";
  friend bool operator==(const DiagConfig&, const DiagConfig&) = default;
};

struct PointConfig {
  std::string name;
  std::string quantity;
  Unit unit = Unit::unspecified;
  DeviceUnit from;  // the device's unit; converted into `unit`
  double scale = 1.0;
  double offset = 0.0;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<double> invalid;  // raw values a device uses for "no value"
  std::string location;
  std::string description;
  std::optional<ThresholdConfig> thresholds;  // in the canonical unit
  // Report by exception (pipeline/report_filter.hpp); every sample is sent
  // when neither is set.
  std::optional<double> deadband;  // canonical unit, or per cent of the last value sent
  bool deadband_percent = false;
  std::optional<Millis> max_age;   // longest time without sending; default kDefaultMaxAge
  SourceMark mark;
};

inline constexpr Millis kDefaultMaxAge{60'000};

// Type-specific settings of a source, made by its SourceType.
class SourceSettings {
 public:
  virtual ~SourceSettings() = default;
  // True when they keep a secret in memory (an SNMP community or key).
  virtual bool holds_secrets() const { return false; }
  // True when the source finds more points on its device at run time (an
  // SNMP table's rows, a profile chosen by the device).
  virtual bool finds_points() const { return false; }
};

struct SourceConfig {
  std::string name;
  std::string type;
  Millis interval{10'000};
  Millis timeout{5'000};
  std::vector<PointConfig> points;
  std::shared_ptr<const SourceSettings> settings;
  std::string fingerprint;  // canonical text of the source's YAML: equal ⇔ unchanged
  SourceMark mark;
};

// A point computed from other points (see core/derived_config.hpp).
struct DerivedConfig {
  PointConfig point;  // name, unit, range, thresholds, ...: as for a polled point
  std::string expr;   // as written
  std::shared_ptr<const expr::Expression> expression;
  std::vector<std::size_t> sources;  // the sources it depends on, through derived points too
  Millis interval{0};                // the shortest interval of those sources
};

struct Config {
  std::string file;
  AgentConfig agent;
  MqttConfig mqtt;
  OutboxConfig outbox;
  DiagConfig diag;
  std::uint64_t content_hash = 0;  // FNV-1a of the file's text: says which version is running
  std::vector<SourceConfig> sources;
  std::vector<DerivedConfig> derived;      // in config order: their catalog order
  std::vector<std::size_t> derived_order;  // indices into `derived`, inputs before users
};

// 1-64 letters, digits, '-' or '_': names become topic levels and point ids.
bool valid_name(const std::string& s);

// The point keys every source type accepts, and their parsing: a source type
// that finds points elsewhere (a device profile) reads them alike.
extern const std::vector<std::string_view> kCommonPointKeys;
// `name_template`: the name may hold {part} placeholders (an SNMP table's
// point template), filled in for each row.
PointConfig parse_point_common(const YAML::Node& node, ConfigReader& reader, bool name_template = false);

// Bounds on what a config may hold: it is read by a privileged service and
// must not be able to exhaust it, whatever it says.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;  // as kMaxYamlBytes (config_reader.hpp)
inline constexpr std::size_t kMaxSources = 512;
inline constexpr std::size_t kMaxPointsPerSource = 10'000;
inline constexpr std::size_t kMaxListItems = 1'000;   // brokers, invalid values, ...
inline constexpr std::size_t kMaxTextBytes = 1'024;   // location, description

inline constexpr Millis kMinInterval{100};
inline constexpr Millis kMaxInterval{3'600'000};

// Loads and validates a config file; `types` are the source types it may
// name (the program's: sources/builtin/builtin_types.hpp). On any problem
// returns nullopt and `diags` holds every problem found, not only the first.
std::optional<Config> load_config(const std::string& path, const SourceParsers& types,
                                  Diagnostics& diags);

// Same, from text (the file name is used in messages only).
std::optional<Config> parse_config(const std::string& text, const std::string& file,
                                   const SourceParsers& types, Diagnostics& diags);

}  // namespace rackwatch
