// Fuzz target: `rackwatch tail`'s decoder on arbitrary MQTT messages. Anyone
// who can publish to the broker chooses these bytes.
//
// Input layout (wire_decoder_seeds.cpp writes seeds in it):
//   byte 0      bits 0-2  the topic, see kTopics; 7 = the topic is the payload's
//                         text up to its first NUL byte, the payload the rest
//               bit 4     also as `tail` takes them (receive()): held for the
//                         catalog, which comes after, sequences checked
//               bit 5     decode the message twice (a retained message seen again)
//               bit 6     the catalog of bit 7 is another rack's
//               bit 7     a catalog comes first: 2 bytes big-endian length N, then
//                         N bytes of Catalog payload
//   rest        the payload
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "diag/wire_decoder.hpp"
#include "fuzz_check.hpp"

namespace {

using rackwatch::fuzz::require;
namespace json = boost::json;

constexpr std::string_view kPrefix = "rackwatch/v1";
constexpr std::string_view kTopics[] = {
    "rackwatch/v1/s1/r1/status",    "rackwatch/v1/s1/r1/catalog",
    "rackwatch/v1/s1/r1/telemetry", "rackwatch/v1/s1/r1/alarm",
    "rackwatch/v1/s1/r1/bogus",     "rackwatch/v1/s1/telemetry",
    "other/v1/s1/r1/status",
};
constexpr std::uint8_t kTopicFromPayload = 7;
constexpr std::uint8_t kReceive = 0x10;
constexpr std::uint8_t kTwice = 0x20;
constexpr std::uint8_t kOtherRack = 0x40;
constexpr std::uint8_t kCatalogFirst = 0x80;

void print(const rackwatch::cli::WireDecoder& dec, const json::object& o) {
  require(o.contains("error") || o.contains("type"), "a message or report has a type or an error");
  require(!dec.to_text(o).empty(), "every message and report prints as text");
  require(!json::serialize(o).empty(), "every message and report prints as JSON");
}

json::object decode_and_print(rackwatch::cli::WireDecoder& dec, const std::string& topic,
                              const std::string& payload) {
  auto o = dec.decode(topic, payload);
  require(o.contains("topic"), "every decoded message names its topic");
  require(o.contains("error") || o.contains("type"), "a message has a type or an error");
  // What `tail` and `tail --json` print.
  require(!dec.to_text(o).empty(), "every message prints as text");
  require(!json::serialize(o).empty(), "every message prints as JSON");
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  rackwatch::cli::WireDecoder dec{std::string(kPrefix)};
  std::string catalog_topic;
  std::string catalog_payload;
  if (control & kCatalogFirst) {
    std::size_t n = 0;
    if (rest.size() >= 2) {
      n = static_cast<std::size_t>(static_cast<unsigned char>(rest[0])) << 8 |
          static_cast<unsigned char>(rest[1]);
      rest.remove_prefix(2);
    }
    const auto catalog = rest.substr(0, n);
    rest.remove_prefix(catalog.size());
    catalog_topic = (control & kOtherRack) ? "rackwatch/v1/s1/r2/catalog" : "rackwatch/v1/s1/r1/catalog";
    catalog_payload = std::string(catalog);
    decode_and_print(dec, catalog_topic, catalog_payload);
  }

  std::string topic;
  std::string payload;
  if (const auto which = control & 0x07; which == kTopicFromPayload) {
    const auto nul = rest.find('\0');
    topic = std::string(rest.substr(0, nul));
    payload = nul == std::string_view::npos ? std::string() : std::string(rest.substr(nul + 1));
  } else {
    topic = std::string(kTopics[which]);
    payload = std::string(rest);
  }

  const auto first = decode_and_print(dec, topic, payload);
  auto is = [&](const char* key, std::string_view want) {
    const auto* v = first.if_contains(key);
    return v && v->is_string() && v->get_string() == want;
  };
  if ((is("type", "telemetry") || is("type", "snapshot")) && !first.contains("error")) {
    const bool own_catalog = (control & kCatalogFirst) && is("site", "s1") &&
                             is("rack", (control & kOtherRack) ? "r2" : "r1");
    if (!own_catalog) {
      require(!first.at("catalog_known").as_bool(), "a catalog names only its own rack's values");
    }
  }
  if (control & kTwice) {
    // Telemetry, status and alarms leave the decoder as it was, and a catalog
    // seen again replaces itself: the same message decodes the same. (Compared
    // as text: a NaN value is never equal to itself.)
    const auto again = decode_and_print(dec, topic, payload);
    require(json::serialize(again) == json::serialize(first), "decoding is repeatable");
  }
  if (control & kReceive) {
    // The message twice (a duplicate), then the catalog: what was held comes
    // out with it or at the end of the hold, and nothing stays held.
    using namespace std::chrono_literals;
    rackwatch::cli::WireDecoder live{std::string(kPrefix), {1s, 4, 2, {}}};
    const rackwatch::cli::WireDecoder::Clock::time_point t0{};
    for (int i = 0; i < 2; ++i) {
      for (const auto& o : live.receive(topic, payload, false, t0)) print(live, o);
    }
    if (!catalog_topic.empty()) {
      for (const auto& o : live.receive(catalog_topic, catalog_payload, true, t0 + 10ms)) print(live, o);
    }
    for (const auto& o : live.expire(t0 + 2s)) print(live, o);
    require(live.held() == 0, "nothing is held past its hold");
  }
  return 0;
}
