// The MQTT connection to the facility broker, on Paho's async_client: connect
// with a last will, reconnect with exponential back-off and jitter across the
// broker list, publish with acknowledgement. Paho's callbacks run on Paho's
// threads; they only copy their data and post it to the agent's executor, so
// every handler below runs on that executor. Queueing and ordering belong to
// the caller (the Publisher): this class never buffers a message itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/config.hpp"
#include "publish/message.hpp"
#include "publish/transport.hpp"

namespace rackwatch {

class MqttSession : public Transport {
 public:
  struct Handlers {
    // Connected (first time or again) to `broker`. The caller publishes its
    // birth messages from here.
    std::function<void(const std::string& broker)> connected;
    // Connection lost or a connect attempt failed; a reconnect is scheduled.
    std::function<void(const std::string& why)> disconnected;
    // A message arrived on a subscribed topic.
    std::function<void(const Message& message)> message;
  };
  // Makes the will for each connect attempt: a format that numbers its
  // connects (Sparkplug's bdSeq) needs a fresh one every time.
  using WillMaker = std::function<Message()>;

  struct Stats {
    std::uint64_t connects = 0;         // successful connections
    std::uint64_t connect_failures = 0;
    std::uint64_t connection_losses = 0;
    std::uint64_t published = 0;        // acknowledged
    std::uint64_t publish_failures = 0;
    std::uint64_t received = 0;         // messages that arrived on subscriptions
    std::uint64_t subscribe_failures = 0;
    std::string broker;                 // current or last broker
    std::string last_error;
  };

  MqttSession(boost::asio::any_io_executor executor, MqttConfig config, WillMaker will,
              Handlers handlers);
  // Paho closes a connected client with a DISCONNECT, so the broker does not
  // publish the will: call stop() first to leave a last message. No handler
  // and no PublishDone runs after destruction.
  ~MqttSession() override;
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // Starts connecting; from then on reconnects by itself until stop().
  void start();

  bool connected() const override;

  // Sends one message now. Only while connected(); otherwise `done` is called
  // (posted) with ok = false. `done` runs exactly once, on the executor,
  // unless the session is destroyed first.
  void publish(const Message& message, PublishDone done) override;

  // Subscribes to `filters` (QoS 1) on the current connection; call it from
  // the connected handler, before publishing a birth that announces them.
  // A failed subscription is logged and counted; the session stays up.
  void subscribe(const std::vector<std::string>& filters) override;

  // Publishes `last` if connected (e.g. status offline), waits for its
  // acknowledgement up to `timeout`, disconnects cleanly and stops
  // reconnecting; then calls `done` on the executor.
  void stop(std::optional<Message> last, std::chrono::milliseconds timeout,
            std::function<void()> done);

  // Publishes `last` if connected, waits for its acknowledgement up to
  // `timeout`, disconnects cleanly and connects again after the back-off, as
  // after a lost connection (the disconnected handler runs at once). For a
  // peer that asks the client to go (Sparkplug's primary host offline).
  void cycle(std::optional<Message> last, std::chrono::milliseconds timeout);

  const Stats& stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rackwatch
