// The topic names of the native contract: {prefix}/{site}/{rack}/{kind}.
#pragma once

#include <string>

namespace rackwatch {

struct Topics {
  Topics(const std::string& prefix, const std::string& site, const std::string& rack)
      : base(prefix + "/" + site + "/" + rack) {}

  std::string status() const { return base + "/status"; }
  std::string catalog() const { return base + "/catalog"; }
  // A catalog by its id: {base}/catalog/{id}.
  std::string catalog(const std::string& id) const { return catalog() + "/" + id; }
  std::string snapshot() const { return base + "/snapshot"; }
  std::string telemetry() const { return base + "/telemetry"; }
  std::string alarm() const { return base + "/alarm"; }
  std::string alarms() const { return base + "/alarms"; }

  std::string base;
};

}  // namespace rackwatch
