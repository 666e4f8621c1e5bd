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
#include "diag/commands.hpp"
#include "diag/tail_options.hpp"
#include "diag/wire_decoder.hpp"
#include "publish/tls_probe.hpp"
#include "sources/registry.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kUsage =
    "usage: rackwatch tail --config FILE | --broker URI [OPTIONS]\n"
    "\n"
    "Subscribes to an agent's topics and prints each status, catalog, telemetry\n"
    "and alarm message decoded, until Ctrl-C.\n"
    "\n"
    "  --config FILE       the agent's config: its broker(s), prefix, site and rack,\n"
    "                      TLS files, user name and password file; the options\n"
    "                      below override it\n"
    "  --broker URI        tcp://host:port or ssl://host:port; several are tried in turn\n"
    "  --prefix P          topic prefix (default rackwatch/v1)\n"
    "  --topic FILTER      subscribe to FILTER instead of {prefix}/# ({prefix}/{site}/{rack}/#\n"
    "                      with --config)\n"
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
    "\n"
    "Exit 0; 1 on --timeout; 2 on a usage error or when the broker cannot be reached.\n";

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// Paho's TLS settings from ours, as the agent makes them: the CA, the
// client's certificate and key, and both checks (certificate chain and host
// name) unless turned off.
mqtt::ssl_options tail_ssl_options(const TlsConfig& tls) {
  mqtt::ssl_options ssl;
  ssl.set_trust_store(tls.ca_file);
  if (!tls.cert_file.empty()) {
    ssl.set_key_store(tls.cert_file);
    ssl.set_private_key(tls.key_file);
  }
  if (!tls.key_password.empty()) ssl.set_private_key_password(tls.key_password);
  ssl.set_enable_server_cert_auth(tls.verify);
  ssl.set_verify(tls.verify);  // the host name check: off in Paho unless set
  return ssl;
}

// Why the connect failed, in words an operator can act on. Paho says only
// "TCP/TLS connect failure" for any TLS problem: the agent's own TLS check
// then handshakes once more and says what OpenSSL objected to.
std::string why_not_connected(const mqtt::exception& e, const TailOptions& o) {
  const int rc = e.get_return_code();
  if (rc == 4 || rc == 5) {  // CONNACK: bad user name or password; not authorized
    return std::string(e.what()) +
           "; give the user name and password the broker expects (--username, --password-file, or the "
           "config's username and password_file)";
  }
  const auto& broker = o.brokers.front();
  if (!o.tls || !is_tls_uri(broker)) return e.what();
  boost::asio::io_context io;
  auto probe = boost::asio::co_spawn(io, probe_tls(broker, *o.tls, o.connect_timeout), boost::asio::use_future);
  io.run();
  try {
    const auto r = probe.get();
    // Its words name the config's keys; the options here set the same.
    if (!r.ok) return r.error + "; set with --ca-file, --cert-file and --key-file, or the config's mqtt.tls";
  } catch (const std::exception&) {
    // The check itself failed: Paho's words are all there is.
  }
  return e.what();
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
  const auto& brokers = o.brokers;
  const auto& filter = o.filter;
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
  if (o.tls) opts.set_ssl(tail_ssl_options(*o.tls));

  // Resubscribe on every (re)connect: a clean session forgets subscriptions.
  client.set_connected_handler([&client, filter = o.filter](const std::string&) {
    client.subscribe(filter, 1);
  });
  client.start_consuming();
  try {
    client.connect(opts)->wait();
  } catch (const mqtt::exception& e) {
    std::cerr << "rackwatch tail: cannot connect to " << brokers.front() << ": " << why_not_connected(e, o)
              << '\n';
    return 2;
  }
  if (!json) std::cerr << "rackwatch tail: subscribed to " << filter << " on " << brokers.front()
                       << "; Ctrl-C to stop\n";

  WireDecoder decoder(o.prefix);
  long long seen = 0;
  const auto deadline = o.timeout ? std::chrono::steady_clock::now() + *o.timeout
                                : std::chrono::steady_clock::time_point::max();
  int rc = 0;
  while (!g_stop && (count < 0 || seen < count)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "rackwatch tail: timeout: " << plural(static_cast<std::uint64_t>(seen), "message") << " received\n";
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
