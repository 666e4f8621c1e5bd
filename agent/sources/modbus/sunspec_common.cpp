#include "sources/modbus/sunspec_common.hpp"

#include <algorithm>
#include <string>

#include "sources/modbus/modbus_decode.hpp"

namespace rackwatch::modbus::sunspec {

namespace {

std::string field(std::span<const std::uint16_t> data, std::size_t offset, std::size_t size) {
  if (offset >= data.size()) return {};
  const auto regs = data.subspan(offset, std::min(size, data.size() - offset));
  ValueFormat format;
  format.type = ValueType::string;
  auto value = decode_value(format, regs);
  // A string of NULs is SunSpec's "not implemented": no text.
  if (!value || value->kind != Value::Kind::text) return {};
  return value->text;
}

}  // namespace

DeviceInfo decode_common_model(std::span<const std::uint16_t> data) {
  DeviceInfo info;
  info.manufacturer = field(data, 0, 16);
  info.model = field(data, 16, 16);
  info.version = field(data, 40, 8);
  info.serial_number = field(data, 48, 16);
  return info;
}

}  // namespace rackwatch::modbus::sunspec
