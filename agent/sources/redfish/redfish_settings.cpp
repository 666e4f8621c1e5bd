#include "sources/redfish/redfish_settings.hpp"

#include "sources/host_port.hpp"

namespace rackwatch::redfish {

const char* auth_kind_name(AuthKind kind) {
  switch (kind) {
    case AuthKind::session: return "session";
    case AuthKind::basic: return "basic";
    case AuthKind::none: return "none";
  }
  return "?";
}

std::string RedfishSettings::endpoint() const {
  return std::string(scheme == Scheme::https ? "https://" : "http://") + format_host_port(host, port);
}

}  // namespace rackwatch::redfish
