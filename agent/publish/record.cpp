#include "publish/record.hpp"

namespace rackwatch {

RecordKind kind_of_address(std::string_view address) {
  const auto slash = address.rfind('/');
  const auto last = slash == std::string_view::npos ? address : address.substr(slash + 1);
  if (last == "telemetry") return RecordKind::telemetry;
  if (last == "alarm") return RecordKind::alarm;
  if (last == "alarms") return RecordKind::active_alarms;
  if (last == "status") return RecordKind::status;
  if (last == "catalog") return RecordKind::catalog;
  if (last == "snapshot") return RecordKind::snapshot;
  return RecordKind::unknown;
}

bool retained(RecordKind kind) {
  return kind == RecordKind::status || kind == RecordKind::catalog || kind == RecordKind::active_alarms ||
         kind == RecordKind::snapshot;
}

Message stored_form(const Record& record) { return Message{record.address, record.payload, 1, retained(record.kind)}; }

Record record_of(const Message& stored) { return Record{kind_of_address(stored.topic), stored.topic, stored.payload}; }

}  // namespace rackwatch
