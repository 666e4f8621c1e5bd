// Sparkplug B 3.0 on the wire (mqtt.format: sparkplug): the agent as an
// edge node, each source a device, derived points on the node. Numbers
// what a session sends (seq) and each connection (bdSeq), births every
// metric with its alias, sends data by alias, marks replayed telemetry
// is_historical with its original timestamps, says a dormant device's
// death and its rebirth, and waits for a primary host to be online.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "publish/sparkplug_bdseq.hpp"
#include "publish/sparkplug_catalogs.hpp"
#include "publish/sparkplug_encoder.hpp"
#include "publish/sparkplug_topics.hpp"
#include "publish/wire_format.hpp"

namespace rackwatch {

namespace v1 {
class AlarmEvent;
class Catalog;
class Telemetry;
}  // namespace v1

class SparkplugWire final : public WireFormat {
 public:
  // Now, in ms since the Unix epoch.
  using Now = std::function<std::int64_t()>;

  SparkplugWire(const SparkplugConfig& config, std::string bdseq_path, Now now);

  // NDEATH with the next bdSeq: each connection takes one.
  Message will(const Record& offline) override;
  // The connection of the last will() is up: its bdSeq is kept.
  void connected() override;
  // Without a primary host, at once; with one, once its STATE says online.
  bool may_birth() const override { return host_id_.empty() || host_.online; }
  // NBIRTH (seq 0), a DBIRTH per device, then a DDEATH per dormant device,
  // from the catalog and the active alarms in `state`.
  std::vector<Message> birth(const std::vector<Record>& state) override;
  // Telemetry: a DDATA for its source's points, an NDATA for derived ones.
  // An alarm: its point's metric with the alarm's properties. A catalog
  // sent fresh with other points: the births again, with its aliases.
  std::vector<Message> encode_all(const Record& record, bool replayed) override;
  std::optional<Message> encode(const Record& record, bool replayed) override;
  // NDEATH with this connection's bdSeq, before an intentional disconnect.
  std::optional<Message> death(const Record& offline) override;
  // DDEATH when a device goes dormant, DBIRTH when it answers again.
  std::vector<Message> device_state(const std::string& source, bool alive) override;
  // NCMD and DCMD; the primary host's STATE when there is one.
  std::vector<std::string> subscriptions() const override;
  // NCMD Node Control/Rebirth = true; the primary host's STATE.
  void inbound(const Message& message) override;

  std::uint64_t bd_seq() const { return bd_seq_; }
  const SparkplugTopics& topics() const { return topics_; }
  std::string state_topic() const;
  // Telemetry records not sent: made for a catalog this node never saw
  // (an outbox written by an older version).
  std::uint64_t skipped() const { return skipped_; }
  // Samples and alarms not sent: their point is no longer configured.
  std::uint64_t unmapped() const { return unmapped_; }

 private:
  std::uint64_t take_seq();
  void adopt(const v1::Catalog& catalog);
  std::vector<Message> births();
  std::vector<Message> telemetry(const Record& record, bool replayed);
  std::vector<Message> alarm(const Record& record, bool replayed);
  void remember(const v1::Telemetry& telemetry);
  void drop_dormant(v1::Telemetry& telemetry) const;
  void host_state(const std::string& payload);
  int device_index(const std::string& source) const;

  SparkplugTopics topics_;
  std::string host_id_;
  int qos_;
  BdSeqFile bdseq_file_;
  Now now_;
  std::uint64_t bd_seq_ = 0;
  std::uint64_t seq_ = 0;  // the next message's
  bool born_ = false;      // the births went out on this connection
  bool have_layout_ = false;
  SparkplugLayout layout_;
  SparkplugCatalogs catalogs_;
  std::vector<SparkplugValue> last_;  // by point index of layout_
  std::set<std::string> dormant_;     // devices said dead
  std::map<std::string, std::set<std::string>> alarms_;  // point id → active conditions
  struct Host {
    bool online = false;
    std::int64_t timestamp = -1;  // of the last STATE heard; older ones are ignored
  } host_;
  std::uint64_t skipped_ = 0;
  std::uint64_t unmapped_ = 0;
};

}  // namespace rackwatch
