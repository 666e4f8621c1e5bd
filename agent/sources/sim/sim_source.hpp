// Simulated rack source: a PDU, a power shelf, a CDU and air sensors driven
// by a seedable load profile, for demos and deterministic tests.
#pragma once

namespace rackwatch {

class SourceType;

const SourceType& sim_source_type();

}  // namespace rackwatch
