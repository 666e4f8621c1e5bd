#include "daemon/agent.hpp"

#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <random>

#include "core/log.hpp"
#include "core/source_runner.hpp"
#include "pipeline/condition.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/publisher.hpp"
#include "sources/registry.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

namespace {
// Enough in flight to keep a loopback or LAN link busy, few enough that a
// reconnect resends little.
constexpr std::size_t kInFlightWindow = 32;
constexpr std::chrono::milliseconds kOfflineTimeout{2'000};

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return {};
  return buf.data();
}
}  // namespace

std::string make_boot_id() {
  std::random_device rd;
  std::array<char, 33> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf.data();
}

Agent::Agent(asio::any_io_executor executor, asio::any_io_executor blocking, Config config)
    : executor_(executor), blocking_(blocking), config_(std::move(config)) {
  AgentIdentity id{config_.agent.id, config_.agent.site, config_.agent.rack, make_boot_id(),
                   RACKWATCH_VERSION, host_name(), Clock::now()};
  encoder_ = std::make_unique<NativeEncoder>(config_, std::move(id));
}

Agent::~Agent() = default;

StatusCounters Agent::counters() const {
  StatusCounters c;
  if (publisher_) {
    c.messages_published = publisher_->stats().published;
    c.messages_dropped = publisher_->stats().dropped;
  }
  c.telemetry_sequence = sequence_;
  return c;
}

std::vector<Message> Agent::birth() {
  const auto now = Clock::now();
  return {encoder_->status(true, counters(), now), encoder_->catalog(now)};
}

void Agent::start() {
  auto will = encoder_->status(false, {}, Clock::now());
  MqttSession::Handlers handlers;
  handlers.connected = [this](const std::string& broker) {
    log::info("connected to ", broker, connected_once_ ? " (again)" : "");
    connected_once_ = true;
    publisher_->connected(birth());
  };
  handlers.disconnected = [this](const std::string& why) {
    log::warning("broker connection: ", why);
    publisher_->disconnected();
  };
  session_ = std::make_unique<MqttSession>(executor_, config_.mqtt, std::move(will),
                                           std::move(handlers));
  publisher_ = std::make_unique<Publisher>(*session_, config_.mqtt.queue_limit, kInFlightWindow);

  const SourceEnv env{executor_, blocking_};
  first_poll_done_.assign(config_.sources.size(), false);
  first_polls_left_ = config_.sources.size();
  for (std::size_t i = 0; i < config_.sources.size(); ++i) {
    const auto& sc = config_.sources[i];
    const auto* type = find_source_type(sc.type);
    std::shared_ptr<Source> source = type->create(sc, env);
    auto runner = std::make_unique<SourceRunner>(
        executor_, std::move(source),
        [this, i](TimePoint tick, std::vector<RawReading> readings) {
          deliver(i, tick, std::move(readings));
        });
    runner->start();
    runners_.push_back(std::move(runner));
    log::info("source ", sc.name, " (", sc.type, "): ", sc.points.size(), " points every ",
              sc.interval.count(), "ms");
  }
  session_->start();
  log::info("publishing to ", encoder_->topics().base, " (catalog ", encoder_->catalog_id(), ", ",
            encoder_->point_count(), " points)");
}

void Agent::deliver(std::size_t source, TimePoint tick, std::vector<RawReading> readings) {
  const auto& sc = config_.sources[source];
  const auto first = encoder_->first_point(source);
  std::vector<Sample> samples;
  samples.reserve(readings.size());
  for (std::size_t k = 0; k < readings.size(); ++k) {
    samples.push_back(condition(sc.points[k], first + static_cast<std::uint32_t>(k), readings[k]));
  }
  ++sequence_;
  publisher_->enqueue(encoder_->telemetry(sc.name, sequence_, tick, samples));

  if (!first_poll_done_[source]) {
    first_poll_done_[source] = true;
    if (--first_polls_left_ == 0 && ready_) {
      log::info("first poll of every source done");
      ready_();
    }
  }
}

void Agent::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  for (auto& r : runners_) r->stop();
  if (!session_) {
    done();
    return;
  }
  asio::co_spawn(executor_, drain_then_stop(drain, std::move(done)), asio::detached);
}

asio::awaitable<void> Agent::drain_then_stop(std::chrono::milliseconds drain,
                                             std::function<void()> done) {
  // Give queued readings a moment to reach the broker before going offline.
  asio::steady_timer timer(executor_);
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (!publisher_->idle() && session_->connected() &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (!publisher_->idle()) {
    log::warning(publisher_->stats().queued, " messages still queued at shutdown are lost");
  }
  finish_stop(std::move(done));
}

void Agent::finish_stop(std::function<void()> done) {
  session_->stop(encoder_->status(false, counters(), Clock::now()), kOfflineTimeout,
                 [done]() {
                   log::info("disconnected; status offline published");
                   done();
                 });
}

}  // namespace rackwatch
