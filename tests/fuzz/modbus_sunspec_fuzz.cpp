// Fuzz target: the SunSpec chain walker (agent/sources/modbus/
// sunspec_chain.hpp), the common model's strings (sunspec_common.hpp) and
// locating a profile's model (sunspec_discovery.hpp), on a device's
// registers — what a SunSpec device, or anything answering in its place,
// serves.
//
// Input: byte 0 chooses the bases (bits 0-1: auto, 0, 40000, 50000); byte 1
// is how far below the first base the image begins (0..255, stopping at 0);
// the rest is the image, one register from each two bytes, high byte first.
// Reads outside the image are refused ("illegal data address"). Checks: the
// walk ends; a chain starts at a base tried, its models follow one another
// exactly (each at the previous one's address + 2 + length), all inside
// 0..65535, at most kMaxModels, and an end marker right after the last; an
// error says something; walking the same image again gives the same; the
// common model's strings are printable ASCII within their sizes.
#include <algorithm>
#include <cstddef>
#include <span>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "sources/modbus/sunspec_chain.hpp"
#include "sources/modbus/sunspec_common.hpp"
#include "sources/modbus/sunspec_discovery.hpp"

namespace {

using rackwatch::fuzz::require;
namespace mb = rackwatch::modbus;
namespace ss = rackwatch::modbus::sunspec;

bool printable_within(const std::string& text, std::size_t registers) {
  if (text.size() > 2 * registers) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) return false;
  }
  return true;
}

void check_chain(const ss::Chain& chain, const std::vector<std::uint16_t>& bases) {
  bool base_tried = false;
  for (auto b : bases) base_tried = base_tried || b == chain.base;
  require(base_tried, "the chain starts at a base tried");
  require(chain.models.size() <= ss::kMaxModels, "at most kMaxModels models");
  std::uint32_t next = std::uint32_t{chain.base} + 2;
  for (const auto& m : chain.models) {
    require(m.address == next, "each model right after the one before");
    require(m.id != 0 && m.id != ss::kEndId, "a model has a model ID");
    require(std::uint32_t{m.address} + 2 + m.length <= 65536, "a model's data inside 0..65535");
    next = std::uint32_t{m.address} + 2 + m.length;
  }
  if (chain.end) require(*chain.end == next, "the end marker right after the last model");
  else require(!chain.models.empty(), "a chain without end marker has models");
  require(!ss::chain_text(chain).empty(), "a chain has a text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::vector<std::uint16_t> bases;
  switch (data[0] & 3) {
    case 0: bases.assign(ss::kAutoBases.begin(), ss::kAutoBases.end()); break;
    case 1: bases = {0}; break;
    case 2: bases = {40000}; break;
    default: bases = {50000}; break;
  }
  const std::uint16_t first = static_cast<std::uint16_t>(bases.front() >= data[1] ? bases.front() - data[1] : 0);
  std::vector<std::uint16_t> image;
  for (std::size_t i = 2; i + 1 < size && first + image.size() < 65536; i += 2) {
    image.push_back(static_cast<std::uint16_t>(data[i] << 8 | data[i + 1]));
  }

  const auto walked = ss::walk_chain(bases, first, image);
  const auto again = ss::walk_chain(bases, first, image);
  require(walked.ok() == again.ok(), "the same image walks the same");
  if (!walked) {
    require(!walked.error().message.empty(), "an error says what");
    require(walked.error().message == again.error().message, "the same error again");
    return 0;
  }
  check_chain(walked.value(), bases);
  require(walked->models == again->models && walked->end == again->end, "the same chain again");

  if (const auto* common = walked->find(ss::kCommonId)) {
    const std::uint32_t at = common->data();
    if (at >= first && at - first < image.size()) {
      const std::size_t n = std::min({std::size_t{common->length}, std::size_t{ss::kCommonLength}, image.size() - (at - first)});
      const auto info = ss::decode_common_model(std::span(image).subspan(at - first, n));
      require(printable_within(info.manufacturer, 16) && printable_within(info.model, 16) &&
                  printable_within(info.version, 8) && printable_within(info.serial_number, 16),
              "device strings are printable ASCII within their sizes");
    }
  }
  for (std::uint16_t id : {std::uint16_t{203}, std::uint16_t{1}, walked->models.empty() ? std::uint16_t{7} : walked->models.back().id}) {
    const auto located = mb::locate_model(walked.value(), mb::SunSpecModel{id, 105, 40072}, 105);
    if (located) {
      require(located->id == id && located->length >= 105, "a located model is the one asked for, long enough");
    } else {
      require(!located.error().empty(), "why a model is not there");
    }
  }
  return 0;
}
