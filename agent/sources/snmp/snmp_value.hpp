// A variable binding as the agent keeps it, copied out of the library's PDU,
// and its value as a number: SNMP's integer kinds as they are, a string
// that holds a decimal number (some PDUs and sensors send "23.5"), and for
// everything else, the three exceptions of a GET (RFC 3416) included, the
// reason it is not a number. Pure, so that it is tested by table and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sources/snmp/snmp_oid.hpp"

namespace rackwatch::snmp {

enum class VarType : std::uint8_t {
  integer,      // INTEGER / Integer32
  octet_string,
  object_id,
  ip_address,
  counter32,
  gauge32,      // Gauge32 / Unsigned32
  timeticks,
  opaque,
  counter64,
  null,
  no_such_object,
  no_such_instance,
  end_of_mib_view,
  other,        // a type the agent does not know
};

const char* var_type_name(VarType type);

struct VarBind {
  Oid oid;
  VarType type = VarType::null;
  std::int64_t integer = 0;    // integer
  std::uint64_t unsigned_value = 0;  // counter32, gauge32, timeticks, counter64
  std::string bytes;           // octet_string, opaque, ip_address (4 bytes); object_id as dotted text
};

struct Number {
  std::optional<double> value;
  std::string error;  // when no value: why, for the reading's reason
};

// The varbind's value as a number, or why it has none.
Number to_number(const VarBind& var);

}  // namespace rackwatch::snmp
