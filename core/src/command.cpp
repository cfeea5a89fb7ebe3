#include "smtpc/command.h"

#include <initializer_list>

#include "text.h"

namespace smtpc {

namespace {

Error invalid(std::string what) { return Error(ErrorCode::InvalidArgument, std::move(what)); }

// RFC 5321 §4.1.2 atext, plus any UTF-8 octet (RFC 6531 §3.3 extends atext with UTF8-non-ascii).
bool isAtext(unsigned char c) { return c >= 0x80 || text::isAtext(c); }

bool isLetDig(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

Result<AddressInfo> checkLocalPart(std::string_view local) {
  if (local.empty()) return invalid("the part before '@' is empty");
  if (local.size() > 64)
    return Error(ErrorCode::StringTooLong, "the part before '@' is longer than 64 octets (RFC 5321 §4.5.3.1.1)");
  if (local.front() == '"') {
    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    if (local.size() < 2 || local.back() != '"') return invalid("a quoted local part is not closed with '\"'");
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
      const unsigned char c = local[i];
      if (c == '\\') {
        if (i + 2 >= local.size()) return invalid("a '\\' in the quoted local part escapes nothing");
        const unsigned char escaped = local[++i];
        if (escaped < 32 || escaped > 126) return invalid("the quoted local part escapes a control character");
        continue;
      }
      if (c == '"') return invalid("a '\"' inside the quoted local part must be escaped");
      if (c < 32 || c == 127) return invalid("the local part contains a control character");
    }
    return AddressInfo{!text::isAscii(local)};
  }
  // Dot-string = Atom *("." Atom)
  bool previousDot = true;
  for (unsigned char c : local) {
    if (c == '.') {
      if (previousDot) return invalid("the local part has an empty atom (a leading or doubled '.')");
      previousDot = true;
    } else if (isAtext(c)) {
      previousDot = false;
    } else {
      return invalid(std::string("the local part contains '") + static_cast<char>(c) +
                     "', which needs quoting (RFC 5321 §4.1.2)");
    }
  }
  if (previousDot) return invalid("the local part ends with '.'");
  return AddressInfo{!text::isAscii(local)};
}

Result<AddressInfo> checkDomain(std::string_view domain) {
  if (domain.empty()) return invalid("the domain after '@' is empty");
  if (domain.size() > 255)
    return Error(ErrorCode::StringTooLong, "the domain is longer than 255 octets (RFC 5321 §4.5.3.1.2)");
  if (domain.front() == '[') {
    // address-literal: [IPv4], [IPv6:...] or [tag:...]; printable ASCII without brackets or '\'.
    if (domain.back() != ']' || domain.size() < 3) return invalid("an address literal is not closed with ']'");
    for (std::size_t i = 1; i + 1 < domain.size(); ++i) {
      const unsigned char c = domain[i];
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
        return invalid("the address literal contains a character it may not have");
    }
    return AddressInfo{false};
  }
  std::size_t labelStart = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i < domain.size() && domain[i] != '.') continue;
    std::string_view label = domain.substr(labelStart, i - labelStart);
    if (label.empty()) return invalid("the domain has an empty label (a leading, trailing or doubled '.')");
    if (label.size() > 63) return Error(ErrorCode::StringTooLong, "a domain label is longer than 63 octets");
    if (!isLetDig(label.front()) || !isLetDig(label.back()))
      return invalid("a domain label must start and end with a letter or digit");
    for (unsigned char c : label)
      if (!isLetDig(c) && c != '-') return invalid(std::string("the domain contains '") + static_cast<char>(c) + "'");
    labelStart = i + 1;
  }
  return AddressInfo{!text::isAscii(domain)};
}

}  // namespace

Result<AddressInfo> checkAddress(std::string_view address);

namespace {

// Every argument passes through here: the line-injection guard.
Result<std::string> line(std::initializer_list<std::string_view> parts, std::size_t maxLength = command::kMaxCommandLine) {
  std::string out;
  for (std::string_view part : parts) {
    for (char c : part) {
      if (c == '\r' || c == '\n' || c == '\0')
        return invalid("a command argument contains CR, LF or NUL, which would break the SMTP line");
    }
    out.append(part);
  }
  out += "\r\n";
  if (out.size() > maxLength)
    return Error(ErrorCode::LineTooLong, "the command would be " + std::to_string(out.size()) +
                                             " octets; SMTP allows " + std::to_string(maxLength));
  return out;
}

Result<std::string> path(std::string_view address, bool allowEmpty) {
  if (address.empty() && allowEmpty) return std::string("<>");
  if (!address.empty() && (address.front() == '<' || address.back() == '>'))
    return invalid("give the address without angle brackets: SMTPc adds them");
  auto checked = checkAddress(address);
  if (!checked) return checked.error();
  std::string bracketed;  // appended piecewise: GCC 12 warns falsely on "<" + s + ">" (bug 105329)
  bracketed.reserve(address.size() + 2);
  bracketed.append(1, '<').append(address).append(1, '>');
  return bracketed;
}

}  // namespace

Result<AddressInfo> checkAddress(std::string_view address) {
  for (char c : address)
    if (c == '\r' || c == '\n' || c == '\0') return invalid("the address contains CR, LF or NUL");
  const std::size_t at = address.rfind('@');
  if (address.empty()) return Error(ErrorCode::NullArgument, "the address is empty");
  if (at == std::string_view::npos) return invalid("the address \"" + std::string(address) + "\" has no '@'");
  if (address.size() + 2 > 256)
    return Error(ErrorCode::StringTooLong, "the address is longer than the 256-octet path limit (RFC 5321 §4.5.3.1.3)");
  auto local = checkLocalPart(address.substr(0, at));
  if (!local) return Error(local.error().code(), "address \"" + std::string(address) + "\": " + local.error().explanation());
  auto domain = checkDomain(address.substr(at + 1));
  if (!domain) return Error(domain.error().code(), "address \"" + std::string(address) + "\": " + domain.error().explanation());
  return AddressInfo{local->needsSmtpUtf8 || domain->needsSmtpUtf8};
}

namespace command {

Result<std::string> ehlo(std::string_view domain) {
  if (domain.empty()) return Error(ErrorCode::NullArgument, "the EHLO name is empty");
  return line({"EHLO ", domain});
}

Result<std::string> helo(std::string_view domain) {
  if (domain.empty()) return Error(ErrorCode::NullArgument, "the HELO name is empty");
  return line({"HELO ", domain});
}

Result<std::string> mailFrom(std::string_view reversePath, const MailParameters& parameters) {
  auto bracketed = path(reversePath, true);
  if (!bracketed) return bracketed.error();
  const std::string size = parameters.size ? " SIZE=" + std::to_string(*parameters.size) : std::string();
  const char* ret = parameters.dsnReturn == DsnReturn::Full      ? " RET=FULL"
                    : parameters.dsnReturn == DsnReturn::Headers ? " RET=HDRS"
                                                                 : "";
  const std::string envid =
      parameters.dsnEnvelopeId.empty() ? std::string() : " ENVID=" + dsn::xtext(parameters.dsnEnvelopeId);
  return line({"MAIL FROM:", *bracketed, size, parameters.bodyBinaryMime ? " BODY=BINARYMIME"
                                        : parameters.body8BitMime ? " BODY=8BITMIME" : "",
               parameters.smtpUtf8 ? " SMTPUTF8" : "", ret, envid});
}

Result<std::string> rcptTo(std::string_view forwardPath, const RcptParameters& parameters) {
  auto bracketed = path(forwardPath, false);
  if (!bracketed) return bracketed.error();
  const std::string notify = parameters.notify.empty() ? std::string() : " NOTIFY=" + parameters.notify.toParameter();
  const std::string orcpt =
      parameters.originalRecipient.empty() ? std::string() : " ORCPT=" + parameters.originalRecipient;
  return line({"RCPT TO:", *bracketed, notify, orcpt});
}

std::string data() { return "DATA\r\n"; }
std::string bdat(std::uint64_t size, bool last) {
  return "BDAT " + std::to_string(size) + (last ? " LAST\r\n" : "\r\n");
}
std::string rset() { return "RSET\r\n"; }
std::string noop() { return "NOOP\r\n"; }
std::string quit() { return "QUIT\r\n"; }
std::string startTls() { return "STARTTLS\r\n"; }

Result<std::string> auth(std::string_view mechanism, std::optional<std::string_view> initialResponse) {
  if (mechanism.empty()) return Error(ErrorCode::NullArgument, "the SASL mechanism name is empty");
  for (char c : mechanism)
    if (c == ' ') return invalid("a SASL mechanism name has no spaces");
  if (!initialResponse) return line({"AUTH ", mechanism}, kMaxAuthLine);
  return line({"AUTH ", mechanism, " ", initialResponse->empty() ? "=" : *initialResponse}, kMaxAuthLine);
}

Result<std::string> authResponse(std::string_view response) { return line({response}, kMaxAuthLine); }

}  // namespace command
}  // namespace smtpc
