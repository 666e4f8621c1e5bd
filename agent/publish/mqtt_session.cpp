#include "publish/mqtt_session.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mqtt/async_client.h>

#include "core/log.hpp"
#include "core/mqtt_config.hpp"
#include "publish/mqtt_backoff.hpp"
#include "publish/connect_failure.hpp"
#include "publish/paho_tls.hpp"
#include "publish/tls_probe.hpp"

namespace rackwatch {
namespace {

enum class State { idle, connecting, connected, disconnected, stopped };
enum class StopPhase { none, awaiting_last, disconnecting, done };

// After the DISCONNECT is queued, how long stop() waits for Paho to report
// it sent before giving up on it.
constexpr std::chrono::milliseconds kDisconnectGrace{2'000};

// MQTT 5: how long the broker keeps a persistent session after we left.
constexpr int kSessionExpirySeconds = 7 * 24 * 3600;

// Paho takes whole seconds; round up so that a sub-second setting does not
// become 0 (which means "no keep-alive" / "no timeout").
int whole_seconds(std::chrono::milliseconds ms, int at_least) {
  const auto seconds = (ms.count() + 999) / 1000;
  return static_cast<int>(std::clamp<std::int64_t>(seconds, at_least, 65'535));
}

std::string rc_text(int rc) {
  std::string text = mqtt::exception::error_str(rc);
  if (text.empty()) text = "code " + std::to_string(rc);
  return text;
}

// Paho carries an opaque pointer per operation; ours carries an id number.
void* to_context(std::uint64_t id) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
}
std::uint64_t from_context(void* context) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(context));
}

}  // namespace

class MqttSession::Impl : public std::enable_shared_from_this<MqttSession::Impl> {
 public:
  Impl(boost::asio::any_io_executor executor, MqttConfig config, WillMaker will,
       Handlers handlers);

  void init();  // needs shared_from_this(): after construction
  void start();
  void publish(const Message& message, PublishDone done);
  void subscribe(const std::vector<std::string>& filters);
  void stop(std::optional<Message> last, std::chrono::milliseconds timeout,
            std::function<void()> done);
  void cycle(std::optional<Message> last, std::chrono::milliseconds timeout);
  void close();

  // Results posted by the Bridge; each runs on the executor.
  void on_connect_result(std::uint64_t attempt, bool ok, int rc, int reason);
  void on_connection_lost(const std::string& cause);
  void on_publish_result(std::uint64_t id, bool ok, int rc, int reason);
  void on_disconnect_result(std::uint64_t id);
  void on_subscribe_result(std::uint64_t id, bool ok, int rc);
  void on_message(const Message& message);

  class Bridge;

  boost::asio::any_io_executor executor_;
  MqttConfig config_;
  WillMaker will_;
  Handlers handlers_;
  Stats stats_;
  State state_ = State::idle;
  MqttBackoff backoff_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer stop_timer_;

  std::uint64_t next_id_ = 0;
  std::uint64_t attempt_ = 0;        // id of the connect attempt in flight
  std::uint64_t disconnect_id_ = 0;  // id of stop()'s disconnect
  std::uint64_t cycle_id_ = 0;       // id of cycle()'s disconnect
  std::unordered_map<std::uint64_t, PublishDone> outstanding_;
  std::unordered_map<std::uint64_t, std::string> subscribing_;  // by token id: the filter

  bool stopping_ = false;
  bool closed_ = false;  // the MqttSession is gone: run no handler any more
  StopPhase stop_phase_ = StopPhase::none;
  std::vector<std::function<void()>> stop_done_;

  // Declared before the client: the client holds a raw pointer to the
  // bridge (as every token's listener) and must be destroyed first.
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<mqtt::async_client> client_;

 private:
  void attempt_connect();
  void paho_connect();
  // Our own TLS handshake to the current broker before Paho's, for attempt
  // `attempt`: Paho cannot hold a broker to a TLS 1.3 minimum.
  void probe_before_connect(std::uint64_t attempt);
  void connect_failed(const std::string& why);
  void schedule_reconnect(std::chrono::milliseconds delay);
  void send(const Message& message, PublishDone done);
  void fail_outstanding(const std::string& why);
  void post_done(PublishDone done, PublishError error, std::string text);
  void begin_disconnect();
  void finish_stop();
  const std::string& current_broker() const { return config_.brokers[backoff_.broker()]; }
};

// Receives Paho's calls on Paho's threads, with Paho's mutex held. It copies
// what it needs and posts it to the executor; it never touches the session,
// never blocks, and holds only a weak reference, so the session (and with it
// the Paho client) is never destroyed on a Paho thread.
class MqttSession::Impl::Bridge final : public mqtt::iaction_listener {
 public:
  Bridge(boost::asio::any_io_executor executor, std::weak_ptr<Impl> impl)
      : executor_(std::move(executor)), impl_(std::move(impl)) {}

  void on_success(const mqtt::token& token) override { forward(token, true); }
  void on_failure(const mqtt::token& token) override { forward(token, false); }

  void connection_lost(const std::string& cause) {
    post([cause](Impl& impl) { impl.on_connection_lost(cause); });
  }

  void arrived(const mqtt::const_message_ptr& msg) {
    Message m{msg->get_topic(), msg->to_string(), msg->get_qos(), msg->is_retained()};
    post([m = std::move(m)](Impl& impl) { impl.on_message(m); });
  }

 private:
  void forward(const mqtt::token& token, bool ok) {
    const std::uint64_t id = from_context(token.get_user_context());
    const int rc = ok ? 0 : token.get_return_code();
    switch (token.get_type()) {
      case mqtt::token::Type::CONNECT: {
        const int reason = ok ? 0 : static_cast<int>(token.get_reason_code());
        post([id, ok, rc, reason](Impl& impl) { impl.on_connect_result(id, ok, rc, reason); });
        break;
      }
      case mqtt::token::Type::PUBLISH: {
        // MQTT 5: a PUBACK with a reason code of 0x80 or more is the broker's "no".
        const int reason = ok ? 0 : static_cast<int>(token.get_reason_code());
        post([id, ok, rc, reason](Impl& impl) { impl.on_publish_result(id, ok, rc, reason); });
        break;
      }
      case mqtt::token::Type::DISCONNECT:
        post([id](Impl& impl) { impl.on_disconnect_result(id); });
        break;
      case mqtt::token::Type::SUBSCRIBE:
        post([id, ok, rc](Impl& impl) { impl.on_subscribe_result(id, ok, rc); });
        break;
      default:
        break;
    }
  }

  template <class F>
  void post(F f) {
    boost::asio::post(executor_, [weak = impl_, f = std::move(f)] {
      if (auto impl = weak.lock(); impl && !impl->closed_) f(*impl);
    });
  }

  boost::asio::any_io_executor executor_;
  std::weak_ptr<Impl> impl_;
};

MqttSession::Impl::Impl(boost::asio::any_io_executor executor, MqttConfig config,
                        WillMaker will, Handlers handlers)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      will_(std::move(will)),
      handlers_(std::move(handlers)),
      backoff_(config_.reconnect_min, config_.reconnect_max, config_.brokers.size(),
               std::random_device{}()),
      reconnect_timer_(executor_),
      stop_timer_(executor_) {
  if (config_.brokers.empty()) throw std::invalid_argument("mqtt: no broker configured");
}

void MqttSession::Impl::init() {
  bridge_ = std::make_unique<Bridge>(executor_, weak_from_this());

  // One client for the session's whole life; each attempt names its broker
  // with connect_options::set_servers. Recreating the client per attempt
  // would also work with a clean session, but a persistent session (a later
  // step) keeps its in-flight state in the client, which must then survive
  // reconnects. The URI given here only has to be valid.
  mqtt::create_options create(config_.protocol == MqttProtocol::v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
  create.set_send_while_disconnected(false);  // no offline buffer: the outbox is ours
  client_ = std::make_unique<mqtt::async_client>(config_.brokers.front(), config_.client_id,
                                                 create, nullptr);

  // Before the first connect(): setting callbacks later can deadlock with a
  // completing token (paho.mqtt.cpp #356). Only connection loss is needed:
  // the connect token reports success and failure of each attempt.
  client_->set_connection_lost_handler(
      [bridge = bridge_.get()](const std::string& cause) { bridge->connection_lost(cause); });
  client_->set_message_callback(
      [bridge = bridge_.get()](mqtt::const_message_ptr msg) { bridge->arrived(msg); });
}

void MqttSession::Impl::start() {
  if (closed_ || stopping_ || state_ != State::idle) return;
  attempt_connect();
}

void MqttSession::Impl::attempt_connect() {
  if (closed_ || stopping_) return;
  state_ = State::connecting;
  attempt_ = ++next_id_;
  if (is_tls_uri(current_broker()) && config_.tls && config_.tls->min_version == TlsVersion::v1_3) {
    // Paho cannot hold the broker to TLS 1.3: our own handshake does first.
    probe_before_connect(attempt_);
    return;
  }
  paho_connect();
}

void MqttSession::Impl::probe_before_connect(std::uint64_t attempt) {
  auto done = [weak = weak_from_this(), attempt](std::exception_ptr e, TlsProbeResult r) {
    auto impl = weak.lock();
    if (!impl || impl->closed_ || impl->stopping_ || attempt != impl->attempt_) return;
    if (e) r = {false, {}, "the TLS check failed unexpectedly"};
    if (r.ok) {
      impl->paho_connect();
    } else {
      impl->connect_failed(r.error);
    }
  };
  boost::asio::co_spawn(executor_, probe_tls(current_broker(), *config_.tls, config_.connect_timeout),
                        std::move(done));
}

void MqttSession::Impl::connect_failed(const std::string& why) {
  state_ = State::disconnected;
  ++stats_.connect_failures;
  stats_.last_error = "connect to " + current_broker() + " failed: " + why;
  schedule_reconnect(backoff_.failed());
  if (handlers_.disconnected) handlers_.disconnected(stats_.last_error);
}

void MqttSession::Impl::paho_connect() {
  const std::string& broker = current_broker();
  mqtt::connect_options options;
  options.set_servers(mqtt::string_collection::create({broker}));
  // Persistent unless configured otherwise: the broker keeps our session
  // across reconnects. Our outbox, not Paho, resends what was not acknowledged.
  if (config_.protocol == MqttProtocol::v5) {
    options.set_mqtt_version(MQTTVERSION_5);
    options.set_clean_start(config_.clean_session);
    // Under 5 a session ends with the connection unless it says how long to keep it.
    if (!config_.clean_session) {
      options.set_properties(mqtt::properties{{mqtt::property::SESSION_EXPIRY_INTERVAL, kSessionExpirySeconds}});
    }
  } else {
    options.set_mqtt_version(MQTTVERSION_3_1_1);  // the default may fall back to 3.1
    options.set_clean_session(config_.clean_session);
  }
  options.set_automatic_reconnect(false);  // we own the reconnect loop
  options.set_keep_alive_interval(whole_seconds(config_.keepalive, 0));
  options.set_connect_timeout(whole_seconds(config_.connect_timeout, 1));
  if (!config_.username.empty()) options.set_user_name(config_.username);
  if (!config_.password.empty()) options.set_password(config_.password);
  // Paho copies the will at each connect(): made and set on every attempt.
  const Message will = will_();
  options.set_will_message(mqtt::message(will.topic, will.payload, will.qos, will.retain));
  if (is_tls_uri(broker) && config_.tls) options.set_ssl(paho_ssl_options(*config_.tls));

  try {
    client_->connect(std::move(options), to_context(attempt_), *bridge_);
  } catch (const mqtt::exception& e) {
    // Report through the executor like any other result, never inline.
    const int rc = e.get_return_code();
    boost::asio::post(executor_, [weak = weak_from_this(), attempt = attempt_, rc] {
      if (auto impl = weak.lock(); impl && !impl->closed_)
        impl->on_connect_result(attempt, false, rc, 0);
    });
  }
}

void MqttSession::Impl::schedule_reconnect(std::chrono::milliseconds delay) {
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto impl = weak.lock(); impl && !impl->closed_) impl->attempt_connect();
  });
}

void MqttSession::Impl::on_connect_result(std::uint64_t attempt, bool ok, int rc, int reason) {
  if (attempt != attempt_) return;
  if (stopping_) {
    // stop() gave this attempt up; a connection it made anyway is closed
    // cleanly, so that no will is published for it.
    if (ok && client_) {
      try {
        client_->disconnect(0, to_context(++next_id_), *bridge_);
      } catch (const mqtt::exception&) {
      }
    }
    return;
  }
  if (state_ != State::connecting) return;
  const std::string broker = current_broker();
  if (ok) {
    state_ = State::connected;
    ++stats_.connects;
    stats_.broker = broker;
    backoff_.connected();
    if (handlers_.connected) handlers_.connected(broker);
    return;
  }
  // Paho's code says little: find out what failed, then report it.
  auto done = [weak = weak_from_this(), attempt, text = rc_text(rc)](std::exception_ptr e, std::string why) {
    auto impl = weak.lock();
    if (!impl || impl->closed_ || impl->stopping_ || attempt != impl->attempt_) return;
    impl->connect_failed(e ? text : why);
  };
  boost::asio::co_spawn(executor_,
                        explain_connect_failure(broker, rc, reason, config_.tls, config_.connect_timeout, rc_text(rc)),
                        std::move(done));
}

void MqttSession::Impl::on_connection_lost(const std::string& cause) {
  if (state_ != State::connected) return;
  state_ = State::disconnected;
  ++stats_.connection_losses;
  stats_.last_error = "connection to " + stats_.broker + " lost" +
                      (cause.empty() ? std::string() : ": " + cause);
  // Paho fails in-flight QoS 1 publishes only at the next connect (clean
  // session) or never; the caller must know now.
  fail_outstanding("connection lost");
  if (!stopping_) schedule_reconnect(backoff_.lost());
  if (handlers_.disconnected) handlers_.disconnected(stats_.last_error);
}

void MqttSession::Impl::publish(const Message& message, PublishDone done) {
  if (closed_) return;
  if (stopping_ || state_ == State::stopped) {
    ++stats_.publish_failures;
    post_done(std::move(done), PublishError::not_connected, "session stopped");
  } else if (state_ != State::connected) {
    ++stats_.publish_failures;
    post_done(std::move(done), PublishError::not_connected, "not connected");
  } else {
    send(message, std::move(done));
  }
}

// The only place that calls Paho's publish: concurrent publishers can hang
// Paho (paho.mqtt.cpp #499).
void MqttSession::Impl::send(const Message& message, PublishDone done) {
  const std::uint64_t id = ++next_id_;
  outstanding_.emplace(id, std::move(done));
  try {
    auto msg = mqtt::make_message(message.topic, message.payload, message.qos, message.retain);
    client_->publish(std::move(msg), to_context(id), *bridge_);
  } catch (const mqtt::exception& e) {
    // Paho refused it synchronously and will not call the listener.
    auto node = outstanding_.extract(id);
    ++stats_.publish_failures;
    post_done(std::move(node.mapped()), PublishError::client, e.what());
  }
}

void MqttSession::Impl::on_publish_result(std::uint64_t id, bool ok, int rc, int reason) {
  auto node = outstanding_.extract(id);
  if (node.empty()) return;  // already failed at connection loss or stop
  if (ok) {
    ++stats_.published;
    if (node.mapped()) node.mapped()(PublishError::none, std::string());
    return;
  }
  ++stats_.publish_failures;
  std::string text = rc_text(rc);
  auto error = PublishError::not_connected;
  if (reason >= 0x80) {
    char code[16];
    std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned>(reason));
    const char* name = ::MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(reason));
    text = std::string(kBrokerRefused) + (name ? name : "reason") + " (" + code + ")";
    error = reason == MQTTREASONCODE_NOT_AUTHORIZED || reason == MQTTREASONCODE_TOPIC_NAME_INVALID
                ? PublishError::not_allowed
            : reason == MQTTREASONCODE_PACKET_TOO_LARGE ? PublishError::too_large
                                                        : PublishError::refused;
  }
  if (node.mapped()) node.mapped()(error, text);
}

void MqttSession::Impl::subscribe(const std::vector<std::string>& filters) {
  if (closed_ || state_ != State::connected) return;
  for (const auto& filter : filters) {
    const std::uint64_t id = ++next_id_;
    subscribing_.emplace(id, filter);
    try {
      client_->subscribe(filter, 1, to_context(id), *bridge_);
    } catch (const mqtt::exception& e) {
      subscribing_.erase(id);
      ++stats_.subscribe_failures;
      log::error("subscribe to ", filter, " on ", stats_.broker, " failed: ", e.what());
    }
  }
}

void MqttSession::Impl::on_subscribe_result(std::uint64_t id, bool ok, int rc) {
  auto node = subscribing_.extract(id);
  if (node.empty() || ok) return;
  ++stats_.subscribe_failures;
  log::error("subscribe to ", node.mapped(), " on ", stats_.broker, " failed: ", rc_text(rc),
             "; commands sent there will not be heard (check the broker's ACL)");
}

void MqttSession::Impl::on_message(const Message& message) {
  ++stats_.received;
  if (handlers_.message) handlers_.message(message);
}

void MqttSession::Impl::fail_outstanding(const std::string& why) {
  auto failed = std::exchange(outstanding_, {});
  for (auto& [id, done] : failed) {
    ++stats_.publish_failures;
    post_done(std::move(done), PublishError::not_connected, why);
  }
}

// Completions are posted, never run inline, so that a caller's `done` never
// runs inside its own call to publish(). None runs once the session is gone.
void MqttSession::Impl::post_done(PublishDone done, PublishError error, std::string text) {
  if (!done) return;
  boost::asio::post(executor_, [weak = weak_from_this(), done = std::move(done), error,
                                text = std::move(text)] {
    if (auto impl = weak.lock(); impl && !impl->closed_) done(error, text);
  });
}

void MqttSession::Impl::stop(std::optional<Message> last, std::chrono::milliseconds timeout,
                             std::function<void()> done) {
  if (closed_) return;
  if (done) stop_done_.push_back(std::move(done));
  if (stopping_) {
    if (stop_phase_ == StopPhase::done) finish_stop();  // runs the new `done`
    return;
  }
  stopping_ = true;
  reconnect_timer_.cancel();
  if (state_ != State::connected) {
    // A connect attempt in flight is abandoned: its answer is ignored, and
    // a success is undone by close() or by the next disconnect.
    finish_stop();
    return;
  }
  stop_phase_ = StopPhase::awaiting_last;
  stop_timer_.expires_after(timeout);
  stop_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    auto impl = weak.lock();
    if (!impl || impl->closed_) return;
    if (impl->stop_phase_ == StopPhase::awaiting_last) {
      impl->begin_disconnect();
    } else if (impl->stop_phase_ == StopPhase::disconnecting) {
      impl->finish_stop();
    }
  });
  if (last) {
    send(*last, [weak = weak_from_this()](PublishError, const std::string&) {
      if (auto impl = weak.lock(); impl && !impl->closed_) impl->begin_disconnect();
    });
  } else {
    begin_disconnect();
  }
}

void MqttSession::Impl::begin_disconnect() {
  if (stop_phase_ != StopPhase::awaiting_last) return;
  stop_phase_ = StopPhase::disconnecting;
  if (state_ != State::connected) {
    finish_stop();
    return;
  }
  disconnect_id_ = ++next_id_;
  try {
    // A clean DISCONNECT: the broker discards the will. Timeout 0: we have
    // already waited for what mattered (`last`).
    client_->disconnect(0, to_context(disconnect_id_), *bridge_);
  } catch (const mqtt::exception&) {
    finish_stop();
    return;
  }
  stop_timer_.expires_after(kDisconnectGrace);
  stop_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto impl = weak.lock(); impl && !impl->closed_) impl->finish_stop();
  });
}

void MqttSession::Impl::on_disconnect_result(std::uint64_t id) {
  if (id == disconnect_id_ && stop_phase_ == StopPhase::disconnecting) finish_stop();
  if (id == cycle_id_ && !stopping_ && state_ == State::disconnected) {
    cycle_id_ = 0;
    schedule_reconnect(backoff_.lost());
  }
}

void MqttSession::Impl::cycle(std::optional<Message> last, std::chrono::milliseconds timeout) {
  if (closed_ || stopping_ || state_ != State::connected) return;
  // Not connected from here on for the caller: nothing else is sent.
  state_ = State::disconnected;
  ++stats_.connection_losses;
  stats_.last_error = "left " + stats_.broker + " on the peer's request";
  fail_outstanding("disconnecting on the peer's request");
  const auto id = ++next_id_;
  cycle_id_ = id;
  // Run by whichever comes first: `last` acknowledged, or the timeout.
  auto once = std::make_shared<bool>(false);
  auto disconnect = [weak = weak_from_this(), id, once] {
    auto impl = weak.lock();
    if (!impl || impl->closed_ || impl->stopping_ || impl->cycle_id_ != id || std::exchange(*once, true)) return;
    impl->stop_timer_.cancel();
    try {
      impl->client_->disconnect(0, to_context(id), *impl->bridge_);
    } catch (const mqtt::exception&) {
      impl->on_disconnect_result(id);
    }
  };
  stop_timer_.expires_after(timeout);
  stop_timer_.async_wait([disconnect](boost::system::error_code ec) {
    if (!ec) disconnect();
  });
  if (last) {
    // The last word is sent on the connection being left: send() does not
    // look at state_.
    send(*last, [disconnect](PublishError, const std::string&) { disconnect(); });
  } else {
    boost::asio::post(executor_, disconnect);
  }
  if (handlers_.disconnected) handlers_.disconnected(stats_.last_error);
}

void MqttSession::Impl::finish_stop() {
  stop_phase_ = StopPhase::done;
  state_ = State::stopped;
  reconnect_timer_.cancel();
  stop_timer_.cancel();
  fail_outstanding("session stopped");
  for (auto& done : std::exchange(stop_done_, {})) {
    boost::asio::post(executor_, [weak = weak_from_this(), done = std::move(done)] {
      if (auto impl = weak.lock(); impl && !impl->closed_) done();
    });
  }
}

// Runs on the owner's thread (the executor), never on a Paho thread: only
// MqttSession's destructor calls it.
void MqttSession::Impl::close() {
  if (closed_) return;
  closed_ = true;  // from here on no handler of the caller runs
  reconnect_timer_.cancel();
  stop_timer_.cancel();
  outstanding_.clear();
  // Destroying the Paho client takes its mutex, so it waits for a callback
  // in flight; afterwards no callback comes. Paho sends a DISCONNECT itself
  // if still connected. Callbacks hold only weak references: none can keep
  // this object alive or outlive the client.
  client_.reset();
}

MqttSession::MqttSession(boost::asio::any_io_executor executor, MqttConfig config,
                         WillMaker will, Handlers handlers)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(will),
                                   std::move(handlers))) {
  impl_->init();
}

MqttSession::~MqttSession() {
  if (impl_) impl_->close();
}

void MqttSession::start() { impl_->start(); }

bool MqttSession::connected() const { return impl_->state_ == State::connected; }

void MqttSession::subscribe(const std::vector<std::string>& filters) { impl_->subscribe(filters); }

void MqttSession::publish(const Message& message, PublishDone done) {
  impl_->publish(message, std::move(done));
}

void MqttSession::stop(std::optional<Message> last, std::chrono::milliseconds timeout,
                       std::function<void()> done) {
  impl_->stop(std::move(last), timeout, std::move(done));
}

void MqttSession::cycle(std::optional<Message> last, std::chrono::milliseconds timeout) {
  impl_->cycle(std::move(last), timeout);
}

const MqttSession::Stats& MqttSession::stats() const { return impl_->stats_; }

}  // namespace rackwatch
