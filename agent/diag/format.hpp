// Shared text formatting of the `rackwatch` verbs: numbers for people, and
// aligned tables.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rackwatch::v1 {
class AlarmEvent;
}

namespace rackwatch::cli {

// A value as a person reads it: "45.25", "230.1", "1234567.8"; trailing zeros trimmed.
std::string format_value(double value);

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
