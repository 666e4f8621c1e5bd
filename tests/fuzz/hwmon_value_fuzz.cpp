// Fuzz target: the hwmon parsers of what sysfs holds, on arbitrary bytes. A
// driver writes the attribute files and names them, and a buggy one writes
// anything. Checks parse_sysfs_integer against a plain model of what it
// accepts, that the quoted content in a reason is printable and short, and
// that attribute file names ("temp1_input") parse to what they spell.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sources/hwmon/hwmon_attribute.hpp"
#include "sources/hwmon/hwmon_read.hpp"

namespace {

using rackwatch::fuzz::require;

bool is_sysfs_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Decimal digits (no leading zeros) compared as numbers: a <= b.
bool decimal_at_most(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a <= b;
}

// The model: optional '-', one or more digits, and a magnitude that fits an
// int64 (negative) or a uint64 (positive), after trimming sysfs whitespace.
bool model_accepts(std::string_view text) {
  while (!text.empty() && is_sysfs_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_sysfs_space(text.back())) text.remove_suffix(1);
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  return negative ? decimal_at_most(text, "9223372036854775808")
                  : decimal_at_most(text, "18446744073709551615");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto value = rackwatch::parse_sysfs_integer(text);
  require(value.has_value() == model_accepts(text), "accepts exactly the integers that fit");
  if (value) {
    // Both sides round the integer to the nearest double.
    const std::string trimmed(rackwatch::trim_sysfs(text));
    require(*value == std::strtod(trimmed.c_str(), nullptr), "the value is the text's number");
  }

  for (bool cut : {false, true}) {
    const auto shown = rackwatch::quote_content(text, cut);
    for (char c : shown) {
      const auto u = static_cast<unsigned char>(c);
      require(u >= 0x20 && u < 0x7f, "a quoted reason is printable ASCII");
    }
    // 40 bytes at most, each at most 4 characters (\xNN), and "...".
    require(shown.size() <= 40 * 4 + 3, "a quoted reason is short");
  }

  // The same bytes as a file name in a hwmonN directory. Written back in its
  // plain spelling (no leading zeros), a parsed name parses to itself.
  if (const auto name = rackwatch::parse_hwmon_file_name(text)) {
    const auto spelled = rackwatch::hwmon_sensor_base(name->sensor) + "_" + name->suffix;
    const auto again = rackwatch::parse_hwmon_file_name(spelled);
    require(again && again->sensor.kind == name->sensor.kind &&
                again->sensor.channel == name->sensor.channel && again->suffix == name->suffix,
            "a file name parses to what it spells");
  }
  return 0;
}
