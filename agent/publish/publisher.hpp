// Keeps the messages that wait for the broker, in order, and feeds them to
// the MQTT session within an in-flight window; a message leaves the queue
// only when the broker acknowledged it. This queue lives in memory and is
// bounded: when full, the oldest message is dropped and counted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "publish/message.hpp"

namespace rackwatch {

class Transport;

struct PublisherStats {
  std::uint64_t enqueued = 0;
  std::uint64_t published = 0;  // acknowledged by the broker
  std::uint64_t dropped = 0;    // oldest dropped from a full queue, or refused by the broker
  std::uint64_t resent = 0;     // sent again after a lost connection
  std::size_t queued = 0;       // waiting, including in flight
  std::size_t in_flight = 0;
};

class Publisher {
 public:
  Publisher(Transport& session, std::size_t limit, std::size_t window);

  // Queues a message behind the others; sends it when the window allows.
  void enqueue(Message message);
  // The session is connected: `birth` goes first, then the queue in order.
  void connected(const std::vector<Message>& birth);
  // The session lost its connection: whatever was in flight is sent again.
  void disconnected();

  bool idle() const { return queue_.empty(); }
  const PublisherStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::uint64_t id;
    Message message;
    bool in_flight = false;
    bool acked = false;
    bool sent_before = false;
    int failures = 0;
  };

  void pump();
  void completed(std::uint64_t id, bool ok, const std::string& error);
  Entry* find(std::uint64_t id);

  Transport& session_;
  std::size_t limit_;
  std::size_t window_;
  std::deque<Entry> queue_;
  std::uint64_t next_id_ = 1;
  std::size_t in_flight_ = 0;
  PublisherStats stats_;
};

}  // namespace rackwatch
