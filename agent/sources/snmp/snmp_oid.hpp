// An SNMP object identifier as numbers, and its dotted text form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rackwatch::snmp {

using Oid = std::vector<std::uint32_t>;

// "1.3.6.1.2.1.1.1.0" or ".1.3.6.1.2.1.1.1.0": at least two arcs, the first
// 0..2, the second below 40 unless the first is 2 (X.690's encoding of the
// first two arcs), each arc below 2^32, at most 128 arcs (RFC 2578's limit).
// Nothing when the text is not such an OID.
std::optional<Oid> parse_oid(std::string_view text);

// Dotted, without a leading dot.
std::string format_oid(const Oid& oid);

bool starts_with(const Oid& oid, const Oid& prefix);

}  // namespace rackwatch::snmp
