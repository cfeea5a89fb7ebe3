// The diagnosis after a run: a headline, what happened and what to try, per error, refined by the
// step it failed at, the security mode and port, and what the server said and offered. The advice
// about ports and modes comes from smtpc/advice.h, shared with the engine's own explanations.
#include "smtpc/diagnosis.h"

#include "smtpc/advice.h"
#include "smtpc/explain.h"
#include "smtpc/presets.h"
#include "text.h"

namespace smtpc {

Diagnosis Explainer::diagnosis() const {
  if (!finished_) return {};
  Finished finished = *finished_;
  // "Recipients rejected" carries the summary; the refused recipient's own reply says why.
  if (finished.error.code() == ErrorCode::RecipientsRejected && !finished.error.reply() && lastRefusal_)
    finished.error = Error(finished.error.code(), finished.error.explanation(), lastRefusal_);
  return diagnose(finished, params_, failedStep(), capabilities_ ? &*capabilities_ : nullptr, tls_);
}

namespace {

bool replyMentions(const std::optional<Reply>& reply, std::string_view word) {
  if (!reply) return false;
  const std::string needle = text::toUpper(word);
  for (const auto& line : reply->lines)
    if (text::toUpper(line).find(needle) != std::string::npos) return true;
  return false;
}

bool enhancedIs(const std::optional<Reply>& reply, int cls, int subject, int detail) {
  return reply && reply->enhanced && reply->enhanced->klass == cls && reply->enhanced->subject == subject &&
         reply->enhanced->detail == detail;
}

std::string portText(std::uint16_t port) { return std::to_string(port); }

// Said when a conversation went on without TLS because the mode allowed it. (With STARTTLS
// required or implicit TLS the engine never goes on in clear text: a failed handshake is a
// failure, not a downgrade, and gets no such warning.)
std::string clearTextWarning(SecurityMode mode) {
  if (mode == SecurityMode::StartTlsIfOffered)
    return "Not encrypted: STARTTLS was not offered (or did not start), so this conversation crossed the network in "
           "clear text. A man in the middle can remove STARTTLS from the server's answer to cause exactly this; "
           "choose \"STARTTLS (required)\" so that the client stops instead of going on unencrypted.";
  if (mode == SecurityMode::None)
    return "Not encrypted: security is set to none, so anyone on the way can read and change this conversation.";
  return {};
}

// The --oauth provider a refused login points to: Google's or Microsoft's by what the server said
// or the host, else one named by its issuer, which RFC 7628's openid-configuration gives away.
std::string oauthProvider(bool google, bool microsoft, const sasl::TokenRefusal* refusal) {
  if (google) return "google";
  if (microsoft) return "microsoft";
  static constexpr std::string_view kWellKnown = "/.well-known/openid-configuration";
  std::string issuer = refusal ? refusal->openidConfiguration : std::string();
  if (issuer.size() > kWellKnown.size() && issuer.compare(issuer.size() - kWellKnown.size(), kWellKnown.size(), kWellKnown) == 0)
    issuer.resize(issuer.size() - kWellKnown.size());
  else
    issuer = "ISSUER-URL";
  return "custom --oauth-issuer " + issuer;
}

// A sentence of advice that ends in how to sign in (advice::kSignInWith).
std::string signIn(std::string_view sentence, const std::string& provider) {
  return std::string(sentence) + std::string(advice::kSignInWith) + provider + ").";
}

// A refused login (AuthFailed): a token or a password; what the token's error challenge said
// (Error::tokenRefusal); Microsoft 365's and Gmail's refusals by their enhanced codes and words.
void explainRefusedLogin(Diagnosis& d, const Error& error, const ConnectParams& params) {
  const std::optional<Reply>& reply = error.reply();
  const Preset* preset = presetForHost(params.host);
  const sasl::TokenRefusal* refusal = error.tokenRefusal();
  const bool token = refusal || sasl::usesToken(params.authMechanism) ||
                     (params.authMechanism == AuthMechanism::Auto && !params.credentials.oauthToken.empty());
  // Microsoft 365 refuses with 5.7.139 (its own detail code) or 5.7.3 "Authentication unsuccessful".
  const bool microsoft = (preset && preset->id == "outlook") || enhancedIs(reply, 5, 7, 139) ||
                         (enhancedIs(reply, 5, 7, 3) && replyMentions(reply, "authentication unsuccessful"));
  // Gmail's replies link to support.google.com; its words alone ("Username and Password not
  // accepted") are imitated by other servers, such as the sandbox with its own issuer.
  const bool google = (preset && preset->id == "gmail") || replyMentions(reply, "support.google.com") ||
                      replyMentions(reply, "application-specific password") ||
                      (refusal && refusal->scope.find("google.com") != std::string::npos);
  const std::string provider = oauthProvider(google, microsoft, refusal);
  const auto add = [&d](std::string s) { d.suggestions.push_back(std::move(s)); };
  const auto scopeAdvice = [&](const std::string& scope) {
    add(signIn(std::string(advice::kSignInForScope) + scope + " ", provider + " --scope " + scope));
  };

  if (token) {
    const sasl::TokenProblem problem = refusal ? refusal->problem : sasl::TokenProblem::NotUnderstood;
    const std::string scope = !refusal ? std::string() : refusal->missingScope.empty() ? refusal->scope : refusal->missingScope;
    if (problem == sasl::TokenProblem::InsufficientScope) {
      d.headline = "The token lacks the scope the server needs";
      if (!scope.empty()) scopeAdvice(scope);
      else add(signIn(advice::kSignInAgain, provider));
    } else if (problem == sasl::TokenProblem::InvalidRequest) {
      d.headline = "The token does not fit this user name";
      add(signIn(advice::kTokenUserMustMatch, provider));
      if (!scope.empty()) scopeAdvice(scope);
    } else if (microsoft && !refusal) {
      d.headline = "Microsoft 365 refused the token";
      add(signIn(advice::kTokenUserMustMatch, provider));
      add(std::string(advice::kMicrosoftAuthenticatedSmtp));
      add(signIn(advice::kSignInAgain, provider));
    } else if (google && (!refusal || problem == sasl::TokenProblem::InvalidToken)) {
      // Gmail's 401 (then 535 5.7.8) stands for an expired token and for another account's alike.
      d.headline = "The token is not valid for this user";
      add(signIn(advice::kSignInAgain, provider));
      add(signIn(advice::kTokenUserMustMatch, provider));
    } else {
      d.headline = problem == sasl::TokenProblem::InvalidToken ? "The token is not valid" : "The token was refused";
      add(signIn(advice::kSignInAgain, provider));
      add(signIn(advice::kTokenUserMustMatch, provider));
    }
    return;
  }

  const bool appPassword = replyMentions(reply, "application-specific") || replyMentions(reply, "app password") ||
                           enhancedIs(reply, 5, 7, 9);
  const std::string checkPassword = "Check the user name (usually the whole e-mail address) and the password.";
  if (microsoft) {
    if (replyMentions(reply, "basic authentication is disabled")) {
      d.headline = "Password logins are switched off";
      d.explanation = "Microsoft 365 no longer accepts a password for SMTP AUTH here: basic authentication is "
                      "disabled for this tenant or mailbox.";
      add(signIn(advice::kMicrosoftBasicAuthEnds, provider));
      add(std::string(advice::kMicrosoftAuthenticatedSmtp));
    } else if (replyMentions(reply, "SmtpClientAuthentication") || replyMentions(reply, "security defaults")) {
      d.headline = "SMTP AUTH is off for this mailbox";
      add(std::string(advice::kMicrosoftAuthenticatedSmtp));
      add(signIn(advice::kMicrosoftBasicAuthEnds, provider));
    } else if (enhancedIs(reply, 5, 7, 3)) {
      // 5.7.3 says nothing more: the switch, the security defaults and a wrong password look alike.
      d.headline = "Microsoft 365 refused the login";
      add(std::string(advice::kMicrosoftAuthenticatedSmtp));
      add(checkPassword);
      add(signIn(advice::kMicrosoftBasicAuthEnds, provider));
    } else {  // 5.7.139 "the user credentials were incorrect", and the rest of 5.7.139
      d.headline = "Login refused";
      add(checkPassword);
      add(signIn(advice::kMicrosoftBasicAuthEnds, provider));
    }
    return;
  }
  if (appPassword) {
    d.headline = "An app password or OAuth sign-in is needed";
    add(signIn(advice::kAppPasswordOrSignIn, provider));
    return;
  }
  d.headline = "Login refused";
  add(checkPassword);
  if (google) {  // Gmail refuses the account password itself, as "Username and Password not accepted"
    add(signIn(advice::kAppPasswordOrSignIn, provider));
    return;
  }
  if (preset && !preset->note.empty()) add(std::string(preset->name) + ": " + std::string(preset->note));
  if (replyMentions(reply, "disabled") || replyMentions(reply, "basic auth"))
    add(signIn(advice::kPasswordLoginsOff, provider));
}

}  // namespace

Diagnosis diagnose(const Finished& finished, const ConnectParams& params, std::optional<Step> failedAt,
                   const Capabilities* capabilities, const std::optional<TlsInfo>& tls) {
  Diagnosis d;
  const Error& error = finished.error;
  const std::uint16_t port = params.effectivePort();
  const SecurityMode mode = params.security;
  const std::string where = params.host + " port " + portText(port);
  if (error.reply()) d.serverSaid = error.reply()->summary();
  d.encrypted = tls.has_value();
  const bool wentOnInClear = !error || (failedAt && *failedAt != Step::Connect && *failedAt != Step::TlsHandshake);
  if (!d.encrypted && wentOnInClear) d.warning = clearTextWarning(mode);

  if (!error) {
    d.ok = true;
    if (finished.stoppedAfter != Phase::None) {
      d.headline = "The setup works";
      std::string phase = text::toUpper(phaseName(finished.stoppedAfter));
      if (finished.stoppedAfter == Phase::Connect) phase = "the greeting";
      d.explanation = "Every step up to " + phase +
                      " succeeded; the test stopped there on purpose, before any mail was sent.";
    } else {
      d.headline = "Done";
      d.explanation = "The conversation finished without an error.";
    }
    if (mode == SecurityMode::None || mode == SecurityMode::StartTlsIfOffered)
      if (!tls)
        d.suggestions.push_back("The connection was not encrypted: anyone on the way could read it. Use " +
                                std::string(advice::kEncryptedModes) + " if the server offers them.");
    if (tls && tls->acceptedDespiteErrors)
      d.suggestions.push_back("The certificate was NOT valid and was accepted only because you asked; "
                              "do not use this setting with a real password.");
    return d;
  }

  d.explanation = error.explanation();
  const auto add = [&d](std::string s) { d.suggestions.push_back(std::move(s)); };
  const bool tlsPort = port == 465;
  const bool plainPort = port == 25 || port == 587 || port == 2525;

  switch (error.code()) {
    case ErrorCode::HostNotFound:
      d.headline = "Server name not found";
      add("Check the spelling of \"" + params.host + "\" (for example smtp.example.com, not example.com).");
      add("Check that this computer can resolve names (DNS); try the server's IP address.");
      break;
    case ErrorCode::ConnectionRefused:
      d.headline = "Nothing answers on " + where;
      add(std::string(advice::kPortGuide));
      add("Check that the server is running and listens on that address.");
      break;
    case ErrorCode::ConnectFailed:
      d.headline = "Could not connect to " + where;
      add("Check the network: a firewall, VPN or proxy may block the way.");
      break;
    case ErrorCode::Timeout:
      if (failedAt == Step::Connect) {
        d.headline = "No answer from " + where;
        d.explanation = "The connection attempt was not answered: something drops the packets on the way.";
        add("Many networks and providers block outgoing port 25; try " + std::string(advice::kEncryptedModes) + ".");
        add("Check firewalls and whether the server's address is right.");
      } else if (failedAt == Step::Greeting && mode != SecurityMode::ImplicitTls) {
        d.headline = "The server never said hello";
        d.explanation = "The connection opened but no 220 greeting came. A port that expects TLS from the first "
                        "byte waits silently for the TLS handshake.";
        if (tlsPort) add(std::string(advice::kPort465IsImplicitTls));
        else add(std::string(advice::kImplicitTlsIfThePortExpectsIt) + " Otherwise the server may be overloaded.");
      } else {
        d.headline = "The server stopped answering";
        add("Try again; if it keeps happening at the same step, the server or a firewall in between is at fault.");
        add("Raise the timeout if the server is known to be slow.");
      }
      break;
    case ErrorCode::ConnectionLost:
      d.headline = "The connection closed early";
      if (failedAt == Step::Greeting && mode != SecurityMode::ImplicitTls && tlsPort)
        add(std::string(advice::kPort465IsImplicitTls));
      else if (failedAt == Step::TlsHandshake)
        add("The server ended the TLS handshake: it may not support TLS 1.2 or later, or not on this port.");
      else
        add("The server or something in between closed the connection; try again, then check the server's logs.");
      break;
    case ErrorCode::TlsHandshakeFailed:
      d.headline = "TLS handshake failed";
      if (mode == SecurityMode::ImplicitTls && (plainPort || port != 465)) {
        d.explanation = "Port " + portText(port) + " usually starts in plain text, but implicit TLS was chosen: "
                        "the handshake met an SMTP greeting instead of TLS.";
        add("Choose \"STARTTLS\" for port " + portText(port) + ".");
        add(std::string(advice::kPortGuide));
      } else {
        add("The server may only offer old TLS versions or ciphers; SMTPc needs TLS 1.2 or later.");
        add(std::string(advice::kPortGuide));
      }
      break;
    case ErrorCode::ClientCertificateRefused:
      d.headline = "The server wants a client certificate";
      add(params.tls.clientCertificatePem.empty()
              ? "Give the client certificate and key the server's administrator issued for you (Advanced settings; --client-cert and --client-key in the CLI)."
              : "Check that the client certificate is the one this server expects, is still valid, and matches its key.");
      add("If the server should not ask for one, its administrator can check the server's TLS log for the reason.");
      break;
    case ErrorCode::CertificateInvalid: {
      d.headline = "The server's certificate is not trusted";
      std::string problems;
      if (tls)
        for (const auto& p : tls->verificationErrors) problems += (problems.empty() ? "" : "; ") + p;
      if (!problems.empty()) d.explanation = "The certificate could not be verified: " + problems + ".";
      const std::string lower = text::toUpper(problems);
      if (lower.find("EXPIRED") != std::string::npos || lower.find("NOT YET VALID") != std::string::npos) {
        add("The certificate is outside its validity period: the server's administrator must renew it "
            "(or this computer's clock is wrong).");
      }
      if (lower.find("HOST NAME") != std::string::npos || lower.find("HOSTNAME") != std::string::npos ||
          lower.find("NAME") != std::string::npos) {
        add("Use the exact host name the certificate was issued for (see its SANs in the TLS panel), "
            "not an IP address or an alias.");
      }
      if (lower.find("SELF") != std::string::npos || lower.find("ISSUER") != std::string::npos ||
          lower.find("UNTRUSTED") != std::string::npos || lower.find("LOCAL") != std::string::npos ||
          problems.empty()) {
        add("If this is your own server with a private CA, give that CA's certificate (CA file) so it is trusted.");
      }
      add("Only for a test server: \"accept an invalid certificate\" goes on anyway (never with a real password).");
      break;
    }
    case ErrorCode::SecureNotAvailable:
      d.headline = "The server could not start TLS";
      add("The server offered STARTTLS but refused it; its TLS set-up may be broken. " +
          std::string(advice::kTryImplicitTlsOrAnotherPort) + ".");
      break;
    case ErrorCode::StartTlsNotOffered:
      d.headline = "This server does not offer STARTTLS";
      if (tlsPort) add(std::string(advice::kPort465IsImplicitTls));
      else add(std::string(advice::kTryImplicitTlsOrAnotherPort) + "; sending without TLS exposes your password.");
      break;
    case ErrorCode::ServerRefused:
      d.headline = "The server refuses this client";
      add("The server said no before anything else (554): your address may be on a block list, or it only "
          "accepts mail from certain networks.");
      break;
    case ErrorCode::ServiceNotAvailable:
      d.headline = "The server is not available now";
      add("It answered 421: try again later.");
      break;
    case ErrorCode::AuthNotOffered:
      d.headline = "The server offers no login here";
      if (mode == SecurityMode::None || (mode == SecurityMode::StartTlsIfOffered && !tls)) {
        add("Many servers offer AUTH only after TLS: choose STARTTLS.");
      } else if (port == 25) {
        add("Port 25 is for server-to-server mail; mail submission with a login uses " +
            std::string(advice::kEncryptedModes) + ".");
      } else {
        add("Leave the user name empty if the server accepts mail without a login (from your network only).");
      }
      break;
    case ErrorCode::NoCommonMechanism: {
      d.headline = "No usable login method";
      std::string offered;
      if (capabilities)
        for (const auto& m : capabilities->authMechanisms()) offered += (offered.empty() ? "" : " ") + m;
      if (!offered.empty()) d.explanation += " The server offers: " + offered + ".";
      add("Choose \"Auto\" or one of the mechanisms the server offers.");
      if (offered.find("XOAUTH2") != std::string::npos || offered.find("OAUTHBEARER") != std::string::npos)
        add("OAuth2 mechanisms need an access token instead of a password.");
      break;
    }
    case ErrorCode::AuthFailed:
      explainRefusedLogin(d, error, params);
      break;
    case ErrorCode::ServerNotAuthenticated:
      d.headline = "The server could not prove it holds your account";
      add("Check the server name: SCRAM lets the real server prove it knows your password, and this one could "
          "not (or answered for another login). Something in the middle may be pretending to be it.");
      add("If the name is right, the server's stored SCRAM credentials may be out of step with your password: "
          "ask its administrator before choosing another mechanism (which would send the password itself).");
      break;
    case ErrorCode::PlaintextAuthRefused:
      d.headline = "Password not sent without encryption";
      add("Use " + std::string(advice::kEncryptedModes) + ".");
      add("Only for a test server on your own machine: allow a plain-text login explicitly.");
      break;
    case ErrorCode::SenderRejected:
      d.headline = "The sender address was refused";
      add("Many servers accept only the address of the account you logged in with as the sender.");
      if (!params.credentials.username.empty() || failedAt == Step::Mail)
        add("Without a login most servers refuse to relay: give a user name and password.");
      break;
    case ErrorCode::RecipientsRejected:
      d.headline = "A recipient was refused";
      if (enhancedIs(error.reply(), 5, 7, 1) || replyMentions(error.reply(), "relay")) {
        d.explanation = "The server will not pass mail on to that recipient for you (relaying denied).";
        add("Log in first (user name and password): servers relay only for their own users.");
      } else if (enhancedIs(error.reply(), 5, 1, 1) || replyMentions(error.reply(), "unknown") ||
                 replyMentions(error.reply(), "no such")) {
        add("That mailbox does not exist: check the recipient's address.");
      } else if (error.isTransient()) {
        add("A temporary refusal (4xx, often greylisting): try again in a few minutes.");
      } else {
        add("Check the recipient's address; the server's reply says why it was refused.");
      }
      break;
    case ErrorCode::MessageTooLarge:
      d.headline = "The message is too large";
      if (capabilities && capabilities->maxSize() > 0)
        d.explanation += " This server accepts at most " + std::to_string(capabilities->maxSize()) + " octets.";
      add("Send smaller attachments, or share large files by link. Base64 makes attachments about a third larger.");
      break;
    case ErrorCode::MessageRejected:
      d.headline = "The server refused the message";
      add("Its reply says why: often spam filtering, a missing or wrong From header, or a policy.");
      break;
    case ErrorCode::SmtpUtf8NotSupported:
      d.headline = "Non-ASCII address not supported";
      add("This server does not accept internationalised addresses (SMTPUTF8); use an ASCII address.");
      break;
    case ErrorCode::EightBitNotSupported:
      d.headline = "8-bit content not supported";
      add("Encode the message (quoted-printable or base64) before sending.");
      break;
    case ErrorCode::DsnNotSupported:
      d.headline = "Delivery reports not supported";
      add("This server cannot send delivery reports (it does not offer DSN): send without asking for them, or "
          "choose to send anyway without them.");
      break;
    case ErrorCode::ProtocolViolation:
      d.headline = "The server does not speak SMTP correctly";
      if (mode == SecurityMode::ImplicitTls) add("Check the port and security mode.");
      else add("Is this really an SMTP port? Some other service may be listening there.");
      break;
    case ErrorCode::ServerReply:
      d.headline = "The server answered with an error";
      add("Its reply, shown below, says why.");
      break;
    case ErrorCode::Cancelled:
      d.headline = "Cancelled";
      d.explanation = "You stopped the conversation. A message in the middle of DATA is discarded by the server.";
      break;
    default:
      d.headline = std::string(errorCodeName(error.code()));
      break;
  }
  return d;
}

}  // namespace smtpc
