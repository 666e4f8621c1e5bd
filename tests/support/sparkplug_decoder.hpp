// Sparkplug B payloads as an independent decoder sees them: Eclipse Tahu's
// JavaScript codec (npm sparkplug-payload), installed under the build tree
// by tests/support/sparkplug/install.sh and run by decode.js, never the
// agent's own schema.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <mqtt/message.h>

#include "sparkplug_b/sparkplug_b.pb.h"
#include "support/run.hpp"

namespace rackwatch::test {

// One message as the codec decoded it.
struct SparkplugDecoded {
  std::string topic;
  boost::json::object payload;

  // NBIRTH, DDATA, ... (spBv1.0/{group}/{type}/...); STATE for spBv1.0/STATE/{host}.
  std::string type() const {
    const auto a = topic.find('/', topic.find('/') + 1);
    const auto b = topic.find('/', a + 1);
    return b == std::string::npos ? topic.substr(topic.find('/') + 1, a - topic.find('/') - 1)
                                  : topic.substr(a + 1, b - a - 1);
  }
  // The device of a D* topic; empty for the node's.
  std::string device() const {
    std::size_t slashes = 0;
    for (std::size_t i = 0; i < topic.size(); ++i) {
      if (topic[i] == '/' && ++slashes == 4) return topic.substr(i + 1);
    }
    return {};
  }
  std::int64_t seq() const { return payload.at("seq").to_number<std::int64_t>(); }
  std::int64_t timestamp() const { return payload.at("timestamp").to_number<std::int64_t>(); }
  const boost::json::array& metrics() const { return payload.at("metrics").as_array(); }
  // A metric's value by name (births, commands): booleans as 0/1.
  std::optional<std::int64_t> metric(const std::string& name) const {
    for (const auto& m : metrics()) {
      const auto& o = m.as_object();
      if (o.contains("name") && o.at("name").as_string() == name) {
        const auto& v = o.at("value");
        if (v.is_bool()) return v.as_bool() ? 1 : 0;
        return v.to_number<std::int64_t>();
      }
    }
    return std::nullopt;
  }
};

// A metric's property as the codec gives it ({type, value}); nullptr when absent.
inline const boost::json::value* sparkplug_property(const boost::json::object& metric, const std::string& key) {
  const auto* props = metric.if_contains("properties");
  if (!props || !props->is_object()) return nullptr;
  const auto* p = props->as_object().if_contains(key);
  return p && p->is_object() ? p->as_object().if_contains("value") : nullptr;
}

// What a host sends on NCMD to ask for the births again.
inline std::string sparkplug_rebirth_command() {
  sparkplug_b::Payload command;
  command.set_timestamp(1);
  auto* rebirth = command.add_metrics();
  rebirth->set_name("Node Control/Rebirth");
  rebirth->set_datatype(sparkplug_b::Boolean);
  rebirth->set_boolean_value(true);
  return command.SerializeAsString();
}

class SparkplugDecoder {
 public:
  // Installs the codec once per build tree; false (with why) when npm cannot.
  bool install(std::string& why) {
    dir_ = std::filesystem::path(RACKWATCH_BUILD_DIR) / "tests" / "sparkplug-decoder";
    const auto installed = run({"/bin/sh", source_path("tests/support/sparkplug/install.sh"), dir_.string()},
                               std::chrono::seconds(300));
    why = "the independent Sparkplug decoder (npm sparkplug-payload) could not be installed into " + dir_.string() +
          ": " + installed.err;
    return installed.exit_code == 0;
  }

  // Every message decoded, in order; `work` holds the payload files. A
  // message the codec cannot decode fails the run (and so the test).
  std::vector<SparkplugDecoded> decode(const std::vector<mqtt::const_message_ptr>& messages,
                                       const std::filesystem::path& work) const {
    std::filesystem::remove_all(work);
    std::filesystem::create_directories(work);
    std::ofstream topics(work / "topics");
    std::vector<std::string> argv{"/usr/bin/env", "NODE_PATH=" + (dir_ / "node_modules").string(), "node",
                                  source_path("tests/support/sparkplug/decode.js"), (work / "topics").string()};
    std::vector<mqtt::const_message_ptr> kept;
    std::vector<SparkplugDecoded> state;  // STATE is JSON, not a Sparkplug payload
    for (const auto& m : messages) {
      if (m->get_topic().rfind("spBv1.0/STATE/", 0) == 0) continue;
      const auto file = work / (std::to_string(kept.size()) + ".bin");
      topics << m->get_topic() << "\n";
      std::ofstream(file, std::ios::binary) << m->get_payload_str();
      argv.push_back(file.string());
      kept.push_back(m);
    }
    topics.close();
    std::vector<SparkplugDecoded> decoded;
    if (kept.empty()) return decoded;
    const auto out = run(argv, std::chrono::seconds(60));
    if (out.exit_code != 0) throw std::runtime_error("decode.js failed: " + out.err);
    std::istringstream lines(out.out);
    for (std::string line; std::getline(lines, line);) {
      auto o = boost::json::parse(line).as_object();
      decoded.push_back({std::string(o.at("topic").as_string()), std::move(o)});
    }
    if (decoded.size() != kept.size()) throw std::runtime_error("decode.js decoded fewer messages than given");
    return decoded;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace rackwatch::test
