// Delivery status notifications (RFC 3461): the request's checks and the parameters' encodings
// (xtext, RFC 3461 §4; utf-8-addr-xtext, RFC 6533 §3).
#include "smtpc/dsn.h"

#include <cstdint>

#include "smtpc/command.h"
#include "text.h"

namespace smtpc {

namespace {

Error invalid(std::string what) { return Error(ErrorCode::InvalidArgument, std::move(what)); }

const char kHex[] = "0123456789ABCDEF";

// The next code point of `s` from `i` (advanced past it); nullopt for invalid UTF-8 (overlong
// forms, surrogates and values past U+10FFFF included).
std::optional<std::uint32_t> nextCodePoint(std::string_view s, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t length = 0;
  std::uint32_t cp = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1Fu;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0Fu;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07u;
  } else {
    return std::nullopt;
  }
  if (i + length > s.size()) return std::nullopt;
  for (std::size_t k = 1; k < length; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += length;
  return cp;
}

std::string hexOf(std::uint32_t value) {  // upper case, no leading zeros (RFC 6533's HEXPOINT)
  std::string out;
  do {
    out.insert(out.begin(), kHex[value & 0xF]);
    value >>= 4;
  } while (value != 0);
  return out;
}

}  // namespace

std::string DsnNotify::toParameter() const {
  if (never) return "NEVER";
  std::string out;
  auto add = [&](bool on, const char* word) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(success, "SUCCESS");
  add(failure, "FAILURE");
  add(delay, "DELAY");
  return out;
}

Result<DsnNotify> DsnNotify::parse(std::string_view text) {
  DsnNotify notify;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '\t') ++i;
    if (i == start) break;
    const std::string_view word = text.substr(start, i - start);
    any = true;
    if (text::equalsIgnoreCase(word, "never")) notify.never = true;
    else if (text::equalsIgnoreCase(word, "success")) notify.success = true;
    else if (text::equalsIgnoreCase(word, "failure")) notify.failure = true;
    else if (text::equalsIgnoreCase(word, "delay")) notify.delay = true;
    else
      return invalid("\"" + std::string(word) +
                     "\" is not a delivery-report condition: give success, failure and delay (any of them, "
                     "separated by commas), or never");
  }
  if (!any) return invalid("no delivery-report condition given: give success, failure and delay, or never");
  if (notify.never && (notify.success || notify.failure || notify.delay))
    return invalid("\"never\" asks for no report at all, so it cannot be combined with success, failure or delay "
                   "(RFC 3461 §4.1)");
  return notify;
}

Result<DsnReturn> parseDsnReturn(std::string_view text) {
  if (text::equalsIgnoreCase(text, "full")) return DsnReturn::Full;
  if (text::equalsIgnoreCase(text, "hdrs") || text::equalsIgnoreCase(text, "headers")) return DsnReturn::Headers;
  return invalid("\"" + std::string(text) +
                 "\" is not what a report returns of the message: give full (the whole message) or hdrs (its "
                 "headers only)");
}

bool DsnRequest::requested() const {
  if (!notify.empty() || ret != DsnReturn::Default || !envelopeId.empty()) return true;
  for (const auto& r : recipients)
    if ((r.notify && !r.notify->empty()) || !r.originalRecipient.empty()) return true;
  return false;
}

Error DsnRequest::check() const {
  auto checkNotify = [](const DsnNotify& n, const std::string& whose) -> Error {
    if (n.never && (n.success || n.failure || n.delay))
      return invalid("NOTIFY" + whose + ": \"never\" asks for no report at all, so it cannot be combined with success, "
                     "failure or delay (RFC 3461 §4.1)");
    return {};
  };
  if (Error e = checkNotify(notify, ""); e.isError()) return e;
  for (const auto& r : recipients) {
    if (r.notify)
      if (Error e = checkNotify(*r.notify, " for <" + r.address + ">"); e.isError()) return e;
    if (!r.originalRecipient.empty())
      if (auto checked = checkAddress(r.originalRecipient); !checked)
        return invalid("the original recipient (ORCPT) for <" + r.address + ">: " + checked.error().explanation());
  }
  if (envelopeId.size() > dsn::kMaxEnvelopeId)
    return invalid("the envelope ID (ENVID) is " + std::to_string(envelopeId.size()) +
                   " characters; RFC 3461 §4.4 allows at most 100");
  for (unsigned char c : envelopeId)
    if (c < 0x20 || c > 0x7E)
      return invalid("the envelope ID (ENVID) may hold printable ASCII only (RFC 3461 §4.4): no control "
                     "characters, no accents or other non-ASCII letters");
  return {};
}

DsnNotify DsnRequest::notifyFor(std::string_view address) const {
  for (const auto& r : recipients)
    if (r.address == address && r.notify) return *r.notify;
  return notify;
}

Result<std::string> DsnRequest::originalRecipientFor(std::string_view address) const {
  for (const auto& r : recipients)
    if (r.address == address && !r.originalRecipient.empty()) return dsn::originalRecipient(r.originalRecipient);
  if (!originalRecipients || !requested()) return std::string();
  return dsn::originalRecipient(address);
}

namespace dsn {

std::string xtext(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out += static_cast<char>(c);
    } else {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Result<std::string> utf8AddrXtext(std::string_view address) {
  std::string out;
  std::size_t i = 0;
  while (i < address.size()) {
    const auto cp = nextCodePoint(address, i);
    if (!cp) return invalid("the address \"" + std::string(address) + "\" is not valid UTF-8");
    // QCHAR (RFC 6533 §3): printable ASCII except '\', '+', '=' and space; the rest as \x{HEX}.
    if (*cp >= 0x21 && *cp <= 0x7E && *cp != '\\' && *cp != '+' && *cp != '=') out += static_cast<char>(*cp);
    else out += "\\x{" + hexOf(*cp) + "}";
  }
  return out;
}

Result<std::string> originalRecipient(std::string_view address) {
  if (text::isAscii(address)) return "rfc822;" + xtext(address);
  auto encoded = utf8AddrXtext(address);
  if (!encoded) return encoded.error();
  return "utf-8;" + *encoded;
}

}  // namespace dsn
}  // namespace smtpc
