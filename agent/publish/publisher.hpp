// Sends what the outbox holds to the broker, in order, within an in-flight
// window; a record leaves the outbox only when the broker acknowledged it.
// Records are stored in their canonical form and made into wire messages by
// the WireFormat as they are sent, so per-session numbering is the format's.
//
// After a (re)connect two lanes share the window one for one: the backlog
// (everything stored before the connect, oldest first) and fresh messages
// (stored since). Each lane is in order; fresh readings reach the broker
// within a window of round trips even behind hours of backlog, and the
// backlog still drains at half the link's pace or better.
//
// A message the outbox cannot store (disk full, I/O error) is kept in a
// small memory queue instead and sent first in the fresh lane: it survives
// an outage, not a restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "publish/message.hpp"
#include "publish/record.hpp"
#include "publish/transport.hpp"

namespace rackwatch {

class Outbox;
class Transport;
class WireFormat;

struct PublisherStats {
  std::uint64_t stored = 0;        // messages appended to the outbox
  std::uint64_t acknowledged = 0;  // by the broker
  std::uint64_t replayed = 0;      // sent from the backlog after a (re)connect or restart
  std::uint64_t resent = 0;        // sent again after a failed attempt
  std::uint64_t refused = 0;       // held in memory only (not stored) and dropped after the broker refused them repeatedly
  std::uint64_t unstored = 0;      // could not be stored (disk full, I/O error): held in memory
  std::uint64_t lost = 0;          // of those, dropped because the memory queue was full
  std::uint64_t held = 0;          // refused by the broker (MQTT 5: an ACL, a size limit): kept in the outbox, retried
  std::uint64_t not_sent = 0;      // records the wire format has nothing to send for
  std::string last_refusal;        // the broker's last "no", with its topic
  std::size_t in_flight = 0;
};

class Publisher {
 public:
  // A message the broker refuses (not allowed, too large, over a quota) is
  // kept and tried again every `hold_off` (and at each connect).
  Publisher(Transport& transport, Outbox& outbox, WireFormat& wire, std::size_t window,
            std::chrono::milliseconds hold_off = std::chrono::seconds{30});

  // Stores the record durably, then sends it when the window allows.
  // Returns false when it could not be stored durably (counted in
  // stats().unstored; it is then held in memory and still sent).
  bool enqueue(const Record& record);
  // The transport is connected: `birth` (made by the wire format) goes
  // first, then the outbox.
  void connected(const std::vector<Message>& birth);
  // The wire format asked for a new birth on this connection: `birth` is
  // sent now, ahead of what is sent from here on; nothing in flight changes.
  void rebirth(const std::vector<Message>& birth);
  // The transport lost its connection: what was in flight is sent again
  // after the next connect.
  void disconnected();

  // Nothing waits for the broker.
  bool idle() const;
  const PublisherStats& stats() const { return stats_; }

 private:
  void pump();
  void publish_birth(const std::vector<Message>& birth);
  bool send_next(bool backlog);
  bool send_unstored();
  void send(std::uint64_t id, const Record& record, bool backlog);
  void completed(std::uint64_t id, PublishError error, const std::string& text);
  void hold(std::uint64_t id, PublishError error, const std::string& text);

  Transport& transport_;
  Outbox& outbox_;
  WireFormat& wire_;
  std::size_t window_;
  std::uint64_t generation_ = 0;       // bumps at every (dis)connect: stale completions are ignored
  std::uint64_t backlog_end_ = 0;      // last id stored before the connect
  std::uint64_t backlog_cursor_ = 0;   // last backlog id sent
  std::uint64_t fresh_cursor_ = 0;     // last fresh id sent
  bool prefer_backlog_ = true;
  std::set<std::uint64_t> retry_;      // failed while connected: sent again first
  std::set<std::uint64_t> held_;       // refused by the broker: sent again after the hold-off
  std::chrono::milliseconds hold_off_;
  std::chrono::steady_clock::time_point held_retry_at_{};
  std::map<std::uint64_t, int> failures_;
  std::set<std::uint64_t> in_flight_;
  // Ids of unstored messages live above every outbox id.
  struct Unstored {
    std::uint64_t id;
    Record record;
  };
  std::deque<Unstored> unstored_;
  std::uint64_t next_unstored_id_ = 1ull << 63;
  PublisherStats stats_;
};

}  // namespace rackwatch
