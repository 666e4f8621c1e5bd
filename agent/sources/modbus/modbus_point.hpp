// A point as registers: where its value lives on the device and how its
// registers turn into a number.
#pragma once

#include <cstdint>
#include <optional>

#include "sources/modbus/modbus_decode.hpp"
#include "sources/modbus/modbus_spans.hpp"

namespace rackwatch::modbus {

struct RegisterPoint {
  Table table = Table::holding_register;
  std::uint16_t address = 0;
  ValueFormat format;
  // SunSpec: the int16 register, in the same table, that holds the
  // point's power-of-ten exponent.
  std::optional<std::uint16_t> scale_factor_address;

  RegisterRange range() const {
    const bool bits = table == Table::coil || table == Table::discrete_input;
    return {table, address, static_cast<std::uint16_t>(bits ? 1 : register_count(format.type))};
  }
  std::optional<RegisterRange> scale_factor_range() const {
    if (!scale_factor_address) return std::nullopt;
    return RegisterRange{table, *scale_factor_address, 1};
  }
};

}  // namespace rackwatch::modbus
