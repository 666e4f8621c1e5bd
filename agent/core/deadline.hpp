// An asynchronous operation bounded by a deadline, for coroutines on Asio.
#pragma once

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rackwatch {

// Completion token that gives (error_code, results...) instead of throwing.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// Runs `op` against a timer set to `deadline`: its result, or nothing when
// the deadline came first. The losing operation is cancelled.
template <class T>
boost::asio::awaitable<std::optional<T>> before(boost::asio::awaitable<T> op,
                                                std::chrono::steady_clock::time_point deadline) {
  using boost::asio::experimental::awaitable_operators::operator||;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
  auto first = co_await (std::move(op) || timer.async_wait(use_tuple));
  if (first.index() == 0) co_return std::get<0>(std::move(first));
  co_return std::nullopt;
}

}  // namespace rackwatch
