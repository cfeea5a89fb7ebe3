// A credential (password, OAuth token) that never prints itself.
//
// Streaming a Secret, or asking for its debug text, gives "********". The value is wiped from
// memory when the Secret goes away. Only SASL code calls reveal().
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"

namespace smtpc {

class SMTPC_CORE_EXPORT Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret& other);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  bool empty() const { return value_.empty(); }
  std::string_view reveal() const { return value_; }
  static constexpr std::string_view redacted() { return "********"; }

  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << redacted(); }

 private:
  void wipe();
  std::string value_;
};

}  // namespace smtpc
