/// \file
/// SASL for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
/// CRAM-MD5 (RFC 2195), XOAUTH2 (Google's), OAUTHBEARER (RFC 7628), SCRAM-SHA-1 (RFC 5802) and
/// SCRAM-SHA-256 (RFC 7677; the mechanism itself is in smtpc/scram.h).
///
/// Every mechanism is a pure function of (credentials, challenge) → response; no I/O. The error
/// challenge a server sends when it refuses a token (base64 of a small JSON object, RFC 7628
/// §3.2.2 and Google's XOAUTH2) is decoded here too, for the transcript and the diagnosis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smtpc/capabilities.h"
#include "smtpc/core_export.h"
#include "smtpc/result.h"
#include "smtpc/scram.h"
#include "smtpc/secret.h"

namespace smtpc {

/// How to log in (ConnectParams::authMechanism): a named SASL mechanism, or Auto for the best one
/// both sides support (sasl::choose()).
enum class AuthMechanism {
  Auto,        ///< the best mechanism the server offers and the credentials allow
  Plain,       ///< PLAIN (RFC 4616): user and password in one base64 line
  Login,       ///< LOGIN (draft-murchison-sasl-login): user, then password, each asked for
  CramMd5,     ///< CRAM-MD5 (RFC 2195): an HMAC of the server's challenge
  XOAuth2,     ///< XOAUTH2 (Google's): an OAuth 2 access token
  OAuthBearer, ///< OAUTHBEARER (RFC 7628): an OAuth 2 access token
  // Appended, so that the values before keep their numbers.
  ScramSha1,   ///< SCRAM-SHA-1 (RFC 5802): proves the password without sending it; the server proves it too
  ScramSha256  ///< SCRAM-SHA-256 (RFC 7677): the same with SHA-256; Auto's first choice for a password
};

/// Every named mechanism (not Auto), in the order front ends list them.
SMTPC_CORE_EXPORT const std::vector<AuthMechanism>& allMechanisms();

SMTPC_CORE_EXPORT std::string_view mechanismName(AuthMechanism mechanism);  ///< "PLAIN", "CRAM-MD5", "AUTO", ...
SMTPC_CORE_EXPORT std::optional<AuthMechanism> mechanismFromName(std::string_view name);  ///< case-insensitive

/// Who logs in: a user name and a password or an OAuth access token. AUTH happens only when
/// `username` is not empty.
struct Credentials {
  std::string username;  ///< the login name (also the mailbox XOAUTH2 and OAUTHBEARER name)
  Secret password;  ///< for PLAIN, LOGIN and CRAM-MD5
  Secret oauthToken;            ///< for XOAUTH2 / OAUTHBEARER
  /// The scope the token was granted, space-separated, when the sign-in said (RFC 6749 §5.1); lets
  /// a refusal that names the scope the server needs be told apart from an expired token.
  std::string oauthScope;
  std::string authorizationId;  ///< PLAIN's authzid; empty = act as `username`
  /// Tests only (the RFCs' vectors): SCRAM's client nonce. Empty, always outside tests: 24 random
  /// bytes from OpenSSL. A fixed nonce makes the exchange replayable.
  std::string scramNonceForTests;
};

/// SASL mechanisms for SMTP AUTH as pure functions, and the reading of a refused token's
/// error challenge.
namespace sasl {

/// Base64 responses, as they go on the wire.
SMTPC_CORE_EXPORT std::string plain(std::string_view authorizationId, std::string_view username,
                                    std::string_view password);
/// XOAUTH2's response: base64 of "user=USER^Aauth=Bearer TOKEN^A^A" (^A: the octet 0x01).
SMTPC_CORE_EXPORT std::string xoauth2(std::string_view username, std::string_view token);
/// OAUTHBEARER's response (RFC 7628 §3.1): base64 of the GS2 header with `username`, then host,
/// port and "auth=Bearer TOKEN", separated by 0x01.
SMTPC_CORE_EXPORT std::string oauthBearer(std::string_view username, std::string_view token, std::string_view host,
                                          std::uint16_t port);
/// `challenge` is the base64 text after "334 "; the result is base64 of "user hex(HMAC-MD5)".
SMTPC_CORE_EXPORT Result<std::string> cramMd5(std::string_view username, std::string_view password,
                                              std::string_view challenge);

/// Does the mechanism's answer depend on the password or token, so that without TLS it gives the
/// secret (or something to crack it from) to anyone on the path? True of every mechanism here,
/// CRAM-MD5 included: its HMAC of a challenge the attacker may choose is crackable offline. SCRAM
/// too: the salt, the iteration count and the proof are what an offline dictionary attack needs.
/// Safe by default: like every other login, SCRAM without TLS needs `allowPlaintext`.
SMTPC_CORE_EXPORT bool exposesSecretWithoutTls(AuthMechanism mechanism);
/// XOAUTH2 and OAUTHBEARER log in with an OAuth access token, the others with a password.
SMTPC_CORE_EXPORT bool usesToken(AuthMechanism mechanism);
/// SCRAM-SHA-1 and SCRAM-SHA-256.
SMTPC_CORE_EXPORT bool isScram(AuthMechanism mechanism);

/// Picks the mechanism to use. `Auto`: with a token, OAUTHBEARER then XOAUTH2; with a password over
/// TLS, SCRAM-SHA-256, SCRAM-SHA-1, then PLAIN, LOGIN and CRAM-MD5 (SCRAM never shows the password
/// to the server and makes it prove it knows the account; SHA-1's collisions do not weaken HMAC or
/// PBKDF2, so SCRAM-SHA-1 still beats sending the password itself); without TLS (only when
/// `allowPlaintext`), the SCRAMs, then CRAM-MD5 (they expose least), then PLAIN and LOGIN. A named
/// mechanism must be offered by the server.
/// Without TLS nothing is chosen unless `allowPlaintext` is set (RFC 4954 §4, DESIGN.md rule 6).
SMTPC_CORE_EXPORT Result<AuthMechanism> choose(AuthMechanism wanted, const Capabilities& capabilities,
                                               const Credentials& credentials, bool tlsActive, bool allowPlaintext);

// ---------------------------------------------------------------------------------------------
// A refused token. After XOAUTH2's or OAUTHBEARER's initial response, a server that refuses the
// token sends "334 " + base64 of a JSON object before its final 5xx:
//   RFC 7628 §3.2.2  {"status":"invalid_token","scope":"...","openid-configuration":"https://..."}
//   Google (XOAUTH2) {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}
// The statuses are RFC 6750 §3.1's error codes, or HTTP status codes in Google's dialect.

/// The largest text readFlatJsonObject() reads, in octets.
inline constexpr std::size_t kMaxFlatJsonBytes = 4096;
/// The most members readFlatJsonObject() reads.
inline constexpr std::size_t kMaxFlatJsonMembers = 32;
/// One member of a flat JSON object.
struct JsonMember {
  std::string name;   ///< the member's name, decoded
  std::string value;  ///< its value as text
};
/// A flat JSON object (RFC 8259): string, number, true and false members (null ones are left out),
/// each value as text (a string decoded, a number as written, "true"/"false"). This JSON arrives
/// inside the SMTP conversation the engine reads, so core reads it; it is the only JSON core reads,
/// and it refuses anything but a flat object: a nested object or array, a duplicate name, a bad
/// escape or UTF-8, bytes after the object, more than kMaxFlatJsonBytes or kMaxFlatJsonMembers.
/// One pass, no recursion; the error says what was wrong and where.
SMTPC_CORE_EXPORT Result<std::vector<JsonMember>> readFlatJsonObject(std::string_view text);

/// What the refusal means for the person who signed in.
enum class TokenProblem {
  NotUnderstood,      ///< not base64 of a flat JSON object with a "status": why is not known
  InvalidToken,       ///< "invalid_token" or "401": expired, revoked, or not for this server
  InsufficientScope,  ///< "insufficient_scope" or "403", or a scope the server needs that the token
                      ///< was not granted (Credentials::oauthScope)
  InvalidRequest,     ///< "invalid_request" or "400": Gmail's answer when user= is not the account
                      ///< the token was issued for (or the token's scope does not cover mail)
  Other,              ///< a status not listed here
};

/// A refused token's error challenge, decoded (readTokenRefusal()).
struct TokenRefusal {
  TokenProblem problem = TokenProblem::NotUnderstood;  ///< what it means
  std::string status;               ///< as the server wrote it: "invalid_token", "401", ...
  std::string scope;                ///< the scope(s) the server needs, space-separated; may be empty
  std::string openidConfiguration;  ///< RFC 7628: where the server's authorization server describes itself
  std::string grantedScope;         ///< the scope the sign-in granted, when known (Credentials::oauthScope)
  std::string missingScope;         ///< scopes the server needs that grantedScope lacks
  std::string notUnderstood;        ///< NotUnderstood: what was wrong with the challenge
};

/// Decodes the error challenge (the text after "334 "). `grantedScope` is the scope the token was
/// granted, if known. Never fails: what cannot be read is NotUnderstood, with the reason.
SMTPC_CORE_EXPORT TokenRefusal readTokenRefusal(std::string_view challenge, std::string_view grantedScope = {});
/// The scopes in `needed` (space-separated) that `granted` lacks, space-separated; "" when none.
SMTPC_CORE_EXPORT std::string missingScopes(std::string_view needed, std::string_view granted);
/// One sentence for the transcript, in a learner's words: "The server says the token is not
/// valid (status 401) for scope https://mail.google.com/: ...".
SMTPC_CORE_EXPORT std::string describe(const TokenRefusal& refusal);
/// Why the final reply refused the login: a clause to finish "The server refused the OAuth access
/// token (535): ..."; `refusal` may be null (the server sent no error challenge).
SMTPC_CORE_EXPORT std::string refusalReason(const TokenRefusal* refusal);

/// One AUTH conversation: the initial response (if the mechanism has one), then answers to
/// each 334 challenge in turn.
class SMTPC_CORE_EXPORT Exchange {
 public:
  /// An exchange for `mechanism` (not Auto) with `credentials`, which must outlive it; `host` and
  /// `port` go into OAUTHBEARER's response.
  Exchange(AuthMechanism mechanism, const Credentials& credentials, std::string host, std::uint16_t port);

  /// The mechanism it speaks.
  AuthMechanism mechanism() const { return mechanism_; }
  ~Exchange();
  /// Why the exchange cannot start (SCRAM: no random numbers, a password SASLprep refuses);
  /// tests false when it can.
  const Error& setupError() const { return setupError_; }
  /// The text for "AUTH <mechanism> <initial-response>", if this mechanism sends one.
  std::optional<std::string> initialResponse() const;
  /// The line answering a 334 challenge (the reply text after "334 ").
  Result<std::string> respond(std::string_view challenge);
  /// For XOAUTH2 and OAUTHBEARER, once the server has sent its error challenge: what it said.
  /// Shared, so that the session's Error can carry it to the diagnosis (Error::tokenRefusal).
  const std::shared_ptr<const TokenRefusal>& tokenRefusal() const { return tokenRefusal_; }
  /// What the last message means, for the transcript, once: SCRAM's messages decoded with the
  /// proof masked ("(SCRAM client-final, decoded from base64: ...p=********)"), and the server's
  /// proof checked. Empty for the other mechanisms.
  std::string takeNote() { return std::exchange(note_, std::string()); }
  /// Called on 235: an error when the mechanism has not finished its part. SCRAM's server must
  /// have proved it knows the password (server-final) before it says "logged in".
  Error finish() const;

 private:
  AuthMechanism mechanism_;
  const Credentials& credentials_;
  std::string host_;
  std::uint16_t port_;
  int step_ = 0;
  std::shared_ptr<const TokenRefusal> tokenRefusal_;
  Result<std::string> respondScram(int step, std::string_view challenge);

  std::unique_ptr<Scram> scram_;
  Error setupError_;
  std::string note_;
};

}  // namespace sasl
}  // namespace smtpc
