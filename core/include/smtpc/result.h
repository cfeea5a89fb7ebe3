// Result<T>: a value or an Error. Core is built without exceptions (Emscripten aborts on throw),
// and neither compiler we target has std::expected.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "smtpc/error.h"

namespace smtpc {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}              // NOLINT: implicit on purpose
  Result(Error error) : error_(std::move(error)) { assert(error_.isError()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { assert(ok()); return *value_; }
  T& value() & { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

}  // namespace smtpc
