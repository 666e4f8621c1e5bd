// Fuzz target: `rackwatch tail`'s Sparkplug B decoder on a series of MQTT
// messages (births first, then data by their aliases: the decoder keeps
// state between them). Anyone who can publish to the broker chooses them.
//
// Input layout: messages, one after the other, each
//   byte 0      bits 0-3  the topic, see kTopics; 13 = the topic is the
//                         payload's text up to its first NUL byte
//   bytes 1-2   N, big-endian; the payload is the next N bytes (fewer when
//               the input ends first)
// (corpus/sparkplug_decoder_fuzz has seeds written with protoc --encode.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "diag/sparkplug_decoder.hpp"
#include "fuzz_check.hpp"

namespace {

using rackwatch::fuzz::require;
namespace json = boost::json;

constexpr std::string_view kTopics[] = {
    "spBv1.0/g/NBIRTH/e",   "spBv1.0/g/DBIRTH/e/d", "spBv1.0/g/NDATA/e",   "spBv1.0/g/DDATA/e/d",
    "spBv1.0/g/NDEATH/e",   "spBv1.0/g/DDEATH/e/d", "spBv1.0/g/NCMD/e",    "spBv1.0/g/DCMD/e/d",
    "spBv1.0/STATE/h",      "spBv1.0/g/DDATA/e/d2", "spBv1.0/g/DDATA/e",   "spBv1.0/g2/NDATA/e",
    "spBv1.0/g/XDATA/e",
};
constexpr std::uint8_t kTopicFromPayload = 13;

// `own_topic`: one of kTopics, valid UTF-8 (a broker passes no other).
void check(const rackwatch::cli::SparkplugDecoder& dec, const json::object& o, bool own_topic) {
  require(o.contains("topic"), "every decoded message names its topic");
  require(o.contains("error") || o.contains("type"), "a message has a type or an error");
  require(!dec.to_text(o).empty(), "every message prints as text");
  const auto text = json::serialize(o);
  require(!text.empty(), "every message prints as JSON");
  boost::system::error_code ec;
  // Boost.JSON's parser refuses what is not UTF-8: the payload's strings are proto2's, never checked.
  if (own_topic) require(!json::parse(text, ec).is_null() && !ec, "the JSON printed parses again");
  if (o.contains("error") || !o.contains("metrics")) return;
  require(o.at("problems").is_array(), "a decoded message lists its problems");
  for (const auto& mv : o.at("metrics").as_array()) {
    const auto& m = mv.as_object();
    // Named by itself or a birth; otherwise by alias, and then said to be unborn.
    require(m.at("name").is_string() || m.contains("alias") || !o.at("problems").as_array().empty(),
            "a metric without a name has an alias or a problem");
    require(m.at("unit").is_string(), "a metric has a unit (maybe empty)");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  rackwatch::cli::SparkplugDecoder dec;
  while (!rest.empty()) {
    const auto control = static_cast<std::uint8_t>(rest[0]) & 0x0f;
    rest.remove_prefix(1);
    std::size_t n = 0;
    if (rest.size() >= 2) {
      n = static_cast<std::size_t>(static_cast<unsigned char>(rest[0])) << 8 | static_cast<unsigned char>(rest[1]);
      rest.remove_prefix(2);
    }
    auto body = rest.substr(0, n);
    rest.remove_prefix(body.size());
    std::string topic;
    std::string payload;
    if (control >= kTopicFromPayload) {
      const auto nul = body.find('\0');
      topic = std::string(body.substr(0, nul));
      payload = nul == std::string_view::npos ? std::string() : std::string(body.substr(nul + 1));
    } else {
      topic = std::string(kTopics[control]);
      payload = std::string(body);
    }
    check(dec, dec.decode(topic, payload), control < kTopicFromPayload);
  }
  return 0;
}
