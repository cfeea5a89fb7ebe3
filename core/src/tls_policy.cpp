#include "smtpc/tls_policy.h"

#include <charconv>

#include "smtpc/advice.h"

namespace smtpc::tls {

namespace {

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

std::string_view storeName(TrustStore store) {
  return store == TrustStore::System ? "this computer" : "the page's CA bundle";
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isLabelChar(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// Four decimal parts 0..255, no leading zeros (inet_pton's strict form: "010.1.1.1" and "10.1"
// are not addresses here, though some parsers read them as octal or as 10.0.0.1).
bool isIpv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    const std::size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    const std::size_t length = i - start;
    if (length == 0 || length > 3 || (length > 1 && s[start] == '0')) return false;
    int value = 0;
    std::from_chars(s.data() + start, s.data() + i, value);
    if (value > 255) return false;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

// RFC 4291 §2.2: eight groups of 1-4 hex digits, "::" at most once for one or more zero groups,
// the last 32 bits optionally as a dotted IPv4 address. No zone index (it is not a name a
// certificate can hold).
bool isIpv6(std::string_view s) {
  if (s.size() < 2) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;  // "::"
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    const std::size_t start = i;
    while (i < s.size() && isHexDigit(s[i])) ++i;
    const std::size_t length = i - start;
    if (i < s.size() && s[i] == '.') {  // an embedded IPv4 address ends it
      if (!isIpv4(s.substr(start))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    if (length == 0 || length > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // a single trailing ':'
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

// RFC 1123 §2.1 labels (letters, digits, hyphens; underscores as found in real internal names),
// 1-63 octets each, at most 253 in all, one trailing dot allowed. A name whose last label is all
// digits is a mistyped address ("10.1"), not a name.
bool isHostName(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  std::string_view last;
  while (start <= s.size()) {
    std::size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!isLabelChar(c)) return false;
    last = label;
    start = end + 1;
  }
  for (char c : last)
    if (!isDigit(c)) return true;
  return false;
}

// Equal without an early exit, so a pin's comparison time says nothing about how much matched.
bool equalInConstantTime(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

}  // namespace

std::string explain(const CertificateProblem& p, std::string_view verifyName, TrustStore store) {
  // The remedy differs by front end: natively a CA file (--ca-file, the GUI's CA file); in the
  // page, the CA's certificate added to the page's own bundle.
  const bool system = store == TrustStore::System;
  const std::string giveIt = system ? " as a CA file" : "";
  switch (p.kind) {
    case ProblemKind::Expired:
      return "The certificate expired on " + p.notAfter + ": the server's administrator must renew it.";
    case ProblemKind::NotYetValid:
      return "The certificate is valid only from " + p.notBefore + ": check this computer's clock.";
    case ProblemKind::SelfSigned:
      return std::string("The certificate is self-signed: if you know it is the right one, trust it by giving it as a CA ") +
             (system ? "file." : "certificate.");
    case ProblemKind::PrivateCaInChain:
      return "The certificate was issued by " + p.subject +
             (system ? ", a private CA this computer does not trust" : ", a private CA the page's CA bundle does not hold") +
             ": give that CA's certificate" + giveIt + " if you trust it.";
    case ProblemKind::UntrustedIssuer:
      return "The certificate was issued by " + p.issuer + ", which " + std::string(storeName(store)) +
             " does not trust: give that CA's certificate" + giveIt + " if you trust it.";
    case ProblemKind::HostNameMismatch:
      return "The certificate is for " + (p.names.empty() ? p.subject : joined(p.names)) + ", not for " +
             std::string(verifyName) + ": connect with a name the certificate lists, or set the name to verify.";
    case ProblemKind::NoCertificate:
      return "The server sent no certificate.";
    case ProblemKind::Other:
      break;
  }
  std::string text = p.detail.empty() ? "The certificate could not be verified" : p.detail;
  if (text.back() != '.') text += '.';
  return text;
}

std::vector<std::string> explainAll(const std::vector<CertificateProblem>& problems, std::string_view verifyName,
                                    TrustStore store) {
  std::vector<std::string> out;
  for (const auto& problem : problems) {
    std::string text = explain(problem, verifyName, store);
    bool seen = false;
    for (const auto& earlier : out) seen = seen || earlier == text;
    if (!seen) out.push_back(std::move(text));
  }
  return out;
}

Error refusal(const std::vector<std::string>& problems) {
  std::string text = "The server's certificate was refused.";
  for (const auto& problem : problems) text += " " + problem;
  return Error(ErrorCode::CertificateInvalid, text);
}

Error decide(const TlsConfig& config, TlsInfo& info) {
  info.verified = info.verificationErrors.empty();
  info.acceptedDespiteErrors = false;
  if (info.verified) return {};
  const bool accepted =
      config.acceptInvalidCertificate || !config.verifyPeer || (config.trustCallback && config.trustCallback(info));
  if (!accepted) return refusal(info.verificationErrors);
  info.acceptedDespiteErrors = true;
  return {};
}

std::string pinOf(const CertificateInfo& certificate) { return "sha256//" + certificate.publicKeySha256; }

Error checkPins(const TlsConfig& config, const TlsInfo& info) {
  if (config.pinnedSha256.empty()) return {};
  if (info.chain.empty() || info.chain.front().publicKeySha256.empty())
    return Error(ErrorCode::CertificateInvalid,
                 "A key is pinned, but the server's certificate could not be read to compare it.");
  const std::string actual = pinOf(info.chain.front());
  bool matched = false;
  for (const auto& pin : config.pinnedSha256) matched = equalInConstantTime(pin, actual) || matched;
  if (matched) return {};
  return Error(ErrorCode::CertificateInvalid,
               "The server's public key does not match the pinned one: it is " + actual +
                   ". If the server changed its key on purpose, update the pin; otherwise someone may be "
                   "intercepting the connection.");
}

bool looksLikeClearText(std::string_view libraryReason) {
  return libraryReason.find("wrong version number") != std::string_view::npos ||
         libraryReason.find("packet length too long") != std::string_view::npos;
}

Error handshakeFailure(std::string_view libraryReason) {
  if (looksLikeClearText(libraryReason))
    return Error(ErrorCode::TlsHandshakeFailed,
                 "The server did not answer with TLS (it probably sent a clear-text greeting): this port expects "
                 "STARTTLS or no TLS, so choose STARTTLS. " +
                     std::string(advice::kPortGuide));
  return Error(ErrorCode::TlsHandshakeFailed,
               "The TLS handshake failed (" +
                   (libraryReason.empty() ? std::string("the server ended it") : std::string(libraryReason)) +
                   "). " + std::string(advice::kPortGuide));
}

NameKind classifyName(std::string_view name) {
  if (isIpv4(name)) return NameKind::Ipv4;
  if (isIpv6(name)) return NameKind::Ipv6;
  if (isHostName(name)) return NameKind::HostName;
  return NameKind::Invalid;
}

Error checkVerifyName(std::string_view name) {
  if (classifyName(name) != NameKind::Invalid) return {};
  std::string why = "\"" + std::string(name) + "\" is neither a host name nor an IP address, so the server's "
                    "certificate could not be checked against it";
  bool international = false;
  for (char c : name) international = international || static_cast<unsigned char>(c) >= 0x80;
  if (international) why += " (write an international name in its xn-- form)";
  else if (name.find(':') != std::string_view::npos) why += " (give the port separately, not as name:port)";
  return Error(ErrorCode::InvalidArgument, why + ".");
}

}  // namespace smtpc::tls
