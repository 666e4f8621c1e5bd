// The diag socket's client slots on a real io_context and Unix socket:
// connections held idle give way to a new client, the longest idle first; a
// client that finds every slot mid-request is told so; the log says it once
// an episode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.hpp"
#include "diag/diag_client.hpp"
#include "diag/diag_frame.hpp"
#include "diag/diag_server.hpp"
#include "log_capture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A client that keeps its connection: asks, reads the answer, and stays.
class HeldClient {
 public:
  explicit HeldClient(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
    }
  }
  ~HeldClient() { ::close(fd_); }
  HeldClient(const HeldClient&) = delete;
  HeldClient& operator=(const HeldClient&) = delete;

  // The agent id of the status answer; none when the connection is closed.
  std::optional<std::string> ask() {
    v1::DiagRequest request;
    request.mutable_status();
    const std::string out = diag::frame(request);
    if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return std::nullopt;
    std::array<std::uint8_t, diag::kHeaderSize> header{};
    if (!read(reinterpret_cast<char*>(header.data()), header.size())) return std::nullopt;
    std::string body(diag::frame_length(header), '\0');
    if (!read(body.data(), body.size())) return std::nullopt;
    v1::DiagResponse response;
    if (!response.ParseFromString(body)) return std::nullopt;
    return response.status().agent_id();
  }

  // Whether the server closed the connection (end of file within 10 s).
  bool closed_by_server() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) <= 0;
  }

 private:
  bool read(char* out, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) != 1) return false;
      const auto n = ::recv(fd_, out + done, size - done, 0);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_;
};

class DiagSlotsTest : public ::testing::Test {
 protected:
  void start(diag::DiagServer::Limits limits, diag::DiagServer::Handler handler) {
    server_.emplace(io_.get_executor(), socket_, std::move(handler), limits);
    std::string error;
    ASSERT_FALSE(server_->start(error)) << error;
    loop_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (!loop_.joinable()) return;
    asio::post(io_, [this] {
      server_->stop();
      gate_.cancel();
      work_.reset();
    });
    loop_.join();
  }

  // The server's counters, read on its own thread.
  diag::DiagServer::Stats stats() {
    std::promise<diag::DiagServer::Stats> got;
    asio::post(io_, [&] { got.set_value(server_->stats()); });
    return got.get_future().get();
  }

  static asio::awaitable<v1::DiagResponse> answer(std::string id) {
    v1::DiagResponse response;
    response.mutable_status()->set_agent_id(std::move(id));
    co_return response;
  }

  cli::DiagCall status() {
    v1::DiagRequest request;
    request.mutable_status();
    return cli::call_agent(socket_, request, 10'000ms);
  }

  std::size_t lines_with(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& l : log_.lines()) n += l.find(text) != std::string::npos;
    return n;
  }

  test::LogCapture log_;
  test::TempDir dir_{"rackwatch-diag"};
  std::string socket_ = (dir_ / "diag.sock").string();
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::steady_timer gate_{io_, asio::steady_timer::time_point::max()};  // holds requests until cancelled
  std::optional<diag::DiagServer> server_;
  std::thread loop_;
};

// 32 clients that asked once and keep their connections, as a script asking
// every 20 s would: a new client is still served, each taking the place of
// the connection idle longest, and the log says so once.
TEST_F(DiagSlotsTest, IdleConnectionsHoldingEverySlotGiveWayToNewClients) {
  diag::DiagServer::Limits limits;  // 32 clients, idle 30 s
  limits.calm = 2'000ms;
  start(limits, [](const v1::DiagRequest&) { return answer("agent"); });
  std::vector<std::unique_ptr<HeldClient>> held;
  for (std::size_t i = 0; i < limits.max_clients; ++i) {
    held.push_back(std::make_unique<HeldClient>(socket_));
    ASSERT_EQ(held.back()->ask(), "agent") << "client " << i;
  }
  ASSERT_EQ(stats().clients, limits.max_clients);

  // Newcomers that stay too: each takes the place of the one idle longest.
  std::vector<std::unique_ptr<HeldClient>> newcomers;
  for (int i = 0; i < 4; ++i) {
    newcomers.push_back(std::make_unique<HeldClient>(socket_));
    ASSERT_EQ(newcomers.back()->ask(), "agent") << "newcomer " << i;
  }
  // And `rackwatch status`.
  const auto call = status();
  ASSERT_TRUE(call.response) << call.error;
  EXPECT_EQ(call.response->error(), "");
  EXPECT_EQ(call.response->status().agent_id(), "agent");

  // The five idle longest gave way, and only they: the others are served.
  for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(held[i]->closed_by_server()) << "client " << i;
  for (std::size_t i = 5; i < held.size(); ++i) EXPECT_EQ(held[i]->ask(), "agent") << "client " << i;
  for (auto& n : newcomers) EXPECT_EQ(n->ask(), "agent");
  const auto s = stats();
  EXPECT_EQ(s.evicted, 5u);
  EXPECT_EQ(s.refused, 0u);
  EXPECT_EQ(s.dropped, 0u);

  EXPECT_EQ(lines_with("client slot"), 1u) << log_.all();
  EXPECT_TRUE(log_.contains("diag socket " + socket_ + ": all 32 client slots taken; closed the connection idle "
                            "longest (pid " + std::to_string(::getpid()) + ", uid "))
      << log_.all();
  // Once no client has had to give way for `calm`: one line with the counts.
  ASSERT_TRUE(test::wait_until([&] { return log_.contains("client slots free again"); }, 10s)) << log_.all();
  EXPECT_TRUE(log_.contains("5 idle connections closed for new clients, 0 clients refused")) << log_.all();
}

// Every slot in the middle of a request (a poll that takes its time): the
// new client is refused with an answer it can show, not a broken pipe.
TEST_F(DiagSlotsTest, AClientFindingEverySlotBusyIsToldSo) {
  diag::DiagServer::Limits limits;
  limits.max_clients = 2;
  std::atomic<int> busy = 0;
  start(limits, [this, &busy](const v1::DiagRequest& request) -> asio::awaitable<v1::DiagResponse> {
    if (request.has_poll()) {
      ++busy;
      co_await gate_.async_wait(use_tuple);
    }
    co_return co_await answer("agent");
  });
  v1::DiagRequest poll;
  poll.mutable_poll()->set_source("slow");
  std::vector<std::future<cli::DiagCall>> polls;
  for (int i = 0; i < 2; ++i) {
    polls.push_back(std::async(std::launch::async, [&] { return cli::call_agent(socket_, poll, 20'000ms); }));
  }
  ASSERT_TRUE(test::wait_until([&] { return busy == 2; }, 10s));

  const auto refused = status();
  ASSERT_TRUE(refused.response) << refused.error;
  EXPECT_EQ(refused.response->error(),
            "too many clients (2) on " + socket_ + ", each in the middle of a request: try again");
  EXPECT_EQ(stats().refused, 1u);
  EXPECT_EQ(stats().evicted, 0u);
  EXPECT_TRUE(log_.contains("diag socket " + socket_ + ": all 2 client slots busy with requests; refused a new client"))
      << log_.all();

  asio::post(io_, [this] { gate_.cancel(); });
  for (auto& p : polls) {
    const auto call = p.get();
    ASSERT_TRUE(call.response) << call.error;
    EXPECT_EQ(call.response->error(), "");
  }
  // Their slots free (the server has seen them go), a client is served again.
  ASSERT_TRUE(test::wait_until([&] { return stats().clients == 0; }, 10s));
  const auto served = status();
  ASSERT_TRUE(served.response) << served.error;
  EXPECT_EQ(served.response->error(), "");
}

}  // namespace
}  // namespace rackwatch
