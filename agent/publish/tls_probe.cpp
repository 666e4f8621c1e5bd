#include "publish/tls_probe.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <ctime>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/deadline.hpp"
#include "publish/tcp_probe.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

// After the handshake, how long to wait for a refusal the server sends late.
constexpr std::chrono::milliseconds kLateAlertWait{700};

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf.data();
}

// The DNS names and IP addresses a certificate is issued for.
std::string names_of(X509* cert) {
  std::string out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    std::string one;
    if (n->type == GEN_DNS) {
      one = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                        static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const auto* ip = ASN1_STRING_get0_data(n->d.iPAddress);
      if (ASN1_STRING_length(n->d.iPAddress) == 4) {
        one = asio::ip::address_v4({ip[0], ip[1], ip[2], ip[3]}).to_string();
      } else if (ASN1_STRING_length(n->d.iPAddress) == 16) {
        asio::ip::address_v6::bytes_type b{};
        std::copy(ip, ip + 16, b.begin());
        one = asio::ip::address_v6(b).to_string();
      }
    }
    if (!one.empty()) out += (out.empty() ? "" : ", ") + one;
  }
  GENERAL_NAMES_free(names);
  return out.empty() ? "no subject alternative names" : out;
}

// What the broker's own certificate says, noted while OpenSSL verifies it:
// after a failed handshake OpenSSL no longer hands it out.
struct PeerCertificate {
  std::string names = "?";
  std::string not_before = "?";
  std::string not_after = "?";
};

// The server's certificate was not accepted: say why, with what it shows.
std::string verify_failure(long result, const PeerCertificate& cert, const std::string& host,
                           const TlsConfig& tls) {
  std::string why;
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      why = "the broker's certificate has expired (not valid after " + cert.not_after + ")";
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      why = "the broker's certificate is not valid yet (not before " + cert.not_before + ")";
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      why = "the broker's certificate is not issued for '" + host + "' (it names " + cert.names + ")";
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      why = "the broker's certificate is not signed by a CA in ca_file '" + tls.ca_file + "' (" +
            X509_verify_cert_error_string(result) + ")";
      break;
    default:
      why = std::string("the broker's certificate was not accepted: ") + X509_verify_cert_error_string(result);
  }
  return why;
}

// A failure of OpenSSL's own, from the error code asio hands back.
std::string tls_failure(const boost::system::error_code& ec, const TlsConfig& tls) {
  const auto reason = ec.category() == asio::error::get_ssl_category()
                          ? ERR_GET_REASON(static_cast<unsigned long>(ec.value()))
                          : 0;
  switch (reason) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return tls.cert_file.empty()
                 ? "the broker requires a client certificate and none is configured (mqtt.tls cert_file and key_file)"
                 : "the broker requires a client certificate and did not get one";
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
      return "the broker refused the client certificate '" + tls.cert_file + "' (" + ec.message() + ")";
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      return "the broker refused the client certificate '" + tls.cert_file + "': it has expired";
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
      return "the broker does not offer TLS " + std::string(tls_version_name(tls.min_version)) + " or later (" + ec.message() + ")";
    case SSL_R_WRONG_VERSION_NUMBER:
      return "the broker did not answer in TLS (a plain MQTT port? use tcp:// for it)";
    default:
      break;
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return "the broker closed the connection during the TLS handshake (is it a TLS listener? does it require a "
           "client certificate?)";
  }
  return "TLS handshake failed: " + ec.message();
}

}  // namespace

asio::awaitable<TlsProbeResult> probe_tls(std::string uri, TlsConfig tls, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto executor = co_await asio::this_coro::executor;
  TlsProbeResult out;
  const auto parsed = parse_broker_uri(uri);
  if (!parsed.error.empty()) {
    out.error = parsed.error;
    co_return out;
  }
  const auto& address = parsed.address;

  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), tls.min_version == TlsVersion::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx.load_verify_file(tls.ca_file, ec);
  if (ec && tls.verify) {
    out.error = "ca_file '" + tls.ca_file + "': " + ec.message();
    co_return out;
  }
  if (!tls.cert_file.empty()) {
    const auto password = tls.key_password;
    ctx.set_password_callback([password](std::size_t, ssl::context::password_purpose) { return password; });
    if (ctx.use_certificate_chain_file(tls.cert_file, ec); ec) {
      out.error = "cert_file '" + tls.cert_file + "': " + ec.message();
      co_return out;
    }
    if (ctx.use_private_key_file(tls.key_file, ssl::context::pem, ec); ec) {
      out.error = "key_file '" + tls.key_file + "': " + ec.message() +
                  (tls.key_password.empty() ? "" : " (is key_password_file right?)");
      co_return out;
    }
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      out.error = "key_file '" + tls.key_file + "' is not the key of cert_file '" + tls.cert_file + "'";
      co_return out;
    }
  }
  ctx.set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);

  ssl::stream<tcp::socket> stream(executor, ctx);
  SSL* s = stream.native_handle();
  auto peer = std::make_shared<PeerCertificate>();
  stream.set_verify_callback([peer](bool preverified, ssl::verify_context& vctx) {
    X509_STORE_CTX* store = vctx.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) == 0) {
      if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
        peer->names = names_of(cert);
        peer->not_before = time_text(X509_get0_notBefore(cert));
        peer->not_after = time_text(X509_get0_notAfter(cert));
      }
    }
    return preverified;
  });
  asio::ip::make_address(address.host, ec);
  const bool is_ip = !ec;
  if (tls.verify) {
    // The host name (or address) the certificate must be issued for.
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, address.host.c_str());
    } else {
      SSL_set1_host(s, address.host.c_str());
    }
  }
  // SNI (the macro casts in C style, hence the call it stands for).
  if (!is_ip) {
    SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(address.host.c_str()));
  }

  out.error = co_await connect_tcp(stream.next_layer(), address, deadline);
  if (!out.error.empty()) co_return out;
  auto shaken = co_await before(stream.async_handshake(ssl::stream_base::client, use_tuple), deadline);
  if (!shaken) {
    out.error = "the TLS handshake did not finish within the connect timeout";
    co_return out;
  }
  if (const auto hec = std::get<0>(*shaken)) {
    const long verify = SSL_get_verify_result(s);
    out.error = verify != X509_V_OK ? verify_failure(verify, *peer, address.host, tls) : tls_failure(hec, tls);
    co_return out;
  }
  // A server that refuses the client's certificate under TLS 1.3 says so
  // after the client's side of the handshake is done.
  std::array<char, 64> buf{};
  const auto late = std::min(deadline, std::chrono::steady_clock::now() + kLateAlertWait);
  auto read = co_await before(stream.async_read_some(asio::buffer(buf), use_tuple), late);
  if (read && std::get<0>(*read)) {
    out.error = tls_failure(std::get<0>(*read), tls);
    co_return out;
  }
  out.ok = true;
  out.protocol = SSL_get_version(s);
  co_return out;
}

}  // namespace rackwatch
