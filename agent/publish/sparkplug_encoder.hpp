// Sparkplug B payloads made from our canonical records: pure functions of
// the catalog, the records, the numbers (seq, bdSeq) and the time given.
// Which message carries what is decided here; when and in which order they
// are sent is SparkplugWire's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rackwatch {

namespace v1 {
class AlarmEvent;
class Catalog;
class Telemetry;
}  // namespace v1

// Metric names the node itself births and is commanded by.
inline constexpr const char* kBdSeqMetric = "bdSeq";
inline constexpr const char* kRebirthMetric = "Node Control/Rebirth";

// Sparkplug data type codes we use (spec 6.4.16).
enum class SparkplugType : std::uint32_t { uint64 = 8, double_ = 10, boolean = 11 };

// A point's alarm limits, as the catalog gives them (in its unit).
struct SparkplugLimits {
  std::optional<double> low_critical;
  std::optional<double> low_caution;
  std::optional<double> high_caution;
  std::optional<double> high_critical;
  std::optional<double> alarm_when;  // a boolean point's alarm state
  double hysteresis = 0;
  bool any() const { return low_critical || low_caution || high_caution || high_critical || alarm_when; }
};

// One catalog point as a Sparkplug metric.
struct SparkplugMetric {
  std::uint32_t point = 0;     // index into the catalog
  std::string name;            // birth name: the point's name within its device
  std::uint64_t alias = 0;     // unique across the node and its devices: point index + 1
  SparkplugType type = SparkplugType::double_;
  std::string unit;            // engineering units ("W", "°C"); empty for none
  std::string description;     // the catalog's, in the birth's metadata
  std::string quantity;        // power, temperature, ...
  std::string location;
  SparkplugLimits limits;
};

// A catalog as Sparkplug sees it: derived points on the node, each
// source's points on its device, in catalog order.
struct SparkplugLayout {
  struct Device {
    std::string name;  // the source
    std::vector<SparkplugMetric> metrics;
  };
  std::string catalog_id;
  std::vector<SparkplugMetric> node;
  std::vector<Device> devices;
  // By point index: its device's index in `devices`, or -1 for the node.
  std::vector<int> device_of;
  std::vector<SparkplugType> type_of;  // by point index
  std::unordered_map<std::string, std::uint32_t> index_of;  // point id → index

  const SparkplugMetric& metric(std::uint32_t point) const;  // point < device_of.size()
};
SparkplugLayout sparkplug_layout(const v1::Catalog& catalog);

// The last value the node said of a point, for births.
struct SparkplugValue {
  bool known = false;  // false: is_null
  double value = 0;
  int quality = 0;     // rackwatch.v1.Quality
  std::int64_t time_ms = 0;
  std::string alarm;   // its active alarm conditions ("high_critical", comma-separated); empty: none
};

// NBIRTH: bdSeq, Node Control/Rebirth = false and every node metric.
std::string sparkplug_node_birth(const SparkplugLayout& layout, const std::vector<SparkplugValue>& last,
                                 std::uint64_t bd_seq, std::uint64_t seq, std::int64_t now_ms);
// DBIRTH of device `device` (an index into layout.devices).
std::string sparkplug_device_birth(const SparkplugLayout& layout, std::size_t device,
                                   const std::vector<SparkplugValue>& last, std::uint64_t seq,
                                   std::int64_t now_ms);
// NDEATH: bdSeq only.
std::string sparkplug_node_death(std::uint64_t bd_seq, std::int64_t now_ms);
// DDEATH: seq only.
std::string sparkplug_device_death(std::uint64_t seq, std::int64_t now_ms);

// One telemetry record's samples split by where they belong: device index
// (-1: the node) → an NDATA/DDATA payload of metrics by alias. `historical`
// marks them is_historical (stored before this connection).
struct SparkplugData {
  int device = -1;
  std::string payload;
};
std::vector<SparkplugData> sparkplug_data(const SparkplugLayout& layout, const v1::Telemetry& telemetry,
                                          bool historical, std::uint64_t first_seq, std::int64_t now_ms);

// An alarm event of point `point` (an index into the layout's catalog) as
// an NDATA/DDATA metric: the value that decided it (null when none) and the
// properties alarmEvent ("raised high_critical"), alarmMessage and, when
// `active` is given, alarm: the point's active conditions after it.
SparkplugData sparkplug_alarm(const SparkplugLayout& layout, std::uint32_t point, const v1::AlarmEvent& event,
                              const std::string* active, bool historical, std::uint64_t seq, std::int64_t now_ms);

// The metric values of a Sparkplug quality property (OPC quality codes, as
// SCADA hosts read them): good 192, uncertain 64, bad 0.
std::int32_t sparkplug_quality(int quality);

// Whether `payload` (an NCMD) sets Node Control/Rebirth to true.
bool sparkplug_rebirth_requested(const std::string& payload);

}  // namespace rackwatch
