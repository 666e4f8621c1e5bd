// A process holding a secret is non-dumpable: no core dump, and no other
// process of its user, can read its memory. The kernel shows it by handing
// the process's /proc files to root. Run as nobody (when the tests run as
// root), as the service would run as its own user.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/net.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(dir_.path().c_str(), 0755);
    ::chmod((dir_ / "pki").c_str(), 0755);
    leaf_ = pki_.issue("agent", "hall-s.r01", "", 30, false);
    // The key is the service user's, and only its.
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(leaf_.key.c_str(), kNobody, kNobody), 0);
    }
  }

  // The uid that owns the running agent's /proc/PID/status.
  uid_t proc_owner(const std::string& tls) {
    // A directory of its own for each run: its log, outbox and socket.
    const auto run_dir = dir_ / ("run" + std::to_string(++runs_));
    std::filesystem::create_directories(run_dir);
    ::chmod(run_dir.c_str(), 0777);
    const auto file = run_dir / "agent.yaml";
    write_file(file, "agent: {site: hall-s, rack: r01}\nmqtt:\n  brokers: [ssl://127.0.0.1:" +
                         std::to_string(free_port()) + "]\n" + tls + "outbox: {dir: " + (run_dir / "outbox").string() +
                         "}\ndiag: {socket: " + (run_dir / "diag.sock").string() +
                         "}\nsources: [{name: s, type: sim, interval: 1s, points: [{name: p, signal: leak}]}]\n");
    ::chmod(file.c_str(), 0644);
    std::vector<std::string> argv{bin("rackwatchd"), "--config", file.string()};
    if (::geteuid() == 0) argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
    Process agent(argv, run_dir);
    if (!wait_until([&] { return agent.log().find("first poll of every source done") != std::string::npos; }, 10s)) {
      ADD_FAILURE() << agent.log();
      return static_cast<uid_t>(-1);
    }
    struct stat st {};
    const auto status = "/proc/" + std::to_string(agent.pid()) + "/status";
    EXPECT_EQ(::stat(status.c_str(), &st), 0) << status;
    // A process that has exited has no memory, and root's /proc files.
    EXPECT_TRUE(agent.running()) << agent.log();
    return st.st_uid;
  }

  TempDir dir_{"rackwatch-secrets"};
  Pki pki_{dir_ / "pki"};
  Pki::Leaf leaf_;
  int runs_ = 0;
};

TEST_F(SecretsTest, AProcessHoldingATlsKeyIsNotDumpable) {
  const uid_t user = ::geteuid() == 0 ? kNobody : ::geteuid();
  // No secret: an ordinary process, its /proc files its user's.
  EXPECT_EQ(proc_owner("  tls: {ca_file: " + pki_.ca() + "}\n"), user);
  // A private key without a passphrase is a secret all the same.
  EXPECT_EQ(proc_owner("  tls: {ca_file: " + pki_.ca() + ", cert_file: " + leaf_.cert + ", key_file: " + leaf_.key +
                       "}\n"),
            0u)
      << "non-dumpable: the kernel gives its /proc files to root";
}

}  // namespace
}  // namespace rackwatch::test
