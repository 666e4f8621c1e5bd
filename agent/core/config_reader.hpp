// Typed, checked access to YAML nodes for the config loader and for each
// source type's own keys. Every failed check records a diagnostic at the
// node's place and returns nothing, so one run reports every problem.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/diagnostics.hpp"

namespace rackwatch {

class ConfigReader {
 public:
  ConfigReader(std::string file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}

  const std::string& file() const { return file_; }
  Diagnostics& diags() { return diags_; }

  SourceMark mark(const YAML::Node& node) const;
  void error(const YAML::Node& node, std::string message);

  // Reports each key of `map` not in `allowed` ("unknown key 'x' in <what>").
  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                  std::string_view what);
  void check_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                  std::string_view what);

  // `map[key]`, or an undefined node when absent. Reports a non-map parent.
  YAML::Node child(const YAML::Node& map, std::string_view key);

  // Typed getters: nullopt when the key is absent (and `required` reports it)
  // or when the value has the wrong type (always reported).
  std::optional<std::string> string(const YAML::Node& map, std::string_view key,
                                    bool required = false);
  std::optional<double> number(const YAML::Node& map, std::string_view key,
                               bool required = false);
  std::optional<long long> integer(const YAML::Node& map, std::string_view key,
                                   bool required = false);
  std::optional<bool> boolean(const YAML::Node& map, std::string_view key,
                              bool required = false);
  // "250ms", "10s", "5m", "1h", or a bare number of seconds.
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& map, std::string_view key,
                                                    bool required = false);
  std::optional<std::vector<std::string>> string_list(const YAML::Node& map,
                                                      std::string_view key,
                                                      bool required = false);
  std::optional<std::vector<double>> number_list(const YAML::Node& map, std::string_view key,
                                                 bool required = false);

  // Scalar conversions of a node itself (for list items).
  std::optional<std::string> as_string(const YAML::Node& node, std::string_view what);
  std::optional<double> as_number(const YAML::Node& node, std::string_view what);

 private:
  YAML::Node present(const YAML::Node& map, std::string_view key, bool required);

  std::string file_;
  Diagnostics& diags_;
};

// Bounds on a YAML file read by the agent (the config, device profiles): it
// is operator input to a service and must not be able to exhaust it.
inline constexpr std::size_t kMaxYamlBytes = 1 << 20;
inline constexpr std::size_t kMaxYamlNesting = 64;  // of [ ] and { }
// yaml-cpp spends about 0.5 KB a node and builds them all at once: 340,000
// one-key lines (1 MiB) cost 320 MB. 60,000 keys and list items hold 10,000
// points in flow style (the benchmarks' largest config) and cost at most
// about 70 MB; a rack's config has a few thousand.
inline constexpr std::size_t kMaxYamlEntries = 60'000;

// False, with the problem in `diags`, when `text` is larger than
// kMaxYamlBytes, nests flow collections deeper than kMaxYamlNesting, or has
// more than kMaxYamlEntries keys and list items. yaml-cpp descends into
// "[[[[..." recursively and builds every node at once, so this runs first.
bool within_yaml_bounds(const std::string& text, const std::string& file, Diagnostics& diags);

// Parses "250ms", "10s", "1.5s", "5m", "1h" or a bare number of seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses "64MiB", "512KiB", "1GiB", "10MB", "2kB" or a bare number of bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace rackwatch
