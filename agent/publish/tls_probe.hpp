// Why a TLS connection to the broker fails, in words an operator can act on.
// Paho reports a failed TLS connect as a bare "TCP/TLS connect failure" and
// keeps OpenSSL's verification result to itself, so after such a failure
// the session makes the same handshake once more itself, with the same
// files and checks, and asks OpenSSL what it objected to: a certificate not
// signed by the CA, expired, or issued for another host; a client
// certificate refused, or required and not sent. Paho C 1.3 also ignores the
// TLS version it is given under OpenSSL 1.1 and later, so a minimum of TLS
// 1.3 is enforced by this handshake before each connect.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/config.hpp"

namespace rackwatch {

struct TlsProbeResult {
  bool ok = false;
  std::string protocol;  // "TLSv1.3" when ok
  std::string error;     // what failed, when not ok
};

// Connects to `uri`, handshakes as the agent would with `tls`, and reads
// briefly so that a server's late refusal (TLS 1.3 checks the client's
// certificate after the client thinks the handshake is done) is heard.
boost::asio::awaitable<TlsProbeResult> probe_tls(std::string uri, TlsConfig tls,
                                                 std::chrono::milliseconds timeout);

}  // namespace rackwatch
