#include "sources/snmp/snmp_session.hpp"

#include <sys/select.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <utility>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "core/deadline.hpp"
#include "sources/host_port.hpp"
#include "sources/snmp/snmp_library.hpp"
#include "sources/snmp/snmp_varbinds.hpp"

namespace rackwatch::snmp {

namespace asio = boost::asio;

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::open_failed: return "open failed";
    case ErrorKind::send_failed: return "send failed";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::wrong_digest: return "wrong digest";
    case ErrorKind::unknown_user: return "unknown user";
    case ErrorKind::unknown_engine: return "unknown engine";
    case ErrorKind::decryption: return "decryption error";
    case ErrorKind::unsupported_level: return "unsupported security level";
    case ErrorKind::time_window: return "not in time window";
    case ErrorKind::report: return "report";
    case ErrorKind::error_status: return "error status";
    case ErrorKind::bad_walk: return "bad table walk";
  }
  return "error";
}

namespace {

struct ProtocolOid {
  const oid* arcs;
  std::size_t length;
};

ProtocolOid auth_oid(AuthProtocol p) {
  switch (p) {
    case AuthProtocol::md5: return {usmHMACMD5AuthProtocol, OID_LENGTH(usmHMACMD5AuthProtocol)};
    case AuthProtocol::sha1: return {usmHMACSHA1AuthProtocol, OID_LENGTH(usmHMACSHA1AuthProtocol)};
    case AuthProtocol::sha224: return {usmHMAC128SHA224AuthProtocol, OID_LENGTH(usmHMAC128SHA224AuthProtocol)};
    case AuthProtocol::sha256: return {usmHMAC192SHA256AuthProtocol, OID_LENGTH(usmHMAC192SHA256AuthProtocol)};
    case AuthProtocol::sha384: return {usmHMAC256SHA384AuthProtocol, OID_LENGTH(usmHMAC256SHA384AuthProtocol)};
    case AuthProtocol::sha512: return {usmHMAC384SHA512AuthProtocol, OID_LENGTH(usmHMAC384SHA512AuthProtocol)};
    case AuthProtocol::none: break;
  }
  return {usmNoAuthProtocol, OID_LENGTH(usmNoAuthProtocol)};
}

ProtocolOid priv_oid(PrivProtocol p) {
  switch (p) {
    case PrivProtocol::des: return {usmDESPrivProtocol, OID_LENGTH(usmDESPrivProtocol)};
    case PrivProtocol::aes128: return {usmAESPrivProtocol, OID_LENGTH(usmAESPrivProtocol)};
    case PrivProtocol::aes192: return {usmAES192PrivProtocol, OID_LENGTH(usmAES192PrivProtocol)};
    case PrivProtocol::aes256: return {usmAES256PrivProtocol, OID_LENGTH(usmAES256PrivProtocol)};
    case PrivProtocol::none: break;
  }
  return {usmNoPrivProtocol, OID_LENGTH(usmNoPrivProtocol)};
}

int level_of(SecurityLevel level) {
  switch (level) {
    case SecurityLevel::auth_priv: return SNMP_SEC_LEVEL_AUTHPRIV;
    case SecurityLevel::auth_no_priv: return SNMP_SEC_LEVEL_AUTHNOPRIV;
    case SecurityLevel::no_auth_no_priv: break;
  }
  return SNMP_SEC_LEVEL_NOAUTH;
}

std::string library_error(void* handle) {
  int liberr = 0;
  int syserr = 0;
  char* text = nullptr;
  snmp_sess_error(handle, &liberr, &syserr, &text);
  std::string out = text ? text : "unknown error";
  std::free(text);
  return out;
}

const char* status_name(long status) {
  switch (status) {
    case SNMP_ERR_TOOBIG: return "tooBig";
    case SNMP_ERR_NOSUCHNAME: return "noSuchName";
    case SNMP_ERR_BADVALUE: return "badValue";
    case SNMP_ERR_READONLY: return "readOnly";
    case SNMP_ERR_GENERR: return "genErr";
    case SNMP_ERR_NOACCESS: return "noAccess";
    case SNMP_ERR_AUTHORIZATIONERROR: return "authorizationError";
    default: return "error";
  }
}

std::string hex(const u_char* bytes, std::size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xF];
  }
  return out;
}

}  // namespace

// What the library's callback leaves for the waiting request.
struct Session::Pending {
  int reqid = 0;
  bool done = false;
  bool timed_out = false;
  bool send_failed = false;
  bool is_report = false;
  int report_type = 0;
  long error_status = 0;
  long error_index = 0;
  std::vector<VarBind> vars;
};

Session::Session(asio::any_io_executor executor, std::string host, std::uint16_t port, Credentials credentials,
                 std::chrono::milliseconds timeout)
    : executor_(std::move(executor)),
      host_(std::move(host)),
      port_(port),
      credentials_(std::move(credentials)),
      timeout_(timeout) {}

Session::~Session() { close(); }

std::string Session::endpoint() const { return format_host_port(host_, port_); }

std::string Session::engine_id() const {
  if (!handle_) return {};
  const netsnmp_session* s = snmp_sess_session(handle_);
  return s ? hex(s->securityEngineID, s->securityEngineIDLen) : std::string();
}

Result<bool, Error> Session::open() {
  ensure_library();
  netsnmp_session s;
  snmp_sess_init(&s);
  const bool v6 = host_.find(':') != std::string::npos;
  std::string peer = (v6 ? "udp6:" : "udp:") + endpoint();
  s.peername = peer.data();
  s.retries = 0;  // a request is sent once; the next poll is the retry
  s.timeout = static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count());
  s.flags |= SNMP_FLAGS_DONT_PROBE;
  std::string community = credentials_.community;
  std::string user = credentials_.user;
  std::string context = credentials_.context;
  if (credentials_.version == Version::v2c) {
    s.version = SNMP_VERSION_2c;
    s.community = reinterpret_cast<u_char*>(community.data());
    s.community_len = community.size();
  } else {
    s.version = SNMP_VERSION_3;
    s.securityModel = SNMP_SEC_MODEL_USM;
    s.securityName = user.data();
    s.securityNameLen = user.size();
    s.securityLevel = level_of(credentials_.level);
    s.contextName = context.data();
    s.contextNameLen = context.size();
    if (credentials_.level != SecurityLevel::no_auth_no_priv) {
      const auto auth = auth_oid(credentials_.auth);
      s.securityAuthProto = const_cast<oid*>(auth.arcs);
      s.securityAuthProtoLen = auth.length;
      s.securityAuthKeyLen = USM_AUTH_KU_LEN;
      std::string pass = credentials_.auth_passphrase;
      if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                      reinterpret_cast<const u_char*>(pass.data()), pass.size(), s.securityAuthKey,
                      &s.securityAuthKeyLen) != SNMPERR_SUCCESS) {
        return Error{ErrorKind::open_failed, "cannot make the auth key of user '" + user +
                                                 "' from its passphrase (at least 8 characters)"};
      }
    }
    if (credentials_.level == SecurityLevel::auth_priv) {
      const auto priv = priv_oid(credentials_.priv);
      s.securityPrivProto = const_cast<oid*>(priv.arcs);
      s.securityPrivProtoLen = priv.length;
      s.securityPrivKeyLen = USM_PRIV_KU_LEN;
      std::string pass = credentials_.priv_passphrase;
      if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                      reinterpret_cast<const u_char*>(pass.data()), pass.size(), s.securityPrivKey,
                      &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
        return Error{ErrorKind::open_failed, "cannot make the priv key of user '" + user +
                                                 "' from its passphrase (at least 8 characters)"};
      }
    }
  }
  handle_ = snmp_sess_open(&s);
  // The library copied what it keeps; the keys in `s` go now.
  std::memset(s.securityAuthKey, 0, sizeof s.securityAuthKey);
  std::memset(s.securityPrivKey, 0, sizeof s.securityPrivKey);
  if (!handle_) {
    int liberr = 0;
    int syserr = 0;
    char* text = nullptr;
    snmp_error(&s, &liberr, &syserr, &text);
    std::string why = text ? text : "unknown error";
    std::free(text);
    return Error{ErrorKind::open_failed, "cannot open an SNMP session to " + endpoint() + ": " + why +
                                             " (check the host's name and the controller's DNS)"};
  }
  // Opening clears the flag; kept, the library never blocks on a discovery.
  snmp_sess_session(handle_)->flags |= SNMP_FLAGS_DONT_PROBE;
  netsnmp_transport* transport = snmp_sess_transport(handle_);
  socket_ = std::make_unique<asio::posix::stream_descriptor>(executor_, transport->sock);
  // A read must never wait: the agent's executor is everyone's.
  boost::system::error_code ignored;
  socket_->native_non_blocking(true, ignored);
  return true;
}

void Session::close() {
  pending_ = nullptr;
  if (socket_) {
    socket_->release();  // the library closes its socket
    socket_.reset();
  }
  if (handle_) {
    snmp_sess_close(handle_);
    handle_ = nullptr;
  }
}

asio::awaitable<boost::system::error_code> Session::wait_readable() {
  auto [ec] = co_await socket_->async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
  co_return ec;
}

int Session::on_event(int op, snmp_session* session, int reqid, snmp_pdu* pdu, void* magic) {
  (void)session;
  auto* self = static_cast<Session*>(magic);
  Pending* p = self->pending_;
  // Reports carry the request id only when the agent could read it: with
  // one request outstanding, a report is that request's.
  if (p == nullptr || p->done || (p->reqid != reqid && op != NETSNMP_CALLBACK_OP_SEC_ERROR)) return 1;
  switch (op) {
    case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
      if (pdu == nullptr) break;
      p->done = true;
      if (pdu->command == SNMP_MSG_REPORT) {
        p->is_report = true;
        p->report_type = snmpv3_get_report_type(pdu);
      } else {
        p->error_status = pdu->errstat;
        p->error_index = pdu->errindex;
        p->vars = varbinds_of(*pdu);
      }
      break;
    case NETSNMP_CALLBACK_OP_SEC_ERROR:
      p->done = true;
      p->is_report = true;
      p->report_type = pdu ? snmpv3_get_report_type(pdu) : SNMPERR_UNKNOWN_REPORT;
      break;
    case NETSNMP_CALLBACK_OP_TIMED_OUT:
      p->done = true;
      p->timed_out = true;
      break;
    case NETSNMP_CALLBACK_OP_SEND_FAILED:
      p->done = true;
      p->send_failed = true;
      break;
    default:
      break;
  }
  return 1;
}

Error Session::timeout_error(bool discovery) const {
  const std::string within = " within " + std::to_string(timeout_.count()) + "ms";
  if (credentials_.version == Version::v2c) {
    return {ErrorKind::timeout, "no answer from " + endpoint() + within +
                                    " (the device is down or unreachable, or the community is not the device's: an "
                                    "SNMP agent drops a request with a wrong community without answering)"};
  }
  if (discovery) {
    return {ErrorKind::timeout, "no answer to SNMPv3 engine discovery from " + endpoint() + within +
                                    " (the device is down or unreachable, or does not speak SNMPv3)"};
  }
  if (credentials_.level == SecurityLevel::auth_priv) {
    return {ErrorKind::timeout,
            "no answer from " + endpoint() + within + " although it answered engine discovery: with authPriv the "
            "likely cause is a privacy passphrase or protocol (" + priv_protocol_name(credentials_.priv) +
            ") that is not the device's, so that it cannot decrypt the request"};
  }
  return {ErrorKind::timeout, "no answer from " + endpoint() + within + " (it answered engine discovery before)"};
}

Error Session::report_error(int report_type) const {
  const std::string who = endpoint() + " refused user '" + credentials_.user + "': ";
  switch (report_type) {
    case SNMPERR_AUTHENTICATION_FAILURE:
      return {ErrorKind::wrong_digest, who + "wrong digest (usmStatsWrongDigests): the auth passphrase or protocol (" +
                                           auth_protocol_name(credentials_.auth) + ") is not the device's"};
    case SNMPERR_UNKNOWN_USER_NAME:
      return {ErrorKind::unknown_user, who + "no such user (usmStatsUnknownUserNames): check 'user'"};
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
      return {ErrorKind::unsupported_level, who + std::string("the device does not allow it at ") +
                                                security_level_name(credentials_.level) +
                                                " (usmStatsUnsupportedSecLevels): check 'security'"};
    case SNMPERR_DECRYPTION_ERR:
      return {ErrorKind::decryption, who + "the device could not decrypt the request (usmStatsDecryptionErrors): "
                                           "the priv passphrase or protocol (" +
                                           priv_protocol_name(credentials_.priv) + ") is not the device's"};
    case SNMPERR_UNKNOWN_ENG_ID:
      return {ErrorKind::unknown_engine, endpoint() + " no longer knows the engine ID found at discovery "
                                                      "(usmStatsUnknownEngineIDs): discovering it again"};
    case SNMPERR_NOT_IN_TIME_WINDOW:
      return {ErrorKind::time_window, endpoint() + " still says notInTimeWindow after a re-sync: its engine "
                                                   "boots or time jumped; discovering it again"};
    case SNMPERR_BAD_CONTEXT:
      return {ErrorKind::report, endpoint() + " has no context '" + credentials_.context +
                                     "' (snmpUnknownContexts): check 'context'"};
    default:
      break;
  }
  return {ErrorKind::report, endpoint() + " answered with a report: " + snmp_api_errstring(report_type)};
}

void Session::read_one(Pending& p) {
  const int fd = snmp_sess_transport(handle_)->sock;
  fd_set fds;
  FD_ZERO(&fds);
  FD_SET(fd, &fds);
  // The library drops a message that fails our key without a callback,
  // but counts it: a rise while this datagram was read is its verdict.
  const auto digests = snmp_get_statistic(STAT_USMSTATSWRONGDIGESTS);
  const auto decryption = snmp_get_statistic(STAT_USMSTATSDECRYPTIONERRORS);
  snmp_sess_read(handle_, &fds);
  if (p.done) return;
  if (snmp_get_statistic(STAT_USMSTATSWRONGDIGESTS) != digests) {
    p.done = p.is_report = true;
    p.report_type = SNMPERR_AUTHENTICATION_FAILURE;
  } else if (snmp_get_statistic(STAT_USMSTATSDECRYPTIONERRORS) != decryption) {
    p.done = p.is_report = true;
    p.report_type = SNMPERR_DECRYPTION_ERR;
  } else {
    ++counters_.datagrams_dropped;
  }
}

asio::awaitable<Result<std::vector<VarBind>, Error>> Session::exchange(snmp_pdu* pdu, bool discovery) {
  snmp_sess_timeout(handle_);  // the library forgets what it still waited for
  Pending p;
  pending_ = &p;
  // However this coroutine ends (its frame may be destroyed at any wait
  // when the agent stops), the library's callback must not find `p` after.
  struct Forget {
    Pending*& pending;
    ~Forget() { pending = nullptr; }
  } forget{pending_};
  const int reqid = snmp_sess_async_send(handle_, pdu, &Session::on_event, this);
  if (reqid == 0) {
    snmp_free_pdu(pdu);
    co_return Error{ErrorKind::send_failed, "cannot send to " + endpoint() + ": " + library_error(handle_)};
  }
  p.reqid = reqid;
  ++counters_.requests;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const int fd = snmp_sess_transport(handle_)->sock;
  // Reads what the socket holds, a datagram at a time, before it waits
  // again: the reactor says when datagrams arrive, not how many (two that
  // came together, a late answer and the awaited one, are one wake-up), and
  // the library reads behind its back (a wake-up may find nothing).
  auto datagram_waiting = [fd] {
    std::uint8_t first = 0;
    return ::recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
  };
  while (!p.done) {
    while (!p.done && datagram_waiting()) read_one(p);
    if (p.done) break;
    auto woke = co_await before(wait_readable(), deadline);
    if (!woke || *woke) break;
  }
  if (!p.done || p.timed_out) {
    ++counters_.timeouts;
    co_return timeout_error(discovery);
  }
  if (p.send_failed) co_return Error{ErrorKind::send_failed, "cannot send to " + endpoint()};
  if (p.is_report) {
    auto error = report_error(p.report_type);
    // Discovery is answered by a report by design: nothing to count.
    if (discovery && error.kind == ErrorKind::unknown_engine) co_return error;
    if (error.kind == ErrorKind::wrong_digest || error.kind == ErrorKind::unknown_user ||
        error.kind == ErrorKind::decryption || error.kind == ErrorKind::unsupported_level) {
      ++counters_.auth_errors;
    } else {
      ++counters_.other_reports;
    }
    co_return error;
  }
  ++counters_.responses;
  counters_.varbinds += p.vars.size();
  if (p.error_status != SNMP_ERR_NOERROR) {
    ++counters_.error_status;
    std::string message = endpoint() + " answered " + status_name(p.error_status) + "(" +
                          std::to_string(p.error_status) + ") at varbind " + std::to_string(p.error_index);
    if (p.error_status == SNMP_ERR_TOOBIG) message += ": the answer would not fit in one message; lower max_varbinds (GET) or max_repetitions (table walks)";
    co_return Error{ErrorKind::error_status, message};
  }
  co_return std::move(p.vars);
}

asio::awaitable<Result<bool, Error>> Session::discover() {
  snmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
  pdu->version = SNMP_VERSION_3;
  pdu->securityName = strdup("");
  pdu->securityNameLen = 0;
  pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
  pdu->securityModel = SNMP_SEC_MODEL_USM;
  auto answer = co_await exchange(pdu, true);
  netsnmp_session* s = snmp_sess_session(handle_);
  if (s->securityEngineIDLen == 0) {
    if (!answer) co_return answer.error();
    co_return Error{ErrorKind::report, endpoint() + " answered engine discovery without an engine ID"};
  }
  // A user of this name for this engine, left by an earlier session (a
  // reload that changed its passphrase), would keep its old keys.
  if (usmUser* old = usm_get_user(s->securityEngineID, s->securityEngineIDLen, s->securityName)) {
    usm_remove_user(old);
    usm_free_user(old);
  }
  if (usm_create_user_from_session(s) != SNMPERR_SUCCESS) {
    co_return Error{ErrorKind::open_failed, "cannot localize the keys of user '" + credentials_.user +
                                                "' to the engine of " + endpoint()};
  }
  ++counters_.discoveries;
  co_return true;
}

asio::awaitable<Result<std::vector<VarBind>, Error>> Session::get(const std::vector<Oid>& oids) {
  auto answer = co_await request(oids, 0);
  if (answer && answer->size() != oids.size()) {
    co_return Error{ErrorKind::error_status, endpoint() + " answered " + std::to_string(answer->size()) +
                                                 " varbinds to a GET of " + std::to_string(oids.size())};
  }
  co_return answer;
}

asio::awaitable<Result<std::vector<VarBind>, Error>> Session::get_bulk(const std::vector<Oid>& oids,
                                                                      unsigned max_repetitions) {
  auto answer = co_await request(oids, std::max(max_repetitions, 1U));
  if (answer && answer->size() > oids.size() * std::max(max_repetitions, 1U)) {
    co_return Error{ErrorKind::error_status, endpoint() + " answered " + std::to_string(answer->size()) +
                                                 " varbinds to a GETBULK of " + std::to_string(oids.size()) + " × " +
                                                 std::to_string(max_repetitions)};
  }
  co_return answer;
}

asio::awaitable<Result<std::vector<VarBind>, Error>> Session::request(const std::vector<Oid>& oids,
                                                                     unsigned max_repetitions) {
  if (!handle_) {
    auto opened = open();
    if (!opened) co_return opened.error();
  }
  if (credentials_.version == Version::v3 && snmp_sess_session(handle_)->securityEngineIDLen == 0) {
    auto found = co_await discover();
    if (!found) {
      close();
      co_return found.error();
    }
  }
  snmp_pdu* pdu = snmp_pdu_create(max_repetitions > 0 ? SNMP_MSG_GETBULK : SNMP_MSG_GET);
  if (max_repetitions > 0) {
    pdu->non_repeaters = 0;
    pdu->max_repetitions = static_cast<long>(max_repetitions);
  }
  std::vector<oid> arcs;
  for (const auto& o : oids) {
    arcs.assign(o.begin(), o.end());
    snmp_add_null_var(pdu, arcs.data(), arcs.size());
  }
  auto answer = co_await exchange(pdu, false);
  // A device that changed its engine (replaced, reset) may drop what it
  // cannot place rather than report it: v3 discovers again after a timeout.
  if (!answer && (answer.error().kind == ErrorKind::unknown_engine || answer.error().kind == ErrorKind::time_window ||
                  (answer.error().kind == ErrorKind::timeout && credentials_.version == Version::v3))) {
    close();  // the next request opens afresh and discovers the engine again
  }
  co_return answer;
}

}  // namespace rackwatch::snmp
