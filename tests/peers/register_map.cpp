// Parsing and evaluation of a test peer's register map (format: README.md).
#include "register_map.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <numbers>
#include <sstream>

namespace modbus_peer {

const char* table_name(Table table) {
  switch (table) {
    case Table::coil: return "coil";
    case Table::discrete: return "discrete";
    case Table::holding: return "holding";
    case Table::input: return "input";
  }
  return "?";
}

namespace {

std::optional<Table> parse_table(const std::string& word) {
  if (word == "coil") return Table::coil;
  if (word == "discrete") return Table::discrete;
  if (word == "holding") return Table::holding;
  if (word == "input") return Table::input;
  return std::nullopt;
}

// A whole token as an integer: decimal, optionally signed, or 0x hex.
std::optional<long long> parse_integer(const std::string& word) {
  std::string_view text = word;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  if (value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    // Only a bit pattern for u64/s64 goes this high; keep it as its bits.
    if (negative) return std::nullopt;
    return static_cast<long long>(value);
  }
  const auto signed_value = static_cast<long long>(value);
  return negative ? -signed_value : signed_value;
}

std::optional<double> parse_real(const std::string& word) {
  if (word.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(word.c_str(), &end);
  if (end != word.c_str() + word.size() || errno == ERANGE) return std::nullopt;
  return value;
}

}  // namespace

unsigned RegisterMap::type_words(Type type) {
  switch (type) {
    case Type::bit:
    case Type::u16:
    case Type::s16: return 1;
    case Type::u32:
    case Type::s32:
    case Type::f32: return 2;
    case Type::u64:
    case Type::s64:
    case Type::f64: return 4;
  }
  return 1;
}

std::vector<std::uint16_t> RegisterMap::encode(const Entry& entry, double value) const {
  const unsigned n = type_words(entry.type);
  std::uint64_t bits = 0;
  switch (entry.type) {
    case Type::f32: bits = std::bit_cast<std::uint32_t>(static_cast<float>(value)); break;
    case Type::f64: bits = std::bit_cast<std::uint64_t>(value); break;
    case Type::bit: bits = static_cast<std::uint64_t>(std::llround(value)) & 1U; break;
    default:
      // Integers wrap to their width, two's complement for negative values.
      bits = static_cast<std::uint64_t>(std::llround(value));
      break;
  }
  std::vector<std::uint16_t> words(n);
  for (unsigned i = 0; i < n; ++i) {  // big-endian words: ABCD
    words[i] = static_cast<std::uint16_t>(bits >> (16 * (n - 1 - i)));
  }
  if (entry.swap_words) std::reverse(words.begin(), words.end());
  if (entry.swap_bytes) {
    for (auto& w : words) w = static_cast<std::uint16_t>((w << 8) | (w >> 8));
  }
  return words;
}

std::vector<std::uint16_t> RegisterMap::evaluate(Entry& entry, double t) const {
  switch (entry.kind) {
    case Kind::literal:
    case Kind::unreadable: return entry.words;
    case Kind::ramp: return encode(entry, entry.a + entry.b * std::floor(t / entry.c));
    case Kind::sine:
      return encode(entry, entry.a + entry.b * std::sin(2 * std::numbers::pi * t / entry.c));
    case Kind::counter: {
      const double value = entry.a + entry.b * static_cast<double>(entry.reads);
      ++entry.reads;
      return encode(entry, value);
    }
  }
  return {};
}

void RegisterMap::add(Entry entry, const std::string& where) {
  auto& index = index_[static_cast<std::size_t>(entry.table)];
  if (entry.first + entry.size > 65536) {
    throw MapError(where + ": addresses run past 65535");
  }
  for (std::uint32_t a = entry.first; a < entry.first + entry.size; ++a) {
    if (index[a] >= 0) {
      throw MapError(where + ": " + table_name(entry.table) + " " + std::to_string(a) +
                     " is already defined on line " +
                     std::to_string(entries_[static_cast<std::size_t>(index[a])].line));
    }
  }
  const auto id = static_cast<std::int32_t>(entries_.size());
  for (std::uint32_t a = entry.first; a < entry.first + entry.size; ++a) index[a] = id;
  entries_.push_back(std::move(entry));
}

RegisterMap RegisterMap::load(const std::string& path) {
  if (path.empty()) return RegisterMap{};
  std::ifstream in(path);
  if (!in) throw MapError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

RegisterMap RegisterMap::parse(const std::string& text, const std::string& name) {
  RegisterMap map;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string where = name + ":" + std::to_string(number);
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words_in(line);
    std::vector<std::string> w;
    for (std::string word; words_in >> word;) w.push_back(word);
    if (w.empty()) continue;

    auto fail = [&](const std::string& message) { throw MapError(where + ": " + message); };
    if (w.size() < 3) fail("expected TABLE ADDRESS VALUE..., got \"" + line + "\"");

    Entry entry;
    entry.line = number;
    const auto table = parse_table(w[0]);
    if (!table) fail("unknown table \"" + w[0] + "\" (coil, discrete, holding or input)");
    entry.table = *table;

    // ADDRESS or FIRST-LAST (inclusive).
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    {
      const auto dash = w[1].find('-', 1);
      const auto a = parse_integer(w[1].substr(0, dash));
      const auto b = dash == std::string::npos ? a : parse_integer(w[1].substr(dash + 1));
      if (!a || !b || *a < 0 || *b > 65535 || *b < *a) {
        fail("bad address \"" + w[1] + "\" (0..65535, or FIRST-LAST)");
      }
      first = static_cast<std::uint32_t>(*a);
      last = static_cast<std::uint32_t>(*b);
    }
    const bool ranged = last != first;
    entry.first = first;

    std::size_t pos = 2;
    entry.type = is_bit_table(entry.table) ? Type::bit : Type::u16;
    static const std::pair<const char*, Type> types[] = {
        {"u16", Type::u16}, {"s16", Type::s16}, {"u32", Type::u32}, {"s32", Type::s32},
        {"u64", Type::u64}, {"s64", Type::s64}, {"f32", Type::f32}, {"f64", Type::f64}};
    {
      const std::string type_word = w[pos].substr(0, w[pos].find(':'));
      for (const auto& [type_name, type] : types) {
        if (type_word != type_name) continue;
        if (is_bit_table(entry.table)) fail("a " + w[0] + " holds bits and takes no type");
        entry.type = type;
        if (const auto colon = w[pos].find(':'); colon != std::string::npos) {
          const std::string order = w[pos].substr(colon + 1);
          if (order == "abcd") {
          } else if (order == "cdab") {
            entry.swap_words = true;
          } else if (order == "badc") {
            entry.swap_bytes = true;
          } else if (order == "dcba") {
            entry.swap_words = entry.swap_bytes = true;
          } else {
            fail("unknown word order \"" + order + "\" (abcd, cdab, badc or dcba)");
          }
        }
        ++pos;
        break;
      }
    }
    if (pos >= w.size()) fail("missing value after the type");

    const unsigned width = type_words(entry.type);
    const std::string& source = w[pos];
    auto real_arg = [&](std::size_t i, const char* what) {
      if (i >= w.size()) fail(source + ": missing " + what);
      const auto v = parse_real(w[i]);
      if (!v) fail(source + ": bad " + what + " \"" + w[i] + "\"");
      return *v;
    };
    auto no_more = [&](std::size_t n) {
      if (w.size() > n) fail("unexpected \"" + w[n] + "\" after " + source);
    };
    auto single = [&] {
      if (ranged) fail("a range takes only a fill value or unreadable");
    };

    if (source == "unreadable") {
      no_more(pos + 1);
      if (pos != 2) fail("unreadable takes no type");
      entry.kind = Kind::unreadable;
      entry.size = last - first + 1;
    } else if (source == "ramp") {
      single();
      entry.kind = Kind::ramp;
      entry.a = real_arg(pos + 1, "START");
      entry.b = real_arg(pos + 2, "STEP");
      entry.c = pos + 3 < w.size() ? real_arg(pos + 3, "PERIOD_S") : 1.0;
      if (!(entry.c > 0)) fail("ramp: PERIOD_S must be > 0");
      no_more(pos + 4);
      entry.size = width;
    } else if (source == "sine") {
      single();
      entry.kind = Kind::sine;
      entry.a = real_arg(pos + 1, "MEAN");
      entry.b = real_arg(pos + 2, "AMPL");
      entry.c = real_arg(pos + 3, "PERIOD_S");
      if (!(entry.c > 0)) fail("sine: PERIOD_S must be > 0");
      no_more(pos + 4);
      entry.size = width;
    } else if (source == "counter") {
      single();
      entry.kind = Kind::counter;
      entry.a = pos + 1 < w.size() ? real_arg(pos + 1, "START") : 0.0;
      entry.b = pos + 2 < w.size() ? real_arg(pos + 2, "STEP") : 1.0;
      no_more(pos + 3);
      entry.size = width;
    } else {
      // Literal values, one of the type after another.
      entry.kind = Kind::literal;
      for (std::size_t i = pos; i < w.size(); ++i) {
        double value = 0;
        if (entry.type == Type::f32 || entry.type == Type::f64) {
          const auto v = parse_real(w[i]);
          if (!v) fail("bad number \"" + w[i] + "\"");
          value = *v;
          const auto encoded = map.encode(entry, value);
          entry.words.insert(entry.words.end(), encoded.begin(), encoded.end());
          continue;
        }
        const auto v = parse_integer(w[i]);
        if (!v) fail("bad value \"" + w[i] + "\" (an integer, or a generator: ramp, sine, counter)");
        if (entry.type == Type::bit) {
          if (*v != 0 && *v != 1) fail("a bit is 0 or 1, not " + w[i]);
        } else if (width < 4) {
          // Accept what fits the width as signed or as unsigned: 0x8000 and -32768 alike.
          const long long span = 1LL << (16 * width);
          if (*v < -(span / 2) || *v >= span) {
            fail("value " + w[i] + " does not fit in " + std::to_string(16 * width) + " bits");
          }
        }
        // Keep integer bits exact (a double would round u64 values).
        const auto bits = static_cast<std::uint64_t>(*v);
        std::vector<std::uint16_t> encoded(width);
        for (unsigned k = 0; k < width; ++k) {
          encoded[k] = static_cast<std::uint16_t>(bits >> (16 * (width - 1 - k)));
        }
        if (entry.type == Type::bit) encoded[0] = static_cast<std::uint16_t>(bits);
        if (entry.swap_words) std::reverse(encoded.begin(), encoded.end());
        if (entry.swap_bytes) {
          for (auto& x : encoded) x = static_cast<std::uint16_t>((x << 8) | (x >> 8));
        }
        entry.words.insert(entry.words.end(), encoded.begin(), encoded.end());
      }
      if (ranged) {
        if (w.size() != pos + 1 || width != 1) fail("a range takes one 16-bit or bit fill value");
        entry.words.assign(last - first + 1, entry.words.front());
      }
      entry.size = static_cast<std::uint32_t>(entry.words.size());
    }
    map.add(std::move(entry), where);
  }
  return map;
}

std::optional<std::uint16_t> RegisterMap::first_unreadable(Table table, std::uint32_t addr,
                                                           std::uint32_t count) const {
  const auto& index = index_[static_cast<std::size_t>(table)];
  for (std::uint32_t a = addr; a < addr + count && a < 65536; ++a) {
    if (index[a] >= 0 && entries_[static_cast<std::size_t>(index[a])].kind == Kind::unreadable) {
      return static_cast<std::uint16_t>(a);
    }
  }
  return std::nullopt;
}

std::vector<std::uint16_t> RegisterMap::read(Table table, std::uint32_t addr, std::uint32_t count,
                                             double t) {
  const auto& index = index_[static_cast<std::size_t>(table)];
  std::vector<std::uint16_t> out(count, 0);
  // Each entry is evaluated once per read: a counter advances once, and a
  // multi-register value is never torn between two evaluations.
  std::int32_t cached_id = -1;
  std::vector<std::uint16_t> cached;
  for (std::uint32_t i = 0; i < count && addr + i < 65536; ++i) {
    const std::int32_t id = index[addr + i];
    if (id < 0) continue;
    if (id != cached_id) {
      cached = evaluate(entries_[static_cast<std::size_t>(id)], t);
      cached_id = id;
    }
    const auto& entry = entries_[static_cast<std::size_t>(id)];
    out[i] = cached[addr + i - entry.first];
  }
  return out;
}

}  // namespace modbus_peer
