// A throw-away hwmon sysfs tree in a fresh temporary directory, for the
// hwmon source's tests, and the config text that points a source at it.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"

namespace rackwatch::test {

class FakeSysfs {
 public:
  FakeSysfs() {
    auto pattern = (std::filesystem::temp_directory_path() / "rackwatch-hwmon-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = buf.data();
  }
  ~FakeSysfs() {
    std::error_code ec;
    // Files made unreadable by a test must not stop the clean-up.
    for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    }
    std::filesystem::remove_all(root_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& relative) const { return root_ + "/" + relative; }

  // Writes `content` as the kernel does: followed by a newline.
  void write(const std::string& relative, const std::string& content, bool newline = true) const {
    const auto p = std::filesystem::path(path(relative));
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::trunc);
    out << content;
    if (newline) out << '\n';
    if (!out) throw std::runtime_error("cannot write " + p.string());
  }
  void make_dir(const std::string& relative) const {
    std::filesystem::create_directories(path(relative));
  }
  void remove(const std::string& relative) const { std::filesystem::remove_all(path(relative)); }
  void rename(const std::string& from, const std::string& to) const {
    std::filesystem::rename(path(from), path(to));
  }
  void chmod(const std::string& relative, mode_t mode) const {
    if (::chmod(path(relative).c_str(), mode) != 0) throw std::runtime_error("chmod failed");
  }

  // Chips as a small server shows them: two CPU packages, a power monitor,
  // a humidity sensor, an energy counter and a fan controller.
  void populate() const {
    write("hwmon0/name", "coretemp");
    write("hwmon0/temp1_label", "Package id 0");
    write("hwmon0/temp1_input", "45000");
    write("hwmon0/temp1_max", "80000");
    write("hwmon0/temp2_label", "Core 0");
    write("hwmon0/temp2_input", "41000");

    write("hwmon1/name", "ina3221");
    write("hwmon1/in1_label", "VIN");
    write("hwmon1/in1_input", "12100");
    write("hwmon1/curr1_input", "2500");
    write("hwmon1/power1_input", "30250000");
    write("hwmon1/power1_average", "30000000");

    write("hwmon2/name", "sht3x");
    write("hwmon2/humidity1_input", "41500");
    write("hwmon2/temp1_input", "-1500");

    write("hwmon3/name", "amd_energy");
    write("hwmon3/energy1_label", "Esocket0");
    write("hwmon3/energy1_input", "7200000000");

    write("hwmon4/name", "nct6775");
    write("hwmon4/fan1_input", "4200");

    write("hwmon5/name", "coretemp");
    write("hwmon5/temp1_label", "Package id 1");
    write("hwmon5/temp1_input", "52000");
  }

 private:
  std::string root_;
};

// A whole agent config whose one source, "hw", reads hwmon under `root`.
// `points` is the YAML of the points list, indented by four spaces.
inline std::string hwmon_config_text(const std::string& root, const std::string& points,
                                     const std::string& extra_source_keys = {}) {
  return "agent: {site: hall1, rack: r01, id: ctl1}\n"
         "mqtt: {brokers: ['tcp://127.0.0.1:1883']}\n"
         "sources:\n"
         "  - name: hw\n"
         "    type: hwmon\n"
         "    interval: 1s\n"
         "    root: '" +
         root + "'\n" + extra_source_keys + "    points:\n" + points;
}

// The 1-based number of the first line of `text` containing `needle` (0: none).
inline int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return 0;
  int line = 1;
  for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

// The first diagnostic whose message contains `needle`.
inline std::optional<Diagnostic> find_diagnostic(const Diagnostics& diags,
                                                 const std::string& needle) {
  for (const auto& d : diags.items()) {
    if (d.message.find(needle) != std::string::npos) return d;
  }
  return std::nullopt;
}

}  // namespace rackwatch::test
