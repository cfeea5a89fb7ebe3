/// \file
/// Composing a message (RFC 5322 + MIME, RFC 2045-2047, 2183, 2231, 2387): the fields a person
/// fills in become a streaming BodySource for the engine.
///
/// Nothing is read or encoded twice and nothing large is held: text parts are encoded once in
/// prepare() (they are in memory already), attachments are read and base64-encoded chunk by chunk
/// as the engine pulls. The size is known before the first byte, for SIZE= and progress bars.
/// compose() checks every field first and names the one that is wrong; nothing half-composed is
/// ever handed to the engine.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "smtpc/body.h"
#include "smtpc/core_export.h"
#include "smtpc/dsn.h"
#include "smtpc/result.h"
#include "smtpc/session.h"

namespace smtpc {

/// A display name and an address: "Jörg Müller <joerg@example.org>". (µC/SMTPc: SMTPc_SetMbox.)
class SMTPC_CORE_EXPORT Mailbox {
 public:
  Mailbox() = default;
  /// Checks the address (RFC 5321 syntax) and that the name holds no CR, LF or NUL.
  static Result<Mailbox> create(std::string displayName, std::string address);
  /// Reads "Name <addr>", "\"Name, Jr.\" <addr>", "<addr>" or "addr".
  static Result<Mailbox> parse(std::string_view text);

  /// The display name, as given (may be empty).
  const std::string& displayName() const { return displayName_; }
  /// The bare address: "joerg@example.org".
  const std::string& address() const { return address_; }
  /// The address is not ASCII: sending needs SMTPUTF8 (RFC 6531).
  bool needsSmtpUtf8() const { return needsSmtpUtf8_; }
  /// No address (a default-constructed Mailbox).
  bool empty() const { return address_.empty(); }
  /// The header form: the name quoted (RFC 5322 §3.2.4) or as encoded words (RFC 2047 §5(3)).
  std::string toHeader() const;

 private:
  std::string displayName_;
  std::string address_;
  bool needsSmtpUtf8_ = false;
};

/// Where an attachment's bytes come from. The size is known before reading.
class SMTPC_CORE_EXPORT ContentSource {
 public:
  virtual ~ContentSource() = default;
  /// The size in octets, known before reading.
  virtual std::uint64_t size() const = 0;
  virtual Error rewind() = 0;  ///< back to the start (a message may be sent more than once)
  virtual Result<std::size_t> read(std::span<char> buffer) = 0;  ///< 0 at the end
};

/// Attachment bytes held in memory.
class SMTPC_CORE_EXPORT MemoryContent final : public ContentSource {
 public:
  /// Takes the bytes.
  explicit MemoryContent(std::string data) : data_(std::move(data)) {}
  std::uint64_t size() const override { return data_.size(); }
  Error rewind() override;
  Result<std::size_t> read(std::span<char> buffer) override;

 private:
  std::string data_;
  std::size_t position_ = 0;
};

/// A file, opened when created (so a missing file is reported then), read as the message streams.
class SMTPC_CORE_EXPORT FileContent final : public ContentSource {
 public:
  /// Opens the file at `path` and learns its size; an error naming the file when it cannot.
  static Result<std::shared_ptr<FileContent>> open(const std::string& path);
  ~FileContent() override;
  std::uint64_t size() const override { return size_; }
  Error rewind() override;
  Result<std::size_t> read(std::span<char> buffer) override;

 private:
  FileContent() = default;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
};

/// A ready RFC 5322 message streamed from a ContentSource as it is sent (the CLI's --data-file):
/// memory stays constant whatever the size. The content is read once when made, to know whether
/// it needs 8BITMIME (or is binary, for BINARYMIME); size() is known for SIZE= and progress.
class SMTPC_CORE_EXPORT SourceBody final : public BodySource {
 public:
  /// Reads `content` once (for 8BITMIME and BINARYMIME), then rewinds it; an error when it cannot be read.
  static Result<std::shared_ptr<SourceBody>> create(std::shared_ptr<ContentSource> content);
  Error prepare(const Capabilities&) override { return content_->rewind(); }
  std::optional<std::uint64_t> size() const override { return content_->size(); }
  bool isEightBit() const override { return eightBit_; }
  Result<std::size_t> read(std::span<char> buffer) override { return content_->read(buffer); }
  bool isBinary() const override { return binary_; }

 private:
  explicit SourceBody(std::shared_ptr<ContentSource> content) : content_(std::move(content)) {}
  std::shared_ptr<ContentSource> content_;
  bool eightBit_ = false;
  bool binary_ = false;
};

/// A file attached to a Message, or an inline part when it has a content ID.
struct SMTPC_CORE_EXPORT Attachment {
  std::string filename;                    ///< shown to the reader; may be non-ASCII
  std::string contentType;                 ///< empty: guessed from the file name's extension
  std::string contentId;                   ///< set: an inline part, referenced from HTML as "cid:<contentId>"
  std::shared_ptr<ContentSource> content;  ///< where the bytes come from

  /// An attachment of bytes in memory; the content type guessed from `filename` when not given.
  static Attachment fromMemory(std::string filename, std::string data, std::string contentType = {});
  /// `filename` empty: the path's last component.
  static Result<Attachment> fromFile(const std::string& path, std::string contentType = {}, std::string filename = {});
};

/// "application/pdf" for "report.PDF"; "application/octet-stream" when unknown.
SMTPC_CORE_EXPORT std::string_view guessContentType(std::string_view filename);

/// The wall-clock time of composing, given by the caller (core reads no clock).
struct DateTime {
  std::int64_t unixSeconds = 0;  ///< seconds since 1970-01-01 UTC
  int utcOffsetMinutes = 0;      ///< the local time's offset from UTC, for the Date header: +60 for CET
};

class MimeBody;

/// The message as a person fills it in. (µC/SMTPc: SMTPc_SetMsg.)
struct SMTPC_CORE_EXPORT Message {
  Mailbox from;                                              ///< From: the author; MAIL FROM's address
  std::optional<Mailbox> sender;                             ///< Sender: when someone sends on the author's behalf
  std::vector<Mailbox> replyTo;                              ///< Reply-To
  std::vector<Mailbox> to;                                   ///< To
  std::vector<Mailbox> cc;                                   ///< Cc
  std::vector<Mailbox> bcc;                                  ///< envelope only: never written in a header
  std::string subject;                                       ///< Subject (encoded words when not ASCII)
  std::string text;                                          ///< text/plain body (UTF-8)
  std::string html;                                          ///< optional text/html alternative
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers, e.g. {"X-Mailer", "..."}
  std::vector<Attachment> attachments;                       ///< files and inline parts
  DsnRequest dsn;  ///< delivery reports asked (RFC 3461: NOTIFY, ORCPT, RET, ENVID); default none

  /// The SMTP envelope: From's address, then every To, Cc and Bcc address once; with `dsn`.
  Envelope envelope() const;
  /// Checks every field and returns the streaming body. `now` gives Date; Message-ID is random.
  Result<std::shared_ptr<MimeBody>> compose(DateTime now) const;
  /// compose() plus the envelope: ready for Session::send / Client::sendMsg.
  Result<OutgoingMessage> toOutgoing(DateTime now) const;
};

/// The composed message, streamed as the engine reads it: what Message::compose() returns.
class SMTPC_CORE_EXPORT MimeBody final : public BodySource {
 public:
  Error prepare(const Capabilities& capabilities) override;
  /// Known once prepare() has chosen the encodings; unknown (nullopt) before.
  std::optional<std::uint64_t> size() const override { return prepared_ ? std::optional<std::uint64_t>(size_) : std::nullopt; }
  bool isEightBit() const override { return eightBit_; }
  Result<std::size_t> read(std::span<char> buffer) override;

  /// The Message-ID header's value, angle brackets included.
  const std::string& messageId() const { return messageId_; }
  /// The whole message as a string (for --print-message and tests); prepares with `capabilities`.
  Result<std::string> toString(const Capabilities& capabilities = {});

 private:
  friend struct Message;
  struct TextPart {
    std::string contentType;  // "text/plain" or "text/html"
    std::string crlfText;     // line ends normalised to CRLF
  };
  struct Segment {  // one piece of the output: literal text, or an attachment's content
    std::string literal;
    std::shared_ptr<ContentSource> content;
    bool asLines = false;       // the content as it is with CRLF line ends (7bit/8bit message/*), not base64
    std::uint64_t linesSize = 0;  // its size then (LineScan::size)
  };
  // What prepare() read of a message/* attachment: whether it can go as 7bit or 8bit (RFC 2046 §5.2.1).
  struct LineScan {
    bool scanned = false;      // a message/* attachment, read by prepare()
    std::uint64_t size = 0;    // with every line end made CRLF and a final CRLF
    bool eightBit = false, nul = false;
    std::uint64_t longest = 0;  // the longest line, without its CRLF
  };

  void build(bool eightBitAllowed);
  Error scanMessageAttachments();

  // Composed once by Message::compose.
  std::string headers_;  // everything before the top Content-Type
  std::optional<TextPart> text_, html_;
  std::vector<Attachment> attachments_;
  std::string boundaries_[3];
  std::string messageId_;

  // Made by prepare().
  std::vector<Segment> segments_;
  std::uint64_t size_ = 0;
  bool prepared_ = false;
  bool eightBit_ = false;
  std::size_t segment_ = 0;
  std::size_t offset_ = 0;  // within a literal
  std::uint64_t contentRead_ = 0;  // of the current attachment, to catch a file changing size
  std::vector<LineScan> scans_;  // one per attachment
  char lastByte_ = 0;       // of the current message/* attachment, for its line ends across chunks
  std::string pending_;     // encoded bytes not yet handed out
  std::size_t pendingOffset_ = 0;
  std::string readBuffer_;
};

}  // namespace smtpc
