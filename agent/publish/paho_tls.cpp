#include "publish/paho_tls.hpp"

namespace rackwatch {

mqtt::ssl_options paho_ssl_options(const TlsConfig& tls) {
  mqtt::ssl_options ssl;
  ssl.set_trust_store(tls.ca_file);
  if (!tls.cert_file.empty()) {
    ssl.set_key_store(tls.cert_file);
    ssl.set_private_key(tls.key_file);
  }
  if (!tls.key_password.empty()) ssl.set_private_key_password(tls.key_password);
  ssl.set_enable_server_cert_auth(tls.verify);
  ssl.set_verify(tls.verify);  // the host name check: off in Paho unless set
  return ssl;
}

}  // namespace rackwatch
