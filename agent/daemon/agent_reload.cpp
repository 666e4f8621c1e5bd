// Reloading the config without a restart (SIGHUP, `rackwatch reload`): the
// new file is checked first; only what changed is touched, so unchanged
// sources keep their schedule and nothing taken is lost.
#include <malloc.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/plural.hpp"
#include "core/secrets.hpp"
#include "sources/source_runner.hpp"
#include "daemon/agent.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/publisher.hpp"
#include "publish/wire_format.hpp"
#include "sources/registry.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace {

bool same_outbox(const OutboxConfig& a, const OutboxConfig& b) {
  return a.dir == b.dir && a.max_bytes == b.max_bytes && a.fsync == b.fsync && a.fsync_interval == b.fsync_interval;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A coroutine of its own, not a lambda: GCC 12 destroys a coroutine
// lambda's captures twice when co_spawn runs it.
struct Parsed {
  std::optional<Config> config;
  Diagnostics diags;
};
boost::asio::awaitable<Parsed> load_elsewhere(std::string path, const SourceTypes* types) {
  Parsed p;
  p.config = load_config(path, *types, p.diags);
  co_return p;
}

}  // namespace

void Agent::replace_session(std::optional<Message> farewell) {
  // What was in flight on the old session is sent again after the new one
  // connects; the outbox holds it meanwhile.
  publisher_->disconnected();
  broker_.link.born = false;
  if (broker_.connected) broker_.since = Clock::now();
  broker_.connected = false;
  auto old = std::move(broker_.session);
  broker_.earlier_connects += old->stats().connects;
  broker_.earlier_losses += old->stats().connection_losses;
  broker_.session = make_session();  // its handlers are now the only ones heard
  MqttSession* leaving = old.get();
  broker_.retiring.push_back(std::move(old));
  leaving->stop(std::move(farewell), kOfflineTimeout, [this, leaving] {
    boost::asio::post(env_.executor, [this, leaving] {
      std::erase_if(broker_.retiring, [leaving](const auto& s) { return s.get() == leaving; });
    });
  });
  broker_.session->start();
}

boost::asio::awaitable<v1::ReloadResult> Agent::reload() {
  if (reload_.running) {
    v1::ReloadResult busy;
    busy.add_problems(config().file + ": a reload is already under way; try again when it has ended");
    co_return busy;
  }
  reload_.running = true;
  struct Done {
    bool& running;
    ~Done() { running = false; }  // also when the parse threw
  } done{reload_.running};
  // Off the executor: polls, the broker session and the diag socket go on
  // while a file of up to 1 MiB is read and parsed.
  auto parsed =
      co_await boost::asio::co_spawn(env_.blocking, load_elsewhere(config().file, &types_), boost::asio::use_awaitable);
  auto result = apply_reload(std::move(parsed.config), parsed.diags);
  // A large refused file leaves freed pages behind in the pool's arena.
  ::malloc_trim(0);
  co_return result;
}

v1::ReloadResult Agent::apply_reload(std::optional<Config> next, const Diagnostics& diags) {
  v1::ReloadResult result;
  if (!next) {
    for (const auto& d : diags.items()) result.add_problems(format_mark(d.mark) + ": " + d.message);
    if (diags.omitted() > 0) result.add_problems(config().file + ": " + diags.omitted_text());
    reload_.last_error = result.problems_size() > 0 ? result.problems(0) : "invalid config";
    log::error("reload of ", config().file, " refused, the running config stays: ", plural(diags.size(), "problem"));
    for (const auto& p : result.problems()) log::error("  ", p);
    return result;
  }

  std::vector<std::string> fixed;
  if (!same_outbox(next->outbox, config().outbox)) fixed.push_back("outbox");
  if (!(next->diag == config().diag)) fixed.push_back("diag");
  // The wire format and its ids are the agent's identity on the broker (the
  // Sparkplug ids only count under that format: they default to site and rack).
  if (next->mqtt.format != config().mqtt.format ||
      (next->mqtt.format == MqttFormat::sparkplug && !(next->mqtt.sparkplug == config().mqtt.sparkplug))) {
    fixed.push_back("mqtt.format and mqtt.sparkplug");
  }
  if (!fixed.empty()) {
    const std::string why = "changes to " + joined(fixed) +
                            " take effect only with a restart (systemctl restart rackwatchd); nothing was changed";
    result.add_problems(config().file + ": " + why);
    reload_.last_error = result.problems(0);
    log::error("reload of ", config().file, " refused: ", why);
    return result;
  }

  keep_secrets_out_of_dumps(*next);

  // A source kept running keeps the points it found on its device.
  std::vector<std::uint64_t> points_seen;
  for (auto& sc : next->sources) {
    const auto found = model_->catalog.find_source(sc.name);
    const bool kept = found && config().sources[*found].fingerprint == sc.fingerprint;
    points_seen.push_back(kept ? runners_[*found]->source().points_generation() : 0);
    if (kept) sc.points = runners_[*found]->source().config().points;
  }

  // The new model takes over the pipeline's state of the points that stay.
  auto model = std::make_unique<Model>(std::move(*next));
  model->pipeline.carry_over(model_->pipeline);
  const auto& old_catalog = model_->catalog;

  // Sources: kept when their YAML is the same, else restarted; by name.
  std::vector<bool> kept(runners_.size(), false);
  std::vector<std::unique_ptr<SourceRunner>> runners;
  std::vector<LastPoll> last_poll;
  for (const auto& sc : model->config.sources) {
    const auto found = old_catalog.find_source(sc.name);
    if (found && config().sources[*found].fingerprint == sc.fingerprint) {
      runners.push_back(std::move(runners_[*found]));
      last_poll.push_back(last_poll_[*found]);
      kept[*found] = true;
      continue;
    }
    if (found) {
      runners_[*found]->stop();
      runners_[*found].reset();
      kept[*found] = true;
      result.add_restarted(sc.name);
    } else {
      result.add_added(sc.name);
    }
    runners.push_back(nullptr);  // started below, once the new config is in place
    last_poll.emplace_back();
  }
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (kept[i]) continue;
    const auto& name = config().sources[i].name;
    runners_[i]->stop();
    result.add_removed(name);
    startup_.awaiting.erase(name);
  }

  const auto old_catalog_id = encoder_->catalog_id();
  const bool session_changed = !(model->config.agent == config().agent) || !(model->config.mqtt == config().mqtt);
  // The old session's last word, on the old topic: this agent as it was is offline.
  auto farewell = wire_->death(encoder_->status(false, counters(), Clock::now()));
  auto identity = encoder_->identity();
  model_ = std::move(model);
  identity.agent_id = config().agent.id;
  identity.site = config().agent.site;
  identity.rack = config().agent.rack;
  const auto devices_before = encoder_->devices();
  encoder_ = std::make_unique<NativeEncoder>(config(), model_->catalog, std::move(identity));
  if (session_changed) replace_session(std::move(farewell));
  runners_ = std::move(runners);
  // What the kept sources' devices said they are stays in the catalog.
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (runners_[i]) encoder_->set_device(config().sources[i].name, runners_[i]->source().device_info());
  }
  last_poll_ = std::move(last_poll);
  points_seen_ = std::move(points_seen);
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (!runners_[i]) runners_[i] = make_runner(config().sources[i]);
  }
  reload_.loaded = Clock::now();
  reload_.last_error.clear();
  check_ready();

  result.set_applied(true);
  result.set_session_restarted(session_changed);
  result.set_catalog_changed(encoder_->catalog_id() != old_catalog_id);
  // A new catalog goes through the outbox, ahead of the readings made for
  // it; a device's new info (same catalog) is retained state, sent now. Both
  // are in every birth after.
  if (result.catalog_changed()) {
    publisher_->enqueue(encoder_->catalog(Clock::now()));
  } else if (encoder_->devices() != devices_before) {
    publish_state(encoder_->catalog(Clock::now()));
  }
  // Alarms of points that are gone or whose thresholds changed leave the
  // active set; the others now refer to the catalog just sent.
  if (prune_active_alarms("withdrawn by a reload: the point or its thresholds changed")) {
    publish_active_alarms(Clock::now());
  }
  log::info("reloaded ", config().file, ": ", result.added_size(), " added, ", result.removed_size(), " removed, ",
            result.restarted_size(), " restarted, ", runners_.size() - static_cast<std::size_t>(result.added_size()) -
                static_cast<std::size_t>(result.restarted_size()),
            " unchanged", result.catalog_changed() ? "; catalog " + encoder_->catalog_id() : "",
            session_changed ? "; broker session restarted" : "");
  for (const auto& advice : source_advice(config(), types_)) log::warning(advice);
  return result;
}

void Agent::follow_found_points(std::size_t source) {
  if (!runners_[source]) return;
  const Source& found = runners_[source]->source();
  if (found.points_generation() == points_seen_[source]) return;
  points_seen_[source] = found.points_generation();
  Config next = config();
  next.sources[source].points = found.config().points;
  const auto old_id = encoder_->catalog_id();
  const auto old_size = model_->catalog.size();
  auto model = std::make_unique<Model>(std::move(next));
  model->pipeline.carry_over(model_->pipeline);
  auto identity = encoder_->identity();
  model_ = std::move(model);
  encoder_ = std::make_unique<NativeEncoder>(config(), model_->catalog, std::move(identity));
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (runners_[i]) encoder_->set_device(config().sources[i].name, runners_[i]->source().device_info());
  }
  const auto now = Clock::now();
  log::info("source ", found.config().name, " now has ", plural(found.config().points.size(), "point"),
            " as found on its device; catalog ", old_id, " (", plural(old_size, "point"), ") is now ",
            encoder_->catalog_id(), " (", plural(model_->catalog.size(), "point"), ")");
  publisher_->enqueue(encoder_->catalog(now));
  if (prune_active_alarms("withdrawn: the point is no longer found on the device of source " +
                          found.config().name)) {
    publish_active_alarms(now);
  }
}

}  // namespace rackwatch
