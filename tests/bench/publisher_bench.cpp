// The Publisher's own cost per message: enqueue (stored in a real outbox,
// fsync never) → publish on the transport → acknowledgement → leaves the
// outbox, with a fake Transport, so nothing of MQTT or Paho is in the figure.
#include <benchmark/benchmark.h>

#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "publish/outbox.hpp"
#include "publish/publisher.hpp"
#include "publish/transport.hpp"
#include "publish/wire_format.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

// The agent's in-flight window (agent.cpp).
constexpr std::size_t kWindow = 32;

// A fresh outbox in its own directory; fsync never, so the disk's flush
// speed stays out of the figure (outbox_bench measures the policies).
struct BenchOutbox {
  test::TempDir dir{"rackwatch-publisher-bench"};
  std::unique_ptr<Outbox> box;
  BenchOutbox() {
    OutboxOptions o;
    o.dir = (dir / "outbox").string();
    o.fsync = FsyncPolicy::never;
    o.max_bytes = 1ull << 30;
    std::error_code ec;
    box = Outbox::open(o, ec);
    if (!box) throw std::runtime_error("outbox: " + ec.message());
  }
};

// Keeps the completions of what the publisher sent; the benchmark runs them.
class FakeTransport final : public Transport {
 public:
  bool up = true;

  bool connected() const override { return up; }
  void publish(const Message&, PublishDone done) override { pending_.push_back(std::move(done)); }

  // Acknowledges the oldest message in flight.
  void acknowledge_one() {
    static const std::string kNoError;
    auto done = std::move(pending_.front());
    pending_.pop_front();
    done(PublishError::none, kNoError);
  }
  std::size_t in_flight() const { return pending_.size(); }

 private:
  std::deque<PublishDone> pending_;
};

// A telemetry message of a 100-point poll (its payload size, ~1.5 KB).
Record telemetry_message() {
  return Record{RecordKind::telemetry, "rackwatch/v1/hall-a/r01/telemetry", std::string(1'500, 'x')};
}

// Messages to move into the publisher, made outside the timed region: the
// encoder already paid for making them.
class MessagePool {
 public:
  explicit MessagePool(std::size_t size) : pool_(size, telemetry_message()) {}
  Record take(benchmark::State& state) {
    if (next_ == pool_.size()) {
      state.PauseTiming();
      for (auto& m : pool_) m = telemetry_message();
      next_ = 0;
      state.ResumeTiming();
    }
    return std::move(pool_[next_++]);
  }

 private:
  std::vector<Record> pool_;
  std::size_t next_ = 0;
};

// Steady state: `in_flight` messages wait for their acknowledgement; each
// iteration enqueues one message and acknowledges the oldest.
void BM_PublisherCycle(benchmark::State& state) {
  const auto in_flight = static_cast<std::size_t>(state.range(0));
  FakeTransport transport;
  BenchOutbox outbox;
  NativeWire wire;
  Publisher publisher(transport, *outbox.box, wire, kWindow);
  publisher.connected({});
  MessagePool pool(4'096);
  for (std::size_t i = 0; i < in_flight; ++i) publisher.enqueue(telemetry_message());
  for (auto _ : state) {
    publisher.enqueue(pool.take(state));
    transport.acknowledge_one();
  }
  benchmark::DoNotOptimize(publisher.stats().acknowledged);
}

BENCHMARK(BM_PublisherCycle)->ArgName("in_flight")->Arg(0)->Arg(8)->Arg(31);

// After an outage: `backlog` messages queued while disconnected, then the
// connection comes back and all of them are sent and acknowledged in order.
// Time per message, queueing included.
void BM_PublisherBacklog(benchmark::State& state) {
  const auto backlog = static_cast<std::size_t>(state.range(0));
  // Made and destroyed while the timer is paused: only the queue is timed.
  std::unique_ptr<FakeTransport> transport;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<BenchOutbox> outbox;
  std::vector<Record> messages;
  NativeWire wire;
  for (auto _ : state) {
    state.PauseTiming();
    publisher.reset();
    outbox = std::make_unique<BenchOutbox>();
    transport = std::make_unique<FakeTransport>();
    transport->up = false;
    publisher = std::make_unique<Publisher>(*transport, *outbox->box, wire, kWindow);
    messages.assign(backlog, telemetry_message());
    state.ResumeTiming();
    for (auto& m : messages) publisher->enqueue(std::move(m));
    transport->up = true;
    publisher->connected({});
    while (transport->in_flight() > 0) transport->acknowledge_one();
    benchmark::DoNotOptimize(publisher->stats().acknowledged);
  }
  state.counters["time/message"] = benchmark::Counter(
      static_cast<double>(backlog),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_PublisherBacklog)->ArgName("backlog")->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rackwatch
