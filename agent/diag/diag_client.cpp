#include "diag/diag_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <google/protobuf/util/json_util.h>

#include "diag/diag_frame.hpp"

namespace rackwatch::cli {

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until the deadline; false on timeout.
bool wait(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let the read or write report it
  }
}

// How a transfer ended; `closed`: the agent closed (or reset) the connection.
enum class Io { ok, closed, failed };

Io write_all(int fd, const std::string& data, Clock::time_point deadline, std::string& error) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (!wait(fd, POLLOUT, deadline)) {
      error = "timed out sending the request";
      return Io::failed;
    }
    const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) return Io::closed;
      error = std::string("sending the request: ") + std::strerror(errno);
      return Io::failed;
    }
    done += static_cast<std::size_t>(n);
  }
  return Io::ok;
}

Io read_all(int fd, char* out, std::size_t size, Clock::time_point deadline, std::string& error) {
  std::size_t done = 0;
  while (done < size) {
    if (!wait(fd, POLLIN, deadline)) {
      error = "timed out waiting for the agent's answer";
      return Io::failed;
    }
    const auto n = ::recv(fd, out + done, size - done, 0);
    if (n == 0) return Io::closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return Io::closed;
      error = std::string("reading the answer: ") + std::strerror(errno);
      return Io::failed;
    }
    done += static_cast<std::size_t>(n);
  }
  return Io::ok;
}

}  // namespace

DiagCall call_agent(const std::string& socket, const v1::DiagRequest& request,
                    std::chrono::milliseconds timeout) {
  DiagCall call;
  const auto deadline = Clock::now() + timeout;
  if (socket.size() >= sizeof(sockaddr_un::sun_path)) {
    call.error = "socket path too long: " + socket;
    return call;
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    call.error = std::string("socket: ") + std::strerror(errno);
    return call;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket.c_str(), socket.size());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    call.no_agent = e == ENOENT || e == ECONNREFUSED;
    call.error = socket + ": " + std::strerror(e);
    return call;
  }
  const auto closed = [&](const char* when) {
    call.error = "the agent on " + socket + " closed the connection " + when +
                 "; try again, and if it keeps doing so, the agent's log says why (journalctl -u rackwatchd)";
    return call;
  };
  const Io sent = write_all(fd.get(), diag::frame(request), deadline, call.error);
  if (sent == Io::failed) return call;
  // Closed before taking the request, the agent may still have left an
  // answer (too many clients): read it rather than report the broken pipe.
  std::array<std::uint8_t, diag::kHeaderSize> header{};
  const Io head = read_all(fd.get(), reinterpret_cast<char*>(header.data()), header.size(), deadline, call.error);
  if (head == Io::closed) return closed(sent == Io::closed ? "before reading the request" : "without answering");
  if (head == Io::failed) return call;
  const auto length = diag::frame_length(header);
  if (length > 64u << 20) {
    call.error = "the agent's answer claims " + std::to_string(length) + " bytes; not reading it";
    return call;
  }
  std::string body(length, '\0');
  const Io got = read_all(fd.get(), body.data(), body.size(), deadline, call.error);
  if (got == Io::closed) return closed("in the middle of its answer");
  if (got == Io::failed) return call;
  v1::DiagResponse response;
  if (!response.ParseFromString(body)) {
    call.error = "the agent's answer does not decode as a DiagResponse";
    return call;
  }
  call.response = std::move(response);
  return call;
}

bool parse_agent_options(const std::vector<std::string>& args, AgentOptions& options, const char* verb,
                         const char* usage,
                         const std::function<std::size_t(std::size_t, const std::vector<std::string>&)>& other) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--socket" && i + 1 < args.size()) {
      options.socket = args[++i];
    } else if (a == "--json") {
      options.json = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (const auto used = other ? other(i, args) : 0; used > 0) {
      i += used - 1;
    } else {
      std::cerr << "rackwatch " << verb << ": unexpected argument '" << a << "'\n" << usage;
      return false;
    }
  }
  return true;
}

int report_failure(const DiagCall& call, const AgentOptions& options) {
  if (call.response) {
    if (call.response->error().empty()) return 0;
    std::cerr << "rackwatch: " << call.response->error() << '\n';
    return 1;
  }
  if (call.no_agent) {
    std::cerr << "rackwatch: no agent is running: nothing answers on " << options.socket << " ("
              << call.error.substr(call.error.rfind(": ") + 2) << ").\n"
              << "Start it with 'systemctl start rackwatchd', give its socket with --socket PATH,\n"
              << "or poll the devices without an agent: rackwatch probe --config FILE\n";
    return 2;
  }
  std::cerr << "rackwatch: " << call.error << '\n';
  return 2;
}

std::string to_json(const v1::DiagResponse& response) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.always_print_enums_as_ints = false;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(response, &out, options);
  return out;
}

}  // namespace rackwatch::cli
