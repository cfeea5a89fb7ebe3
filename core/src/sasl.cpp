#include "smtpc/sasl.h"

#include "smtpc/advice.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <span>

#include "smtpc/base64.h"
#include "text.h"

namespace smtpc {

namespace {

struct MechanismEntry {
  AuthMechanism mechanism;
  std::string_view name;
};
constexpr MechanismEntry kMechanisms[] = {
    {AuthMechanism::Auto, "AUTO"},       {AuthMechanism::Plain, "PLAIN"},
    {AuthMechanism::Login, "LOGIN"},     {AuthMechanism::CramMd5, "CRAM-MD5"},
    {AuthMechanism::XOAuth2, "XOAUTH2"}, {AuthMechanism::OAuthBearer, "OAUTHBEARER"},
};

// Builds the clear text in a buffer that is wiped after encoding: it holds the password.
std::string encodeAndWipe(std::string& clear) {
  std::string encoded = base64::encode(clear);
  OPENSSL_cleanse(clear.data(), clear.size());
  return encoded;
}

bool usesToken(AuthMechanism mechanism) {
  return mechanism == AuthMechanism::XOAuth2 || mechanism == AuthMechanism::OAuthBearer;
}

std::string offeredList(const Capabilities& capabilities) {
  std::string list;
  for (const auto& name : capabilities.authMechanisms()) list += (list.empty() ? "" : ", ") + name;
  return list.empty() ? std::string("none") : list;
}

// What a mechanism would put on an unencrypted wire, for the refusal's explanation.
std::string secretExposure(AuthMechanism mechanism) {
  switch (mechanism) {
    case AuthMechanism::CramMd5: return "an answer computed from the password (which can be cracked offline)";
    case AuthMechanism::XOAuth2:
    case AuthMechanism::OAuthBearer: return "the access token";
    default: return "the password";
  }
}

}  // namespace

std::string_view mechanismName(AuthMechanism mechanism) {
  for (const auto& entry : kMechanisms)
    if (entry.mechanism == mechanism) return entry.name;
  return "?";
}

std::optional<AuthMechanism> mechanismFromName(std::string_view name) {
  for (const auto& entry : kMechanisms)
    if (text::equalsIgnoreCase(entry.name, name)) return entry.mechanism;
  return std::nullopt;
}

namespace sasl {

// RFC 4616 §2: [authzid] NUL authcid NUL passwd
std::string plain(std::string_view authorizationId, std::string_view username, std::string_view password) {
  std::string clear;
  clear.reserve(authorizationId.size() + username.size() + password.size() + 2);
  clear.append(authorizationId).append(1, '\0').append(username).append(1, '\0').append(password);
  return encodeAndWipe(clear);
}

// https://developers.google.com/gmail/imap/xoauth2-protocol: "user=" u ^A "auth=Bearer " t ^A ^A
std::string xoauth2(std::string_view username, std::string_view token) {
  std::string clear = "user=";
  clear.append(username).append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
  return encodeAndWipe(clear);
}

// RFC 7628 §3.1: gs2-header ^A host=h ^A port=p ^A auth=Bearer t ^A ^A; "," and "=" in the
// user name are escaped as RFC 5801 §4 says.
std::string oauthBearer(std::string_view username, std::string_view token, std::string_view host, std::uint16_t port) {
  std::string escaped;
  for (char c : username) {
    if (c == ',') escaped += "=2C";
    else if (c == '=') escaped += "=3D";
    else escaped += c;
  }
  std::string clear = "n,a=" + escaped + ",\x01";
  if (!host.empty()) clear.append("host=").append(host).append("\x01");
  if (port) clear.append("port=").append(std::to_string(port)).append("\x01");
  clear.append("auth=Bearer ").append(token).append("\x01\x01");
  return encodeAndWipe(clear);
}

// RFC 2195 §2: the response is "user" SP lowercase-hex(HMAC-MD5(password, challenge)).
Result<std::string> cramMd5(std::string_view username, std::string_view password, std::string_view challenge) {
  auto decoded = base64::decode(challenge);
  if (!decoded || decoded->empty())
    return Error(ErrorCode::ProtocolViolation, "the server's CRAM-MD5 challenge is not valid base64");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digestLength = 0;
  if (!HMAC(EVP_md5(), password.data(), static_cast<int>(password.size()),
            reinterpret_cast<const unsigned char*>(decoded->data()), decoded->size(), digest, &digestLength))
    return Error(ErrorCode::Encode, "HMAC-MD5 is not available in this OpenSSL build");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string clear(username);
  clear += ' ';
  for (unsigned int i = 0; i < digestLength; ++i) {
    clear += kHex[digest[i] >> 4];
    clear += kHex[digest[i] & 15];
  }
  return base64::encode(clear);
}

// CRAM-MD5 does not send the password itself, but HMAC-MD5(password, challenge) next to the
// challenge is a dictionary attack waiting to happen, and a man in the middle picks the
// challenge. Every mechanism here therefore counts.
bool exposesSecretWithoutTls(AuthMechanism mechanism) { return mechanism != AuthMechanism::Auto; }

Result<AuthMechanism> choose(AuthMechanism wanted, const Capabilities& capabilities,
                             const Credentials& credentials, bool tlsActive, bool allowPlaintext) {
  static const std::string kRemedy = std::string(advice::kChooseTls) + ", or allow plaintext authentication for a test server.";
  if (!capabilities.supportsAuth())
    return Error(ErrorCode::AuthNotOffered,
                 tlsActive ? "The server does not offer AUTH, so it cannot check a user name and password here."
                           : "The server does not offer AUTH on this unencrypted connection; many servers "
                             "only offer it after STARTTLS. " + std::string(advice::kChooseTls) + ".");
  const bool mayUseClear = tlsActive || allowPlaintext;
  const bool haveToken = !credentials.oauthToken.empty();

  if (wanted != AuthMechanism::Auto) {
    if (usesToken(wanted) && !haveToken)
      return Error(ErrorCode::NullArgument, std::string(mechanismName(wanted)) + " needs an OAuth access token.");
    if (!usesToken(wanted) && credentials.password.empty())
      return Error(ErrorCode::NullArgument, std::string(mechanismName(wanted)) + " needs a password.");
    if (!capabilities.supportsAuthMechanism(mechanismName(wanted)))
      return Error(ErrorCode::NoCommonMechanism, "The server does not offer " + std::string(mechanismName(wanted)) +
                                                     "; it offers " + offeredList(capabilities) + ".");
    if (exposesSecretWithoutTls(wanted) && !mayUseClear)
      return Error(ErrorCode::PlaintextAuthRefused,
                   std::string(mechanismName(wanted)) + " would send " + secretExposure(wanted) +
                       " to anyone on the path, because the connection is not encrypted. " + std::string(kRemedy));
    return wanted;
  }

  static constexpr AuthMechanism kTokenOrder[] = {AuthMechanism::OAuthBearer, AuthMechanism::XOAuth2};
  static constexpr AuthMechanism kTlsOrder[] = {AuthMechanism::Plain, AuthMechanism::Login, AuthMechanism::CramMd5};
  static constexpr AuthMechanism kClearOrder[] = {AuthMechanism::CramMd5, AuthMechanism::Plain, AuthMechanism::Login};
  const std::span<const AuthMechanism> order = haveToken ? std::span<const AuthMechanism>(kTokenOrder)
                                               : tlsActive ? std::span<const AuthMechanism>(kTlsOrder)
                                                           : std::span<const AuthMechanism>(kClearOrder);
  bool refusedForClear = false;
  for (AuthMechanism candidate : order) {
    if (!capabilities.supportsAuthMechanism(mechanismName(candidate))) continue;
    if (exposesSecretWithoutTls(candidate) && !mayUseClear) {
      refusedForClear = true;
      continue;
    }
    return candidate;
  }
  if (refusedForClear)
    return Error(ErrorCode::PlaintextAuthRefused,
                 "Logging in here would send the password (or an answer computed from it, which can be cracked "
                 "offline) to anyone on the path, because the connection is not encrypted. " + std::string(kRemedy));
  return Error(ErrorCode::NoCommonMechanism,
               std::string("The server offers ") + offeredList(capabilities) + "; SMTPc can use " +
                   (haveToken ? "OAUTHBEARER or XOAUTH2 with a token" : "PLAIN, LOGIN or CRAM-MD5 with a password") + ".");
}

Exchange::Exchange(AuthMechanism mechanism, const Credentials& credentials, std::string host, std::uint16_t port)
    : mechanism_(mechanism), credentials_(credentials), host_(std::move(host)), port_(port) {}

std::optional<std::string> Exchange::initialResponse() const {
  switch (mechanism_) {
    case AuthMechanism::Plain:
      return plain(credentials_.authorizationId, credentials_.username, credentials_.password.reveal());
    case AuthMechanism::XOAuth2:
      return xoauth2(credentials_.username, credentials_.oauthToken.reveal());
    case AuthMechanism::OAuthBearer:
      return oauthBearer(credentials_.username, credentials_.oauthToken.reveal(), host_, port_);
    default:
      return std::nullopt;  // LOGIN and CRAM-MD5 wait for the server's first challenge
  }
}

Result<std::string> Exchange::respond(std::string_view challenge) {
  const int step = step_++;
  switch (mechanism_) {
    case AuthMechanism::Login:
      // "334 VXNlcm5hbWU6" (Username:) then "334 UGFzc3dvcmQ6" (Password:). The order is fixed;
      // prompt texts vary between servers, so they are not relied upon.
      if (step == 0) return base64::encode(credentials_.username);
      if (step == 1) return base64::encode(credentials_.password.reveal());
      break;
    case AuthMechanism::CramMd5:
      if (step == 0) return cramMd5(credentials_.username, credentials_.password.reveal(), challenge);
      break;
    case AuthMechanism::XOAuth2:
      // A 334 after the initial response carries a JSON error; an empty line asks for the final 535.
      if (step == 0) return std::string();
      break;
    case AuthMechanism::OAuthBearer:
      // RFC 7628 §3.2.3: answer the error challenge with a single %x01.
      if (step == 0) return base64::encode("\x01");
      break;
    case AuthMechanism::Plain:
      // Initial response already sent; a server that still asks gets it again (RFC 4954 §4 allows
      // servers that ignore initial responses to send an empty challenge).
      if (step == 0 && challenge.empty()) return *initialResponse();
      break;
    case AuthMechanism::Auto:
      break;
  }
  return Error(ErrorCode::ProtocolViolation,
               "The server sent more " + std::string(mechanismName(mechanism_)) + " challenges than the mechanism has.");
}

}  // namespace sasl
}  // namespace smtpc
