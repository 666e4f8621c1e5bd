#include "diag/catalog_cache.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace rackwatch::cli {

namespace fs = std::filesystem;

namespace {

std::string encode(const std::string& part) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : part) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

bool decode(const std::string& part, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    if (i + 2 >= part.size()) return false;
    unsigned value = 0;
    for (std::size_t k = 1; k <= 2; ++k) {
      const char h = part[i + k];
      value <<= 4;
      if (h >= '0' && h <= '9') value |= static_cast<unsigned>(h - '0');
      else if (h >= 'A' && h <= 'F') value |= static_cast<unsigned>(h - 'A' + 10);
      else return false;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return true;
}

}  // namespace

std::string catalog_file_name(const std::string& site, const std::string& rack, const std::string& catalog_id) {
  return encode(site) + "_" + encode(rack) + "_" + encode(catalog_id) + ".pb";
}

std::string save_catalog(const std::string& dir, const CachedCatalog& c) {
  const fs::path path = fs::path(dir) / catalog_file_name(c.site, c.rack, c.catalog_id);
  // Unique per process: two tails may share a cache.
  const fs::path temporary = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << c.payload;
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      return "cannot write " + temporary.string();
    }
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return "cannot rename " + temporary.string() + " to " + path.string() + ": " + ec.message();
  }
  return {};
}

std::vector<CachedCatalog> load_catalogs(const std::string& dir, std::vector<std::string>& problems) {
  std::vector<CachedCatalog> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    problems.push_back("cannot read the catalog cache " + dir + ": " + ec.message());
    return out;
  }
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".pb") continue;  // a writer's temporary, or not ours
    const auto stem = entry.path().stem().string();
    const auto a = stem.find('_');
    const auto b = a == std::string::npos ? a : stem.find('_', a + 1);
    CachedCatalog c;
    if (b == std::string::npos || stem.find('_', b + 1) != std::string::npos ||
        !decode(stem.substr(0, a), c.site) || !decode(stem.substr(a + 1, b - a - 1), c.rack) ||
        !decode(stem.substr(b + 1), c.catalog_id)) {
      problems.push_back(entry.path().string() + ": not a catalog file name ({site}_{rack}_{id}.pb)");
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      problems.push_back("cannot read " + entry.path().string());
      continue;
    }
    c.payload = bytes.str();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace rackwatch::cli
