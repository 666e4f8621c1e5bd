// The `type: redfish` keys: the URL, the login (the password only from a
// private file), TLS trust and limits; each mistake at its line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/secrets.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/redfish/redfish_settings.hpp"
#include "sources/registry.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::redfish {
namespace {

using ::testing::HasSubstr;

class RedfishConfigTest : public ::testing::Test {
 protected:
  std::string secret(const std::string& value, mode_t mode = 0600) {
    const auto path = dir_ / "password";
    std::ofstream(path) << value << "\n";
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  std::optional<Config> parse(const std::string& source) {
    return parse_config("agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n"
                        "  - name: bmc\n    type: redfish\n    interval: 10s\n" + source,
                        "/etc/rackwatch/test.yaml", builtin_source_types(), diags_);
  }
  std::string lines() const {
    std::string out;
    for (const auto& i : diags_.items()) out += format_mark(i.mark) + ": " + i.message + "\n";
    return out;
  }
  static const RedfishSettings& settings_of(const SourceConfig& s) {
    return dynamic_cast<const RedfishSettings&>(*s.settings);
  }

  test::TempDir dir_{"rackwatch-redfish-config"};
  Diagnostics diags_;
};

TEST_F(RedfishConfigTest, HttpsWithASessionByDefault) {
  const auto cfg = parse("    url: https://10.0.0.61/\n    user: ops\n    password_file: " + secret("pw-1") + "\n");
  ASSERT_TRUE(cfg) << lines();
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.scheme, Scheme::https);
  EXPECT_EQ(s.host, "10.0.0.61");
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(s.auth, AuthKind::session);
  EXPECT_EQ(s.user, "ops");
  EXPECT_EQ(s.password, "pw-1");
  EXPECT_TRUE(s.tls_verify);
  EXPECT_TRUE(s.ca_file.empty());
  EXPECT_EQ(s.request_timeout, std::chrono::milliseconds{5000});
  EXPECT_EQ(s.endpoint(), "https://10.0.0.61:443");
  EXPECT_TRUE(cfg->sources.at(0).points.empty());
  EXPECT_TRUE(holds_secrets(*cfg));
}

TEST_F(RedfishConfigTest, HttpBasicAndLimits) {
  const auto cfg = parse("    url: http://[fd00::5]:8000\n    auth: basic\n    user: ops\n    password_file: " +
                         secret("pw") + "\n    request_timeout: 2s\n    max_body: 65536\n    dormant_after: 5\n");
  ASSERT_TRUE(cfg) << lines();
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.scheme, Scheme::http);
  EXPECT_EQ(s.host, "fd00::5");
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.auth, AuthKind::basic);
  EXPECT_EQ(s.request_timeout, std::chrono::milliseconds{2000});
  EXPECT_EQ(s.max_body, 65536u);
  EXPECT_EQ(s.health.dormant_after, 5u);
}

TEST_F(RedfishConfigTest, ExpandAndRediscoveryCanBeTurnedOff) {
  auto cfg = parse("    url: https://x\n    auth: none\n");
  ASSERT_TRUE(cfg) << lines();
  EXPECT_TRUE(settings_of(cfg->sources.at(0)).expand);
  EXPECT_EQ(settings_of(cfg->sources.at(0)).rediscover, std::chrono::hours(1));
  cfg = parse("    url: https://x\n    auth: none\n    expand: false\n    rediscover: 0s\n");
  ASSERT_TRUE(cfg) << lines();
  EXPECT_FALSE(settings_of(cfg->sources.at(0)).expand);
  EXPECT_EQ(settings_of(cfg->sources.at(0)).rediscover.count(), 0);
  cfg = parse("    url: https://x\n    auth: none\n    rediscover: 15m\n");
  ASSERT_TRUE(cfg) << lines();
  EXPECT_EQ(settings_of(cfg->sources.at(0)).rediscover, std::chrono::minutes(15));
}

TEST_F(RedfishConfigTest, MistakesAreSaidAtTheirLine) {
  struct Case {
    std::string source;
    std::string said;
  };
  const std::vector<Case> cases = {
      {"    url: ftp://x\n    auth: none\n", "test.yaml:7:10: 'url' must start with https:// or http://"},
      {"    url: https://x/redfish/v1\n    auth: none\n", "test.yaml:7:10: 'url' must be SCHEME://HOST[:PORT]"},
      {"    url: https://x\n    auth: digest\n", "test.yaml:8:11: 'auth' must be session, basic or none"},
      {"    url: https://x\n    user: u\n    password_file: " + secret("pw", 0644) + "\n",
       "readable by other users"},
      {"    url: https://x\n    user: u\n", "password_file"},
      {"    url: http://x\n    auth: none\n    ca_file: /etc/ssl/ca.pem\n", "'ca_file' is for https:// URLs"},
      {"    url: https://x\n    auth: none\n    max_body: 10\n", "'max_body' must be"},
      {"    url: https://x\n    auth: none\n    request_timeout: 9s\n", "at most the source's timeout"},
      {"    url: https://x\n    auth: none\n    rediscover: 10s\n", "test.yaml:9:17: 'rediscover' must be 0 (never) or at least 1m"},
      {"    url: https://x\n    auth: none\n    expand: sometimes\n", "test.yaml:9:13: 'expand'"},
      {"    url: https://x\n    auth: none\n    points: [{name: p, quantity: power}]\n",
       "finds its points on the service"},
  };
  for (const auto& c : cases) {
    diags_ = {};
    EXPECT_FALSE(parse(c.source)) << c.source;
    EXPECT_THAT(lines(), HasSubstr(c.said)) << c.source;
  }
}

}  // namespace
}  // namespace rackwatch::redfish
