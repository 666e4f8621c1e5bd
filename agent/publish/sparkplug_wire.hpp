// Sparkplug B 3.0 on the wire (mqtt.format: sparkplug): the agent as an
// edge node, each source a device, derived points on the node. Numbers
// what a session sends (seq) and each connect (bdSeq), births every metric
// with its alias, sends data by alias, and marks replayed telemetry
// is_historical with its original timestamps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "publish/sparkplug_bdseq.hpp"
#include "publish/sparkplug_encoder.hpp"
#include "publish/sparkplug_topics.hpp"
#include "publish/wire_format.hpp"

namespace rackwatch {

namespace v1 {
class Telemetry;
}

class SparkplugWire final : public WireFormat {
 public:
  // Now, in ms since the Unix epoch.
  using Now = std::function<std::int64_t()>;

  SparkplugWire(const SparkplugConfig& ids, std::string bdseq_path, Now now);

  // NDEATH with the next bdSeq: each connect takes one.
  Message will(const Record& offline) override;
  // NBIRTH (seq 0) then a DBIRTH per device, from the catalog in `state`.
  std::vector<Message> birth(const std::vector<Record>& state) override;
  // A state record (status, catalog, alarms) sends nothing; a catalog whose
  // points changed asks for a rebirth.
  std::optional<Message> encode(const Record& record, bool replayed) override;
  // Telemetry: a DDATA for its source's points, an NDATA for derived ones.
  std::vector<Message> encode_all(const Record& record, bool replayed) override;
  // NDEATH with this connect's bdSeq, before an intentional disconnect.
  std::optional<Message> death(const Record& offline) override;
  // NCMD of the node and DCMD of its devices.
  std::vector<std::string> subscriptions() const override;
  // An NCMD with Node Control/Rebirth = true asks for a rebirth.
  void inbound(const Message& message) override;

  std::uint64_t bd_seq() const { return bd_seq_; }
  const SparkplugTopics& topics() const { return topics_; }
  // Telemetry records skipped because they were made for another catalog
  // (stored before a restart with other points).
  std::uint64_t skipped() const { return skipped_; }

 private:
  std::uint64_t take_seq();
  void remember(const v1::Telemetry& telemetry);

  SparkplugTopics topics_;
  BdSeqFile bdseq_file_;
  Now now_;
  std::uint64_t bd_seq_ = 0;
  std::uint64_t seq_ = 0;  // the next message's
  bool have_layout_ = false;
  SparkplugLayout layout_;
  std::vector<SparkplugValue> last_;  // by point index
  std::uint64_t skipped_ = 0;
};

}  // namespace rackwatch
