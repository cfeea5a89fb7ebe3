/// \file
/// What to try, said once. The engine's explanations (session.cpp), the TLS policy's sentences
/// (tls_policy.cpp) and the diagnosis (diagnosis.cpp) build their advice from these, so a person
/// reads the same words about ports and security modes wherever a run went wrong, and a change of
/// wording is one edit.
#pragma once

#include <string_view>

/// What to try, said once: the sentences about ports, security modes and sign-in that the
/// explanations, the TLS policy and the diagnosis build their advice from.
namespace smtpc::advice {

/// Which port goes with which mode: RFC 8314 §3.3 (465, TLS from the first byte), RFC 6409 (587,
/// submission with STARTTLS), RFC 5321 (25, relay between servers).
inline constexpr std::string_view kPortGuide =
    "Check that the port matches the security mode: 587 is for STARTTLS submission, 465 for implicit TLS, "
    "25 for server-to-server mail.";

/// The two encrypted choices, by port; a phrase to finish "use …" or "try …".
inline constexpr std::string_view kEncryptedModes = "port 587 (STARTTLS) or 465 (implicit TLS)";

/// A port that stays silent or hangs up before the greeting most likely waits for a TLS handshake.
inline constexpr std::string_view kImplicitTlsIfThePortExpectsIt =
    "If this port expects implicit TLS (usually 465), choose implicit TLS.";

/// A port that never finishes a TLS handshake most likely speaks clear text first.
inline constexpr std::string_view kStartTlsIfThePortExpectsIt =
    "If this port expects STARTTLS or clear text (25, 587), choose STARTTLS.";

/// Port 465 was chosen with another mode.
inline constexpr std::string_view kPort465IsImplicitTls =
    "Port 465 uses implicit TLS: choose \"Implicit TLS\" as the security mode.";

/// Before a run (the form's hint): port 465 with a mode that starts in clear text.
inline constexpr std::string_view kPort465ExpectsTls = "Port 465 usually expects TLS from the first byte: choose Implicit TLS.";

/// A login or AUTH needs encryption first; a sentence that may go on (", or allow …").
inline constexpr std::string_view kChooseTls = "Choose STARTTLS or implicit TLS";

/// STARTTLS is missing or broken on this port; a phrase that a sentence goes on from.
inline constexpr std::string_view kTryImplicitTlsOrAnotherPort = "Try implicit TLS on port 465, or another port";

/// Signing in with OAuth 2, in the app and in the CLI: a parenthesis that the caller finishes with
/// the provider ("google", "microsoft", "custom --oauth-issuer URL") and ")". The sentences below
/// that end in "… " go on with it.
inline constexpr std::string_view kSignInWith = "(the \"Sign in…\" button, or smtpc --oauth ";

/// A token refused as not valid: a new sign-in gets a new one.
inline constexpr std::string_view kSignInAgain =
    "Access tokens expire (most within an hour) and can be revoked: sign in again for a new one ";

/// A token without the scope the server needs; goes on with that scope, then kSignInWith.
inline constexpr std::string_view kSignInForScope = "Sign in again and ask for the scope the server needs, ";

/// XOAUTH2 and OAUTHBEARER name the user beside the token, and the two must agree.
inline constexpr std::string_view kTokenUserMustMatch =
    "The user name must be the mailbox the token was issued for (XOAUTH2 sends it as user=, OAUTHBEARER as a=): give that account's "
    "address as the user name, or sign in again as this user ";

/// Microsoft 365's switch for SMTP AUTH per mailbox, which OAuth logins need as well as passwords.
inline constexpr std::string_view kMicrosoftAuthenticatedSmtp =
    "Microsoft 365 accepts SMTP AUTH for a mailbox only when \"Authenticated SMTP\" is on for it (admin center: "
    "Users, Active users, the user, Mail, Manage email apps) and the tenant's security defaults do not block it; "
    "an administrator turns it on, and OAuth logins need it too.";

/// The end of passwords for SMTP AUTH at Microsoft (announced; the refusal reads 535 5.7.139).
inline constexpr std::string_view kMicrosoftBasicAuthEnds =
    "Microsoft 365 turns password (basic) authentication for SMTP AUTH off by default at the end of December 2026, "
    "and new tenants have it off already: sign in with OAuth instead ";

/// A provider that refuses the account's own password (Gmail's 534 5.7.9, Yahoo, iCloud, ...).
inline constexpr std::string_view kAppPasswordOrSignIn =
    "Use an app password (made in the account's security settings, with 2-step verification on) instead of the "
    "account password, or sign in with OAuth ";

/// A provider that has switched password logins off altogether.
inline constexpr std::string_view kPasswordLoginsOff =
    "The provider has switched off password logins for SMTP: sign in with OAuth ";

/// Delivery reports were asked of a server that does not offer DSN (RFC 3461): the two ways on.
inline constexpr std::string_view kSendWithoutDsn =
    "Send without asking for delivery reports, or let SMTPc send without them when the server does not offer DSN "
    "(smtpc --dsn-optional; \"Send without reports if not offered\" in the composer).";

}  // namespace smtpc::advice
