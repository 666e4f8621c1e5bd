// Catalogs kept on disk by `tail --catalog-cache DIR`, so that a restarted
// tail names telemetry at once instead of waiting for a catalog to come
// again: one file per rack and catalog id, the Catalog payload as received.
#pragma once

#include <string>
#include <vector>

namespace rackwatch::cli {

struct CachedCatalog {
  std::string site;
  std::string rack;
  std::string catalog_id;
  std::string payload;  // a serialized v1::Catalog
};

// "{site}_{rack}_{id}.pb", each part with '_', '%' and anything but letters,
// digits, '-' and '.' as %XX, so that the name splits back.
std::string catalog_file_name(const std::string& site, const std::string& rack, const std::string& catalog_id);

// Writes the catalog into `dir` through a temporary file renamed over the
// old one, so that a reader never sees half a file. Empty on success,
// otherwise what failed and where.
std::string save_catalog(const std::string& dir, const CachedCatalog& c);

// Every catalog file in `dir`; what could not be read goes into `problems`.
std::vector<CachedCatalog> load_catalogs(const std::string& dir, std::vector<std::string>& problems);

}  // namespace rackwatch::cli
