#include "publish/publisher.hpp"

#include <memory>

#include "core/log.hpp"
#include "publish/outbox.hpp"
#include "publish/transport.hpp"
#include "publish/wire_format.hpp"

namespace rackwatch {
namespace {
// A message the client fails to send while the connection stays up would
// otherwise block its lane for ever.
constexpr int kMaxFailuresWhileConnected = 3;
// Messages held in memory while the outbox cannot store: a few minutes of a
// rack's readings, a few MB at most.
constexpr std::size_t kMaxUnstored = 2'000;
constexpr std::uint64_t kUnstoredBase = 1ull << 63;
}  // namespace

Publisher::Publisher(Transport& transport, Outbox& outbox, WireFormat& wire, std::size_t window,
                     std::chrono::milliseconds hold_off)
    : transport_(transport), outbox_(outbox), wire_(wire), window_(window), hold_off_(hold_off) {}

bool Publisher::enqueue(const Record& record) {
  std::error_code error;
  if (!outbox_.append(stored_form(record), error)) {
    ++stats_.unstored;
    if (unstored_.size() >= kMaxUnstored) {
      if (in_flight_.erase(unstored_.front().id) == 0) ++stats_.lost;
      unstored_.pop_front();
    }
    unstored_.push_back({next_unstored_id_++, record});
    if (stats_.unstored == 1 || stats_.unstored % 1000 == 0) {
      log::error("outbox ", outbox_.options().dir, ": cannot store a message on ", record.address,
                 ": ", error.message(), "; held in memory (", stats_.unstored,
                 " so far, ", stats_.lost, " lost)");
    }
    pump();
    return false;
  }
  ++stats_.stored;
  pump();
  return true;
}

void Publisher::connected(const std::vector<Message>& birth) {
  ++generation_;
  in_flight_.clear();
  retry_.clear();
  failures_.clear();
  held_.clear();  // pending in the outbox: the backlog sends them again
  stats_.held = 0;
  // Everything stored so far is backlog, oldest first; what comes next is fresh.
  backlog_end_ = outbox_.last_id();
  backlog_cursor_ = 0;
  fresh_cursor_ = backlog_end_;
  publish_birth(birth);
  pump();
}

void Publisher::publish_birth(const std::vector<Message>& birth) {
  for (const auto& m : birth) {
    transport_.publish(m, [topic = m.topic, size = m.payload.size()](PublishError error, const std::string& text) {
      if (error == PublishError::none) return;
      if (error == PublishError::not_allowed) {
        log::error("birth message on ", topic, " not delivered: ", text,
                   "; check the broker's ACL for this agent's identity, and its site and rack");
      } else if (error == PublishError::too_large) {
        log::error("birth message on ", topic, " (", size, " bytes of payload) not delivered: ", text,
                   "; raise the broker's size limit (Mosquitto: max_packet_size)");
      } else {
        log::warning("birth message on ", topic, " not delivered: ", text);
      }
    });
  }
}

void Publisher::rebirth(const std::vector<Message>& birth) {
  if (!transport_.connected()) return;  // the next connect births anyway
  publish_birth(birth);
}

void Publisher::disconnected() {
  ++generation_;
  in_flight_.clear();
  retry_.clear();
  held_.clear();
  stats_.held = 0;
  stats_.in_flight = 0;
}

bool Publisher::idle() const {
  return outbox_.first_pending() == 0 && in_flight_.empty() && unstored_.empty();
}

bool Publisher::send_unstored() {
  for (const auto& u : unstored_) {
    if (in_flight_.count(u.id) != 0) continue;
    send(u.id, u.record, false);
    return true;
  }
  return false;
}

bool Publisher::send_next(bool backlog) {
  if (!backlog && send_unstored()) return true;
  std::uint64_t id = 0;
  if (!retry_.empty() && backlog) {
    id = *retry_.begin();
    retry_.erase(retry_.begin());
    ++stats_.resent;
  } else {
    auto& cursor = backlog ? backlog_cursor_ : fresh_cursor_;
    const auto next = outbox_.pending(cursor, 1);
    if (next.empty()) return false;
    if (backlog && next.front() > backlog_end_) return false;
    id = next.front();
    cursor = id;
    if (backlog) ++stats_.replayed;
  }
  auto stored = outbox_.read(id);
  if (!stored) return true;  // dropped by the cap meanwhile, or unreadable: the next one
  send(id, record_of(stored->message), id <= backlog_end_);
  return true;
}

void Publisher::send(std::uint64_t id, const Record& record, bool backlog) {
  // Made now, not when stored: a format may number what a session sends.
  auto messages = wire_.encode_all(record, backlog);
  if (messages.empty()) {
    // Nothing to send in this format: done with, as if acknowledged.
    if (id >= kUnstoredBase) {
      std::erase_if(unstored_, [id](const Unstored& u) { return u.id == id; });
    } else {
      outbox_.acknowledge(id);
    }
    ++stats_.not_sent;
    return;
  }
  in_flight_.insert(id);
  if (messages.size() == 1) {
    // A completion from before the last (dis)connect is stale: ignored.
    transport_.publish(messages.front(), [this, id, gen = generation_](PublishError error, const std::string& text) {
      if (gen == generation_) completed(id, error, text);
    });
    return;
  }
  // Several messages for one record: it is done when the last is, and
  // failed if any failed (then sent whole again, as at-least-once allows).
  struct Parts {
    std::size_t remaining;
    PublishError error = PublishError::none;
    std::string text;
  };
  auto parts = std::make_shared<Parts>(Parts{messages.size(), PublishError::none, {}});
  for (const auto& m : messages) {
    transport_.publish(m, [this, id, gen = generation_, parts](PublishError error, const std::string& text) {
      if (error != PublishError::none && parts->error == PublishError::none) {
        parts->error = error;
        parts->text = text;
      }
      if (--parts->remaining == 0 && gen == generation_) completed(id, parts->error, parts->text);
    });
  }
}

void Publisher::pump() {
  if (!transport_.connected()) return;
  if (!held_.empty() && std::chrono::steady_clock::now() >= held_retry_at_) {
    // The ACL may have been fixed: try the refused ones again.
    retry_.insert(held_.begin(), held_.end());
    held_.clear();
    held_retry_at_ = std::chrono::steady_clock::now() + hold_off_;
  }
  while (in_flight_.size() < window_) {
    // One for one while both lanes have messages; either alone takes the window.
    const bool first = prefer_backlog_;
    if (send_next(first)) {
      prefer_backlog_ = !first;
      continue;
    }
    if (!send_next(!first)) break;
  }
  stats_.in_flight = in_flight_.size();
}

void Publisher::completed(std::uint64_t id, PublishError error, const std::string& text) {
  in_flight_.erase(id);
  const bool ok = error == PublishError::none;
  if (id >= kUnstoredBase) {
    // In memory only: gone once acknowledged; sent again otherwise.
    const bool refused = !ok && transport_.connected() && ++failures_[id] >= kMaxFailuresWhileConnected;
    if (ok || refused) {
      std::erase_if(unstored_, [id](const Unstored& u) { return u.id == id; });
      failures_.erase(id);
      if (ok) ++stats_.acknowledged;
      else ++stats_.refused;
    }
    stats_.in_flight = in_flight_.size();
    pump();
    return;
  }
  if (ok) {
    outbox_.acknowledge(id);
    failures_.erase(id);
    ++stats_.acknowledged;
  } else if (transport_.connected() && (error == PublishError::not_allowed || error == PublishError::too_large ||
                                         error == PublishError::refused)) {
    hold(id, error, text);
  } else if (transport_.connected()) {
    if (++failures_[id] >= kMaxFailuresWhileConnected) {
      log::error("dropping a message the MQTT client would not send (", failures_[id], " times): ", text);
      outbox_.acknowledge(id);
      failures_.erase(id);
      ++stats_.refused;
    } else {
      retry_.insert(id);
    }
  }
  // Not connected: disconnected() has been or will be called; the message
  // stays in the outbox and is sent again after the next connect.
  stats_.in_flight = in_flight_.size();
  pump();
}

// A broker that says no to a message while it keeps the connection (its
// ACL, a site and rack this agent may not write, a size limit below the
// message, a quota) has a configuration to fix, not a reading to drop: the
// message stays in the outbox, and is tried again after the hold-off.
void Publisher::hold(std::uint64_t id, PublishError error, const std::string& text) {
  const bool first = held_.empty();  // once a round: every hold-off while it lasts
  held_.insert(id);
  failures_.erase(id);
  stats_.held = held_.size();
  const auto record = outbox_.read(id);
  stats_.last_refusal = text + " on " + (record ? record->message.topic : std::string("?"));
  if (held_.size() == 1) held_retry_at_ = std::chrono::steady_clock::now() + hold_off_;
  if (!first) return;
  std::string what_to_do;
  switch (error) {
    case PublishError::not_allowed:
      what_to_do = "check the broker's ACL for this agent's identity, and its site and rack";
      break;
    case PublishError::too_large:
      what_to_do = "the message" +
                   (record ? " (" + std::to_string(record->message.payload.size()) + " bytes of payload)"
                           : std::string()) +
                   " is above the broker's size limit: raise it (Mosquitto: max_packet_size), or spread the "
                   "source's points over several sources";
      break;
    default:
      what_to_do = "check the broker's limits and its log for this client";
      break;
  }
  log::error("publish ", stats_.last_refusal, ": the message stays in the outbox and is tried again every ",
             std::chrono::duration_cast<std::chrono::seconds>(hold_off_).count(), "s and at each connect; ",
             what_to_do);
}

}  // namespace rackwatch
