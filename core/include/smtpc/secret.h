/// \file
/// A credential (password, OAuth token) that never prints itself.
///
/// Streaming a Secret, or asking for its debug text, gives "********". The value is wiped from
/// memory when the Secret goes away. Only SASL code calls reveal().
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"

namespace smtpc {

/// A password or token: prints as ********, wiped from memory when it goes away.
class SMTPC_CORE_EXPORT Secret {
 public:
  /// An empty secret.
  Secret() = default;
  /// Keeps `value`.
  explicit Secret(std::string value) : value_(std::move(value)) {}
  /// A copy of the value.
  Secret(const Secret&) = default;
  /// Wipes what it held, then copies the value.
  Secret& operator=(const Secret& other);
  /// Takes the value; `other` is left wiped.
  Secret(Secret&& other) noexcept;
  /// Wipes what it held and takes the value; `other` is left wiped.
  Secret& operator=(Secret&& other) noexcept;
  /// Wipes the value.
  ~Secret();

  /// No value.
  bool empty() const { return value_.empty(); }
  /// The value itself: for the code that must send it (SASL, the OAuth flow's requests), never for
  /// text a person reads.
  std::string_view reveal() const { return value_; }
  /// What a Secret prints as: "********".
  static constexpr std::string_view redacted() { return "********"; }

  /// Prints redacted(), never the value.
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << redacted(); }

 private:
  void wipe();
  std::string value_;
};

}  // namespace smtpc
