// What discovery and polling read resources through: a GET of a URI as
// JSON. The session is one; tests give one that reads files.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "sources/redfish/redfish_error.hpp"

namespace rackwatch::redfish {

inline constexpr const char* kServiceRoot = "/redfish/v1/";
inline constexpr const char* kSessionsPath = "/redfish/v1/SessionService/Sessions";

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // The resource at `uri`; a 404 is Error{ErrorKind::status, ..., 404}.
  virtual boost::asio::awaitable<Result<boost::json::value, Error>> get(std::string uri) = 0;
};

}  // namespace rackwatch::redfish
