/// \file
/// What a server offers, read from its EHLO reply (RFC 5321 §4.1.1.1 and the extensions' RFCs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/reply.h"

namespace smtpc {

/// One line of an EHLO reply: an extension keyword and its parameters.
struct Capability {
  std::string keyword;               ///< upper-cased, e.g. "SIZE"
  std::vector<std::string> params;   ///< as sent, e.g. {"35882577"}
};

/// What a server offers, read from its EHLO reply: the extensions SMTPc uses by name, and every
/// keyword as sent.
class SMTPC_CORE_EXPORT Capabilities {
 public:
  /// Reads a 250 EHLO reply: the first line is the server's name and greeting, every further line
  /// is one keyword with optional parameters. Keywords are case-insensitive (RFC 5321 §2.4).
  static Capabilities fromEhloReply(const Reply& reply);

  /// No EHLO reply was read (the server answered HELO only, or not yet).
  bool empty() const { return entries_.empty(); }
  /// The name the server gave on the reply's first line.
  const std::string& serverName() const { return serverName_; }
  /// Every keyword in the order the server sent it, including ones SMTPc does not know.
  const std::vector<Capability>& entries() const { return entries_; }
  /// The entry for `keyword` (any case), or null when the server did not offer it.
  const Capability* find(std::string_view keyword) const;
  /// Whether the server offered `keyword` (any case).
  bool has(std::string_view keyword) const { return find(keyword) != nullptr; }

  bool supportsStartTls() const { return has("STARTTLS"); }          ///< RFC 3207
  bool supportsPipelining() const { return has("PIPELINING"); }      ///< RFC 2920
  bool supports8BitMime() const { return has("8BITMIME"); }          ///< RFC 6152
  bool supportsSmtpUtf8() const { return has("SMTPUTF8"); }          ///< RFC 6531
  bool supportsEnhancedStatusCodes() const { return has("ENHANCEDSTATUSCODES"); }  ///< RFC 2034
  bool supportsDsn() const { return has("DSN"); }                    ///< RFC 3461
  bool supportsChunking() const { return has("CHUNKING"); }          ///< RFC 3030
  bool supportsBinaryMime() const { return has("BINARYMIME"); }      ///< RFC 3030 §3
  bool supportsSize() const { return has("SIZE"); }                  ///< RFC 1870
  /// RFC 1870 §4: the fixed limit in octets; 0 (or absent) means no fixed limit.
  std::uint64_t maxSize() const { return maxSize_; }

  bool supportsAuth() const { return !authMechanisms_.empty(); }     ///< RFC 4954
  /// Upper-cased, from "AUTH ..." and the pre-standard "AUTH=..." form, without duplicates.
  const std::vector<std::string>& authMechanisms() const { return authMechanisms_; }
  /// Whether AUTH offers the mechanism `name` (any case).
  bool supportsAuthMechanism(std::string_view name) const;

  /// One line a learner can read: what the keyword means.
  static std::string_view describe(std::string_view keyword);

 private:
  std::string serverName_;
  std::vector<Capability> entries_;
  std::vector<std::string> authMechanisms_;
  std::uint64_t maxSize_ = 0;
};

}  // namespace smtpc
