// smtpc/scram.h: SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) on the client's side.
#include "smtpc/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "smtpc/base64.h"

namespace smtpc::sasl {

namespace {

constexpr std::size_t kNonceBytes = 24;  // 192 bits, base64: 32 characters

const EVP_MD* digest(ScramHash hash) { return hash == ScramHash::Sha1 ? EVP_sha1() : EVP_sha256(); }

using Bytes = std::vector<unsigned char>;

// Wipes a byte buffer before it goes: it may hold a key derived from the password.
struct Wiped {
  Bytes bytes;
  explicit Wiped(std::size_t size = 0) : bytes(size) {}
  ~Wiped() {
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
};

bool hmac(ScramHash hash, const Bytes& key, std::string_view data, Bytes& out) {
  unsigned int length = 0;
  out.resize(EVP_MAX_MD_SIZE);
  if (!HMAC(digest(hash), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out.data(), &length))
    return false;
  out.resize(length);
  return true;
}

bool plainHash(ScramHash hash, const Bytes& data, Bytes& out) {
  unsigned int length = 0;
  out.resize(EVP_MAX_MD_SIZE);
  if (!EVP_Digest(data.data(), data.size(), out.data(), &length, digest(hash), nullptr)) return false;
  out.resize(length);
  return true;
}

std::string_view asText(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// RFC 5802 §5.1: "," and "=" in a user name are written =2C and =3D.
std::string escapeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

// The attributes of a server message: "a=value" pairs separated by ",". The values are
// returned in order; a value may hold "=" (base64) but not ",".
struct Attribute {
  char name;
  std::string_view value;
};
bool readAttributes(std::string_view message, std::vector<Attribute>& out) {
  std::size_t pos = 0;
  while (pos <= message.size()) {
    std::size_t end = message.find(',', pos);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view part = message.substr(pos, end - pos);
    if (part.size() < 2 || part[1] != '=' || !((part[0] >= 'a' && part[0] <= 'z') || (part[0] >= 'A' && part[0] <= 'Z')))
      return false;
    out.push_back({part[0], part.substr(2)});
    pos = end + 1;
  }
  return !out.empty();
}

// RFC 5802 §7: printable = %x21-2B / %x2D-7E (no ",").
bool isPrintableNonce(std::string_view nonce) {
  for (unsigned char c : nonce)
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  return !nonce.empty();
}

Error malformed(std::string_view what) {
  return Error(ErrorCode::ProtocolViolation, "The server's SCRAM message is not valid: " + std::string(what) + ".");
}

Error serverError(std::string_view value) {
  return Error(ErrorCode::AuthFailed, "The server refused the SCRAM login: " + Scram::describeServerError(value) +
                                          " (e=" + std::string(value.substr(0, 64)) + ", RFC 5802 §7).");
}

}  // namespace

std::string_view Scram::mechanismName(ScramHash hash) { return hash == ScramHash::Sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256"; }

std::string Scram::describeServerError(std::string_view value) {
  struct Row {
    std::string_view value, words;
  };
  static constexpr Row kRows[] = {
      {"invalid-proof", "the password is wrong (the proof computed from it does not match what the server stores)"},
      {"unknown-user", "there is no such user"},
      {"invalid-username-encoding", "the user name is not valid UTF-8 or not prepared as SASLprep asks"},
      {"invalid-encoding", "a message of the client was malformed"},
      {"extensions-not-supported", "the server does not support an extension the client used"},
      {"no-resources", "the server cannot check the login just now; try again later"},
      {"channel-bindings-dont-match", "the channel binding does not match (a man in the middle?)"},
      {"server-does-support-channel-binding",
       "the server supports channel binding, which the client said it does not (a downgrade by a man in the middle?)"},
      {"channel-binding-not-supported", "the server does not support channel binding"},
      {"unsupported-channel-binding-type", "the server does not support this channel binding type"},
      {"other-error", "the server gave no reason"},
  };
  for (const auto& row : kRows)
    if (row.value == value) return std::string(row.words);
  return "an error SMTPc does not know";
}

Scram::Scram(ScramHash hash, std::string_view username, std::string_view password, std::string_view nonce)
    : hash_(hash) {
  auto preparedName = saslPrep(username);
  if (!preparedName) {
    setupError_ = Error(ErrorCode::Encode, "The user name cannot be used with SCRAM: " + preparedName.error().explanation());
    return;
  }
  auto preparedPassword = saslPrep(password);
  if (!preparedPassword) {
    setupError_ = Error(ErrorCode::Encode, "The password cannot be used with SCRAM: " + preparedPassword.error().explanation());
    return;
  }
  password_ = std::move(*preparedPassword);
  if (password_.empty()) {
    setupError_ = Error(ErrorCode::NullArgument, std::string(mechanismName(hash)) + " needs a password.");
    return;
  }
  if (nonce.empty()) {
    unsigned char raw[kNonceBytes];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      setupError_ = Error(ErrorCode::Encode, "No good random numbers are available for SCRAM's nonce, so the login "
                                             "cannot be made safe (OpenSSL's random generator is not seeded).");
      return;
    }
    nonce_ = base64::encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  } else {
    nonce_ = nonce;
  }
  if (!isPrintableNonce(nonce_)) {
    setupError_ = Error(ErrorCode::InvalidArgument, "A SCRAM nonce must be printable ASCII without \",\".");
    return;
  }
  clientFirstBare_ = "n=" + escapeName(*preparedName) + ",r=" + nonce_;
}

Scram::~Scram() {
  OPENSSL_cleanse(password_.data(), password_.size());
  if (!serverSignature_.empty()) OPENSSL_cleanse(serverSignature_.data(), serverSignature_.size());
}

Result<std::string> Scram::clientFirst() const {
  if (setupError_) return setupError_;
  return "n,," + clientFirstBare_;
}

Result<std::string> Scram::clientFinal(std::string_view serverFirst) {
  if (setupError_) return setupError_;
  if (!finalWithoutProof_.empty()) return malformed("a second server-first message");
  std::vector<Attribute> attributes;
  if (!readAttributes(serverFirst, attributes)) return malformed("it is not a list of a=value attributes");
  if (attributes.front().name == 'e') return serverError(attributes.front().value);
  if (attributes.front().name == 'm')
    return Error(ErrorCode::ProtocolViolation, "The server asks for a SCRAM extension (m=) that SMTPc does not know.");
  if (attributes.size() < 3 || attributes[0].name != 'r' || attributes[1].name != 's' || attributes[2].name != 'i')
    return malformed("it should start with r= (nonce), s= (salt) and i= (iterations)");
  const std::string_view combined = attributes[0].value;
  if (combined.substr(0, nonce_.size()) != nonce_)
    return Error(ErrorCode::ServerNotAuthenticated,
                 "The server's SCRAM nonce does not start with the one SMTPc sent: this answer was not made for this "
                 "login (replayed, or from something in the middle), so it is refused.");
  if (combined.size() == nonce_.size() || !isPrintableNonce(combined))
    return malformed("the server added no nonce of its own, or a character a nonce may not hold");
  const auto salt = base64::decode(attributes[1].value);
  if (!salt || salt->empty()) return malformed("the salt (s=) is not base64");
  const std::string_view count = attributes[2].value;
  if (count.empty() || count.size() > 10) return malformed("the iteration count (i=) is not a number");
  std::uint64_t iterations = 0;
  for (char c : count) {
    if (c < '0' || c > '9') return malformed("the iteration count (i=) is not a number");
    iterations = iterations * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations)
    return Error(ErrorCode::ServerNotAuthenticated,
                 "The server asks for " + std::to_string(iterations) + " SCRAM iterations; SMTPc accepts " +
                     std::to_string(kScramMinIterations) + " to " + std::to_string(kScramMaxIterations) +
                     (iterations < kScramMinIterations
                          ? ". Fewer make the proof cheap to crack, which is what a man in the middle would ask for "
                            "(RFC 7677 §4 asks for at least 4096)."
                          : ". So many would stall the client for a long time."));
  iterations_ = static_cast<std::uint32_t>(iterations);

  // RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC.
  const int size = EVP_MD_get_size(digest(hash_));
  Wiped salted(static_cast<std::size_t>(size));
  if (PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                        reinterpret_cast<const unsigned char*>(salt->data()), static_cast<int>(salt->size()),
                        static_cast<int>(iterations_), digest(hash_), size, salted.bytes.data()) != 1)
    return Error(ErrorCode::Encode, "PBKDF2 is not available in this OpenSSL build.");
  OPENSSL_cleanse(password_.data(), password_.size());
  password_.clear();

  finalWithoutProof_ = "c=" + base64::encode("n,,") + ",r=" + std::string(combined);
  const std::string authMessage = clientFirstBare_ + "," + std::string(serverFirst) + "," + finalWithoutProof_;
  Wiped clientKey, storedKey, clientSignature, serverKey;
  if (!hmac(hash_, salted.bytes, "Client Key", clientKey.bytes) || !plainHash(hash_, clientKey.bytes, storedKey.bytes) ||
      !hmac(hash_, storedKey.bytes, authMessage, clientSignature.bytes) ||
      !hmac(hash_, salted.bytes, "Server Key", serverKey.bytes) ||
      !hmac(hash_, serverKey.bytes, authMessage, serverSignature_))
    return Error(ErrorCode::Encode, "HMAC is not available in this OpenSSL build.");
  // ClientProof := ClientKey XOR ClientSignature
  Wiped proof(clientKey.bytes.size());
  for (std::size_t i = 0; i < proof.bytes.size(); ++i) proof.bytes[i] = clientKey.bytes[i] ^ clientSignature.bytes[i];
  return finalWithoutProof_ + ",p=" + base64::encode(asText(proof.bytes));
}

Error Scram::verifyServerFinal(std::string_view serverFinal) {
  if (serverSignature_.empty()) return malformed("a server-final message before the server-first one");
  std::vector<Attribute> attributes;
  if (!readAttributes(serverFinal, attributes)) return malformed("the final message is not a list of a=value attributes");
  if (attributes.front().name == 'e') return serverError(attributes.front().value);
  if (attributes.front().name != 'v') return malformed("the final message has neither v= nor e=");
  const auto signature = base64::decode(attributes.front().value);
  if (!signature || signature->size() != serverSignature_.size() ||
      CRYPTO_memcmp(signature->data(), serverSignature_.data(), serverSignature_.size()) != 0)
    return Error(ErrorCode::ServerNotAuthenticated,
                 "The server's SCRAM signature is wrong: the server does not know your password — it may not be the "
                 "server you meant. SMTPc cancels the login and sends no message.");
  verified_ = true;
  return Error();
}

std::string Scram::maskedClientFinal() const { return finalWithoutProof_ + ",p=********"; }

}  // namespace smtpc::sasl
