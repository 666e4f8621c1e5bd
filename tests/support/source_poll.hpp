// One poll of a source, run to its end on an io_context of the test's own.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/reading.hpp"
#include "sources/source.hpp"

namespace rackwatch::test {

inline boost::asio::awaitable<void> poll_into(Source& source, std::optional<std::vector<RawReading>>& out) {
  out = co_await source.poll();
}

// One poll of `source`, run on `io` (which nothing else runs), within 10 s.
inline std::vector<RawReading> poll(boost::asio::io_context& io, Source& source) {
  std::optional<std::vector<RawReading>> out;
  boost::asio::co_spawn(io, poll_into(source, out), boost::asio::detached);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (!out && !io.stopped() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  if (!out) throw std::runtime_error("poll did not finish within 10 s");
  return std::move(*out);
}

}  // namespace rackwatch::test
