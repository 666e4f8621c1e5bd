// modbus_peer: a Modbus TCP or RTU server on libmodbus that tests run as an
// independent device peer; RTU also over TCP, as a serial device server
// carries it. It serves a register map (values that change over time), logs
// exactly what it served, and injects faults on request.
// Usage and formats: tests/peers/README.md.
#include <fcntl.h>
#include <modbus.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "register_map.hpp"

namespace modbus_peer {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Fault injection. "Every N" counts the requests of the fault units only
// (all units when none is named), starting at 1; 0 turns a fault off.
struct Faults {
  unsigned drop_every = 0;
  unsigned delay_ms = 0;
  unsigned corrupt_crc_every = 0;
  unsigned wrong_tid_every = 0;
  unsigned short_every = 0;
  unsigned close_every = 0;
  unsigned split_every = 0;  // TCP: the answer one byte a write, as a slow gateway may send it
  unsigned stale_every = 0;  // TCP: an answer to the previous transaction (other values) first
  std::map<std::uint16_t, int> exception_at;  // address -> exception code
  std::set<int> units;                        // empty: every unit
};

unsigned parse_unsigned(const std::string& text, const std::string& what, unsigned max) {
  unsigned long long value = 0;
  int base = 10;
  std::string_view view = text;
  if (view.size() > 2 && view[0] == '0' && (view[1] == 'x' || view[1] == 'X')) {
    base = 16;
    view.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value, base);
  if (view.empty() || ec != std::errc{} || end != view.data() + view.size() || value > max) {
    throw UsageError(what + ": bad number \"" + text + "\" (0.." + std::to_string(max) + ")");
  }
  return static_cast<unsigned>(value);
}

// Applies one fault option (name without "--") taking its arguments from
// args[i+1..]; returns how many arguments it used, or -1 if `name` is not a
// fault option.
int apply_fault(Faults& f, const std::string& name, const std::vector<std::string>& args,
                std::size_t i) {
  auto arg = [&](std::size_t k) -> const std::string& {
    if (i + k >= args.size()) throw UsageError(name + ": missing argument");
    return args[i + k];
  };
  if (name == "drop-every") return f.drop_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "delay-ms") return f.delay_ms = parse_unsigned(arg(1), name, 600000), 1;
  if (name == "corrupt-crc-every")
    return f.corrupt_crc_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "wrong-tid-every")
    return f.wrong_tid_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "short-every") return f.short_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "close-every") return f.close_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "split-every") return f.split_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "stale-every") return f.stale_every = parse_unsigned(arg(1), name, 1U << 30), 1;
  if (name == "fault-unit") return f.units.insert(static_cast<int>(parse_unsigned(arg(1), name, 255))), 1;
  if (name == "exception-at") {
    const auto addr = parse_unsigned(arg(1), name, 65535);
    const auto code = parse_unsigned(arg(2), name, 255);
    if (code == 0) throw UsageError(name + ": exception code 0 is not an exception");
    f.exception_at[static_cast<std::uint16_t>(addr)] = static_cast<int>(code);
    return 2;
  }
  return -1;
}

struct Options {
  std::optional<std::string> tcp;  // HOST:PORT
  std::optional<std::string> rtu_over_tcp;  // HOST:PORT
  std::optional<std::string> rtu_device;
  bool rtu_pty = false;
  int baud = 19200;
  char parity = 'E';
  int data_bits = 8;
  int stop_bits = 1;
  std::vector<std::pair<int, std::string>> units;  // id, map file ("" = --map)
  std::string map;
  bool gateway_exceptions = false;
  std::map<int, unsigned> slow_units;  // TCP: unit id -> ms its answers come late, others served meanwhile
  bool exit_with_parent = false;
  std::string served_log;
  std::string clock_file;
  std::string faults_file;
  Faults faults;
};

constexpr const char* kUsage =
    "usage: modbus_peer (--tcp HOST:PORT | --rtu DEVICE | --rtu-pty | --rtu-over-tcp HOST:PORT) [options]\n"
    "  --baud N --parity N|E|O --data-bits 7|8 --stop-bits 1|2   (RTU; default 19200 8E1)\n"
    "  --unit ID[=MAP]   serve unit ID (repeatable); default: every unit id\n"
    "  --map FILE        register map for units without their own\n"
    "  --gateway-exceptions   answer 0x0B for units not served (default: silence)\n"
    "  --slow-unit ID MS      TCP: unit ID answers MS late; the others are served meanwhile\n"
    "  --exit-with-parent     end when the process that started it ends\n"
    "  --served-log FILE      append one line per request: what was served\n"
    "  --clock-file FILE      generator clock in seconds, read at each request\n"
    "  --faults-file FILE     fault options, re-read at each request\n"
    "  --drop-every N --delay-ms D --corrupt-crc-every N --wrong-tid-every N\n"
    "  --short-every N --close-every N --split-every N --stale-every N\n"
    "  --exception-at ADDR CODE --fault-unit ID\n"
    "See tests/peers/README.md.\n";

Options parse_options(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(a + ": missing argument");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--tcp") {
      o.tcp = value();
    } else if (a == "--rtu") {
      o.rtu_device = value();
    } else if (a == "--rtu-over-tcp") {
      o.rtu_over_tcp = value();
    } else if (a == "--rtu-pty") {
      o.rtu_pty = true;
    } else if (a == "--baud") {
      o.baud = static_cast<int>(parse_unsigned(value(), a, 4000000));
    } else if (a == "--parity") {
      const std::string& p = value();
      if (p != "N" && p != "E" && p != "O") throw UsageError("--parity: N, E or O");
      o.parity = p[0];
    } else if (a == "--data-bits") {
      o.data_bits = static_cast<int>(parse_unsigned(value(), a, 8));
      if (o.data_bits < 5) throw UsageError("--data-bits: 5..8");
    } else if (a == "--stop-bits") {
      o.stop_bits = static_cast<int>(parse_unsigned(value(), a, 2));
      if (o.stop_bits < 1) throw UsageError("--stop-bits: 1 or 2");
    } else if (a == "--unit") {
      const std::string& u = value();
      const auto eq = u.find('=');
      const int id = static_cast<int>(parse_unsigned(u.substr(0, eq), a, 255));
      o.units.emplace_back(id, eq == std::string::npos ? "" : u.substr(eq + 1));
    } else if (a == "--map") {
      o.map = value();
    } else if (a == "--gateway-exceptions") {
      o.gateway_exceptions = true;
    } else if (a == "--slow-unit") {
      const auto unit = static_cast<int>(parse_unsigned(value(), "--slow-unit unit", 255));
      o.slow_units[unit] = parse_unsigned(value(), "--slow-unit ms", 600000);
    } else if (a == "--exit-with-parent") {
      o.exit_with_parent = true;
    } else if (a == "--served-log") {
      o.served_log = value();
    } else if (a == "--clock-file") {
      o.clock_file = value();
    } else if (a == "--faults-file") {
      o.faults_file = value();
    } else if (a.rfind("--", 0) == 0) {
      const int used = apply_fault(o.faults, a.substr(2), args, i);
      if (used < 0) throw UsageError("unknown option " + a);
      i += static_cast<std::size_t>(used);
    } else {
      throw UsageError("unexpected argument " + a);
    }
  }
  const int modes = (o.tcp ? 1 : 0) + (o.rtu_device ? 1 : 0) + (o.rtu_pty ? 1 : 0) + (o.rtu_over_tcp ? 1 : 0);
  if (modes != 1) throw UsageError("give exactly one of --tcp, --rtu, --rtu-pty, --rtu-over-tcp");
  return o;
}

Faults parse_faults_text(const std::string& text, const std::string& name) {
  Faults f;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) continue;
    try {
      std::string key = words[0].rfind("--", 0) == 0 ? words[0].substr(2) : words[0];
      const int used = apply_fault(f, key, words, 0);
      if (used < 0) throw UsageError("unknown fault \"" + words[0] + "\"");
      if (static_cast<std::size_t>(used) + 1 != words.size())
        throw UsageError("too many arguments for " + key);
    } catch (const UsageError& e) {
      throw UsageError(name + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  return f;
}

std::uint16_t crc16(const std::uint8_t* data, std::size_t n) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 1U) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001U)
                       : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return crc;
}

bool write_all(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t rc = ::send(fd, data, n, MSG_NOSIGNAL);
    ssize_t written = rc;
    if (rc < 0 && errno == ENOTSOCK) written = ::write(fd, data, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    n -= static_cast<std::size_t>(written);
  }
  return true;
}

class Server {
 public:
  explicit Server(Options options) : o_(std::move(options)) {
    if (o_.units.empty()) {
      any_unit_map_ = RegisterMap::load(o_.map);
    } else {
      for (const auto& [id, file] : o_.units) {
        if (maps_.count(id)) throw UsageError("--unit " + std::to_string(id) + " given twice");
        maps_.emplace(id, RegisterMap::load(file.empty() ? o_.map : file));
      }
    }
    if (!o_.served_log.empty()) {
      log_fd_ = ::open(o_.served_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd_ < 0) throw std::runtime_error(o_.served_log + ": " + std::strerror(errno));
    }
    faults_ = o_.faults;
    mapping_ = modbus_mapping_new(65536, 65536, 65536, 65536);
    if (mapping_ == nullptr) throw std::runtime_error("modbus_mapping_new failed");
  }

  ~Server() {
    if (mapping_ != nullptr) modbus_mapping_free(mapping_);
    if (ctx_ != nullptr) modbus_free(ctx_);
    if (log_fd_ >= 0) ::close(log_fd_);
  }

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int run() {
    if (o_.tcp) return run_tcp();
    if (o_.rtu_over_tcp) return run_rtu_over_tcp();
    return run_rtu();
  }

 private:
  struct Request {
    int unit = 0;
    int fc = 0;
    std::uint16_t addr = 0;
    std::uint16_t count = 0;
    std::uint16_t tid = 0;
  };

  // ---- transports ----------------------------------------------------------

  int run_tcp() {
    const std::string& spec = *o_.tcp;
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos) throw UsageError("--tcp wants HOST:PORT");
    const std::string host = spec.substr(0, colon);
    const int port = static_cast<int>(parse_unsigned(spec.substr(colon + 1), "--tcp port", 65535));
    ctx_ = modbus_new_tcp(host.c_str(), port);
    if (ctx_ == nullptr) throw std::runtime_error(std::string("modbus_new_tcp: ") + modbus_strerror(errno));
    tcp_ = true;
    const int listen_fd = modbus_tcp_listen(ctx_, 16);
    if (listen_fd < 0) {
      throw std::runtime_error("listen " + spec + ": " + modbus_strerror(errno));
    }
    ::fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
    std::printf("listening tcp %s:%u\n", host.c_str(), static_cast<unsigned>(ntohs(bound.sin_port)));
    std::fflush(stdout);

    connection_ = true;
    std::vector<std::uint8_t> req(MODBUS_TCP_MAX_ADU_LENGTH);
    serve_connections(listen_fd, [&](int c) {
      modbus_set_socket(ctx_, c);
      const int n = modbus_receive(ctx_, req.data());
      if (n < 0) return false;  // closed by the client, or a broken frame
      return n == 0 || handle(req.data(), n, c);
    });
    return 0;
  }

  // RTU frames on accepted TCP connections, as a serial device server in
  // "TCP server" (raw) mode passes them between its socket and the bus.
  // Answers are written by an RTU context given each connection's socket.
  int run_rtu_over_tcp() {
    const std::string& spec = *o_.rtu_over_tcp;
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos) throw UsageError("--rtu-over-tcp wants HOST:PORT");
    const std::string host = spec.substr(0, colon);
    const int port = static_cast<int>(parse_unsigned(spec.substr(colon + 1), "--rtu-over-tcp port", 65535));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
      throw UsageError("--rtu-over-tcp: \"" + host + "\" is not an IPv4 address");
    }
    const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (listen_fd < 0 || ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd, 16) != 0) {
      throw std::runtime_error("listen " + spec + ": " + std::strerror(errno));
    }
    // Only the answers go through it; the device name is never opened.
    ctx_ = modbus_new_rtu("rtu-over-tcp", o_.baud, o_.parity, o_.data_bits, o_.stop_bits);
    if (ctx_ == nullptr) throw std::runtime_error(std::string("modbus_new_rtu: ") + modbus_strerror(errno));
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
    std::printf("listening rtu-over-tcp %s:%u\n", host.c_str(), static_cast<unsigned>(ntohs(bound.sin_port)));
    std::fflush(stdout);

    connection_ = true;
    std::vector<std::uint8_t> frame;
    serve_connections(listen_fd, [&](int c) {
      switch (read_rtu_frame(c, frame)) {
        case FrameRead::closed: return false;
        case FrameRead::fragment: return true;
        case FrameRead::frame: break;
      }
      if (!rtu_crc_ok(frame)) return true;
      return handle(frame.data(), static_cast<int>(frame.size()), c);
    });
    return 0;
  }

  // Accepts connections on `listen_fd` and calls serve_one(fd) whenever one
  // has input, until stopped; a connection whose serve_one returns false is
  // closed. Each accepted connection is announced on stdout, numbered from
  // 1, so that a test can count them.
  template <class ServeOne>
  void serve_connections(int listen_fd, ServeOne serve_one) {
    std::set<int> clients;
    unsigned accepted = 0;
    while (!g_stop) {
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(listen_fd, &readable);
      int max_fd = listen_fd;
      for (int c : clients) {
        FD_SET(c, &readable);
        max_fd = std::max(max_fd, c);
      }
      const bool ready = wait_readable(max_fd, readable, next_late_answer());
      send_late_answers(clients);
      if (!ready) continue;
      if (FD_ISSET(listen_fd, &readable)) {
        const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          clients.insert(c);
          std::printf("accepted connection %u\n", ++accepted);
          std::fflush(stdout);
        }
      }
      for (auto it = clients.begin(); it != clients.end();) {
        const int c = *it;
        if (FD_ISSET(c, &readable) && !serve_one(c)) {
          ::close(c);
          std::erase_if(late_, [c](const LateAnswer& l) { return l.fd == c; });
          it = clients.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (int c : clients) ::close(c);
    ::close(listen_fd);
  }

  int run_rtu() {
    int fd = -1;
    int pty_slave = -1;
    if (o_.rtu_pty) {
      int master = -1;
      char name[256] = {};
      if (::openpty(&master, &pty_slave, name, nullptr, nullptr) != 0) {
        throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
      }
      ::fcntl(master, F_SETFD, FD_CLOEXEC);
      ::fcntl(pty_slave, F_SETFD, FD_CLOEXEC);
      // Raw line at the configured speed and framing until the client sets
      // its own. Keeping the slave open here means the master never sees a
      // hang-up (EIO) between client connections.
      termios tios{};
      ::tcgetattr(pty_slave, &tios);
      ::cfmakeraw(&tios);
      speed_t speed = B19200;
      switch (o_.baud) {
        case 9600: speed = B9600; break;
        case 19200: speed = B19200; break;
        case 38400: speed = B38400; break;
        case 57600: speed = B57600; break;
        case 115200: speed = B115200; break;
        default: throw UsageError("--baud with --rtu-pty: 9600, 19200, 38400, 57600 or 115200");
      }
      ::cfsetispeed(&tios, speed);
      ::cfsetospeed(&tios, speed);
      tios.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB);
      tios.c_cflag |= CLOCAL | CREAD;
      tios.c_cflag |= o_.data_bits == 7 ? CS7 : CS8;
      if (o_.parity != 'N') tios.c_cflag |= PARENB;
      if (o_.parity == 'O') tios.c_cflag |= PARODD;
      if (o_.stop_bits == 2) tios.c_cflag |= CSTOPB;
      ::tcsetattr(pty_slave, TCSANOW, &tios);
      ctx_ = modbus_new_rtu(name, o_.baud, o_.parity, o_.data_bits, o_.stop_bits);
      if (ctx_ == nullptr) throw std::runtime_error(std::string("modbus_new_rtu: ") + modbus_strerror(errno));
      modbus_set_socket(ctx_, master);  // libmodbus writes the replies to it
      fd = master;
      std::printf("listening rtu %s\n", name);
    } else {
      ctx_ = modbus_new_rtu(o_.rtu_device->c_str(), o_.baud, o_.parity, o_.data_bits, o_.stop_bits);
      if (ctx_ == nullptr) throw std::runtime_error(std::string("modbus_new_rtu: ") + modbus_strerror(errno));
      if (modbus_connect(ctx_) != 0) {
        throw std::runtime_error("open " + *o_.rtu_device + ": " + modbus_strerror(errno));
      }
      fd = modbus_get_socket(ctx_);
      std::printf("listening rtu %s\n", o_.rtu_device->c_str());
    }
    std::fflush(stdout);

    std::vector<std::uint8_t> frame;
    while (!g_stop) {
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(fd, &readable);
      if (!wait_readable(fd, readable)) continue;
      if (read_rtu_frame(fd, frame) != FrameRead::frame || !rtu_crc_ok(frame)) continue;
      handle(frame.data(), static_cast<int>(frame.size()), fd);
    }
    if (o_.rtu_pty) {
      ::close(fd);
      ::close(pty_slave);
    } else {
      modbus_close(ctx_);
    }
    return 0;
  }

  // Waits for input with SIGTERM/SIGINT deliverable only while waiting, so
  // a stop request is never lost between the check and the wait.
  bool wait_readable(int max_fd, fd_set& readable,
                     std::optional<std::chrono::steady_clock::time_point> until = std::nullopt) {
    sigset_t none;
    sigemptyset(&none);
    timespec wait{};
    if (until) {
      const auto left = std::max(*until - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{});
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      wait.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      wait.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    const int rc = ::pselect(max_fd + 1, &readable, nullptr, nullptr, until ? &wait : nullptr, &none);
    return rc > 0;
  }

  // A slow unit's answers, written when due (--slow-unit).
  struct LateAnswer {
    int fd;
    std::chrono::steady_clock::time_point due;
    std::vector<std::uint8_t> bytes;
  };

  std::optional<std::chrono::steady_clock::time_point> next_late_answer() const {
    std::optional<std::chrono::steady_clock::time_point> next;
    for (const auto& l : late_) {
      if (!next || l.due < *next) next = l.due;
    }
    return next;
  }

  void send_late_answers(const std::set<int>& clients) {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = late_.begin(); it != late_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      if (clients.count(it->fd)) (void)write_all(it->fd, it->bytes.data(), it->bytes.size());
      it = late_.erase(it);
    }
  }

  // A request with a bad CRC is logged and not answered.
  bool rtu_crc_ok(const std::vector<std::uint8_t>& frame) {
    const std::size_t n = frame.size();
    const std::uint16_t crc = crc16(frame.data(), n - 2);
    if (frame[n - 2] == (crc & 0xFF) && frame[n - 1] == (crc >> 8)) return true;
    log_line(parse_request(frame.data(), 1), "bad-request-crc", {});
    return false;
  }

  enum class FrameRead { frame, fragment, closed };

  // One RTU request: its length follows from the function code; a frame
  // with an unknown code ends at 50 ms of silence. `closed` when the other
  // end of a connection hung up.
  FrameRead read_rtu_frame(int fd, std::vector<std::uint8_t>& frame) {
    frame.clear();
    std::size_t want = 0;  // 0: not known yet
    std::uint8_t byte = 0;
    while (true) {
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(fd, &readable);
      timeval gap{0, frame.empty() ? 0 : 50000};
      if (!frame.empty() && ::select(fd + 1, &readable, nullptr, nullptr, &gap) <= 0) {
        return want == 0 && frame.size() >= 4 ? FrameRead::frame : FrameRead::fragment;
      }
      const ssize_t rc = ::read(fd, &byte, 1);
      if (rc <= 0) {
        if (rc < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (rc < 0 && errno == EIO) {  // pty without a peer: wait instead of spinning
          std::this_thread::sleep_for(std::chrono::milliseconds{20});
          return FrameRead::fragment;
        }
        return FrameRead::closed;  // a connection's end, or its reset
      }
      frame.push_back(byte);
      if (frame.size() == 2) {
        const int fc = frame[1];
        if (fc >= 1 && fc <= 6) want = 8;
      }
      if (frame.size() == 7 && (frame[1] == 15 || frame[1] == 16)) want = 9U + frame[6];
      if (want != 0 && frame.size() == want) return FrameRead::frame;
      if (frame.size() >= MODBUS_RTU_MAX_ADU_LENGTH) return FrameRead::fragment;
    }
  }

  // ---- requests ------------------------------------------------------------

  Request parse_request(const std::uint8_t* req, int header) const {
    Request r;
    r.unit = req[header - 1];
    r.fc = req[header];
    r.addr = static_cast<std::uint16_t>((req[header + 1] << 8) | req[header + 2]);
    r.count = static_cast<std::uint16_t>((req[header + 3] << 8) | req[header + 4]);
    if (tcp_) r.tid = static_cast<std::uint16_t>((req[0] << 8) | req[1]);
    return r;
  }

  static const char* fc_table_name(int fc) {
    switch (fc) {
      case 1: return "coil";
      case 2: return "discrete";
      case 3: return "holding";
      case 4: return "input";
      default: return nullptr;
    }
  }

  double clock_now() const {
    if (o_.clock_file.empty()) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    std::ifstream in(o_.clock_file);
    double t = 0;
    if (!(in >> t)) return 0;
    return t;
  }

  void refresh_faults() {
    if (o_.faults_file.empty()) return;
    std::ifstream in(o_.faults_file);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    std::string now = in ? text.str() : std::string("\x01missing");
    if (now == faults_text_) return;
    faults_text_ = now;
    fault_requests_ = 0;  // "every N" counts again from the change
    if (!in) {
      faults_ = o_.faults;
      return;
    }
    try {
      faults_ = parse_faults_text(now, o_.faults_file);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "modbus_peer: %s (faults unchanged)\n", e.what());
    }
  }

  void log_line(const Request& r, const std::string& outcome,
                const std::vector<std::uint16_t>& values) {
    if (log_fd_ < 0) return;
    std::string line = std::to_string(++logged_) + " ";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, clock_);
    line.append(buf, ec == std::errc{} ? end : buf);
    const char* table = fc_table_name(r.fc);
    line += " " + std::to_string(r.unit) + " " +
            (table ? std::string(table) : "fc" + std::to_string(r.fc)) + " " +
            std::to_string(r.addr) + " " + std::to_string(r.count) + " " + outcome;
    for (auto v : values) line += " " + std::to_string(v);
    line += "\n";
    // One write per line on an O_APPEND descriptor: a reader never sees half
    // a line, and the line is there before the answer leaves.
    (void)!::write(log_fd_, line.data(), line.size());
  }

  // Builds a read response by hand, for the faults libmodbus cannot make.
  std::vector<std::uint8_t> build_response(const Request& r, const std::vector<std::uint16_t>& values,
                                           bool drop_last_value) {
    std::vector<std::uint8_t> pdu{static_cast<std::uint8_t>(r.fc)};
    std::vector<std::uint8_t> data;
    if (r.fc == 1 || r.fc == 2) {
      data.assign((values.size() + 7) / 8, 0);
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] & 1U) data[i / 8] = static_cast<std::uint8_t>(data[i / 8] | (1U << (i % 8)));
      }
    } else {
      for (auto v : values) {
        data.push_back(static_cast<std::uint8_t>(v >> 8));
        data.push_back(static_cast<std::uint8_t>(v));
      }
    }
    pdu.push_back(static_cast<std::uint8_t>(data.size()));  // byte count as if complete
    if (drop_last_value && !data.empty()) data.resize(data.size() - ((r.fc <= 2) ? 1 : 2));
    pdu.insert(pdu.end(), data.begin(), data.end());
    std::vector<std::uint8_t> adu;
    if (tcp_) {
      const auto len = static_cast<std::uint16_t>(pdu.size() + 1);
      adu = {static_cast<std::uint8_t>(r.tid >> 8), static_cast<std::uint8_t>(r.tid), 0, 0,
             static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len),
             static_cast<std::uint8_t>(r.unit)};
      adu.insert(adu.end(), pdu.begin(), pdu.end());
    } else {
      adu.push_back(static_cast<std::uint8_t>(r.unit));
      adu.insert(adu.end(), pdu.begin(), pdu.end());
      const std::uint16_t crc = crc16(adu.data(), adu.size());
      adu.push_back(static_cast<std::uint8_t>(crc & 0xFF));
      adu.push_back(static_cast<std::uint8_t>(crc >> 8));
    }
    return adu;
  }

  void delay() const {
    if (active_delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds{active_delay_ms_});
  }

  void reply_exception(const std::uint8_t* req, const Request& r, int fd, int code) {
    log_line(r, "exception " + std::to_string(code), {});
    delay();
    modbus_set_socket(ctx_, fd);
    modbus_reply_exception(ctx_, req, static_cast<unsigned>(code));
  }

  // Answers one request; false when the connection is to be closed.
  bool handle(const std::uint8_t* req, int length, int fd) {
    refresh_faults();
    clock_ = clock_now();
    const int header = modbus_get_header_length(ctx_);
    if (length < header + 5) return true;  // too short to be a read: not ours to answer
    const Request r = parse_request(req, header);
    active_delay_ms_ = 0;

    RegisterMap* map = nullptr;
    if (o_.units.empty()) {
      map = &any_unit_map_;
    } else if (auto it = maps_.find(r.unit); it != maps_.end()) {
      map = &it->second;
    }
    if (map == nullptr) {
      if (o_.gateway_exceptions && tcp_) {
        reply_exception(req, r, fd, MODBUS_EXCEPTION_GATEWAY_TARGET);
      } else {
        log_line(r, "ignored", {});
      }
      return true;
    }

    const Faults& f = faults_;
    const bool faulty = f.units.empty() || f.units.count(r.unit) > 0;
    std::uint64_t n = 0;
    if (faulty) {
      n = ++fault_requests_;
      active_delay_ms_ = f.delay_ms;
    }
    auto every = [&](unsigned k) { return faulty && k > 0 && n % k == 0; };
    if (every(f.close_every) && connection_) {
      log_line(r, "closed", {});
      return false;
    }
    if (every(f.drop_every) || every(f.close_every)) {
      log_line(r, "dropped", {});
      return true;
    }

    const char* table_word = fc_table_name(r.fc);
    if (table_word == nullptr) {
      reply_exception(req, r, fd, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
      return true;
    }
    const Table table = r.fc == 1   ? Table::coil
                        : r.fc == 2 ? Table::discrete
                        : r.fc == 3 ? Table::holding
                                    : Table::input;
    const unsigned max_count = is_bit_table(table) ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS;
    if (r.count == 0 || r.count > max_count) {
      reply_exception(req, r, fd, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
      return true;
    }
    if (static_cast<std::uint32_t>(r.addr) + r.count > 65536) {
      reply_exception(req, r, fd, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
      return true;
    }
    if (faulty) {
      for (const auto& [addr, code] : f.exception_at) {
        if (addr >= r.addr && addr < r.addr + r.count) {
          reply_exception(req, r, fd, code);
          return true;
        }
      }
    }
    if (map->first_unreadable(table, r.addr, r.count)) {
      reply_exception(req, r, fd, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
      return true;
    }

    const auto values = map->read(table, r.addr, r.count, clock_);

    const bool short_frame = every(f.short_every);
    const bool wrong_tid = every(f.wrong_tid_every) && tcp_;
    const bool bad_crc = every(f.corrupt_crc_every) && !tcp_;
    if (short_frame || wrong_tid || bad_crc) {
      Request sent = r;
      if (wrong_tid) sent.tid = static_cast<std::uint16_t>(r.tid + 1);
      auto adu = build_response(sent, values, short_frame);
      if (bad_crc) adu.back() ^= 0xFF;
      log_line(r, short_frame ? "short" : wrong_tid ? "wrong-tid" : "bad-crc", values);
      delay();
      return write_all(fd, adu.data(), adu.size());
    }
    if (auto slow = o_.slow_units.find(r.unit); slow != o_.slow_units.end() && tcp_) {
      log_line(r, "late", values);
      late_.push_back({fd, std::chrono::steady_clock::now() + std::chrono::milliseconds{slow->second},
                       build_response(r, values, false)});
      return true;
    }
    const bool split = every(f.split_every) && connection_;
    const bool stale = every(f.stale_every) && tcp_;
    if (split || stale) {
      std::vector<std::uint8_t> out;
      if (stale) {
        // What a gateway may still deliver after the client gave up on the
        // previous transaction; its values differ, so taking it shows.
        Request earlier = r;
        earlier.tid = static_cast<std::uint16_t>(r.tid - 1);
        std::vector<std::uint16_t> other(values);
        for (auto& v : other) v = is_bit_table(table) ? v ^ 1U : static_cast<std::uint16_t>(~v);
        out = build_response(earlier, other, false);
      }
      const auto adu = build_response(r, values, false);
      out.insert(out.end(), adu.begin(), adu.end());
      log_line(r, stale ? "stale-first" : "split", values);
      delay();
      if (!split) return write_all(fd, out.data(), out.size());
      const int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each byte its own segment
      for (const std::uint8_t byte : out) {
        if (!write_all(fd, &byte, 1)) return false;
        std::this_thread::sleep_for(std::chrono::microseconds{200});
      }
      return true;
    }

    // The normal answer is encoded by libmodbus itself, from a mapping that
    // holds exactly the values just logged.
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::size_t a = r.addr + i;
      switch (table) {
        case Table::coil: mapping_->tab_bits[a] = static_cast<std::uint8_t>(values[i]); break;
        case Table::discrete: mapping_->tab_input_bits[a] = static_cast<std::uint8_t>(values[i]); break;
        case Table::holding: mapping_->tab_registers[a] = values[i]; break;
        case Table::input: mapping_->tab_input_registers[a] = values[i]; break;
      }
    }
    log_line(r, "ok", values);
    delay();
    modbus_set_socket(ctx_, fd);
    if (modbus_reply(ctx_, req, length, mapping_) < 0) {
      std::fprintf(stderr, "modbus_peer: reply: %s\n", modbus_strerror(errno));
      return !connection_;
    }
    return true;
  }

  Options o_;
  bool tcp_ = false;         // MBAP framing (else RTU)
  bool connection_ = false;  // answers go to a TCP connection, which a fault may close
  modbus_t* ctx_ = nullptr;
  modbus_mapping_t* mapping_ = nullptr;
  RegisterMap any_unit_map_;
  std::map<int, RegisterMap> maps_;
  int log_fd_ = -1;
  std::uint64_t logged_ = 0;
  double clock_ = 0;
  Faults faults_;
  std::vector<LateAnswer> late_;
  std::string faults_text_ = "\x02unread";
  std::uint64_t fault_requests_ = 0;
  unsigned active_delay_ms_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace
}  // namespace modbus_peer

int main(int argc, char** argv) {
  using namespace modbus_peer;
  // SIGTERM/SIGINT are blocked except while waiting for input (pselect), so
  // a request in progress is always finished before the peer exits.
  struct sigaction stop{};
  stop.sa_handler = on_stop_signal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGTERM, &stop, nullptr);
  sigaction(SIGINT, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigprocmask(SIG_BLOCK, &blocked, nullptr);
  try {
    const pid_t parent = getppid();
    Options options = parse_options(argc, argv);
    // A test that dies without stopping its peer must not leave it behind.
    if (options.exit_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) return 0;  // the parent was already gone
    }
    Server server(std::move(options));
    return server.run();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "modbus_peer: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const MapError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "modbus_peer: %s\n", e.what());
    return 1;
  }
}
