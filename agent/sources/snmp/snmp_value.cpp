#include "sources/snmp/snmp_value.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

namespace rackwatch::snmp {

const char* var_type_name(VarType type) {
  switch (type) {
    case VarType::integer: return "INTEGER";
    case VarType::octet_string: return "OCTET STRING";
    case VarType::object_id: return "OBJECT IDENTIFIER";
    case VarType::ip_address: return "IpAddress";
    case VarType::counter32: return "Counter32";
    case VarType::gauge32: return "Gauge32";
    case VarType::timeticks: return "TimeTicks";
    case VarType::opaque: return "Opaque";
    case VarType::counter64: return "Counter64";
    case VarType::null: return "NULL";
    case VarType::no_such_object: return "noSuchObject";
    case VarType::no_such_instance: return "noSuchInstance";
    case VarType::end_of_mib_view: return "endOfMibView";
    case VarType::other: return "an unknown type";
  }
  return "an unknown type";
}

namespace {

// A decimal number the whole string holds, blanks around it allowed:
// "23.5", " -4 ", "1e3". Not "12 A", not "0x10", not "nan".
std::optional<double> decimal_text(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 32)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (bytes.size() > 32) out += "...";
  return out;
}

}  // namespace

Number to_number(const VarBind& var) {
  switch (var.type) {
    case VarType::integer:
      return {static_cast<double>(var.integer), {}};
    case VarType::counter32:
    case VarType::gauge32:
    case VarType::timeticks:
    case VarType::counter64:
      return {static_cast<double>(var.unsigned_value), {}};
    case VarType::octet_string:
      if (auto v = decimal_text(var.bytes)) return {v, {}};
      return {std::nullopt, "the device sent a string that is not a number (\"" + printable(var.bytes) + "\")"};
    case VarType::no_such_object:
      return {std::nullopt, "noSuchObject: the device has no such object (an OID it does not implement)"};
    case VarType::no_such_instance:
      return {std::nullopt, "noSuchInstance: the device has the object but not this instance (index)"};
    case VarType::end_of_mib_view:
      return {std::nullopt, "endOfMibView: past the end of what the device shows this user"};
    case VarType::null:
      return {std::nullopt, "the device sent NULL, no value"};
    case VarType::object_id:
    case VarType::ip_address:
    case VarType::opaque:
    case VarType::other:
      break;
  }
  return {std::nullopt, std::string("the device sent ") + var_type_name(var.type) + ", not a number"};
}

}  // namespace rackwatch::snmp
