#include "sources/snmp/snmp_settings.hpp"

#include "sources/host_port.hpp"

namespace rackwatch::snmp {

const char* security_level_name(SecurityLevel level) {
  switch (level) {
    case SecurityLevel::no_auth_no_priv: return "noAuthNoPriv";
    case SecurityLevel::auth_no_priv: return "authNoPriv";
    case SecurityLevel::auth_priv: return "authPriv";
  }
  return "?";
}

const char* auth_protocol_name(AuthProtocol protocol) {
  switch (protocol) {
    case AuthProtocol::none: return "none";
    case AuthProtocol::md5: return "MD5";
    case AuthProtocol::sha1: return "SHA";
    case AuthProtocol::sha224: return "SHA-224";
    case AuthProtocol::sha256: return "SHA-256";
    case AuthProtocol::sha384: return "SHA-384";
    case AuthProtocol::sha512: return "SHA-512";
  }
  return "?";
}

const char* priv_protocol_name(PrivProtocol protocol) {
  switch (protocol) {
    case PrivProtocol::none: return "none";
    case PrivProtocol::des: return "DES";
    case PrivProtocol::aes128: return "AES";
    case PrivProtocol::aes192: return "AES-192";
    case PrivProtocol::aes256: return "AES-256";
  }
  return "?";
}

std::string SnmpSettings::endpoint() const { return format_host_port(host, port); }

}  // namespace rackwatch::snmp
