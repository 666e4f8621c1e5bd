#include "publish/publisher.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "publish/transport.hpp"

namespace rackwatch {
namespace {
// A message the broker refuses while the connection stays up (too large,
// not allowed) would otherwise block the queue for ever.
constexpr int kMaxFailuresWhileConnected = 3;
}  // namespace

Publisher::Publisher(Transport& session, std::size_t limit, std::size_t window)
    : session_(session), limit_(limit), window_(window) {}

void Publisher::enqueue(Message message) {
  while (queue_.size() >= limit_) {
    if (queue_.front().in_flight) --in_flight_;
    queue_.pop_front();
    ++stats_.dropped;
    if (stats_.dropped == 1 || stats_.dropped % 1000 == 0) {
      log::warning("publish queue full (", limit_, " messages): dropped the oldest, ",
                   stats_.dropped, " dropped so far");
    }
  }
  queue_.push_back(Entry{next_id_++, std::move(message)});
  ++stats_.enqueued;
  stats_.queued = queue_.size();
  pump();
}

void Publisher::connected(const std::vector<Message>& birth) {
  for (const auto& m : birth) {
    session_.publish(m, [topic = m.topic](bool ok, const std::string& error) {
      if (!ok) log::warning("birth message on ", topic, " not delivered: ", error);
    });
  }
  pump();
}

void Publisher::disconnected() {
  for (auto& e : queue_) e.in_flight = false;
  in_flight_ = 0;
  stats_.in_flight = 0;
}

Publisher::Entry* Publisher::find(std::uint64_t id) {
  // Ids rise along the queue: binary search.
  auto it = std::lower_bound(queue_.begin(), queue_.end(), id,
                             [](const Entry& e, std::uint64_t v) { return e.id < v; });
  if (it == queue_.end() || it->id != id) return nullptr;
  return &*it;
}

void Publisher::pump() {
  if (!session_.connected()) return;
  for (auto& e : queue_) {
    if (in_flight_ >= window_) break;
    if (e.in_flight || e.acked) continue;
    e.in_flight = true;
    ++in_flight_;
    if (e.sent_before) ++stats_.resent;
    e.sent_before = true;
    const auto id = e.id;
    session_.publish(e.message, [this, id](bool ok, const std::string& error) {
      completed(id, ok, error);
    });
  }
  stats_.in_flight = in_flight_;
}

void Publisher::completed(std::uint64_t id, bool ok, const std::string& error) {
  Entry* e = find(id);
  if (e && e->in_flight) {
    e->in_flight = false;
    --in_flight_;
    if (ok) {
      e->acked = true;
    } else if (session_.connected() && ++e->failures >= kMaxFailuresWhileConnected) {
      log::error("dropping a message on ", e->message.topic, " after ", e->failures,
                 " refusals: ", error);
      e->acked = true;
      ++stats_.dropped;
    }
  }
  while (!queue_.empty() && queue_.front().acked) {
    if (queue_.front().failures < kMaxFailuresWhileConnected) ++stats_.published;
    queue_.pop_front();
  }
  stats_.queued = queue_.size();
  stats_.in_flight = in_flight_;
  pump();
}

}  // namespace rackwatch
