// Why a Redfish request got no usable answer. Silent failures (no
// connection, no answer in time, a broken TLS or HTTP stream) count toward
// the device's dormancy; an answer that refuses (401, 500, a body that is
// not JSON) proves the service alive.
#pragma once

#include <cstdint>
#include <string>

namespace rackwatch::redfish {

enum class ErrorKind : std::uint8_t {
  timeout,    // a step did not finish before the request's deadline
  connect,    // resolving or connecting failed
  tls,        // the handshake failed: a certificate refused, not TLS
  io,         // the connection broke while writing or reading
  too_large,  // the body is longer than max_body
  status,     // an HTTP status other than 2xx (404 included)
  auth,       // 401/403 after signing in again, or a login refused
  bad_json,   // a 2xx answer whose body is not the JSON expected
  ended,      // the session was ended (the source stops): nothing is sent
};

struct Error {
  ErrorKind kind = ErrorKind::io;
  std::string message;
  unsigned status = 0;  // the HTTP status, when there was one
};

// No answer from the device at all.
inline bool silent(ErrorKind kind) {
  return kind == ErrorKind::timeout || kind == ErrorKind::connect || kind == ErrorKind::tls ||
         kind == ErrorKind::io;
}

}  // namespace rackwatch::redfish
