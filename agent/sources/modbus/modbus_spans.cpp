#include "sources/modbus/modbus_spans.hpp"

#include <algorithm>
#include <string>

namespace rackwatch::modbus {
namespace {

bool is_bit_table(Table table) { return table == Table::coil || table == Table::discrete_input; }

// Half-open address range [begin, end) within one table; 32 bits so that an
// end of 65536 fits.
struct Interval {
  std::uint32_t begin;
  std::uint32_t end;
};

// The first unreadable address in [begin, end) of `barriers` (sorted,
// merged), or `end`.
std::uint32_t first_unreadable(const std::vector<Interval>& barriers, std::uint32_t begin,
                               std::uint32_t end) {
  // The first barrier that ends after `begin`.
  auto it = std::upper_bound(barriers.begin(), barriers.end(), begin,
                             [](std::uint32_t a, const Interval& b) { return a < b.end; });
  if (it == barriers.end() || it->begin >= end) return end;
  return std::max(it->begin, begin);
}

std::string describe(Table table, std::uint32_t address) {
  return std::string(table_name(table)) + " " + std::to_string(address);
}

}  // namespace

FunctionCode read_function(Table table) {
  switch (table) {
    case Table::coil: return FunctionCode::read_coils;
    case Table::discrete_input: return FunctionCode::read_discrete_inputs;
    case Table::holding_register: return FunctionCode::read_holding_registers;
    case Table::input_register: return FunctionCode::read_input_registers;
  }
  return FunctionCode::read_holding_registers;
}

std::string_view table_name(Table table) {
  switch (table) {
    case Table::coil: return "coil";
    case Table::discrete_input: return "discrete input";
    case Table::holding_register: return "holding register";
    case Table::input_register: return "input register";
  }
  return "register";
}

Result<SpanPlan> plan_spans(std::span<const RegisterRange> points, const SpanOptions& options,
                            std::span<const RegisterRange> unreadable) {
  if (options.max_registers == 0 || options.max_registers > kMaxReadRegisters) {
    return Error{ErrorCode::invalid_range,
                 "max_registers " + std::to_string(options.max_registers) + " is outside 1..125"};
  }
  if (options.max_bits == 0 || options.max_bits > kMaxReadBits) {
    return Error{ErrorCode::invalid_range,
                 "max_bits " + std::to_string(options.max_bits) + " is outside 1..2000"};
  }

  SpanPlan plan;
  plan.points.assign(points.size(), Placement{});

  for (Table table :
       {Table::coil, Table::discrete_input, Table::holding_register, Table::input_register}) {
    const std::uint32_t limit = is_bit_table(table) ? options.max_bits : options.max_registers;

    // This table's unreadable addresses, sorted and merged.
    std::vector<Interval> barriers;
    for (const auto& u : unreadable) {
      if (u.table == table && u.count > 0) {
        barriers.push_back(
            {u.address, std::min<std::uint32_t>(0x10000u, std::uint32_t{u.address} + u.count)});
      }
    }
    std::sort(barriers.begin(), barriers.end(),
              [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    std::vector<Interval> merged;
    for (const auto& b : barriers) {
      if (!merged.empty() && b.begin <= merged.back().end) {
        merged.back().end = std::max(merged.back().end, b.end);
      } else {
        merged.push_back(b);
      }
    }

    // This table's placeable points, in address order (longer first at one
    // address, so that the span grows once).
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& p = points[i];
      if (p.table != table) continue;
      const std::uint32_t end = std::uint32_t{p.address} + p.count;
      if (p.count == 0 || p.count > limit || end > 0x10000u) {
        plan.points[i] =
            Error{ErrorCode::invalid_range,
                  describe(table, p.address) + " count " + std::to_string(p.count) +
                      " does not fit one read (1.." + std::to_string(limit) + ", ending by 65535)"};
        continue;
      }
      if (auto bad = first_unreadable(merged, p.address, end); bad != end) {
        plan.points[i] =
            Error{ErrorCode::unreadable_register, describe(table, bad) + " is unreadable"};
        continue;
      }
      order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (points[a].address != points[b].address) return points[a].address < points[b].address;
      return points[a].count > points[b].count;
    });

    Interval current{0, 0};
    bool open = false;
    auto close = [&] {
      if (open) {
        plan.spans.push_back({table, static_cast<std::uint16_t>(current.begin),
                              static_cast<std::uint16_t>(current.end - current.begin)});
      }
      open = false;
    };
    for (std::size_t i : order) {
      const std::uint32_t begin = points[i].address;
      const std::uint32_t end = begin + points[i].count;
      // A point inside the open read (a repeat, or an overlap) extends
      // nothing and always joins it. A read is closed by a point that ends
      // beyond it and opens the next; in address order, any later point
      // inside the closed read is inside the new one too: no need to look back.
      if (open) {
        const std::uint32_t new_end = std::max(current.end, end);
        const bool near = begin <= current.end || begin - current.end <= options.max_gap;
        const bool short_enough = new_end - current.begin <= limit;
        // Growing reads [current.end, new_end), gap included: none of it
        // may be unreadable.
        const bool clear = first_unreadable(merged, current.end, new_end) == new_end;
        if (near && short_enough && clear) {
          current.end = new_end;
          plan.points[i] =
              Placement{plan.spans.size(), static_cast<std::uint16_t>(begin - current.begin)};
          continue;
        }
      }
      close();
      current = {begin, end};
      open = true;
      plan.points[i] = Placement{plan.spans.size(), 0};
    }
    close();
  }
  return plan;
}

}  // namespace rackwatch::modbus
