#include "sources/snmp/snmp_varbinds.hpp"

#include <cstddef>
#include <cstdint>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

namespace rackwatch::snmp {

namespace {

Oid to_oid(const oid* arcs, std::size_t count) {
  Oid out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(static_cast<std::uint32_t>(arcs[i]));
  return out;
}

std::string bytes_of(const netsnmp_variable_list& v) {
  if (v.val.string == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(v.val.string), v.val_len);
}

VarBind copy(const netsnmp_variable_list& v) {
  VarBind b;
  b.oid = to_oid(v.name, v.name_length);
  switch (v.type) {
    case ASN_INTEGER:
      b.type = VarType::integer;
      if (v.val.integer) b.integer = static_cast<std::int64_t>(*v.val.integer);
      break;
    case ASN_OCTET_STR:
      b.type = VarType::octet_string;
      b.bytes = bytes_of(v);
      break;
    case ASN_OBJECT_ID:
      b.type = VarType::object_id;
      if (v.val.objid) b.bytes = format_oid(to_oid(v.val.objid, v.val_len / sizeof(oid)));
      break;
    case ASN_IPADDRESS:
      b.type = VarType::ip_address;
      b.bytes = bytes_of(v);
      break;
    case ASN_COUNTER:
    case ASN_GAUGE:  // also Unsigned32
    case ASN_TIMETICKS:
      b.type = v.type == ASN_COUNTER ? VarType::counter32 : v.type == ASN_GAUGE ? VarType::gauge32 : VarType::timeticks;
      // The library keeps these in a long; the value is 32 bits.
      if (v.val.integer) b.unsigned_value = static_cast<std::uint32_t>(*v.val.integer);
      break;
    case ASN_COUNTER64:
      b.type = VarType::counter64;
      if (v.val.counter64) {
        b.unsigned_value = (static_cast<std::uint64_t>(v.val.counter64->high & 0xFFFF'FFFFu) << 32) |
                           static_cast<std::uint64_t>(v.val.counter64->low & 0xFFFF'FFFFu);
      }
      break;
    case ASN_OPAQUE:
      b.type = VarType::opaque;
      b.bytes = bytes_of(v);
      break;
    case ASN_NULL:
      b.type = VarType::null;
      break;
    case SNMP_NOSUCHOBJECT:
      b.type = VarType::no_such_object;
      break;
    case SNMP_NOSUCHINSTANCE:
      b.type = VarType::no_such_instance;
      break;
    case SNMP_ENDOFMIBVIEW:
      b.type = VarType::end_of_mib_view;
      break;
    default:
      b.type = VarType::other;
      break;
  }
  return b;
}

}  // namespace

std::vector<VarBind> varbinds_of(const snmp_pdu& pdu) {
  std::vector<VarBind> out;
  for (const netsnmp_variable_list* v = pdu.variables; v != nullptr; v = v->next_variable) out.push_back(copy(*v));
  return out;
}

}  // namespace rackwatch::snmp
