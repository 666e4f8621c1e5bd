// The SunSpec common model (model 1), which every SunSpec device has first:
// manufacturer, model, firmware version and serial number as strings, two
// characters a register. Pure: registers in, DeviceInfo out.
#pragma once

#include <cstdint>
#include <span>

#include "core/device_info.hpp"

namespace rackwatch::modbus::sunspec {

// Offsets and sizes in the model's data (sunspec/models json/model_1.json):
// Mn 0 (16 registers), Md 16 (16), Opt 32 (8), Vr 40 (8), SN 48 (16),
// DA 64, Pad 65.
inline constexpr std::uint16_t kCommonLength = 66;

// The strings of the common model's data, as far as `data` holds them: a
// field cut short is taken as far as it goes, a missing one is empty. Text
// ends at the first NUL, trailing spaces are dropped, and any byte outside
// printable ASCII becomes '?'.
DeviceInfo decode_common_model(std::span<const std::uint16_t> data);

}  // namespace rackwatch::modbus::sunspec
