// Shared text formatting of the `rackwatch` verbs: numbers, units and times
// for people, and aligned tables. Display only: what goes on the wire and
// the --json output keep canonical units and full precision.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace rackwatch::v1 {
class AlarmEvent;
}

namespace rackwatch::cli {

// About four significant digits, whole digits never cut, trailing zeros
// trimmed: "45.23", "230.1", "2314", "12345", "0.01235", "0".
std::string format_value(double value);

// A value in its canonical unit as a person reads it.
struct DisplayValue {
  std::string value;
  std::string unit;
};

// W, Wh, VA and var in k or M from a thousand of them on, then
// format_value: (45230, "W") → {"45.23", "kW"}; energy, a counter, keeps two
// decimals: (2313856652.5, "Wh") → {"2313.86", "MWh"}. Other units are
// kept: (36.254, "°C") → {"36.25", "°C"}.
DisplayValue display_value(double value, std::string_view unit);

// The same as one text: "45.23 kW"; the number alone when there is no unit.
std::string display_text(double value, std::string_view unit);

// An age or a wait in one unit, to fit a column: "0.4s", "12s", "4m",
// "3h", "2d" (a negative span is 0).
std::string format_age(std::int64_t ms);

// A longer span in two units: "45s", "4m10s", "3h5m", "2d4h".
std::string format_duration(std::int64_t ms);

// How long something took: "850µs", "5.21ms", "1.24s".
std::string format_took_us(std::int64_t us);

// Prints rows as columns separated by two spaces; the first row is the header.
// Columns listed in `right` are right-aligned (numbers).
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right = {});

// Local time "2026-11-28 16:05:01.250" of a Unix time in milliseconds.
std::string format_time_ms(long long unix_ms);

// An alarm's evidence: "value 46, limit 45", or "no value: timeout ..." for a
// failed or stale sensor, which has none (never a 0 that reads as normal).
std::string alarm_value_text(const v1::AlarmEvent& a);

}  // namespace rackwatch::cli
