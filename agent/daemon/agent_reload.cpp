// Reloading the config without a restart (SIGHUP, `rackwatch reload`): the
// new file is checked first; only what changed is touched, so unchanged
// sources keep their schedule and nothing taken is lost.
#include <map>

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "sources/source_runner.hpp"
#include "daemon/agent.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/publisher.hpp"
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

}  // namespace

void Agent::replace_session(Message farewell) {
  // What was in flight on the old session is sent again after the new one
  // connects; the outbox holds it meanwhile.
  publisher_->disconnected();
  if (broker_.connected) broker_.since = Clock::now();
  broker_.connected = false;
  auto old = std::move(session_);
  session_ = make_session();  // its handlers are now the only ones heard
  MqttSession* leaving = old.get();
  retiring_.push_back(std::move(old));
  leaving->stop(std::move(farewell), kOfflineTimeout, [this, leaving] {
    boost::asio::post(executor_, [this, leaving] {
      std::erase_if(retiring_, [leaving](const auto& s) { return s.get() == leaving; });
    });
  });
  session_->start();
}

v1::ReloadResult Agent::reload() {
  v1::ReloadResult result;
  Diagnostics diags;
  auto next = load_config(config_.file, types_, diags);
  if (!next) {
    for (const auto& d : diags.items()) result.add_problems(format_mark(d.mark) + ": " + d.message);
    last_reload_error_ = result.problems_size() > 0 ? result.problems(0) : "invalid config";
    log::error("reload of ", config_.file, " refused, the running config stays: ", diags.size(), " problem(s)");
    for (const auto& p : result.problems()) log::error("  ", p);
    return result;
  }

  std::vector<std::string> fixed;
  if (!same_outbox(next->outbox, config_.outbox)) fixed.push_back("outbox");
  if (!(next->diag == config_.diag)) fixed.push_back("diag");
  if (!fixed.empty()) {
    const std::string why = "changes to " + joined(fixed) +
                            " take effect only with a restart (systemctl restart rackwatchd); nothing was changed";
    result.add_problems(config_.file + ": " + why);
    last_reload_error_ = result.problems(0);
    log::error("reload of ", config_.file, " refused: ", why);
    return result;
  }

  // Sources: kept when their YAML is the same, else restarted; by name.
  std::map<std::string, std::size_t> old_index = source_index_;
  std::vector<std::unique_ptr<SourceRunner>> runners;
  std::vector<LastPoll> last_poll;
  for (const auto& sc : next->sources) {
    const auto found = old_index.find(sc.name);
    if (found != old_index.end() && config_.sources[found->second].fingerprint == sc.fingerprint) {
      runners.push_back(std::move(runners_[found->second]));
      last_poll.push_back(last_poll_[found->second]);
      old_index.erase(found);
      continue;
    }
    if (found != old_index.end()) {
      runners_[found->second]->stop();
      runners_[found->second].reset();
      old_index.erase(found);
      result.add_restarted(sc.name);
    } else {
      result.add_added(sc.name);
    }
    runners.push_back(nullptr);  // started below, once the new config is in place
    last_poll.emplace_back();
  }
  for (const auto& [name, i] : old_index) {
    runners_[i]->stop();
    result.add_removed(name);
    awaiting_first_poll_.erase(name);
  }

  // The latest values follow their points to their new places.
  std::map<std::string, Sample> latest;
  for_each_point([&](std::uint32_t index, const std::string& id, const PointConfig&, Millis) {
    latest[id] = latest_[index];
  });

  const auto old_catalog = encoder_->catalog_id();
  const bool session_changed = !(next->agent == config_.agent) || !(next->mqtt == config_.mqtt);
  // The old session's last word, on the old topic: this agent as it was is offline.
  auto farewell = encoder_->status(false, counters(), Clock::now());
  auto identity = encoder_->identity();
  config_ = std::move(*next);
  identity.agent_id = config_.agent.id;
  identity.site = config_.agent.site;
  identity.rack = config_.agent.rack;
  encoder_ = std::make_unique<NativeEncoder>(config_, std::move(identity));
  if (session_changed) replace_session(std::move(farewell));
  runners_ = std::move(runners);
  last_poll_ = std::move(last_poll);
  index_sources();
  latest_.assign(encoder_->point_count(), Sample{});
  for_each_point([&](std::uint32_t index, const std::string& id, const PointConfig&, Millis) {
    const auto it = latest.find(id);
    if (it == latest.end()) return;
    latest_[index] = it->second;
    latest_[index].point = index;
  });
  const auto old_ids = threshold_ids_;
  init_thresholds();
  init_derived(std::move(derived_));
  init_report(old_ids);
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (!runners_[i]) runners_[i] = make_runner(config_.sources[i]);
  }
  config_loaded_ = Clock::now();
  last_reload_error_.clear();
  check_ready();

  result.set_applied(true);
  result.set_session_restarted(session_changed);
  result.set_catalog_changed(encoder_->catalog_id() != old_catalog);
  if (result.catalog_changed() && session_->connected()) {
    // Retained state, not history: sent now, and in every birth after.
    session_->publish(encoder_->catalog(Clock::now()), [](bool, const std::string&) {});
  }
  log::info("reloaded ", config_.file, ": ", result.added_size(), " added, ", result.removed_size(), " removed, ",
            result.restarted_size(), " restarted, ", runners_.size() - static_cast<std::size_t>(result.added_size()) -
                static_cast<std::size_t>(result.restarted_size()),
            " unchanged", result.catalog_changed() ? "; catalog " + encoder_->catalog_id() : "",
            session_changed ? "; broker session restarted" : "");
  return result;
}

}  // namespace rackwatch
