#include "core/config_reader.hpp"

#include <charconv>
#include <cmath>
#include <set>
#include <utility>

namespace rackwatch {
namespace {

std::string_view type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "empty";
    case YAML::NodeType::Scalar: return "a scalar";
    default: return "undefined";
  }
}

std::optional<double> to_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  // YAML spellings of special floats.
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::nan("");
  if (s == ".inf" || s == "+.inf" || s == ".Inf") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf") return -HUGE_VAL;
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  // Hexadecimal integers are handy for device sentinels (0x8000).
  if (end - begin > 2 && begin[0] == '0' && (begin[1] == 'x' || begin[1] == 'X')) {
    unsigned long long u = 0;
    auto [p, ec] = std::from_chars(begin + 2, end, u, 16);
    if (ec != std::errc{} || p != end) return std::nullopt;
    return static_cast<double>(u);
  }
  auto [p, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return v;
}

}  // namespace

namespace {

// "1.5 MiB" → {1.5, "MiB"}: a non-negative number and the unit after it.
std::optional<std::pair<double, std::string_view>> split_quantity(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return std::nullopt;
  double n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, n);
  if (ec != std::errc{} || p != text.data() + i) return std::nullopt;
  std::string_view suffix = text.substr(i);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  return std::make_pair(n, suffix);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto q = split_quantity(text);
  if (!q) return std::nullopt;
  const auto& [n, suffix] = *q;
  double ms_per = 0;
  if (suffix.empty() || suffix == "s") ms_per = 1000;
  else if (suffix == "ms") ms_per = 1;
  else if (suffix == "m" || suffix == "min") ms_per = 60'000;
  else if (suffix == "h") ms_per = 3'600'000;
  else return std::nullopt;
  const double ms = n * ms_per;
  if (!std::isfinite(ms) || ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  const auto q = split_quantity(text);
  if (!q) return std::nullopt;
  const auto& [n, suffix] = *q;
  double unit = 0;
  if (suffix.empty() || suffix == "B") unit = 1;
  else if (suffix == "KiB") unit = 1024.0;
  else if (suffix == "MiB") unit = 1024.0 * 1024;
  else if (suffix == "GiB") unit = 1024.0 * 1024 * 1024;
  else if (suffix == "kB" || suffix == "KB") unit = 1e3;
  else if (suffix == "MB") unit = 1e6;
  else if (suffix == "GB") unit = 1e9;
  else return std::nullopt;
  const double bytes = n * unit;
  if (!std::isfinite(bytes) || bytes > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

SourceMark ConfigReader::mark(const YAML::Node& node) const {
  SourceMark m{file_, 0, 0};
  if (node.IsDefined()) {
    auto ym = node.Mark();
    if (ym.line >= 0) {
      m.line = ym.line + 1;
      m.column = ym.column + 1;
    }
  }
  return m;
}

void ConfigReader::error(const YAML::Node& node, std::string message) {
  diags_.error(mark(node), std::move(message));
}

void ConfigReader::check_keys(const YAML::Node& map,
                              std::initializer_list<std::string_view> allowed,
                              std::string_view what) {
  check_keys(map, std::vector<std::string_view>(allowed), what);
}

void ConfigReader::check_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                              std::string_view what) {
  if (!map.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const auto key = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (auto a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      error(kv.first, "unknown key '" + key + "' in " + std::string(what) + " (known: " + list + ")");
    }
    if (!seen.insert(key).second) error(kv.first, "duplicate key '" + key + "' in " + std::string(what));
  }
}

YAML::Node ConfigReader::child(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& kv : map) {
    if (kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node ConfigReader::present(const YAML::Node& map, std::string_view key, bool required) {
  auto node = child(map, key);
  if (!node.IsDefined()) {
    if (required) error(map, "missing required key '" + std::string(key) + "'");
    return node;
  }
  return node;
}

std::optional<std::string> ConfigReader::as_string(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + ": expected a string, found " + std::string(type_name(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<double> ConfigReader::as_number(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + ": expected a number, found " + std::string(type_name(node)));
    return std::nullopt;
  }
  auto v = to_double(node.Scalar());
  if (!v) error(node, std::string(what) + ": expected a number, found '" + node.Scalar() + "'");
  return v;
}

std::optional<std::string> ConfigReader::string(const YAML::Node& map, std::string_view key,
                                                bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  if (node.IsNull()) {
    if (required) error(node, "'" + std::string(key) + "' must not be empty");
    return std::nullopt;
  }
  return as_string(node, "'" + std::string(key) + "'");
}

std::optional<double> ConfigReader::number(const YAML::Node& map, std::string_view key,
                                           bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  return as_number(node, "'" + std::string(key) + "'");
}

std::optional<long long> ConfigReader::integer(const YAML::Node& map, std::string_view key,
                                               bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  auto v = as_number(node, "'" + std::string(key) + "'");
  if (!v) return std::nullopt;
  if (std::trunc(*v) != *v || std::fabs(*v) > 9.0e15) {
    error(node, "'" + std::string(key) + "': expected an integer, found '" + node.Scalar() + "'");
    return std::nullopt;
  }
  return static_cast<long long>(*v);
}

std::optional<bool> ConfigReader::boolean(const YAML::Node& map, std::string_view key,
                                          bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  if (node.IsScalar()) {
    const auto& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  error(node, "'" + std::string(key) + "': expected true or false, found " +
                  (node.IsScalar() ? "'" + node.Scalar() + "'" : std::string(type_name(node))));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ConfigReader::duration(const YAML::Node& map,
                                                                std::string_view key,
                                                                bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  if (node.IsScalar()) {
    if (auto d = parse_duration(node.Scalar())) return d;
  }
  error(node, "'" + std::string(key) + "': expected a duration such as 500ms, 10s, 5m or 1h, found " +
                  (node.IsScalar() ? "'" + node.Scalar() + "'" : std::string(type_name(node))));
  return std::nullopt;
}

std::optional<std::vector<std::string>> ConfigReader::string_list(const YAML::Node& map,
                                                                  std::string_view key,
                                                                  bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (!node.IsSequence()) {
    error(node, "'" + std::string(key) + "': expected a list of strings, found " +
                    std::string(type_name(node)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : node) {
    auto s = as_string(item, "item of '" + std::string(key) + "'");
    if (s) out.push_back(*s);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<double>> ConfigReader::number_list(const YAML::Node& map,
                                                             std::string_view key,
                                                             bool required) {
  auto node = present(map, key, required);
  if (!node.IsDefined()) return std::nullopt;
  if (node.IsScalar()) {
    auto v = as_number(node, "'" + std::string(key) + "'");
    if (!v) return std::nullopt;
    return std::vector<double>{*v};
  }
  if (!node.IsSequence()) {
    error(node, "'" + std::string(key) + "': expected a list of numbers, found " +
                    std::string(type_name(node)));
    return std::nullopt;
  }
  std::vector<double> out;
  bool ok = true;
  for (const auto& item : node) {
    auto v = as_number(item, "item of '" + std::string(key) + "'");
    if (v) out.push_back(*v);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

namespace {

// What a scan of the text finds before yaml-cpp sees it: where flow
// collections first nest too deep, and how many keys and list items there
// are. yaml-cpp descends recursively into flow collections ("[[[[..."), so
// deep nesting would exhaust the stack before any check of ours ran; and it
// builds every node at once. Quoted scalars and comments are skipped; the
// count may be a little high (a ": " inside a plain scalar), never low.
struct YamlShape {
  std::optional<SourceMark> too_deep;
  std::size_t entries = 0;
};

YamlShape scan_yaml(const std::string& text, const std::string& file) {
  YamlShape shape;
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  bool comment = false;
  char previous = '\n';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\n';
    const bool ends = next == ' ' || next == '\n' || next == '\r' || next == '\t';
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      // A quoted scalar may span lines; a plain line ending closes nothing.
    } else if (comment) {
    } else if (quote) {
      if (c == quote) quote = 0;
    } else if ((c == '"' || c == '\'') && (previous == ' ' || previous == '[' || previous == '{' ||
                                             previous == ',' || previous == ':' || previous == '\n')) {
      quote = c;
    } else if (c == '#' && (previous == ' ' || previous == '\n' || previous == '\t')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (++depth > static_cast<int>(kMaxYamlNesting) && !shape.too_deep) shape.too_deep = SourceMark{file, line, column};
      ++shape.entries;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if ((c == ':' && ends) || (c == '-' && ends && (previous == ' ' || previous == '\n')) ||
               (c == ',' && depth > 0)) {
      ++shape.entries;
    }
    previous = c;
  }
  return shape;
}

}  // namespace

bool within_yaml_bounds(const std::string& text, const std::string& file, Diagnostics& diags) {
  if (text.size() > kMaxYamlBytes) {
    diags.error({file, 0, 0}, "the file is " + std::to_string(text.size()) + " bytes; at most " +
                                  std::to_string(kMaxYamlBytes) + " are read");
    return false;
  }
  const auto shape = scan_yaml(text, file);
  if (shape.too_deep) {
    diags.error(*shape.too_deep, "nested deeper than " + std::to_string(kMaxYamlNesting) + " levels of [ ] or { }");
    return false;
  }
  if (shape.entries > kMaxYamlEntries) {
    diags.error({file, 0, 0}, "about " + std::to_string(shape.entries) + " keys and list items; at most " +
                                  std::to_string(kMaxYamlEntries) + " are read (a rack's config needs far fewer)");
    return false;
  }
  return true;
}

}  // namespace rackwatch
