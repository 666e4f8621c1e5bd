// Session: one SNMP agent (a PDU's management card, a CDU's controller)
// asked over UDP through net-snmp's single-session API, driven from the
// agent's executor without blocking it: the library builds, secures and
// parses the messages and keeps the USM state (engine ID, boots and time,
// localized keys); this class owns the socket's waiting and every deadline.
//
// net-snmp would discover a v3 engine ID with a blocking exchange when the
// session opens, or before its first request. Both are turned off
// (SNMP_FLAGS_DONT_PROBE): the discovery is an asynchronous request of its
// own (RFC 3414 4: an unauthenticated GET that the agent answers with a
// report carrying its engine ID), after which the user's keys are localized
// to that engine. A device that reboots answers with notInTimeWindow, which
// the library resends once by itself with the engine's new boots and time.
//
// One request at a time: a source polls in sequence. Not thread-safe, like
// the library's USM tables: every session lives on the agent's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/result.hpp"
#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_settings.hpp"
#include "sources/snmp/snmp_value.hpp"

// net-snmp's types, named here only by pointer.
struct snmp_session;
struct snmp_pdu;

namespace rackwatch::snmp {

enum class ErrorKind : std::uint8_t {
  open_failed,     // no socket, or the address does not resolve
  send_failed,
  timeout,         // no answer within the request timeout
  wrong_digest,    // v3: the auth passphrase or protocol is not the agent's (usmStatsWrongDigests)
  unknown_user,    // v3: usmStatsUnknownUserNames
  unknown_engine,  // v3: usmStatsUnknownEngineIDs after discovery (the device's engine changed)
  decryption,      // v3: usmStatsDecryptionErrors (the priv passphrase or protocol)
  unsupported_level,  // v3: usmStatsUnsupportedSecLevels
  time_window,     // v3: still notInTimeWindow after the library's re-sync
  report,          // another report
  error_status,    // a response with error-status (tooBig, genErr, ...)
  bad_walk,        // a table walk's answers out of order, empty, or too many rows
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::timeout;
  std::string message;  // what failed, where, and what to do
};

struct Counters {
  std::uint64_t requests = 0;     // sent, discovery included
  std::uint64_t responses = 0;
  std::uint64_t varbinds = 0;     // in the responses: what a walk's overshoot costs shows here
  std::uint64_t timeouts = 0;
  std::uint64_t auth_errors = 0;  // reports of wrong digests, unknown users, decryption, security level
  std::uint64_t other_reports = 0;
  std::uint64_t error_status = 0;
  // Datagrams read that answered no request: a wrong request id, a
  // truncated or garbled datagram, or a report the library handled itself
  // (a time-window re-sync); the library drops them.
  std::uint64_t datagrams_dropped = 0;
  std::uint64_t discoveries = 0;  // v3 engine discoveries that succeeded
};

class Session {
 public:
  Session(boost::asio::any_io_executor executor, std::string host, std::uint16_t port, Credentials credentials,
          std::chrono::milliseconds timeout);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // GET of `oids`: a varbind for each, in order, exceptions included.
  boost::asio::awaitable<Result<std::vector<VarBind>, Error>> get(const std::vector<Oid>& oids);
  // GETBULK (RFC 3416 4.2.3) of `oids`, no non-repeaters: up to
  // `max_repetitions` successors of each, interleaved (the successor of
  // every OID, then the next of each, ...); the agent may send fewer.
  boost::asio::awaitable<Result<std::vector<VarBind>, Error>> get_bulk(const std::vector<Oid>& oids,
                                                                       unsigned max_repetitions);

  const Counters& counters() const { return counters_; }
  std::string endpoint() const;  // "host:port"
  // v3: the engine ID found, in hex; empty before discovery or for v2c.
  std::string engine_id() const;

 private:
  struct Pending;

  // A GET (max_repetitions 0) or a GETBULK, after opening and discovery.
  boost::asio::awaitable<Result<std::vector<VarBind>, Error>> request(const std::vector<Oid>& oids,
                                                                      unsigned max_repetitions);
  Result<bool, Error> open();
  void close();
  boost::asio::awaitable<Result<bool, Error>> discover();
  // Sends `pdu` (owned from here on) and waits for its answer or the deadline.
  boost::asio::awaitable<Result<std::vector<VarBind>, Error>> exchange(snmp_pdu* pdu, bool discovery);
  boost::asio::awaitable<boost::system::error_code> wait_readable();
  // Reads one datagram that is there, and judges it for the request `p`.
  void read_one(Pending& p);
  Error report_error(int report_type) const;
  Error timeout_error(bool discovery) const;
  static int on_event(int op, snmp_session* session, int reqid, snmp_pdu* pdu, void* magic);

  boost::asio::any_io_executor executor_;
  std::string host_;
  std::uint16_t port_;
  Credentials credentials_;
  std::chrono::milliseconds timeout_;
  void* handle_ = nullptr;  // the library's session
  std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
  Pending* pending_ = nullptr;
  Counters counters_;
};

}  // namespace rackwatch::snmp
