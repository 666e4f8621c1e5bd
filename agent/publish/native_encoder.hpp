// Encodes the agent's status, catalog, telemetry and alarms as rackwatch.v1
// Protobuf records, addressed by their native topics: the canonical form the
// outbox keeps. Pure apart from reusing its own buffers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/device_info.hpp"
#include "core/reading.hpp"
#include "pipeline/thresholds.hpp"
#include "publish/record.hpp"
#include "publish/topics.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {

// Who is speaking: constant for the life of one agent process.
struct AgentIdentity {
  std::string agent_id;
  std::string site;
  std::string rack;
  std::string boot_id;
  std::string version;
  std::string hostname;
  TimePoint start_time{};
};

// Publishing-path counters carried in the status message.
struct StatusCounters {
  std::uint64_t messages_published = 0;
  std::uint64_t messages_dropped = 0;  // by a full outbox, or refused by the broker
  std::uint64_t telemetry_sequence = 0;
  struct Outbox {
    std::uint64_t pending = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t acknowledged = 0;
    std::uint64_t dropped = 0;
    std::uint64_t replayed = 0;
    std::uint64_t bytes_on_disk = 0;
    std::int64_t oldest_ms = 0;
    std::uint64_t skipped = 0;
    std::uint64_t write_errors = 0;
    std::uint64_t recovered = 0;
    std::uint64_t held = 0;
  } outbox;
  // Components that failed and were restarted; only those with restarts.
  struct Restarts {
    std::string component;
    std::uint64_t restarts = 0;
    std::string last_error;
    std::int64_t last_failure_ms = 0;
  };
  std::vector<Restarts> restarts;
};

// The outbox counters as the wire carries them (status, diag socket).
void fill_outbox_status(const StatusCounters::Outbox& in, v1::OutboxStatus& out);
void fill_restarts(const StatusCounters::Restarts& in, v1::ComponentRestarts& out);

class NativeEncoder {
 public:
  // The catalog message lists `catalog`'s points, in its order.
  NativeEncoder(const Config& config, const Catalog& catalog, AgentIdentity identity);
  NativeEncoder(const Config& config, AgentIdentity identity) : NativeEncoder(config, Catalog(config), std::move(identity)) {}
  ~NativeEncoder();
  NativeEncoder(const NativeEncoder&) = delete;
  NativeEncoder& operator=(const NativeEncoder&) = delete;

  const Topics& topics() const { return topics_; }
  const AgentIdentity& identity() const { return identity_; }
  // 16 hex digits identifying the list of points.
  const std::string& catalog_id() const { return catalog_id_; }

  Record status(bool online, const StatusCounters& counters, TimePoint now) const;
  // The catalog, with the devices that said what they are.
  Record catalog(TimePoint now) const;
  // What `source`'s device says it is (nothing: not known); true when that
  // changes the catalog message (its id stays: it covers the points only).
  bool set_device(const std::string& source, const std::optional<DeviceInfo>& info);
  const std::map<std::string, DeviceInfo>& devices() const;
  // An alarm event of catalog point `point` (QoS 1, not retained), and the
  // retained set of active ones.
  v1::AlarmEvent alarm_event(const AlarmEvent& event, std::uint32_t point, const std::string& point_id,
                             std::uint64_t sequence) const;
  Record alarm(const v1::AlarmEvent& event) const;
  Record active_alarms(const std::vector<v1::AlarmEvent>& active, TimePoint now) const;
  Record telemetry(const std::string& source, std::uint64_t sequence, TimePoint tick,
                    const std::vector<Sample>& samples);
  // The latest sample of every catalog point (`latest`, by index), with the
  // last telemetry sequence taken; retained, not stored.
  Record snapshot(const std::vector<Sample>& latest, std::uint64_t sequence, TimePoint now) const;

 private:
  struct Buffers;
  AgentIdentity identity_;
  Topics topics_;
  std::string catalog_id_;
  std::vector<std::string> sources_;  // in catalog order, for the devices' order
  std::unique_ptr<Buffers> buffers_;
};

// FNV-1a 64 of `bytes`, as 16 lowercase hex digits.
std::string fnv1a_hex(const std::string& bytes);

}  // namespace rackwatch
