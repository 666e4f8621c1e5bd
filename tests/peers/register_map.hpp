// The register map a test Modbus peer serves: parsed from the small text
// format described in tests/peers/README.md, evaluated at a point in time.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace modbus_peer {

enum class Table { coil, discrete, holding, input };

const char* table_name(Table table);
inline bool is_bit_table(Table table) { return table == Table::coil || table == Table::discrete; }

// Thrown for a bad map file; what() is "FILE:LINE: message".
class MapError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RegisterMap {
 public:
  // Reads and checks a whole map file. An empty path gives an empty map
  // (every address reads 0).
  static RegisterMap load(const std::string& path);
  static RegisterMap parse(const std::string& text, const std::string& name);

  // The first address in [addr, addr + count) inside an `unreadable` range.
  std::optional<std::uint16_t> first_unreadable(Table table, std::uint32_t addr,
                                                std::uint32_t count) const;

  // The values served for one read at clock `t` (seconds): registers as
  // 16-bit words, bits as 0/1. Unmapped addresses read 0. Each `counter`
  // entry touched by the read advances once.
  std::vector<std::uint16_t> read(Table table, std::uint32_t addr, std::uint32_t count, double t);

 private:
  enum class Type { bit, u16, s16, u32, s32, u64, s64, f32, f64 };
  enum class Kind { literal, ramp, sine, counter, unreadable };

  struct Entry {
    Table table = Table::holding;
    std::uint32_t first = 0;       // first address
    std::uint32_t size = 0;        // addresses covered
    Type type = Type::u16;
    bool swap_words = false;       // CDAB, DCBA
    bool swap_bytes = false;       // BADC, DCBA
    Kind kind = Kind::literal;
    std::vector<std::uint16_t> words;  // literal: the encoded words (or bits)
    double a = 0, b = 0, c = 0;        // generator parameters
    std::uint64_t reads = 0;           // counter: reads served so far
    int line = 0;
  };

  static unsigned type_words(Type type);
  std::vector<std::uint16_t> encode(const Entry& entry, double value) const;
  std::vector<std::uint16_t> evaluate(Entry& entry, double t) const;
  void add(Entry entry, const std::string& where);

  std::vector<Entry> entries_;
  // Per table, per address: index into entries_, or -1.
  std::vector<std::vector<std::int32_t>> index_ =
      std::vector<std::vector<std::int32_t>>(4, std::vector<std::int32_t>(65536, -1));
};

}  // namespace modbus_peer
