// DiagServer: the agent's local diagnostic socket. Serves DiagRequests on the
// agent's executor, several clients at once; a client that sends garbage, a
// frame above 64 KiB, nothing for 30 s, or does not read its answer within
// 5 s is dropped without touching the others or the agent. So is one whose
// request throws (logged); the accept loop is supervised. When every client
// slot is taken, a new client takes the place of the connection idle longest,
// or is refused with an answer saying so when every slot is mid-request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/supervise.hpp"
#include "rackwatch/v1/diag.pb.h"

namespace rackwatch::diag {

class DiagServer {
 public:
  using Handler = std::function<boost::asio::awaitable<v1::DiagResponse>(const v1::DiagRequest&)>;

  struct Limits {
    std::chrono::milliseconds idle{30'000};   // waiting for a request
    std::chrono::milliseconds io{5'000};      // reading a started request, writing an answer
    std::size_t max_clients = 32;
    // No client evicted or refused this long: the slots are free again (logged).
    std::chrono::milliseconds calm{30'000};
  };

  struct Stats {
    std::uint64_t accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t dropped = 0;  // garbage, too long, idle, slow reader, a request that threw
    std::uint64_t evicted = 0;  // idle connections closed to make room for a new client
    std::uint64_t refused = 0;  // over max_clients with every slot mid-request
    std::size_t clients = 0;
  };

  DiagServer(boost::asio::any_io_executor executor, std::string path, Handler handler, Limits limits);
  DiagServer(boost::asio::any_io_executor executor, std::string path, Handler handler)
      : DiagServer(std::move(executor), std::move(path), std::move(handler), Limits{}) {}
  ~DiagServer();
  DiagServer(const DiagServer&) = delete;
  DiagServer& operator=(const DiagServer&) = delete;

  // Binds the socket (mode 0660; a stale socket file left by a crash is
  // replaced, a live one is not) and starts accepting. An error names the
  // path and the cause.
  std::error_code start(std::string& error);
  // Stops accepting, closes every client and removes the socket file.
  void stop();

  const Stats& stats() const;
  // Failures of the accept loop.
  const RestartStats& restarts() const;
  const std::string& path() const { return path_; }

  struct State;

 private:
  std::string path_;
  std::shared_ptr<State> state_;
  Supervised accept_;
};

}  // namespace rackwatch::diag
