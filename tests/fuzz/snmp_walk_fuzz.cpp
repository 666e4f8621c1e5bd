// Fuzz target: a table walk as a device answers it. The bytes are the
// varbinds of successive GETBULK answers (their OIDs inside or outside the
// walked columns, in or out of order, with any type and value) given to
// TableWalk (agent/sources/snmp/snmp_walk.hpp); the rows it gathers then
// become points (expand_rows) and values (row_value, snmp_table.hpp) under
// templates that use every per-row feature: index parts and columns in
// `where` and `ok_when`, decimals, ENTITY scale, a label.
//
// Byte 0: bit 0 the index shape (one part, or pdu.inlet.sensor), bits 1-6
// the row limit (1..64). Then answers: a count byte (0..15 varbinds), and
// per varbind a kind byte (bits 0-1: column 0..2 or another OID; bits 2-4:
// the type), an index length (0..4), its arcs (a byte each, 255 = 4 bytes
// follow), and the value (integers 4 bytes, strings a length and bytes).
//
// Checks: the walk is over or asks one OID under each unfinished column;
// no more rows than the limit; made points have valid, unique names not
// among those taken; a value is finite or comes with a reason.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "fuzz_check.hpp"
#include "sources/snmp/snmp_table.hpp"
#include "sources/snmp/snmp_walk.hpp"

namespace {

using namespace rackwatch::snmp;
using rackwatch::fuzz::require;

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint32_t word() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

const Oid kBase{1, 3, 6, 1, 4, 1, 99999, 9, 1};

Oid column(std::uint32_t c) {
  Oid o = kBase;
  o.push_back(c + 1);
  return o;
}

VarBind next_varbind(Bytes& in) {
  const std::uint8_t kind = in.byte();
  VarBind v;
  const unsigned col = kind & 3U;
  v.oid = col < 3 ? column(col) : Oid{1, 3, 6, 1, 4, 1, 99999, 10};
  const unsigned arcs = in.byte() % 5;
  for (unsigned i = 0; i < arcs; ++i) {
    const std::uint8_t a = in.byte();
    v.oid.push_back(a == 255 ? in.word() : a);
  }
  switch ((kind >> 2) & 7U) {
    case 0: v.type = VarType::integer; v.integer = static_cast<std::int32_t>(in.word()); break;
    case 1: v.type = VarType::gauge32; v.unsigned_value = in.word(); break;
    case 2: {
      v.type = VarType::octet_string;
      const unsigned n = in.byte() % 32;
      for (unsigned i = 0; i < n; ++i) v.bytes += static_cast<char>(in.byte());
      break;
    }
    case 3: v.type = VarType::counter64; v.unsigned_value = (std::uint64_t{in.word()} << 32) | in.word(); break;
    case 4: v.type = VarType::end_of_mib_view; break;
    case 5: v.type = VarType::no_such_instance; break;
    case 6: v.type = VarType::null; break;
    default: v.type = VarType::object_id; v.bytes = "1.3.6.1"; break;
  }
  return v;
}

TableSpec spec(bool three_parts) {
  TableSpec t;
  t.name = "fuzzed";
  t.index = three_parts ? std::vector<std::string>{"pdu", "inlet", "sensor"} : std::vector<std::string>{"outlet"};
  t.column_names = {"value", "digits", "name"};
  t.columns = {column(0), column(1), column(2)};
  t.label = 2;
  const std::string row = three_parts ? "p{pdu}_i{inlet}_s{sensor}" : "outlet{outlet}";
  auto point = [&](const std::string& suffix) {
    TablePoint p;
    p.point.name = row + suffix;
    p.point.description = "{label} of " + row;
    p.point.invalid = {-1};
    return p;
  };
  TablePoint scaled = point("_scaled");
  scaled.decimals = 1;
  scaled.where.push_back({true, three_parts ? 2U : 0U, "part", {1, 2, 3, 7}});
  TablePoint entity = point("_entity");
  entity.entity_scale = 1;
  entity.decimals = 1;
  entity.ok_when.push_back({false, 1, "digits", {8, 9, 10}});
  TablePoint plain = point("");
  t.points = {plain, scaled, entity};
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t head = in.byte();
  const bool three_parts = (head & 1U) != 0;
  const std::size_t max_rows = 1 + ((head >> 1) & 63U);
  const TableSpec table = spec(three_parts);
  TableWalk walk(table.columns, max_rows);
  while (!walk.done() && !in.empty()) {
    std::vector<VarBind> answer;
    const unsigned n = in.byte() % 16;
    for (unsigned i = 0; i < n; ++i) answer.push_back(next_varbind(in));
    const auto error = walk.take(answer);
    if (error) {
      require(!error->empty(), "an error says what");
      require(walk.done(), "an error ends the walk");
    }
    for (const auto& oid : walk.next_request()) {
      bool under = false;
      for (const auto& c : table.columns) under = under || starts_with(oid, c);
      require(under, "the walk asks only under its columns");
    }
    require(walk.rows().size() <= max_rows, "no more rows than the limit");
  }
  const std::vector<std::string> taken{three_parts ? "p1_i1_s1" : "outlet1"};
  const auto found = expand_rows({table}, {walk.rows()}, taken, 40);
  require(found.configs.size() == found.made.size(), "a config for each point made");
  require(found.configs.size() <= 40, "no more points than allowed");
  std::set<std::string> names(taken.begin(), taken.end());
  for (std::size_t i = 0; i < found.made.size(); ++i) {
    require(rackwatch::valid_name(found.configs[i].name), "a made name is valid");
    require(names.insert(found.configs[i].name).second, "a made name is new");
    const auto& made = found.made[i];
    const auto row = walk.rows().find(made.row);
    require(row != walk.rows().end(), "a point's row was walked");
    const auto n = row_value(table, table.points.at(made.point), made.row, row->second);
    if (n.value) {
      require(std::isfinite(*n.value), "a value is finite");
    } else {
      require(!n.error.empty(), "no value has a reason");
    }
  }
  return 0;
}
