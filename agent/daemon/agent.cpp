#include "daemon/agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <utility>

#include <boost/asio/post.hpp>

#include "core/host.hpp"
#include "core/log.hpp"
#include "core/plural.hpp"
#include "core/supervise.hpp"
#include "sources/source_runner.hpp"
#include "sources/source_stop.hpp"
#include "diag/diag_server.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/outbox.hpp"
#include "publish/publisher.hpp"
#include "publish/sparkplug_wire.hpp"
#include "publish/wire_format.hpp"
#include "sources/registry.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

namespace {
// Enough in flight to keep a loopback or LAN link busy, few enough that a
// reconnect resends little.
constexpr std::size_t kInFlightWindow = 32;

// The wire format the config names; Sparkplug keeps its bdSeq beside the outbox.
std::unique_ptr<WireFormat> make_wire(const Config& config) {
  if (config.mqtt.format != MqttFormat::sparkplug) return std::make_unique<NativeWire>();
  return std::make_unique<SparkplugWire>(config.mqtt.sparkplug, config.outbox.dir + "/" + kBdSeqFileName,
                                         [] { return to_unix_ms(Clock::now()); });
}

}  // namespace

std::string make_boot_id() {
  std::random_device rd;
  std::array<char, 33> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf.data();
}

Agent::Agent(asio::any_io_executor executor, asio::any_io_executor blocking, const SourceTypes& types,
             Config config)
    : types_(types),
      env_{executor, blocking},
      model_(std::make_unique<Model>(std::move(config))),
      wire_(make_wire(model_->config)) {
  const auto& agent = model_->config.agent;
  AgentIdentity id{agent.id, agent.site, agent.rack, make_boot_id(), RACKWATCH_VERSION, host_name(), Clock::now()};
  encoder_ = std::make_unique<NativeEncoder>(model_->config, model_->catalog, std::move(id));
}

Agent::~Agent() = default;

StatusCounters Agent::counters() const {
  StatusCounters c;
  c.telemetry_sequence = sequence_;
  auto add_restarts = [&c](const std::string& component, const RestartStats& r) {
    if (r.restarts == 0) return;
    c.restarts.push_back({component, r.restarts, r.last_error, to_unix_ms(r.last_failure)});
  };
  for (const auto& runner : runners_) {
    if (runner) add_restarts("source " + runner->source().config().name, runner->restarts());
  }
  if (diag_) add_restarts("diag socket " + diag_->path(), diag_->restarts());
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

void Agent::schedule_sync() {
  timers_.sync->expires_after(config().outbox.fsync_interval);
  timers_.sync->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto err = outbox_->sync()) {
      log::error("outbox ", config().outbox.dir, ": sync failed: ", err.message());
    }
    schedule_sync();
  });
}

void Agent::schedule_status() {
  timers_.status->expires_after(config().mqtt.status_interval);
  timers_.status->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const auto now = Clock::now();
    publish_state(encoder_->status(true, counters(), now));
    publish_state(encoder_->snapshot(model_->pipeline.latest(), sequence_, now));
    schedule_status();
  });
}

void Agent::publish_state(const Record& record) {
  if (!broker_.session || !broker_.link.connected()) return;
  // Every message of it: a catalog with new device info is also the one under its id.
  for (const auto& m : wire_->encode_all(record, false)) {
    broker_.session->publish(m, [](PublishError, const std::string&) {});
  }
}

void Agent::send_birth() {
  broker_.link.born = true;
  broker_.waiting.clear();
  publisher_->connected(birth());
}

// Raised from inside the publisher's or an inbound handler's call: acted on
// once those returned; a rebirth once however often it was asked meanwhile.
void Agent::wire_event(WireFormat::Event event) {
  if (event == WireFormat::Event::rebirth && std::exchange(rebirth_pending_, true)) return;
  asio::post(env_.executor, [this, event] {
    if (!publisher_ || !broker_.session) return;
    switch (event) {
      case WireFormat::Event::rebirth:
        rebirth_pending_ = false;
        if (broker_.link.connected()) publisher_->rebirth(birth());
        break;
      case WireFormat::Event::host_online:
        if (broker_.session->connected() && !broker_.link.born) send_birth();
        break;
      case WireFormat::Event::host_offline:
        if (!broker_.session->connected()) break;
        broker_.link.born = false;
        publisher_->disconnected();
        broker_.session->cycle(wire_->death(encoder_->status(false, counters(), Clock::now())), kOfflineTimeout);
        break;
    }
  });
}

std::vector<Message> Agent::birth() {
  const auto now = Clock::now();
  return wire_->birth({encoder_->status(true, counters(), now), encoder_->catalog(now), active_alarms_record(now),
                       encoder_->snapshot(model_->pipeline.latest(), sequence_, now)});
}

void Agent::start() {
  const auto& oc = config().outbox;
  OutboxOptions options;
  options.dir = oc.dir;
  options.max_bytes = oc.max_bytes;
  options.fsync = oc.fsync;
  options.fsync_interval = oc.fsync_interval;
  std::error_code error;
  outbox_ = Outbox::open(options, error);
  if (!outbox_) {
    if (error == std::errc::device_or_resource_busy) throw std::runtime_error(outbox_in_use_text(oc.dir));
    throw std::runtime_error("outbox directory '" + oc.dir + "': " + error.message());
  }
  const auto& os = outbox_->stats();
  log::info("outbox ", oc.dir, ": ", plural(os.pending, "message"), " waiting (", plural(os.bytes_on_disk, "byte"),
            " in ", plural(os.segments, "segment"), "), fsync ", fsync_policy_name(oc.fsync));
  if (os.skipped > 0 || os.skipped_bytes > 0) {
    log::warning("outbox ", oc.dir, ": skipped ", plural(os.skipped, "unreadable record"), " (",
                 plural(os.skipped_bytes, "byte"), ") found at start");
  }

  broker_.session = make_session();
  publisher_ = std::make_unique<Publisher>(broker_.link, *outbox_, *wire_, kInFlightWindow);
  wire_->on_event([this](WireFormat::Event event) { wire_event(event); });
  // The catalog leads the readings made for it in the outbox: a reading
  // replayed after a restart can be read by the catalog it was made for.
  publisher_->enqueue(encoder_->catalog(Clock::now()));
  if (options.fsync == FsyncPolicy::interval) {
    timers_.sync = std::make_unique<asio::steady_timer>(env_.executor);
    schedule_sync();
  }
  timers_.status = std::make_unique<asio::steady_timer>(env_.executor);
  schedule_status();

  last_poll_.assign(config().sources.size(), LastPoll{});
  points_seen_.assign(config().sources.size(), 0);
  for (const auto& sc : config().sources) {
    startup_.awaiting.insert(sc.name);
    runners_.push_back(make_runner(sc));
    log::info("source ", sc.name, " (", sc.type, "): ", plural(sc.points.size(), "point"), " every ",
              sc.interval.count(), "ms");
  }
  start_diag();
  broker_.session->start();
  log::info("publishing to ", encoder_->topics().base, " (catalog ", encoder_->catalog_id(), ", ",
            plural(model_->catalog.size(), "point"), ", boot ", encoder_->identity().boot_id, ")");
}

std::string Agent::tls_note() const {
  const auto& tls = config().mqtt.tls;
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
  const auto generation = ++broker_.generation;
  MqttSession::Handlers handlers;
  handlers.connected = [this, generation](const std::string& broker) {
    if (generation != broker_.generation) return;
    log::info("connected to ", broker, broker_.connected_once ? " (again)" : "", tls_note());
    broker_.connected = true;
    broker_.since = Clock::now();
    broker_.connected_once = true;
    wire_->connected();
    broker_.session->subscribe(wire_->subscriptions());
    if (wire_->may_birth()) {
      send_birth();
    } else {
      const auto& host = config().mqtt.sparkplug.primary_host_id;
      // Shown by `rackwatch status` until the births go.
      broker_.waiting = "primary host " + host + " to say online on spBv1.0/STATE/" + host +
                        " before the births; readings wait in the outbox";
      log::info("sparkplug: waiting for primary host ", host, " to be online (its STATE) before the births; "
                "readings wait in the outbox");
    }
  };
  handlers.disconnected = [this, generation](const std::string& why) {
    if (generation != broker_.generation) return;
    log::warning("broker connection: ", why);
    if (broker_.connected) broker_.since = Clock::now();
    broker_.connected = false;
    broker_.last_error = why;
    broker_.waiting.clear();
    broker_.link.born = false;
    publisher_->disconnected();
  };
  handlers.message = [this, generation](const Message& message) {
    if (generation == broker_.generation) wire_->inbound(message);
  };
  // The will is made at every connect attempt, by the wire format, from
  // the agent as it is then: its catalog, its counters, the time.
  auto will = [this] { return wire_->will(encoder_->status(false, counters(), Clock::now())); };
  auto session = std::make_unique<MqttSession>(env_.executor, config().mqtt, std::move(will),
                                               std::move(handlers));
  broker_.link.session = session.get();
  return session;
}

std::unique_ptr<SourceRunner> Agent::make_runner(const SourceConfig& sc) {
  std::shared_ptr<Source> source = types_.find(sc.type)->create(sc, env_);
  // By name, not position: a reload may move the source in the list.
  auto runner = std::make_unique<SourceRunner>(
      env_.executor, std::move(source), [this, name = sc.name](TimePoint tick, std::vector<RawReading> readings) {
        deliver(name, tick, std::move(readings));
      });
  runner->start();
  return runner;
}

void Agent::deliver(const std::string& name, TimePoint tick, std::vector<RawReading> readings) {
  const auto found = model_->catalog.find_source(name);
  if (!found) return;  // removed by a reload while it polled
  const auto source = *found;
  follow_found_points(source);
  auto out = model_->pipeline.process(source, tick, readings);
  last_poll_[source] = LastPoll{tick, true, out.bad_points, std::move(out.first_error)};
  // Before its readings: a device answering again is born before its data.
  if (runners_[source]) tell_device_state(name, runners_[source]->source().health());
  if (!out.samples.empty()) {
    ++sequence_;
    if (publisher_->enqueue(encoder_->telemetry(name, sequence_, tick, out.samples))) {
      log::debug("stored telemetry #", sequence_, " of ", name, " as outbox record ", outbox_->last_id());
    }
  }
  publish_alarms(out.alarms, tick);
  // A device that said what it is (SunSpec discovery), or says something
  // else now: the catalog carries it, under the same id.
  if (runners_[source] && encoder_->set_device(name, runners_[source]->source().device_info())) {
    publish_state(encoder_->catalog(Clock::now()));
  }
  if (startup_.awaiting.erase(name) > 0) check_ready();
}

// A dormant device is dead to the wire format (Sparkplug's DDEATH) until
// it answers again; what it sends then goes out ahead of what follows.
void Agent::tell_device_state(const std::string& name, const SourceHealth& health) {
  const bool alive = health.state != DeviceState::dormant;
  if (alive == (dormant_.count(name) == 0)) return;
  if (alive) {
    dormant_.erase(name);
  } else {
    dormant_.insert(name);
  }
  auto messages = wire_->device_state(name, alive);
  if (!messages.empty() && broker_.link.connected()) publisher_->rebirth(messages);
}

void Agent::check_ready() {
  if (!startup_.awaiting.empty() || startup_.sent) return;
  startup_.sent = true;
  log::info("first poll of every source done");
  if (startup_.ready) startup_.ready();
}

void Agent::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  for (auto& r : runners_) r->stop();
  if (diag_) diag_->stop();
  if (timers_.status) timers_.status->cancel();
  if (!broker_.session) {
    done();
    return;
  }
  // A throw while draining is logged and the stop goes on without it: `done`
  // must run, or the process never exits.
  asio::co_spawn(env_.executor, drain_then_stop(drain, done), [this, done](std::exception_ptr error) {
    if (!error) return;
    log::error("stopping: draining the outbox failed: ", exception_text(error), "; stopping without it");
    try {
      finish_stop(done);
    } catch (...) {
      log::error("stopping: ", exception_text(std::current_exception()), "; exiting without status offline");
      done();
    }
  });
}

asio::awaitable<void> Agent::drain_then_stop(std::chrono::milliseconds drain,
                                             std::function<void()> done) {
  // The sources first (the publisher goes on sending meanwhile): what they
  // hold open on their devices (a Redfish session) is ended, each bounded.
  std::vector<std::shared_ptr<Source>> sources;
  for (const auto& r : runners_) {
    if (r) sources.push_back(r->shared_source());
  }
  co_await stop_sources(std::move(sources), kSourcesStopTimeout);
  // Give queued readings a moment to reach the broker before going offline.
  asio::steady_timer timer(env_.executor);
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (!publisher_->idle() && broker_.session->connected() &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (timers_.sync) timers_.sync->cancel();
  if (auto err = outbox_->sync()) {
    log::error("outbox ", config().outbox.dir, ": sync failed: ", err.message());
  }
  if (!publisher_->idle()) {
    const auto pending = outbox_->stats().pending;
    log::info(plural(pending, "message"), pending == 1 ? " waits" : " wait", " in the outbox for the next start");
  }
  finish_stop(std::move(done));
}

void Agent::finish_stop(std::function<void()> done) {
  const bool connected = broker_.session->connected();
  broker_.session->stop(wire_->death(encoder_->status(false, counters(), Clock::now())), kOfflineTimeout,
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
