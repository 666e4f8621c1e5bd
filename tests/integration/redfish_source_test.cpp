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
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "sources/redfish/redfish_source.hpp"
#include "support/read_text.hpp"
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
const fs::path kOldBmc = fs::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/old-bmc";
const fs::path kRackController = fs::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/rack-controller";
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

boost::json::value json_file(const fs::path& file) { return boost::json::parse(test::read_text(file.string())); }

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

  struct Polled {
    std::unique_ptr<test::RedfishServer> server;
    std::unique_ptr<RedfishSource> src;
    std::vector<RawReading> readings;
  };
  // A mockup served as it is, and one poll of a source on it.
  Polled serve_and_poll(const fs::path& mockup) {
    Polled out;
    out.server = std::make_unique<test::RedfishServer>(served(mockup));
    out.src = source(settings(*out.server));
    out.readings = test::poll(io_, *out.src);
    return out;
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

// Every Sensor of public-pdu's chassis and the excerpts without a Sensor,
// against the mockup's files.
void expect_public_pdu(const fs::path& mockup, const std::map<std::string, RawReading>& r) {
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
}

const PointConfig* point_named(const Source& s, const std::string& name) {
  for (const auto& p : s.config().points) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST_F(RedfishSourceTest, AnOlderBmcIsReadFromItsDeprecatedPowerAndThermal) {
  test::RedfishServer server(served(kOldBmc));
  auto src = source(settings(server));
  auto r = by_name(*src, test::poll(io_, *src));
  ASSERT_FALSE(r.empty()) << src->health().detail;
  EXPECT_DOUBLE_EQ(r.at("Node_Input_Power").value, 612);
  EXPECT_DOUBLE_EQ(r.at("P12V").value, 12.1);
  const auto* volts = point_named(*src, "P12V");
  ASSERT_TRUE(volts && volts->thresholds);
  EXPECT_EQ(volts->thresholds->low_critical, 10.8);
  EXPECT_EQ(volts->thresholds->low_caution, 11.4);
  EXPECT_EQ(volts->thresholds->high_caution, 12.6);
  EXPECT_EQ(volts->thresholds->high_critical, 13.2);
  // Supplies share a Name: named by MemberId; the absent one is left out, and said.
  EXPECT_DOUBLE_EQ(r.at("Node1_psu0_input_power").value, 640);
  EXPECT_DOUBLE_EQ(r.at("Node1_psu0_input_voltage").value, 229);
  EXPECT_DOUBLE_EQ(r.at("Node1_psu0_output_power").value, 598);  // LastPowerOutputWatts
  EXPECT_FALSE(r.count("Node1_psu1_input_power"));
  EXPECT_THAT(src->health().notes, ::testing::Contains(HasSubstr("PowerSupplies/1: Absent")));
  // Critical wins over Fatal; a disabled sensor without a reading is left out; null is a failure.
  const auto* inlet = point_named(*src, "Inlet_Temp");
  ASSERT_TRUE(inlet && inlet->thresholds);
  EXPECT_EQ(inlet->thresholds->high_critical, 40.0);
  EXPECT_DOUBLE_EQ(r.at("Inlet_Temp").value, 23);
  EXPECT_FALSE(r.count("GPU2_Temp"));
  ASSERT_TRUE(r.count("Exhaust_Temp"));
  EXPECT_FALSE(r.at("Exhaust_Temp").ok());
  EXPECT_THAT(r.at("Exhaust_Temp").error, HasSubstr("is null"));
  EXPECT_DOUBLE_EQ(r.at("Fan1").value, 8400);
  EXPECT_EQ(point_named(*src, "Fan1")->unit, Unit::rpm);
  EXPECT_EQ(point_named(*src, "Fan1")->thresholds->low_critical, 1000.0);
  EXPECT_DOUBLE_EQ(r.at("Fan2").value, 55);
  EXPECT_EQ(point_named(*src, "Fan2")->unit, Unit::percent);
  // Root, Chassis, Node1, Power, Thermal.
  EXPECT_EQ(counter(src->health(), "discovery_requests"), 5u);
}

TEST_F(RedfishSourceTest, ARackControllerIsReadWithExpandAndItsOwnExcerptsArePoints) {
  test::RedfishServer server(served(kRackController));
  auto src = source(settings(server));
  auto r = by_name(*src, test::poll(io_, *src));
  ASSERT_FALSE(r.empty()) << src->health().detail;
  const auto* inlet = point_named(*src, "InletTemp");
  ASSERT_TRUE(inlet && inlet->thresholds);
  EXPECT_EQ(inlet->thresholds->low_caution, 15.0);
  EXPECT_EQ(inlet->thresholds->high_caution, 32.0);
  EXPECT_EQ(inlet->thresholds->high_critical, 38.0);
  EXPECT_EQ(inlet->thresholds->hysteresis, 1.5);
  EXPECT_EQ(inlet->thresholds->delay, std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(r.at("FeedPower").value, 84.2);  // kW: the pipeline makes it W
  EXPECT_EQ(r.at("Tray_leak").value, 1.0);          // DetectorState Warning
  EXPECT_EQ(*point_named(*src, "Tray_leak")->thresholds->alarm_state, 1.0);
  EXPECT_DOUBLE_EQ(r.at("mains_L_voltage_line1toneutral").value, 231.2);
  EXPECT_DOUBLE_EQ(r.at("mains_L_voltage_line2toneutral").value, 229.8);
  EXPECT_FALSE(r.at("mains_L_voltage_line3toneutral").ok());
  EXPECT_DOUBLE_EQ(r.at("mains_L_current_line2").value, 118.9);
  EXPECT_FALSE(r.count("mains_L_current_line1")) << "a copy of FeedL1Current";
  EXPECT_FALSE(r.count("mains_L_power")) << "a copy of FeedPower";
  EXPECT_DOUBLE_EQ(r.at("outlet_2_power").value, 9800);
  EXPECT_DOUBLE_EQ(r.at("cdu1_heat_removed").value, 78.5);
  EXPECT_EQ(r.at("cdu1_pump1_fault").value, 0.0);
  EXPECT_EQ(r.at("cdu1_pump2_fault").value, 1.0);
  EXPECT_EQ(counter(src->health(), "excerpts_of_sensors"), 2u);
  // Root; Chassis, Sensors, LeakDetectors (expanded); PowerEquipment;
  // RackPDUs, Mains, Outlets (expanded); ThermalEquipment; CDUs
  // (expanded); EnvironmentMetrics; Pumps (expanded).
  EXPECT_EQ(counter(src->health(), "discovery_requests"), 12u);
  EXPECT_EQ(server.count("GET /redfish/v1/Chassis/Rack/Sensors/InletTemp"), 0u);

  const auto before = server.requests().size();
  auto again = by_name(*src, test::poll(io_, *src));
  // Sensors, LeakDetectors, Mains, Outlets, EnvironmentMetrics, Pumps.
  EXPECT_EQ(src->requests_last_poll(), 6u);
  EXPECT_EQ(server.requests().size() - before, 6u);
  // Discovery's, the first poll's, this one's.
  EXPECT_EQ(server.count("GET /redfish/v1/Chassis/Rack/Sensors?$expand=.($levels=1)"), 3u);
  EXPECT_DOUBLE_EQ(again.at("outlet_2_power").value, 9800);
  EXPECT_EQ(again.at("cdu1_pump2_fault").value, 1.0);
}

TEST_F(RedfishSourceTest, ARediscoveryFollowsAnOutletThatAppearedAndChangesNothingOtherwise) {
  const auto mockup = dir_.path() / "rack-controller";
  fs::copy(kRackController, mockup, fs::copy_options::recursive);
  test::RedfishServer server(served(mockup));
  auto s = settings(server);
  s->rediscover = 1ms;  // every poll
  auto src = source(s);
  auto first = by_name(*src, test::poll(io_, *src));
  ASSERT_TRUE(first.count("outlet_2_power")) << src->health().detail;
  EXPECT_EQ(src->points_generation(), 1u);
  std::this_thread::sleep_for(5ms);  // past `rediscover`
  test::poll(io_, *src);
  EXPECT_EQ(src->points_generation(), 1u) << "the same points: no new catalog";
  EXPECT_EQ(counter(src->health(), "discoveries"), 2u);

  // Outlet 3 is switched in.
  const auto outlets = mockup / "PowerEquipment/RackPDUs/A/Outlets";
  fs::create_directories(outlets / "3");
  std::ofstream(outlets / "3/index.json")
      << R"({"@odata.type": "#Outlet.v1_4_0.Outlet", "Id": "3", "Name": "Outlet 3", "PowerWatts": {"Reading": 7100},)"
      << R"("@odata.id": "/redfish/v1/PowerEquipment/RackPDUs/A/Outlets/3"})";
  std::ofstream(outlets / "index.json")
      << R"({"@odata.type": "#OutletCollection.OutletCollection", "Name": "Outlets", "Members": [)"
      << R"({"@odata.id": "/redfish/v1/PowerEquipment/RackPDUs/A/Outlets/1"},)"
      << R"({"@odata.id": "/redfish/v1/PowerEquipment/RackPDUs/A/Outlets/2"},)"
      << R"({"@odata.id": "/redfish/v1/PowerEquipment/RackPDUs/A/Outlets/3"}],)"
      << R"("@odata.id": "/redfish/v1/PowerEquipment/RackPDUs/A/Outlets"})";
  std::this_thread::sleep_for(5ms);
  auto third = by_name(*src, test::poll(io_, *src));
  EXPECT_EQ(src->points_generation(), 2u);
  ASSERT_TRUE(third.count("outlet_3_power"));
  EXPECT_DOUBLE_EQ(third.at("outlet_3_power").value, 7100);
  EXPECT_EQ(counter(src->health(), "discovery_changes"), 1u);
}

// Every point's reading against the mockup's file of its resource, at its
// pointer: the number there, a text of its states as its number, or a
// failure where the file has null.
std::size_t expect_readings_of_files(const fs::path& mockup, const RedfishSource& src,
                                     const std::vector<RawReading>& readings) {
  const auto& found = src.found_points();
  EXPECT_EQ(found.size(), readings.size());
  std::size_t good = 0;
  for (std::size_t i = 0; i < found.size() && i < readings.size(); ++i) {
    const auto& p = found[i];
    const auto file = json_file(mockup / p.resource.substr(std::string("/redfish/v1/").size()) / "index.json");
    boost::system::error_code ec;
    const auto* v = file.find_pointer(p.pointer, ec);
    if (!v || v->is_null()) {
      EXPECT_FALSE(readings[i].ok()) << p.name << " " << p.resource << p.pointer;
      continue;
    }
    EXPECT_TRUE(readings[i].ok()) << p.name << ": " << readings[i].error;
    if (v->is_string()) {
      bool known = false;
      for (const auto& [text, number] : p.states) {
        if (v->get_string() == text) {
          EXPECT_EQ(readings[i].value, number) << p.name;
          known = true;
        }
      }
      EXPECT_TRUE(known) << p.name << ": " << v->get_string();
    } else {
      EXPECT_DOUBLE_EQ(readings[i].value, v->to_number<double>()) << p.name << " " << p.resource << p.pointer;
    }
    ++good;
  }
  return good;
}

TEST_F(RedfishSourceTest, PublicPduIsDiscoveredWithExpandAndItsReadingsAreThoseOfItsJson) {
  const auto mockup = kShared / "public-pdu";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  test::RedfishServer server(served(mockup));
  auto src = source(settings(server));
  auto readings = test::poll(io_, *src);
  const auto discovery = counter(src->health(), "discovery_requests");
  const auto first = src->requests_last_poll();
  ASSERT_GT(src->config().points.size(), 60u) << src->health().detail;
  expect_public_pdu(mockup, by_name(*src, readings));
  EXPECT_GT(expect_readings_of_files(mockup, *src, readings), 100u);
  EXPECT_GT(counter(src->health(), "excerpts_of_sensors"), 0u);
  EXPECT_THAT(src->health().notes, ::testing::Contains(HasSubstr("$expand=.($levels=1)")));
  // Root, Chassis, each chassis's Sensors, PowerEquipment, RackPDUs and
  // each PDU's circuit collections, ThermalEquipment: each once, members
  // and all.
  EXPECT_LE(discovery, 25u);

  const auto requests_before = server.requests().size();
  auto again = by_name(*src, test::poll(io_, *src));
  const auto steady = src->requests_last_poll();
  EXPECT_EQ(steady, counter(src->health(), "resources_polled"));
  EXPECT_EQ(server.requests().size() - requests_before, steady);
  EXPECT_LE(steady, 10u);
  expect_public_pdu(mockup, again);
  std::cout << "public-pdu with $expand: " << src->config().points.size() << " points; discovery " << discovery
            << " requests, first poll " << first << " (discovery included), steady poll " << steady << "\n";
}

TEST_F(RedfishSourceTest, PublicPduWithoutExpandIsReadMemberByMemberToTheSameValues) {
  const auto mockup = kShared / "public-pdu";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  test::RedfishServer server(served(mockup));
  auto s = settings(server);
  s->expand = false;
  auto src = source(s);
  auto readings = test::poll(io_, *src);
  const auto discovery = counter(src->health(), "discovery_requests");
  ASSERT_GT(src->config().points.size(), 60u) << src->health().detail;
  expect_public_pdu(mockup, by_name(*src, readings));
  EXPECT_THAT(src->health().notes, ::testing::Contains(HasSubstr("no $expand")));
  for (const auto& r : server.requests()) EXPECT_THAT(r, ::testing::Not(HasSubstr("$expand"))) << r;
  test::poll(io_, *src);
  const auto steady = src->requests_last_poll();
  EXPECT_EQ(steady, counter(src->health(), "resources_polled"));
  std::cout << "public-pdu without $expand: " << src->config().points.size() << " points; discovery " << discovery
            << " requests, steady poll " << steady << "\n";
}

TEST_F(RedfishSourceTest, AnExpandedCollectionTooLargeForMaxBodyIsReadMemberByMember) {
  const auto mockup = kShared / "public-pdu";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  test::RedfishServer server(served(mockup));
  auto s = settings(server);
  s->max_body = 16 << 10;  // every resource fits; the expanded Sensors collection does not
  auto src = source(s);
  auto readings = test::poll(io_, *src);
  ASSERT_GT(src->config().points.size(), 60u) << src->health().detail;
  expect_public_pdu(mockup, by_name(*src, readings));
  EXPECT_THAT(src->health().notes,
              ::testing::Contains(AllOf(HasSubstr("service quirk: /redfish/v1/Chassis/PDU/Sensors?$expand"),
                                        HasSubstr("read member by member"))));
  EXPECT_EQ(src->health().state, DeviceState::ok);
}

TEST_F(RedfishSourceTest, AServiceThatIgnoresExpandIsReadMemberByMember) {
  const auto mockup = kShared / "public-pdu";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  auto options = served(mockup);
  options.expand = false;  // it says it can, and answers with links only
  test::RedfishServer server(options);
  auto src = source(settings(server));
  auto readings = test::poll(io_, *src);
  ASSERT_GT(src->config().points.size(), 60u) << src->health().detail;
  expect_public_pdu(mockup, by_name(*src, readings));
  test::poll(io_, *src);
  EXPECT_GT(src->requests_last_poll(), 60u);
  for (const auto& r : server.requests()) {
    if (r.find("/Sensors/") != std::string::npos) {
      EXPECT_THAT(r, ::testing::Not(HasSubstr("$expand"))) << r;
    }
  }
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

TEST_F(RedfishSourceTest, PublicCoolingUnitsLeakDetectorsAndFailedPumpAreAlarmPoints) {
  const auto mockup = kShared / "public-cooling-unit";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  auto [server, src, readings] = serve_and_poll(mockup);
  ASSERT_FALSE(readings.empty()) << src->health().detail;
  EXPECT_EQ(expect_readings_of_files(mockup, *src, readings), readings.size());
  auto r = by_name(*src, readings);
  // The chassis's LeakDetectors; the CDU's LeakDetection groups copy them.
  for (const auto& [name, file] : {std::pair{"Moisture_leak", "Moisture"}, std::pair{"Overflow_leak", "Overflow"}}) {
    const auto detector = json_file(mockup / "Chassis/CDU/LeakDetectors" / file / "index.json");
    ASSERT_TRUE(r.count(name)) << name;
    EXPECT_EQ(r.at(name).value, detector.at("DetectorState").as_string() == "OK" ? 0.0 : 1.0) << name;
    const auto* p = point_named(*src, name);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->quantity, "leak");
    ASSERT_TRUE(p->thresholds && p->thresholds->alarm_state);
    EXPECT_EQ(*p->thresholds->alarm_state, 1.0);
  }
  // Pump 2 failed (its Status.Health says Critical): a fault that is 1.
  const auto pump2 = json_file(mockup / "ThermalEquipment/CDUs/1/Pumps/2/index.json");
  ASSERT_TRUE(r.count("cdu1_pump2_fault"));
  EXPECT_EQ(r.at("cdu1_pump2_fault").value, pump2.at_pointer("/Status/Health").as_string() == "OK" ? 0.0 : 1.0);
  EXPECT_EQ(r.at("cdu1_pump1_fault").value, 0.0);
}

TEST_F(RedfishSourceTest, PublicPowerShelfIsDiscoveredWithItsSensorsAndShelfMetrics) {
  const auto mockup = kShared / "public-power-shelf";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  auto [server, src, readings] = serve_and_poll(mockup);
  ASSERT_GT(readings.size(), 30u) << src->health().detail;
  EXPECT_EQ(expect_readings_of_files(mockup, *src, readings), readings.size());
  auto r = by_name(*src, readings);
  // Every Sensor of the shelf's chassis is a point of its own.
  const auto collection = json_file(mockup / "Chassis/PowerShelf/Sensors/index.json");
  for (const auto& member : collection.as_object().at("Members").as_array()) {
    const std::string uri(member.as_object().at("@odata.id").as_string());
    EXPECT_TRUE(r.count(uri.substr(uri.find_last_of('/') + 1))) << uri;
  }
  // Its chassis links the Sensors as "PowerSubsystem" (and has no Sensors
  // link): read as Sensors, and said.
  EXPECT_THAT(src->health().notes, ::testing::Contains(HasSubstr("PowerSubsystem links to a SensorCollection")));
  // The shelf's mains and branches copy those Sensors: not points again.
  EXPECT_FALSE(r.count("mains_AC1_voltage"));
  EXPECT_GT(counter(src->health(), "excerpts_of_sensors"), 10u);
  // The shelf's Metrics name Sensors the service does not have (PDUPower): points of their own.
  EXPECT_TRUE(r.count("shelf1_power"));
  std::cout << "public-power-shelf: " << readings.size() << " points, " << src->requests_last_poll()
            << " requests for discovery and first read\n";
}

TEST_F(RedfishSourceTest, PublicRackmount1SensorsCarryTheirThresholdsAndBatteryCellsArePoints) {
  const auto mockup = kShared / "public-rackmount1";
  if (!fs::exists(mockup / "index.json")) GTEST_SKIP() << "no DMTF mockups at " << kShared << " (../shared is absent)";
  auto [server, src, readings] = serve_and_poll(mockup);
  ASSERT_GT(readings.size(), 30u) << src->health().detail;
  EXPECT_EQ(expect_readings_of_files(mockup, *src, readings), readings.size());
  auto r = by_name(*src, readings);
  // CPU1Temp: UpperCaution 42 (dwell PT5M, hysteresis -2), UpperCritical
  // 45 (PT1M), UpperFatal 50; the *User copies are not the service's own.
  const auto* cpu = point_named(*src, "CPU1Temp");
  ASSERT_NE(cpu, nullptr);
  ASSERT_TRUE(cpu->thresholds);
  EXPECT_EQ(cpu->thresholds->high_caution, 42.0);
  EXPECT_EQ(cpu->thresholds->high_critical, 45.0);
  EXPECT_FALSE(cpu->thresholds->low_caution);
  EXPECT_EQ(cpu->thresholds->hysteresis, 2.0);
  EXPECT_EQ(cpu->thresholds->delay, std::chrono::minutes(1));
  // The cells of its battery have no Sensor: their excerpts are points.
  const auto metrics = json_file(mockup / "Chassis/1U/PowerSubsystem/Batteries/Module1/Metrics/index.json");
  ASSERT_TRUE(r.count("1U_batteryModule1_cell1_voltage"));
  EXPECT_DOUBLE_EQ(r.at("1U_batteryModule1_cell1_voltage").value,
                   metrics.at_pointer("/CellVoltages/0/Reading").to_number<double>());
  // Its deprecated Power and Thermal are not read: it has Sensors.
  for (const auto& p : src->found_points()) {
    EXPECT_THAT(p.resource, ::testing::Not(::testing::EndsWith("/Thermal"))) << p.name;
    EXPECT_THAT(p.resource, ::testing::Not(::testing::EndsWith("/Power"))) << p.name;
  }
}

}  // namespace
}  // namespace rackwatch::redfish
