// Reading one RTU answer from a byte stream — a serial port, or a TCP
// socket to a serial device server — until the size its request implies, a
// silence after some bytes (a broken frame), or the deadline. One
// implementation for both links: only the stream type and the silence
// differ. Included by the clients only (it pulls in Asio).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "core/deadline.hpp"
#include "sources/modbus/modbus_rtu_answer.hpp"
#include "sources/modbus/modbus_rtu_frame.hpp"

namespace rackwatch::modbus {

struct RtuReceived {
  enum class End : std::uint8_t {
    complete,  // the answer has the size its request implies
    silence,   // some bytes, then a silence or the deadline: a broken frame, for the decoder to name
    nothing,   // not one byte before the deadline
    error,     // the read failed (`error`; eof when the other end closed)
  };
  End end = End::nothing;
  boost::system::error_code error;
};

// Reads into `answer` from `stream` (an Asio AsyncReadStream). Before the
// first byte the device has until `deadline`; after it, `silence` without a
// byte ends the frame. Never reads past the answer's size.
template <class Stream>
boost::asio::awaitable<RtuReceived> receive_rtu_answer(Stream& stream, RtuAnswer& answer,
                                                       std::chrono::steady_clock::time_point deadline,
                                                       std::chrono::steady_clock::duration silence) {
  std::array<std::uint8_t, kMaxRtuFrameSize> buffer{};
  while (!answer.complete()) {
    auto until = deadline;
    if (!answer.empty()) until = std::min(deadline, std::chrono::steady_clock::now() + silence);
    auto got = co_await before(
        stream.async_read_some(boost::asio::buffer(buffer.data(), answer.missing()), use_tuple), until);
    if (!got) co_return RtuReceived{answer.empty() ? RtuReceived::End::nothing : RtuReceived::End::silence, {}};
    const auto& [error, count] = *got;
    if (error) co_return RtuReceived{RtuReceived::End::error, error};
    answer.append(std::span<const std::uint8_t>(buffer.data(), count));
  }
  co_return RtuReceived{RtuReceived::End::complete, {}};
}

}  // namespace rackwatch::modbus
