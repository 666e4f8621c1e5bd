// The SunSpec model chain of a device: the marker "SunS" at a base address,
// then model blocks one after another — ID, length, `length` registers of
// data — up to the end marker (ID 0xFFFF). ChainWalker says which registers
// to read next and takes the answers, so that one set of rules serves a
// device on a link (ModbusSource's discovery) and a device image in memory
// (walk_chain: the unit tests and the fuzz target). Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace rackwatch::modbus::sunspec {

// "SunS" as two registers, high byte first.
inline constexpr std::array<std::uint16_t, 2> kMarker{0x5375, 0x6E53};
inline constexpr std::uint16_t kEndId = 0xFFFF;
inline constexpr std::uint16_t kCommonId = 1;
// Where `base: auto` looks for the marker, in order: protocol addresses, as
// SunSpec's reference client pysunspec2 probes them.
inline constexpr std::array<std::uint16_t, 3> kAutoBases{0, 40000, 50000};
// A chain with more models is taken for a broken map (a length that sends
// the walk into registers of zeros or ones): real devices have a few dozen
// at most, and every model costs one request.
inline constexpr std::size_t kMaxModels = 100;

struct Model {
  std::uint16_t id = 0;
  std::uint16_t length = 0;   // registers of data after ID and length
  std::uint16_t address = 0;  // of its ID register
  std::uint16_t data() const { return static_cast<std::uint16_t>(address + 2); }

  friend bool operator==(const Model&, const Model&) = default;
};

struct Chain {
  std::uint16_t base = 0;      // where "SunS" is
  std::vector<Model> models;   // in chain order, the end marker not included
  // The end marker's address; nothing when the chain ended at a header the
  // device refused with "illegal data address" instead.
  std::optional<std::uint16_t> end;
  // The bases tried before `base` and what each gave: "0: 0x0000 0x0000".
  std::vector<std::string> tried;

  // The first model with this ID, if any.
  const Model* find(std::uint16_t id) const;
};

enum class ChainErrorKind : std::uint8_t {
  no_marker,  // "SunS" at none of the bases
  past_end,   // a model (or the next header) would run past address 65535
  bad_model,  // a model ID of 0: not a model, the walk lost its way
  too_long,   // more than kMaxModels models
  refused,    // the device refused a header read (other than at the chain's end)
};

struct ChainError {
  ChainErrorKind kind = ChainErrorKind::no_marker;
  std::string message;  // what was found where, and what to do
};

// One read the walk needs: `count` holding registers from `address`.
struct ChainRead {
  std::uint16_t address = 0;
  std::uint16_t count = 0;

  friend bool operator==(const ChainRead&, const ChainRead&) = default;
};

class ChainWalker {
 public:
  // `bases`: where to look for the marker, in order (at least one).
  explicit ChainWalker(std::vector<std::uint16_t> bases);

  // The read the walk needs next; nothing once done().
  std::optional<ChainRead> next() const;
  // The answer to next(): its registers (fewer than asked for is taken as
  // refused), or the exception code the device answered with.
  void answer(std::span<const std::uint16_t> registers);
  void refused(std::uint8_t exception_code);

  bool done() const { return done_; }
  // Once done(): the chain, or why there is none.
  rackwatch::Result<Chain, ChainError> result() const;
  // Reads answered so far.
  std::size_t reads() const { return reads_; }

 private:
  void next_base(std::string what);
  void fail(ChainErrorKind kind, std::string message);
  void header(std::uint16_t id, std::uint16_t length);
  void finish();

  std::vector<std::uint16_t> bases_;
  std::size_t base_index_ = 0;
  bool in_chain_ = false;       // the marker was found: reading headers
  std::uint32_t at_ = 0;        // the next read's address (may be 65536: past the end)
  bool done_ = false;
  std::size_t reads_ = 0;
  Chain chain_;
  std::optional<ChainError> error_;
};

// The walk over a device image: `image[k]` is holding register `first + k`;
// a read of anything outside it is refused with "illegal data address".
rackwatch::Result<Chain, ChainError> walk_chain(std::span<const std::uint16_t> bases, std::uint16_t first,
                                     std::span<const std::uint16_t> image);

// "1 at 40002 (66), 213 at 40070 (124), 203 at 40196 (105), end at 40303".
std::string chain_text(const Chain& chain);
// "0, 40000 or 50000"
std::string bases_text(std::span<const std::uint16_t> bases);

}  // namespace rackwatch::modbus::sunspec
