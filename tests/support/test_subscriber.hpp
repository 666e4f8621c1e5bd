// An MQTT subscriber inside the test process: connects to a broker,
// subscribes (waiting for the SUBACK, so nothing published afterwards is
// missed) and records every message it receives, for tests to wait on.
// It does not reconnect: after a broker restart, make a new one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <mqtt/async_client.h>

namespace rackwatch::test {

class TestSubscriber {
 public:
  using Predicate = std::function<bool(const mqtt::const_message_ptr&)>;

  // Connects to `uri` and subscribes to `topic_filter` at QoS 1. Throws
  // std::runtime_error if either is not confirmed within `timeout`.
  TestSubscriber(const std::string& uri, const std::string& topic_filter,
                 std::chrono::milliseconds timeout = std::chrono::seconds{10})
      : TestSubscriber(uri, topic_filter, std::string(), timeout) {}

  // With a `client_id`, the session is persistent (clean session off): a new
  // subscriber with the same id after a broker restart (with persistence)
  // receives what the broker queued for it meanwhile.
  TestSubscriber(const std::string& uri, const std::string& topic_filter,
                 const std::string& client_id, std::chrono::milliseconds timeout)
      : client_(uri, client_id.empty() ? unique_client_id() : client_id,
                mqtt::create_options(MQTTVERSION_3_1_1), nullptr) {
    // Paho calls this on its own thread with its mutex held: only store and
    // notify, never call back into the client.
    client_.set_message_callback([this](mqtt::const_message_ptr message) {
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(std::move(message));
      }
      arrived_.notify_all();
    });
    client_.set_connection_lost_handler([this](const std::string&) { lost_ = true; });

    mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_3_1_1);
    options.set_clean_session(client_id.empty());
    options.set_connect_timeout(std::chrono::seconds{5});
    options.set_automatic_reconnect(false);
    auto connected = client_.connect(options);
    if (!connected->wait_for(timeout))
      throw std::runtime_error("TestSubscriber: no CONNACK from " + uri);
    auto subscribed = client_.subscribe(topic_filter, 1);
    if (!subscribed->wait_for(timeout))
      throw std::runtime_error("TestSubscriber: no SUBACK for " + topic_filter);
  }

  ~TestSubscriber() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds{2});
    } catch (const mqtt::exception&) {
      // The broker may be gone already; destroying the client is enough.
    }
  }

  TestSubscriber(const TestSubscriber&) = delete;
  TestSubscriber& operator=(const TestSubscriber&) = delete;

  // The first message received (since construction, in arrival order) that
  // satisfies `pred`, waiting up to `timeout` for it to arrive.
  std::optional<mqtt::const_message_ptr> wait_for(const Predicate& pred,
                                                  std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::size_t checked = 0;
    std::optional<mqtt::const_message_ptr> found;
    auto scan = [&] {
      for (; checked < messages_.size(); ++checked) {
        if (pred(messages_[checked])) {
          found = messages_[checked];
          return true;
        }
      }
      return false;
    };
    arrived_.wait_for(lock, timeout, scan);
    return found;
  }

  // The first message on exactly `topic` (and, if given, with `payload`).
  std::optional<mqtt::const_message_ptr> wait_for_topic(
      const std::string& topic, std::chrono::milliseconds timeout,
      std::optional<std::string> payload = std::nullopt) {
    return wait_for(
        [&](const mqtt::const_message_ptr& m) {
          return m->get_topic() == topic && (!payload || m->to_string() == *payload);
        },
        timeout);
  }

  // Everything received so far, in arrival order.
  std::vector<mqtt::const_message_ptr> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  // True once the broker connection dropped (the subscriber stays down).
  bool lost() const { return lost_; }

  // Publishes through the subscriber's own connection and waits for the
  // PUBACK: a barrier — publish to a topic it subscribed to and wait for it
  // to come back, and everything the broker had queued for this subscriber
  // before has arrived.
  void publish(const std::string& topic, const std::string& payload,
               std::chrono::milliseconds timeout = std::chrono::seconds{5}, bool retain = false) {
    auto token = client_.publish(topic, payload.data(), payload.size(), 1, retain);
    if (!token->wait_for(timeout)) throw std::runtime_error("TestSubscriber: no PUBACK");
  }

  // The message retained for `topic` on the broker at `uri`, read by a fresh
  // subscription; nullopt if none arrives within `wait`. A broker sends the
  // retained message right after the SUBACK, so a short wait is enough — but
  // "none" always costs the whole wait.
  static std::optional<mqtt::const_message_ptr> read_retained(
      const std::string& uri, const std::string& topic,
      std::chrono::milliseconds wait = std::chrono::milliseconds{500}) {
    TestSubscriber subscriber(uri, topic);
    return subscriber.wait_for(
        [&](const mqtt::const_message_ptr& m) { return m->is_retained() && m->get_topic() == topic; },
        wait);
  }

 private:
  static std::string unique_client_id() {
    static std::atomic<unsigned> counter{0};
    return "test-sub-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  }

  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<mqtt::const_message_ptr> messages_;
  std::atomic<bool> lost_{false};
  // Last: destroyed first, so no callback can run into destroyed members.
  mqtt::async_client client_;
};

// Every message received on `topic` that parses as a T, in arrival order.
template <class T>
std::vector<T> decoded(const TestSubscriber& sub, const std::string& topic) {
  std::vector<T> out;
  for (const auto& m : sub.messages()) {
    T t;
    if (m->get_topic() == topic && t.ParseFromString(m->get_payload_str())) out.push_back(std::move(t));
  }
  return out;
}

// The same, of one source only (a T with source(): Telemetry).
template <class T>
std::vector<T> decoded(const TestSubscriber& sub, const std::string& topic, const std::string& source) {
  auto all = decoded<T>(sub, topic);
  std::erase_if(all, [&](const T& t) { return t.source() != source; });
  return all;
}

}  // namespace rackwatch::test
