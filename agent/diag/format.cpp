#include "diag/format.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <ostream>

#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch::cli {

namespace {

// `value` with `digits` significant digits (whole digits are never cut) and
// at least `min_decimals` decimals, trailing zeros trimmed.
std::string significant(double value, int digits, int min_decimals = 0) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  const double mag = std::fabs(value);
  if (mag == 0) return "0";
  char buf[64];
  if (mag < 1e-6 || mag >= 1e15) {
    // Beyond what fixed notation shows sensibly.
    std::snprintf(buf, sizeof buf, "%.*g", digits, value);
    return buf;
  }
  const int exponent = static_cast<int>(std::floor(std::log10(mag)));
  const int decimals = std::max(min_decimals, digits - 1 - exponent);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

constexpr int kDigits = 4;

// `mag` rounded to kDigits significant digits: the prefix is chosen on what
// is shown, so that 999.96 W reads "1 kW", not "1000 W".
double rounded(double mag) {
  if (mag == 0 || !std::isfinite(mag)) return mag;
  const double scale = std::pow(10.0, kDigits - 1 - static_cast<int>(std::floor(std::log10(mag))));
  return std::round(mag * scale) / scale;
}

// The units shown with a decimal prefix when large. Energy stops at MWh,
// the unit meters and bills use.
constexpr std::array<std::string_view, 4> kPrefixed{"W", "Wh", "VA", "var"};

}  // namespace

std::string format_value(double value) { return significant(value, kDigits); }

DisplayValue display_value(double value, std::string_view unit) {
  const bool prefixed = std::find(kPrefixed.begin(), kPrefixed.end(), unit) != kPrefixed.end();
  // An energy counter is read like an odometer: two decimals of the unit
  // shown, so that it is seen to move (10 kWh at MWh).
  const int min_decimals = unit == "Wh" ? 2 : 0;
  const double mag = rounded(std::fabs(value));
  if (!prefixed || !std::isfinite(value) || mag < 1e3) {
    return {significant(value, kDigits, min_decimals), std::string(unit)};
  }
  if (mag < 1e6) return {significant(value / 1e3, kDigits, min_decimals), "k" + std::string(unit)};
  return {significant(value / 1e6, kDigits, min_decimals), "M" + std::string(unit)};
}

std::string display_text(double value, std::string_view unit) {
  const auto d = display_value(value, unit);
  return d.unit.empty() ? d.value : d.value + " " + d.unit;
}

std::string format_age(std::int64_t ms) {
  ms = std::max<std::int64_t>(0, ms);
  if (ms < 10'000) return significant(static_cast<double>(ms / 100) / 10.0, 2) + "s";
  const auto s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string format_duration(std::int64_t ms) {
  const auto s = std::max<std::int64_t>(0, ms) / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 172800) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

std::string format_took_us(std::int64_t us) {
  us = std::max<std::int64_t>(0, us);
  if (us < 1000) return std::to_string(us) + "µs";
  if (us < 1'000'000) return significant(static_cast<double>(us) / 1e3, 3) + "ms";
  return significant(static_cast<double>(us) / 1e6, 3) + "s";
}

namespace {
// Display width of UTF-8 text: count code points, not bytes (°C).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
}  // namespace

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const auto pad = std::string(widths[i] - width(row[i]), ' ');
      const bool r = i < right.size() && right[i];
      if (i > 0) line += "  ";
      if (r) line += pad + row[i];
      else line += row[i] + (i + 1 < row.size() ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

std::string format_time_ms(long long unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lld", buf, unix_ms % 1000);
  return out;
}

std::string alarm_value_text(const v1::AlarmEvent& a) {
  std::string out = a.has_value() ? "value " + format_value(a.value()) : "no value";
  if (a.has_limit()) out += ", limit " + format_value(a.limit());
  if (!a.reason().empty()) out += ": " + a.reason();
  return out;
}

}  // namespace rackwatch::cli
