// What SunSpec discovery found on one device, kept from poll to poll until
// the chain changes: the chain, where the profile's model sits in it, and
// the common model's strings; and the pure decisions on it (is the model
// there, long enough; what to show an operator). ModbusSource does the
// reads (modbus_source_sunspec.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/device_info.hpp"
#include "core/result.hpp"
#include "sources/modbus/sunspec_chain.hpp"
#include "sources/modbus/sunspec_settings.hpp"

namespace rackwatch::modbus {

struct SunSpecFound {
  sunspec::Chain chain;
  sunspec::Model model;    // the profile's model, where the chain has it
  std::int32_t shift = 0;  // a register's address on the device = its profile address + shift
  bool common_read = false;  // the common model (1) was read for the device info
};

struct SunSpecState {
  std::optional<SunSpecFound> found;  // nothing: discover at the next poll
  std::string why;                    // why nothing is found: the last attempt's error
  // A walk under way: one that a poll's time did not hold goes on at the
  // next poll where it stopped (a long chain on a slow line).
  std::optional<sunspec::ChainWalker> walk;
  std::chrono::steady_clock::duration slowest{};  // the slowest answer of the walk
  // From the common model: kept until a discovery reads it again, and
  // dropped when one finds no SunSpec map at all.
  std::optional<DeviceInfo> info;
  std::string common_note;  // why the common model gave no device info, when it did not
  std::uint64_t discoveries = 0;  // successful ones
  std::string logged;             // the last failure logged, so that a repeated one is logged once
};

// The profile's model in `chain`: the first block with its ID whose data
// holds `needed` registers (the profile's points' extent), or why none does.
rackwatch::Result<sunspec::Model, std::string> locate_model(const sunspec::Chain& chain, const SunSpecModel& model,
                                                 std::uint16_t needed);

// The registers a profile's points need from the model's data start: the
// end of the last one (value or scale factor), relative to data_start.
std::uint16_t model_extent(const SunSpecModel& model, std::uint32_t last_register_end);

// What `rackwatch probe` and `rackwatch devices` show: where the marker
// was, the chain with addresses, which models were read, the device info.
std::vector<std::string> sunspec_notes(const SunSpecState& state, const SunSpecSettings& settings);

}  // namespace rackwatch::modbus
