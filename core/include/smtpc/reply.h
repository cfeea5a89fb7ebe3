// SMTP replies (RFC 5321 §4.2) and their incremental parser.
//
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
//
// Enhanced status codes (RFC 3463, RFC 2034 §4) such as "5.1.1" are separated from the text when a
// line starts with one whose class matches the reply's first digit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"

namespace smtpc {

// RFC 5321 §4.2.1: the first digit.
enum class Severity {
  PositiveCompletion = 2,    // 2yz: done
  PositiveIntermediate = 3,  // 3yz: go on (354, 334)
  TransientNegative = 4,     // 4yz: not now, try again later
  PermanentNegative = 5,     // 5yz: no
};

// RFC 3463 §2: class.subject.detail, e.g. 5.7.8.
struct SMTPC_CORE_EXPORT EnhancedStatus {
  int klass = 0;
  int subject = 0;
  int detail = 0;
  std::string toString() const;
  bool operator==(const EnhancedStatus&) const = default;
};

struct SMTPC_CORE_EXPORT Reply {
  int code = 0;
  std::optional<EnhancedStatus> enhanced;
  // Text of each line, without the code, separator and enhanced status. At least one entry.
  std::vector<std::string> lines;

  Severity severity() const { return static_cast<Severity>(code / 100); }
  int categoryDigit() const { return (code / 10) % 10; }
  bool isPositive() const { return code >= 200 && code < 400; }
  bool isCompletion() const { return code >= 200 && code < 300; }
  bool isIntermediate() const { return code >= 300 && code < 400; }
  bool isTransient() const { return code >= 400 && code < 500; }
  bool isPermanent() const { return code >= 500 && code < 600; }

  // The lines joined with a space: what a person reads.
  std::string text() const;
  // "550 5.1.1 no such user" (first line) with " (+N more lines)" when there are more.
  std::string summary() const;
  // The reply as it stood on the wire, one string per line without CRLF.
  std::vector<std::string> wireLines() const;
};

struct ReplyLimits {
  // RFC 5321 §4.5.3.1.5 says 512 octets; real servers send longer EHLO and error lines, so the
  // default is generous while still bounded.
  std::size_t maxLineLength = 4096;
  std::size_t maxLines = 200;
  std::size_t maxReplyBytes = 64 * 1024;
};

// Feed bytes as they arrive, in any split; take complete replies out.
class SMTPC_CORE_EXPORT ReplyParser {
 public:
  enum class Status {
    NeedMore,   // no complete reply yet; feed more bytes
    Complete,   // `out` holds the next reply
    Malformed,  // the peer broke the grammar or a limit; error() says how. Sticky.
  };

  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes);
  // Parses the next reply. `out` is overwritten (its storage is reused) only on Complete.
  Status next(Reply& out);

  const std::string& error() const { return error_; }
  // Bytes received but not yet part of a returned reply (a partial line or further replies).
  std::size_t bufferedBytes() const { return buffer_.size() - position_; }
  // Drops everything buffered and any partial reply (RFC 3207 §4.2 after STARTTLS's 220).
  void discardBuffered();
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
