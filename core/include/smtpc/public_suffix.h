/// \file
/// The Public Suffix List (https://publicsuffix.org/list/): which part of a host name is a
/// registrable domain ("mail.protection.outlook.com" → "outlook.com", "www.example.co.uk" →
/// "example.co.uk"). Core parses the list's text; the adapter reads it (natively Debian's
/// /usr/share/publicsuffix/public_suffix_list.dat, on the page a copy served beside it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

#include "smtpc/core_export.h"

namespace smtpc {

/// The rules of the Public Suffix List, and the registrable domain of a host name by them.
class SMTPC_CORE_EXPORT PublicSuffixList {
 public:
  PublicSuffixList() = default;  ///< empty: only the default rule "*" (the last label)
  /// The list's text format: one rule per line, "//" comments, "*." wildcards, "!" exceptions.
  /// Rules are compared in lower case; names that are not ASCII (IDN rules in UTF-8) are kept
  /// but only match a host written the same way.
  static PublicSuffixList parse(std::string_view text);

  /// The number of rules (plain, wildcard and exception).
  std::size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }
  /// No rules: only the default rule "*" applies.
  bool empty() const { return size() == 0; }

  /// The public suffix of `host` (lower-cased, without a trailing dot): "co.uk" for
  /// "www.example.co.uk"; the last label when no rule matches (the "*" rule).
  std::string publicSuffix(std::string_view host) const;
  /// The public suffix and one label more; empty when the host is itself a public suffix (or
  /// is empty, or an IP address literal is given: then the host itself).
  std::string registrableDomain(std::string_view host) const;

 private:
  std::unordered_set<std::string> rules_;       // "co.uk"
  std::unordered_set<std::string> wildcards_;   // "*.ck" stored as "ck"
  std::unordered_set<std::string> exceptions_;  // "!www.ck" stored as "www.ck"
};

}  // namespace smtpc
