#include "sources/hwmon/hwmon_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <stdexcept>
#include <utility>

#include "sources/hwmon/hwmon_config.hpp"
#include "sources/hwmon/hwmon_poll.hpp"
#include "sources/source.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;

std::vector<RawReading> all_failed(std::size_t count, const std::string& reason) {
  return std::vector<RawReading>(count, RawReading::failure(reason, Clock::now()));
}

class HwmonSource final : public Source {
 public:
  HwmonSource(const SourceConfig& config, std::shared_ptr<const HwmonSettings> settings,
              const SourceEnv& env)
      : Source(config), settings_(std::move(settings)), env_(env) {}

  asio::awaitable<std::vector<RawReading>> poll() override;

 private:
  // Outlives the source while a read is running: the read's result updates it
  // on the agent's executor even when nobody awaits the poll any more.
  struct Shared {
    HwmonCache cache;
    bool reading = false;
  };

  // One awaited poll: woken when the result is back. Owned by the poll
  // coroutine alone, so abandoning the poll frees it.
  struct Pending {
    explicit Pending(const asio::any_io_executor& ex)
        : wake(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer wake;
    bool done = false;
    std::vector<RawReading> readings;
  };

  std::shared_ptr<const HwmonSettings> settings_;
  SourceEnv env_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

asio::awaitable<std::vector<RawReading>> HwmonSource::poll() {
  const auto count = settings_->points.size();
  // A read stuck in a driver holds a pool thread; piling more reads behind it
  // would starve the other sources that share the pool.
  if (shared_->reading) {
    co_return all_failed(count, "previous read under " + settings_->root +
                                    " has not finished (a sysfs read may be hung)");
  }
  shared_->reading = true;
  auto pending = std::make_shared<Pending>(env_.executor);

  // The file I/O runs on the blocking executor; its result is posted back to
  // the agent's executor, which alone touches Shared and Pending. The tracked
  // executor keeps the agent's io_context running until the result is back.
  asio::post(
      env_.blocking,
      [settings = settings_, cache = shared_->cache, shared = shared_,
       waiter = std::weak_ptr<Pending>(pending),
       back = asio::prefer(env_.executor, asio::execution::outstanding_work.tracked)]() mutable {
        auto result = poll_hwmon(*settings, std::move(cache));
        asio::post(back, [shared = std::move(shared), waiter = std::move(waiter),
                          result = std::move(result)]() mutable {
          shared->cache = std::move(result.cache);
          shared->reading = false;
          if (auto p = waiter.lock()) {
            p->readings = std::move(result.readings);
            p->done = true;
            p->wake.cancel();
          }
        });
      });

  // Waiting on a timer (rather than co_spawn on the pool) keeps the poll
  // cancellable at once: a deadline need not wait for a hung read.
  co_await pending->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!pending->done) {
    co_return all_failed(count, "poll cancelled while reading under " + settings_->root);
  }
  co_return std::move(pending->readings);
}

class HwmonSourceType final : public SourceType {
 public:
  std::string_view name() const override { return "hwmon"; }

  std::vector<std::string_view> source_keys() const override { return {"root"}; }

  std::vector<std::string_view> point_keys() const override {
    return {"chip", "label", "sensor", "attribute", "index", "path"};
  }

  std::shared_ptr<const SourceSettings> parse(const YAML::Node& source,
                                              const std::vector<YAML::Node>& point_nodes,
                                              std::vector<PointConfig>& points,
                                              ConfigReader& reader) const override {
    return parse_hwmon_settings(source, point_nodes, points, reader);
  }

  std::unique_ptr<Source> create(const SourceConfig& config, const SourceEnv& env) const override {
    auto settings = std::dynamic_pointer_cast<const HwmonSettings>(config.settings);
    if (!settings || settings->points.size() != config.points.size()) {
      throw std::invalid_argument("source '" + config.name +
                                  "': hwmon settings missing or not validated");
    }
    return std::make_unique<HwmonSource>(config, std::move(settings), env);
  }
};

}  // namespace

const SourceType& hwmon_source_type() {
  static const HwmonSourceType type;
  return type;
}

}  // namespace rackwatch
