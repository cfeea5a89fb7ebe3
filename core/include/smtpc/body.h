/// \file
/// The message body as a stream (DESIGN.md rule 5): the engine pulls chunks from a BodySource and
/// runs them through a DotStuffer, so a 1 GB message never sits in memory whole.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "smtpc/capabilities.h"
#include "smtpc/core_export.h"
#include "smtpc/result.h"

namespace smtpc {

/// The message content the engine sends after DATA, pulled in chunks. Implementations: StringBody
/// (a ready message in memory), SourceBody (a ready message from a ContentSource, e.g. a file) and
/// MimeBody (a message composed with Message::compose).
class SMTPC_CORE_EXPORT BodySource {
 public:
  virtual ~BodySource() = default;
  /// Called once per transaction, when the server's capabilities are known and before size() and
  /// the first read (a MIME builder picks 8bit or quoted-printable here). Resets to the start.
  virtual Error prepare(const Capabilities& capabilities) = 0;
  /// The size in octets if known in advance (for SIZE=, RFC 1870, and progress).
  virtual std::optional<std::uint64_t> size() const = 0;
  /// True when the content has octets over 127 and needs BODY=8BITMIME (RFC 6152).
  virtual bool isEightBit() const = 0;
  /// Fills `buffer` from the current position; 0 means the end of the message.
  virtual Result<std::size_t> read(std::span<char> buffer) = 0;
  /// True when the content holds what a text message may not (ContentScan::binary()): it may then
  /// go unchanged with BODY=BINARYMIME when the server offers BINARYMIME and CHUNKING (RFC 3030
  /// §3); otherwise its line ends are normalised as for any text. A composed message never is.
  virtual bool isBinary() const { return false; }
};

/// What a ready message's octets need, learnt in one pass over them (fed in pieces).
class SMTPC_CORE_EXPORT ContentScan {
 public:
  /// Reads the next piece; pieces may split anywhere, even a CRLF.
  void feed(std::string_view bytes);
  /// Call after the last piece (a CR at the very end is a bare CR).
  void finish();
  /// An octet over 127: BODY=8BITMIME (RFC 6152).
  bool eightBit() const { return eightBit_; }
  /// A NUL, a CR or LF that is not part of a CRLF, or a line over 998 octets (RFC 5322 §2.1.1,
  /// RFC 5321 §4.5.3.1.6): not text as SMTP defines it; only BINARYMIME carries it as it is.
  bool binary() const { return binary_; }

 private:
  bool eightBit_ = false;
  bool binary_ = false;
  bool pendingCr_ = false;
  std::size_t lineLength_ = 0;
};

/// A ready RFC 5322 message held in memory (for --data-file and tests).
class SMTPC_CORE_EXPORT StringBody final : public BodySource {
 public:
  /// Takes the whole message, headers and body, as RFC 5322 text (line ends are normalised on the way out).
  explicit StringBody(std::string content);
  Error prepare(const Capabilities&) override;
  std::optional<std::uint64_t> size() const override { return content_.size(); }
  bool isEightBit() const override { return eightBit_; }
  Result<std::size_t> read(std::span<char> buffer) override;
  bool isBinary() const override { return binary_; }

 private:
  std::string content_;
  std::size_t position_ = 0;
  bool eightBit_ = false;
  bool binary_ = false;
};

/// SMTP DATA transparency (RFC 5321 §4.5.2) and line ends (§2.3.8): every line end becomes CRLF
/// (a bare LF or bare CR too), a line that starts with "." gets a second one, and finish() ends
/// the data with CRLF "." CRLF, adding the CRLF if the content did not end with one.
/// With `stuffDots` false (BDAT, RFC 3030: the chunks are counted, nothing marks the end) only
/// the line ends are made CRLF: no dot is doubled and finish() adds the last CRLF alone.
class SMTPC_CORE_EXPORT DotStuffer {
 public:
  /// A stuffer for DATA (`stuffDots` true) or for BDAT chunks (false: line ends only).
  explicit DotStuffer(bool stuffDots = true) : stuffDots_(stuffDots) {}
  /// Appends the wire form of `input` to `out`. Input may be split anywhere, even inside a CRLF.
  void process(std::string_view input, std::string& out);
  /// Appends the end of the data: CRLF if the content did not end with one, then "." CRLF.
  void finish(std::string& out);
  /// Back to the start of a new message.
  void reset() { *this = DotStuffer(stuffDots_); }

 private:
  bool stuffDots_ = true;
  bool atLineStart_ = true;
  bool pendingCr_ = false;
};

}  // namespace smtpc
