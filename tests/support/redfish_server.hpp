// RedfishServer: a Redfish service for tests, on 127.0.0.1 at a free port,
// over HTTP or HTTPS, serving a mockup directory in DMTF's layout
// (DIR/index.json is /redfish/v1/, /redfish/v1/A/B is DIR/A/B/index.json).
// It signs clients in as a BMC does: POST SessionService/Sessions with
// UserName and Password answers 201 with X-Auth-Token and Location, or 401;
// every other request needs a live token or Basic credentials. Knobs let a
// test expire the sessions, close the kept connections or answer late; it
// records what it was asked, logins and session DELETEs. Runs on a thread of
// its own.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "support/redfish_expand.hpp"

namespace rackwatch::test {

class RedfishServer {
 public:
  struct Options {
    std::filesystem::path dir;  // the mockup
    std::string user = "admin";
    std::string password = "secret-pass";
    bool open = false;       // no login needed
    std::string cert_file;   // with key_file: HTTPS
    std::string key_file;
    bool expand = true;      // answer $expand (support/redfish_expand.hpp); false: ignore it, as some services do
    // Every answer comes this long after its request was read, as a busy
    // BMC's does; each connection waits on its own, so requests on several
    // connections are answered together. A request is recorded (and a
    // DELETE done) when it is answered.
    std::chrono::milliseconds delay{0};
  };

  explicit RedfishServer(Options options) : state_(std::make_shared<State>()) {
    state_->options = std::move(options);
    state_->delay_ms = state_->options.delay.count();
    if (!state_->options.cert_file.empty()) {
      state_->tls.emplace(boost::asio::ssl::context::tls_server);
      state_->tls->use_certificate_chain_file(state_->options.cert_file);
      state_->tls->use_private_key_file(state_->options.key_file, boost::asio::ssl::context::pem);
    }
    using tcp = boost::asio::ip::tcp;
    acceptor_.open(tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(&acceptor_, state_), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~RedfishServer() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::string url() const {
    return std::string(state_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }

  // Every live session ends: the next request with its token answers 401.
  void expire_sessions() {
    std::lock_guard lock(state_->mutex);
    state_->tokens.clear();
  }
  // Closes every kept connection before its next request is read, as a
  // service's idle timeout does.
  void close_connections() { state_->close_generation.fetch_add(1); }
  // Answers from now on come this late (Options::delay).
  void set_delay(std::chrono::milliseconds delay) { state_->delay_ms = delay.count(); }

  std::vector<std::string> requests() const {  // "GET /redfish/v1/..."
    std::lock_guard lock(state_->mutex);
    return state_->requests;
  }
  std::size_t count(const std::string& request) const {
    std::lock_guard lock(state_->mutex);
    std::size_t n = 0;
    for (const auto& r : state_->requests) n += r == request;
    return n;
  }
  std::size_t logins() const {
    std::lock_guard lock(state_->mutex);
    return state_->logins;
  }
  std::size_t refused_logins() const {
    std::lock_guard lock(state_->mutex);
    return state_->refused_logins;
  }
  std::vector<std::string> deleted_sessions() const {  // the paths DELETEd
    std::lock_guard lock(state_->mutex);
    return state_->deleted;
  }
  std::size_t connections() const { return state_->connections.load(); }

 private:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  struct State {
    Options options;
    std::optional<boost::asio::ssl::context> tls;
    mutable std::mutex mutex;
    std::map<std::string, std::string> tokens;  // token → session path
    std::vector<std::string> requests;
    std::vector<std::string> deleted;
    std::size_t logins = 0;
    std::size_t refused_logins = 0;
    std::size_t next_session = 1;
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> close_generation{0};
    std::atomic<long long> delay_ms{0};
  };

  static Response answer(const Request& req, unsigned status, std::string body) {
    Response res{static_cast<boost::beast::http::status>(status), req.version()};
    res.set(boost::beast::http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  static std::string error_body(const std::string& message) {
    return R"({"error":{"code":"Base.1.0.GeneralError","message":")" + message + R"("}})";
  }

  static bool authorized(State& st, const Request& req) {
    if (st.options.open) return true;
    const auto token = std::string(req["X-Auth-Token"]);
    if (!token.empty() && st.tokens.count(token)) return true;
    const auto basic = std::string(req[boost::beast::http::field::authorization]);
    if (basic.rfind("Basic ", 0) == 0) {
      namespace b64 = boost::beast::detail::base64;
      const auto coded = basic.substr(6);
      std::string plain(b64::decoded_size(coded.size()), '\0');
      plain.resize(b64::decode(plain.data(), coded.data(), coded.size()).first);
      return plain == st.options.user + ":" + st.options.password;
    }
    return false;
  }

  static Response handle(State& st, const Request& req) {
    namespace http = boost::beast::http;
    std::lock_guard lock(st.mutex);
    std::string target(req.target());
    st.requests.push_back(std::string(req.method_string()) + " " + target);
    const auto expansion = st.options.expand ? expand_of(target) : std::nullopt;
    if (const auto q = target.find('?'); q != std::string::npos) target.resize(q);
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    const std::string sessions = "/redfish/v1/SessionService/Sessions";
    if (req.method() == http::verb::post && target == sessions) {
      boost::system::error_code ec;
      auto body = boost::json::parse(req.body(), ec);
      const auto* o = ec ? nullptr : body.if_object();
      const auto* u = o ? o->if_contains("UserName") : nullptr;
      const auto* p = o ? o->if_contains("Password") : nullptr;
      if (!u || !p || !u->is_string() || !p->is_string() || u->get_string() != st.options.user ||
          p->get_string() != st.options.password) {
        ++st.refused_logins;
        return answer(req, 401, error_body("login refused"));
      }
      ++st.logins;
      const std::string id = std::to_string(st.next_session++);
      const std::string token = "token-" + id + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(&st) % 9973);
      st.tokens[token] = sessions + "/" + id;
      auto res = answer(req, 201, R"({"Id":")" + id + R"(","UserName":")" + st.options.user + R"("})");
      res.set("X-Auth-Token", token);
      res.set(http::field::location, sessions + "/" + id);
      return res;
    }
    if (!authorized(st, req)) return answer(req, 401, error_body("no valid session or credentials"));
    if (req.method() == http::verb::delete_ && target.rfind(sessions + "/", 0) == 0) {
      st.deleted.push_back(target);
      for (auto it = st.tokens.begin(); it != st.tokens.end(); ++it) {
        if (it->second == target) {
          st.tokens.erase(it);
          break;
        }
      }
      return answer(req, 204, "");
    }
    if (req.method() != http::verb::get) return answer(req, 405, error_body("method not allowed"));
    const std::string root = "/redfish/v1";
    if (target.rfind(root, 0) != 0 || (target.size() > root.size() && target[root.size()] != '/')) {
      return answer(req, 404, error_body("not a Redfish path"));
    }
    auto text = read_resource(st.options.dir, target);
    if (!text) return answer(req, 404, error_body("no resource at " + target));
    if (!expansion) return answer(req, 200, std::move(*text));
    auto body = boost::json::parse(*text);
    const std::filesystem::path dir = st.options.dir;
    expand(body, *expansion, [&dir](const std::string& uri) -> std::optional<boost::json::value> {
      auto member = read_resource(dir, uri);
      if (!member) return std::nullopt;
      return boost::json::parse(*member);
    });
    return answer(req, 200, boost::json::serialize(body));
  }
  // The file of the resource at `path` (/redfish/v1/...), if there is one.
  static std::optional<std::string> read_resource(const std::filesystem::path& dir, std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::string root = "/redfish/v1";
    if (path.rfind(root, 0) != 0) return std::nullopt;
    const auto rest = path.substr(root.size());
    if (rest.find("..") != std::string::npos) return std::nullopt;
    std::ifstream in(dir / (rest.empty() ? std::string() : rest.substr(1)) / "index.json");
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  template <class Stream>
  static boost::asio::awaitable<void> serve(Stream& stream, std::shared_ptr<State> st) {
    namespace http = boost::beast::http;
    constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    boost::beast::flat_buffer buffer;
    const std::size_t generation = st->close_generation.load();
    for (;;) {
      Request req;
      auto [read_error, n] = co_await http::async_read(stream, buffer, req, tuple);
      (void)n;
      if (read_error) co_return;
      // The idle timeout passed while the client kept the connection.
      if (st->close_generation.load() != generation) co_return;
      if (const auto delay = std::chrono::milliseconds(st->delay_ms.load()); delay.count() > 0) {
        auto executor = co_await boost::asio::this_coro::executor;
        boost::asio::steady_timer slow(executor, delay);
        auto [wait_error] = co_await slow.async_wait(tuple);
        (void)wait_error;
      }
      Response res = handle(*st, req);
      auto [write_error, m] = co_await http::async_write(stream, res, tuple);
      (void)m;
      if (write_error || !res.keep_alive()) co_return;
    }
  }

  static boost::asio::awaitable<void> connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<State> st) {
    ++st->connections;
    if (!st->tls) {
      co_await serve(socket, st);
      co_return;
    }
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), *st->tls);
    auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                                boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    co_await serve(stream, st);
  }

  static boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor* acceptor, std::shared_ptr<State> st) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(acceptor->get_executor(), connection(std::move(socket), st), boost::asio::detached);
    }
  }

  std::shared_ptr<State> state_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace rackwatch::test
