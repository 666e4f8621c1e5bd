#include "core/log.hpp"
#include "publish/wire_format.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {
namespace {

// {base}/catalog/{id} for a catalog record; nullopt when it does not parse.
std::optional<Message> catalog_by_id(const Record& record) {
  v1::Catalog catalog;
  if (!catalog.ParseFromString(record.payload) || catalog.catalog_id().empty()) {
    log::warning("a stored catalog on ", record.address, " does not parse: not published under its id");
    return std::nullopt;
  }
  return Message{record.address + "/" + catalog.catalog_id(), record.payload, 1, true};
}

}  // namespace

std::vector<Message> NativeWire::birth(const std::vector<Record>& state) {
  std::vector<Message> out;
  out.reserve(state.size() + 1);
  for (const auto& r : state) {
    if (r.kind == RecordKind::catalog) {
      if (auto m = catalog_by_id(r)) out.push_back(std::move(*m));
    }
    out.push_back(stored_form(r));
  }
  return out;
}

std::optional<Message> NativeWire::encode(const Record& record, bool replayed) {
  auto all = encode_all(record, replayed);
  if (all.empty()) return std::nullopt;
  return std::move(all.back());
}

std::vector<Message> NativeWire::encode_all(const Record& record, bool replayed) {
  if (replayed && record.kind == RecordKind::active_alarms) return {};
  if (record.kind != RecordKind::catalog) return {stored_form(record)};
  std::vector<Message> out;
  if (auto m = catalog_by_id(record)) out.push_back(std::move(*m));
  // A stored one was current once; the birth has said the current one since.
  if (!replayed) out.push_back(stored_form(record));
  return out;
}

}  // namespace rackwatch
