// Span coalescing: the registers each point needs, grouped into as few reads
// as the limits allow. A Modbus round trip costs the same for 1 register or
// 125, so a device is read in spans, not point by point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

// The four data tables (Application Protocol v1.1b3 §4.3).
enum class Table : std::uint8_t { coil, discrete_input, holding_register, input_register };

FunctionCode read_function(Table table);
// "holding register", ...
std::string_view table_name(Table table);

// `count` registers (or bits, for coils and discrete inputs) from `address`.
struct RegisterRange {
  Table table = Table::holding_register;
  std::uint16_t address = 0;
  std::uint16_t count = 1;

  friend bool operator==(const RegisterRange&, const RegisterRange&) = default;
};

struct SpanOptions {
  // Unneeded registers (or bits) that may be read through to join two points
  // into one read. 0 joins only adjacent or overlapping points: reading
  // through unmapped registers makes some devices answer "illegal data address".
  std::uint16_t max_gap = 0;
  // Largest read: at most 125 registers, 2000 bits (§6.1-6.4); lower for
  // devices that refuse long reads.
  std::uint16_t max_registers = kMaxReadRegisters;
  std::uint16_t max_bits = kMaxReadBits;
};

// One read of the plan.
struct Span {
  Table table = Table::holding_register;
  std::uint16_t address = 0;
  std::uint16_t count = 0;

  ReadRequest request() const { return {read_function(table), address, count}; }
  friend bool operator==(const Span&, const Span&) = default;
};

// Where a point's registers are in the reads: values[offset .. offset+count)
// of the response to spans[span].
struct Placement {
  std::size_t span = 0;
  std::uint16_t offset = 0;
};

struct SpanPlan {
  std::vector<Span> spans;  // by table, then address
  // One entry per point, in the points' order: its placement, or why it has
  // none — a count of 0 or beyond one read, a range past 65535
  // (invalid_range), or an unreadable register inside it
  // (unreadable_register). Such a point is left out; the others still read.
  std::vector<Result<Placement>> points;
};

// Groups `points` into reads: a read covers whole points of one table, at
// most max_registers (max_bits) long, with gaps of at most max_gap unneeded
// registers between them, and never includes an address in `unreadable`
// (ranges a profile marks, or registers that answered "illegal data
// address"). Points may repeat or overlap. Greedy in address order.
// Fails only when the options are unusable (a limit of 0 or beyond the spec).
Result<SpanPlan> plan_spans(std::span<const RegisterRange> points, const SpanOptions& options = {},
                            std::span<const RegisterRange> unreadable = {});

}  // namespace rackwatch::modbus
