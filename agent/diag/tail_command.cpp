// `rackwatch tail`: subscribes to an agent's topics on a broker and prints
// every message decoded into named values with units.
#include <google/protobuf/stubs/logging.h>
#include <mqtt/async_client.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <iostream>

#include "core/config_reader.hpp"
#include "diag/commands.hpp"
#include "diag/wire_decoder.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kUsage =
    "usage: rackwatch tail --broker URI [--prefix P] [--topic FILTER] [--count N]\n"
    "                      [--timeout DURATION] [--json]\n"
    "\n"
    "Subscribes to {prefix}/# (or FILTER) and prints each status, catalog,\n"
    "telemetry and alarm message decoded, until Ctrl-C.\n"
    "\n"
    "  --broker URI        tcp://host:port; several may be given, tried in turn\n"
    "  --prefix P          topic prefix (default rackwatch/v1)\n"
    "  --topic FILTER      subscribe to FILTER instead of {prefix}/#\n"
    "  --username U, --password P   broker credentials\n"
    "  --count N           exit after N messages\n"
    "  --timeout DURATION  exit 1 if nothing (or fewer than N) arrived by then\n"
    "  --json              one JSON object a line\n";

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

}  // namespace

int tail(const Args& args) {
  std::vector<std::string> brokers;
  std::string prefix = "rackwatch/v1";
  std::string filter;
  std::string username;
  std::string password;
  long long count = -1;
  std::optional<std::chrono::milliseconds> timeout;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--broker" && has_value) brokers.push_back(args[++i]);
    else if (a == "--prefix" && has_value) prefix = args[++i];
    else if (a == "--topic" && has_value) filter = args[++i];
    else if (a == "--username" && has_value) username = args[++i];
    else if (a == "--password" && has_value) password = args[++i];
    else if (a == "--count" && has_value) {
      try {
        count = std::stoll(args[++i]);
      } catch (const std::exception&) {
        count = 0;
      }
      if (count <= 0) {
        std::cerr << "rackwatch tail: --count needs a positive number\n";
        return 2;
      }
    } else if (a == "--timeout" && has_value) {
      timeout = parse_duration(args[++i]);
      if (!timeout) {
        std::cerr << "rackwatch tail: --timeout needs a duration such as 10s\n";
        return 2;
      }
    } else if (a == "--json") json = true;
    else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "rackwatch tail: unexpected argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (brokers.empty()) {
    std::cerr << "rackwatch tail: --broker URI is required\n" << kUsage;
    return 2;
  }
  if (filter.empty()) filter = prefix + "/#";

  // A payload that does not decode is reported in its line; protobuf's own
  // log would let any publisher flood the terminal.
  google::protobuf::SetLogHandler(nullptr);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  const auto client_id = "rackwatch-tail-" + std::to_string(getpid());
  mqtt::async_client client(brokers.front(), client_id, mqtt::create_options(MQTTVERSION_3_1_1));
  auto opts = mqtt::connect_options_builder()
                  .mqtt_version(MQTTVERSION_3_1_1)
                  .clean_session(true)
                  .keep_alive_interval(std::chrono::seconds(30))
                  .connect_timeout(std::chrono::seconds(10))
                  .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(10))
                  .finalize();
  if (brokers.size() > 1) opts.set_servers(mqtt::string_collection::create(brokers));
  if (!username.empty()) opts.set_user_name(username);
  if (!password.empty()) opts.set_password(password);

  // Resubscribe on every (re)connect: a clean session forgets subscriptions.
  client.set_connected_handler([&client, filter](const std::string&) {
    client.subscribe(filter, 1);
  });
  client.start_consuming();
  try {
    client.connect(opts)->wait();
  } catch (const mqtt::exception& e) {
    std::cerr << "rackwatch tail: cannot connect to " << brokers.front() << ": " << e.what()
              << '\n';
    return 2;
  }
  if (!json) std::cerr << "rackwatch tail: subscribed to " << filter << " on " << brokers.front()
                       << "; Ctrl-C to stop\n";

  WireDecoder decoder(prefix);
  long long seen = 0;
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                : std::chrono::steady_clock::time_point::max();
  int rc = 0;
  while (!g_stop && (count < 0 || seen < count)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "rackwatch tail: timeout: " << seen << " message" << (seen == 1 ? "" : "s")
                << " received\n";
      rc = 1;
      break;
    }
    mqtt::const_message_ptr msg;
    if (!client.try_consume_message_for(&msg, std::chrono::milliseconds(200))) continue;
    if (!msg) continue;  // connection lost; the client reconnects by itself
    auto decoded = decoder.decode(msg->get_topic(), msg->get_payload_str());
    if (msg->is_retained()) decoded["retained"] = true;
    if (json) std::cout << boost::json::serialize(decoded) << std::endl;
    else std::cout << decoder.to_text(decoded) << std::flush;
    ++seen;
  }
  try {
    client.stop_consuming();
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const mqtt::exception&) {
    // Leaving anyway.
  }
  return rc;
}

}  // namespace rackwatch::cli
