// RedfishSession: GETs of a Redfish service's resources as JSON, signed in
// as the source is configured. `auth: session` logs in once (POST
// SessionService/Sessions), sends the X-Auth-Token it got, and logs in
// again once when a request answers 401 (the session expired); `auth:
// basic` sends the password with each request. A refused login is an
// error of its own, never retried within the same request.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "sources/redfish/redfish_error.hpp"
#include "sources/redfish/redfish_fetcher.hpp"
#include "sources/redfish/redfish_http.hpp"
#include "sources/redfish/redfish_settings.hpp"

namespace rackwatch::redfish {

struct SessionCounters {
  std::uint64_t gets = 0;
  std::uint64_t logins = 0;
  std::uint64_t login_failures = 0;
  std::uint64_t expired = 0;  // a 401 that a new login answered
  std::uint64_t not_found = 0;
};

// What logout() did: nothing (no session to end), or the DELETE of `uri`.
struct Logout {
  std::string uri;             // empty: there was no session
  std::optional<Error> error;  // the DELETE got no answer, or one other than 2xx or 404
};

class RedfishSession final : public Fetcher {
 public:
  RedfishSession(boost::asio::any_io_executor executor, std::shared_ptr<const RedfishSettings> settings);

  // The resource at `uri` as JSON. A 404 is Error{status, 404}.
  boost::asio::awaitable<Result<boost::json::value, Error>> get(std::string uri) override;

  // Ends the session (DELETE of its Location) within `timeout`; best
  // effort: a failure only forgets it. For good: no login follows, and a
  // request after it (or one whose answer comes after it) is
  // Error{ended}. While a request still waits for its answer on the kept
  // connection, the DELETE goes on a connection of its own.
  boost::asio::awaitable<Logout> logout(std::chrono::milliseconds timeout);

  bool logged_in() const { return !token_.empty(); }
  const SessionCounters& counters() const { return counters_; }
  const HttpCounters& http_counters() const { return http_.counters(); }
  std::string endpoint() const { return http_.endpoint(); }

 private:
  boost::asio::awaitable<std::optional<Error>> login();
  boost::asio::awaitable<Result<Response, Error>> send_signed(const std::string& uri);
  // http_.send, counted in sending_ while it runs.
  boost::asio::awaitable<Result<Response, Error>> send(Request request);
  std::chrono::steady_clock::time_point deadline() const;
  Error ended_error(const std::string& uri) const;

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const RedfishSettings> settings_;
  HttpClient http_;
  std::string token_;
  std::string location_;  // the session's own URI, for its DELETE
  SessionCounters counters_;
  unsigned sending_ = 0;      // requests on http_ waiting for their answer
  bool logging_in_ = false;  // a login's POST waits for its answer
  bool ended_ = false;       // logout() was called
};

}  // namespace rackwatch::redfish
