#include "smtpc/display.h"

#include <cstdint>

namespace smtpc {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendByteEscape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

// Length of the valid UTF-8 sequence at `text[i]` (RFC 3629: shortest form, no surrogates, up
// to U+10FFFF), or 0 when it is not one.
std::size_t utf8Length(std::string_view text, std::size_t i, std::uint32_t& codePoint) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2, codePoint = lead & 0x1fu, minimum = 0x80;
  else if (lead >= 0xe0 && lead <= 0xef) length = 3, codePoint = lead & 0x0fu, minimum = 0x800;
  else if (lead >= 0xf0 && lead <= 0xf4) length = 4, codePoint = lead & 0x07u, minimum = 0x10000;
  else return 0;
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    codePoint = (codePoint << 6) | (byte(i + k) & 0x3fu);
  }
  if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return 0;
  return length;
}

}  // namespace

std::string escapeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {  // C0 controls and DEL
      appendByteEscape(out, c);
      ++i;
    } else {
      std::uint32_t codePoint = 0;
      const std::size_t length = utf8Length(text, i, codePoint);
      if (length == 0) {
        appendByteEscape(out, c);
        ++i;
      } else if (codePoint <= 0x9f) {  // C1 controls: U+009B is CSI on many terminals
        out += "\\u00";
        out += kHex[codePoint >> 4];
        out += kHex[codePoint & 0xf];
        i += length;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
    }
  }
  return out;
}

}  // namespace smtpc
