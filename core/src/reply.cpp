// RFC 5321 §4.2 reply grammar, RFC 3463 enhanced status codes, RFC 2034 §4 placement.
#include "smtpc/reply.h"

#include <cstring>
#include <utility>

namespace smtpc {

std::string EnhancedStatus::toString() const {
  return std::to_string(klass) + '.' + std::to_string(subject) + '.' + std::to_string(detail);
}

std::string Reply::text() const {
  std::string result;
  for (const auto& line : lines) {
    if (!result.empty() && !line.empty()) result += ' ';
    result += line;
  }
  return result;
}

std::string Reply::summary() const {
  std::string result = std::to_string(code);
  if (enhanced) result += ' ' + enhanced->toString();
  if (!lines.empty() && !lines.front().empty()) result += ' ' + lines.front();
  if (lines.size() > 1) result += " (+" + std::to_string(lines.size() - 1) + " more lines)";
  return result;
}

std::vector<std::string> Reply::wireLines() const {
  std::vector<std::string> result;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line = std::to_string(code);
    line += (i + 1 == lines.size()) ? ' ' : '-';
    if (enhanced) line += enhanced->toString() + (lines[i].empty() ? "" : " ");
    line += lines[i];
    result.push_back(std::move(line));
  }
  return result;
}

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1 to 3 digits at text[pos]; RFC 3463 allows up to three digits for subject and detail.
bool readNumber(std::string_view text, std::size_t& pos, int& value) {
  std::size_t start = pos;
  value = 0;
  while (pos < text.size() && isDigit(text[pos]) && pos - start < 3) value = value * 10 + (text[pos++] - '0');
  return pos > start && (pos == text.size() || !isDigit(text[pos]));
}

// Recognises "X.Y.Z" at the start of `text` (followed by a space or the end) whose class matches
// the reply code's first digit, and returns how many characters it took, spaces included.
std::size_t parseEnhanced(std::string_view text, int replyClass, EnhancedStatus& status) {
  if (text.size() < 5 || text[0] - '0' != replyClass || text[1] != '.') return 0;
  std::size_t pos = 2;
  if (!readNumber(text, pos, status.subject) || pos >= text.size() || text[pos] != '.') return 0;
  ++pos;
  if (!readNumber(text, pos, status.detail)) return 0;
  if (pos < text.size() && text[pos] != ' ') return 0;
  status.klass = replyClass;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  return pos;
}

}  // namespace

void ReplyParser::feed(std::string_view bytes) {
  if (!error_.empty()) return;  // malformed is final: keep nothing more (memory stays bounded)
  if (position_ == buffer_.size()) {
    buffer_.clear();
    position_ = 0;
  } else if (position_ > 4096 && position_ * 2 > buffer_.size()) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

void ReplyParser::discardBuffered() {
  buffer_.clear();
  position_ = 0;
  pendingLines_ = 0;
  pendingBytes_ = 0;
}

ReplyParser::Status ReplyParser::fail(std::string message) {
  error_ = std::move(message);
  return Status::Malformed;
}

ReplyParser::Status ReplyParser::next(Reply& out) {
  if (!error_.empty()) return Status::Malformed;
  for (;;) {
    const char* begin = buffer_.data() + position_;
    const std::size_t available = buffer_.size() - position_;
    const void* newline = available ? std::memchr(begin, '\n', available) : nullptr;
    if (!newline) {
      if (available > limits_.maxLineLength)
        return fail("a reply line is longer than " + std::to_string(limits_.maxLineLength) + " octets");
      return Status::NeedMore;
    }
    std::size_t length = static_cast<const char*>(newline) - begin;
    position_ += length + 1;
    // CRLF is the rule; a bare LF is accepted as a line end (many servers' test harnesses send it).
    if (length > 0 && begin[length - 1] == '\r') --length;
    if (length > limits_.maxLineLength)
      return fail("a reply line is longer than " + std::to_string(limits_.maxLineLength) + " octets");
    std::string_view line(begin, length);

    if (line.size() < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]))
      return fail("a reply line does not start with a three-digit code: \"" + std::string(line.substr(0, 40)) + "\"");
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line[0] < '2' || line[0] > '5' || line[1] > '5')
      return fail("reply code " + std::to_string(code) + " is outside RFC 5321's range");
    const bool last = line.size() == 3 || line[3] == ' ';
    if (!last && line[3] != '-')
      return fail("reply code " + std::to_string(code) + " is followed by '" + std::string(1, line[3]) +
                  "' instead of a space or '-'");
    if (pendingLines_ > 0 && code != pending_.code)
      return fail("a multi-line reply changed its code from " + std::to_string(pending_.code) + " to " +
                  std::to_string(code));

    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (pendingLines_ == 0) {
      pending_.code = code;
      pending_.enhanced.reset();
      EnhancedStatus status;
      if (std::size_t taken = parseEnhanced(text, code / 100, status)) {
        pending_.enhanced = status;
        text.remove_prefix(taken);
      }
    } else if (pending_.enhanced) {
      EnhancedStatus status;
      if (std::size_t taken = parseEnhanced(text, code / 100, status)) text.remove_prefix(taken);
    }

    if (pendingLines_ < pending_.lines.size())
      pending_.lines[pendingLines_].assign(text.data(), text.size());
    else
      pending_.lines.emplace_back(text);
    ++pendingLines_;
    pendingBytes_ += length + 2;
    if (pendingLines_ > limits_.maxLines)
      return fail("a reply has more than " + std::to_string(limits_.maxLines) + " lines");
    if (pendingBytes_ > limits_.maxReplyBytes)
      return fail("a reply is longer than " + std::to_string(limits_.maxReplyBytes) + " octets");

    if (last) {
      pending_.lines.resize(pendingLines_);
      std::swap(out, pending_);
      pendingLines_ = 0;
      pendingBytes_ = 0;
      return Status::Complete;
    }
  }
}

}  // namespace smtpc
