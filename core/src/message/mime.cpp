// The MIME structure (RFC 2045, 2046, 2183, 2387) and its streaming output.
//
//   text only              text/plain
//   html only              text/html, or multipart/related(html, inline parts)
//   text and html          multipart/alternative(text, html or related(html, inline parts))
//   any attachment         multipart/mixed(the above, attachments...)
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "smtpc/base64.h"
#include "smtpc/encoding.h"
#include "smtpc/message.h"
#include "text.h"

namespace smtpc {

namespace {

constexpr std::size_t kChunk = 57 * 1024;  // a multiple of 57: whole base64 lines per chunk

std::string randomHex(std::size_t bytes) {
  unsigned char raw[32];
  if (bytes > sizeof raw || RAND_bytes(raw, static_cast<int>(bytes)) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[raw[i] >> 4];
    out += kHex[raw[i] & 15];
  }
  return out;
}

Error fieldError(const std::string& field, const std::string& why) {
  return Error(ErrorCode::InvalidArgument, field + ": " + why);
}

bool hasLineBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string normaliseLineEnds(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 32);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out += "\r\n";
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else if (in[i] == '\n') {
      out += "\r\n";
    } else {
      out += in[i];
    }
  }
  return out;
}

std::size_t longestLine(std::string_view crlfText) {
  std::size_t longest = 0, start = 0;
  while (start <= crlfText.size()) {
    std::size_t end = crlfText.find("\r\n", start);
    if (end == std::string_view::npos) end = crlfText.size();
    longest = std::max(longest, end - start);
    start = end + 2;
  }
  return longest;
}

// Appends `in` with every line end made CRLF (a bare CR or LF is one too); `last` is the byte before
// `in` (a CRLF split across two reads stays one line end) and becomes in's last byte.
void appendCrlfLines(std::string_view in, char& last, std::string& out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '\r' && c != '\n') continue;
    out.append(in.data() + start, i - start);
    if (c == '\r' || (i == 0 ? last : in[i - 1]) != '\r') out += "\r\n";
    start = i + 1;
  }
  out.append(in.data() + start, in.size() - start);
  if (!in.empty()) last = in.back();
}

// "message/rfc822", "Message/Global", ...: RFC 2046 §5.2 allows them only 7bit, 8bit or binary.
bool isMessageType(std::string_view type) {
  return type.size() > 8 && text::equalsIgnoreCase(type.substr(0, 8), "message/");
}

std::string attachmentType(const Attachment& a) {
  return a.contentType.empty() ? std::string(guessContentType(a.filename)) : a.contentType;
}

// Header names SMTPc writes itself: extra headers may not repeat them.
constexpr std::string_view kOwnHeaders[] = {"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject",
                                            "Message-ID", "MIME-Version", "Content-Type",
                                            "Content-Transfer-Encoding", "Content-Disposition"};

std::string addressHeader(std::string_view name, const std::vector<Mailbox>& mailboxes) {
  std::string out = std::string(name) + ":";
  std::size_t column = out.size();
  for (std::size_t i = 0; i < mailboxes.size(); ++i) {
    const std::string piece = mailboxes[i].toHeader();
    const std::size_t firstLine = std::min(piece.find("\r\n"), piece.size());
    if (i > 0) out += ",";
    if (i > 0 && column + 2 + firstLine > 78) {
      out += "\r\n ";
      column = 1;
    } else {
      out += " ";
      ++column;
    }
    out += piece;
    const std::size_t lastBreak = piece.rfind("\r\n");
    column = lastBreak == std::string::npos ? column + piece.size() : piece.size() - lastBreak - 2;
  }
  return out + "\r\n";
}

}  // namespace

Envelope Message::envelope() const {
  Envelope envelope;
  envelope.from = from.address();
  for (const auto* list : {&to, &cc, &bcc})
    for (const auto& mailbox : *list)
      if (std::find(envelope.recipients.begin(), envelope.recipients.end(), mailbox.address()) == envelope.recipients.end())
        envelope.recipients.push_back(mailbox.address());
  envelope.dsn = dsn;
  return envelope;
}

Result<OutgoingMessage> Message::toOutgoing(DateTime now) const {
  auto body = compose(now);
  if (!body) return body.error();
  return OutgoingMessage{envelope(), std::move(*body)};
}

Result<std::shared_ptr<MimeBody>> Message::compose(DateTime now) const {
  // --- every field first: nothing half-composed
  if (from.empty()) return fieldError("From", "no sender address is given.");
  if (to.empty() && cc.empty() && bcc.empty()) return fieldError("To", "the message has no recipients (To, Cc or Bcc).");
  if (hasLineBreak(subject)) return fieldError("Subject", "contains a line break; a subject is one line.");
  for (const auto& [name, value] : headers) {
    if (name.empty()) return fieldError("Header", "a header has an empty name.");
    for (unsigned char c : name)
      if (c < 33 || c > 126 || c == ':')
        return fieldError("Header \"" + name + "\"", "a header name is printable ASCII without spaces or ':'.");
    for (std::string_view own : kOwnHeaders)
      if (text::equalsIgnoreCase(name, own))
        return fieldError("Header \"" + name + "\"", "SMTPc writes this header itself; set the matching field instead.");
    if (hasLineBreak(value)) return fieldError("Header \"" + name + "\"", "its value contains a line break.");
  }
  for (const auto& attachment : attachments) {
    const std::string field = "Attachment \"" + attachment.filename + "\"";
    if (!attachment.content) return fieldError(field, "has no content.");
    if (attachment.filename.empty() && attachment.contentId.empty()) return fieldError("Attachment", "has no file name.");
    if (hasLineBreak(attachment.filename)) return fieldError(field, "the file name contains a line break.");
    if (hasLineBreak(attachment.contentId) || attachment.contentId.find_first_of("<> ") != std::string::npos)
      return fieldError(field, "the Content-ID may not contain spaces, '<' or '>'.");
    const std::string& type = attachment.contentType;
    if (!type.empty()) {
      const std::size_t slash = type.find('/');
      bool valid = slash != std::string::npos && slash > 0 && slash + 1 < type.size();
      for (unsigned char c : type) valid = valid && c > 32 && c < 127 && c != ';' && c != '"';
      if (!valid) return fieldError(field, "the content type \"" + type + "\" is not of the form type/subtype.");
    }
  }

  auto body = std::shared_ptr<MimeBody>(new MimeBody());
  const std::string& address = from.address();
  std::string domain = address.substr(address.rfind('@') + 1);
  if (!text::isAscii(domain) || domain.front() == '[') domain = "smtpc.invalid";
  const std::string unique = randomHex(16);
  if (unique.empty()) return Error(ErrorCode::Encode, "No random numbers are available for the Message-ID.");
  body->messageId_ = "<" + unique + "." + std::to_string(now.unixSeconds) + "@" + domain + ">";

  std::string& h = body->headers_;
  h += "Date: " + encoding::rfc5322Date(now.unixSeconds, now.utcOffsetMinutes) + "\r\n";
  h += addressHeader("From", {from});
  if (sender) h += addressHeader("Sender", {*sender});
  if (!replyTo.empty()) h += addressHeader("Reply-To", replyTo);
  if (!to.empty()) h += addressHeader("To", to);
  if (!cc.empty()) h += addressHeader("Cc", cc);
  if (!subject.empty()) h += encoding::headerLine("Subject", subject);
  h += "Message-ID: " + body->messageId_ + "\r\n";
  h += "MIME-Version: 1.0\r\n";
  for (const auto& [name, value] : headers) h += encoding::headerLine(name, value);

  if (!text.empty() || html.empty()) body->text_ = MimeBody::TextPart{"text/plain", normaliseLineEnds(text)};
  if (!html.empty()) body->html_ = MimeBody::TextPart{"text/html", normaliseLineEnds(html)};
  body->attachments_ = attachments;
  for (auto& boundary : body->boundaries_) {
    // "=_" cannot occur in base64 or quoted-printable output, and 7bit/8bit text is checked below.
    for (;;) {
      boundary = "=_smtpc_" + randomHex(12);
      bool clash = false;
      for (const auto* part : {&body->text_, &body->html_})
        clash = clash || (*part && (*part)->crlfText.find(boundary) != std::string::npos);
      if (!clash) break;
    }
  }
  return body;
}

// Lays out every part as literal text and attachment streams, given whether 8bit may be used.
void MimeBody::build(bool eightBitAllowed) {
  segments_.clear();
  eightBit_ = false;
  std::string literal = headers_;
  auto flush = [&] {
    if (!literal.empty()) segments_.push_back(Segment{std::move(literal), nullptr});
    literal.clear();
  };

  auto textPart = [&](const TextPart& part) {
    const bool ascii = text::isAscii(part.crlfText) && part.crlfText.find('\0') == std::string::npos;
    const bool shortLines = longestLine(part.crlfText) <= 998;  // RFC 5322 §2.1.1
    std::string encodingName, content;
    if (ascii && shortLines) {
      encodingName = "7bit";
      content = part.crlfText;
    } else if (eightBitAllowed && shortLines && part.crlfText.find('\0') == std::string::npos) {
      encodingName = "8bit";
      content = part.crlfText;
      eightBit_ = true;
    } else {
      encodingName = "quoted-printable";
      content = encoding::quotedPrintable(part.crlfText);
    }
    if (!content.empty() && (content.size() < 2 || content.compare(content.size() - 2, 2, "\r\n") != 0)) content += "\r\n";
    literal += "Content-Type: " + part.contentType + "; charset=\"utf-8\"\r\n";
    literal += "Content-Transfer-Encoding: " + encodingName + "\r\n\r\n";
    literal += content;
  };

  auto attachmentPart = [&](const Attachment& a) {
    std::string type = attachmentType(a);
    // An attached message goes as the text it is (RFC 2046 §5.2.1: never base64), so readers open it
    // as a message. When it cannot (NUL, a line over 998, 8-bit without 8BITMIME, or 8-bit in a
    // message/partial or external-body, which must be 7bit) it goes as a file, base64, named as it is.
    const LineScan& scan = scans_[static_cast<std::size_t>(&a - attachments_.data())];
    std::string encodingName = "base64";
    if (scan.scanned) {
      const bool fits = !scan.nul && scan.longest <= 998;
      const bool sevenBitOnly = text::equalsIgnoreCase(type, "message/partial") ||
                                text::equalsIgnoreCase(type, "message/external-body");
      if (fits && !scan.eightBit) {
        encodingName = "7bit";
      } else if (fits && eightBitAllowed && !sevenBitOnly) {
        encodingName = "8bit";
        eightBit_ = true;
      } else {
        type = "application/octet-stream";
      }
    }
    literal += "Content-Type: " + type;
    if (!a.filename.empty()) {
      // Old readers (Outlook before 2010, some webmails) only read name= with RFC 2047 words.
      const std::string name = encoding::needsHeaderEncoding(a.filename) ? encoding::encodedWords(a.filename, 0) : a.filename;
      if (name.find("\r\n") == std::string::npos && name.find('"') == std::string::npos)
        literal += ";\r\n name=\"" + name + "\"";
    }
    literal += "\r\nContent-Transfer-Encoding: " + encodingName + "\r\n";
    literal += a.contentId.empty() ? "Content-Disposition: attachment" : "Content-Disposition: inline";
    if (!a.filename.empty()) literal += ";\r\n " + encoding::parameter("filename", a.filename);
    literal += "\r\n";
    if (!a.contentId.empty()) literal += "Content-ID: <" + a.contentId + ">\r\n";
    literal += "\r\n";
    flush();
    const bool asLines = encodingName != "base64";
    segments_.push_back(Segment{{}, a.content, asLines, asLines ? scan.size : 0});
  };

  auto multipart = [&](const std::string& subtype, const std::string& boundary, const auto& writeParts) {
    literal += "Content-Type: multipart/" + subtype + ";\r\n boundary=\"" + boundary + "\"\r\n\r\n";
    writeParts([&] { literal += "--" + boundary + "\r\n"; });
    literal += "--" + boundary + "--\r\n";
  };

  std::vector<const Attachment*> inline_, attached;
  for (const auto& a : attachments_) (a.contentId.empty() ? attached : inline_).push_back(&a);

  auto htmlOrRelated = [&] {
    if (inline_.empty()) {
      textPart(*html_);
      return;
    }
    multipart("related", boundaries_[2], [&](const auto& next) {
      next();
      textPart(*html_);
      for (const auto* a : inline_) {
        next();
        attachmentPart(*a);
      }
    });
  };
  auto bodyPart = [&] {
    if (text_ && html_) {
      multipart("alternative", boundaries_[1], [&](const auto& next) {
        next();
        textPart(*text_);
        next();
        htmlOrRelated();
      });
    } else if (html_) {
      htmlOrRelated();
    } else {
      textPart(*text_);
      for (const auto* a : inline_) attached.push_back(a);  // nothing refers to them: attach them
    }
  };

  if (attached.empty()) {
    bodyPart();
  } else {
    multipart("mixed", boundaries_[0], [&](const auto& next) {
      next();
      bodyPart();
      for (const auto* a : attached) {
        next();
        attachmentPart(*a);
      }
    });
  }
  flush();
}

// Reads every message/* attachment once: its size with CRLF line ends, and what it holds.
Error MimeBody::scanMessageAttachments() {
  scans_.assign(attachments_.size(), LineScan{});
  for (std::size_t i = 0; i < attachments_.size(); ++i) {
    if (!isMessageType(attachmentType(attachments_[i]))) continue;
    LineScan& scan = scans_[i];
    scan.scanned = true;
    ContentSource& content = *attachments_[i].content;
    if (Error error = content.rewind()) return error;
    readBuffer_.resize(kChunk);
    std::string lines;
    char last = 0;
    std::uint64_t line = 0;
    for (;;) {
      auto n = content.read(std::span<char>(readBuffer_.data(), kChunk));
      if (!n) return n.error();
      if (*n == 0) break;
      lines.clear();
      appendCrlfLines(std::string_view(readBuffer_.data(), *n), last, lines);
      scan.size += lines.size();
      for (char c : lines) {
        const auto u = static_cast<unsigned char>(c);
        scan.eightBit = scan.eightBit || u >= 0x80;
        scan.nul = scan.nul || u == 0;
        if (c == '\n') {
          line = 0;
        } else if (c != '\r') {
          scan.longest = std::max(scan.longest, ++line);
        }
      }
    }
    if (scan.size > 0 && last != '\r' && last != '\n') scan.size += 2;  // the part ends with a line end
  }
  return {};
}

Error MimeBody::prepare(const Capabilities& capabilities) {
  if (Error error = scanMessageAttachments()) return error;
  build(capabilities.supports8BitMime());
  size_ = 0;
  for (auto& segment : segments_) {
    if (segment.content) {
      if (Error error = segment.content->rewind()) return error;
      size_ += segment.asLines ? segment.linesSize : encoding::base64LinesSize(segment.content->size());
    } else {
      size_ += segment.literal.size();
    }
  }
  segment_ = 0;
  offset_ = 0;
  pending_.clear();
  pendingOffset_ = 0;
  contentRead_ = 0;
  lastByte_ = 0;
  prepared_ = true;
  return {};
}

Result<std::size_t> MimeBody::read(std::span<char> buffer) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    if (pendingOffset_ < pending_.size()) {
      const std::size_t n = std::min(buffer.size() - filled, pending_.size() - pendingOffset_);
      std::memcpy(buffer.data() + filled, pending_.data() + pendingOffset_, n);
      filled += n;
      pendingOffset_ += n;
      continue;
    }
    if (segment_ == segments_.size()) break;
    Segment& segment = segments_[segment_];
    if (!segment.content) {
      const std::size_t n = std::min(buffer.size() - filled, segment.literal.size() - offset_);
      std::memcpy(buffer.data() + filled, segment.literal.data() + offset_, n);
      filled += n;
      offset_ += n;
      if (offset_ == segment.literal.size()) {
        ++segment_;
        offset_ = 0;
      }
      continue;
    }
    if (segment.asLines) {
      readBuffer_.resize(kChunk);
      auto n = segment.content->read(std::span<char>(readBuffer_.data(), kChunk));
      if (!n) return n.error();
      contentRead_ += *n;
      pending_.clear();
      pendingOffset_ = 0;
      if (contentRead_ > segment.content->size() || (*n == 0 && contentRead_ != segment.content->size()))
        return Error(ErrorCode::BodyReadFailed, "An attachment changed size while it was being sent.");
      if (*n > 0) {
        appendCrlfLines(std::string_view(readBuffer_.data(), *n), lastByte_, pending_);
        continue;
      }
      if (contentRead_ > 0 && lastByte_ != '\r' && lastByte_ != '\n') pending_ = "\r\n";
      ++segment_;
      contentRead_ = 0;
      lastByte_ = 0;
      continue;
    }
    // Fill a whole chunk (a multiple of 57 bytes) so base64 lines stay whole across chunks.
    readBuffer_.resize(kChunk);
    std::size_t got = 0;
    while (got < kChunk) {
      auto n = segment.content->read(std::span<char>(readBuffer_.data() + got, kChunk - got));
      if (!n) return n.error();
      if (*n == 0) break;
      got += *n;
    }
    contentRead_ += got;
    if (got == 0 || contentRead_ > segment.content->size()) {
      if (contentRead_ != segment.content->size())
        return Error(ErrorCode::BodyReadFailed, "An attachment changed size while it was being sent.");
      ++segment_;
      contentRead_ = 0;
      continue;
    }
    pending_.clear();
    pendingOffset_ = 0;
    encoding::base64LinesAppend(std::string_view(readBuffer_.data(), got), pending_);
  }
  return filled;
}

Result<std::string> MimeBody::toString(const Capabilities& capabilities) {
  if (Error error = prepare(capabilities)) return error;
  std::string out;
  out.reserve(static_cast<std::size_t>(size_));
  char buffer[64 * 1024];
  for (;;) {
    auto n = read(buffer);
    if (!n) return n.error();
    if (*n == 0) break;
    out.append(buffer, *n);
  }
  return out;
}

}  // namespace smtpc
