// Loopback ports for integration tests: pick a free one, ask whether one
// accepts connections.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace rackwatch::test {

namespace detail {

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Closes the descriptor when it goes out of scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace detail

// A TCP port on 127.0.0.1 that nothing listens on right now: binds port 0,
// reads the port the kernel chose, closes. The port is free again, not
// reserved: another process could take it before the caller binds it (rare,
// since the kernel hands out ephemeral ports in turn); a caller that cannot
// bind it should pick another. SO_REUSEADDR is deliberately not set here:
// with it, bind could return a port still held by a TIME_WAIT connection,
// which a server without SO_REUSEADDR then fails to bind. (Mosquitto sets
// SO_REUSEADDR itself, which is what lets a broker restart on its old port.)
inline std::uint16_t free_port() {
  detail::Fd sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr = detail::loopback(0);
  if (::bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::system_error(errno, std::generic_category(), "bind 127.0.0.1:0");
  socklen_t len = sizeof addr;
  if (::getsockname(sock.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::system_error(errno, std::generic_category(), "getsockname");
  return ntohs(addr.sin_port);
}

// A UDP port on 127.0.0.1 that nothing is bound to right now, picked the
// same way (and with the same caveat) as free_port().
inline std::uint16_t free_udp_port() {
  detail::Fd sock{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr = detail::loopback(0);
  if (::bind(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::system_error(errno, std::generic_category(), "bind udp 127.0.0.1:0");
  socklen_t len = sizeof addr;
  if (::getsockname(sock.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::system_error(errno, std::generic_category(), "getsockname");
  return ntohs(addr.sin_port);
}

// True when a TCP connection to 127.0.0.1:port is accepted right now.
inline bool port_accepts(std::uint16_t port) {
  detail::Fd sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) return false;
  sockaddr_in addr = detail::loopback(port);
  return ::connect(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace rackwatch::test
