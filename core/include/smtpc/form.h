/// \file
/// The front-end model: what the desktop app, the CLI and the page share about the form a person
/// fills in (DESIGN.md "Beyond SMTP"). Each front end only reads its widgets (or options, or DOM
/// fields) into these plain structs and shows what comes back; the rules — what is a valid server
/// name, how an address list is split, which security hint a mode and port get, what "Test" stops
/// after, whether a run needs an envelope — are written here once, in C++, and reach the page
/// through embind.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/message.h"
#include "smtpc/oauth.h"
#include "smtpc/session.h"

/// The front-end model: the rules of the form a person fills in, shared by the desktop app, the
/// CLI and the page.
namespace smtpc::form {

/// A mistake in the form, said so a person can fix it: which field (the widget's objectName and
/// the page's data-testid, e.g. "server", "password", "to"), a short headline and what to do.
struct Problem {
  std::string field;        ///< the field's id
  std::string headline;     ///< "No server"
  std::string explanation;  ///< "Enter the server's name, for example smtp.example.com."
};

// ---------------------------------------------------------------------------------------------
// Single fields

/// The server field: a host name or an address, nothing else (no scheme, no e-mail address).
SMTPC_CORE_EXPORT std::optional<Problem> checkServer(std::string_view server);

/// A server as the command line takes it: "HOST", "HOST:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare
/// IPv6 address, with its several colons, is all host).
struct ServerText {
  std::string host;  ///< without the brackets
  int port = 0;      ///< 0: none given, or not a number; the caller checks the range
};
/// Splits the port off `text`; nullopt for an unclosed '['.
SMTPC_CORE_EXPORT std::optional<ServerText> splitServer(std::string_view text);

/// "To", "Cc", "Bcc" as typed: addresses separated by commas, semicolons or new lines, except
/// inside a quoted display name ("Doe, Jane" <jane@example.org> stays one address).
SMTPC_CORE_EXPORT std::vector<std::string> splitAddresses(std::string_view text);

/// Pinned keys as typed: "sha256//BASE64", separated by commas or spaces.
SMTPC_CORE_EXPORT std::optional<std::vector<std::string>> parsePins(std::string_view text, Problem* problem);

/// What the person should know about a security mode on a port before pressing anything: the
/// mode is unsafe, or the port usually expects another mode. Empty when there is nothing to say.
SMTPC_CORE_EXPORT std::string securityHint(SecurityMode mode, std::uint16_t port);
/// Shown while "accept an invalid certificate" or "allow plaintext login" is on.
SMTPC_CORE_EXPORT bool insecureSwitches(bool acceptInvalid, bool allowPlaintext);

/// Which credential fields a login method uses.
struct CredentialFields {
  bool password = true;  ///< the password field
  bool token = true;     ///< the OAuth token field (and "Sign in…")
};
/// The fields `mechanism` uses (Auto: both).
SMTPC_CORE_EXPORT CredentialFields credentialFields(AuthMechanism mechanism);

// ---------------------------------------------------------------------------------------------
// What a run does

/// What the person pressed.
enum class RunKind {
  Test,  ///< try the connection (and the login), send nothing
  Send   ///< send the message
};

/// "Test" stops after AUTH unless the person chose another phase ("don't stop" is Phase::None:
/// the test then ends with QUIT after the last step it can take without a message). "Send" stops
/// where asked (the CLI's --quit-after), else not at all.
struct RunPlan {
  Phase stopAfter = Phase::Auth;  ///< where the session stops (Phase::None: it does not)
  bool needsEnvelope = false;     ///< MAIL and RCPT need the message's addresses
  /// A test that does not stop at a phase: the front end says QUIT when the session is ready
  /// (SessionReady), instead of keeping the connection open as a library user would.
  bool quitWhenReady = false;
};
/// The plan for a run of `kind`; `chosenStop` is the person's "stop after" choice, if any.
SMTPC_CORE_EXPORT RunPlan planRun(RunKind kind, std::optional<Phase> chosenStop);

// ---------------------------------------------------------------------------------------------
// The whole form

/// The connection fields as the person gave them (files already read into PEM text).
struct ConnectionForm {
  std::string server;                              ///< as typed
  std::uint16_t port = 0;                          ///< 0: the mode's default
  SecurityMode security = SecurityMode::StartTls;  ///< the security mode chosen
  AuthMechanism auth = AuthMechanism::Auto;        ///< the login method chosen
  std::string username;                            ///< empty: no login
  std::string password;                            ///< ignored when the method uses a token only
  std::string token;                               ///< ignored when the method uses a password only
  bool allowPlaintext = false;                     ///< "allow plaintext login"
  std::string caPem;                               ///< extra CA certificates
  std::string pins;                                ///< as typed
  bool acceptInvalid = false;                      ///< "accept an invalid certificate"
  std::string verifyName;                          ///< the name to verify, if not the server's
  std::string clientCertificatePem;                ///< for mutual TLS
  std::string clientKeyPem;                        ///< its key
  std::string ehloName;                            ///< empty: the default
  int timeoutSeconds = 30;                         ///< every wait (Timeouts::uniform())
  bool noChunking = false;                         ///< "send with DATA even if CHUNKING is offered" (RFC 3030)
};

/// Checks the form and maps it to what the engine takes; the first problem otherwise.
SMTPC_CORE_EXPORT std::optional<ConnectParams> toConnectParams(const ConnectionForm& form, const RunPlan& plan,
                                                               Problem* problem);

/// The message fields as typed; attachments are added by the front end (files or bytes).
struct MessageForm {
  std::string from;     ///< as typed: "Name <address>" or an address
  std::string to;       ///< as typed: a list that splitAddresses() splits
  std::string cc;       ///< as typed, like `to`
  std::string bcc;      ///< as typed, like `to`; never written in a header
  std::string subject;  ///< the Subject
  std::string text;     ///< the plain-text body
  // Delivery reports (DSN, RFC 3461), the composer's advanced part; all empty: none asked.
  std::string dsnNotify;     ///< NOTIFY as typed: "success,failure,delay" (any of them) or "never"
  std::string dsnRet;        ///< RET: "full", "hdrs" or empty
  std::string dsnEnvelopeId; ///< ENVID: printable ASCII, at most 100 characters
  bool dsnOptional = false;  ///< send without the reports when the server does not offer DSN
};

/// Checks the message fields and makes the Message (addresses parsed, lists split); the first
/// problem otherwise.
SMTPC_CORE_EXPORT std::optional<Message> toMessage(const MessageForm& form, Problem* problem);
/// The delivery-report fields alone (dsnNotify, dsnRet, dsnEnvelopeId, dsnOptional) as the message's
/// request (RFC 3461), for a front end that makes its Message another way (the CLI); the first
/// problem otherwise, named by field ("dsnNotify", "dsnRet", "dsnEnvid").
SMTPC_CORE_EXPORT std::optional<DsnRequest> toDsnRequest(const MessageForm& form, Problem* problem);

// ---------------------------------------------------------------------------------------------
// OAuth 2 sign-in (smtpc/oauth.h) from the form: "Sign in…" sits beside the login method
// whenever the method can use a token (credentialFields().token).

/// Which sign-in fields a provider ("microsoft", "google", "custom") uses.
struct SignInFields {
  bool issuer = false;  ///< custom: the issuer URL, for its metadata (RFC 8414)
  bool tenant = false;  ///< Microsoft: common, organizations, consumers, an ID or a domain
};
/// The sign-in fields `provider` ("microsoft", "google", "custom") uses.
SMTPC_CORE_EXPORT SignInFields signInFields(std::string_view provider);

/// The sign-in fields as the person gave them.
struct SignInForm {
  std::string provider;      ///< "microsoft", "google", "custom"
  std::string clientId;      ///< the application's client ID
  std::string issuer;        ///< custom: the issuer URL
  std::string tenant;        ///< Microsoft: the tenant
  std::string user;          ///< the user name field: the mailbox signing in
  std::string clientSecret;  ///< only where the provider demands one
};
/// The form's sign-in fields as the flow's settings; the first problem otherwise (with the field).
SMTPC_CORE_EXPORT std::optional<oauth::Settings> toSignInSettings(const SignInForm& form, oauth::FlowKind flow,
                                                                  Problem* problem);

// ---------------------------------------------------------------------------------------------
// The fields themselves: one row each. The page builds its form state, what it remembers and
// what a link may propose from this table; the desktop app fills its lists from the choices.

/// What kind of input a field is.
enum class FieldKind {
  Text,    ///< a line of text
  Number,  ///< a whole number (the port, the timeout)
  Choice,  ///< one of choices()
  Check,   ///< on or off ("1" or "")
  Secret,  ///< a password or token: never remembered, never in a link
  Pem      ///< PEM text, usually read from a file
};

/// One field of the form.
struct Field {
  std::string_view id;       ///< widget objectName, DOM id and data-testid
  std::string_view label;    ///< as the page labels it
  FieldKind kind;            ///< what input it is
  bool remembered;           ///< kept between visits (never a secret, a CA or an "insecure" switch)
  std::string_view linkKey;  ///< the address-bar name a link may propose it under; empty: never
};
/// Every field, in the form's order.
SMTPC_CORE_EXPORT const std::vector<Field>& fields();
/// The field with this id, or null.
SMTPC_CORE_EXPORT const Field* findField(std::string_view id);

/// The entries of a Choice field ("security", "auth", "stopAfter"): the value sent back, the text shown.
struct Choice {
  std::string value;  ///< what the field holds when chosen
  std::string text;   ///< what the person reads
};
/// The entries of the Choice field `fieldId`, in the order shown; empty for another field.
SMTPC_CORE_EXPORT std::vector<Choice> choices(std::string_view fieldId);

/// The form as the page holds it: field id -> value as text ("1" or "" for a check box).
using Values = std::map<std::string, std::string, std::less<>>;

// ---------------------------------------------------------------------------------------------
// Remembered passwords belong to one account: the server, port and user they were saved for
// (and on the page, the relay too). Given back only for exactly that account.

/// The account a remembered password belongs to.
struct SMTPC_CORE_EXPORT Account {
  std::string relay;       ///< the page's relay; empty in the desktop app
  std::string server;      ///< as typed
  std::uint16_t port = 0;  ///< the port field (0: empty or not a port)
  std::string user;        ///< the user name
  /// "smtp://USER@SERVER:PORT" (user percent-encoded, server lower-cased), " via RELAY" on the
  /// page: the keychain's entry name, and what two accounts are compared by.
  std::string key() const;
};
/// The account the form's values name.
SMTPC_CORE_EXPORT Account accountOf(const Values& values);

/// What to do with the password field when the account may have changed. Fill: the field is
/// empty and a password was saved for exactly this account. Clear: the field still holds, unedited,
/// a password filled in for another account (it would otherwise go to this one). Keep otherwise.
enum class PasswordField {
  Keep,  ///< leave the field as it is
  Fill,  ///< fill in the password saved for this account
  Clear  ///< empty the field
};
/// The rule above: `savedFor` is the account the saved password belongs to (none: nothing saved),
/// `now` the account the form names, `fieldEmpty` and `fieldHoldsFilled` the password field's state.
SMTPC_CORE_EXPORT PasswordField rememberedPassword(const std::optional<Account>& savedFor, const Account& now,
                                                   bool fieldEmpty, bool fieldHoldsFilled);

// ---------------------------------------------------------------------------------------------
// A link's proposals. The address bar is input, never trust (DESIGN.md, "Trust rules for the
// page"): each setting a link names becomes a change listed "old -> new", applied only when the
// person says so, or a refusal said in words.

/// A CA named by a link (?ca=): fetched by the page from its own site only. `pem` is empty when
/// the address is not of the page's own site (or could not be read): it is then refused.
struct LinkCa {
  std::string named;  ///< as in the link
  std::string path;   ///< the path on the page's site it resolved to
  std::string pem;    ///< the certificates fetched; empty: refused
};

/// One setting a link would change, as the person is shown it.
struct LinkChange {
  std::string field;  ///< the field's id
  std::string label;  ///< the field's label
  std::string from;   ///< as shown now
  std::string to;     ///< as it would be shown
  std::string value;  ///< what the field becomes ("1"/"" for a check box)
};

/// What a link proposes: the changes to confirm, and what is refused.
struct LinkReview {
  std::vector<LinkChange> changes;   ///< to confirm, one by one or together
  std::vector<std::string> refused;  ///< one sentence each
  bool customServer = false;         ///< the server changes: the preset is no longer the one chosen
  bool portChosen = false;           ///< the port changes: it no longer follows the security mode
};

/// Reads a link's query (`query`, decoded name and value pairs) against the form as it is
/// (`current`); `ca` is what the page fetched for ?ca=. Nothing is applied: the front end applies
/// the changes the person confirms.
SMTPC_CORE_EXPORT LinkReview reviewLink(const std::vector<std::pair<std::string, std::string>>& query,
                                        const Values& current, const LinkCa& ca);

}  // namespace smtpc::form
