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
#include "diag/diag_frame.hpp"

namespace rackwatch::diag {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;
using SteadyClock = std::chrono::steady_clock;

struct DiagServer::State {
  State(asio::any_io_executor ex, Handler h, Limits l)
      : executor(ex), handler(std::move(h)), limits(l), acceptor(ex) {}
  asio::any_io_executor executor;
  Handler handler;
  Limits limits;
  Stats stats;
  asio::local::stream_protocol::acceptor acceptor;
  std::set<std::shared_ptr<Socket>> clients;
  bool stopped = false;
};

namespace {

asio::awaitable<void> serve(std::shared_ptr<DiagServer::State> st, std::shared_ptr<Socket> socket) {
  auto drop = [&] { ++st->stats.dropped; };
  while (!st->stopped) {
    std::array<std::uint8_t, kHeaderSize> header{};
    auto got = co_await before(asio::async_read(*socket, asio::buffer(header), use_tuple),
                               SteadyClock::now() + st->limits.idle);
    if (!got) {
      drop();
      break;
    }
    if (std::get<0>(*got)) break;  // the client closed: the normal end
    const auto length = frame_length(header);
    if (length > kMaxFrame) {
      drop();
      break;
    }
    std::string body(length, '\0');
    auto body_got = co_await before(asio::async_read(*socket, asio::buffer(body), use_tuple),
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
    auto written = co_await before(asio::async_write(*socket, asio::buffer(out), use_tuple),
                                   SteadyClock::now() + st->limits.io);
    if (!written || std::get<0>(*written)) {
      drop();
      break;
    }
  }
  boost::system::error_code ignored;
  socket->close(ignored);
  st->clients.erase(socket);
  st->stats.clients = st->clients.size();
}

asio::awaitable<void> accept_loop(std::shared_ptr<DiagServer::State> st) {
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
      ++st->stats.refused;
      boost::system::error_code ignored;
      accepted.close(ignored);
      continue;
    }
    auto socket = std::make_shared<Socket>(std::move(accepted));
    st->clients.insert(socket);
    ++st->stats.accepted;
    st->stats.clients = st->clients.size();
    asio::co_spawn(st->executor, serve(st, socket), [st, socket](std::exception_ptr error) {
      if (!error) return;
      // The handler threw: this client gets no answer, the others are untouched.
      log::error("diag socket: a request failed: ", exception_text(error), "; closing that connection");
      ++st->stats.dropped;
      boost::system::error_code ignored;
      socket->close(ignored);
      st->clients.erase(socket);
      st->stats.clients = st->clients.size();
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
      state_(std::make_shared<State>(executor, std::move(handler), limits)),
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
  for (const auto& c : state_->clients) c->close(ignored);
}

const DiagServer::Stats& DiagServer::stats() const { return state_->stats; }

const RestartStats& DiagServer::restarts() const { return accept_.stats(); }

}  // namespace rackwatch::diag
