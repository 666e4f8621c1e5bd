// HttpClient: one keep-alive HTTP/1.1 connection to a Redfish service, over
// TCP or TLS (certificate and host name verified unless told otherwise). It
// connects on first use, bounds every step of a request by the request's
// deadline, caps the body it accepts, and opens a new connection when the
// service has closed the kept one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "sources/redfish/redfish_error.hpp"
#include "sources/redfish/redfish_settings.hpp"

namespace rackwatch::redfish {

enum class Method : std::uint8_t { get, post, del };

struct Request {
  Method method = Method::get;
  std::string target;  // "/redfish/v1/Chassis"
  std::string body;    // sent as application/json when not empty
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Response {
  unsigned status = 0;
  std::string body;
  std::string location;    // the Location header
  std::string auth_token;  // the X-Auth-Token header
};

struct HttpCounters {
  std::uint64_t connects = 0;     // connections opened
  std::uint64_t requests = 0;     // requests sent, retries included
  std::uint64_t reconnects = 0;   // a request retried because the kept connection was closed
  std::uint64_t timeouts = 0;
  std::uint64_t tls_failures = 0;
};

class HttpClient {
 public:
  struct Options {
    Scheme scheme = Scheme::https;
    std::string host;
    std::uint16_t port = 443;
    std::string ca_file;  // empty: the system's CA store
    bool verify = true;
    std::size_t max_body = 4u << 20;
  };

  HttpClient(boost::asio::any_io_executor executor, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads its answer, all before `deadline`. An answer
  // of any status is a Response; errors are the request's failures.
  boost::asio::awaitable<Result<Response, Error>> send(Request request,
                                                       std::chrono::steady_clock::time_point deadline);
  void close();
  bool connected() const;
  const HttpCounters& counters() const { return counters_; }
  std::string endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HttpCounters counters_;
};

}  // namespace rackwatch::redfish
