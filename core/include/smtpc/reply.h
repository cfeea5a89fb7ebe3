/// \file
/// SMTP replies (RFC 5321 §4.2) and their incremental parser.
///
/// ```
///   Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
/// ```
///
/// Enhanced status codes (RFC 3463, RFC 2034 §4) such as "5.1.1" are separated from the text when a
/// line starts with one whose class matches the reply's first digit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"

namespace smtpc {

/// RFC 5321 §4.2.1: the first digit.
enum class Severity {
  PositiveCompletion = 2,    ///< 2yz: done
  PositiveIntermediate = 3,  ///< 3yz: go on (354, 334)
  TransientNegative = 4,     ///< 4yz: not now, try again later
  PermanentNegative = 5,     ///< 5yz: no
};

/// RFC 3463 §2: class.subject.detail, e.g. 5.7.8.
struct SMTPC_CORE_EXPORT EnhancedStatus {
  int klass = 0;  ///< class: 2 success, 4 persistent transient failure, 5 permanent failure
  int subject = 0;  ///< subject: 1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol, 6 content, 7 security
  int detail = 0;  ///< detail within the subject
  /// As written: "5.7.8".
  std::string toString() const;
  /// Same class, subject and detail.
  bool operator==(const EnhancedStatus&) const = default;
};

/// One SMTP reply: its code, the enhanced status code if any, and its lines of text.
struct SMTPC_CORE_EXPORT Reply {
  int code = 0;  ///< the three-digit reply code
  std::optional<EnhancedStatus> enhanced;  ///< the enhanced status code, when the reply had one
  /// Text of each line, without the code, separator and enhanced status. At least one entry.
  std::vector<std::string> lines;

  /// What the first digit says.
  Severity severity() const { return static_cast<Severity>(code / 100); }
  /// The second digit (RFC 5321 §4.2.1: 0 syntax, 1 information, 2 connections, 5 mail system).
  int categoryDigit() const { return (code / 10) % 10; }
  /// 2yz or 3yz.
  bool isPositive() const { return code >= 200 && code < 400; }
  /// 2yz: done.
  bool isCompletion() const { return code >= 200 && code < 300; }
  /// 3yz: go on.
  bool isIntermediate() const { return code >= 300 && code < 400; }
  /// 4yz: try again later.
  bool isTransient() const { return code >= 400 && code < 500; }
  /// 5yz: no.
  bool isPermanent() const { return code >= 500 && code < 600; }

  /// The lines joined with a space: what a person reads.
  std::string text() const;
  /// "550 5.1.1 no such user" (first line) with " (+N more lines)" when there are more.
  std::string summary() const;
  /// The reply as it stood on the wire, one string per line without CRLF.
  std::vector<std::string> wireLines() const;
};

/// How much a server may send in one reply before the parser calls it malformed (a protocol error,
/// not a buffer overflow).
struct ReplyLimits {
  /// RFC 5321 §4.5.3.1.5 says 512 octets; real servers send longer EHLO and error lines, so the
  /// default is generous while still bounded.
  std::size_t maxLineLength = 4096;  ///< octets in one line, without its line end
  std::size_t maxLines = 200;  ///< lines in one reply
  std::size_t maxReplyBytes = 64 * 1024;  ///< octets in one reply, all lines together
};

/// Feed bytes as they arrive, in any split; take complete replies out.
class SMTPC_CORE_EXPORT ReplyParser {
 public:
  /// What next() found.
  enum class Status {
    NeedMore,   ///< no complete reply yet; feed more bytes
    Complete,   ///< `out` holds the next reply
    Malformed,  ///< the peer broke the grammar or a limit; error() says how. Sticky.
  };

  /// A parser that enforces `limits`.
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  /// Appends bytes as they arrived; call next() until it returns NeedMore.
  void feed(std::string_view bytes);
  /// Parses the next reply. `out` is overwritten (its storage is reused) only on Complete.
  Status next(Reply& out);

  /// Why the input is Malformed, in words; empty otherwise.
  const std::string& error() const { return error_; }
  /// Bytes received but not yet part of a returned reply (a partial line or further replies).
  std::size_t bufferedBytes() const { return buffer_.size() - position_; }
  /// Drops everything buffered and any partial reply (RFC 3207 §4.2 after STARTTLS's 220).
  void discardBuffered();
  /// The limits it enforces.
  const ReplyLimits& limits() const { return limits_; }

 private:
  Status fail(std::string message);

  ReplyLimits limits_;
  std::string buffer_;
  std::size_t position_ = 0;
  // The reply being assembled from the lines seen so far.
  Reply pending_;
  std::size_t pendingLines_ = 0;
  std::size_t pendingBytes_ = 0;
  std::string error_;
};

}  // namespace smtpc
