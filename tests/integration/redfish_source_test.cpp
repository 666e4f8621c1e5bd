// The redfish source against a Redfish service served by the test (HTTP and
// HTTPS, on loopback): discovery of a small mockup of our own and of DMTF's
// public mockups (../shared/testdata/redfish, when present) checked against
// their JSON, session login, expiry and re-login, a wrong password, the
// session's DELETE (by the destructor, and by stop() also while a request
// or the login waits for a late answer), a closed keep-alive connection,
// and TLS trust.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "sources/redfish/redfish_source.hpp"
#include "support/redfish_server.hpp"
#include "support/run.hpp"
#include "support/source_poll.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::redfish {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const fs::path kSmallBmc = fs::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/small-bmc";
const fs::path kShared = fs::path(RACKWATCH_SOURCE_DIR) / "../shared/testdata/redfish";

test::RedfishServer::Options served(const fs::path& dir) {
  test::RedfishServer::Options o;
  o.dir = dir;
  return o;
}

std::uint64_t counter(const SourceHealth& h, const std::string& name) {
  for (const auto& [n, v] : h.counters) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

std::map<std::string, RawReading> by_name(const Source& s, const std::vector<RawReading>& readings) {
  std::map<std::string, RawReading> out;
  EXPECT_EQ(readings.size(), s.config().points.size());
  for (std::size_t i = 0; i < readings.size() && i < s.config().points.size(); ++i) {
    out[s.config().points[i].name] = readings[i];
  }
  return out;
}

boost::json::value json_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

// stop() run to its end on a coroutine of its own; `done` says it ended.
boost::asio::awaitable<void> stop_into(Source& source, bool& done) {
  co_await source.stop();
  done = true;
}

boost::asio::awaitable<void> poll_into(Source& source, std::optional<std::vector<RawReading>>& out) {
  out = co_await source.poll();
}

class RedfishSourceTest : public ::testing::Test {
 protected:
  std::shared_ptr<RedfishSettings> settings(const test::RedfishServer& server) {
    auto s = std::make_shared<RedfishSettings>();
    s->scheme = server.url().rfind("https", 0) == 0 ? Scheme::https : Scheme::http;
    s->host = "127.0.0.1";
    s->port = server.port();
    s->user = "admin";
    s->password = "secret-pass";
    s->request_timeout = 2s;
    s->health.dormant_after = 2;
    return s;
  }

  std::unique_ptr<RedfishSource> source(std::shared_ptr<RedfishSettings> s) {
    SourceConfig c;
    c.name = "bmc";
    c.type = "redfish";
    c.settings = s;
    return std::make_unique<RedfishSource>(c, std::move(s), io_.get_executor());
  }

  // Runs the test's io_context until `done` holds or 5 s pass.
  template <class Done>
  bool run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    io_.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(20ms);
    return done();
  }

  // Runs the source's stop() on the test's io_context to its end (5 s at most).
  bool stop(Source& src) {
    bool done = false;
    boost::asio::co_spawn(io_, stop_into(src, done), boost::asio::detached);
    return run_until([&] { return done; });
  }

  boost::asio::io_context io_;
  test::TempDir dir_{"rackwatch-redfish"};
};

TEST_F(RedfishSourceTest, SmallBmcIsDiscoveredThenPolledOneRequestAResource) {
  test::RedfishServer server(served(kSmallBmc));
  auto src = source(settings(server));
  auto first = by_name(*src, test::poll(io_, *src));
  ASSERT_EQ(src->config().points.size(), 4u) << src->health().detail;
  EXPECT_EQ(src->points_generation(), 1u);
  EXPECT_DOUBLE_EQ(first.at("InletTemp").value, 24.5);
  EXPECT_TRUE(first.at("InletTemp").ok());
  EXPECT_DOUBLE_EQ(first.at("CPUPower").value, 0.385);  // in kW: the pipeline makes it W
  EXPECT_EQ(src->config().points[1].from.factor, 1000.0);
  EXPECT_EQ(src->config().points[0].unit, Unit::degree_celsius);  // "C"
  EXPECT_THAT(first.at("OutletTemp").error, HasSubstr("is null"));
  EXPECT_THAT(first.at("OutletTemp").error, HasSubstr("UnavailableOffline"));
  EXPECT_DOUBLE_EQ(first.at("PSU1Current").value, 3.25);
  auto h = src->health();
  EXPECT_EQ(h.state, DeviceState::ok);
  EXPECT_EQ(counter(h, "absent_links"), 1u);  // Sensors/Missing
  EXPECT_EQ(counter(h, "logins"), 1u);
  // Discovery (9 GETs) and the first poll's reads (4).
  EXPECT_EQ(src->requests_last_poll(), 13u);

  auto second = by_name(*src, test::poll(io_, *src));
  EXPECT_EQ(src->requests_last_poll(), 4u);
  EXPECT_EQ(server.count("GET /redfish/v1/Chassis/Blade1/Sensors/InletTemp"), 3u);
  EXPECT_EQ(server.count("GET /redfish/v1/"), 1u);
  EXPECT_EQ(src->points_generation(), 1u);
  EXPECT_EQ(server.logins(), 1u);
  EXPECT_EQ(server.connections(), 1u) << "one kept connection";
  EXPECT_DOUBLE_EQ(second.at("PSU1Current").value, 3.25);
}

TEST_F(RedfishSourceTest, AnExpiredSessionIsLoggedInAgainOnceAndDeletedWhenTheSourceGoes) {
  test::RedfishServer server(served(kSmallBmc));
  auto src = source(settings(server));
  test::poll(io_, *src);
  ASSERT_EQ(server.logins(), 1u);
  server.expire_sessions();
  auto after = by_name(*src, test::poll(io_, *src));
  EXPECT_TRUE(after.at("InletTemp").ok()) << after.at("InletTemp").error;
  EXPECT_EQ(server.logins(), 2u);
  EXPECT_EQ(counter(src->health(), "sessions_expired"), 1u);
  EXPECT_TRUE(server.deleted_sessions().empty());

  src.reset();
  EXPECT_TRUE(run_until([&] { return !server.deleted_sessions().empty(); }));
  EXPECT_EQ(server.deleted_sessions(), (std::vector<std::string>{"/redfish/v1/SessionService/Sessions/2"}));
}

TEST_F(RedfishSourceTest, StopEndsTheSessionOnceAndAsksNothingAfter) {
  test::RedfishServer server(served(kSmallBmc));
  auto src = source(settings(server));
  test::poll(io_, *src);
  ASSERT_EQ(server.logins(), 1u);
  ASSERT_TRUE(stop(*src));
  EXPECT_EQ(server.deleted_sessions(), (std::vector<std::string>{"/redfish/v1/SessionService/Sessions/1"}));
  EXPECT_FALSE(src->session().logged_in());
  const auto asked = server.requests().size();
  // A poll after it asks nothing (and logs in to nothing); a second stop does nothing.
  auto after = test::poll(io_, *src);
  ASSERT_EQ(after.size(), src->config().points.size());
  EXPECT_THAT(after.front().error, HasSubstr("source stopped"));
  ASSERT_TRUE(stop(*src));
  // Nor does the destructor: stop() ended the session.
  src.reset();
  io_.restart();
  io_.run_for(200ms);
  EXPECT_EQ(server.requests().size(), asked);
  EXPECT_EQ(server.deleted_sessions().size(), 1u);
  EXPECT_EQ(server.logins(), 1u);
}

// The service answers late (a busy BMC); stop() comes while a poll's GET
// waits for its answer on the kept connection: the DELETE goes on a
// connection of its own, and the GET's late answer starts nothing more.
TEST_F(RedfishSourceTest, StopDuringAPollsRequestDeletesOnAConnectionOfItsOwn) {
  test::RedfishServer server(served(kSmallBmc));
  auto s = settings(server);
  auto src = source(s);
  test::poll(io_, *src);
  ASSERT_EQ(server.connections(), 1u);
  const auto reads = server.count("GET /redfish/v1/Chassis/Blade1/Sensors/InletTemp");
  server.set_delay(500ms);
  std::optional<std::vector<RawReading>> polled;
  boost::asio::co_spawn(io_, poll_into(*src, polled), boost::asio::detached);
  // The poll's first GET is sent and waits (the service records it when it answers).
  io_.restart();
  io_.run_for(100ms);
  ASSERT_FALSE(polled);
  ASSERT_TRUE(stop(*src));
  EXPECT_EQ(server.deleted_sessions(), (std::vector<std::string>{"/redfish/v1/SessionService/Sessions/1"}));
  EXPECT_EQ(server.connections(), 2u) << "the DELETE on a connection of its own";
  ASSERT_TRUE(run_until([&] { return polled.has_value(); }));
  ASSERT_EQ(polled->size(), src->config().points.size());
  EXPECT_THAT(polled->front().error, HasSubstr("source stopped"));
  // The GET under way was answered; nothing was asked after the DELETE, no new login.
  EXPECT_EQ(server.count("GET /redfish/v1/Chassis/Blade1/Sensors/InletTemp"), reads + 1);
  EXPECT_EQ(server.logins(), 1u);
  EXPECT_EQ(server.requests().back(), "DELETE /redfish/v1/SessionService/Sessions/1");
}

// stop() comes while the login's POST waits for its answer: the session
// that login makes is ended too, and no request follows.
TEST_F(RedfishSourceTest, StopDuringTheLoginEndsTheSessionItMakes) {
  test::RedfishServer::Options o = served(kSmallBmc);
  o.delay = 300ms;
  test::RedfishServer server(o);
  auto src = source(settings(server));
  std::optional<std::vector<RawReading>> polled;
  boost::asio::co_spawn(io_, poll_into(*src, polled), boost::asio::detached);
  io_.restart();
  io_.run_for(50ms);
  ASSERT_FALSE(polled);
  ASSERT_TRUE(stop(*src));
  EXPECT_EQ(server.logins(), 1u);
  EXPECT_EQ(server.deleted_sessions(), (std::vector<std::string>{"/redfish/v1/SessionService/Sessions/1"}));
  ASSERT_TRUE(run_until([&] { return polled.has_value(); }));
  EXPECT_EQ(server.requests(), (std::vector<std::string>{"POST /redfish/v1/SessionService/Sessions",
                                                         "DELETE /redfish/v1/SessionService/Sessions/1"}));
}

TEST_F(RedfishSourceTest, AWrongPasswordSaysSoOnceAPollAndGoesDormant) {
  test::RedfishServer server(served(kSmallBmc));
  auto s = settings(server);
  s->password = "wrong";
  auto src = source(s);
  test::poll(io_, *src);
  auto h = src->health();
  EXPECT_THAT(h.detail, HasSubstr("401"));
  EXPECT_THAT(h.detail, HasSubstr("check user and password_file"));
  EXPECT_EQ(h.state, DeviceState::degraded);
  EXPECT_EQ(server.refused_logins(), 1u) << "one login a poll, not a loop";
  test::poll(io_, *src);
  EXPECT_EQ(server.refused_logins(), 2u);
  EXPECT_EQ(src->health().state, DeviceState::dormant);
  // Dormant: the next polls ask nothing until the probe is due.
  test::poll(io_, *src);
  test::poll(io_, *src);
  EXPECT_EQ(server.refused_logins(), 2u);
  EXPECT_EQ(server.requests().size(), 2u);
  src.reset();
  io_.restart();
  io_.run_for(200ms);
  EXPECT_TRUE(server.deleted_sessions().empty()) << "no session to delete";
}

TEST_F(RedfishSourceTest, BasicAuthSendsThePasswordWithEachRequest) {
  test::RedfishServer server(served(kSmallBmc));
  auto s = settings(server);
  s->auth = AuthKind::basic;
  auto src = source(s);
  auto r = by_name(*src, test::poll(io_, *src));
  EXPECT_TRUE(r.at("PSU1Current").ok()) << src->health().detail;
  EXPECT_EQ(server.logins(), 0u);

  s->password = "wrong";
  auto wrong = source(s);
  test::poll(io_, *wrong);
  EXPECT_THAT(wrong->health().detail, HasSubstr("401"));
  EXPECT_THAT(wrong->health().detail, HasSubstr("check user and password_file"));
}

TEST_F(RedfishSourceTest, AKeptConnectionTheServiceClosedIsOpenedAgain) {
  test::RedfishServer server(served(kSmallBmc));
  auto src = source(settings(server));
  test::poll(io_, *src);
  server.close_connections();
  auto r = by_name(*src, test::poll(io_, *src));
  EXPECT_TRUE(r.at("InletTemp").ok()) << r.at("InletTemp").error;
  EXPECT_EQ(counter(src->health(), "reconnects"), 1u);
  EXPECT_EQ(server.connections(), 2u);
  EXPECT_EQ(src->health().state, DeviceState::ok);
}

TEST_F(RedfishSourceTest, NothingListeningIsASilentFailure) {
  std::uint16_t port = 0;
  {
    test::RedfishServer gone(served(kSmallBmc));
    port = gone.port();
  }
  test::RedfishServer server(served(kSmallBmc));
  auto s = settings(server);
  s->port = port;
  auto src = source(s);
  test::poll(io_, *src);
  EXPECT_THAT(src->health().detail, HasSubstr("connecting to"));
  test::poll(io_, *src);
  EXPECT_EQ(src->health().state, DeviceState::dormant);
}

// A self-signed certificate for 127.0.0.1, made with the openssl command.
struct SelfSigned {
  std::string cert;
  std::string key;
};

SelfSigned self_signed(const fs::path& dir) {
  SelfSigned s{(dir / "service.pem").string(), (dir / "service.key").string()};
  const auto r = test::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", s.key, "-out", s.cert, "-days", "2", "-subj", "/CN=bmc",
                            "-addext", "subjectAltName=IP:127.0.0.1"});
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.err);
  return s;
}

TEST_F(RedfishSourceTest, ASelfSignedServiceIsRefusedWithOpenSslsReasonUnlessItsCertificateIsTheCa) {
  const auto pki = self_signed(dir_.path());
  test::RedfishServer server({kSmallBmc, "admin", "secret-pass", false, pki.cert, pki.key});
  auto s = settings(server);
  ASSERT_EQ(s->scheme, Scheme::https);
  auto refused = source(s);
  auto r = test::poll(io_, *refused);
  EXPECT_TRUE(r.empty());
  const auto h = refused->health();
  EXPECT_THAT(h.detail, HasSubstr("certificate verify failed"));
  EXPECT_THAT(h.detail, ::testing::ContainsRegex("self[- ]signed certificate"));
  EXPECT_EQ(counter(h, "tls_failures"), 1u);
  EXPECT_EQ(server.logins(), 0u) << "no password sent to an unverified service";

  auto trusted_settings = settings(server);
  trusted_settings->ca_file = pki.cert;
  auto trusted = source(trusted_settings);
  auto ok = by_name(*trusted, test::poll(io_, *trusted));
  ASSERT_EQ(ok.size(), 4u) << trusted->health().detail;
  EXPECT_DOUBLE_EQ(ok.at("InletTemp").value, 24.5);
}

TEST_F(RedfishSourceTest, PublicPduIsDiscoveredAndItsReadingsAreThoseOfItsJson) {
  const auto mockup = kShared / "public-pdu";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  test::RedfishServer server(served(mockup));
  auto src = source(settings(server));
  auto readings = test::poll(io_, *src);
  const auto discovery_requests = src->requests_last_poll();
  ASSERT_GT(src->config().points.size(), 60u) << src->health().detail;
  auto r = by_name(*src, readings);
  // Each Sensor of the PDU chassis, read from its file here.
  std::size_t checked = 0;
  const auto collection = json_file(mockup / "Chassis/PDU/Sensors/index.json");
  for (const auto& member : collection.as_object().at("Members").as_array()) {
    const std::string uri(member.as_object().at("@odata.id").as_string());
    const auto sensor = json_file(mockup / uri.substr(std::string("/redfish/v1/").size()) / "index.json");
    const std::string id(sensor.as_object().at("Id").as_string());
    ASSERT_TRUE(r.count(id)) << id;
    const auto& reading = sensor.as_object().at("Reading");
    if (reading.is_null()) {
      EXPECT_FALSE(r.at(id).ok()) << id;
    } else {
      EXPECT_TRUE(r.at(id).ok()) << id << ": " << r.at(id).error;
      EXPECT_DOUBLE_EQ(r.at(id).value, reading.to_number<double>()) << id;
    }
    ++checked;
  }
  EXPECT_GT(checked, 60u);
  // Excerpts whose Sensor is absent (DataSourceUri .../Sensors/EnergyA) are points of their own.
  const auto branch = json_file(mockup / "PowerEquipment/RackPDUs/1/Branches/A/index.json");
  ASSERT_TRUE(r.count("branch_A_energy"));
  EXPECT_DOUBLE_EQ(r.at("branch_A_energy").value, branch.at_pointer("/EnergykWh/Reading").to_number<double>());
  // An outlet's excerpts copy Sensors that are points already.
  EXPECT_FALSE(r.count("outlet_A1_power"));
  EXPECT_GT(counter(src->health(), "excerpts_of_sensors"), 0u);

  test::poll(io_, *src);
  const auto steady = src->requests_last_poll();
  EXPECT_EQ(steady, counter(src->health(), "resources_polled"));
  std::cout << "public-pdu: " << src->config().points.size() << " points; discovery and first read "
            << discovery_requests << " requests; steady poll " << steady << " requests\n";
}

TEST_F(RedfishSourceTest, PublicCoolingUnitIsDiscoveredWithItsPumpsAndSensors) {
  const auto mockup = kShared / "public-cooling-unit";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  test::RedfishServer server(served(mockup));
  auto src = source(settings(server));
  auto r = by_name(*src, test::poll(io_, *src));
  ASSERT_FALSE(r.empty()) << src->health().detail;
  const auto flow = json_file(mockup / "Chassis/CDU/Sensors/PrimaryFlow/index.json");
  ASSERT_TRUE(r.count("PrimaryFlow"));
  EXPECT_DOUBLE_EQ(r.at("PrimaryFlow").value, flow.as_object().at("Reading").to_number<double>());
  // Its SecondaryHeatLoad sensor says Id "PrimaryHeatLoad": named by its URI.
  const auto secondary = json_file(mockup / "Chassis/CDU/Sensors/SecondaryHeatLoad/index.json");
  ASSERT_TRUE(r.count("SecondaryHeatLoad"));
  EXPECT_DOUBLE_EQ(r.at("SecondaryHeatLoad").value, secondary.as_object().at("Reading").to_number<double>());
  // A pump's speed has no Sensor: its excerpt is the point.
  const auto pump = json_file(mockup / "ThermalEquipment/CDUs/1/Pumps/1/index.json");
  ASSERT_TRUE(r.count("cdu1_pump1_speed"));
  EXPECT_DOUBLE_EQ(r.at("cdu1_pump1_speed").value, pump.at_pointer("/PumpSpeedPercent/Reading").to_number<double>());
  for (const auto& p : src->config().points) {
    if (p.name == "PrimaryFlow") {
      EXPECT_EQ(p.unit, Unit::litre_per_minute);
    }
  }
}

}  // namespace
}  // namespace rackwatch::redfish
