// SASLprep (RFC 4013) for SCRAM (smtpc/scram.h): map, normalise (NFKC), prohibit, check bidi.
// The tables are generated (scripts/gen_saslprep_tables.py, Unicode 3.2 as stringprep says).
//
// The error never names the character it refuses: it is part of a password.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "smtpc/scram.h"

namespace smtpc::sasl {

namespace {

struct Span {
  char32_t first, last;
};
enum class Kind { Space, Control, PrivateUse, NonCharacter, Surrogate, NotPlainText, NotCanonical, DisplayChange, Tagging };
struct Prohibited {
  char32_t first, last;
  Kind kind;
};
struct NfkcEntry {
  char32_t codePoint;
  std::uint16_t offset;
  std::uint8_t length;
};

#include "saslprep_tables.inc"

template <std::size_t N>
bool inList(const char32_t (&list)[N], char32_t cp) {
  return std::binary_search(std::begin(list), std::end(list), cp);
}

template <class Row, std::size_t N>
const Row* inSpans(const Row (&spans)[N], char32_t cp) {
  const Row* it = std::upper_bound(std::begin(spans), std::end(spans), cp,
                                   [](char32_t value, const Row& row) { return value < row.first; });
  if (it == std::begin(spans)) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

std::string_view kindWords(Kind kind) {
  switch (kind) {
    case Kind::Space: return "a non-ASCII space";
    case Kind::Control: return "a control character";
    case Kind::PrivateUse: return "a private-use character";
    case Kind::NonCharacter: return "a Unicode non-character";
    case Kind::Surrogate: return "a surrogate code point";
    case Kind::NotPlainText: return "a character not meant for plain text";
    case Kind::NotCanonical: return "an ideographic description character";
    case Kind::DisplayChange: return "a character that changes the display direction";
    case Kind::Tagging: return "a language tag character";
  }
  return "a prohibited character";
}

Error refuse(std::string_view why) {
  return Error(ErrorCode::Encode, "it contains " + std::string(why) + " (SASLprep, RFC 4013).");
}

// UTF-8 (RFC 3629) to code points; false on anything malformed.
bool decodeUtf8(std::string_view text, std::vector<char32_t>& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t cp = 0, min = 0;
    if (lead < 0x80) length = 1, cp = lead;
    else if (lead >= 0xC2 && lead <= 0xDF) length = 2, cp = lead & 0x1F, min = 0x80;
    else if (lead >= 0xE0 && lead <= 0xEF) length = 3, cp = lead & 0x0F, min = 0x800;
    else if (lead >= 0xF0 && lead <= 0xF4) length = 4, cp = lead & 0x07, min = 0x10000;
    else return false;
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.push_back(cp);
    i += length;
  }
  return true;
}

void appendUtf8(char32_t cp, std::string& out) {
  const auto byte = [&out](char32_t v) { out += static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6)), byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12)), byte(0x80 | ((cp >> 6) & 0x3F)), byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18)), byte(0x80 | ((cp >> 12) & 0x3F)), byte(0x80 | ((cp >> 6) & 0x3F)), byte(0x80 | (cp & 0x3F));
  }
}

// The code points are the password's too: wiped when done.
struct WipedPoints {
  std::vector<char32_t> points;
  ~WipedPoints() {
    if (!points.empty()) OPENSSL_cleanse(points.data(), points.size() * sizeof(char32_t));
  }
};

}  // namespace

Result<std::string> saslPrep(std::string_view text) {
  bool ascii = true;
  for (unsigned char c : text) ascii = ascii && c < 0x80;
  if (ascii) {  // the common case: nothing maps or normalises; only controls are prohibited
    for (unsigned char c : text)
      if (c < 0x20 || c == 0x7F) return refuse(kindWords(Kind::Control));
    return std::string(text);
  }
  WipedPoints input, output;
  input.points.reserve(text.size());
  if (!decodeUtf8(text, input.points)) return Error(ErrorCode::Encode, "it is not valid UTF-8.");
  output.points.reserve(input.points.size() + 8);
  // RFC 4013 §2.1 and §2.2: map (B.1 to nothing, C.1.2 to a space), then NFKC.
  for (char32_t cp : input.points) {
    if (inList(kMapToNothing, cp)) continue;
    if (inList(kSpaces, cp)) cp = U' ';
    if (inSpans(kNotStable, cp))
      return Error(ErrorCode::Encode,
                   "it contains a combining mark or a conjoining Hangul jamo, which SMTPc's SASLprep does not "
                   "normalise (RFC 4013 §2.2); type those letters precomposed (as keyboards normally do).");
    const NfkcEntry* entry = std::lower_bound(std::begin(kNfkc), std::end(kNfkc), cp,
                                              [](const NfkcEntry& row, char32_t value) { return row.codePoint < value; });
    if (entry != std::end(kNfkc) && entry->codePoint == cp)
      output.points.insert(output.points.end(), kNfkcText + entry->offset, kNfkcText + entry->offset + entry->length);
    else
      output.points.push_back(cp);
  }
  // §2.3: prohibited output; §2.4 (RFC 3454 §6): bidi.
  bool hasRandAL = false, hasL = false;
  for (char32_t cp : output.points) {
    if (const Prohibited* row = inSpans(kProhibited, cp)) return refuse(kindWords(row->kind));
    hasRandAL = hasRandAL || inSpans(kRandAL, cp);
    hasL = hasL || inSpans(kL, cp);
  }
  if (hasRandAL) {
    if (hasL) return refuse("both right-to-left and left-to-right letters");
    if (!inSpans(kRandAL, output.points.front()) || !inSpans(kRandAL, output.points.back()))
      return refuse("right-to-left text that does not start and end with a right-to-left character");
  }
  std::string out;
  out.reserve(output.points.size() * 2);
  for (char32_t cp : output.points) appendUtf8(cp, out);
  return out;
}

}  // namespace smtpc::sasl
