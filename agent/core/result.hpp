// One result type for every I/O boundary and codec: a value, or the error
// that says what failed (C++20 has no std::expected). Each protocol brings
// its own error type with a precise code; std::error_code serves the rest.
#pragma once

#include <system_error>
#include <utility>
#include <variant>

namespace rackwatch {

template <class T, class E = std::error_code>
class Result {
 public:
  // Implicit, so that a function simply returns a value or an error.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Only when ok().
  const T& value() const& { return std::get<0>(state_); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  // Only when !ok().
  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

}  // namespace rackwatch
