// What the agent stores in the outbox: one of our canonical rackwatch.v1
// messages and the native address it was made for. Not yet a wire message:
// a WireFormat turns it into one when it is sent (publish/wire_format.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "publish/message.hpp"

namespace rackwatch {

enum class RecordKind : std::uint8_t {
  status,         // v1.AgentStatus
  catalog,        // v1.Catalog
  telemetry,      // v1.Telemetry
  alarm,          // v1.AlarmEvent
  active_alarms,  // v1.ActiveAlarms
  snapshot,       // v1.Snapshot
  unknown,        // found in an outbox, not made by this version
};

struct Record {
  RecordKind kind = RecordKind::unknown;
  std::string address;  // {prefix}/{site}/{rack}/{kind}: the native topic it belongs to
  std::string payload;  // the serialized rackwatch.v1 message of its kind
};

// The kind a native address names by its last level.
RecordKind kind_of_address(std::string_view address);
// Whether the native contract retains a record of this kind (state, not history).
bool retained(RecordKind kind);

// How a record sits in the outbox, whose entries keep QoS and retain so
// that the files stay readable by every version; and back.
Message stored_form(const Record& record);
Record record_of(const Message& stored);

}  // namespace rackwatch
