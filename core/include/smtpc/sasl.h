// SASL for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
// CRAM-MD5 (RFC 2195), XOAUTH2 (Google's), OAUTHBEARER (RFC 7628).
//
// Every mechanism is a pure function of (credentials, challenge) → response; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtpc/capabilities.h"
#include "smtpc/result.h"
#include "smtpc/secret.h"

namespace smtpc {

enum class AuthMechanism { Auto, Plain, Login, CramMd5, XOAuth2, OAuthBearer };

std::string_view mechanismName(AuthMechanism mechanism);  // "PLAIN", "CRAM-MD5", "AUTO", ...
std::optional<AuthMechanism> mechanismFromName(std::string_view name);  // case-insensitive

struct Credentials {
  std::string username;
  Secret password;
  Secret oauthToken;            // for XOAUTH2 / OAUTHBEARER
  std::string authorizationId;  // PLAIN's authzid; empty = act as `username`
};

namespace sasl {

// Base64 responses, as they go on the wire.
std::string plain(std::string_view authorizationId, std::string_view username, std::string_view password);
std::string xoauth2(std::string_view username, std::string_view token);
std::string oauthBearer(std::string_view username, std::string_view token, std::string_view host, std::uint16_t port);
// `challenge` is the base64 text after "334 "; the result is base64 of "user hex(HMAC-MD5)".
Result<std::string> cramMd5(std::string_view username, std::string_view password, std::string_view challenge);

// Does the mechanism's answer depend on the password or token, so that without TLS it gives the
// secret (or something to crack it from) to anyone on the path? True of every mechanism here,
// CRAM-MD5 included: its HMAC of a challenge the attacker may choose is crackable offline.
bool exposesSecretWithoutTls(AuthMechanism mechanism);

// Picks the mechanism to use. `Auto`: with a token, OAUTHBEARER then XOAUTH2; with a password over
// TLS, PLAIN then LOGIN then CRAM-MD5; without TLS (only when `allowPlaintext`), CRAM-MD5 first
// (it exposes least), then PLAIN and LOGIN. A named mechanism must be offered by the server.
// Without TLS nothing is chosen unless `allowPlaintext` is set (RFC 4954 §4, DESIGN.md rule 6).
Result<AuthMechanism> choose(AuthMechanism wanted, const Capabilities& capabilities,
                             const Credentials& credentials, bool tlsActive, bool allowPlaintext);

// One AUTH conversation: the initial response (if the mechanism has one), then answers to
// each 334 challenge in turn.
class Exchange {
 public:
  Exchange(AuthMechanism mechanism, const Credentials& credentials, std::string host, std::uint16_t port);

  AuthMechanism mechanism() const { return mechanism_; }
  // The text for "AUTH <mechanism> <initial-response>", if this mechanism sends one.
  std::optional<std::string> initialResponse() const;
  // The line answering a 334 challenge (the reply text after "334 ").
  Result<std::string> respond(std::string_view challenge);

 private:
  AuthMechanism mechanism_;
  const Credentials& credentials_;
  std::string host_;
  std::uint16_t port_;
  int step_ = 0;
};

}  // namespace sasl
}  // namespace smtpc
