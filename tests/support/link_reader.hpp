// Reads through a Modbus link (any kind of client) on an io_context the test
// runs on its own thread, bounded: the common part of the client tests of
// each link kind.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sources/modbus/modbus_link.hpp"
#include "support/modbus_peer.hpp"

namespace rackwatch::test {

class LinkReader {
 public:
  explicit LinkReader(boost::asio::io_context& io) : io_(io) {}

  // Starts a read; its result lands in `out` once run() runs the io_context.
  void spawn_read(modbus::Link& link, std::uint8_t unit, modbus::ReadRequest request,
                  std::chrono::milliseconds timeout, std::optional<modbus::ReadResult>& out) {
    const auto deadline = modbus::Link::SteadyClock::now() + timeout;
    boost::asio::co_spawn(io_, read_into(link, unit, request, deadline, out), boost::asio::detached);
  }

  // Runs the io_context on this thread, bounded, until every read started is done.
  void run() {
    io_.restart();
    io_.run_for(std::chrono::seconds{10});
  }

  modbus::ReadResult read(modbus::Link& link, std::uint8_t unit, modbus::ReadRequest request,
                          std::chrono::milliseconds timeout) {
    std::optional<modbus::ReadResult> out;
    spawn_read(link, unit, request, timeout, out);
    run();
    if (!out) throw std::runtime_error("read did not finish within the bounded run");
    return std::move(*out);
  }

 private:
  // A named coroutine, not a capturing lambda: GCC 12 mishandles those with co_spawn.
  static boost::asio::awaitable<void> read_into(modbus::Link& link, std::uint8_t unit, modbus::ReadRequest request,
                                                modbus::Link::SteadyClock::time_point deadline,
                                                std::optional<modbus::ReadResult>& out) {
    out.emplace(co_await link.read(unit, request, deadline));
  }

  boost::asio::io_context& io_;
};

inline std::vector<std::uint16_t> as_u16(const std::vector<std::uint32_t>& data) { return {data.begin(), data.end()}; }

// A read that must succeed and return what `peer` logged serving.
inline void expect_served_read(LinkReader& reader, modbus::Link& link, const ModbusPeer& peer, std::uint8_t unit,
                               modbus::ReadRequest request) {
  const auto r = reader.read(link, unit, request, std::chrono::seconds{2});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto last = peer.last_served();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->outcome, "ok");
  EXPECT_EQ(last->unit, unit);
  EXPECT_EQ(last->addr, request.address);
  EXPECT_EQ(last->count, request.quantity);
  EXPECT_EQ(r->values, as_u16(last->data));
}

// The fixture of one link kind's client tests: a peer, a client of kind
// `Client` talking to it (each test's start() makes both), and bounded
// reads through a LinkReader.
template <class Client>
class LinkClientTest : public ::testing::Test {
 protected:
  void spawn_read(std::uint8_t unit, modbus::ReadRequest request, std::chrono::milliseconds timeout,
                  std::optional<modbus::ReadResult>& out) {
    reader_.spawn_read(*client_, unit, request, timeout, out);
  }
  void run() { reader_.run(); }
  modbus::ReadResult read(std::uint8_t unit, modbus::ReadRequest request,
                          std::chrono::milliseconds timeout = std::chrono::seconds{2}) {
    return reader_.read(*client_, unit, request, timeout);
  }
  void expect_served_read(std::uint8_t unit, modbus::ReadRequest request) {
    test::expect_served_read(reader_, *client_, *peer_, unit, request);
  }

  boost::asio::io_context io_;
  LinkReader reader_{io_};
  std::optional<ModbusPeer> peer_;
  std::optional<Client> client_;
};

}  // namespace rackwatch::test
