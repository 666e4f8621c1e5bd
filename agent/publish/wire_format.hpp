// The seam between what the agent keeps and what the broker sees: a wire
// format turns stored records into MQTT messages at send time, and makes
// the will, the birth and the death of each connection. Native rackwatch.v1
// is nearly the identity; a format that numbers messages per session or per
// connect (Sparkplug B's seq and bdSeq) does its numbering here.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "publish/message.hpp"
#include "publish/record.hpp"

namespace rackwatch {

class WireFormat {
 public:
  virtual ~WireFormat() = default;

  // A connect is about to be attempted: the will the broker keeps for it,
  // made from the agent's offline status.
  virtual Message will(const Record& offline) = 0;
  // The connect succeeded: what opens the session, in order, from the
  // agent's state records (status online, catalog, active alarms).
  virtual std::vector<Message> birth(const std::vector<Record>& state) = 0;
  // A record as it is sent now. `replayed`: it was stored before this
  // connection. nullopt: this format has nothing to send for it (it is
  // then acknowledged as delivered).
  virtual std::optional<Message> encode(const Record& record, bool replayed) = 0;
  // The same for a record a format may split over several messages (a
  // Sparkplug poll with a device's and the node's points): empty when it
  // has nothing to send. The record is delivered when all are acknowledged.
  virtual std::vector<Message> encode_all(const Record& record, bool replayed) {
    auto m = encode(record, replayed);
    if (!m) return {};
    return {std::move(*m)};
  }
  // Said before an intentional disconnect.
  virtual std::optional<Message> death(const Record& offline) = 0;

  // Topic filters to subscribe to at each connect, before the birth.
  virtual std::vector<std::string> subscriptions() const { return {}; }
  // A message that arrived on one of them (on the agent's executor).
  virtual void inbound(const Message& message) { (void)message; }

  // The format wants its birth sent again on the current connection (a host
  // asked for it, the catalog changed): `request` is called, from inbound()
  // or encode*(), and its owner then sends birth() again, before anything else
  // it sends from then on. Never called by the native format.
  void on_rebirth(std::function<void()> request) { rebirth_ = std::move(request); }

 protected:
  void request_rebirth() {
    if (rebirth_) rebirth_();
  }

 private:
  std::function<void()> rebirth_;
};

// rackwatch.v1 on its own topics: a record goes out as it was stored.
class NativeWire final : public WireFormat {
 public:
  Message will(const Record& offline) override { return stored_form(offline); }
  std::vector<Message> birth(const std::vector<Record>& state) override;
  // A stored active-alarm set is replaced by the set in this connection's
  // birth: replaying it would bring back an older set (outboxes written
  // before the set stopped being stored can hold some).
  std::optional<Message> encode(const Record& record, bool replayed) override {
    if (replayed && record.kind == RecordKind::active_alarms) return std::nullopt;
    return stored_form(record);
  }
  std::optional<Message> death(const Record& offline) override { return stored_form(offline); }
};

}  // namespace rackwatch
