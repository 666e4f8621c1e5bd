// Parsing of derived-point expressions (recursive descent, one token of
// lookahead) and their canonical text. Evaluation is in pipeline/expression_eval.cpp.
#include "core/expression.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_map>

namespace rackwatch::expr {

namespace {

struct FunctionInfo {
  std::string_view name;
  Function function;
  std::size_t min_args;
  std::size_t max_args;  // 0: no limit
};

// In the order of the enum, which is alphabetical: the error lists them so.
constexpr std::array<FunctionInfo, 11> kFunctions{{
    {"abs", Function::abs, 1, 1},
    {"avg", Function::avg, 1, 0},
    {"counter", Function::counter, 1, 1},
    {"diff", Function::diff, 2, 2},
    {"good", Function::good, 1, 1},
    {"if_good", Function::if_good, 2, 2},
    {"integral", Function::integral, 1, 2},
    {"max", Function::max, 1, 0},
    {"min", Function::min, 1, 0},
    {"rate", Function::rate, 1, 1},
    {"sum", Function::sum, 1, 0},
}};

const FunctionInfo* find_function(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// ASCII only: the locale must not change what an id is.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word(char c) { return is_letter(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string argument_count(std::size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); }

// What an arity error says: the accepted counts, then what was found.
std::string arity_message(const FunctionInfo& f, std::size_t found) {
  std::string name(f.name);
  if (f.max_args == 0) return name + " needs at least " + argument_count(f.min_args);
  if (f.min_args == f.max_args) {
    return name + " takes " + argument_count(f.min_args) + ", found " + std::to_string(found);
  }
  return name + " takes " + std::to_string(f.min_args) + " or " + argument_count(f.max_args) + ", found " +
         std::to_string(found);
}

// Thrown inside the parser only, caught by Parser::run: the first error ends parsing.
struct Failure {
  ParseError error;
};

Node node(Node::Kind kind) {
  Node n;
  n.kind = kind;
  return n;
}

}  // namespace

std::string_view function_name(Function f) { return kFunctions[static_cast<std::size_t>(f)].name; }

bool is_stateful(Function f) { return f == Function::rate || f == Function::integral || f == Function::counter; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::variant<ExpressionPtr, ParseError> run() {
    if (text_.size() > kMaxTextBytes) {
      return ParseError{0, "expression longer than " + std::to_string(kMaxTextBytes) + " bytes"};
    }
    try {
      skip_space();
      if (at_end()) fail(0, "empty expression");
      out_.root_ = sum();
      skip_space();
      if (!at_end()) fail(pos_, "unexpected " + describe(pos_));
    } catch (Failure& f) {
      return std::move(f.error);
    }
    return std::make_shared<const Expression>(std::move(out_));
  }

 private:
  // Counts one level of nesting for as long as it lives.
  class Nest {
   public:
    Nest(Parser& p, std::size_t offset) : p_(p) {
      if (++p_.depth_ > kMaxDepth) p_.fail(offset, "nesting deeper than " + std::to_string(kMaxDepth));
    }
    ~Nest() { --p_.depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser& p_;
  };

  [[noreturn]] void fail(std::size_t offset, std::string message) { throw Failure{{offset, std::move(message)}}; }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }

  // The token at `offset`, quoted, for an error message.
  std::string describe(std::size_t offset) const {
    const char c = text_[offset];
    if (is_word(c)) {
      std::size_t end = offset;
      while (end < text_.size() && (is_word(text_[end]) || text_[end] == '.' || text_[end] == '-')) ++end;
      return quoted(text_.substr(offset, end - offset));
    }
    if (c >= 0x20 && c < 0x7f) return quoted(std::string_view(&text_[offset], 1));
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return std::string("byte ") + hex;
  }

  std::uint32_t add(Node n) {
    out_.nodes_.push_back(std::move(n));
    return static_cast<std::uint32_t>(out_.nodes_.size() - 1);
  }

  // A chain of operands joined by the operators in `ops`, each operand parsed
  // by `operand`; one operand alone is returned as it is.
  template <typename Operand>
  std::uint32_t chain(Node::Kind kind, std::string_view ops, Operand operand) {
    auto n = node(kind);
    n.operands.push_back((this->*operand)());
    n.ops.push_back('+');
    for (;;) {
      skip_space();
      if (at_end() || ops.find(peek()) == std::string_view::npos) break;
      n.ops.push_back(text_[pos_++]);
      n.operands.push_back((this->*operand)());
    }
    return n.operands.size() == 1 ? n.operands.front() : add(std::move(n));
  }

  std::uint32_t sum() { return chain(Node::Kind::sum_chain, "+-", &Parser::product); }
  std::uint32_t product() { return chain(Node::Kind::product_chain, "*/", &Parser::unary); }

  std::uint32_t unary() {
    skip_space();
    if (peek() != '-') return primary();
    Nest nest(*this, pos_);
    ++pos_;
    const auto operand = unary();
    auto n = node(Node::Kind::negate);
    n.operands.push_back(operand);
    return add(std::move(n));
  }

  std::uint32_t primary() {
    skip_space();
    const char c = peek();
    if (is_digit(c)) return number();
    if (is_letter(c)) return name();
    if (c == '(') {
      const auto open = pos_;
      Nest nest(*this, open);
      ++pos_;
      const auto inner = sum();
      skip_space();
      if (peek() != ')') fail(pos_, "expected ')' to close the '(' at " + std::to_string(open));
      ++pos_;
      return inner;
    }
    fail(pos_, "expected a number, a point or a function");
  }

  // Decimal, optional fraction, optional exponent; anything of a word glued
  // to it makes it malformed rather than two tokens.
  std::uint32_t number() {
    const auto start = pos_;
    auto digits = [&] {
      while (is_digit(peek())) ++pos_;
    };
    digits();
    if (peek() == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])) {
      ++pos_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      auto j = pos_ + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < text_.size() && is_digit(text_[j])) {
        pos_ = j;
        digits();
      }
    }
    if (is_word(peek()) || peek() == '.') {
      while (is_word(peek()) || peek() == '.') ++pos_;
      fail(start, "malformed number " + quoted(text_.substr(start, pos_ - start)));
    }
    const auto lexeme = text_.substr(start, pos_ - start);
    double v = 0;
    const auto [end, ec] = std::from_chars(lexeme.data(), lexeme.data() + lexeme.size(), v);
    if (ec != std::errc{} || end != lexeme.data() + lexeme.size() || !std::isfinite(v)) {
      fail(start, "number out of range: " + quoted(lexeme));
    }
    auto n = node(Node::Kind::number);
    n.number = v;
    return add(std::move(n));
  }

  // Segments joined by '.'; a '-' between two word characters belongs to
  // the id (cdu-a.supply_temp), so subtraction of ids needs a space.
  std::string_view identifier() {
    const auto start = pos_;
    for (;;) {
      while (is_word(peek()) || (peek() == '-' && pos_ + 1 < text_.size() && is_word(text_[pos_ + 1]))) ++pos_;
      if (peek() != '.') break;
      if (pos_ + 1 >= text_.size() || !is_word(text_[pos_ + 1])) {
        fail(pos_ + 1, "expected a letter, digit or '_' after '.'");
      }
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  std::uint32_t name() {
    const auto start = pos_;
    const auto id = identifier();
    skip_space();
    if (peek() == '(') return call(id, start);
    auto [it, added] = ref_index_.try_emplace(id, static_cast<std::uint32_t>(out_.references_.size()));
    if (added) out_.references_.push_back({std::string(id), start});
    auto n = node(Node::Kind::point);
    n.index = it->second;
    return add(std::move(n));
  }

  std::uint32_t call(std::string_view id, std::size_t start) {
    const auto* f = find_function(id);
    if (f == nullptr) {
      std::string known;
      for (const auto& k : kFunctions) known += (known.empty() ? "" : ", ") + std::string(k.name);
      fail(start, "unknown function " + quoted(id) + " (known: " + known + ")");
    }
    Nest nest(*this, start);
    ++pos_;  // '('
    auto n = node(Node::Kind::call);
    n.function = f->function;
    std::vector<std::size_t> offsets;
    skip_space();
    if (peek() == ')') {
      ++pos_;
    } else {
      for (;;) {
        skip_space();
        offsets.push_back(pos_);
        n.operands.push_back(sum());
        skip_space();
        if (peek() == ')') break;
        if (peek() != ',') {
          fail(pos_, "expected ')' or ',' after argument " + std::to_string(n.operands.size()) + " of " +
                         std::string(f->name));
        }
        ++pos_;
      }
      ++pos_;
    }
    const auto count = n.operands.size();
    if (count < f->min_args || (f->max_args != 0 && count > f->max_args)) fail(start, arity_message(*f, count));
    if (f->function == Function::integral) n.number = max_gap(n, offsets);
    if (is_stateful(f->function)) n.index = out_.stateful_calls_++;
    return add(std::move(n));
  }

  // integral's optional second argument: taken out of the operands.
  double max_gap(Node& n, const std::vector<std::size_t>& offsets) {
    if (n.operands.size() < 2) return kDefaultMaxGapSeconds;
    const auto& gap = out_.nodes_[n.operands[1]];
    if (gap.kind != Node::Kind::number || !(gap.number > 0)) {
      fail(offsets[1], "integral's max gap must be a positive number of seconds");
    }
    n.operands.pop_back();
    return gap.number;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  Expression out_;
  std::unordered_map<std::string_view, std::uint32_t> ref_index_;
};

std::variant<ExpressionPtr, ParseError> parse(std::string_view text) { return Parser(text).run(); }

namespace {

// Binding strength, for parentheses in the canonical text.
int precedence(const Node& n) {
  switch (n.kind) {
    case Node::Kind::sum_chain: return 1;
    case Node::Kind::product_chain: return 2;
    case Node::Kind::negate: return 3;
    default: return 4;
  }
}

void append_number(double v, std::string& out) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? end : buf);
}

class Printer {
 public:
  Printer(const std::vector<Node>& nodes, const std::vector<Reference>& refs) : nodes_(nodes), refs_(refs) {}

  void print(std::uint32_t i, std::string& out) const {
    const auto& n = nodes_[i];
    switch (n.kind) {
      case Node::Kind::number: append_number(n.number, out); return;
      case Node::Kind::point: out += refs_[n.index].id; return;
      case Node::Kind::negate:
        out += '-';
        operand(n.operands[0], 3, out);
        return;
      case Node::Kind::sum_chain:
      case Node::Kind::product_chain: {
        const int level = precedence(n);
        for (std::size_t k = 0; k < n.operands.size(); ++k) {
          if (k > 0) {
            out += ' ';
            out += n.ops[k];
            out += ' ';
          }
          // Left-associative: only the first operand may be a chain of the same level unbracketed.
          operand(n.operands[k], k == 0 ? level : level + 1, out);
        }
        return;
      }
      case Node::Kind::call: call(n, out); return;
    }
  }

 private:
  void operand(std::uint32_t i, int min_precedence, std::string& out) const {
    const bool bracket = precedence(nodes_[i]) < min_precedence;
    if (bracket) out += '(';
    print(i, out);
    if (bracket) out += ')';
  }

  void call(const Node& n, std::string& out) const {
    out += function_name(n.function);
    out += '(';
    for (std::size_t k = 0; k < n.operands.size(); ++k) {
      if (k > 0) out += ", ";
      print(n.operands[k], out);
    }
    // The default gap is left out: integral(x) and integral(x, 300) are the same.
    if (n.function == Function::integral && n.number != kDefaultMaxGapSeconds) {
      out += ", ";
      append_number(n.number, out);
    }
    out += ')';
  }

  const std::vector<Node>& nodes_;
  const std::vector<Reference>& refs_;
};

}  // namespace

std::string Expression::text() const {
  std::string out;
  Printer(nodes_, references_).print(root_, out);
  return out;
}

}  // namespace rackwatch::expr
