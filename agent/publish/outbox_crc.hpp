// CRC-32C (Castagnoli), the checksum of every outbox record and checkpoint
// slot. Software, table-driven: zlib is not a dependency, and its CRC-32 is
// not this polynomial anyway.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rackwatch::outbox {

// Continues a CRC over more bytes: crc32c(crc32c(0, a), b) == crc32c(0, a+b).
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace rackwatch::outbox
