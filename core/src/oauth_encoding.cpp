// OAuth's building blocks: form encoding (RFC 6749 Appendix B), base64url (RFC 4648 §5), PKCE
// S256 (RFC 7636 §4), the well-known metadata addresses (RFC 8414 §3.1, OpenID Connect
// Discovery §4) and the refresh token's storage key. Pure functions: the flow (oauth_flow.cpp)
// and the tests call them.
#include <openssl/evp.h>

#include "smtpc/oauth.h"
#include "text.h"

namespace smtpc::oauth {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// RFC 3986 §2.3 unreserved characters: the only ones a form value keeps as they are.
bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> formDecodeOne(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// The position just after "scheme://host[:port]": where the path (or the query) starts, or the end.
std::size_t pathStart(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return 0;
  const std::size_t end = url.find_first_of("/?", scheme + 3);
  return end == std::string_view::npos ? url.size() : end;
}

std::string_view withoutTrailingSlash(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return issuer;
}

}  // namespace

std::string formEncode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto octet = static_cast<unsigned char>(c);
    if (isUnreserved(octet)) {
      out += c;
    } else if (octet == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[octet >> 4];
      out += kHex[octet & 0x0f];
    }
  }
  return out;
}

std::string formEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += formEncode(name);
    out += '=';
    out += formEncode(value);
  }
  return out;
}

std::optional<FormFields> formDecode(std::string_view text) {
  FormFields fields;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = formDecodeOne(pair.substr(0, eq));
    auto value = formDecodeOne(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto octet = [&bytes](std::size_t at) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[at])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned group = octet(i) << 16 | octet(i + 1) << 8 | octet(i + 2);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  // The last one or two octets, without the '=' padding (RFC 7636 Appendix A).
  if (bytes.size() - i == 1) {
    const unsigned group = octet(i) << 16;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const unsigned group = octet(i) << 16 | octet(i + 1) << 8;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
  }
  return out;
}

std::string pkceVerifier(std::string_view randomBytes) { return base64url(randomBytes.substr(0, kVerifierBytes)); }

std::string pkceChallenge(std::string_view verifier) {
  // §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr)) return {};
  return base64url(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string authorizationServerMetadataUrl(std::string_view issuer) {
  issuer = withoutTrailingSlash(issuer);
  const std::size_t path = pathStart(issuer);
  return std::string(issuer.substr(0, path)) + "/.well-known/oauth-authorization-server" +
         std::string(issuer.substr(path));
}

std::string openIdConfigurationUrl(std::string_view issuer) {
  return std::string(withoutTrailingSlash(issuer)) + "/.well-known/openid-configuration";
}

bool isHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!text::startsWithIgnoreCase(url, kScheme)) return false;
  for (const char c : url) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet <= ' ' || octet == 0x7f || c == '#') return false;
  }
  // The authority: a host, perhaps a port; no user information (which hides the real host from a
  // reader: https://good.example@evil.example/).
  const std::string_view authority = url.substr(kScheme.size(), pathStart(url) - kScheme.size());
  const std::string_view host = authority.substr(0, authority.find(':'));
  return !host.empty() && authority.find('@') == std::string_view::npos;
}

std::string refreshTokenKey(std::string_view issuer, std::string_view clientId, std::string_view user) {
  std::string key(issuer);
  key += ' ';
  key += clientId;
  key += ' ';
  key += user;
  return key;
}

}  // namespace smtpc::oauth
