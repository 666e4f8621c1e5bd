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

  // The connect whose will() was made last succeeded.
  virtual void connected() {}
  // Whether the birth may go out on this connection now. A format may wait
  // for a host to say it is online (Sparkplug's primary host STATE); it then
  // raises Event::host_online.
  virtual bool may_birth() const { return true; }
  // A source's device went dormant (alive false) or answers again: what to
  // send now on a connection that has had its birth (Sparkplug's DDEATH or
  // DBIRTH). A format keeps the state for its next births.
  virtual std::vector<Message> device_state(const std::string& source, bool alive) {
    (void)source;
    (void)alive;
    return {};
  }

  // Topic filters to subscribe to at each connect, before the birth.
  virtual std::vector<std::string> subscriptions() const { return {}; }
  // A message that arrived on one of them (on the agent's executor).
  virtual void inbound(const Message& message) { (void)message; }

  // What a format may ask of the connection's owner, from inbound() or
  // encode*(); the owner acts once those returned. Never raised by the
  // native format.
  enum class Event {
    rebirth,       // send birth() again on this connection, ahead of what is sent from then on
    host_online,   // may_birth() turned true: send the birth now
    host_offline,  // say death(), disconnect, and connect again (the data waits in the outbox)
  };
  void on_event(std::function<void(Event)> handler) { event_ = std::move(handler); }

 protected:
  void raise(Event event) {
    if (event_) event_(event);
  }

 private:
  std::function<void(Event)> event_;
};

// rackwatch.v1 on its own topics: a record goes out as it was stored, and
// each catalog also retained under its id.
class NativeWire final : public WireFormat {
 public:
  Message will(const Record& offline) override { return stored_form(offline); }
  // The state records, the catalog also on {base}/catalog/{id}.
  std::vector<Message> birth(const std::vector<Record>& state) override;
  // A stored active-alarm set is replaced by the one in this connection's
  // birth: replaying it would bring back an older one.
  std::optional<Message> encode(const Record& record, bool replayed) override;
  // A catalog goes retained on {base}/catalog/{id}, ahead of the telemetry
  // stored after it; a fresh one is also the current one on {base}/catalog.
  std::vector<Message> encode_all(const Record& record, bool replayed) override;
  std::optional<Message> death(const Record& offline) override { return stored_form(offline); }
};

}  // namespace rackwatch
