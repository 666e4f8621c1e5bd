// rackwatchd's wiring: sources → runners → pipeline → encoder → publisher →
// MQTT session, all on one executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/config.hpp"
#include "publish/native_encoder.hpp"

namespace rackwatch {

class MqttSession;
class Outbox;
class Publisher;
class SourceRunner;

class Agent {
 public:
  Agent(boost::asio::any_io_executor executor, boost::asio::any_io_executor blocking,
        Config config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the outbox (throws std::runtime_error naming the directory when it
  // cannot), then starts polling and connecting.
  // Called once, after every source has completed its first poll.
  void on_ready(std::function<void()> ready) { ready_ = std::move(ready); }

  void start();
  // Stops polling, gives the queue up to `drain` to empty, publishes status
  // offline and disconnects; then calls `done`.
  void stop(std::chrono::milliseconds drain, std::function<void()> done);

  const Config& config() const { return config_; }
  std::uint64_t sequence() const { return sequence_; }

 private:
  void deliver(std::size_t source, TimePoint tick, std::vector<RawReading> readings);
  std::vector<Message> birth();
  StatusCounters counters() const;
  void schedule_sync();
  void schedule_status();
  boost::asio::awaitable<void> drain_then_stop(std::chrono::milliseconds drain,
                                               std::function<void()> done);
  void finish_stop(std::function<void()> done);

  boost::asio::any_io_executor executor_;
  boost::asio::any_io_executor blocking_;
  Config config_;
  std::unique_ptr<NativeEncoder> encoder_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<MqttSession> session_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<boost::asio::steady_timer> sync_timer_;
  std::unique_ptr<boost::asio::steady_timer> status_timer_;
  std::vector<std::unique_ptr<SourceRunner>> runners_;
  std::vector<bool> first_poll_done_;
  std::size_t first_polls_left_ = 0;
  std::function<void()> ready_;
  std::uint64_t sequence_ = 0;
  bool connected_once_ = false;
};

// A random 128-bit id as 32 hex digits.
std::string make_boot_id();

}  // namespace rackwatch
