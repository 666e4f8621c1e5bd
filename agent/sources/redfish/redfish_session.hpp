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

class RedfishSession final : public Fetcher {
 public:
  RedfishSession(boost::asio::any_io_executor executor, std::shared_ptr<const RedfishSettings> settings);

  // The resource at `uri` as JSON. A 404 is Error{status, 404}.
  boost::asio::awaitable<Result<boost::json::value, Error>> get(std::string uri) override;

  // Ends the session (DELETE of its Location) within `timeout`; best
  // effort: a failure only forgets it.
  boost::asio::awaitable<void> logout(std::chrono::milliseconds timeout);

  bool logged_in() const { return !token_.empty(); }
  const SessionCounters& counters() const { return counters_; }
  const HttpCounters& http_counters() const { return http_.counters(); }
  std::string endpoint() const { return http_.endpoint(); }

 private:
  boost::asio::awaitable<std::optional<Error>> login();
  boost::asio::awaitable<Result<Response, Error>> send_signed(const std::string& uri);
  std::chrono::steady_clock::time_point deadline() const;

  std::shared_ptr<const RedfishSettings> settings_;
  HttpClient http_;
  std::string token_;
  std::string location_;  // the session's own URI, for its DELETE
  SessionCounters counters_;
};

}  // namespace rackwatch::redfish
