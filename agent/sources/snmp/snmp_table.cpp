#include "sources/snmp/snmp_table.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/printable.hpp"

namespace rackwatch::snmp {

namespace {

// The integer a cell holds, for tests and per-row scaling.
std::optional<std::int64_t> cell_integer(const std::optional<VarBind>& cell) {
  if (!cell) return std::nullopt;
  switch (cell->type) {
    case VarType::integer: return cell->integer;
    case VarType::counter32:
    case VarType::gauge32:
    case VarType::timeticks: return static_cast<std::int64_t>(cell->unsigned_value);
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> tested_value(const RowTest& test, const Oid& row,
                                         const std::vector<std::optional<VarBind>>& cells) {
  if (test.index_part) {
    if (test.at >= row.size()) return std::nullopt;
    return row[test.at];
  }
  return test.at < cells.size() ? cell_integer(cells[test.at]) : std::nullopt;
}

bool passes(const RowTest& test, const Oid& row, const std::vector<std::optional<VarBind>>& cells) {
  const auto v = tested_value(test, row, cells);
  return v && std::find(test.values.begin(), test.values.end(), *v) != test.values.end();
}

std::string list_text(const std::vector<std::int64_t>& values) {
  std::string out;
  for (auto v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out;
}

// `text` with each {part} of the index replaced by the row's arc, and
// {label} by the row's label.
std::string fill(const std::string& text, const TableSpec& table, const Oid& row, const std::string& label) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find('{', i);
    const auto close = open == std::string::npos ? std::string::npos : text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    const std::string key = text.substr(open + 1, close - open - 1);
    bool done = false;
    for (std::size_t p = 0; p < table.index.size() && p < row.size(); ++p) {
      if (table.index[p] == key) {
        out += std::to_string(row[p]);
        done = true;
      }
    }
    if (!done && key == "label") {
      out += label;
      done = true;
    }
    if (!done) out.append(text, open, close - open + 1);
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

std::string row_label(const TableSpec& table, const Oid& row, const std::vector<std::optional<VarBind>>& cells) {
  if (table.label && *table.label < cells.size()) {
    const auto& cell = cells[*table.label];
    if (cell && cell->type == VarType::octet_string && !cell->bytes.empty()) {
      return printable(cell->bytes.substr(0, 64));
    }
  }
  return format_oid(row);
}

}  // namespace

Expansion expand_rows(const std::vector<TableSpec>& tables, const std::vector<Rows>& rows,
                      std::vector<std::string> taken, std::size_t max_points) {
  Expansion out;
  std::set<std::string> names(taken.begin(), taken.end());
  for (std::size_t t = 0; t < tables.size() && t < rows.size(); ++t) {
    const auto& table = tables[t];
    std::size_t odd_rows = 0;
    for (const auto& entry : rows[t]) {
      // Named, not bound: Clang 14 lambdas cannot capture structured bindings.
      const Oid& row = entry.first;
      const auto& cells = entry.second;
      if (row.size() != table.index.size()) {
        ++odd_rows;
        continue;
      }
      const std::string label = row_label(table, row, cells);
      for (std::size_t p = 0; p < table.points.size(); ++p) {
        const auto& tp = table.points[p];
        if (!std::all_of(tp.where.begin(), tp.where.end(), [&](const RowTest& w) { return passes(w, row, cells); })) {
          continue;
        }
        // A row without the template's value column has no such point.
        if (tp.value >= cells.size() || !cells[tp.value]) continue;
        PointConfig config = tp.point;
        config.name = fill(tp.point.name, table, row, label);
        config.description = fill(tp.point.description, table, row, label);
        if (!valid_name(config.name)) {
          out.skipped.push_back("table " + table.name + " row " + format_oid(row) + ": '" + config.name +
                                "' is not a valid point name");
          continue;
        }
        if (!names.insert(config.name).second) {
          out.skipped.push_back("table " + table.name + " row " + format_oid(row) + ": point '" + config.name +
                                "' exists already");
          continue;
        }
        if (out.configs.size() >= max_points) {
          out.skipped.push_back("table " + table.name + ": more than " + std::to_string(max_points) +
                                " points; the rest are left out");
          return out;
        }
        out.configs.push_back(std::move(config));
        out.made.push_back({t, p, row});
      }
    }
    if (odd_rows > 0) {
      out.skipped.push_back("table " + table.name + ": " + std::to_string(odd_rows) + " rows whose index is not " +
                            std::to_string(table.index.size()) + " arcs (" + std::to_string(odd_rows) + " left out)");
    }
  }
  return out;
}

namespace {

bool same_cell(const std::optional<VarBind>& a, const std::optional<VarBind>& b) {
  if (!a || !b) return !a && !b;
  return a->type == b->type && a->integer == b->integer && a->unsigned_value == b->unsigned_value &&
         a->bytes == b->bytes;
}

}  // namespace

bool same_points(const TableSpec& table, const Rows& a, const Rows& b) {
  if (a.size() != b.size()) return false;
  // By column: whether it counts (1: its presence, 2: its value too).
  std::vector<std::uint8_t> counts(table.columns.size(), 0);
  if (table.label && *table.label < counts.size()) counts[*table.label] = 2;
  for (const auto& p : table.points) {
    // A row without the value column makes no point: its presence counts.
    if (p.value < counts.size()) counts[p.value] = std::max<std::uint8_t>(counts[p.value], 1);
    for (const auto& w : p.where) {
      if (!w.index_part && w.at < counts.size()) counts[w.at] = 2;
    }
  }
  for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
    if (x->first != y->first) return false;
    for (std::size_t c = 0; c < counts.size(); ++c) {
      if (counts[c] == 0) continue;
      const auto* cx = c < x->second.size() && x->second[c] ? &x->second[c] : nullptr;
      const auto* cy = c < y->second.size() && y->second[c] ? &y->second[c] : nullptr;
      if (!cx || !cy) {
        if (cx != cy) return false;
        continue;
      }
      if (counts[c] == 2 && !same_cell(*cx, *cy)) return false;
    }
  }
  return true;
}

Number row_value(const TableSpec& table, const TablePoint& point, const Oid& row_index,
                 const std::vector<std::optional<VarBind>>& cells) {
  for (const auto& test : point.ok_when) {
    if (passes(test, row_index, cells)) continue;
    const auto v = tested_value(test, row_index, cells);
    return {std::nullopt, test.name + (v ? " reads " + std::to_string(*v) : " is missing") + " (ok is " +
                              list_text(test.values) + ")"};
  }
  if (point.value >= cells.size() || !cells[point.value]) {
    return {std::nullopt, "column " + table.column_names.at(point.value) + " has no row " + format_oid(row_index)};
  }
  Number n = to_number(*cells[point.value]);
  if (!n.value) return n;
  for (double sentinel : point.point.invalid) {
    if (*n.value == sentinel) return {std::nullopt, "reads " + std::to_string(static_cast<long long>(sentinel)) +
                                                       ", which the device sends for no value"};
  }
  auto integer_at = [&](std::size_t column) {
    return column < cells.size() ? cell_integer(cells[column]) : std::nullopt;
  };
  if (point.decimals) {
    const auto d = integer_at(*point.decimals);
    if (!d || *d < -9 || *d > 9) {
      return {std::nullopt, "its decimals (" + table.column_names.at(*point.decimals) + ") are " +
                                (d ? std::to_string(*d) + ", outside -9..9" : std::string("missing"))};
    }
    *n.value /= std::pow(10.0, static_cast<double>(*d));
  }
  if (point.entity_scale) {
    const auto s = integer_at(*point.entity_scale);
    if (!s || *s < 1 || *s > 17) {
      return {std::nullopt, "its scale (" + table.column_names.at(*point.entity_scale) + ") is " +
                                (s ? std::to_string(*s) + ", outside 1..17" : std::string("missing"))};
    }
    *n.value *= std::pow(10.0, 3.0 * static_cast<double>(*s - 9));
  }
  if (!std::isfinite(*n.value)) return {std::nullopt, "its value is out of range once scaled"};
  return n;
}

}  // namespace rackwatch::snmp
