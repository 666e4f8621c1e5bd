#include "sources/modbus/sunspec_chain.hpp"

#include <utility>

#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus::sunspec {

namespace {

constexpr std::uint8_t kIllegalDataAddress = 0x02;
constexpr std::uint32_t kAddressSpace = 65536;

std::string exception_text(std::uint8_t code) {
  return "exception " + hex(code, 2) + " " + std::string(exception_name(code));
}

std::string model_text(std::uint16_t id, std::uint32_t address, std::uint16_t length) {
  return "model " + std::to_string(id) + " at holding register " + std::to_string(address) + " (length " +
         std::to_string(length) + ")";
}

}  // namespace

const Model* Chain::find(std::uint16_t id) const {
  for (const auto& m : models) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::string bases_text(std::span<const std::uint16_t> bases) {
  std::string out;
  for (std::size_t i = 0; i < bases.size(); ++i) {
    if (i > 0) out += i + 1 == bases.size() ? " or " : ", ";
    out += std::to_string(bases[i]);
  }
  return out;
}

std::string chain_text(const Chain& chain) {
  std::string out;
  for (const auto& m : chain.models) {
    if (!out.empty()) out += ", ";
    out += std::to_string(m.id) + " at " + std::to_string(m.address) + " (" + std::to_string(m.length) + ")";
  }
  if (!out.empty()) out += ", ";
  if (chain.end) {
    out += "end at " + std::to_string(*chain.end);
  } else {
    out += "no end marker (the next header answers illegal data address)";
  }
  return out;
}

ChainWalker::ChainWalker(std::vector<std::uint16_t> bases) : bases_(std::move(bases)) {
  if (bases_.empty()) bases_.assign(kAutoBases.begin(), kAutoBases.end());
  at_ = bases_.front();
  // A base with no room for the marker cannot hold it.
  while (!done_ && at_ + 2 > kAddressSpace) next_base("no room for two registers");
}

std::optional<ChainRead> ChainWalker::next() const {
  if (done_) return std::nullopt;
  return ChainRead{static_cast<std::uint16_t>(at_), 2};
}

void ChainWalker::answer(std::span<const std::uint16_t> registers) {
  if (done_) return;
  if (registers.size() < 2) {
    refused(kIllegalDataAddress);
    return;
  }
  ++reads_;
  if (in_chain_) {
    header(registers[0], registers[1]);
    return;
  }
  if (registers[0] != kMarker[0] || registers[1] != kMarker[1]) {
    next_base(hex(registers[0], 4) + " " + hex(registers[1], 4));
    return;
  }
  in_chain_ = true;
  chain_.base = static_cast<std::uint16_t>(at_);
  at_ += 2;
  if (at_ + 2 > kAddressSpace) {
    fail(ChainErrorKind::past_end, "\"SunS\" at holding register " + std::to_string(chain_.base) +
                                       " leaves no room for a model before address 65535");
  }
}

void ChainWalker::refused(std::uint8_t exception_code) {
  if (done_) return;
  ++reads_;
  if (!in_chain_) {
    next_base(exception_text(exception_code));
    return;
  }
  if (exception_code == kIllegalDataAddress && !chain_.models.empty()) {
    // Some devices end the map after the last model, without the end marker.
    finish();
    return;
  }
  const std::string after = chain_.models.empty()
                                ? "right after \"SunS\" at " + std::to_string(chain_.base)
                                : "after " + model_text(chain_.models.back().id, chain_.models.back().address,
                                                        chain_.models.back().length);
  fail(ChainErrorKind::refused, "the model header at holding register " + std::to_string(at_) + " (" + after +
                                    ") answers " + exception_text(exception_code));
}

void ChainWalker::header(std::uint16_t id, std::uint16_t length) {
  const std::uint32_t at = at_;
  if (id == kEndId) {
    chain_.end = static_cast<std::uint16_t>(at);
    finish();
    return;
  }
  if (id == 0) {
    fail(ChainErrorKind::bad_model,
         "holding register " + std::to_string(at) + " holds model ID 0 (length " + std::to_string(length) +
             "), which is no SunSpec model: the walk from \"SunS\" at " + std::to_string(chain_.base) +
             " lost its way (a wrong length earlier in the chain, or no end marker 0xFFFF)");
    return;
  }
  const std::uint32_t next = at + 2 + length;
  if (next > kAddressSpace) {
    fail(ChainErrorKind::past_end, model_text(id, at, length) + " would end at register " +
                                       std::to_string(next - 1) +
                                       ", past address 65535: the device's model chain is broken");
    return;
  }
  if (chain_.models.size() == kMaxModels) {
    fail(ChainErrorKind::too_long, "more than " + std::to_string(kMaxModels) + " models in the chain from \"SunS\" at " +
                                       std::to_string(chain_.base) + " (the last at holding register " +
                                       std::to_string(at) + "): taken for a broken map without an end marker");
    return;
  }
  chain_.models.push_back(Model{id, length, static_cast<std::uint16_t>(at)});
  if (next + 2 > kAddressSpace) {
    fail(ChainErrorKind::past_end, "the chain runs past address 65535 after " + model_text(id, at, length) +
                                       " without an end marker (0xFFFF)");
    return;
  }
  at_ = next;
}

void ChainWalker::next_base(std::string what) {
  chain_.tried.push_back(std::to_string(bases_[base_index_]) + ": " + std::move(what));
  ++base_index_;
  if (base_index_ < bases_.size()) {
    at_ = bases_[base_index_];
    if (at_ + 2 > kAddressSpace) next_base("no room for two registers");
    return;
  }
  std::string found;
  for (const auto& t : chain_.tried) found += (found.empty() ? "" : "; ") + t;
  fail(ChainErrorKind::no_marker,
       "no SunSpec marker \"SunS\" (0x5375 0x6E53) at holding register" + std::string(bases_.size() > 1 ? "s " : " ") +
           bases_text(bases_) + " (" + found +
           "): check the unit id, and that the device speaks SunSpec; set sunspec.base if its map begins elsewhere");
}

void ChainWalker::fail(ChainErrorKind kind, std::string message) {
  error_ = ChainError{kind, std::move(message)};
  done_ = true;
}

void ChainWalker::finish() { done_ = true; }

rackwatch::Result<Chain, ChainError> ChainWalker::result() const {
  if (error_) return *error_;
  return chain_;
}

rackwatch::Result<Chain, ChainError> walk_chain(std::span<const std::uint16_t> bases, std::uint16_t first,
                                     std::span<const std::uint16_t> image) {
  ChainWalker walker(std::vector<std::uint16_t>(bases.begin(), bases.end()));
  const std::uint32_t end = first + static_cast<std::uint32_t>(image.size());
  while (auto read = walker.next()) {
    if (read->address >= first && std::uint32_t{read->address} + read->count <= end) {
      walker.answer(image.subspan(read->address - first, read->count));
    } else {
      walker.refused(kIllegalDataAddress);
    }
  }
  return walker.result();
}

}  // namespace rackwatch::modbus::sunspec
