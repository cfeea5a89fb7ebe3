#include "smtpc/encoding.h"

#include "smtpc/base64.h"

namespace smtpc::encoding {

namespace {
constexpr char kHex[] = "0123456789ABCDEF";
constexpr std::size_t kFold = 78;  // RFC 5322 §2.1.1: SHOULD be no more than 78

// Length of the UTF-8 sequence starting with `lead` (1 for anything that is not a lead byte).
std::size_t utf8Length(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}
}  // namespace

bool needsEncoding(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 0x7F || (c < 0x20 && c != '\t')) return true;
  return false;
}

bool needsHeaderEncoding(std::string_view text) {
  return needsEncoding(text) || text.find("=?") != std::string_view::npos;
}

void base64LinesAppend(std::string_view input, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + static_cast<std::size_t>(base64LinesSize(input.size())));
  char* p = out.data() + start;
  while (input.size() >= 57) {
    base64::encodeTo(input.substr(0, 57), p);
    p[76] = '\r';
    p[77] = '\n';
    p += 78;
    input.remove_prefix(57);
  }
  if (!input.empty()) {
    base64::encodeTo(input, p);
    p += base64::encodedSize(input.size());
    *p++ = '\r';
    *p++ = '\n';
  }
}

std::uint64_t base64LinesSize(std::uint64_t n) {
  const std::uint64_t rest = n % 57;
  return n / 57 * 78 + (rest ? (rest + 2) / 3 * 4 + 2 : 0);
}

std::string quotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t column = 0;
  auto put = [&](std::string_view piece) {
    // Soft break so that the line, with a possible trailing "=", stays within 76 (RFC 2045 §6.7 (5)).
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      column = 0;
      ++i;
      continue;
    }
    const bool atLineEnd = i + 1 == text.size() || text[i + 1] == '\r';
    const bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !atLineEnd);
    // A "." at a line start is encoded too: some gateways mangle it even after dot-stuffing.
    if (plain && !(c == '.' && column == 0)) {
      const char ch = static_cast<char>(c);
      put(std::string_view(&ch, 1));
    } else {
      const char escaped[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      put(std::string_view(escaped, 3));
    }
  }
  return out;
}

std::string encodedWords(std::string_view text, std::size_t used) {
  // "=?UTF-8?B?" + base64 + "?=" at most 75 characters (RFC 2047 §2): up to 45 octets a word.
  std::string out;
  std::size_t i = 0;
  std::size_t room = used + 12 + 4 <= kFold ? (kFold - used - 12) / 4 * 3 : 0;
  while (i < text.size()) {
    if (room < 4) {  // start a new folded line
      out += "\r\n ";
      used = 1;
      room = (kFold - used - 12) / 4 * 3;
    }
    std::size_t take = 0;
    while (i + take < text.size()) {
      const std::size_t length = utf8Length(static_cast<unsigned char>(text[i + take]));
      if (take + length > room || take + length > 45) break;
      take += length;
    }
    if (take == 0) {  // a character that does not fit this line: fold first
      room = 0;
      continue;
    }
    const std::string word = "=?UTF-8?B?" + base64::encode(text.substr(i, take)) + "?=";
    out += word;
    used += word.size();
    i += take;
    room = 0;  // one word a line keeps every line short and readers happy
    if (i < text.size() && used + 1 + 16 <= kFold) {
      out += ' ';
      ++used;
      room = (kFold - used - 12) / 4 * 3;
    }
  }
  return out;
}

std::string headerLine(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ":";
  if (needsHeaderEncoding(value)) {
    out += ' ';
    out += encodedWords(value, out.size());
    out += "\r\n";
    return out;
  }
  // Fold at spaces so that lines stay within 78 where the words allow (RFC 5322 §2.2.3).
  std::size_t column = out.size();
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t next = value.find(' ', i + 1);
    if (next == std::string_view::npos) next = value.size();
    std::string_view word = value.substr(i, next - i);  // includes its leading space, if any
    if (i == 0) {
      out += ' ';
      ++column;
    } else if (column + word.size() > kFold) {
      out += "\r\n";
      column = 0;
    }
    out += word;
    column += word.size();
    i = next;
  }
  out += "\r\n";
  return out;
}

std::string parameter(std::string_view name, std::string_view value) {
  bool plain = !needsEncoding(value) && value.size() <= 60;
  for (char c : value) plain = plain && c != '"' && c != '\\';
  if (plain) return std::string(name) + "=\"" + std::string(value) + "\"";
  // RFC 2231 §4: charset''percent-encoded, in sections of about 40 characters.
  std::string encoded;
  for (unsigned char c : value) {
    const bool attributeChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                               c == '!' || c == '#' || c == '$' || c == '&' || c == '+' || c == '-' || c == '.' ||
                               c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
    if (attributeChar) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  const std::string prefix = "UTF-8''";
  if (prefix.size() + encoded.size() <= 60) return std::string(name) + "*=" + prefix + encoded;
  std::string out;
  std::size_t section = 0;
  std::size_t i = 0;
  while (i < encoded.size()) {
    std::size_t take = std::min<std::size_t>(40, encoded.size() - i);
    // Never split a %XX escape.
    if (i + take < encoded.size() && take >= 2 && encoded[i + take - 1] == '%') take -= 1;
    else if (i + take < encoded.size() && take >= 2 && encoded[i + take - 2] == '%') take -= 2;
    if (section) out += ";\r\n ";
    out += std::string(name) + "*" + std::to_string(section) + "*=" + (section == 0 ? prefix : "") +
           encoded.substr(i, take);
    i += take;
    ++section;
  }
  return out;
}

std::string rfc5322Date(std::int64_t unixSeconds, int utcOffsetMinutes) {
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm), in the given zone.
  const std::int64_t local = unixSeconds + std::int64_t(utcOffsetMinutes) * 60;
  std::int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  const std::int64_t secondsOfDay = local - days * 86400;
  const int weekday = static_cast<int>((days % 7 + 11) % 7);  // 1970-01-01 was a Thursday
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t dayOfEra = days - era * 146097;
  const std::int64_t yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
  const std::int64_t dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const std::int64_t mp = (5 * dayOfYear + 2) / 153;
  const int day = static_cast<int>(dayOfYear - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year = yearOfEra + era * 400 + (month <= 2);

  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto two = [](std::int64_t v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  const int offset = utcOffsetMinutes < 0 ? -utcOffsetMinutes : utcOffsetMinutes;
  return std::string(kDays[weekday]) + ", " + std::to_string(day) + " " + kMonths[month - 1] + " " +
         std::to_string(year) + " " + two(secondsOfDay / 3600) + ":" + two(secondsOfDay / 60 % 60) + ":" +
         two(secondsOfDay % 60) + " " + (utcOffsetMinutes < 0 ? "-" : "+") + two(offset / 60) + two(offset % 60);
}

}  // namespace smtpc::encoding
