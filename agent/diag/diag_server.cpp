#include "diag/diag_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/deadline.hpp"
#include "core/log.hpp"
#include "core/plural.hpp"
#include "diag/diag_frame.hpp"
#include "diag/format.hpp"
#include "diag/slot_pressure.hpp"

namespace rackwatch::diag {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;
using SteadyClock = std::chrono::steady_clock;

namespace {

// One connection. `waiting` while it waits for its next request (or its
// first): then, and only then, it may be evicted to make room.
struct Client {
  explicit Client(Socket s) : socket(std::move(s)) {}
  Socket socket;
  SteadyClock::time_point idle_since = SteadyClock::now();
  bool waiting = true;
};
using ClientPtr = std::shared_ptr<Client>;

}  // namespace

struct DiagServer::State {
  State(asio::any_io_executor ex, std::string p, Handler h, Limits l)
      : executor(ex), path(std::move(p)), handler(std::move(h)), limits(l), acceptor(ex),
        pressure(l.calm), calm_timer(ex) {}
  asio::any_io_executor executor;
  std::string path;
  Handler handler;
  Limits limits;
  Stats stats;
  asio::local::stream_protocol::acceptor acceptor;
  std::set<ClientPtr> clients;
  SlotPressure pressure;
  asio::steady_timer calm_timer;
  bool stopped = false;
};

namespace {

using State = DiagServer::State;

void forget(State& st, const ClientPtr& client) {
  boost::system::error_code ignored;
  client->socket.close(ignored);
  st.clients.erase(client);
  st.stats.clients = st.clients.size();
}

asio::awaitable<void> serve(std::shared_ptr<State> st, ClientPtr client) {
  auto& socket = client->socket;
  auto drop = [&] { ++st->stats.dropped; };
  while (!st->stopped) {
    std::array<std::uint8_t, kHeaderSize> header{};
    auto got = co_await before(asio::async_read(socket, asio::buffer(header), use_tuple),
                               SteadyClock::now() + st->limits.idle);
    if (!got) {
      drop();
      break;
    }
    if (std::get<0>(*got)) break;  // the client closed (or was evicted): the normal end
    if (!socket.is_open()) break;  // evicted just as its request arrived
    client->waiting = false;
    const auto length = frame_length(header);
    if (length > kMaxFrame) {
      drop();
      break;
    }
    std::string body(length, '\0');
    auto body_got = co_await before(asio::async_read(socket, asio::buffer(body), use_tuple),
                                    SteadyClock::now() + st->limits.io);
    if (!body_got || std::get<0>(*body_got)) {
      drop();
      break;
    }
    v1::DiagRequest request;
    if (!request.ParseFromString(body)) {
      drop();
      break;
    }
    ++st->stats.requests;
    v1::DiagResponse response = co_await st->handler(request);
    if (st->stopped) break;
    const std::string out = frame(response);
    auto written = co_await before(asio::async_write(socket, asio::buffer(out), use_tuple),
                                   SteadyClock::now() + st->limits.io);
    if (!written || std::get<0>(*written)) {
      drop();
      break;
    }
    client->waiting = true;
    client->idle_since = SteadyClock::now();
  }
  forget(*st, client);
}

// Who is at the other end, for the log: "pid 4242, uid 1000".
std::string peer_text(Socket& socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "an unknown process";
  return "pid " + std::to_string(cred.pid) + ", uid " + std::to_string(cred.uid);
}

std::int64_t ms(SteadyClock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Says once that the slots are free again, when no client has been evicted
// or refused for `calm`; the episode began with a warning.
void watch_calm(const std::shared_ptr<State>& st) {
  const auto at = st->pressure.calm_at();
  if (!at) return;
  st->calm_timer.expires_at(*at);
  st->calm_timer.async_wait([st](boost::system::error_code ec) {
    if (ec || st->stopped) return;
    if (const auto over = st->pressure.end_if_calm(SteadyClock::now())) {
      log::info("diag socket ", st->path, ": client slots free again; while they were full (",
                cli::format_duration(ms(over->lasted)), ") ", plural(over->evicted, "idle connection"),
                " closed for new clients, ", plural(over->refused, "client"), " refused");
      return;
    }
    watch_calm(st);  // more came meanwhile: wait out the new calm
  });
}

// The connection waiting longest for its next request; none when every
// slot is in the middle of a request.
ClientPtr longest_idle(const State& st) {
  ClientPtr oldest;
  for (const auto& c : st.clients) {
    if (c->waiting && (!oldest || c->idle_since < oldest->idle_since)) oldest = c;
  }
  return oldest;
}

void evict(const std::shared_ptr<State>& st, const ClientPtr& victim) {
  const auto now = SteadyClock::now();
  ++st->stats.evicted;
  if (st->pressure.evicted(now)) {
    log::warning("diag socket ", st->path, ": all ", plural(st->limits.max_clients, "client slot"),
                 " taken; closed the connection idle longest (", peer_text(victim->socket), ", idle ",
                 cli::format_age(ms(now - victim->idle_since)),
                 ") to serve a new client, as it will for each new one while they stay full "
                 "(a process may be holding connections open)");
    watch_calm(st);
  }
  forget(*st, victim);
}

// Every slot is mid-request: the client gets an answer it can show instead
// of a closed connection. A fresh connection's buffer takes this small frame
// at once, so it is written without waiting and nothing of it is kept.
void refuse(const std::shared_ptr<State>& st, Socket& socket) {
  ++st->stats.refused;
  v1::DiagResponse busy;
  busy.set_error("too many clients (" + std::to_string(st->limits.max_clients) + ") on " + st->path +
                 ", each in the middle of a request: try again");
  if (st->pressure.refused(SteadyClock::now())) {
    log::warning("diag socket ", st->path, ": all ", plural(st->limits.max_clients, "client slot"),
                 " busy with requests; refused a new client (", peer_text(socket),
                 ") with 'too many clients', and will refuse each new one until a slot frees up");
    watch_calm(st);
  }
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  const std::string out = frame(busy);
  socket.write_some(asio::buffer(out), ignored);
  socket.close(ignored);
}

// When every slot is taken, a new client takes the place of the connection
// idle longest: an idle connection gives way only when someone needs its
// place, so clients that keep a connection open are left alone while slots
// are free, and no number of held connections can lock out `rackwatch`. (A
// shorter idle limit under pressure would only shorten the lock-out.) A
// client is refused only when every slot is in the middle of a request.
asio::awaitable<void> accept_loop(std::shared_ptr<State> st) {
  while (!st->stopped) {
    auto [ec, accepted] = co_await st->acceptor.async_accept(use_tuple);
    if (st->stopped || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors, most likely: wait a little rather than spin.
      log::warning("diag socket: accept: ", ec.message());
      asio::steady_timer pause(st->executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (st->clients.size() >= st->limits.max_clients) {
      if (const auto idle = longest_idle(*st)) {
        evict(st, idle);
      } else {
        refuse(st, accepted);
        continue;
      }
    }
    auto client = std::make_shared<Client>(std::move(accepted));
    st->clients.insert(client);
    ++st->stats.accepted;
    st->stats.clients = st->clients.size();
    asio::co_spawn(st->executor, serve(st, client), [st, client](std::exception_ptr error) {
      if (!error) return;
      // The handler threw: this client gets no answer, the others are untouched.
      log::error("diag socket: a request failed: ", exception_text(error), "; closing that connection");
      ++st->stats.dropped;
      forget(*st, client);
    });
  }
}

// Whether something answers at `path`: a live agent's socket, not a stale file.
bool someone_listens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

}  // namespace

DiagServer::DiagServer(asio::any_io_executor executor, std::string path, Handler handler, Limits limits)
    : path_(std::move(path)),
      state_(std::make_shared<State>(executor, path_, std::move(handler), limits)),
      accept_(executor, "diag socket " + path_, "accept loop", [st = state_] { return accept_loop(st); }) {}

DiagServer::~DiagServer() { stop(); }

std::error_code DiagServer::start(std::string& error) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = "diag socket " + path_ + ": exists and is not a socket; not replacing it";
      return std::make_error_code(std::errc::file_exists);
    }
    if (someone_listens(path_)) {
      error = "diag socket " + path_ + ": another process is listening on it (a second agent?)";
      return std::make_error_code(std::errc::address_in_use);
    }
    ::unlink(path_.c_str());  // left behind by an agent that did not stop cleanly
  }
  boost::system::error_code ec;
  auto& acceptor = state_->acceptor;
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) acceptor.bind(asio::local::stream_protocol::endpoint(path_), ec);
  if (ec) {
    error = "diag socket " + path_ + ": " + ec.message();
    acceptor.close(ec);
    return std::make_error_code(static_cast<std::errc>(ec.value()));
  }
  // Readable and writable by the service's user and group only.
  ::chmod(path_.c_str(), 0660);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "diag socket " + path_ + ": listen: " + ec.message();
    return std::make_error_code(static_cast<std::errc>(ec.value()));
  }
  accept_.start();
  return {};
}

void DiagServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  accept_.stop();
  boost::system::error_code ignored;
  if (state_->acceptor.is_open()) {
    state_->acceptor.close(ignored);
    ::unlink(path_.c_str());
  }
  state_->calm_timer.cancel();
  for (const auto& c : state_->clients) c->socket.close(ignored);
}

const DiagServer::Stats& DiagServer::stats() const { return state_->stats; }

const RestartStats& DiagServer::restarts() const { return accept_.stats(); }

}  // namespace rackwatch::diag
