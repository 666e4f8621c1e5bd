// MqttSession against a real Mosquitto started by the test on a free
// loopback port. The session lives on an io_context run by a thread of the
// test; the test thread talks to it only through on_io().
#include "publish/mqtt_session.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "support/mosquitto.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;
using test::Mosquitto;
using test::Process;
using test::TestSubscriber;
using test::wait_until;

constexpr auto kWait = 10s;  // bound of every wait for something that should happen
const std::string kStatusTopic = "rw/test/status";

// What the session reported, recorded on the io thread, read by the test.
class Events {
 public:
  void connected(const std::string& broker) {
    std::lock_guard lock(mutex_);
    connected_.push_back(broker);
  }
  void disconnected(const std::string& why) {
    std::lock_guard lock(mutex_);
    disconnected_.push_back(why);
  }
  std::size_t connects() const {
    std::lock_guard lock(mutex_);
    return connected_.size();
  }
  std::size_t disconnects() const {
    std::lock_guard lock(mutex_);
    return disconnected_.size();
  }
  std::vector<std::string> connected_brokers() const {
    std::lock_guard lock(mutex_);
    return connected_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    connected_.clear();
    disconnected_.clear();
  }
  std::vector<std::string> disconnect_reasons() const {
    std::lock_guard lock(mutex_);
    return disconnected_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> connected_;
  std::vector<std::string> disconnected_;
};

// The outcome of one publish; counts calls so that "exactly once" is checked.
// The callback shares its state, so it stays valid whenever it runs.
class Completion {
 public:
  MqttSession::PublishDone callback() {
    return [state = state_](PublishError error, const std::string& text) {
      std::lock_guard lock(state->mutex);
      ++state->calls;
      state->ok = error == PublishError::none;
      state->error = text;
    };
  }
  int calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->calls;
  }
  bool ok() const {
    std::lock_guard lock(state_->mutex);
    return state_->ok;
  }
  std::string error() const {
    std::lock_guard lock(state_->mutex);
    return state_->error;
  }
  bool wait(std::chrono::milliseconds timeout = kWait) const {
    return wait_until([this] { return calls() > 0; }, timeout);
  }

 private:
  struct State {
    std::mutex mutex;
    int calls = 0;
    bool ok = false;
    std::string error;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

std::string unique_client_id() {
  static std::atomic<unsigned> counter{0};
  return "rw-session-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

class MqttSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    io_thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    on_io([this] { session_.reset(); });
    work_.reset();
    io_.stop();
    io_thread_.join();
  }

  // Runs `f` on the io thread and waits for it. A hang there is a bug under
  // test that leaves the io thread unusable: report it and end the run.
  template <class F>
  void on_io(F f, std::chrono::milliseconds timeout = kWait) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    boost::asio::post(io_, [f = std::move(f), done]() mutable {
      f();
      done->set_value();
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      std::fprintf(stderr, "io thread did not finish a task within %lld ms: aborting\n",
                   static_cast<long long>(timeout.count()));
      std::fflush(stderr);
      std::abort();
    }
  }

  MqttConfig config(std::vector<std::string> brokers) {
    MqttConfig c;
    c.brokers = std::move(brokers);
    c.client_id = client_id_;
    c.keepalive = 5s;
    c.connect_timeout = 2s;
    c.reconnect_min = 50ms;
    c.reconnect_max = 400ms;
    return c;
  }

  void make_session(MqttConfig c, MqttSession::Handlers handlers = {}) {
    if (!handlers.connected)
      handlers.connected = [this](const std::string& broker) { events_.connected(broker); };
    if (!handlers.disconnected)
      handlers.disconnected = [this](const std::string& why) { events_.disconnected(why); };
    on_io([&] {
      session_ = std::make_unique<MqttSession>(io_.get_executor(), std::move(c), [this] { return will_; },
                                               std::move(handlers));
    });
  }

  void start_session(MqttConfig c) {
    make_session(std::move(c));
    on_io([this] { session_->start(); });
  }

  void publish(const Message& m, Completion& completion) {
    on_io([&] { session_->publish(m, completion.callback()); });
  }

  bool session_connected() {
    bool connected = false;
    on_io([&] { connected = session_ && session_->connected(); });
    return connected;
  }

  MqttSession::Stats stats() {
    MqttSession::Stats s;
    on_io([&] { s = session_->stats(); });
    return s;
  }

  bool wait_connects(std::size_t n) {
    return wait_until([&] { return events_.connects() >= n; }, kWait);
  }

  Mosquitto broker_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::thread io_thread_;
  Events events_;
  std::string client_id_ = unique_client_id();
  Message will_{kStatusTopic, "offline", 1, true};
  std::unique_ptr<MqttSession> session_;  // created, used and destroyed on the io thread
};

TEST_F(MqttSessionTest, ConnectsAndAPublishIsAcknowledgedAndDelivered) {
  TestSubscriber subscriber(broker_.uri(), "rw/test/#");
  start_session(config({broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();
  EXPECT_EQ(events_.connected_brokers().front(), broker_.uri());
  EXPECT_TRUE(session_connected());

  Completion qos1;
  Completion qos0;
  publish({"rw/test/telemetry", "hello", 1, false}, qos1);
  publish({"rw/test/telemetry", "fast", 0, false}, qos0);
  ASSERT_TRUE(qos1.wait());
  ASSERT_TRUE(qos0.wait());
  EXPECT_TRUE(qos1.ok()) << qos1.error();
  EXPECT_TRUE(qos0.ok()) << qos0.error();

  auto received = subscriber.wait_for_topic("rw/test/telemetry", kWait, "hello");
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ((*received)->get_qos(), 1);
  EXPECT_TRUE(subscriber.wait_for_topic("rw/test/telemetry", kWait, "fast").has_value());

  const auto s = stats();
  EXPECT_EQ(s.connects, 1U);
  EXPECT_EQ(s.published, 2U);
  EXPECT_EQ(s.publish_failures, 0U);
  EXPECT_EQ(s.broker, broker_.uri());
  EXPECT_EQ(qos1.calls(), 1);
  EXPECT_EQ(events_.disconnects(), 0U);
}

TEST_F(MqttSessionTest, BrokerKilledFailsOutstandingPublishesAndReconnectsAfterRestart) {
  start_session(config({broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();

  // Frozen, the broker acknowledges nothing: these stay outstanding until
  // the kill drops the connection.
  ASSERT_TRUE(broker_.freeze());
  std::vector<std::unique_ptr<Completion>> outstanding;
  for (int i = 0; i < 3; ++i) {
    outstanding.push_back(std::make_unique<Completion>());
    publish({"rw/test/telemetry", "pending " + std::to_string(i), 1, false}, *outstanding.back());
  }
  broker_.kill();

  ASSERT_TRUE(wait_until([&] { return events_.disconnects() >= 1; }, kWait));
  for (auto& c : outstanding) {
    ASSERT_TRUE(c->wait()) << "an outstanding publish never completed";
    EXPECT_FALSE(c->ok());
    EXPECT_EQ(c->calls(), 1);
  }
  EXPECT_FALSE(session_connected());

  Completion while_down;
  publish({"rw/test/telemetry", "nobody home", 1, false}, while_down);
  ASSERT_TRUE(while_down.wait());
  EXPECT_FALSE(while_down.ok());
  EXPECT_FALSE(while_down.error().empty());

  auto s = stats();
  EXPECT_EQ(s.connection_losses, 1U);
  EXPECT_GE(s.publish_failures, 4U);
  EXPECT_EQ(s.published, 0U);
  EXPECT_FALSE(s.last_error.empty());

  broker_.restart();
  ASSERT_TRUE(wait_connects(2)) << "no reconnect after the broker came back\n" << broker_.log();
  TestSubscriber subscriber(broker_.uri(), "rw/test/#");
  Completion after;
  publish({"rw/test/telemetry", "back", 1, false}, after);
  ASSERT_TRUE(after.wait());
  EXPECT_TRUE(after.ok()) << after.error();
  EXPECT_TRUE(subscriber.wait_for_topic("rw/test/telemetry", kWait, "back").has_value());

  // Late failures Paho reports for the old connection's messages must not
  // reach their (already completed) callers a second time.
  for (auto& c : outstanding) EXPECT_EQ(c->calls(), 1);
  s = stats();
  EXPECT_EQ(s.connects, 2U);
  EXPECT_EQ(s.published, 1U);
}

TEST_F(MqttSessionTest, FailsOverToTheNextBrokerOfTheList) {
  const std::string dead = "tcp://127.0.0.1:" + std::to_string(test::free_port());
  start_session(config({dead, broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();
  EXPECT_EQ(events_.connected_brokers().front(), broker_.uri());

  const auto reasons = events_.disconnect_reasons();
  ASSERT_GE(reasons.size(), 1U);
  EXPECT_NE(reasons.front().find(dead), std::string::npos) << reasons.front();
  const auto s = stats();
  EXPECT_GE(s.connect_failures, 1U);
  EXPECT_EQ(s.broker, broker_.uri());
}

// Checks the method the next test relies on: a client that vanishes without
// a DISCONNECT does get its will published, and the subscriber sees it.
TEST_F(MqttSessionTest, AWillIsSeenWhenAClientVanishes) {
  TestSubscriber subscriber(broker_.uri(), kStatusTopic);
  Process client({"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker_.port()), "-i",
                  "will-client", "-t", "rw/test/none", "--will-topic", kStatusTopic,
                  "--will-payload", "offline", "--will-qos", "1", "--will-retain"},
                 broker_.dir());
  ASSERT_TRUE(wait_until([&] { return broker_.log().find("as will-client") != std::string::npos; },
                         kWait))
      << broker_.log();
  client.kill();
  EXPECT_TRUE(subscriber.wait_for_topic(kStatusTopic, kWait, "offline").has_value())
      << broker_.log();
}

TEST_F(MqttSessionTest, StopPublishesLastAndDisconnectsWithoutTheWill) {
  TestSubscriber subscriber(broker_.uri(), "rw/test/#");
  start_session(config({broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();

  std::atomic<int> stopped{0};
  on_io([&] {
    session_->stop(Message{kStatusTopic, "stopped", 1, true}, 5s, [&] { ++stopped; });
  });
  ASSERT_TRUE(wait_until([&] { return stopped.load() > 0; }, kWait));
  EXPECT_FALSE(session_connected());
  EXPECT_EQ(stats().published, 1U);

  ASSERT_TRUE(subscriber.wait_for_topic(kStatusTopic, kWait, "stopped").has_value());
  // Once the broker has logged the clean disconnect it has also dropped (or
  // sent) the will; a barrier through the subscriber's own connection then
  // flushes anything queued for it before.
  ASSERT_TRUE(wait_until(
      [&] { return broker_.log().find("Client " + client_id_ + " disconnected") != std::string::npos; },
      kWait))
      << broker_.log();
  subscriber.publish("rw/test/barrier", "1");
  ASSERT_TRUE(subscriber.wait_for_topic("rw/test/barrier", kWait).has_value());
  for (const auto& m : subscriber.messages()) {
    EXPECT_FALSE(m->get_topic() == kStatusTopic && m->to_string() == "offline")
        << "the broker published the will after a clean stop";
  }
  auto retained = TestSubscriber::read_retained(broker_.uri(), kStatusTopic, 2s);
  ASSERT_TRUE(retained.has_value());
  EXPECT_EQ((*retained)->to_string(), "stopped");

  // Stopped for good: publishes fail, a second stop completes too.
  Completion late;
  publish({"rw/test/telemetry", "late", 1, false}, late);
  ASSERT_TRUE(late.wait());
  EXPECT_FALSE(late.ok());
  on_io([&] { session_->stop(std::nullopt, 1s, [&] { ++stopped; }); });
  EXPECT_TRUE(wait_until([&] { return stopped.load() == 2; }, kWait));
}

TEST_F(MqttSessionTest, StopWhileDisconnectedCompletesWithoutPublishing) {
  const std::string dead = "tcp://127.0.0.1:" + std::to_string(test::free_port());
  start_session(config({dead}));
  ASSERT_TRUE(wait_until([&] { return events_.disconnects() >= 1; }, kWait));

  std::atomic<int> stopped{0};
  on_io([&] {
    session_->stop(Message{kStatusTopic, "stopped", 1, true}, 5s, [&] { ++stopped; });
  });
  ASSERT_TRUE(wait_until([&] { return stopped.load() > 0; }, kWait));
  const auto s = stats();
  EXPECT_EQ(s.published, 0U);
  EXPECT_EQ(s.connects, 0U);
}

TEST_F(MqttSessionTest, StopWaitsNoLongerThanItsTimeoutForTheLastAck) {
  // Two sessions on one broker, which then answers nothing: one stops with
  // 300 ms for its last ack, the other with an hour.
  start_session(config({broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();
  auto patient_config = config({broker_.uri()});
  patient_config.client_id = client_id_ + "-patient";
  std::unique_ptr<MqttSession> patient;
  on_io([&] {
    patient = std::make_unique<MqttSession>(io_.get_executor(), patient_config, [this] { return will_; },
                                            MqttSession::Handlers{[this](const std::string& b) { events_.connected(b); }, {}, {}});
    patient->start();
  });
  ASSERT_TRUE(wait_connects(2)) << broker_.log();
  ASSERT_TRUE(broker_.freeze());  // no `last` is acknowledged while frozen

  std::atomic<int> stopped{0};
  std::atomic<int> patient_stopped{0};
  on_io([&] {
    patient->stop(Message{kStatusTopic, "patient stopped", 1, true}, std::chrono::hours{1}, [&] { ++patient_stopped; });
    session_->stop(Message{kStatusTopic, "stopped", 1, true}, 300ms, [&] { ++stopped; });
  });
  // The short one gives up without its ack...
  ASSERT_TRUE(wait_until([&] { return stopped.load() > 0; }, kWait));
  EXPECT_EQ(stats().published, 0U);
  // ... while the patient one, stopped first, still waits for its own: the
  // short one's end is the proof that the time passed.
  EXPECT_EQ(patient_stopped.load(), 0) << "a stop with an hour to wait gave up";
  broker_.thaw();
  EXPECT_TRUE(wait_until([&] { return patient_stopped.load() > 0; }, kWait)) << "the ack came, the stop ends";
  on_io([&] { patient.reset(); });
}

TEST_F(MqttSessionTest, DestroyingAConnectedSessionWithOutstandingPublishesIsSafe) {
  start_session(config({broker_.uri()}));
  ASSERT_TRUE(wait_connects(1)) << broker_.log();
  ASSERT_TRUE(broker_.freeze());
  Completion pending;
  publish({"rw/test/telemetry", "pending", 1, false}, pending);

  on_io([this] { session_.reset(); });  // bounded: a hang aborts the run
  broker_.thaw();
  on_io([] {});  // whatever was posted before has run
  EXPECT_EQ(pending.calls(), 0) << "a completion ran after the session was destroyed";
}

TEST_F(MqttSessionTest, DestroyingASessionWhileItConnectsIsSafe) {
  ASSERT_TRUE(broker_.freeze());  // accepts the TCP connection, never sends CONNACK
  start_session(config({broker_.uri()}));
  on_io([this] { session_.reset(); });
  broker_.thaw();
  on_io([] {});
  EXPECT_EQ(events_.connects(), 0U);
}

TEST_F(MqttSessionTest, ASessionCanBeDestroyedFromItsOwnHandler) {
  std::atomic<bool> destroyed{false};
  MqttSession::Handlers handlers;
  handlers.connected = [&](const std::string&) {
    session_.reset();  // on the io thread, inside the session's own call
    destroyed = true;
  };
  make_session(config({broker_.uri()}), std::move(handlers));
  on_io([this] { session_->start(); });
  ASSERT_TRUE(wait_until([&] { return destroyed.load(); }, kWait)) << broker_.log();
  on_io([] {});
}

}  // namespace
}  // namespace rackwatch

namespace rackwatch {
namespace {

// Inbound commands (Sparkplug's NCMD/DCMD, a host's STATE): subscribed at
// connect, and what arrives reaches the handler on the executor's thread.
TEST_F(MqttSessionTest, SubscribesAtConnectAndHandsWhatArrivesToTheExecutor) {
  std::mutex mutex;
  std::vector<Message> arrived;
  bool on_io_thread = true;
  MqttSession::Handlers handlers;
  handlers.connected = [this](const std::string& broker) {
    events_.connected(broker);
    session_->subscribe({"rw/test/cmd/#"});
  };
  handlers.message = [&](const Message& m) {
    std::lock_guard lock(mutex);
    on_io_thread = on_io_thread && std::this_thread::get_id() == io_thread_.get_id();
    arrived.push_back(m);
  };
  make_session(config({broker_.uri()}), std::move(handlers));
  on_io([this] { session_->start(); });
  ASSERT_TRUE(wait_connects(1)) << broker_.log();

  // The SUBACK is not observable from here: send until one arrives.
  TestSubscriber sender(broker_.uri(), "rw/test/none");
  const bool got = wait_until(
      [&] {
        sender.publish("rw/test/cmd/rebirth", "please");
        std::lock_guard lock(mutex);
        return !arrived.empty();
      },
      kWait);
  ASSERT_TRUE(got) << broker_.log();
  // Copied, and the lock let go before stats() waits on the io thread: a
  // later "please" arriving there would wait for the lock (a deadlock that
  // a loaded machine, delivering late, ran into).
  Message first;
  bool all_on_io_thread = false;
  {
    std::lock_guard lock(mutex);
    first = arrived.front();
    all_on_io_thread = on_io_thread;
  }
  EXPECT_EQ(first.topic, "rw/test/cmd/rebirth");
  EXPECT_EQ(first.payload, "please");
  EXPECT_EQ(first.qos, 1);
  EXPECT_TRUE(all_on_io_thread);
  EXPECT_GE(stats().received, 1U);
  EXPECT_EQ(stats().subscribe_failures, 0U);
}

// A format that numbers its connects (Sparkplug's bdSeq) needs a new will
// for each: the session asks for one at every attempt.
TEST_F(MqttSessionTest, MakesAFreshWillForEveryConnectAttempt) {
  std::atomic<int> made{0};
  MqttSession::Handlers handlers;
  handlers.connected = [this](const std::string& broker) { events_.connected(broker); };
  handlers.disconnected = [this](const std::string& why) { events_.disconnected(why); };
  on_io([&] {
    session_ = std::make_unique<MqttSession>(
        io_.get_executor(), config({broker_.uri()}),
        [&made] { return Message{kStatusTopic, "offline " + std::to_string(++made), 1, true}; },
        std::move(handlers));
    session_->start();
  });
  ASSERT_TRUE(wait_connects(1)) << broker_.log();
  EXPECT_EQ(made.load(), 1);
  broker_.kill();
  ASSERT_TRUE(wait_until([&] { return events_.disconnects() >= 2; }, kWait));  // lost, then a failed attempt
  broker_.restart();
  ASSERT_TRUE(wait_connects(2)) << broker_.log();
  // One will per attempt: the failed ones while the broker was down, and the one that got through.
  const auto s = stats();
  EXPECT_EQ(static_cast<std::uint64_t>(made.load()), s.connects + s.connect_failures);
  EXPECT_GE(made.load(), 3);
}

// Each way a connect fails is told apart, with the address tried: an
// operator reads what to fix, never Paho's bare "Failure".
class ConnectFailureTest : public MqttSessionTest {
 protected:
  // The reason of the first failed attempt to connect to `uri`.
  std::string first_failure(const std::string& uri, MqttConfig c) {
    on_io([this] { session_.reset(); });
    events_.clear();
    c.brokers = {uri};
    start_session(std::move(c));
    if (!wait_until([&] { return events_.disconnects() >= 1; }, kWait)) return "(no failure reported)";
    on_io([this] { session_.reset(); });
    return events_.disconnect_reasons().front();
  }
  std::string first_failure(const std::string& uri) { return first_failure(uri, config({})); }
};

TEST_F(ConnectFailureTest, NothingListeningIsConnectionRefusedOnThatPort) {
  const auto port = std::to_string(test::free_port());
  const auto why = first_failure("tcp://127.0.0.1:" + port);
  EXPECT_EQ(why, "connect to tcp://127.0.0.1:" + port + " failed: connection refused by 127.0.0.1:" + port +
                     ": nothing listens on port " + port + " there (is the broker running, and on that port?)");
}

TEST_F(ConnectFailureTest, AnUnknownHostIsANameNotResolved) {
  // .invalid never resolves (RFC 6761), with or without a DNS server.
  const auto why = first_failure("tcp://broker.rackwatch.invalid:1883");
  EXPECT_THAT(why, ::testing::StartsWith("connect to tcp://broker.rackwatch.invalid:1883 failed: cannot resolve host "
                                         "'broker.rackwatch.invalid'"));
  EXPECT_THAT(why, ::testing::Not(::testing::HasSubstr("Failure")));
}

TEST_F(ConnectFailureTest, APortThatTakesTheConnectionButSpeaksNoMqttSaysSo) {
  // A listener that never accepts: the kernel completes the TCP handshake
  // from its backlog, and no CONNACK ever comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = test::detail::loopback(0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const auto port = std::to_string(ntohs(addr.sin_port));
  auto c = config({});
  c.connect_timeout = 1s;
  const auto why = first_failure("tcp://127.0.0.1:" + port, c);
  ::close(fd);
  EXPECT_THAT(why, ::testing::StartsWith("connect to tcp://127.0.0.1:" + port +
                                         " failed: the broker took the connection but did not complete the MQTT "
                                         "connect within mqtt.connect_timeout"));
}

TEST_F(ConnectFailureTest, AWrongPasswordIsTheBrokersRefusalNamingTheSettings) {
  test::TempDir dir("rackwatch-passwd");
  const auto passwd = (dir / "passwd").string();
  auto made = test::run({"mosquitto_passwd", "-b", "-c", passwd, "r-agent", "right"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Mosquitto::Options options;
  options.extra_config = "allow_anonymous false\npassword_file " + passwd + "\n";
  Mosquitto locked(options);
  locked.start();
  for (auto protocol : {MqttProtocol::v3_1_1, MqttProtocol::v5}) {
    auto c = config({});
    c.protocol = protocol;
    c.username = "r-agent";
    c.password = "wrong";
    const auto why = first_failure(locked.uri(), c);
    EXPECT_THAT(why, ::testing::StartsWith("connect to " + locked.uri() + " failed: the broker refused the connection: "))
        << mqtt_protocol_name(protocol);
    // Mosquitto answers a wrong password with "not authorized" (5 / 0x87).
    EXPECT_THAT(why, ::testing::AnyOf(::testing::HasSubstr("not authorized"),
                                      ::testing::HasSubstr("bad user name or password")))
        << why;
    EXPECT_THAT(why, ::testing::HasSubstr("mqtt.password_file")) << why;
  }
  auto c = config({});
  c.username = "r-agent";
  c.password = "right";
  c.brokers = {locked.uri()};
  on_io([this] { session_.reset(); });
  events_.clear();
  start_session(c);
  EXPECT_TRUE(wait_connects(1)) << "the right password gets in\n" << locked.log();
}

}  // namespace
}  // namespace rackwatch
