#include "daemon/agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "core/host.hpp"
#include "core/log.hpp"
#include "sources/source_runner.hpp"
#include "diag/diag_server.hpp"
#include "pipeline/condition.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/outbox.hpp"
#include "publish/publisher.hpp"
#include "sources/registry.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

namespace {
// Enough in flight to keep a loopback or LAN link busy, few enough that a
// reconnect resends little.
constexpr std::size_t kInFlightWindow = 32;

}  // namespace

std::string make_boot_id() {
  std::random_device rd;
  std::array<char, 33> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf.data();
}

Agent::Agent(asio::any_io_executor executor, asio::any_io_executor blocking, const SourceTypes& types,
             Config config)
    : executor_(executor), blocking_(blocking), types_(types), env_{executor, blocking},
      config_(std::move(config)) {
  AgentIdentity id{config_.agent.id, config_.agent.site, config_.agent.rack, make_boot_id(),
                   RACKWATCH_VERSION, host_name(), Clock::now()};
  encoder_ = std::make_unique<NativeEncoder>(config_, std::move(id));
}

Agent::~Agent() = default;

StatusCounters Agent::counters() const {
  StatusCounters c;
  c.telemetry_sequence = sequence_;
  if (!publisher_ || !outbox_) return c;
  const auto& p = publisher_->stats();
  const auto& o = outbox_->stats();
  c.messages_published = p.acknowledged;
  c.messages_dropped = o.dropped + p.refused;
  c.outbox.pending = o.pending;
  c.outbox.in_flight = p.in_flight;
  c.outbox.acknowledged = p.acknowledged;
  c.outbox.dropped = o.dropped;
  c.outbox.replayed = p.replayed;
  c.outbox.bytes_on_disk = o.bytes_on_disk;
  c.outbox.oldest_ms = o.oldest_ms;
  c.outbox.skipped = o.skipped;
  c.outbox.write_errors = o.write_errors;
  c.messages_dropped += p.lost;
  c.outbox.recovered = o.recovered;
  c.outbox.held = p.held;
  return c;
}

namespace {

FsyncPolicy fsync_policy(const std::string& name) {
  if (name == "always") return FsyncPolicy::always;
  if (name == "never") return FsyncPolicy::never;
  return FsyncPolicy::interval;
}

}  // namespace

void Agent::schedule_sync() {
  sync_timer_->expires_after(config_.outbox.fsync_interval);
  sync_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto err = outbox_->sync()) {
      log::error("outbox ", config_.outbox.dir, ": sync failed: ", err.message());
    }
    schedule_sync();
  });
}

void Agent::schedule_status() {
  status_timer_->expires_after(config_.mqtt.status_interval);
  status_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // State, not history: sent when connected, never stored in the outbox.
    if (session_->connected()) {
      session_->publish(encoder_->status(true, counters(), Clock::now()),
                        [](bool, const std::string&) {});
    }
    schedule_status();
  });
}

std::vector<Message> Agent::birth() {
  const auto now = Clock::now();
  return {encoder_->status(true, counters(), now), encoder_->catalog(now)};
}

void Agent::start() {
  const auto& oc = config_.outbox;
  OutboxOptions options;
  options.dir = oc.dir;
  options.max_bytes = oc.max_bytes;
  options.fsync = fsync_policy(oc.fsync);
  options.fsync_interval = oc.fsync_interval;
  std::error_code error;
  outbox_ = Outbox::open(options, error);
  if (!outbox_) {
    throw std::runtime_error("outbox directory '" + oc.dir + "': " + error.message());
  }
  const auto& os = outbox_->stats();
  log::info("outbox ", oc.dir, ": ", os.pending, " messages waiting (", os.bytes_on_disk,
            " bytes in ", os.segments, " segments), fsync ", oc.fsync);
  if (os.skipped > 0 || os.skipped_bytes > 0) {
    log::warning("outbox ", oc.dir, ": skipped ", os.skipped, " unreadable records (",
                 os.skipped_bytes, " bytes) found at start");
  }

  session_ = make_session();
  publisher_ = std::make_unique<Publisher>(link_, *outbox_, kInFlightWindow);
  if (options.fsync == FsyncPolicy::interval) {
    sync_timer_ = std::make_unique<asio::steady_timer>(executor_);
    schedule_sync();
  }
  status_timer_ = std::make_unique<asio::steady_timer>(executor_);
  schedule_status();

  latest_.assign(encoder_->point_count(), Sample{});
  last_poll_.assign(config_.sources.size(), LastPoll{});
  init_thresholds();
  init_derived(nullptr);
  init_report({});
  for (const auto& sc : config_.sources) {
    awaiting_first_poll_.insert(sc.name);
    runners_.push_back(make_runner(sc));
    log::info("source ", sc.name, " (", sc.type, "): ", sc.points.size(), " points every ",
              sc.interval.count(), "ms");
  }
  index_sources();
  start_diag();
  session_->start();
  log::info("publishing to ", encoder_->topics().base, " (catalog ", encoder_->catalog_id(), ", ",
            encoder_->point_count(), " points, boot ", encoder_->identity().boot_id, ")");
}

std::string Agent::tls_note() const {
  const auto& tls = config_.mqtt.tls;
  if (!tls) return {};
  if (!tls->verify) {
    // Said at every connect, so that a lab setting left in production shows.
    log::warning("TLS verification is OFF (mqtt.tls.verify: false): the broker's certificate and host name are "
                 "not checked, so anyone on the path can pose as the broker; for lab use only");
    return " over TLS, NOT VERIFIED";
  }
  return tls->cert_file.empty() ? " over TLS" : " over mutual TLS";
}

std::unique_ptr<MqttSession> Agent::make_session() {
  // Handlers of a session replaced by a reload must not reach the publisher.
  const auto generation = ++session_generation_;
  MqttSession::Handlers handlers;
  handlers.connected = [this, generation](const std::string& broker) {
    if (generation != session_generation_) return;
    log::info("connected to ", broker, connected_once_ ? " (again)" : "", tls_note());
    broker_.connected = true;
    broker_.since = Clock::now();
    connected_once_ = true;
    publisher_->connected(birth());
  };
  handlers.disconnected = [this, generation](const std::string& why) {
    if (generation != session_generation_) return;
    log::warning("broker connection: ", why);
    if (broker_.connected) broker_.since = Clock::now();
    broker_.connected = false;
    broker_.last_error = why;
    publisher_->disconnected();
  };
  auto session = std::make_unique<MqttSession>(executor_, config_.mqtt, encoder_->status(false, {}, Clock::now()),
                                               std::move(handlers));
  link_.session = session.get();
  return session;
}

std::unique_ptr<SourceRunner> Agent::make_runner(const SourceConfig& sc) {
  std::shared_ptr<Source> source = types_.find(sc.type)->create(sc, env_);
  // By name, not position: a reload may move the source in the list.
  auto runner = std::make_unique<SourceRunner>(
      executor_, std::move(source), [this, name = sc.name](TimePoint tick, std::vector<RawReading> readings) {
        deliver(name, tick, std::move(readings));
      });
  runner->start();
  return runner;
}

void Agent::index_sources() {
  source_index_.clear();
  for (std::size_t i = 0; i < config_.sources.size(); ++i) source_index_[config_.sources[i].name] = i;
}

void Agent::deliver(const std::string& name, TimePoint tick, std::vector<RawReading> readings) {
  const auto found = source_index_.find(name);
  if (found == source_index_.end()) return;  // removed by a reload while it polled
  const auto source = found->second;
  const auto& sc = config_.sources[source];
  const auto first = encoder_->first_point(source);
  std::vector<Sample> samples;
  samples.reserve(readings.size());
  for (std::size_t k = 0; k < readings.size() && k < sc.points.size(); ++k) {
    samples.push_back(condition(sc.points[k], first + static_cast<std::uint32_t>(k), readings[k]));
  }
  auto& last = last_poll_[source];
  last = LastPoll{tick, true, 0, {}};
  for (const auto& sample : samples) {
    latest_[sample.point] = sample;
    if (sample.quality != Quality::bad) continue;
    if (last.bad_points++ == 0) last.first_error = sample.reason;
  }
  // Derived points that depend on this source ride in its message.
  auto derived = derived_->evaluate(source, latest_, tick);
  samples.insert(samples.end(), std::make_move_iterator(derived.begin()), std::make_move_iterator(derived.end()));
  // Alarms first: a sample that raised or cleared one is always sent.
  const auto alarms = decide_alarms(tick, samples);
  std::vector<bool> alarmed(samples.size(), false);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    alarmed[i] = std::any_of(alarms.begin(), alarms.end(),
                             [&](const PointEvent& e) { return e.point == samples[i].point; });
  }
  report_->apply(samples, alarmed);
  if (!samples.empty()) {
    ++sequence_;
    if (publisher_->enqueue(encoder_->telemetry(sc.name, sequence_, tick, samples))) {
      log::debug("stored telemetry #", sequence_, " of ", sc.name, " as outbox record ", outbox_->last_id());
    }
  }
  publish_alarms(alarms, tick);
  if (awaiting_first_poll_.erase(name) > 0) check_ready();
}

void Agent::check_ready() {
  if (!awaiting_first_poll_.empty() || ready_sent_) return;
  ready_sent_ = true;
  log::info("first poll of every source done");
  if (ready_) ready_();
}

void Agent::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  for (auto& r : runners_) r->stop();
  if (diag_) diag_->stop();
  if (status_timer_) status_timer_->cancel();
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
  if (sync_timer_) sync_timer_->cancel();
  if (auto err = outbox_->sync()) {
    log::error("outbox ", config_.outbox.dir, ": sync failed: ", err.message());
  }
  if (!publisher_->idle()) {
    log::info(outbox_->stats().pending, " messages wait in the outbox for the next start");
  }
  finish_stop(std::move(done));
}

void Agent::finish_stop(std::function<void()> done) {
  const bool connected = session_->connected();
  session_->stop(encoder_->status(false, counters(), Clock::now()), kOfflineTimeout,
                 [done, connected]() {
                   if (connected) {
                     log::info("disconnected; status offline published");
                   } else {
                     log::info("stopped while not connected to a broker: no offline status sent");
                   }
                   done();
                 });
}

}  // namespace rackwatch
