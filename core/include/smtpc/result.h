/// \file
/// Result<T>: a value or an Error. Core is built without exceptions (Emscripten aborts on throw),
/// and neither compiler we target has std::expected.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "smtpc/error.h"

namespace smtpc {

/// A value or an Error: what a call that can fail returns. Check ok() (or test it as a bool)
/// before value(); the error is then None.
template <class T>
class [[nodiscard]] Result {
 public:
  /// A success, holding `value`.
  Result(T value) : value_(std::move(value)) {}              // NOLINT: implicit on purpose
  /// A failure; `error` must be an error (not ErrorCode::None).
  Result(Error error) : error_(std::move(error)) { assert(error_.isError()); }  // NOLINT

  /// It holds a value.
  bool ok() const { return value_.has_value(); }
  /// Same as ok().
  explicit operator bool() const { return ok(); }
  /// The value; only when ok().
  const T& value() const& { assert(ok()); return *value_; }
  /// The value; only when ok().
  T& value() & { assert(ok()); return *value_; }
  /// The value, moved out; only when ok().
  T&& value() && { assert(ok()); return std::move(*value_); }
  /// The value; only when ok().
  const T& operator*() const& { return value(); }
  /// The value's members; only when ok().
  const T* operator->() const { return &value(); }
  /// The error; ErrorCode::None when ok().
  const Error& error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

}  // namespace smtpc
