#include "sources/redfish/redfish_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace rackwatch::redfish {

namespace asio = boost::asio;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

HttpClient::Options http_options(const RedfishSettings& s) {
  HttpClient::Options o;
  o.scheme = s.scheme;
  o.host = s.host;
  o.port = s.port;
  o.ca_file = s.ca_file;
  o.verify = s.tls_verify;
  o.max_body = s.max_body;
  return o;
}

std::string base64(const std::string& text) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(text.size()), '\0');
  out.resize(b64::encode(out.data(), text.data(), text.size()));
  return out;
}

// A Location may be a whole URL; the DELETE needs its path.
std::string path_of(const std::string& location) {
  const auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const auto slash = location.find('/', scheme + 3);
  return slash == std::string::npos ? std::string("/") : location.substr(slash);
}

}  // namespace

RedfishSession::RedfishSession(asio::any_io_executor executor, std::shared_ptr<const RedfishSettings> settings)
    : executor_(executor), settings_(std::move(settings)), http_(std::move(executor), http_options(*settings_)) {}

SteadyClock::time_point RedfishSession::deadline() const { return SteadyClock::now() + settings_->request_timeout; }

Error RedfishSession::ended_error(const std::string& uri) const {
  return Error{ErrorKind::ended, http_.endpoint() + uri + ": not asked, the session was ended (the source stops)", 0};
}

asio::awaitable<Result<Response, Error>> RedfishSession::send(Request request) {
  // Not a guard object: a frame destroyed unfinished (the process exits)
  // must not touch a session that may be gone.
  ++sending_;
  auto answer = co_await http_.send(std::move(request), deadline());
  --sending_;
  co_return answer;
}

asio::awaitable<std::optional<Error>> RedfishSession::login() {
  ++counters_.logins;
  token_.clear();
  location_.clear();
  json::object credentials;
  credentials["UserName"] = settings_->user;
  credentials["Password"] = settings_->password;
  Request request{Method::post, kSessionsPath, json::serialize(credentials), {}};
  logging_in_ = true;
  auto answer = co_await send(std::move(request));
  logging_in_ = false;
  if (!answer) {
    ++counters_.login_failures;
    co_return answer.error();
  }
  const unsigned status = answer->status;
  if (status == 401 || status == 403) {
    ++counters_.login_failures;
    co_return Error{ErrorKind::auth,
                    std::to_string(status) + " from " + http_.endpoint() + " at login as '" + settings_->user +
                        "': the service refused the credentials; check user and password_file",
                    status};
  }
  if (status < 200 || status > 299 || answer->auth_token.empty()) {
    ++counters_.login_failures;
    co_return Error{ErrorKind::auth,
                    "login at " + http_.endpoint() + kSessionsPath + " answered " + std::to_string(status) +
                        (answer->auth_token.empty() ? " without an X-Auth-Token" : "") +
                        "; does the service offer sessions? (auth: basic is the other way)",
                    status};
  }
  // Kept even when logout() came meanwhile: it waits for this, and ends it.
  token_ = answer->auth_token;
  location_ = path_of(answer->location);
  co_return std::nullopt;
}

asio::awaitable<Result<Response, Error>> RedfishSession::send_signed(const std::string& uri) {
  Request request{Method::get, uri, {}, {}};
  if (settings_->auth == AuthKind::session) {
    request.headers.emplace_back("X-Auth-Token", token_);
  } else if (settings_->auth == AuthKind::basic) {
    request.headers.emplace_back("Authorization", "Basic " + base64(settings_->user + ":" + settings_->password));
  }
  co_return co_await send(std::move(request));
}

asio::awaitable<Result<json::value, Error>> RedfishSession::get(std::string uri) {
  // After logout(), and after every wait: an answer that comes after it
  // (a 401 for the session just deleted) says nothing of the service, and
  // must not log in again.
  if (ended_) co_return ended_error(uri);
  const bool sessions = settings_->auth == AuthKind::session;
  if (sessions && token_.empty()) {
    if (auto error = co_await login()) co_return *error;
    if (ended_) co_return ended_error(uri);
  }
  ++counters_.gets;
  auto answer = co_await send_signed(uri);
  if (ended_) co_return ended_error(uri);
  if (!answer) co_return answer.error();
  if (answer->status == 401 && sessions) {
    // The session expired or the service forgot it (a BMC reboot): one
    // new login, then the request once more.
    if (auto error = co_await login()) co_return *error;
    if (ended_) co_return ended_error(uri);
    ++counters_.expired;
    ++counters_.gets;
    answer = co_await send_signed(uri);
    if (ended_) co_return ended_error(uri);
    if (!answer) co_return answer.error();
  }
  const unsigned status = answer->status;
  if (status == 401 || status == 403) {
    co_return Error{ErrorKind::auth,
                    std::to_string(status) + " from " + http_.endpoint() + uri + " as '" + settings_->user +
                        "'; check user and password_file" +
                        (status == 403 ? " (and the account's role: it needs to read)" : ""),
                    status};
  }
  if (status == 404) ++counters_.not_found;
  if (status < 200 || status > 299) {
    co_return Error{ErrorKind::status, std::to_string(status) + " from " + http_.endpoint() + uri, status};
  }
  boost::system::error_code ec;
  json::value body = json::parse(answer->body, ec);
  if (ec) {
    co_return Error{ErrorKind::bad_json, http_.endpoint() + uri + ": the body is not JSON (" + ec.message() + ")",
                    status};
  }
  co_return body;
}

asio::awaitable<Logout> RedfishSession::logout(std::chrono::milliseconds timeout) {
  ended_ = true;
  Logout out;
  if (settings_->auth != AuthKind::session) co_return out;
  // A login under way makes a session: it is ended too, once it is made.
  asio::steady_timer pause(executor_);
  const auto give_up = SteadyClock::now() + settings_->request_timeout;
  while (logging_in_ && SteadyClock::now() < give_up) {
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (token_.empty() || location_.empty()) co_return out;
  out.uri = location_;
  Request request{Method::del, location_, {}, {}};
  request.headers.emplace_back("X-Auth-Token", token_);
  token_.clear();
  location_.clear();
  const auto until = SteadyClock::now() + timeout;
  std::optional<Result<Response, Error>> answer;
  if (sending_ == 0) {
    answer = co_await http_.send(std::move(request), until);
    http_.close();
  } else {
    // The kept connection still waits for an answer (a slow service): the
    // DELETE need not wait behind it.
    HttpClient own(executor_, http_options(*settings_));
    answer = co_await own.send(std::move(request), until);
  }
  if (!*answer) {
    out.error = answer->error();
  } else if (const unsigned status = (*answer)->status; (status < 200 || status > 299) && status != 404) {
    // 404: the service had ended it already.
    out.error = Error{ErrorKind::status, std::to_string(status) + " from " + http_.endpoint() + out.uri, status};
  }
  co_return out;
}

}  // namespace rackwatch::redfish
