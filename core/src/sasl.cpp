#include "smtpc/sasl.h"

#include "smtpc/advice.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <span>
#include <utility>

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
    {AuthMechanism::ScramSha1, "SCRAM-SHA-1"}, {AuthMechanism::ScramSha256, "SCRAM-SHA-256"},
};

// Builds the clear text in a buffer that is wiped after encoding: it holds the password.
std::string encodeAndWipe(std::string& clear) {
  std::string encoded = base64::encode(clear);
  OPENSSL_cleanse(clear.data(), clear.size());
  return encoded;
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
    case AuthMechanism::ScramSha1:
    case AuthMechanism::ScramSha256:
      return "a proof computed from the password, with its salt (which can be cracked offline, if slowly)";
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

const std::vector<AuthMechanism>& allMechanisms() {
  static const std::vector<AuthMechanism> all{AuthMechanism::Plain,       AuthMechanism::Login,
                                              AuthMechanism::CramMd5,     AuthMechanism::ScramSha256,
                                              AuthMechanism::ScramSha1,   AuthMechanism::XOAuth2,
                                              AuthMechanism::OAuthBearer};
  return all;
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

bool usesToken(AuthMechanism mechanism) {
  return mechanism == AuthMechanism::XOAuth2 || mechanism == AuthMechanism::OAuthBearer;
}

bool isScram(AuthMechanism mechanism) {
  return mechanism == AuthMechanism::ScramSha1 || mechanism == AuthMechanism::ScramSha256;
}

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
  // SCRAM first: the password never reaches the server, and the server proves it knows it.
  static constexpr AuthMechanism kTlsOrder[] = {AuthMechanism::ScramSha256, AuthMechanism::ScramSha1,
                                                AuthMechanism::Plain, AuthMechanism::Login, AuthMechanism::CramMd5};
  static constexpr AuthMechanism kClearOrder[] = {AuthMechanism::ScramSha256, AuthMechanism::ScramSha1,
                                                  AuthMechanism::CramMd5, AuthMechanism::Plain, AuthMechanism::Login};
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
                   (haveToken ? "OAUTHBEARER or XOAUTH2 with a token"
                              : "SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN or CRAM-MD5 with a password") + ".");
}

Exchange::Exchange(AuthMechanism mechanism, const Credentials& credentials, std::string host, std::uint16_t port)
    : mechanism_(mechanism), credentials_(credentials), host_(std::move(host)), port_(port) {
  if (!isScram(mechanism)) return;
  scram_ = std::make_unique<Scram>(mechanism == AuthMechanism::ScramSha1 ? ScramHash::Sha1 : ScramHash::Sha256,
                                   credentials.username, credentials.password.reveal(), credentials.scramNonceForTests);
  if (auto first = scram_->clientFirst(); !first) setupError_ = first.error();
  else note_ = "(SCRAM client-first, decoded from base64: \"" + *first + "\")";
}

Exchange::~Exchange() = default;

Error Exchange::finish() const {
  if (scram_ && !scram_->serverVerified())
    return Error(ErrorCode::ServerNotAuthenticated,
                 "The server said \"logged in\" without proving that it knows your password (SCRAM's server-final "
                 "message never came): it may not be the server you meant. SMTPc stops here.");
  return Error();
}

std::optional<std::string> Exchange::initialResponse() const {
  switch (mechanism_) {
    case AuthMechanism::Plain:
      return plain(credentials_.authorizationId, credentials_.username, credentials_.password.reveal());
    case AuthMechanism::XOAuth2:
      return xoauth2(credentials_.username, credentials_.oauthToken.reveal());
    case AuthMechanism::OAuthBearer:
      return oauthBearer(credentials_.username, credentials_.oauthToken.reveal(), host_, port_);
    case AuthMechanism::ScramSha1:
    case AuthMechanism::ScramSha256: {
      auto first = scram_->clientFirst();
      if (!first) return std::nullopt;  // setupError() says why; the session does not start
      return base64::encode(*first);
    }
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
      if (step == 0) {
        tokenRefusal_ = std::make_shared<const TokenRefusal>(readTokenRefusal(challenge, credentials_.oauthScope));
        return std::string();
      }
      break;
    case AuthMechanism::OAuthBearer:
      // RFC 7628 §3.2.3: answer the error challenge with a single %x01.
      if (step == 0) {
        tokenRefusal_ = std::make_shared<const TokenRefusal>(readTokenRefusal(challenge, credentials_.oauthScope));
        return base64::encode("\x01");
      }
      break;
    case AuthMechanism::Plain:
      // Initial response already sent; a server that still asks gets it again (RFC 4954 §4 allows
      // servers that ignore initial responses to send an empty challenge).
      if (step == 0 && challenge.empty()) return *initialResponse();
      break;
    case AuthMechanism::ScramSha1:
    case AuthMechanism::ScramSha256:
      return respondScram(step, challenge);
    case AuthMechanism::Auto:
      break;
  }
  return Error(ErrorCode::ProtocolViolation,
               "The server sent more " + std::string(mechanismName(mechanism_)) + " challenges than the mechanism has.");
}

// RFC 4954 §4 and RFC 5802 §5: the initial response is client-first; the first 334 carries
// server-first, answered by client-final; the second carries server-final, answered by an empty
// line once its signature is right (SMTP has no "235 with data").
Result<std::string> Exchange::respondScram(int step, std::string_view challenge) {
  const std::string_view name = mechanismName(mechanism_);
  const auto decoded = base64::decode(challenge);
  if (step == 0 && challenge.empty()) return base64::encode(*scram_->clientFirst());  // the server ignored it
  if (!decoded || decoded->empty())
    return Error(ErrorCode::ProtocolViolation, "The server's " + std::string(name) + " challenge is not valid base64.");
  if (!scram_->iterations()) {  // server-first
    auto final = scram_->clientFinal(*decoded);
    if (!final) return final.error();
    note_ = "(SCRAM client-final, decoded from base64: \"" + scram_->maskedClientFinal() + "\")";
    std::string& clear = final.value();
    std::string encoded = base64::encode(clear);
    OPENSSL_cleanse(clear.data(), clear.size());
    return encoded;
  }
  if (scram_->serverVerified())
    return Error(ErrorCode::ProtocolViolation, "The server sent more " + std::string(name) + " challenges than the mechanism has.");
  if (Error error = scram_->verifyServerFinal(*decoded)) return error;
  note_ = "The server's SCRAM signature is right: it knows the salted password too, so it holds your account.";
  return std::string();
}

// ---------------------------------------------------------------------------------------------
// The error challenge of a refused token

namespace {

// RFC 8259 for one flat object: a cursor that checks the end before every read, and no recursion
// (a nested value is refused, not descended into). Hostile input ends in an error, never a crash.
class FlatJsonReader {
 public:
  explicit FlatJsonReader(std::string_view text) : text_(text) {}

  Result<std::vector<JsonMember>> read() {
    if (text_.size() > kMaxFlatJsonBytes)
      return Error(ErrorCode::ProtocolViolation, "it is longer than " + std::to_string(kMaxFlatJsonBytes) + " bytes");
    std::vector<JsonMember> members;
    std::vector<std::string> names;  // every member's, null ones included: for duplicates
    skipSpace();
    if (!take('{')) return refuse("it does not start with {");
    skipSpace();
    if (!take('}')) {
      for (;;) {
        if (names.size() == kMaxFlatJsonMembers)
          return refuse("it has more than " + std::to_string(kMaxFlatJsonMembers) + " members");
        JsonMember member;
        if (!at('"')) return refuse("a member's name is not a string");
        if (!readString(member.name)) return refuse(problem_);
        for (const auto& name : names)
          if (name == member.name) return refuse("a member's name appears twice");
        names.push_back(member.name);
        skipSpace();
        if (!take(':')) return refuse("a ':' is missing");
        skipSpace();
        bool isNull = false;
        if (!readValue(member.value, isNull)) return refuse(problem_);
        if (!isNull) members.push_back(std::move(member));
        skipSpace();
        if (take('}')) break;
        if (!take(',')) return refuse("a ',' or '}' is missing");
        skipSpace();
      }
    }
    skipSpace();
    if (pos_ != text_.size()) return refuse("more follows the object");
    return members;
  }

 private:
  Error refuse(const std::string& what) const {
    return Error(ErrorCode::ProtocolViolation, what + " (at byte " + std::to_string(pos_) + ")");
  }
  bool fail(std::string what) {
    problem_ = std::move(what);
    return false;
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool take(char c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  bool atDigit() const { return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; }
  void skipSpace() {  // RFC 8259 §2: space, tab, LF, CR
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool readValue(std::string& out, bool& isNull) {
    if (pos_ >= text_.size()) return fail("a value is missing");
    const char c = text_[pos_];
    if (c == '"') return readString(out);
    if (c == '-' || (c >= '0' && c <= '9')) return readNumber(out);
    if (c == '{' || c == '[') return fail("a value is a nested object or array (only a flat object is read)");
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) != word) continue;
      pos_ += word.size();
      isNull = word == "null";
      if (!isNull) out = word;
      return true;
    }
    return fail("a value is not a string, number, true, false or null");
  }

  // RFC 8259 §6, kept as written: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool readNumber(std::string& out) {
    const std::size_t start = pos_;
    take('-');
    if (!take('0')) {
      if (!atDigit()) return fail("a number has no digits");
      while (atDigit()) ++pos_;
    }
    if (take('.')) {
      if (!atDigit()) return fail("a number has no digits after its '.'");
      while (atDigit()) ++pos_;
    }
    if (take('e') || take('E')) {
      if (!take('+')) take('-');
      if (!atDigit()) return fail("a number's exponent has no digits");
      while (atDigit()) ++pos_;
    }
    out.assign(text_.substr(start, pos_ - start));
    return true;
  }

  // RFC 8259 §7; the text after the opening quote is decoded into `out` (as UTF-8).
  bool readString(std::string& out) {
    ++pos_;  // the opening quote
    for (;;) {
      if (pos_ >= text_.size()) return fail("a string is not closed");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("a string holds a raw control character");
      if (c == '\\') {
        if (!readEscape(out)) return false;
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const std::size_t length = utf8Length();
      if (length == 0) return fail("a string is not valid UTF-8");
      out.append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  bool readEscape(std::string& out) {
    if (pos_ + 1 >= text_.size()) return fail("an escape is cut short");
    const char c = text_[pos_ + 1];
    pos_ += 2;
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return fail("a string has an unknown escape");
    }
    auto unit = hex4();
    if (!unit) return fail("a \\u escape does not have four hex digits");
    std::uint32_t codePoint = *unit;
    if (codePoint >= 0xDC00 && codePoint <= 0xDFFF) return fail("a \\u escape is a lone low surrogate");
    if (codePoint >= 0xD800 && codePoint <= 0xDBFF) {  // §7: a pair of escapes for one code point
      if (!take('\\') || !take('u')) return fail("a \\u escape is a high surrogate without its low one");
      auto low = hex4();
      if (!low || *low < 0xDC00 || *low > 0xDFFF) return fail("a \\u escape is a high surrogate without its low one");
      codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (*low - 0xDC00);
    }
    appendUtf8(codePoint, out);
    return true;
  }

  std::optional<std::uint32_t> hex4() {
    if (text_.size() - pos_ < 4) return std::nullopt;
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') digit = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
      else return std::nullopt;
      value = value * 16 + digit;
    }
    return value;
  }

  static void appendUtf8(std::uint32_t codePoint, std::string& out) {
    const auto byte = [&out](std::uint32_t value) { out += static_cast<char>(static_cast<unsigned char>(value)); };
    if (codePoint < 0x80) {
      byte(codePoint);
    } else if (codePoint < 0x800) {
      byte(0xC0 | (codePoint >> 6));
      byte(0x80 | (codePoint & 0x3F));
    } else if (codePoint < 0x10000) {
      byte(0xE0 | (codePoint >> 12));
      byte(0x80 | ((codePoint >> 6) & 0x3F));
      byte(0x80 | (codePoint & 0x3F));
    } else {
      byte(0xF0 | (codePoint >> 18));
      byte(0x80 | ((codePoint >> 12) & 0x3F));
      byte(0x80 | ((codePoint >> 6) & 0x3F));
      byte(0x80 | (codePoint & 0x3F));
    }
  }

  // The length of the UTF-8 sequence at pos_ (RFC 3629 §4: no overlong forms, no surrogates,
  // nothing above U+10FFFF), or 0 when there is none.
  std::size_t utf8Length() const {
    const auto byte = [this](std::size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return 0;
    }
    if (text_.size() - pos_ < length || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t i = 2; i < length; ++i)
      if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
    return length;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string problem_;
};

bool hasControlCharacter(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

}  // namespace

Result<std::vector<JsonMember>> readFlatJsonObject(std::string_view text) { return FlatJsonReader(text).read(); }

std::string missingScopes(std::string_view needed, std::string_view granted) {
  const auto grantedScopes = text::splitWords(granted);
  std::string missing;
  for (const auto& scope : text::splitWords(needed)) {
    bool found = false;
    for (const auto& have : grantedScopes) found = found || have == scope;
    if (!found) missing += (missing.empty() ? "" : " ") + scope;
  }
  return missing;
}

TokenRefusal readTokenRefusal(std::string_view challenge, std::string_view grantedScope) {
  TokenRefusal refusal;
  if (challenge.empty()) {
    refusal.notUnderstood = "the challenge is empty";
    return refusal;
  }
  const auto decoded = base64::decode(challenge);
  if (!decoded) {
    refusal.notUnderstood = "it is not base64";
    return refusal;
  }
  auto members = readFlatJsonObject(*decoded);
  if (!members) {
    refusal.notUnderstood = "it is not a flat JSON object: " + members.error().explanation();
    return refusal;
  }
  std::string status, scope, openidConfiguration;
  for (auto& member : *members) {
    if (member.name == "status") status = std::move(member.value);
    else if (member.name == "scope") scope = std::move(member.value);
    else if (member.name == "openid-configuration") openidConfiguration = std::move(member.value);
  }
  if (status.empty()) {
    refusal.notUnderstood = "its JSON has no \"status\"";
    return refusal;
  }
  // These go into the transcript as they are: a line break or an escape code in them would let
  // the server write lines of its own there.
  if (hasControlCharacter(status) || hasControlCharacter(scope) || hasControlCharacter(openidConfiguration)) {
    refusal.notUnderstood = "its status, scope or openid-configuration holds control characters";
    return refusal;
  }
  // RFC 6750 §3.1's error codes, and the HTTP statuses Google's XOAUTH2 uses for them.
  if (status == "invalid_token" || status == "401") refusal.problem = TokenProblem::InvalidToken;
  else if (status == "insufficient_scope" || status == "403") refusal.problem = TokenProblem::InsufficientScope;
  else if (status == "invalid_request" || status == "400") refusal.problem = TokenProblem::InvalidRequest;
  else refusal.problem = TokenProblem::Other;
  refusal.status = std::move(status);
  refusal.scope = std::move(scope);
  refusal.openidConfiguration = std::move(openidConfiguration);
  // A scope the server needs and the sign-in did not grant: signing in the same way again cannot
  // help, whatever the status says.
  refusal.grantedScope = grantedScope;
  if (!grantedScope.empty()) refusal.missingScope = missingScopes(refusal.scope, grantedScope);
  if (!refusal.missingScope.empty()) refusal.problem = TokenProblem::InsufficientScope;
  return refusal;
}

std::string describe(const TokenRefusal& refusal) {
  if (refusal.problem == TokenProblem::NotUnderstood)
    return "The server refused the token, and its explanation (the 334 challenge) was not understood: " +
           refusal.notUnderstood +
           ". Servers send base64 of a JSON object such as {\"status\":\"invalid_token\"} (RFC 7628 §3.2.2); "
           "the final reply may say more.";
  const std::string status = " (status " + refusal.status + ")";
  const std::string forScope = refusal.scope.empty() ? std::string() : " for scope " + refusal.scope;
  std::string sentence;
  switch (refusal.problem) {
    case TokenProblem::InvalidToken:
      sentence = "The server says the token is not valid" + status + forScope +
                 ": it has expired (access tokens last about an hour), was revoked, or was issued for another service.";
      break;
    case TokenProblem::InsufficientScope: {
      const bool saysScope = refusal.status == "insufficient_scope" || refusal.status == "403";
      if (refusal.missingScope.empty())  // only the status says so
        sentence = "The server says the token's scope is not enough" + status +
                   (refusal.scope.empty() ? std::string(".") : ": it needs " + refusal.scope + ".");
      else
        sentence = (saysScope ? "The server says the token's scope is not enough" : "The server says the token is not valid") +
                   status + forScope + ": the sign-in granted " + refusal.grantedScope + ", without " +
                   refusal.missingScope + ".";
      break;
    }
    case TokenProblem::InvalidRequest:
      sentence = "The server says the login does not fit the token" + status + forScope +
                 ": Gmail answers so when the user name is not the account the token was issued for, or when the "
                 "token's scope does not cover mail.";
      break;
    default:
      sentence = "The server refused the token" + status + forScope + ".";
      break;
  }
  if (!refusal.openidConfiguration.empty())
    sentence += " It names its authorization server's configuration: " + refusal.openidConfiguration + ".";
  return sentence;
}

std::string refusalReason(const TokenRefusal* refusal) {
  if (!refusal) return {};
  switch (refusal->problem) {
    case TokenProblem::NotUnderstood: return "why is not known, because its error challenge was not understood";
    case TokenProblem::InvalidToken: return "it is not valid, most likely expired or revoked";
    case TokenProblem::InsufficientScope: {
      const std::string& scope = refusal->missingScope.empty() ? refusal->scope : refusal->missingScope;
      return "it lacks the scope the server needs" + (scope.empty() ? std::string() : " (" + scope + ")");
    }
    case TokenProblem::InvalidRequest:
      return "it may belong to another account than the user name, or lack the mail scope";
    case TokenProblem::Other: break;
  }
  return "status " + refusal->status;
}

}  // namespace sasl
}  // namespace smtpc
