#include "sources/snmp/snmp_source.hpp"

#include <algorithm>
#include <utility>

#include "core/log.hpp"
#include "core/plural.hpp"
#include "sources/duration_text.hpp"
#include "sources/snmp/snmp_walk.hpp"

namespace rackwatch::snmp {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Errors that mean the device did not answer at all; a report or an
// error-status is an answer from a live device that refused something.
bool silent(ErrorKind kind) {
  return kind == ErrorKind::timeout || kind == ErrorKind::open_failed || kind == ErrorKind::send_failed;
}

const Oid kSysDescr{1, 3, 6, 1, 2, 1, 1, 1, 0};
const Oid kSysObjectId{1, 3, 6, 1, 2, 1, 1, 2, 0};

bool same_rows(const Expansion& a, const Expansion& b) {
  if (a.made.size() != b.made.size()) return false;
  for (std::size_t i = 0; i < a.made.size(); ++i) {
    const auto& x = a.made[i];
    const auto& y = b.made[i];
    if (x.table != y.table || x.point != y.point || x.row != y.row ||
        a.configs[i].description != b.configs[i].description) {
      return false;
    }
  }
  return true;
}

}  // namespace

SnmpSource::SnmpSource(const SourceConfig& config, std::shared_ptr<const SnmpSettings> settings,
                       asio::any_io_executor executor)
    : Source(config),
      settings_(std::move(settings)),
      session_(std::move(executor), settings_->host, settings_->port, settings_->credentials,
               settings_->request_timeout),
      health_(settings_->health) {
  plan_.profile = settings_->profile;
  for (const auto& p : settings_->points) plan_.scalars.push_back(p.oid);
  plan_.scalar_points = plan_.scalars.size();
}

std::vector<RawReading> SnmpSource::failures(const std::string& why) const {
  return std::vector<RawReading>(config().points.size(), RawReading::failure(why, Clock::now()));
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

void SnmpSource::answered() {
  if (health_.state() == DeviceState::dormant) {
    log::info("snmp source '", config().name, "' (", session_.endpoint(), ") answers again");
  }
  health_.answered();
  last_error_.reset();
  last_success_ = Clock::now();
}

// profile: auto. The device says what it is once; the choice holds until
// the source is restarted (a reload that changes it, a restart).
asio::awaitable<std::optional<Error>> SnmpSource::choose() {
  // A named vector: GCC 12 cannot hold an initializer list across co_await.
  const std::vector<Oid> asked{kSysObjectId, kSysDescr};
  auto said = co_await session_.get(asked);
  if (!said) co_return said.error();
  std::optional<Oid> object_id;
  if ((*said)[0].type == VarType::object_id) object_id = parse_oid((*said)[0].bytes);
  const std::string descr = (*said)[1].type == VarType::octet_string ? (*said)[1].bytes : std::string();
  auto choice = choose_profile(settings_->candidates, settings_->fallback, object_id, descr);
  plan_.profile = choice.profile;
  plan_.chosen_why = std::move(choice.why);
  log::info("snmp source '", config().name, "' (", session_.endpoint(), "): profile ",
            plan_.profile ? plan_.profile->name : std::string("none"), ": ", plan_.chosen_why);
  if (!plan_.profile) co_return std::nullopt;
  // The profile's scalars follow the source's own points.
  std::vector<PointConfig> points(config().points.begin(),
                                  config().points.begin() + static_cast<std::ptrdiff_t>(plan_.scalar_points));
  for (std::size_t i = 0; i < plan_.profile->points.size(); ++i) {
    const auto& p = plan_.profile->points[i];
    if (std::any_of(points.begin(), points.end(), [&](const PointConfig& q) { return q.name == p.name; })) {
      plan_.rows.skipped.push_back("profile point '" + p.name + "' has the name of one of the source's own points");
      continue;
    }
    points.push_back(p);
    plan_.scalars.push_back(plan_.profile->oids[i].oid);
  }
  plan_.scalar_points = points.size();
  plan_.rows = {};
  rows_found_ = false;
  previous_rows_.clear();
  replace_points(std::move(points));
  co_return std::nullopt;
}

asio::awaitable<std::optional<Error>> SnmpSource::read_scalars(std::vector<RawReading>& out) {
  const auto& oids = plan_.scalars;
  const std::size_t batch = std::max<std::size_t>(settings_->max_varbinds, 1);
  for (std::size_t first = 0; first < oids.size(); first += batch) {
    const std::size_t last = std::min(oids.size(), first + batch);
    std::vector<Oid> asked(oids.begin() + static_cast<std::ptrdiff_t>(first),
                           oids.begin() + static_cast<std::ptrdiff_t>(last));
    auto answer = co_await session_.get(asked);
    if (!answer) co_return answer.error();
    answered();
    const TimePoint now = Clock::now();
    for (std::size_t i = first; i < last; ++i) {
      const Number n = to_number((*answer)[i - first]);
      out.push_back(n.value ? RawReading::success(*n.value, now)
                            : RawReading::failure(format_oid(oids[i]) + ": " + n.error, now));
    }
  }
  co_return std::nullopt;
}

asio::awaitable<Result<std::vector<Rows>, Error>> SnmpSource::walk_tables() {
  std::vector<Rows> out;
  last_rows_.resize(plan_.profile->tables.size());
  for (std::size_t t = 0; t < plan_.profile->tables.size(); ++t) {
    const auto& table = plan_.profile->tables[t];
    TableWalk walk(table.columns, kMaxPointsPerSource);
    while (!walk.done()) {
      // A GETBULK's repetitions run on past the table's end into whatever
      // follows: asking for the rows the last walk found, and one more to
      // see the end, spares the device and the agent the rest.
      unsigned repetitions = settings_->max_repetitions;
      if (last_rows_[t]) {
        const std::size_t seen = walk.rows().size();
        const std::size_t left = *last_rows_[t] > seen ? *last_rows_[t] - seen : 0;
        repetitions = static_cast<unsigned>(std::clamp<std::size_t>(left + 1, 1, settings_->max_repetitions));
      }
      auto answer = co_await session_.get_bulk(walk.next_request(), repetitions);
      ++walk_requests_;
      if (!answer) co_return answer.error();
      if (auto wrong = walk.take(*answer)) {
        co_return Error{ErrorKind::bad_walk, session_.endpoint() + " " + *wrong + " (table " + table.name +
                                                 " of profile " + plan_.profile->name + "); its rows are not read"};
      }
    }
    answered();
    last_rows_[t] = walk.rows().size();
    out.push_back(walk.take_rows());
  }
  co_return out;
}

void SnmpSource::adopt_rows(const std::vector<Rows>& rows) {
  // Most polls find what the last one found: then nothing is remade.
  if (rows_found_ && previous_rows_.size() == rows.size()) {
    bool same = true;
    for (std::size_t t = 0; t < rows.size() && same; ++t) {
      same = same_points(plan_.profile->tables[t], previous_rows_[t], rows[t]);
    }
    if (same) return;
  }
  std::vector<std::string> taken;
  for (std::size_t i = 0; i < plan_.scalar_points; ++i) taken.push_back(config().points[i].name);
  const std::size_t room = kMaxPointsPerSource - std::min(kMaxPointsPerSource, plan_.scalar_points);
  auto found = expand_rows(plan_.profile->tables, rows, std::move(taken), room);
  const bool first = !rows_found_;
  rows_found_ = true;
  if (same_rows(found, plan_.rows)) {
    plan_.rows.skipped = std::move(found.skipped);
    return;
  }
  if (!first) ++row_changes_;
  log::info("snmp source '", config().name, "' (", session_.endpoint(), "): ", first ? "found " : "rows changed: ",
            plural(found.made.size(), "table point"), first ? "" : " (were " + std::to_string(plan_.rows.made.size()) + ")");
  for (const auto& s : found.skipped) log::warning("snmp source '", config().name, "': ", s);
  std::vector<PointConfig> points(config().points.begin(),
                                  config().points.begin() + static_cast<std::ptrdiff_t>(plan_.scalar_points));
  points.insert(points.end(), found.configs.begin(), found.configs.end());
  plan_.rows = std::move(found);
  replace_points(std::move(points));
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
  if (settings_->auto_profile && !plan_.profile) {
    if (auto error = co_await choose()) {
      failed(*error);
      co_return failures(error->message);
    }
  }
  std::vector<RawReading> out;
  out.reserve(config().points.size());
  if (auto error = co_await read_scalars(out)) {
    failed(*error);
    co_return failures(error->message);
  }
  if (!plan_.profile || plan_.profile->tables.empty()) co_return out;
  auto rows = co_await walk_tables();
  if (!rows) {
    failed(rows.error());
    out.resize(config().points.size(), RawReading::failure(rows.error().message, Clock::now()));
    co_return out;
  }
  adopt_rows(*rows);
  const TimePoint now = Clock::now();
  for (const auto& made : plan_.rows.made) {
    const auto& table = plan_.profile->tables[made.table];
    const auto& cells = (*rows)[made.table].at(made.row);
    const Number n = row_value(table, table.points[made.point], made.row, cells);
    out.push_back(n.value ? RawReading::success(*n.value, now) : RawReading::failure(n.error, now));
  }
  previous_rows_ = std::move(*rows);
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
                {"varbinds", c.varbinds},
                {"timeouts", c.timeouts},
                {"auth_errors", c.auth_errors},
                {"other_reports", c.other_reports},
                {"error_status", c.error_status},
                {"datagrams_dropped", c.datagrams_dropped},
                {"discoveries", c.discoveries},
                {"walk_requests", walk_requests_},
                {"table_points", plan_.rows.made.size()},
                {"row_changes", row_changes_},
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
  if (plan_.profile) {
    std::string note = "profile " + plan_.profile->name + " (" + plan_.profile->description + ")";
    if (settings_->auto_profile) note += ", chosen by profile: auto: " + plan_.chosen_why;
    h.notes.push_back(note);
  } else if (settings_->auto_profile) {
    h.notes.push_back("profile: auto, not chosen yet: the device has not answered");
  }
  for (const auto& s : plan_.rows.skipped) h.notes.push_back(s);
  return h;
}

}  // namespace rackwatch::snmp
