// stop_sources(): every source's stop() at once. One whose stop never ends
// is left behind at its own timeout (or the limit for all, if sooner), one
// whose stop throws is logged, and neither holds the others up.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log_capture.hpp"
#include "sources/source.hpp"
#include "sources/source_stop.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::LogCapture;

enum class Ending { quick, hangs, throws };

class StoppingSource final : public Source {
 public:
  StoppingSource(const SourceConfig& config, Ending ending) : Source(config), ending_(ending) {}
  asio::awaitable<std::vector<RawReading>> poll() override { co_return std::vector<RawReading>{}; }
  asio::awaitable<void> stop() override {
    ++stops;
    if (ending_ == Ending::throws) throw std::runtime_error("vendor library said no");
    if (ending_ == Ending::hangs) {
      auto executor = co_await asio::this_coro::executor;
      asio::steady_timer never(executor, std::chrono::hours(1));
      co_await never.async_wait(asio::use_awaitable);
    }
    stopped = true;
  }
  int stops = 0;
  bool stopped = false;

 private:
  Ending ending_;
};

std::shared_ptr<StoppingSource> make(const std::string& name, std::chrono::milliseconds timeout, Ending ending) {
  SourceConfig c;
  c.name = name;
  c.type = "test";
  c.interval = 10s;
  c.timeout = timeout;
  return std::make_shared<StoppingSource>(c, ending);
}

// Runs stop_sources() on a fresh io_context until it returns (10 s at most).
bool run_stop(std::vector<std::shared_ptr<StoppingSource>> sources, std::chrono::milliseconds limit) {
  asio::io_context io;
  std::vector<std::shared_ptr<Source>> all(sources.begin(), sources.end());
  bool finished = false;
  std::exception_ptr thrown;
  asio::co_spawn(io, stop_sources(std::move(all), limit), [&](std::exception_ptr e) {
    finished = true;
    thrown = e;
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!finished && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  EXPECT_FALSE(thrown);
  return finished;
}

TEST(StopSources, AHungStopIsLeftAtItsTimeoutAndAThrowingOneIsLoggedWhileTheOthersEnd) {
  LogCapture log;
  auto quick = make("pdu", 1s, Ending::quick);
  auto hung = make("bmc", 100ms, Ending::hangs);
  auto broken = make("vendor", 1s, Ending::throws);
  ASSERT_TRUE(run_stop({quick, hung, broken}, 5s));
  EXPECT_TRUE(quick->stopped);
  EXPECT_EQ(hung->stops, 1);
  EXPECT_FALSE(hung->stopped);
  EXPECT_EQ(broken->stops, 1);
  EXPECT_TRUE(log.contains("source bmc: its stop did not end within 100ms; stopping without it")) << log.all();
  EXPECT_TRUE(log.contains("source vendor: stopping failed: vendor library said no")) << log.all();
  EXPECT_FALSE(log.contains("source pdu:")) << log.all();
}

TEST(StopSources, TheLimitForAllCutsALongerTimeoutShort) {
  LogCapture log;
  auto hung = make("bmc", 1h, Ending::hangs);
  ASSERT_TRUE(run_stop({hung}, 200ms));
  EXPECT_FALSE(hung->stopped);
  EXPECT_TRUE(log.contains("source bmc: its stop did not end within 200ms")) << log.all();
}

TEST(StopSources, NoSourcesIsNoWait) { EXPECT_TRUE(run_stop({}, 5s)); }

}  // namespace
}  // namespace rackwatch
