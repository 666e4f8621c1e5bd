// Fuzz target: the Modbus TCP stream decoder (agent/sources/modbus/
// modbus_tcp_frame.hpp) and the response PDU decoder (modbus_pdu.hpp), on
// what a device, a gateway or anything on the network sends back.
//
// Input: byte 0 is the read size (0: everything in one read, else reads of
// that many bytes), byte 1 chooses the request each frame is decoded against
// (bits 0-2) and whether to decode against every request shape (bit 3); the
// rest is the byte stream. Checks: reads of any size give the same frames as
// one read; the frames spelled again with encode_tcp_frame are exactly the
// bytes consumed; an error stays; a decoded response has `quantity` values
// (0/1 for bits) and encodes back to a PDU that decodes the same.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "sources/modbus/modbus_pdu.hpp"
#include "sources/modbus/modbus_tcp_frame.hpp"

namespace {

using rackwatch::fuzz::require;
namespace mb = rackwatch::modbus;

constexpr std::array<mb::ReadRequest, 8> kShapes{{
    {mb::FunctionCode::read_holding_registers, 0, 1},
    {mb::FunctionCode::read_holding_registers, 40000, 125},
    {mb::FunctionCode::read_input_registers, 100, 2},
    {mb::FunctionCode::read_input_registers, 0, 4},
    {mb::FunctionCode::read_coils, 19, 19},
    {mb::FunctionCode::read_coils, 0, 1},
    {mb::FunctionCode::read_discrete_inputs, 0, 2000},
    {mb::FunctionCode::read_discrete_inputs, 7, 8},
}};

struct Outcome {
  std::vector<mb::TcpFrame> frames;
  std::optional<mb::ErrorCode> error;
  std::size_t buffered = 0;
};

Outcome run(std::span<const std::uint8_t> stream, std::size_t read_size) {
  Outcome out;
  mb::TcpFrameDecoder decoder;
  std::size_t at = 0;
  while (at < stream.size() && !out.error) {
    const std::size_t n = read_size == 0 ? stream.size() : std::min(read_size, stream.size() - at);
    decoder.feed(stream.subspan(at, n));
    at += n;
    while (true) {
      auto r = decoder.next();
      if (!r) {
        out.error = r.error().code;
        require(!r.error().message.empty(), "an error has a message");
        // It stays until reset().
        decoder.feed(stream.first(std::min<std::size_t>(stream.size(), 8)));
        auto again = decoder.next();
        require(!again && again.error().code == *out.error, "a stream error stays");
        break;
      }
      if (!*r) break;
      require(!(*r)->pdu.empty() && (*r)->pdu.size() <= mb::kMaxPduSize, "a PDU of 1..253 bytes");
      out.frames.push_back(std::move(**r));
    }
  }
  out.buffered = out.error ? 0 : decoder.buffered();
  return out;
}

void check_response(const mb::ReadRequest& request, const std::vector<std::uint8_t>& pdu) {
  auto r = mb::decode_read_response(request, pdu);
  if (!r) {
    require(!r.error().message.empty(), "an error has a message");
    if (r.error().code == mb::ErrorCode::exception) {
      require(pdu.size() == 2 && pdu[0] == (static_cast<std::uint8_t>(request.function) | 0x80) &&
                  r.error().exception_code == pdu[1],
              "an exception is function | 0x80 and its code");
    }
    return;
  }
  require(r->values.size() == request.quantity, "a response has quantity values");
  require(pdu.size() == mb::response_pdu_size(request), "a response has the expected size");
  if (mb::reads_bits(request.function)) {
    for (auto v : r->values) require(v <= 1, "a bit is 0 or 1");
  }
  auto again = mb::encode_read_response(request.function, r->values);
  require(again.ok(), "decoded values encode");
  if (!mb::reads_bits(request.function)) require(*again == pdu, "registers encode to the same PDU");
  auto back = mb::decode_read_response(request, *again);
  require(back && back->values == r->values, "values round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t read_size = data[0];
  const std::uint8_t choice = data[1];
  const std::span<const std::uint8_t> stream(data + 2, size - 2);

  const Outcome whole = run(stream, 0);
  const Outcome pieces = run(stream, read_size);
  require(whole.frames == pieces.frames && whole.error == pieces.error &&
              whole.buffered == pieces.buffered,
          "reads of any size give the same frames");

  // The frames, spelled again, are the bytes they came from.
  std::vector<std::uint8_t> spelled;
  for (const auto& f : whole.frames) {
    auto bytes = mb::encode_tcp_frame(f.transaction_id, f.unit_id, f.pdu);
    require(bytes.ok(), "a decoded frame encodes");
    spelled.insert(spelled.end(), bytes->begin(), bytes->end());
  }
  require(
      spelled.size() <= stream.size() && std::equal(spelled.begin(), spelled.end(), stream.begin()),
      "frames are the stream's own bytes");
  if (!whole.error) {
    require(spelled.size() + whole.buffered == stream.size(), "every byte is a frame or buffered");
  }

  for (const auto& f : whole.frames) {
    if ((choice & 0x08) != 0) {
      for (const auto& shape : kShapes) check_response(shape, f.pdu);
    } else {
      check_response(kShapes[choice & 0x07], f.pdu);
    }
  }
  return 0;
}
