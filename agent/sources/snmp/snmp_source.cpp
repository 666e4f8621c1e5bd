#include "sources/snmp/snmp_source.hpp"

#include <algorithm>
#include <utility>

#include "core/log.hpp"
#include "sources/duration_text.hpp"

namespace rackwatch::snmp {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Errors that mean the device did not answer at all; a report or an
// error-status is an answer from a live device that refused something.
bool silent(ErrorKind kind) {
  return kind == ErrorKind::timeout || kind == ErrorKind::open_failed || kind == ErrorKind::send_failed;
}

}  // namespace

SnmpSource::SnmpSource(const SourceConfig& config, std::shared_ptr<const SnmpSettings> settings,
                       asio::any_io_executor executor)
    : Source(config),
      settings_(std::move(settings)),
      session_(std::move(executor), settings_->host, settings_->port, settings_->credentials,
               settings_->request_timeout),
      health_(settings_->health) {}

std::vector<RawReading> SnmpSource::failures(const std::string& why) const {
  std::vector<RawReading> out(config().points.size(), RawReading::failure(why, Clock::now()));
  return out;
}

void SnmpSource::failed(const Error& error) {
  const bool changed = !last_error_ || last_error_->message != error.message;
  last_error_ = error;
  if (silent(error.kind)) {
    if (health_.failed(SteadyClock::now(), error.message)) {
      log::warning("snmp source '", config().name, "' (", session_.endpoint(), "): dormant after ",
                   health_.consecutive_failures(), " consecutive failures (last: ", error.message,
                   "); next probe in ", seconds_text(health_.backoff()));
    }
    return;
  }
  health_.answered();
  // A refusal repeats at every poll until the config changes: said once.
  if (changed) log::warning("snmp source '", config().name, "': ", error.message);
}

asio::awaitable<std::vector<RawReading>> SnmpSource::poll() {
  ++polls_;
  const auto start = SteadyClock::now();
  if (!health_.due(start)) {
    ++dormant_polls_;
    const auto next = health_.next_probe().value_or(start);
    co_return failures("device dormant after " + std::to_string(health_.consecutive_failures()) +
                       " failures (last: " + health_.last_error() + "); next probe in " +
                       seconds_text(next - start));
  }
  const auto& points = settings_->points;
  std::vector<RawReading> out;
  out.reserve(points.size());
  const std::size_t batch = std::max<std::size_t>(settings_->max_varbinds, 1);
  for (std::size_t first = 0; first < points.size(); first += batch) {
    const std::size_t last = std::min(points.size(), first + batch);
    std::vector<Oid> oids;
    for (std::size_t i = first; i < last; ++i) oids.push_back(points[i].oid);
    auto answer = co_await session_.get(oids);
    const TimePoint now = Clock::now();
    if (!answer) {
      failed(answer.error());
      const std::string why = answer.error().message;
      out.resize(points.size(), RawReading::failure(why, now));
      co_return out;
    }
    if (health_.state() == DeviceState::dormant) {
      log::info("snmp source '", config().name, "' (", session_.endpoint(), ") answers again");
    }
    health_.answered();
    last_error_.reset();
    last_success_ = now;
    for (std::size_t i = first; i < last; ++i) {
      const VarBind& var = (*answer)[i - first];
      const Number n = to_number(var);
      if (n.value) {
        out.push_back(RawReading::success(*n.value, now));
      } else {
        out.push_back(RawReading::failure(format_oid(points[i].oid) + ": " + n.error, now));
      }
    }
  }
  co_return out;
}

SourceHealth SnmpSource::health() const {
  SourceHealth h;
  // A device that answers but refuses (a wrong key) is alive, not well.
  h.state = last_error_ && !silent(last_error_->kind) ? DeviceState::degraded : health_.state();
  if (last_error_) {
    h.detail = last_error_->message;
  } else if (health_.state() != DeviceState::ok) {
    h.detail = health_.last_error();
  }
  if (auto next = health_.next_probe()) h.detail += "; next probe in " + seconds_text(*next - SteadyClock::now());
  const Counters& c = session_.counters();
  h.counters = {{"polls", polls_},
                {"requests", c.requests},
                {"responses", c.responses},
                {"timeouts", c.timeouts},
                {"auth_errors", c.auth_errors},
                {"other_reports", c.other_reports},
                {"error_status", c.error_status},
                {"datagrams_dropped", c.datagrams_dropped},
                {"discoveries", c.discoveries},
                {"consecutive_failures", health_.consecutive_failures()},
                {"dormant", health_.dormant_count()},
                {"dormant_polls", dormant_polls_}};
  h.last_success = last_success_;
  std::string where = "snmp " + session_.endpoint() + " ";
  const auto& cr = settings_->credentials;
  if (cr.version == Version::v2c) {
    where += "v2c";
  } else {
    where += std::string("v3 user '") + cr.user + "' " + security_level_name(cr.level);
    if (const auto id = session_.engine_id(); !id.empty()) where += ", engine " + id;
  }
  h.notes.push_back(where);
  return h;
}

}  // namespace rackwatch::snmp
