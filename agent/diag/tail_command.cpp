// `rackwatch tail`: subscribes to an agent's topics on a broker and prints
// every message decoded into named values with units.
#include <google/protobuf/stubs/logging.h>
#include <mqtt/async_client.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <iostream>

#include "core/mqtt_config.hpp"
#include "core/plural.hpp"
#include "core/printable.hpp"
#include "core/secrets.hpp"
#include "diag/commands.hpp"
#include "diag/sparkplug_decoder.hpp"
#include "diag/tail_options.hpp"
#include "diag/wire_decoder.hpp"
#include "publish/connect_failure.hpp"
#include "publish/paho_tls.hpp"
#include "sources/registry.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kUsage =
    "usage: rackwatch tail --config FILE | --broker URI [OPTIONS]\n"
    "\n"
    "Subscribes to an agent's topics and prints each status, catalog, telemetry,\n"
    "snapshot and alarm message decoded, with gaps and duplicates in telemetry\n"
    "sequences, or each Sparkplug B birth, data, death, command and host state,\n"
    "until Ctrl-C.\n"
    "\n"
    "  --config FILE       the agent's config: its broker(s), prefix, site and rack,\n"
    "                      TLS files, user name and password file; the options\n"
    "                      below override it\n"
    "  --broker URI        tcp://host:port or ssl://host:port; several are tried in turn\n"
    "  --prefix P          topic prefix (default rackwatch/v1)\n"
    "  --topic FILTER      subscribe to FILTER instead of {prefix}/# ({prefix}/{site}/{rack}/#\n"
    "                      with --config)\n"
    "  --sparkplug [GROUP] Sparkplug B: subscribe to spBv1.0/GROUP/# and spBv1.0/STATE/#;\n"
    "                      GROUP default + (all groups), with --config the config's group;\n"
    "                      the default for a config with mqtt.format: sparkplug\n"
    "  --username U        broker user name\n"
    "  --password-file F   the broker password, on the first line of F (mode 0600 or 0640)\n"
    "  --password P        the same on the command line, where other users can see it\n"
    "  --ca-file F         CA certificate(s) the broker's certificate must chain to\n"
    "                      (default the system's)\n"
    "  --cert-file F, --key-file F   client certificate and key, for brokers that ask\n"
    "  --key-password-file F         the key's passphrase, on the first line of F\n"
    "  --count N           exit after N messages\n"
    "  --timeout DURATION  exit 1 if nothing (or fewer than N) arrived by then\n"
    "  --json              one JSON object a line\n"
    "  --hold DURATION     how long telemetry and snapshots wait for their catalog\n"
    "                      before they are shown unnamed (default 2s; 0: not at all)\n"
    "  --catalog-cache DIR keep catalogs in DIR, so that a restarted tail names\n"
    "                      telemetry at once\n"
    "\n"
    "Exit 0; 1 on --timeout; 2 on a usage error or when the broker cannot be reached.\n";

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// Why the connect failed, in words an operator can act on: the agent's own
// explanation, then which of this command's options set what it names.
std::string why_not_connected(const mqtt::exception& e, const TailOptions& o) {
  const int rc = e.get_return_code();
  const int reason = static_cast<int>(e.get_reason_code());
  boost::asio::io_context io;
  auto why = boost::asio::co_spawn(
      io, explain_connect_failure(o.brokers.front(), rc, reason, o.tls,
                                  o.connect_timeout, e.what()),
      boost::asio::use_future);
  io.run();
  std::string text;
  try {
    text = why.get();
  } catch (const std::exception&) {
    return e.what();  // the check itself failed: Paho's words are all there is
  }
  if (refused_credentials(rc, reason)) {
    return text + "; for this command, give the user name and password with --username and --password-file, "
                  "or take the agent's with --config";
  }
  if (o.tls && is_tls_uri(o.brokers.front()) && text.find("certificate") != std::string::npos) {
    return text + "; for this command, set them with --ca-file, --cert-file and --key-file, or take the "
                  "agent's with --config";
  }
  return text;
}

}  // namespace

int tail(const Args& args, const SourceTypes& types) {
  std::string error;
  const auto parsed = parse_tail_options(args, types, error);
  if (!parsed) {
    // A config's problems come as FILE:LINE:COL lines with their own summary.
    if (error.find('\n') != std::string::npos) std::cerr << error;
    else std::cerr << "rackwatch tail: " << error << "\n\n" << kUsage;
    return 2;
  }
  const auto& o = *parsed;
  if (o.help) {
    std::cout << kUsage;
    return 0;
  }
  // A password or a TLS key in memory: as the agent, out of dumps and /proc.
  MqttConfig secrets;
  secrets.password = o.password;
  secrets.tls = o.tls;
  keep_secrets_out_of_dumps(secrets);
  const auto& brokers = o.brokers;
  std::string filters;  // as the subscribed line shows them
  for (const auto& f : o.filters) filters += (filters.empty() ? "" : " and ") + f;
  const auto count = o.count;
  const auto json = o.json;

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
                  .connect_timeout(std::max(std::chrono::seconds(1),
                                            std::chrono::duration_cast<std::chrono::seconds>(o.connect_timeout)))
                  .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(10))
                  .finalize();
  if (brokers.size() > 1) opts.set_servers(mqtt::string_collection::create(brokers));
  if (!o.username.empty()) opts.set_user_name(o.username);
  if (!o.password.empty()) opts.set_password(o.password);
  if (o.tls) opts.set_ssl(paho_ssl_options(*o.tls));

  // Resubscribe on every (re)connect: a clean session forgets subscriptions.
  client.set_connected_handler([&client, wanted = o.filters](const std::string&) {
    for (const auto& f : wanted) client.subscribe(f, 1);
  });
  client.start_consuming();
  try {
    client.connect(opts)->wait();
  } catch (const mqtt::exception& e) {
    std::cerr << "rackwatch tail: cannot connect to " << brokers.front() << ": " << why_not_connected(e, o)
              << '\n';
    return 2;
  }
  if (!json) std::cerr << "rackwatch tail: subscribed to " << filters << " on " << brokers.front()
                       << "; Ctrl-C to stop\n";

  // Each message by its namespace: a --topic may bring both.
  WireDecoder native(o.prefix, WireDecoderOptions{o.hold, 1000, 64, o.catalog_cache});
  SparkplugDecoder sparkplug;
  long long seen = 0;
  auto warn = [&] {
    for (const auto& w : native.take_warnings()) std::cerr << "rackwatch tail: " << w << '\n';
  };
  warn();
  // Messages count toward --count; gap and duplicate reports come with them.
  auto print_native = [&](std::vector<boost::json::object> batch) {
    for (const auto& d : batch) {
      const auto* type = d.if_contains("type");
      const bool report = type && type->is_string() && (type->as_string() == "gap" || type->as_string() == "duplicate");
      // A report still goes out with the last message counted.
      if (!report && count >= 0 && seen >= count) break;
      if (json) std::cout << boost::json::serialize(d) << std::endl;
      // Any client may publish under the prefix: nothing it sends reaches the terminal raw.
      else std::cout << printable(native.to_text(d), true) << std::flush;
      if (!report) ++seen;
    }
    warn();
  };
  const auto deadline = o.timeout ? std::chrono::steady_clock::now() + *o.timeout
                                : std::chrono::steady_clock::time_point::max();
  int rc = 0;
  while (!g_stop && (count < 0 || seen < count)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "rackwatch tail: timeout: " << plural(static_cast<std::uint64_t>(seen), "message") << " received\n";
      rc = 1;
      break;
    }
    print_native(native.expire(std::chrono::steady_clock::now()));
    if (count >= 0 && seen >= count) break;
    // Wake for the next held message's end of hold, at the latest.
    auto wait = std::chrono::milliseconds(200);
    if (const auto next = native.next_expiry()) {
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*next - std::chrono::steady_clock::now()),
                        std::chrono::milliseconds(1), wait);
    }
    mqtt::const_message_ptr msg;
    if (!client.try_consume_message_for(&msg, wait)) continue;
    if (!msg) continue;  // connection lost; the client reconnects by itself
    if (!is_sparkplug_topic(msg->get_topic())) {
      print_native(native.receive(msg->get_topic(), msg->get_payload_str(), msg->is_retained(),
                                  std::chrono::steady_clock::now()));
      continue;
    }
    auto decoded = sparkplug.decode(msg->get_topic(), msg->get_payload_str());
    if (msg->is_retained()) decoded["retained"] = true;
    if (json) std::cout << boost::json::serialize(decoded) << std::endl;
    else std::cout << printable(sparkplug.to_text(decoded), true) << std::flush;
    ++seen;
  }
  // Stopped by Ctrl-C or --timeout: what still waited for its catalog is shown unnamed.
  if (rc != 0 || g_stop) print_native(native.release_all());
  try {
    client.stop_consuming();
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const mqtt::exception&) {
    // Leaving anyway.
  }
  return rc;
}

}  // namespace rackwatch::cli
