// "host", "host:port" or "[IPv6]:port", as network sources give their
// device's address; a bare IPv6 address needs its brackets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rackwatch {

struct HostPort {
  std::string host;  // without brackets
  std::optional<std::uint16_t> port;  // when given: 1..65535
};

std::optional<HostPort> parse_host_port(const std::string& text);

// "host:port", with brackets around an IPv6 address: "[fd00::5]:161".
std::string format_host_port(const std::string& host, std::uint16_t port);

}  // namespace rackwatch
