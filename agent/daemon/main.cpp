// rackwatchd: polls the rack's power and cooling devices and publishes the
// readings over MQTT. See README.md.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <malloc.h>

#include <cerrno>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/secrets.hpp"
#include "core/supervise.hpp"
#include "daemon/agent.hpp"
#include "daemon/systemd_notify.hpp"
#include "publish/host_checks.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace asio = boost::asio;
using namespace rackwatch;

namespace {

constexpr const char* kDefaultConfig = "/etc/rackwatch/rackwatchd.yaml";
constexpr std::chrono::milliseconds kShutdownDrain{3'000};

void usage(std::ostream& out) {
  out << "usage: rackwatchd [--config FILE] [--verbose]\n"
         "\n"
         "Polls the rack's power and cooling devices and publishes the readings\n"
         "over MQTT. Logs go to stderr.\n"
         "\n"
         "  -c, --config FILE   configuration (default " << kDefaultConfig << ")\n"
         "  -v, --verbose       log debug messages too\n"
         "      --version       print the version and exit\n"
         "  -h, --help          print this help and exit\n";
}

// Pings only while every source runner keeps starting its ticks: a loop that
// is alive but stuck gets no ping, and systemd restarts the service.
void schedule_watchdog(asio::steady_timer& timer, std::chrono::microseconds every, const Agent& agent) {
  timer.expires_after(every);
  timer.async_wait([&timer, every, &agent](const boost::system::error_code& ec) {
    if (ec) return;
    const auto slack = std::chrono::duration_cast<std::chrono::milliseconds>(every);
    if (auto stall = first_stall(agent.progress(), Moment::now(), slack)) {
      log::warning("watchdog: source ", stall->source, " is stuck: ", stall->why,
                   "; not pinging systemd, which restarts the service when the watchdog expires");
    } else {
      notify_watchdog();
    }
    schedule_watchdog(timer, every, agent);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--config" || arg == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg == "--verbose" || arg == "-v") {
      log::set_level(log::Level::debug);
    } else if (arg == "--version") {
      std::cout << "rackwatchd " << RACKWATCH_VERSION << '\n';
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "rackwatchd: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 2;
    }
  }

  Diagnostics diags;
  auto config = load_config(config_path, builtin_source_types(), diags);
  // The same checks as `rackwatch check-config`: never start on a config it rejects.
  if (config && !check_host(*config, diags)) config.reset();
  if (!config) {
    diags.print(std::cerr);
    log::error("configuration ", config_path, " is invalid (", diags.size(),
               " problem", diags.size() == 1 ? "" : "s", "); not starting");
    return 1;
  }

  // The broker password, the TLS key and its passphrase, and SNMP
  // communities and keys live in this process's memory: no core dump, and no other process of this user, may
  // read them. A reload that adds one does the same (agent_reload.cpp).
  keep_secrets_out_of_dumps(*config);
  for (const auto& advice : source_advice(*config, builtin_source_types())) log::warning(advice);

  // Paho and closed sockets must not kill us with SIGPIPE, nor a file-size
  // limit with SIGXFSZ: both come back as errors that are handled.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);

  asio::io_context io(1);
  asio::thread_pool blocking(2);
  Agent agent(io.get_executor(), blocking.get_executor(), builtin_source_types(), std::move(*config));
  std::string brokers;  // as connected to: ports made explicit
  for (const auto& b : agent.config().mqtt.brokers) brokers += (brokers.empty() ? "" : " ") + b;
  log::info("rackwatchd ", RACKWATCH_VERSION, " starting: site ", agent.config().agent.site,
            ", rack ", agent.config().agent.rack, ", agent ", agent.config().agent.id, ", config ",
            config_path, ", broker", agent.config().mqtt.brokers.size() == 1 ? " " : "s ", brokers);

  asio::steady_timer watchdog(io);
  if (auto every = watchdog_ping_interval()) schedule_watchdog(watchdog, *every, agent);

  agent.on_ready([] { notify_ready(); });

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          if (!stopping) {
            log::info("SIGHUP: reloading ", agent.config().file);
            asio::co_spawn(io, agent.reload(), [](std::exception_ptr e, const v1::ReloadResult&) {
              if (e) log::error("reload failed: ", exception_text(e), "; the running config stays");
            });
          }
          signals.async_wait(on_signal);
          return;
        }
        if (stopping) {
          // Leave without a DISCONNECT so that the broker publishes the will
          // (offline): a clean teardown here would leave "online" retained.
          log::warning("second ", strsignal(sig), ": exiting now, queued readings are lost");
          std::_Exit(1);
        }
        stopping = true;
        log::info(strsignal(sig), ": shutting down");
        notify_stopping();
        agent.stop(kShutdownDrain, [&] {
          watchdog.cancel();
          signals.cancel();
          io.stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  try {
    agent.start();
  } catch (const std::exception& e) {
    log::error("cannot start: ", e.what());
    return 1;
  }
  // The config's YAML tree is gone by now, but glibc keeps the pages it
  // freed; at 10,000 points that is some 35 MB of a rack controller's memory.
  malloc_trim(0);
  io.run();
  blocking.stop();  // abandon queued blocking work; a read in progress still finishes
  blocking.join();
  log::info("rackwatchd stopped");
  return 0;
}
