// Supervised coroutines: a source whose poll throws, or whose readings make
// the pipeline throw, is logged, counted and polled again after a back-off,
// without disturbing the other sources; the diag socket survives a request
// that throws. On a real io_context with short intervals.
#include "core/supervise.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sources/source_runner.hpp"
#include "diag/diag_client.hpp"
#include "diag/diag_server.hpp"
#include "log_capture.hpp"
#include "sources/source.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::LogCapture;
using ::testing::HasSubstr;

// A source of two points that reads 1 and 2, and throws on the polls listed
// in `throw_on` (counted from 1), against Source's contract.
class TestSource final : public Source {
 public:
  TestSource(const SourceConfig& config, std::vector<int> throw_on) : Source(config), throw_on_(std::move(throw_on)) {}
  asio::awaitable<std::vector<RawReading>> poll() override {
    ++polls;
    for (const int n : throw_on_) {
      if (n == polls) throw std::runtime_error("sensor bus exploded");
    }
    const auto now = Clock::now();
    co_return std::vector<RawReading>{RawReading::success(1, now), RawReading::success(2, now)};
  }
  int polls = 0;

 private:
  std::vector<int> throw_on_;
};

SourceConfig source_config(const std::string& name, std::chrono::milliseconds interval) {
  SourceConfig sc;
  sc.name = name;
  sc.type = "test";
  sc.interval = interval;
  sc.timeout = interval / 2;
  sc.points.resize(2);
  sc.points[0].name = "a";
  sc.points[1].name = "b";
  return sc;
}

struct Tick {
  TimePoint time;
  std::vector<RawReading> readings;
  bool all_ok() const {
    for (const auto& r : readings) {
      if (!r.ok()) return false;
    }
    return readings.size() == 2;
  }
};

constexpr RestartPolicy kQuickRestart{300ms, 1200ms, 10s};

// Runs `io` until `done()` or a generous limit; the assertion is on the result.
template <class Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(20ms);
  }
  return done();
}

TEST(RestartDelay, DoublesUpToTheMaximumAndResetsAfterAHealthyRun) {
  const RestartPolicy p{1'000ms, 60'000ms, 60'000ms};
  struct Case {
    std::chrono::milliseconds previous;
    std::chrono::milliseconds ran;
    std::chrono::milliseconds expected;
  } cases[] = {
      {0ms, 0ms, 1'000ms},           // first failure
      {1'000ms, 5ms, 2'000ms},       // failed again at once: doubled
      {2'000ms, 30'000ms, 4'000ms},  // a short run is no recovery
      {32'000ms, 10ms, 60'000ms},    // capped
      {60'000ms, 10ms, 60'000ms},
      {60'000ms, 60'000ms, 1'000ms},  // a healthy stretch resets it
      {8'000ms, 3'600'000ms, 1'000ms},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(restart_delay(c.previous, c.ran, p), c.expected)
        << "previous " << c.previous.count() << "ms, ran " << c.ran.count() << "ms";
  }
}

TEST(Supervised, RestartsAThrowingCoroutineUntilStopped) {
  LogCapture log;
  asio::io_context io;
  int runs = 0;
  Supervised s(io.get_executor(), "widget w1", "work loop",
               [&runs]() -> asio::awaitable<void> {
                 ++runs;
                 throw std::runtime_error("boom " + std::to_string(runs));
                 co_return;
               },
               RestartPolicy{20ms, 40ms, 10s});
  s.start();
  ASSERT_TRUE(run_until(io, [&] { return runs >= 3; })) << log.all();
  s.stop();
  const auto after_stop = runs;
  io.restart();
  io.run_for(200ms);  // a restart would have come within 40ms
  EXPECT_EQ(runs, after_stop) << "no restart after stop()";
  EXPECT_GE(s.stats().restarts, 2u);
  EXPECT_THAT(s.stats().last_error, HasSubstr("boom"));
  EXPECT_TRUE(log.contains("widget w1: work loop failed: boom 1; restarting in 20ms")) << log.all();
  EXPECT_TRUE(log.contains("widget w1: work loop failed: boom 2; restarting in 40ms")) << log.all();
}

class SupervisedRunnerTest : public ::testing::Test {
 protected:
  // Every tick each runner delivered, by runner.
  std::vector<Tick> flaky_ticks_;
  std::vector<Tick> healthy_ticks_;
  asio::io_context io_;
};

// The acceptance test of issue 12: a source that throws on its 3rd poll is
// logged with its name, counted, polled again after the back-off, and the
// other runner on the same executor delivers every tick it polls.
TEST_F(SupervisedRunnerTest, ASourceThatThrowsIsLoggedCountedAndPolledAgain) {
  LogCapture log;
  auto flaky = std::make_shared<TestSource>(source_config("flaky", 50ms), std::vector<int>{3});
  auto healthy = std::make_shared<TestSource>(source_config("steady", 50ms), std::vector<int>{});
  SourceRunner flaky_runner(io_.get_executor(), flaky,
                            [this](TimePoint t, std::vector<RawReading> r) { flaky_ticks_.push_back({t, std::move(r)}); },
                            kQuickRestart);
  SourceRunner healthy_runner(io_.get_executor(), healthy,
                              [this](TimePoint t, std::vector<RawReading> r) { healthy_ticks_.push_back({t, std::move(r)}); },
                              kQuickRestart);
  flaky_runner.start();
  healthy_runner.start();

  // Polling resumes: good ticks after the failed one.
  auto good_after_failure = [&] {
    int good = 0;
    bool failed = false;
    for (const auto& t : flaky_ticks_) {
      if (!t.all_ok()) failed = true;
      else if (failed) ++good;
    }
    return good >= 3;
  };
  ASSERT_TRUE(run_until(io_, good_after_failure)) << log.all();
  flaky_runner.stop();
  healthy_runner.stop();

  // Logged with the source's name and counted.
  EXPECT_TRUE(log.contains("source flaky: poll loop failed: sensor bus exploded; restarting in 300ms")) << log.all();
  EXPECT_EQ(flaky_runner.restarts().restarts, 1u);
  EXPECT_EQ(flaky_runner.restarts().last_error, "sensor bus exploded");
  EXPECT_EQ(healthy_runner.restarts().restarts, 0u);

  // The failed tick is the third, shown as failed with the reason, never as values.
  ASSERT_GE(flaky_ticks_.size(), 6u);
  EXPECT_TRUE(flaky_ticks_[0].all_ok());
  EXPECT_TRUE(flaky_ticks_[1].all_ok());
  for (const auto& r : flaky_ticks_[2].readings) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, "poll failed: sensor bus exploded");
  }
  for (std::size_t i = 3; i < flaky_ticks_.size(); ++i) EXPECT_TRUE(flaky_ticks_[i].all_ok()) << "tick " << i;
  EXPECT_EQ(flaky_ticks_.size(), static_cast<std::size_t>(flaky->polls));

  // Nothing of it reached the other runner: each of its polls delivered,
  // good, including while the flaky one waited out its back-off.
  EXPECT_EQ(healthy_runner.restarts().restarts, 0u);
  EXPECT_EQ(healthy_ticks_.size(), static_cast<std::size_t>(healthy->polls));
  EXPECT_EQ(healthy_runner.stats().overruns, 0u);
  EXPECT_EQ(healthy_runner.stats().timeouts, 0u);
  for (const auto& t : healthy_ticks_) EXPECT_TRUE(t.all_ok());
  for (std::size_t i = 1; i < healthy_ticks_.size(); ++i) EXPECT_LT(healthy_ticks_[i - 1].time, healthy_ticks_[i].time);
  const auto failed_at = flaky_ticks_[2].time;
  const auto resumed_at = flaky_ticks_[3].time;
  int during_backoff = 0;
  for (const auto& t : healthy_ticks_) during_backoff += (t.time > failed_at && t.time < resumed_at) ? 1 : 0;
  EXPECT_GE(during_backoff, 1) << "the healthy runner kept ticking during the back-off";
}

// A Deliver (the pipeline) that throws on a tick: the tick is delivered
// again as failed, with the reason, and the runner restarts.
TEST_F(SupervisedRunnerTest, ADeliverThatThrowsFailsTheTickAndTheRunnerGoesOn) {
  LogCapture log;
  auto source = std::make_shared<TestSource>(source_config("pdu1", 50ms), std::vector<int>{});
  int calls = 0;
  SourceRunner runner(io_.get_executor(), source,
                      [&](TimePoint t, std::vector<RawReading> r) {
                        ++calls;
                        if (calls == 2) throw std::logic_error("index out of range");
                        flaky_ticks_.push_back({t, std::move(r)});
                      },
                      kQuickRestart);
  runner.start();
  ASSERT_TRUE(run_until(io_, [&] { return flaky_ticks_.size() >= 5; })) << log.all();
  runner.stop();

  EXPECT_TRUE(log.contains("source pdu1: poll loop failed: index out of range; restarting in 300ms")) << log.all();
  EXPECT_EQ(runner.restarts().restarts, 1u);
  // The second tick reached the pipeline twice: first its values (which
  // threw), then as failed.
  EXPECT_TRUE(flaky_ticks_[0].all_ok());
  for (const auto& r : flaky_ticks_[1].readings) EXPECT_EQ(r.error, "processing failed: index out of range");
  for (std::size_t i = 2; i < flaky_ticks_.size(); ++i) EXPECT_TRUE(flaky_ticks_[i].all_ok());
}

// A request whose handler throws loses its connection, logged; the server
// keeps accepting and answering.
TEST(DiagServerSupervision, AThrowingRequestClosesOnlyItsConnection) {
  LogCapture log;
  test::TempDir dir("rackwatch-diag");
  const auto socket = (dir / "diag.sock").string();
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  int requests = 0;
  diag::DiagServer server(io.get_executor(), socket, [&requests](const v1::DiagRequest&) -> asio::awaitable<v1::DiagResponse> {
    if (++requests == 1) throw std::runtime_error("handler bug");
    v1::DiagResponse response;
    response.mutable_status()->set_agent_id("still-here");
    co_return response;
  });
  std::string error;
  ASSERT_FALSE(server.start(error)) << error;
  std::thread loop([&io] { io.run(); });

  v1::DiagRequest request;
  request.mutable_status();
  const auto first = cli::call_agent(socket, request, 5'000ms);
  const auto second = cli::call_agent(socket, request, 5'000ms);

  asio::post(io, [&] {
    server.stop();
    work.reset();
  });
  loop.join();

  EXPECT_FALSE(first.response) << "the throwing request gets no answer";
  EXPECT_EQ(first.error, "the agent on " + socket +
                             " closed the connection without answering; try again, and if it keeps doing so, the "
                             "agent's log says why (journalctl -u rackwatchd)");
  ASSERT_TRUE(second.response) << second.error;
  EXPECT_EQ(second.response->status().agent_id(), "still-here");
  EXPECT_TRUE(log.contains("diag socket: a request failed: handler bug; closing that connection")) << log.all();
  EXPECT_EQ(server.stats().dropped, 1u);
  EXPECT_EQ(server.restarts().restarts, 0u);
}

}  // namespace
}  // namespace rackwatch
