#include "sources/redfish/redfish_source.hpp"

#include <map>
#include <utility>

#include <boost/asio/co_spawn.hpp>

#include "core/log.hpp"
#include "core/plural.hpp"
#include "core/supervise.hpp"
#include "sources/duration_text.hpp"

namespace rackwatch::redfish {

namespace asio = boost::asio;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kStopped = "source stopped: nothing more is asked of the service";

void log_logout(const std::string& source, const Logout& done) {
  if (done.uri.empty()) return;
  if (done.error) {
    log::warning("redfish source '", source, "': ending session ", done.uri, " failed: ", done.error->message,
                 "; the service's session timeout ends it");
  } else {
    log::info("redfish source '", source, "': session ", done.uri, " ended");
  }
}

// A named coroutine (not a lambda) that keeps the session alive for its DELETE.
asio::awaitable<void> end_session(std::shared_ptr<RedfishSession> session, std::chrono::milliseconds timeout,
                                  std::string source) {
  const auto done = co_await session->logout(timeout);
  log_logout(source, done);
}

void logout_done(std::exception_ptr error) {
  if (error) log::warning("redfish: ending a session failed: ", exception_text(error));
}

std::string auth_text(const RedfishSettings& s) {
  if (s.auth == AuthKind::none) return "no login";
  return std::string(auth_kind_name(s.auth)) + " login as '" + s.user + "'";
}

}  // namespace

RedfishSource::RedfishSource(const SourceConfig& config, std::shared_ptr<const RedfishSettings> settings,
                             asio::any_io_executor executor)
    : Source(config),
      executor_(executor),
      settings_(std::move(settings)),
      session_(std::make_shared<RedfishSession>(std::move(executor), settings_)),
      health_(settings_->health) {
  if (settings_->scheme == Scheme::https && !settings_->tls_verify) {
    log::warning("redfish source '", config.name, "' (", settings_->endpoint(),
                 "): TLS verification is OFF (tls_verify: false): the service's certificate and host name are not "
                 "checked, so anyone on the path can pose as it and read its password; for lab use only");
  }
}

RedfishSource::~RedfishSource() {
  if (stopped_ || !session_->logged_in()) return;
  asio::co_spawn(executor_, end_session(session_, settings_->request_timeout, config().name), logout_done);
}

asio::awaitable<void> RedfishSource::stop() {
  if (stopped_) co_return;
  stopped_ = true;
  const auto done = co_await session_->logout(settings_->request_timeout);
  log_logout(config().name, done);
}

std::vector<RawReading> RedfishSource::failures(const std::string& why) const {
  return std::vector<RawReading>(config().points.size(), RawReading::failure(why, Clock::now()));
}

void RedfishSource::failed(const Error& error) {
  const bool changed = !last_error_ || last_error_->message != error.message;
  last_error_ = error;
  // A refused login repeats at every poll until someone fixes it: it counts
  // toward dormancy as silence does, so that it is tried once a probe.
  if (silent(error.kind) || error.kind == ErrorKind::auth) {
    if (health_.failed(SteadyClock::now(), error.message)) {
      log::warning("redfish source '", config().name, "' (", settings_->endpoint(), "): dormant after ",
                   health_.consecutive_failures(), " consecutive failures (last: ", error.message,
                   "); next probe in ", seconds_text(health_.backoff()));
      return;
    }
    if (changed) log::warning("redfish source '", config().name, "': ", error.message);
    return;
  }
  health_.answered();
  if (changed) log::warning("redfish source '", config().name, "': ", error.message);
}

void RedfishSource::answered() {
  if (health_.state() == DeviceState::dormant) {
    log::info("redfish source '", config().name, "' (", settings_->endpoint(), ") answers again");
  }
  health_.answered();
  last_error_.reset();
  last_success_ = Clock::now();
}

bool RedfishSource::rediscovery_due(SteadyClock::time_point now) const {
  if (!discovered_) return true;
  return settings_->rediscover.count() > 0 && now - discovered_at_ >= settings_->rediscover;
}

void RedfishSource::adopt(Discovery found) {
  const bool again = discovered_;
  if (again && found.points.empty()) {
    // A BMC that restarts answers with empty collections for a while: its
    // points are not withdrawn for that, and the walk is tried again.
    log::warning("redfish source '", config().name, "' (", settings_->endpoint(),
                 "): a new walk of the service found no points; keeping the ", points_.size(), " found before");
    ++discoveries_;
    discovery_requests_ += found.requests;
    return;
  }
  // A service that shows nothing yet (a BMC still starting) is walked
  // again at the next poll.
  discovered_ = !found.points.empty();
  discovered_at_ = SteadyClock::now();
  ++discoveries_;
  discovery_requests_ += found.requests;
  copies_ = found.copies;
  skipped_ = std::move(found.skipped);
  absent_ = std::move(found.absent);
  if (quirks_ != found.quirks) {
    for (const auto& q : found.quirks) log::info("redfish source '", config().name, "': ", q);
  }
  quirks_ = std::move(found.quirks);
  expand_ = std::move(found.expand);
  if (again && same_points(points_, found.points)) return;
  if (again) {
    ++discovery_changes_;
    log::info("redfish source '", config().name, "' (", settings_->endpoint(), "): the service's points changed (",
              points_.size(), " → ", found.points.size(), ")");
  }
  points_ = std::move(found.points);
  resources_.clear();
  std::map<std::string, std::size_t> by_uri;
  std::vector<PointConfig> configs;
  configs.reserve(points_.size());
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const auto& p = points_[i];
    const auto& fetched = p.via.empty() ? p.resource : p.via;
    auto [it, fresh] = by_uri.emplace(fetched, resources_.size());
    if (fresh) resources_.push_back({fetched, {}});
    resources_[it->second].points.push_back(i);
    PointConfig c;
    c.name = p.name;
    c.quantity = p.kind.quantity;
    c.unit = p.kind.unit;
    c.from = p.kind.from;
    c.description = p.description.substr(0, kMaxTextBytes);
    c.thresholds = p.thresholds;
    configs.push_back(std::move(c));
  }
  log::info("redfish source '", config().name, "' (", settings_->endpoint(), "): found ",
            plural(points_.size(), "point"), " in ", plural(resources_.size(), "resource"), " with ",
            plural(found.requests, "request"), expand_.empty() ? " (no $expand)" : " (" + expand_ + ")", "; ",
            plural(absent_.size(), "link"), " to absent resources");
  replace_points(std::move(configs));
}

asio::awaitable<std::vector<RawReading>> RedfishSource::poll() {
  // Stopped: nothing is asked (the session is ended) and nothing counted.
  if (stopped_) co_return failures(kStopped);
  ++polls_;
  requests_last_poll_ = 0;
  const auto start = SteadyClock::now();
  if (!health_.due(start)) {
    ++dormant_polls_;
    const auto next = health_.next_probe().value_or(start);
    co_return failures("device dormant after " + std::to_string(health_.consecutive_failures()) +
                       " failures (last: " + health_.last_error() + "); next probe in " + seconds_text(next - start));
  }
  const auto gets_before = session_->counters().gets;
  if (rediscovery_due(start)) {
    DiscoveryOptions options;
    options.max_points = kMaxPointsPerSource;
    options.expand = settings_->expand;
    auto found = co_await discover(*session_, options);
    requests_last_poll_ = session_->counters().gets - gets_before;
    if (stopped_) co_return failures(kStopped);
    if (!found) {
      failed(found.error());
      co_return failures(found.error().message);
    }
    answered();
    adopt(std::move(found).value());
  }
  std::vector<RawReading> out(points_.size());
  for (std::size_t r = 0; r < resources_.size(); ++r) {
    const auto& resource = resources_[r];
    auto body = co_await session_->get(resource.uri);
    requests_last_poll_ = session_->counters().gets - gets_before;
    if (stopped_) co_return failures(kStopped);
    const TimePoint now = Clock::now();
    if (!body) {
      const auto& error = body.error();
      if (error.kind == ErrorKind::status && error.status == 404) {
        ++absent_reads_;
        for (auto i : resource.points) out[i] = RawReading::failure(error.message + ": the resource is gone", now);
        continue;
      }
      failed(error);
      // What is not read yet has the same reason.
      for (std::size_t rest = r; rest < resources_.size(); ++rest) {
        for (auto i : resources_[rest].points) out[i] = RawReading::failure(error.message, now);
      }
      co_return out;
    }
    answered();
    const json::value value = std::move(body).value();
    for (auto i : resource.points) out[i] = read_point(value, points_[i], now);
  }
  co_return out;
}

SourceHealth RedfishSource::health() const {
  SourceHealth h;
  h.state = last_error_ && !silent(last_error_->kind) && last_error_->kind != ErrorKind::auth
                ? DeviceState::degraded
                : health_.state();
  if (last_error_) {
    h.detail = last_error_->message;
  } else if (health_.state() != DeviceState::ok) {
    h.detail = health_.last_error();
  }
  if (auto next = health_.next_probe()) h.detail += "; next probe in " + seconds_text(*next - SteadyClock::now());
  const auto& s = session_->counters();
  const auto& c = session_->http_counters();
  h.counters = {{"polls", polls_},
                {"requests", c.requests},
                {"requests_last_poll", requests_last_poll_},
                {"connects", c.connects},
                {"reconnects", c.reconnects},
                {"timeouts", c.timeouts},
                {"tls_failures", c.tls_failures},
                {"logins", s.logins},
                {"login_failures", s.login_failures},
                {"sessions_expired", s.expired},
                {"not_found", s.not_found},
                {"discoveries", discoveries_},
                {"discovery_requests", discovery_requests_},
                {"discovery_changes", discovery_changes_},
                {"points", points_.size()},
                {"resources_polled", resources_.size()},
                {"excerpts_of_sensors", copies_},
                {"absent_links", absent_.size()},
                {"absent_reads", absent_reads_},
                {"consecutive_failures", health_.consecutive_failures()},
                {"dormant", health_.dormant_count()},
                {"dormant_polls", dormant_polls_}};
  h.last_success = last_success_;
  std::string where = "redfish " + settings_->endpoint() + ", " + auth_text(*settings_);
  if (settings_->scheme == Scheme::https && !settings_->tls_verify) where += ", TLS NOT VERIFIED";
  h.notes.push_back(where);
  if (discoveries_ > 0) {
    h.notes.push_back(expand_.empty() ? std::string("collections read member by member (no $expand)")
                                      : "collections read with " + expand_);
  }
  // The first few of each: a service with hundreds of broken links must
  // not flood `rackwatch probe`.
  constexpr std::size_t kShown = 10;
  for (std::size_t i = 0; i < absent_.size() && i < kShown; ++i) h.notes.push_back("absent (404): " + absent_[i]);
  if (absent_.size() > kShown) h.notes.push_back("and " + std::to_string(absent_.size() - kShown) + " more absent");
  for (std::size_t i = 0; i < quirks_.size() && i < kShown; ++i) h.notes.push_back("service quirk: " + quirks_[i]);
  for (std::size_t i = 0; i < skipped_.size() && i < kShown; ++i) h.notes.push_back("left out: " + skipped_[i]);
  if (skipped_.size() > kShown) h.notes.push_back("and " + std::to_string(skipped_.size() - kShown) + " more left out");
  return h;
}

}  // namespace rackwatch::redfish
