// Fuzz target: the Modbus RTU response decoder (agent/sources/modbus/
// modbus_rtu_frame.hpp), the answer assembly both RTU clients read with
// (RtuAnswer, modbus_rtu_answer.hpp) and the value decoder
// (modbus_decode.hpp), on what a serial line delivers (noise, cut frames,
// other devices' answers) and on the same bytes as a TCP stream from a
// serial device server delivers them, cut into segments anywhere.
//
// Input: byte 0 chooses the request (bits 0-2), the unit asked (bit 3: 1,
// else 17), the size of the stream's reads (bits 4-6: 0 = as much as the
// answer still misses, else 1..7 bytes) and whether the harness appends a
// valid CRC to the frame (bit 7), so that the search also gets past the
// CRC; byte 1 chooses how the values are decoded (type, order, sentinels);
// the rest is the frame. Checks: a frame decodes only at the size the
// request implies, with a good CRC and the right unit; rtu_expected_size
// never asks for less than is needed; reads of any size assemble the same
// answer, a prefix of the stream that ends at the request's size (the rest
// stays unread) or takes the whole stream when it is shorter; a decoded
// response has `quantity` values; values decode without surprises.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "sources/modbus/modbus_crc.hpp"
#include "sources/modbus/modbus_decode.hpp"
#include "sources/modbus/modbus_rtu_answer.hpp"
#include "sources/modbus/modbus_rtu_frame.hpp"

namespace {

using rackwatch::fuzz::require;
namespace mb = rackwatch::modbus;

constexpr std::array<mb::ReadRequest, 8> kShapes{{
    {mb::FunctionCode::read_holding_registers, 0, 1},
    {mb::FunctionCode::read_holding_registers, 0, 10},
    {mb::FunctionCode::read_holding_registers, 40000, 125},
    {mb::FunctionCode::read_input_registers, 100, 4},
    {mb::FunctionCode::read_coils, 19, 19},
    {mb::FunctionCode::read_coils, 0, 2000},
    {mb::FunctionCode::read_discrete_inputs, 0, 1},
    {mb::FunctionCode::read_discrete_inputs, 7, 8},
}};

constexpr std::array<mb::ValueType, 10> kTypes{
    mb::ValueType::u16, mb::ValueType::s16,   mb::ValueType::u32, mb::ValueType::s32,
    mb::ValueType::u64, mb::ValueType::s64,   mb::ValueType::f32, mb::ValueType::f64,
    mb::ValueType::bit, mb::ValueType::string};

void decode_values(const std::vector<std::uint16_t>& values, std::uint8_t choice) {
  mb::ValueFormat format;
  format.type = kTypes[(choice & 0x0F) % kTypes.size()];
  format.order = static_cast<mb::WordOrder>((choice >> 4) & 0x03);
  format.sentinels = (choice & 0x40) != 0;
  const bool integer = format.type != mb::ValueType::f32 && format.type != mb::ValueType::f64 &&
                       format.type != mb::ValueType::bit && format.type != mb::ValueType::string;
  if (integer && (choice & 0x80) != 0) {
    format.scaling = mb::Scaling::scale_factor;
  }
  const std::size_t width = format.type == mb::ValueType::string
                                ? std::min<std::size_t>(values.size(), 16)
                                : mb::register_count(format.type);
  for (std::size_t at = 0; width > 0 && at + width <= values.size(); at += width) {
    format.bit = static_cast<unsigned>(at % 16);
    const std::span<const std::uint16_t> regs(values.data() + at, width);
    const std::uint16_t sf = values[(at + width) % values.size()];
    auto r = mb::decode_value(format, regs, sf);
    require(r.ok(), "a well-formed format decodes");
    switch (r->kind) {
      case mb::Value::Kind::number:
        if (format.sentinels) require(!std::isnan(r->number), "NaN is a sentinel");
        if (format.type == mb::ValueType::bit)
          require(r->number == 0 || r->number == 1, "a bit is 0 or 1");
        break;
      case mb::Value::Kind::text:
        require(format.type == mb::ValueType::string, "only strings are text");
        for (char c : r->text) require(c >= 0x20 && c <= 0x7E, "text is printable ASCII");
        require(r->text.size() <= 2 * width, "text fits its registers");
        break;
      case mb::Value::Kind::no_value:
        require(!r->reason.empty(), "no value has a reason");
        require(format.sentinels || format.scaling == mb::Scaling::scale_factor,
                "no value only with sentinels or a scale factor");
        break;
    }
  }
}

// Reads `stream` as the clients do: each read asks for at most what the
// answer still misses, and gets at most `piece` bytes (0: all it asks).
std::vector<std::uint8_t> assemble(const mb::ReadRequest& request, std::span<const std::uint8_t> stream,
                                   std::size_t piece) {
  mb::RtuAnswer answer(request);
  std::size_t at = 0;
  while (!answer.complete() && at < stream.size()) {
    const std::size_t ask = std::min(answer.missing(), stream.size() - at);
    const std::size_t n = piece == 0 ? ask : std::min(piece, ask);
    require(n > 0, "an incomplete answer asks for bytes");
    require(answer.append(stream.subspan(at, n)) == n, "a read of at most missing() is taken whole");
    at += n;
  }
  require(answer.bytes().size() == at, "the answer holds exactly the bytes read");
  require(answer.complete() || at == stream.size(), "an answer stops reading only when complete");
  return {answer.bytes().begin(), answer.bytes().end()};
}

// The answer as the stream gives it, cut into reads of `piece` bytes; it
// must not depend on the cuts.
void check_stream(const mb::ReadRequest& request, std::uint8_t unit, std::span<const std::uint8_t> stream,
                  std::size_t piece) {
  const auto answer = assemble(request, stream, piece);
  require(answer == assemble(request, stream, 1), "reads of any size assemble the same answer");
  mb::RtuAnswer whole(request);
  whole.append(stream);
  require(std::equal(answer.begin(), answer.end(), whole.bytes().begin(), whole.bytes().end()),
          "one append takes the same answer");
  require(std::equal(answer.begin(), answer.end(), stream.begin()), "the answer is a prefix of the stream");
  require(answer.size() <= mb::kMaxRtuFrameSize, "an answer is at most 256 bytes");

  const std::size_t expected = mb::rtu_expected_size(request, answer);
  const bool complete = answer.size() == expected;
  require(complete || answer.size() == stream.size(), "a short answer is the whole stream");
  require(answer.size() <= expected, "never read past the request's size");

  // What the client decodes: the assembled answer, never a length error
  // once it is complete; a cut one (ended by a silence) is truncated.
  auto r = mb::decode_rtu_response(request, unit, answer);
  if (complete) {
    require(r.ok() || (r.error().code != mb::ErrorCode::truncated &&
                       r.error().code != mb::ErrorCode::length_mismatch),
            "a complete answer has the right length");
  } else {
    require(!r.ok() && r.error().code == mb::ErrorCode::truncated, "a cut answer is truncated");
  }
  if (answer.size() == stream.size()) {
    const auto direct = mb::decode_rtu_response(request, unit, stream);
    require(direct.ok() == r.ok(), "the stream decodes as its answer when they are the same bytes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t control = data[0];
  const mb::ReadRequest& request = kShapes[control & 0x07];
  const std::uint8_t unit = (control & 0x08) != 0 ? 1 : 17;
  std::vector<std::uint8_t> frame(data + 2, data + size);
  if ((control & 0x80) != 0 && frame.size() <= mb::kMaxRtuFrameSize) {
    const std::uint16_t crc = mb::crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  }

  check_stream(request, unit, frame, static_cast<std::size_t>((control >> 4) & 0x07));

  // Read as a serial reader would: until rtu_expected_size is reached.
  const std::size_t expected = mb::rtu_expected_size(request, frame);
  require(expected == mb::kRtuExceptionFrameSize || expected == mb::rtu_response_size(request),
          "an RTU response is an exception or the request's size");
  require(expected <= mb::kMaxRtuFrameSize, "an RTU frame is at most 256 bytes");
  if (frame.size() >= 2) {
    const auto head = std::span(frame).first(std::min(frame.size(), expected));
    require(mb::rtu_expected_size(request, head) == expected, "the prefix decides the size");
  }

  auto r = mb::decode_rtu_response(request, unit, frame);
  if (!r) {
    require(!r.error().message.empty(), "an error has a message");
    if (r.error().code == mb::ErrorCode::exception) {
      require(frame.size() == mb::kRtuExceptionFrameSize && frame[0] == unit &&
                  r.error().exception_code == frame[2],
              "an exception frame is 5 bytes from the unit");
    }
    if (frame.size() == expected && mb::crc16(frame) != 0) {
      require(r.error().code == mb::ErrorCode::crc_mismatch, "a bad CRC is reported as one");
    }
    return 0;
  }
  require(frame.size() == mb::rtu_response_size(request), "a response has the request's size");
  require(mb::crc16(frame) == 0, "a response's CRC checks");
  require(frame[0] == unit, "a response comes from the unit asked");
  require(r->values.size() == request.quantity, "a response has quantity values");

  decode_values(r->values, data[1]);
  return 0;
}
