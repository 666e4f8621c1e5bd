#include "sources/modbus/sunspec_discovery.hpp"

namespace rackwatch::modbus {

namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

std::string model_ids(const sunspec::Chain& chain) {
  std::string out;
  for (const auto& m : chain.models) out += (out.empty() ? "" : ", ") + std::to_string(m.id);
  return out.empty() ? "none" : out;
}

}  // namespace

rackwatch::Result<sunspec::Model, std::string> locate_model(const sunspec::Chain& chain, const SunSpecModel& model,
                                                 std::uint16_t needed) {
  const sunspec::Model* shortest = nullptr;
  for (const auto& m : chain.models) {
    if (m.id != model.id) continue;
    if (m.length >= needed) return m;
    if (!shortest) shortest = &m;
  }
  if (shortest) {
    return "model " + std::to_string(model.id) + " at holding register " + std::to_string(shortest->address) +
           " has length " + std::to_string(shortest->length) + ", the profile's points need " +
           std::to_string(needed) + " registers of data: not the model the profile describes";
  }
  return "model " + std::to_string(model.id) + " is not in the device's chain (models " + model_ids(chain) +
         " from \"SunS\" at " + std::to_string(chain.base) + "): check the profile, or the unit id";
}

std::uint16_t model_extent(const SunSpecModel& model, std::uint32_t last_register_end) {
  if (last_register_end <= model.data_start) return 0;
  return static_cast<std::uint16_t>(last_register_end - model.data_start);
}

std::vector<std::string> sunspec_notes(const SunSpecState& state, const SunSpecSettings& settings) {
  std::vector<std::string> notes;
  if (!state.found) {
    notes.push_back("SunSpec model " + std::to_string(settings.model.id) + ": not discovered" +
                    (state.why.empty() ? " yet" : ": " + state.why));
  } else {
    const auto& f = *state.found;
    std::string marker = "SunSpec \"SunS\" at holding register " + std::to_string(f.chain.base) + " (base " +
                         (settings.base_auto ? "auto" : std::to_string(settings.bases.front()));
    for (const auto& t : f.chain.tried) marker += "; " + t;
    notes.push_back(marker + ")");
    notes.push_back("SunSpec chain: " + sunspec::chain_text(f.chain));
    std::string read;
    std::string skipped;
    for (const auto& m : f.chain.models) {
      if (m == f.model) {
        read += (read.empty() ? "" : ", ") + std::to_string(m.id) + " (the profile's, data from " +
                std::to_string(m.data()) + ")";
      } else if (m.id == sunspec::kCommonId && f.common_read && &m == f.chain.find(sunspec::kCommonId)) {
        read += (read.empty() ? "" : ", ") + std::string("1 (common: device info)");
      } else {
        skipped += (skipped.empty() ? "" : ", ") + std::to_string(m.id);
      }
    }
    notes.push_back("SunSpec models read: " + read + (skipped.empty() ? "" : "; skipped: " + skipped));
  }
  if (state.info) {
    const auto& i = *state.info;
    notes.push_back("device: manufacturer " + quoted(i.manufacturer) + ", model " + quoted(i.model) + ", serial " +
                    quoted(i.serial_number) + ", version " + quoted(i.version));
  }
  if (!state.common_note.empty()) notes.push_back("device info: " + state.common_note);
  return notes;
}

}  // namespace rackwatch::modbus
