// Expressions of derived points: values the agent computes from other points
// (a rack's power as the sum of its PDU phases, a delta-T, heat removed,
// energy from power). parse() turns the text of the config into an immutable
// tree; pipeline/expression.hpp evaluates it.
// The parser and the tree live in core, beside the config that holds them
// (DerivedConfig::expression): loading a config checks each expression and
// reports its errors at FILE:LINE:COL, and core includes no higher layer.
// Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rackwatch::expr {

// Hostile text (the config loader fuzzes this) is refused before it costs
// much: too long, or nested deeper than the evaluator's recursion allows.
inline constexpr std::size_t kMaxTextBytes = 4096;
inline constexpr std::size_t kMaxDepth = 64;
// integral()'s default longest interval between good samples it integrates.
inline constexpr double kDefaultMaxGapSeconds = 300;

struct ParseError {
  std::size_t offset = 0;  // byte index into the text where the problem is
  std::string message;
};

struct Reference {
  std::string id;          // a point id used
  std::size_t offset = 0;  // where it first appears
};

enum class Function : std::uint8_t { abs, avg, counter, diff, good, if_good, integral, max, min, rate, sum };

std::string_view function_name(Function f);
// rate, integral and counter: their result depends on earlier evaluations.
bool is_stateful(Function f);

// One node of the tree. Sums and products are chains (a - b + c is one node
// of three operands) so that the tree is only as deep as the text's nesting.
struct Node {
  enum class Kind : std::uint8_t { number, point, negate, sum_chain, product_chain, call };
  Kind kind = Kind::number;
  Function function = Function::sum;  // call
  double number = 0;                  // number; integral's max gap in seconds
  std::uint32_t index = 0;            // point: into references(); stateful call: its state slot
  std::vector<std::uint32_t> operands;  // into nodes()
  std::string ops;                      // chains: the operator before each operand ('+' first)
};

class Expression;
using ExpressionPtr = std::shared_ptr<const Expression>;

// Parses `text`; on error returns the first error.
std::variant<ExpressionPtr, ParseError> parse(std::string_view text);

class Expression {
 public:
  // Point ids referenced, each once, in order of first appearance.
  // Evaluation inputs align with this list.
  const std::vector<Reference>& references() const { return references_; }
  // Canonical text: normalised spacing, no redundant parentheses, numbers in
  // their shortest form; equal texts mean the same computation.
  std::string text() const;

  const std::vector<Node>& nodes() const { return nodes_; }
  std::uint32_t root() const { return root_; }
  // Call sites of stateful functions: each has its own state.
  std::uint32_t stateful_calls() const { return stateful_calls_; }

 private:
  friend class Parser;
  Expression() = default;  // only parse() makes one

  std::vector<Node> nodes_;
  std::vector<Reference> references_;
  std::uint32_t root_ = 0;
  std::uint32_t stateful_calls_ = 0;
};

}  // namespace rackwatch::expr
