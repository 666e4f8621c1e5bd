// What the agent tells the diag socket: its status, the latest value of every
// point, the health of every device, and a poll on demand. Built from the
// agent's own state on its executor; nothing here blocks.
#include <fnmatch.h>

#include <cstdio>

#include "core/derived_config.hpp"
#include "core/log.hpp"
#include "sources/source_runner.hpp"
#include "daemon/agent.hpp"
#include "diag/diag_server.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/publisher.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

namespace {

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::int64_t ms_or_zero(TimePoint t) { return t == TimePoint{} ? 0 : to_unix_ms(t); }

}  // namespace

void Agent::start_diag() {
  diag_ = std::make_unique<diag::DiagServer>(
      env_.executor, config().diag.socket,
      [this](const v1::DiagRequest& request) { return handle(request); });
  std::string error;
  if (diag_->start(error)) {
    // Diagnostics are not worth stopping the monitoring for.
    log::error(error, "; running without the diag socket (`rackwatch probe` still works)");
    diag_.reset();
    return;
  }
  log::info("diag socket ", config().diag.socket);
}

std::string Agent::source_state(std::size_t i) const {
  const auto health = runners_[i]->source().health();
  if (health.state == DeviceState::dormant) return "dormant";
  const auto& last = last_poll_[i];
  if (!last.polled) return "starting";
  const auto points = config().sources[i].points.size();
  if (last.bad_points == points && points > 0) return "failing";
  if (last.bad_points > 0 || health.state == DeviceState::degraded) return "degraded";
  return "ok";
}

v1::AgentState Agent::status_snapshot() const {
  v1::AgentState s;
  const auto& id = encoder_->identity();
  s.set_version(id.version);
  s.set_agent_id(id.agent_id);
  s.set_site(id.site);
  s.set_rack(id.rack);
  s.set_boot_id(id.boot_id);
  s.set_catalog_id(encoder_->catalog_id());
  s.set_start_time_ms(to_unix_ms(id.start_time));
  s.set_now_ms(to_unix_ms(Clock::now()));
  s.set_config_file(config().file);
  s.set_config_hash(hex16(config().content_hash));
  s.set_config_loaded_ms(to_unix_ms(reload_.loaded));
  s.set_last_reload_error(reload_.last_error);

  auto* b = s.mutable_broker();
  const auto& stats = broker_.session->stats();
  b->set_connected(broker_.session->connected());
  b->set_waiting(broker_.waiting);
  b->set_broker(stats.broker);
  b->set_since_ms(ms_or_zero(broker_.since));
  b->set_last_error(broker_.last_error.empty() ? stats.last_error : broker_.last_error);
  b->set_connects(broker_.earlier_connects + stats.connects);
  b->set_disconnects(broker_.earlier_losses + stats.connection_losses);
  if (publisher_) b->set_last_refusal(publisher_->stats().last_refusal);

  const auto c = counters();
  fill_outbox_status(c.outbox, *s.mutable_outbox());
  s.set_telemetry_sequence(c.telemetry_sequence);
  s.set_messages_published(c.messages_published);
  s.set_messages_dropped(c.messages_dropped);
  for (const auto& r : c.restarts) fill_restarts(r, *s.add_restarts());

  for (const auto& [key, alarm] : alarms_.active) *s.add_active_alarms() = alarm;

  for (std::size_t i = 0; i < runners_.size(); ++i) {
    const auto& sc = config().sources[i];
    const auto& rs = runners_[i]->stats();
    const auto& last = last_poll_[i];
    auto* src = s.add_sources();
    src->set_name(sc.name);
    src->set_type(sc.type);
    src->set_state(source_state(i));
    src->set_interval_ms(static_cast<std::uint32_t>(sc.interval.count()));
    src->set_points(static_cast<std::uint32_t>(sc.points.size()));
    src->set_bad_points(last.bad_points);
    src->set_polls(rs.polls);
    src->set_timeouts(rs.timeouts);
    src->set_overruns(rs.overruns);
    src->set_missed_ticks(rs.missed_ticks);
    src->set_last_poll_us(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(rs.last_duration).count()));
    src->set_last_poll_ms(ms_or_zero(last.tick));
    const auto health = runners_[i]->source().health();
    src->set_last_error(health.state == DeviceState::dormant ? health.detail : last.first_error);
  }
  return s;
}

void Agent::fill_point(std::uint32_t index, const Sample& sample, v1::PointValue& out) const {
  const auto& point = model_->catalog[index];
  out.set_id(point.id);
  out.set_source(std::string(point.device));
  out.set_point(point.config->name);
  if (has_value(sample.quality)) out.set_value(sample.value);
  out.set_quality(static_cast<v1::Quality>(sample.quality));
  // A point not read yet says so, rather than showing an empty reason.
  out.set_reason(sample.quality == Quality::unknown && sample.reason.empty() ? "not read yet" : sample.reason);
  out.set_unit_symbol(std::string(unit_symbol(point.config->unit)));
  out.set_time_ms(ms_or_zero(sample.time));
}

v1::PointValues Agent::read_snapshot(const v1::ReadRequest& request, std::string& error) const {
  v1::PointValues out;
  const auto& catalog = model_->catalog;
  const auto& latest = model_->pipeline.latest();
  // Derived points read as one more source.
  bool found = request.source().empty();
  for (std::uint32_t i = 0; i < catalog.size(); ++i) {
    const auto& point = catalog[i];
    if (!request.source().empty() && point.device != request.source()) continue;
    found = true;
    if (!request.point_glob().empty() &&
        ::fnmatch(request.point_glob().c_str(), point.config->name.c_str(), 0) != 0) {
      continue;
    }
    fill_point(i, latest[i], *out.add_points());
  }
  if (!found) {
    std::string names;
    for (const auto& sc : config().sources) names += (names.empty() ? "" : ", ") + sc.name;
    if (!config().derived.empty()) names += ", " + std::string(kDerivedDevice);
    error = "no source named '" + request.source() + "' (sources: " + names + ")";
  }
  return out;
}

v1::DeviceList Agent::devices_snapshot() const {
  v1::DeviceList out;
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    const auto& sc = config().sources[i];
    const auto health = runners_[i]->source().health();
    const auto& rs = runners_[i]->stats();
    auto* d = out.add_devices();
    d->set_source(sc.name);
    d->set_type(sc.type);
    // Sources without a device model of their own are judged by their polls.
    d->set_state(health.state ? std::string(device_state_name(*health.state)) : source_state(i));
    d->set_detail(health.state ? health.detail : last_poll_[i].first_error);
    auto add = [d](const std::string& name, std::uint64_t value) {
      auto* c = d->add_counters();
      c->set_name(name);
      c->set_value(value);
    };
    if (health.counters.empty()) {
      add("polls", rs.polls);
      add("timeouts", rs.timeouts);
      add("overruns", rs.overruns);
      add("missed ticks", rs.missed_ticks);
    }
    for (const auto& [name, value] : health.counters) add(name, value);
    // A source's own notion (a Modbus answer) is finer than a poll's; every
    // other type has the runner's.
    const auto last_success = health.last_success ? health.last_success : rs.last_success;
    if (last_success) d->set_last_success_ms(to_unix_ms(*last_success));
    for (const auto& note : health.notes) d->add_notes(note);
  }
  return out;
}

asio::awaitable<v1::DiagResponse> Agent::handle(const v1::DiagRequest& request) {
  v1::DiagResponse response;
  switch (request.request_case()) {
    case v1::DiagRequest::kStatus:
      *response.mutable_status() = status_snapshot();
      break;
    case v1::DiagRequest::kRead: {
      std::string error;
      *response.mutable_read() = read_snapshot(request.read(), error);
      if (!error.empty()) response.set_error(error);
      break;
    }
    case v1::DiagRequest::kDevices:
      *response.mutable_devices() = devices_snapshot();
      break;
    case v1::DiagRequest::kPoll: {
      const auto found = model_->catalog.find_source(request.poll().source());
      if (!found) {
        std::string names;
        for (const auto& sc : config().sources) names += (names.empty() ? "" : ", ") + sc.name;
        response.set_error("no source named '" + request.poll().source() + "' (sources: " + names + ")");
        break;
      }
      const auto i = *found;
      auto outcome = co_await runners_[i]->poll_now();
      // A reload while it polled may have replaced the source: show nothing stale.
      if (model_->catalog.find_source(request.poll().source()) != found) {
        response.set_error("source '" + request.poll().source() + "' was reloaded during the poll; try again");
        break;
      }
      follow_found_points(i);
      auto* values = response.mutable_poll();
      for (const auto& sample : model_->pipeline.condition_only(i, outcome.readings)) {
        fill_point(sample.point, sample, *values->add_points());
      }
      break;
    }
    case v1::DiagRequest::kReload:
      *response.mutable_reload() = co_await reload();
      break;
    case v1::DiagRequest::REQUEST_NOT_SET:
      response.set_error("empty request");
      break;
  }
  co_return response;
}

}  // namespace rackwatch
