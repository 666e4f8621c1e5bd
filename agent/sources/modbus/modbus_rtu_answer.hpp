// RtuAnswer: one Modbus RTU answer as it arrives in pieces — from a serial
// port, or from a TCP socket to a serial device server, either of which cuts
// it wherever it likes. RTU frames carry no length, so the answer is complete
// at the size its request implies, judged afresh as bytes arrive. No I/O:
// the readers (modbus_rtu_receive.hpp) and the fuzz target share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

class RtuAnswer {
 public:
  explicit RtuAnswer(const ReadRequest& request);

  // Bytes still to come before the answer is complete; 0 once it is. A
  // reader asks for no more than this, so that whatever follows the answer
  // (noise, a late answer) stays unread rather than being taken for it.
  std::size_t missing() const;
  bool complete() const { return missing() == 0; }
  bool empty() const { return bytes_.empty(); }

  // Appends the bytes of `bytes` that belong to the answer (up to its
  // complete size); returns how many it took.
  std::size_t append(std::span<const std::uint8_t> bytes);

  // What has arrived, for decode_rtu_frame.
  std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  ReadRequest request_;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace rackwatch::modbus
