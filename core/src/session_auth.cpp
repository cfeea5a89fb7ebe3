// The login (RFC 4954): choosing the mechanism, the SASL exchange, and what a refusal means.
// Same engine, same rules as session.cpp (this is Session's code, in a file of its own).
#include "smtpc/advice.h"
#include "smtpc/command.h"
#include "smtpc/reply_code.h"
#include "smtpc/session.h"

namespace smtpc {

void Session::performAuth() {
  auto chosen = sasl::choose(params_.authMechanism, capabilities_, params_.credentials, tlsActive_,
                             params_.allowPlaintextAuth);
  if (!chosen) {
    fail(chosen.error());
    return;
  }
  const std::string_view name = mechanismName(*chosen);
  if (!tlsActive_ && sasl::exposesSecretWithoutTls(*chosen))
    note(TranscriptKind::Error, "Sending credentials WITHOUT encryption, because plaintext authentication was allowed.");
  sasl_ = std::make_unique<sasl::Exchange>(*chosen, params_.credentials,
                                           params_.tls.verifyName.empty() ? params_.host : params_.tls.verifyName,
                                           params_.effectivePort());
  if (sasl_->setupError()) {
    fail(sasl_->setupError());
    return;
  }
  authCancelled_ = false;
  const auto initial = sasl_->initialResponse();
  auto line = command::auth(name, initial ? std::optional<std::string_view>(*initial) : std::nullopt);
  if (!line) {
    fail(Error(line.error().code(), "AUTH: " + line.error().explanation()));
    return;
  }
  note(TranscriptKind::Info, "Logging in as \"" + params_.credentials.username + "\" with " + std::string(name) +
                                 "; credentials are hidden in this transcript.");
  if (std::string decoded = sasl_->takeNote(); !decoded.empty()) note(TranscriptKind::Info, std::move(decoded));
  sendMasked(*line, "AUTH " + std::string(name) + (initial ? " " + std::string(Secret::redacted()) : ""), State::Auth);
  setState(State::Auth);
}

void Session::onAuthReply(const Reply& reply) {
  if (authCancelled_) {  // the answer to our "*" (RFC 4954 §4: normally 501)
    fail(authError_);
    return;
  }
  if (reply.code == reply_code::AuthSucceeded) {
    // SCRAM: a 235 before the server proved it knows the password is not trusted.
    if (Error unproven = sasl_->finish()) {
      sasl_.reset();
      fail(std::move(unproven));
      return;
    }
    const AuthMechanism mechanism = sasl_->mechanism();
    sasl_.reset();
    post(AuthSucceeded{mechanism});
    note(TranscriptKind::Info, "Logged in.");
    afterAuth();
    return;
  }
  if (reply.code == reply_code::AuthChallenge) {
    const bool refusalKnown = sasl_->tokenRefusal() != nullptr;
    auto response = sasl_->respond(reply.lines.empty() ? std::string_view() : std::string_view(reply.lines.front()));
    // XOAUTH2's and OAUTHBEARER's error challenge says why the token was refused: in words here,
    // as it arrives; the final reply's Error carries it on to the diagnosis.
    if (!refusalKnown && sasl_->tokenRefusal()) note(TranscriptKind::Info, sasl::describe(*sasl_->tokenRefusal()));
    if (!response) {
      authCancelled_ = true;
      authError_ = response.error();
      sendMasked("*\r\n", "*", State::Auth);
      return;
    }
    // What the answer means (SCRAM's messages decoded, the proof masked) comes before it: the
    // server's signature is checked before the (empty) answer goes.
    if (std::string decoded = sasl_->takeNote(); !decoded.empty()) note(TranscriptKind::Info, std::move(decoded));
    sendMasked(*response + "\r\n", std::string(Secret::redacted()), State::Auth);
    return;
  }
  const bool token = sasl::usesToken(sasl_->mechanism());
  const std::shared_ptr<const sasl::TokenRefusal> refusal = sasl_->tokenRefusal();
  sasl_.reset();
  std::string why;
  ErrorCode code = ErrorCode::AuthFailed;
  switch (reply.code) {
    case reply_code::AuthCredentialsInvalid:
      if (token) break;  // below
      why = "The server refused the user name or password (535). Check both; Gmail, Outlook, Yahoo and iCloud need "
            "an app password when two-step verification is on.";
      break;
    case reply_code::AuthMechanismTooWeak:
      why = "The server wants a different kind of login (534): this provider may need an app password or OAuth2.";
      break;
    case reply_code::EncryptionRequired:
      why = "The server requires encryption for this login (538): use " + std::string(advice::kEncryptedModes) + ".";
      break;
    case reply_code::AuthTemporaryFailure:
      why = "The server could not check the login just now (454): try again later.";
      break;
    case reply_code::ParameterNotImplemented:
      code = ErrorCode::NoCommonMechanism;
      why = "The server does not accept this login mechanism after all (504): choose another one.";
      break;
    case reply_code::AuthRequired:
      // Before TLS a 530 is RFC 3207 §4's "Must issue a STARTTLS command first", not a login problem.
      why = tlsActive_ ? "The server requires a login of another kind (530)."
                       : "The server wants the connection encrypted before a login (530, RFC 3207 §4): use " +
                             std::string(advice::kEncryptedModes) + ".";
      break;
    default:
      if (token) break;  // below
      why = "The server refused the login: " + reply.text();
      break;
  }
  if (why.empty()) {  // a token refused: no password to check, and the error challenge may say why
    const std::string reason = sasl::refusalReason(refusal.get());
    why = "The server refused the OAuth access token (" + std::to_string(reply.code) + ")" +
          (reason.empty() ? std::string(".") : ": " + reason + ".");
  }
  Error error(code, why, reply);
  error.setTokenRefusal(refusal);
  fail(std::move(error));
}

void Session::afterAuth() {
  if (stopIf(Phase::Auth)) return;
  enterReady();
}

}  // namespace smtpc
