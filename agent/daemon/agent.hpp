// rackwatchd's wiring: sources → runners → pipeline → encoder → publisher →
// MQTT session, all on one executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/progress.hpp"
#include "pipeline/pipeline.hpp"
#include "publish/mqtt_session.hpp"
#include "publish/native_encoder.hpp"
#include "publish/transport.hpp"
#include "publish/wire_format.hpp"
#include "rackwatch/v1/diag.pb.h"
#include "sources/source.hpp"

namespace rackwatch {

class Outbox;
class Publisher;
class WireFormat;
class SourceRunner;
class SourceTypes;
namespace diag {
class DiagServer;
}

// How long a last message (status offline) may wait for its acknowledgement.
inline constexpr std::chrono::milliseconds kOfflineTimeout{2'000};
// How long a clean stop waits for the sources' stop() (a Redfish session's
// DELETE), all together; each at most its own timeout.
inline constexpr std::chrono::milliseconds kSourcesStopTimeout{5'000};

class Agent {
 public:
  // `types` (the program's source types) must outlive the agent: reloads
  // read the config with them.
  Agent(boost::asio::any_io_executor executor, boost::asio::any_io_executor blocking,
        const SourceTypes& types, Config config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the outbox (throws std::runtime_error naming the directory when it
  // cannot), then starts polling and connecting.
  // Called once, after every source has completed its first poll.
  void on_ready(std::function<void()> ready) { startup_.ready = std::move(ready); }

  void start();
  // Stops polling, lets every source end what it holds open on its device
  // (Source::stop(), up to kSourcesStopTimeout), gives the queue up to
  // `drain` to empty, publishes status offline and disconnects; then calls
  // `done`.
  void stop(std::chrono::milliseconds drain, std::function<void()> done);

  const Config& config() const { return model_->config; }
  std::uint64_t sequence() const { return sequence_; }
  // Where every running source runner is, for the watchdog's rule.
  std::vector<RunnerProgress> progress() const;

  // Reads the config file again and applies it: sources added, removed or
  // changed are started, stopped or restarted; the others keep running
  // untouched. An invalid file, or changes that need a restart (the
  // outbox, diag), leave everything as it was; the result says why. New
  // agent or mqtt settings replace the broker session. The file is read and
  // parsed on the blocking pool, so that a large one stalls no poll; one
  // reload at a time (another meanwhile is refused, saying so).
  boost::asio::awaitable<v1::ReloadResult> reload();

  // Answers a request of the diag socket from the agent's state (and, for
  // a poll, by polling the source).
  boost::asio::awaitable<v1::DiagResponse> handle(const v1::DiagRequest& request);

 private:
  // The second half of reload(), on the executor: applies `next` or says why not.
  v1::ReloadResult apply_reload(std::optional<Config> next, const Diagnostics& diags);

  // What the diag socket shows of a source's last poll.
  struct LastPoll {
    TimePoint tick{};
    bool polled = false;
    std::uint32_t bad_points = 0;
    std::string first_error;
  };
  // The publisher's way to the broker: whichever session is current, so that
  // a reload can replace the session under it.
  struct SessionLink final : Transport {
    MqttSession* session = nullptr;
    // The wire format's birth went out on this connection: until then (a
    // Sparkplug node waiting for its primary host) nothing else is sent.
    bool born = false;
    bool connected() const override { return born && session && session->connected(); }
    void publish(const Message& message, PublishDone done) override { session->publish(message, std::move(done)); }
    void subscribe(const std::vector<std::string>& filters) override { session->subscribe(filters); }
  };
  // The broker connection: the current session, the ones a reload replaced
  // while they say goodbye, and what the diag socket shows of it.
  struct Broker {
    std::unique_ptr<MqttSession> session;
    SessionLink link;
    std::uint64_t generation = 0;  // handlers of a replaced session are ignored
    std::vector<std::unique_ptr<MqttSession>> retiring;
    bool connected_once = false;
    bool connected = false;
    TimePoint since{};
    std::string last_error;
    std::string waiting;  // connected, not born yet: for what
    // Of the sessions a reload replaced: the counters shown are the
    // agent's, for its whole life, not the current session's.
    std::uint64_t earlier_connects = 0;
    std::uint64_t earlier_losses = 0;
  };
  struct Timers {
    std::unique_ptr<boost::asio::steady_timer> sync;    // outbox fsync, for fsync: interval
    std::unique_ptr<boost::asio::steady_timer> status;  // the retained status, refreshed
  };
  // READY=1 once every source has been polled once.
  struct Startup {
    std::set<std::string> awaiting;  // sources not polled yet
    bool sent = false;
    std::function<void()> ready;
  };
  // The active alarms, by "point id/kind", as last published.
  struct Alarms {
    std::map<std::string, v1::AlarmEvent> active;
    std::uint64_t sequence = 0;
  };
  struct ReloadInfo {
    TimePoint loaded = Clock::now();
    std::string last_error;
    bool running = false;  // a file is being read and parsed
  };

  // One loaded config and what is built from it, replaced whole at a
  // reload (the catalog and the pipeline refer into the config).
  struct Model {
    explicit Model(Config c) : config(std::move(c)), catalog(config), pipeline(config, catalog) {}
    Config config;
    Catalog catalog;
    Pipeline pipeline;
  };

  std::unique_ptr<MqttSession> make_session();
  // " over mutual TLS" and the like, for the log; warns when TLS is not verified.
  std::string tls_note() const;
  // Drops from the active set the alarms whose point is gone or whose
  // thresholds changed (the pipeline decides those afresh) and refers the
  // others to the current catalog; true if the set changed. Each alarm
  // dropped is published as cleared, with `why` as its reason.
  bool prune_active_alarms(const std::string& why);
  void publish_alarms(const std::vector<PointAlarm>& alarms, TimePoint tick);
  // The active set as a record, and its publication (state: sent now when
  // connected, else with the next birth; never stored).
  Record active_alarms_record(TimePoint now) const;
  void publish_active_alarms(TimePoint now);
  // Swaps in a session for the current config; the old one says `farewell`
  // (status offline on its topic) and disconnects cleanly.
  void replace_session(std::optional<Message> farewell);
  void deliver(const std::string& source, TimePoint tick, std::vector<RawReading> readings);
  // When the source found other points on its device since the catalog was
  // made (an SNMP table's rows, a profile chosen by what the device says),
  // remakes the catalog with them, as a reload that changes only those
  // points would: the state of the points that stay is kept.
  void follow_found_points(std::size_t source);
  std::unique_ptr<SourceRunner> make_runner(const SourceConfig& source);
  void check_ready();
  void start_diag();
  v1::AgentState status_snapshot() const;
  v1::PointValues read_snapshot(const v1::ReadRequest& request, std::string& error) const;
  v1::DeviceList devices_snapshot() const;
  std::string source_state(std::size_t source) const;
  void fill_point(std::uint32_t index, const Sample& sample, v1::PointValue& out) const;
  std::vector<Message> birth();
  // The wire format's birth, then the outbox: the connection is born.
  void send_birth();
  void wire_event(WireFormat::Event event);
  void tell_device_state(const std::string& source, const SourceHealth& health);
  // Retained state (status, catalog, active alarms), not history: published
  // now if connected, else carried by the next birth; never stored.
  void publish_state(const Record& record);
  StatusCounters counters() const;
  void schedule_sync();
  void schedule_status();
  boost::asio::awaitable<void> drain_then_stop(std::chrono::milliseconds drain,
                                               std::function<void()> done);
  void finish_stop(std::function<void()> done);

  const SourceTypes& types_;
  SourceEnv env_;  // the executors; kept across reloads: sources on one link keep sharing it
  std::unique_ptr<Model> model_;
  std::unique_ptr<NativeEncoder> encoder_;  // our records, in the canonical form
  std::unique_ptr<WireFormat> wire_;        // what they become on the wire
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Publisher> publisher_;
  Broker broker_;
  Timers timers_;
  std::vector<std::unique_ptr<SourceRunner>> runners_;  // by source
  std::vector<LastPoll> last_poll_;                     // by source
  std::vector<std::uint64_t> points_seen_;  // by source: the points_generation() the catalog holds
  Startup startup_;
  std::uint64_t sequence_ = 0;  // of the last telemetry message
  Alarms alarms_;
  ReloadInfo reload_;
  bool rebirth_pending_ = false;  // the wire format asked for a rebirth; posted
  std::set<std::string> dormant_;  // sources whose device is dormant, as told to the wire format
  std::unique_ptr<diag::DiagServer> diag_;
};

// A random 128-bit id as 32 hex digits.
std::string make_boot_id();

}  // namespace rackwatch
