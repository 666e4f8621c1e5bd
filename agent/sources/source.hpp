// A Source is one configured device: it knows its protocol and its points,
// owns its connection, and returns one poll's readings. A SourceType reads a
// source's own config keys and makes Sources of its kind.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <optional>
#include <utility>
#include <vector>
#include <cstdint>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/config.hpp"
#include "core/device_info.hpp"
#include "core/reading.hpp"
#include "core/source_parser.hpp"
#include "sources/device_state.hpp"

namespace rackwatch {

// What a source may use: the agent's executor (all its state lives there) and
// an executor for blocking work that has no asynchronous API (sysfs reads that
// sleep on I2C, vendor libraries). Results come back by posting to `executor`.
// Objects that several sources share, by key: a Modbus gateway connection,
// an RS-485 bus. Held weakly: the last source that uses one closes it.
class SharedObjects {
 public:
  template <class T, class Make>
  std::shared_ptr<T> get(const std::string& key, Make&& make) {
    if (auto it = objects_.find(key); it != objects_.end()) {
      if (auto existing = it->second.lock()) return std::static_pointer_cast<T>(existing);
    }
    std::shared_ptr<T> made = make();
    objects_[key] = made;
    return made;
  }

 private:
  std::map<std::string, std::weak_ptr<void>> objects_;
};

struct SourceEnv {
  boost::asio::any_io_executor executor;
  boost::asio::any_io_executor blocking;
  // Sources made with one env (or its copies) share these.
  std::shared_ptr<SharedObjects> shared = std::make_shared<SharedObjects>();
};

// A device's state and counters, named so that any protocol can fill them.
struct SourceHealth {
  std::optional<DeviceState> state;  // none: the source keeps no device state
  std::string detail;  // why not ok: the last error, when the next probe is
  std::vector<std::pair<std::string, std::uint64_t>> counters;  // name, value; in display order
  std::optional<TimePoint> last_success;
  std::vector<std::string> notes;  // lasting facts: "holding 0x0040 disabled: illegal data address"
};

class Source {
 public:
  explicit Source(const SourceConfig& config) : config_(config) {}
  virtual ~Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  const SourceConfig& config() const { return config_; }

  // A source that finds points on its device (an SNMP table's rows, a
  // profile chosen by what the device says it is) changes config().points
  // between polls, its configured points first and unchanged; the count of
  // such changes tells the agent to remake its catalog.
  std::uint64_t points_generation() const { return points_generation_; }

  // Reads every point once: exactly one RawReading per point of config(),
  // in its order, as config() is when poll() returns. Device errors are readings with an error, never exceptions.
  // Runs on the agent's executor; must not block it.
  virtual boost::asio::awaitable<std::vector<RawReading>> poll() = 0;

  // Called once when the agent stops cleanly (SIGTERM, SIGINT), after its
  // last scheduled poll has started: ends what the device should not keep
  // open after us (a Redfish session). A poll that outlived its deadline
  // may still be running. The agent waits for it at most the source's
  // timeout (and all sources' stops together a few seconds), then leaves
  // it behind: the process exits with it unfinished. Not called when a
  // reload removes the source; its destructor tidies up then. Runs on the
  // agent's executor; must not throw.
  virtual boost::asio::awaitable<void> stop() { co_return; }

  // The device's health as the source sees it, for `rackwatch probe` and the
  // diag socket; sources without a notion of it keep the default.
  virtual SourceHealth health() const { return {}; }

  // What the device says it is (a SunSpec device's common model), once it
  // has said so; the agent carries it in the catalog. Nothing for sources
  // whose devices cannot say.
  virtual std::optional<DeviceInfo> device_info() const { return std::nullopt; }

 protected:
  void replace_points(std::vector<PointConfig> points) {
    config_.points = std::move(points);
    ++points_generation_;
  }

 private:
  SourceConfig config_;
  std::uint64_t points_generation_ = 0;
};

// A SourceParser (core/source_parser.hpp) that also makes Sources of its kind.
class SourceType : public SourceParser {
 public:
  // Makes a source of a validated config. Does no I/O: connecting and
  // resolving happen in poll(), so that check-config can build sources too.
  virtual std::unique_ptr<Source> create(const SourceConfig& config,
                                         const SourceEnv& env) const = 0;
  // Warnings about this type's sources taken together (a link they share
  // that cannot carry them all): the config is valid, but will not do what
  // its operator expects.
  virtual std::vector<std::string> advise(const std::vector<const SourceConfig*>& sources) const {
    (void)sources;
    return {};
  }
};

}  // namespace rackwatch
