#include "sources/redfish/redfish_http.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <optional>
#include <tuple>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "core/deadline.hpp"
#include "sources/host_port.hpp"

namespace rackwatch::redfish {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

using HttpRequest = http::request<http::string_body>;

http::verb verb_of(Method m) {
  switch (m) {
    case Method::get: return http::verb::get;
    case Method::post: return http::verb::post;
    case Method::del: return http::verb::delete_;
  }
  return http::verb::get;
}

// The kept connection was closed by the service between two requests (its
// idle timeout): the request never reached it, and is sent again once.
bool closed_while_idle(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

struct Exchanged {
  boost::system::error_code ec;
  bool writing = false;  // the error came while writing
  Response response;
  bool keep_alive = true;
};

// One request and its answer on `stream`; the deadline is the tcp_stream's.
template <class Stream>
asio::awaitable<Exchanged> exchange(Stream& stream, beast::flat_buffer& buffer, const HttpRequest& request,
                                    std::size_t max_body) {
  Exchanged out;
  auto [write_error, written] = co_await http::async_write(stream, request, use_tuple);
  (void)written;
  if (write_error) {
    out.ec = write_error;
    out.writing = true;
    co_return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  (void)read;
  if (read_error) {
    out.ec = read_error;
    co_return out;
  }
  auto message = parser.release();
  out.response.status = message.result_int();
  out.response.location = std::string(message[http::field::location]);
  out.response.auth_token = std::string(message["X-Auth-Token"]);
  out.response.body = std::move(message.body());
  out.keep_alive = message.keep_alive();
  co_return out;
}

}  // namespace

struct HttpClient::Impl {
  Impl(asio::any_io_executor ex, Options opts) : executor(std::move(ex)), options(std::move(opts)) {}

  asio::any_io_executor executor;
  Options options;
  std::optional<ssl::context> context;
  std::string context_error;  // ca_file unreadable
  std::optional<beast::tcp_stream> plain;
  std::unique_ptr<ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool used = false;  // the connection has served a request

  std::string where() const {
    return std::string(options.scheme == Scheme::https ? "https://" : "http://") +
           format_host_port(options.host, options.port);
  }

  bool is_open() const {
    return options.scheme == Scheme::https ? tls && beast::get_lowest_layer(*tls).socket().is_open()
                                           : plain && plain->socket().is_open();
  }

  void close() {
    boost::system::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (tls) beast::get_lowest_layer(*tls).socket().close(ignored);
    plain.reset();
    tls.reset();
    buffer.clear();
    used = false;
  }

  void make_context() {
    if (context || !context_error.empty()) return;
    context.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
      context->set_default_verify_paths(ec);
    } else {
      context->load_verify_file(options.ca_file, ec);
    }
    if (ec && options.verify) {
      context_error = options.ca_file.empty() ? "the system's CA store: " + ec.message()
                                              : "ca_file '" + options.ca_file + "': " + ec.message();
      context.reset();
      return;
    }
    context->set_verify_mode(options.verify ? ssl::verify_peer : ssl::verify_none);
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, Options options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}

HttpClient::~HttpClient() = default;

void HttpClient::close() { impl_->close(); }
bool HttpClient::connected() const { return impl_->is_open(); }
std::string HttpClient::endpoint() const { return impl_->where(); }

namespace {

// Resolves and connects `stream` before the deadline.
asio::awaitable<std::optional<Error>> connect_stream(beast::tcp_stream& stream, const std::string& host,
                                                     std::uint16_t port, const std::string& where,
                                                     SteadyClock::time_point deadline) {
  tcp::resolver resolver(stream.get_executor());
  auto resolved = co_await before(resolver.async_resolve(host, std::to_string(port), use_tuple), deadline);
  if (!resolved) co_return Error{ErrorKind::timeout, "timeout: resolving " + where};
  auto& [resolve_error, endpoints] = *resolved;
  if (resolve_error) co_return Error{ErrorKind::connect, "resolving " + where + ": " + resolve_error.message()};
  stream.expires_at(deadline);
  auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
  (void)endpoint;
  if (connect_error == beast::error::timeout) co_return Error{ErrorKind::timeout, "timeout: connecting to " + where};
  if (connect_error) co_return Error{ErrorKind::connect, "connecting to " + where + ": " + connect_error.message()};
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  co_return std::nullopt;
}

// Why the handshake failed, with OpenSSL's own reason when it refused the
// server's certificate.
std::string handshake_failure(SSL* ssl_handle, const boost::system::error_code& ec, const std::string& where,
                              const std::string& ca_file) {
  const long verify = SSL_get_verify_result(ssl_handle);
  if (verify != X509_V_OK) {
    std::string why = "TLS handshake with " + where + ": certificate verify failed: " +
                      X509_verify_cert_error_string(verify);
    switch (verify) {
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        why += ca_file.empty() ? " (give the CA that signed it as ca_file)"
                               : " (not signed by a CA in ca_file '" + ca_file + "')";
        break;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        why += " (the certificate is not issued for the configured host)";
        break;
      default:
        break;
    }
    return why;
  }
  if (ec == beast::error::timeout) return "timeout: TLS handshake with " + where;
  if (ec == ssl::error::stream_truncated || ec == asio::error::eof) {
    return "TLS handshake with " + where + ": the service closed the connection (is it an https port?)";
  }
  return "TLS handshake with " + where + ": " + ec.message();
}

}  // namespace

asio::awaitable<Result<Response, Error>> HttpClient::send(Request request, SteadyClock::time_point deadline) {
  Impl& d = *impl_;
  const bool https = d.options.scheme == Scheme::https;
  HttpRequest req{verb_of(request.method), request.target, 11};
  req.set(http::field::host, format_host_port(d.options.host, d.options.port));
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "rackwatch");
  req.keep_alive(true);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || request.method == Method::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(request.body);
  }
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!d.is_open()) {
      d.close();
      if (https) {
        d.make_context();
        if (!d.context) co_return Error{ErrorKind::tls, d.context_error};
        d.tls = std::make_unique<ssl::stream<beast::tcp_stream>>(d.executor, *d.context);
      } else {
        d.plain.emplace(d.executor);
      }
      ++counters_.connects;
      beast::tcp_stream& lowest = https ? beast::get_lowest_layer(*d.tls) : *d.plain;
      auto failure = co_await connect_stream(lowest, d.options.host, d.options.port, d.where(), deadline);
      if (failure) {
        if (failure->kind == ErrorKind::timeout) ++counters_.timeouts;
        d.close();
        co_return *failure;
      }
      if (https) {
        SSL* s = d.tls->native_handle();
        boost::system::error_code not_ip;
        asio::ip::make_address(d.options.host, not_ip);
        if (d.options.verify) {
          if (!not_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), d.options.host.c_str());
          } else {
            SSL_set1_host(s, d.options.host.c_str());
          }
        }
        if (not_ip) {  // SNI, for names only (the macro casts in C style, hence the call it stands for)
          SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(d.options.host.c_str()));
        }
        lowest.expires_at(deadline);
        auto [shake_error] = co_await d.tls->async_handshake(ssl::stream_base::client, use_tuple);
        if (shake_error) {
          shake_error == beast::error::timeout ? ++counters_.timeouts : ++counters_.tls_failures;
          const auto why = handshake_failure(s, shake_error, d.where(), d.options.ca_file);
          d.close();
          co_return Error{shake_error == beast::error::timeout ? ErrorKind::timeout : ErrorKind::tls, why};
        }
      }
    }
    const bool reused = d.used;
    ++counters_.requests;
    Exchanged done;
    if (https) {
      beast::get_lowest_layer(*d.tls).expires_at(deadline);
      done = co_await exchange(*d.tls, d.buffer, req, d.options.max_body);
    } else {
      d.plain->expires_at(deadline);
      done = co_await exchange(*d.plain, d.buffer, req, d.options.max_body);
    }
    if (!done.ec) {
      d.used = true;
      if (!done.keep_alive) d.close();
      co_return std::move(done.response);
    }
    d.close();
    if (done.ec == beast::error::timeout) {
      ++counters_.timeouts;
      co_return Error{ErrorKind::timeout, std::string("timeout: ") + (done.writing ? "sending " : "reading the answer to ") +
                                              std::string(req.method_string()) + " " + request.target + " at " + d.where()};
    }
    if (done.ec == http::error::body_limit) {
      co_return Error{ErrorKind::too_large, std::string(req.method_string()) + " " + request.target + " at " +
                                                d.where() + ": the body is longer than " +
                                                std::to_string(d.options.max_body) + " bytes"};
    }
    if (reused && closed_while_idle(done.ec) && attempt == 0) {
      ++counters_.reconnects;
      continue;
    }
    co_return Error{ErrorKind::io, std::string(req.method_string()) + " " + request.target + " at " + d.where() +
                                       ": " + done.ec.message()};
  }
  co_return Error{ErrorKind::io, "unreachable"};
}

}  // namespace rackwatch::redfish
