// What `rackwatch tail` connects to and listens on: its command line over
// the `mqtt` section of an agent's config (--config), checked, with the
// password and key files read. Command-line options win over the config.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "diag/commands.hpp"

namespace rackwatch {
class SourceParsers;
}

namespace rackwatch::cli {

struct TailOptions {
  std::vector<std::string> brokers;
  std::string prefix = "rackwatch/v1";
  // {prefix}/#, or {prefix}/{site}/{rack}/# of a config's agent; for
  // Sparkplug spBv1.0/{group}/# and spBv1.0/STATE/#.
  std::vector<std::string> filters;
  std::string username;
  std::string password;
  std::optional<TlsConfig> tls;  // set when a broker is ssl:// or mqtts://
  std::chrono::milliseconds connect_timeout{10'000};
  long long count = -1;  // messages to print; -1: until Ctrl-C
  std::optional<std::chrono::milliseconds> timeout;
  bool json = false;
  // Telemetry and snapshots wait this long for their catalog; 0: not at all.
  std::chrono::milliseconds hold{2000};
  std::string catalog_cache;  // a directory for catalogs across runs; empty: none
  bool help = false;
};

// `types`: the source types a config may name (it is loaded whole, as the
// agent would). nullopt on a problem, with `error` ready to print: lines
// that name the option or file at fault and what to do.
std::optional<TailOptions> parse_tail_options(const Args& args, const SourceParsers& types, std::string& error);

}  // namespace rackwatch::cli
