// An SNMP table as a profile describes it: the columns it reads, by alias;
// the names of the parts of its row index (unit, inlet, outlet, sensor
// type); and point templates that make one point per row found, so that a
// 48-outlet PDU needs one template, not 48 points. Pure: rows in, point
// configs and values out, tested by table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_value.hpp"
#include "sources/snmp/snmp_walk.hpp"

namespace rackwatch::snmp {

// A test on a row: one of its index parts, or the integer in one of its
// columns, is one of `values`.
struct RowTest {
  bool index_part = false;
  std::size_t at = 0;  // the part's or the column's position
  std::string name;    // its name in the profile, for messages
  std::vector<std::int64_t> values;
};

struct TablePoint {
  PointConfig point;  // `name` and `description` are templates: {part} of the index, {label}
  std::size_t value = 0;  // the column of the raw value
  std::vector<RowTest> where;    // the rows it is made for (all of them when empty)
  std::vector<RowTest> ok_when;  // a row that fails these gives no value, and says why
  // Per-row scaling the device states in another column of the same row:
  std::optional<std::size_t> decimals;      // raw ÷ 10^v (Raritan's decimal digits, ENTITY precision)
  std::optional<std::size_t> entity_scale;  // × 10^(3·(v − 9)) (ENTITY-SENSOR-MIB's SensorDataScale)
};

struct TableSpec {
  std::string name;
  std::vector<std::string> index;  // one arc each
  std::vector<std::string> column_names;
  std::vector<Oid> columns;
  std::optional<std::size_t> label;  // a text column that names the row
  std::vector<TablePoint> points;
};

// A point made of a template and a row.
struct RowPoint {
  std::size_t table = 0;
  std::size_t point = 0;  // the template, in its table
  Oid row;
};

struct Expansion {
  std::vector<PointConfig> configs;  // names and descriptions filled in
  std::vector<RowPoint> made;        // where each comes from, in the same order
  std::vector<std::string> skipped;  // rows or points left out, and why
};

// The points the tables' rows make: table by table, row by row in index
// order, templates in profile order. `taken` holds names already used (the
// source's own points); a made name that is taken, or is not a valid name,
// is skipped and said. At most `max_points` are made.
Expansion expand_rows(const std::vector<TableSpec>& tables, const std::vector<Rows>& rows,
                      std::vector<std::string> taken, std::size_t max_points);

// True when `a` and `b` make the same points: the same rows, and in each
// the same label and the same values in the columns a `where` tests. Much
// cheaper than expanding the rows again, which a poll need not do when
// nothing moved.
bool same_points(const TableSpec& table, const Rows& a, const Rows& b);

// The value of a row point, from its row, or why it has none.
Number row_value(const TableSpec& table, const TablePoint& point, const Oid& row_index,
                 const std::vector<std::optional<VarBind>>& cells);

}  // namespace rackwatch::snmp
