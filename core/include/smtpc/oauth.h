/// \file
/// smtpc::oauth — OAuth 2 sign-in as a sans-I/O flow (DESIGN.md "Beyond SMTP", issue 14).
///
/// Implements:
/// ```
///   RFC 6749  OAuth 2.0: authorization code grant (§4.1), refresh (§6), token response (§5.1),
///             error response (§5.2), form encoding (Appendix B)
///   RFC 7636  PKCE, S256 only (plain would send the verifier itself through the browser)
///   RFC 8252  OAuth for native apps: the system browser and a loopback redirect
///             http://127.0.0.1:PORT/ (§7.3), the port chosen by the adapter at run time
///   RFC 8628  device authorization grant: a user code typed in on another device, then polling
///   RFC 8414  authorization server metadata, falling back to OpenID Connect Discovery 1.0 §4
///   RFC 6750  Bearer tokens: the only token type SMTP's XOAUTH2 and OAUTHBEARER can carry
/// ```
///
/// The flow never opens a socket, a browser, a port or a clock, and never parses JSON. It hands out
/// *requests as data* and takes the answers back:
///
/// ```
///   Flow flow(settings, randomBytes);       // randomBytes: kRandomBytes from the OS's CSPRNG
///   flow.start(now);
///   loop:
///     while (auto out = flow.poll()) carry out *out, in order:
///       HttpRequest        send it (HTTPS); answer with onHttpResponse(now, r) or onHttpFailed(now, why)
///       ListenForRedirect  listen on 127.0.0.1, any free port; answer onListening(now, port) or
///                          onListenFailed(now, why). Hand every HTTP request that arrives there to
///                          onRedirect(now, target) until StopListening.
///       OpenBrowser        open the URL in the system browser (no answer; show it too, in case)
///       BrowserPage        the page to answer the browser's request with (escape the text!)
///       StopListening      close the loopback port
///       ShowUserCode       show the code and the address to the person (no answer)
///       Wait               call onTimeout(now) once `until` has come (nextDeadline() says the same)
///       StepEvent          one step of the sign-in, explained in one line: show it in the transcript
///       Finished           the end: a Token, or a Problem said in plain words
///   cancel(now) stops the flow at any time.
/// ```
///
/// JSON is parsed by the adapter (QJsonDocument, the page's JSON.parse) into HttpResponse::fields,
/// so core reasons about plain strings. (The one JSON core reads itself arrives inside the SMTP
/// conversation: a refused token's 334 challenge, read by sasl::readFlatJsonObject, a strict reader
/// of flat objects only: the engine has no adapter in that loop.)
///
/// Secrets (tokens, the code, the PKCE verifier, the device code, the client secret) live in
/// smtpc::Secret and in HttpRequest::body and HttpRequest::authorization, which are Secrets too. No text the flow
/// produces for people (StepEvent, Problem, HttpRequest::description, Wait::reason, BrowserPage)
/// ever contains one; tst_oauth checks that on every path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/secret.h"
#include "smtpc/transcript.h"

/// OAuth 2 sign-in (authorization code with PKCE, device grant, refresh) as a sans-I/O flow (Flow).
namespace smtpc::oauth {

// ---------------------------------------------------------------------------------------------
// Building blocks, public so that tests (and learners) can check them against the RFCs.

/// application/x-www-form-urlencoded (RFC 6749 Appendix B): letters, digits and - . _ ~ stay,
/// a space becomes '+', every other octet %XX (upper-case hex). Used for request bodies and for
/// the query of the authorization URL. Appendix B's example: " %&+£€" → "+%25%26%2B%C2%A3%E2%82%AC".
SMTPC_CORE_EXPORT std::string formEncode(std::string_view value);
/// Form fields as name and value pairs, in order.
using FormFields = std::vector<std::pair<std::string, std::string>>;
/// "name=value&name=value", in the order given.
SMTPC_CORE_EXPORT std::string formEncode(const FormFields& fields);
/// The reverse, for a redirect's query: '+' is a space, %XX an octet. nullopt when a '%' is not
/// followed by two hex digits.
SMTPC_CORE_EXPORT std::optional<FormFields> formDecode(std::string_view text);

/// Base64url without padding (RFC 4648 §5, as RFC 7636 Appendix A uses it).
SMTPC_CORE_EXPORT std::string base64url(std::string_view bytes);

/// PKCE (RFC 7636 §4.1, §4.2). The verifier is base64url of 32 random octets: 43 characters from
/// the unreserved set [A-Z a-z 0-9 - . _ ~]. The S256 challenge is BASE64URL(SHA256(verifier)).
/// Appendix B: verifier "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
/// ```
///          → challenge "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".
/// ```
inline constexpr std::size_t kVerifierBytes = 32;
SMTPC_CORE_EXPORT std::string pkceVerifier(std::string_view randomBytes);  ///< uses the first kVerifierBytes
/// The S256 challenge of `verifier`.
SMTPC_CORE_EXPORT std::string pkceChallenge(std::string_view verifier);

/// RFC 8414 §3.1: "/.well-known/oauth-authorization-server" goes between the issuer's host and its
/// path ("https://a.example/tenant" → "https://a.example/.well-known/oauth-authorization-server/tenant"),
/// after a terminating "/" is removed.
SMTPC_CORE_EXPORT std::string authorizationServerMetadataUrl(std::string_view issuer);
/// OpenID Connect Discovery 1.0 §4: "/.well-known/openid-configuration" is appended to the issuer.
SMTPC_CORE_EXPORT std::string openIdConfigurationUrl(std::string_view issuer);

/// An absolute https:// URL with a host and no fragment, and nothing a URL may not hold (spaces,
/// control characters). Codes and tokens travel only to such addresses.
SMTPC_CORE_EXPORT bool isHttpsUrl(std::string_view url);

/// Where a refresh token is kept (the OS keychain): one per issuer, client ID and user. The
/// issuer and the client ID never contain spaces (checkSettings refuses them), so the key is
/// "ISSUER CLIENT_ID USER" and reads back unambiguously.
SMTPC_CORE_EXPORT std::string refreshTokenKey(std::string_view issuer, std::string_view clientId,
                                              std::string_view user);

// ---------------------------------------------------------------------------------------------
/// Providers: one row each. Columns:
/// ```
///   kind        the ProviderKind
///   name        as the CLI takes it (--oauth microsoft)
///   label       as a person reads it
///   issuer      who issues the tokens: the first part of the refresh token's key. "{tenant}" is
///               replaced by the tenant. Custom: the issuer URL the person gives.
///   authorize   the authorization endpoint (browser flow)
///   token       the token endpoint
///   device      the device authorization endpoint; empty: no device flow (see `noDevice`)
///   scope       what SMTP needs: Microsoft's SMTP.Send (+ offline_access, for a refresh token),
///               Google's full mail scope (the only one that covers SMTP)
///   extra       extra authorization parameters: Google gives a refresh token only to offline access
///   noDevice    why the device flow is refused, in a learner's words
/// ```
/// Custom has no endpoints: they come from the issuer's metadata (RFC 8414).
#define SMTPC_OAUTH_PROVIDERS(X)                                                                              \
  X(Microsoft, "microsoft", "Microsoft 365 / Outlook.com",                                                    \
    "https://login.microsoftonline.com/{tenant}/v2.0",                                                        \
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",                                       \
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",                                           \
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",                                      \
    "https://outlook.office.com/SMTP.Send offline_access", "", "")                                            \
  X(Google, "google", "Google (Gmail)", "https://accounts.google.com",                                        \
    "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token", "",                \
    "https://mail.google.com/", "access_type=offline",                                                        \
    "Google does not allow the device flow for the mail scope (https://mail.google.com/) that SMTP needs: "  \
    "choose the browser flow.")                                                                               \
  X(Custom, "custom", "Another provider (by issuer URL)", "", "", "", "", "", "", "")

/// Which provider signs the person in: one value per row of #SMTPC_OAUTH_PROVIDERS.
enum class ProviderKind {
#define SMTPC_X(kind, name, label, issuer, authorize, token, device, scope, extra, noDevice) kind,
  SMTPC_OAUTH_PROVIDERS(SMTPC_X)
#undef SMTPC_X
};

/// A row of #SMTPC_OAUTH_PROVIDERS (see the columns there).
struct Provider {
  ProviderKind kind;                              ///< the row
  std::string_view name;                          ///< as the CLI takes it
  std::string_view label;                         ///< as a person reads it
  std::string_view issuer;                        ///< "{tenant}" stands for the tenant
  std::string_view authorizationEndpoint;         ///< the browser flow's
  std::string_view tokenEndpoint;                 ///< where codes and refresh tokens become tokens
  std::string_view deviceAuthorizationEndpoint;   ///< empty: no device flow
  std::string_view defaultScope;                  ///< what SMTP needs
  std::string_view extraAuthorizationParameters;  ///< already form-encoded, "" or "a=b&c=d"
  std::string_view noDeviceFlowReason;            ///< why the device flow is refused, when it is
};
/// The row of `kind`.
SMTPC_CORE_EXPORT const Provider& provider(ProviderKind kind);
/// "microsoft", "google", "custom"
SMTPC_CORE_EXPORT std::optional<ProviderKind> providerFromName(std::string_view name);

/// Which grant signs the person in when there is no (valid) refresh token.
enum class FlowKind {
  Browser,  ///< authorization code + PKCE, the system browser, a loopback redirect (RFC 8252)
  Device,   ///< device authorization grant: a code typed in on another device (RFC 8628)
};
SMTPC_CORE_EXPORT std::string_view flowKindName(FlowKind kind);  ///< "browser", "device"
/// The flow named as flowKindName() names it, or nullopt.
SMTPC_CORE_EXPORT std::optional<FlowKind> flowKindFromName(std::string_view name);

/// What the person chose (the CLI's --oauth options, the GUI's sign-in fields).
struct Settings {
  ProviderKind provider = ProviderKind::Custom;  ///< who signs the person in
  std::string tenant = "common";                 ///< Microsoft: common, organizations, consumers, a tenant ID or domain
  std::string issuer;                            ///< Custom: the issuer URL (https, no query, no fragment)
  std::string clientId;                          ///< from the application's registration with the provider
  Secret clientSecret;                           ///< only where the provider demands one for installed apps (Google)
  std::string scope;                             ///< empty: the provider's scope (Custom: none is sent)
  FlowKind flow = FlowKind::Browser;             ///< the grant when there is no refresh token
  std::string user;                              ///< the mailbox: a login hint, and the last part of the key
  Secret refreshToken;                           ///< from the keychain: tried first, without asking the person
  bool signInIfRefreshFails = true;              ///< a refused refresh token goes on to `flow`
  /// The browser flow's redirect URI when it is fixed: the web page, which is its own redirect URI
  /// (its exact address, registered with the provider). https, or http on a loopback host. Empty:
  /// a loopback port the adapter opens (RFC 8252 §7.3), as the desktop app and the CLI do. With a
  /// fixed URI there is no ListenForRedirect: the adapter hands the flow the address it was sent
  /// back to (its path and query, or the whole URL) with onRedirect.
  std::string redirectUri;
};

// ---------------------------------------------------------------------------------------------
/// Problems: what went wrong, in plain words. One row each. Columns:
/// ```
///   kind      the ProblemKind
///   fault     whose fault (smtpc::Fault): our settings or call (Local), the provider (Remote), the
///             network between us (Network)
///   headline  a few words for the result line
///   text      the default explanation; the flow often gives a more specific one
/// ```
#define SMTPC_OAUTH_PROBLEMS(X)                                                                               \
  X(InvalidSettings, Local, "Sign-in settings incomplete",                                                    \
    "A sign-in setting is missing or not valid; the message names it.")                                       \
  X(DeviceFlowNotAllowed, Local, "Device sign-in not available",                                              \
    "This provider does not allow the device flow here: choose the browser flow.")                            \
  X(NotEnoughRandomness, Local, "Not enough random bytes",                                                    \
    "The flow needs random bytes from the system for the PKCE verifier and the state.")                       \
  X(HttpFailed, Network, "The provider could not be reached",                                                 \
    "The HTTPS request did not get an answer; check the network, the address and the certificate.")          \
  X(UnexpectedAnswer, Remote, "Unexpected answer from the provider",                                          \
    "The provider answered with something that is not the JSON document OAuth expects here.")                \
  X(MetadataNotFound, Remote, "No sign-in metadata for this issuer",                                          \
    "Neither the OAuth metadata (RFC 8414) nor the OpenID configuration could be read; check the issuer URL.") \
  X(IssuerMismatch, Remote, "The metadata belongs to another issuer",                                         \
    "The metadata's \"issuer\" is not the issuer URL given (RFC 8414 §3.3): it may be an impostor's.")        \
  X(EndpointMissing, Remote, "The provider's metadata lacks an endpoint",                                     \
    "The metadata does not name an endpoint this sign-in needs.")                                             \
  X(EndpointNotHttps, Remote, "An endpoint is not HTTPS",                                                     \
    "Codes and tokens travel only over HTTPS; the provider named an address that is not https://.")          \
  X(PkceNotSupported, Remote, "The provider does not offer PKCE S256",                                        \
    "The metadata lists the PKCE methods it supports (RFC 7636) and S256 is not among them.")                 \
  X(ListenFailed, Local, "No port for the browser's answer",                                                  \
    "SMTPc could not listen on 127.0.0.1 for the browser's redirect.")                                        \
  X(StateMismatch, Remote, "The browser's answer does not belong to this sign-in",                            \
    "The redirect's state is not the one SMTPc sent, so its code was not used (RFC 6749 §10.12): "           \
    "another page may have sent it. Sign in again.")                                                          \
  X(ConsentRefused, Remote, "Consent refused",                                                                \
    "The sign-in was refused: consent was declined in the browser, or an administrator does not allow "      \
    "this application.")                                                                                      \
  X(AuthorizationFailed, Remote, "The provider refused the sign-in",                                          \
    "The provider sent the browser back with an error instead of a code.")                                   \
  X(TokenRefused, Remote, "The provider refused to issue a token",                                            \
    "The token endpoint answered with an error (RFC 6749 §5.2).")                                             \
  X(NotBearer, Remote, "Not a Bearer token",                                                                  \
    "SMTP's XOAUTH2 and OAUTHBEARER carry Bearer tokens only (RFC 6750); the provider issued another type.")   \
  X(RefreshTokenRejected, Remote, "The refresh token is no longer valid",                                     \
    "The stored refresh token was refused (expired, revoked, or the password changed): sign in again.")      \
  X(BrowserTimedOut, Local, "The browser did not come back",                                                  \
    "The sign-in in the browser was not finished within 10 minutes, so SMTPc stopped waiting. Start again, "  \
    "or try the device flow.")                                                                                \
  X(DeviceCodeExpired, Remote, "The code expired",                                                            \
    "The sign-in on the other device was not finished in time; start again for a new code.")                  \
  X(Cancelled, Local, "Sign-in cancelled", "The sign-in was cancelled.")                                      \
  X(InvalidState, Local, "Wrong call for the flow's state",                                                   \
    "The adapter gave the flow an answer it was not waiting for; the message names the state.")

/// What went wrong in a sign-in: one value per row of #SMTPC_OAUTH_PROBLEMS, whose text column
/// explains it (problemExplanation()).
enum class ProblemKind {
#define SMTPC_X(kind, fault, headline, text) kind,
  SMTPC_OAUTH_PROBLEMS(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view problemKindName(ProblemKind kind);  ///< "StateMismatch"
/// Whose fault a problem of this kind is (the row's fault column).
SMTPC_CORE_EXPORT Fault faultOf(ProblemKind kind);
SMTPC_CORE_EXPORT std::string_view problemHeadline(ProblemKind kind);     ///< the row's headline
SMTPC_CORE_EXPORT std::string_view problemExplanation(ProblemKind kind);  ///< the row's default explanation

/// Why a sign-in did not produce a token, in plain words.
struct Problem {
  ProblemKind kind = ProblemKind::InvalidSettings;  ///< what went wrong
  std::string field;                                ///< for settings: the widget's objectName / the page's data-testid
  std::string headline;                             ///< "Consent refused"
  std::string explanation;                          ///< what happened and what to do
  /// What the provider said, when it said something: its error code ("invalid_grant") and its
  /// error_description. Untrusted text from the network: show it as text, never as markup.
  std::string serverError;
  std::string serverSaid;  ///< the provider's error_description
};

/// The settings' first problem, if any (the same check start() makes).
SMTPC_CORE_EXPORT std::optional<Problem> checkSettings(const Settings& settings);
/// Where a provider signs people in.
struct Endpoints {
  std::string authorization;  ///< the browser flow's authorization endpoint (RFC 6749 §3.1)
  std::string token;          ///< the token endpoint (§3.2)
  std::string device;         ///< the device authorization endpoint (RFC 8628 §3.1); may be empty
  /// Send the client secret as HTTP Basic (RFC 6749 §2.3.1) rather than in the form: what a custom
  /// provider's metadata asks for when it does not list client_secret_post (RFC 8414 §2).
  bool basicAuthentication = false;
};
/// The endpoints of Microsoft and Google from the table (the tenant filled in); Custom: empty,
/// they come from the issuer's metadata.
SMTPC_CORE_EXPORT Endpoints knownEndpoints(const Settings& settings);

/// The issuer these settings sign in with: the provider's (its tenant filled in) or the custom one.
SMTPC_CORE_EXPORT std::string issuerOf(const Settings& settings);
/// refreshTokenKey(issuerOf(settings), client ID, user): what --oauth-forget removes, no flow needed.
SMTPC_CORE_EXPORT std::string refreshTokenKey(const Settings& settings);

/// One line for a learner on an OAuth error code (RFC 6749 §4.1.2.1 and §5.2, RFC 8628 §3.5);
/// empty for a code not in the RFCs.
SMTPC_CORE_EXPORT std::string_view explainErrorCode(std::string_view error);

// ---------------------------------------------------------------------------------------------
/// The steps of a sign-in as a learner sees them. X-macro: step, label, what the step is for.
#define SMTPC_OAUTH_STEPS(X)                                                                                  \
  X(Discover, "Discovery",                                                                                   \
    "Ask the provider where its sign-in endpoints are (RFC 8414 metadata, else the OpenID configuration).")   \
  X(Refresh, "Refresh", "Trade the stored refresh token for a new access token, without asking the person.")  \
  X(Listen, "Listen", "Open a port on 127.0.0.1 where the browser will bring the answer back (RFC 8252).")     \
  X(Browser, "Browser",                                                                                      \
    "The person signs in and consents in their own browser: SMTPc never sees the password.")                  \
  X(Redirect, "Redirect",                                                                                    \
    "The browser comes back to 127.0.0.1 with a one-time code and the state SMTPc sent.")                     \
  X(Exchange, "Exchange",                                                                                    \
    "Trade the one-time code and the PKCE verifier for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5).")             \
  X(DeviceCode, "Device code", "Ask for a code the person types in on another device (RFC 8628 §3.1).")       \
  X(Poll, "Poll", "Ask the token endpoint, no faster than it allows, whether the person has finished.")      \
  X(Token, "Token", "Check the token: a Bearer access token, its lifetime, perhaps a new refresh token.")

/// A step of a sign-in: one value per row of #SMTPC_OAUTH_STEPS.
enum class SignInStep {
#define SMTPC_X(name, label, purpose) name,
  SMTPC_OAUTH_STEPS(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view signInStepName(SignInStep step);     ///< "DeviceCode"
SMTPC_CORE_EXPORT std::string_view signInStepLabel(SignInStep step);    ///< "Device code"
SMTPC_CORE_EXPORT std::string_view signInStepPurpose(SignInStep step);  ///< one sentence

// ---------------------------------------------------------------------------------------------
// Outputs: requests for the adapter, and events for whoever watches.

/// An HTTPS request. The adapter sends exactly this and does not follow redirects.
struct HttpRequest {
  std::string method;                                        ///< "GET" or "POST"
  std::string url;                                           ///< never holds a secret (GET requests are metadata only)
  std::vector<std::pair<std::string, std::string>> headers;  ///< Accept, Content-Type
  /// Client authentication by HTTP Basic (RFC 6749 §2.3.1), sent as the Authorization header when
  /// not empty: "Basic base64(urlencode(id):urlencode(secret))".
  Secret authorization;
  /// application/x-www-form-urlencoded (POST). A Secret: it carries codes, verifiers and tokens.
  Secret body;
  /// One line safe to show: "POST https://…/token (grant_type=authorization_code, code, …)" —
  /// the form's field names, and the values of the fields that are not secret.
  std::string description;
};

/// What the adapter got back. JSON is parsed by the adapter; core reads only these strings.
struct HttpResponse {
  int status = 0;           ///< 200, 400, 404, …
  std::string contentType;  ///< as sent (only quoted in explanations)
  /// The body was a JSON object: `fields` holds its top-level members, each as text:
  /// ```
  ///   string  → the string itself
  ///   number  → its decimal text as the adapter renders it ("3600"; a whole number, no ".0")
  ///   true / false → "true" / "false"
  ///   array   → its string elements joined by single spaces (["S256","plain"] → "S256 plain")
  ///   null, object → left out
  /// ```
  bool json = false;
  std::map<std::string, std::string> fields;  ///< see `json`
};

/// Listen on the IPv4 loopback address (RFC 8252 §7.3: not "localhost", which a resolver or a
/// firewall may send elsewhere), on any free port; then tell the flow which (onListening).
struct ListenForRedirect {
  std::string address = "127.0.0.1";  ///< where to listen
};
/// Request: open the system browser at `url` (no answer; show the address too, in case).
struct OpenBrowser {
  std::string url;  ///< the authorization request: safe to show (it carries the challenge, not the verifier)
};
/// The answer to the browser's request on the loopback port: an HTML page with this headline and
/// text, escaped (the text may quote the provider).
struct BrowserPage {
  int status = 200;      ///< the HTTP status to answer with
  std::string headline;  ///< the page's heading
  std::string text;      ///< a paragraph under it
};
struct StopListening {};
/// RFC 8628 §3.3: the person opens `verificationUri` anywhere and types in `userCode`.
struct ShowUserCode {
  std::string userCode;                 ///< what the person types in
  std::string verificationUri;          ///< where
  std::string verificationUriComplete;  ///< optional: the address with the code in it (for a QR code)
  Time expiresAt{0};                    ///< when the code stops working, on the driver's clock
};
/// Nothing to do before `until`; then call onTimeout(now).
struct Wait {
  Time until{0};       ///< when to call onTimeout()
  std::string reason;  ///< "polling again in 5 s"
};

/// One step of the sign-in, explained for a learner in one line.
struct StepEvent {
  SignInStep step = SignInStep::Discover;  ///< which step
  Time at{0};  ///< when, on the driver's clock
  std::string text;  ///< "the provider will redirect your browser to 127.0.0.1:PORT with a one-time code"
};

/// What a sign-in produces.
struct Token {
  Secret accessToken;             ///< for XOAUTH2 / OAUTHBEARER (Credentials::oauthToken)
  std::string tokenType;          ///< "Bearer", as the provider spelled it
  std::optional<Time> expiresAt;  ///< on the driver's clock; nullopt: the provider did not say
  std::string scope;              ///< granted: the response's scope, else the scope requested (§5.1)
  /// The refresh token to keep: the provider's new one, else the one the flow started from (a
  /// response without refresh_token leaves the old one valid, RFC 6749 §6). May be empty.
  Secret refreshToken;
  bool refreshTokenChanged = false;  ///< store `refreshToken` under `storageKey`
  std::string issuer;                ///< who issued it
  std::string storageKey;            ///< refreshTokenKey(issuer, client ID, user)
};

/// The end of a sign-in: a Token or a Problem.
struct Finished {
  std::optional<Token> token;      ///< set when signed in
  std::optional<Problem> problem;  ///< set when not
  /// The refresh token the flow started from was refused (invalid_grant): forget it, whether or
  /// not the sign-in that followed worked.
  bool refreshTokenRejected = false;
  /// Signed in: `token` is set.
  bool ok() const { return token.has_value(); }
};

/// What Flow::poll() hands out: a request for the adapter, or an event to show.
using Output = std::variant<HttpRequest, ListenForRedirect, OpenBrowser, BrowserPage, StopListening, ShowUserCode,
                            Wait, StepEvent, Finished>;

// ---------------------------------------------------------------------------------------------
/// The flow's states: what it waits for. X-macro: state, what a person reads.
#define SMTPC_OAUTH_STATES(X)                                                  \
  X(Idle, "not started")                                                       \
  X(Metadata, "reading the provider's metadata (RFC 8414)")                    \
  X(OpenIdConfiguration, "reading the provider's OpenID configuration")       \
  X(Refreshing, "trading the refresh token for an access token")               \
  X(Listening, "waiting for a loopback port")                                  \
  X(Authorizing, "waiting for the browser to come back")                       \
  X(ExchangingCode, "exchanging the code for a token")                         \
  X(RequestingDeviceCode, "asking for a device code")                          \
  X(WaitingToPoll, "waiting before asking again")                              \
  X(Polling, "asking whether the person has finished")                         \
  X(Done, "finished")

/// What the flow waits for: one value per row of #SMTPC_OAUTH_STATES.
enum class FlowState {
#define SMTPC_X(name, text) name,
  SMTPC_OAUTH_STATES(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view flowStateName(FlowState state);         ///< "Authorizing"
SMTPC_CORE_EXPORT std::string_view flowStateDescription(FlowState state);  ///< "waiting for the browser to come back"

/// An OAuth 2 sign-in, sans I/O: hands out requests as data (poll()) and takes the answers back.
/// See the file's description for the loop an adapter runs; smtpc::qt::OAuthSignIn is one.
class SMTPC_CORE_EXPORT Flow {
 public:
  /// The flow takes kRandomBytes from the OS's CSPRNG (the adapter's job): the first 32 make the
  /// PKCE verifier, the next 32 the state. Fewer: start() finishes with NotEnoughRandomness.
  static constexpr std::size_t kRandomBytes = 64;
  /// RFC 8628 §3.2: the polling interval when the device response names none.
  static constexpr Duration kDefaultPollInterval = std::chrono::seconds(5);
  /// What each slow_down answer adds to the interval (RFC 8628 §3.5).
  static constexpr Duration kSlowDownStep = std::chrono::seconds(5);
  /// How long the browser flow waits for the browser to come back (nextDeadline() says when).
  static constexpr Duration kBrowserTimeout = std::chrono::minutes(10);

  /// A sign-in with `settings`; `randomBytes` (kRandomBytes of them) from the OS's CSPRNG.
  Flow(Settings settings, std::string_view randomBytes);
  ~Flow();
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  // --- commands

  /// Begins: the first output is a request (metadata for a custom provider, else a refresh or the
  /// sign-in itself). Settings that cannot work end the flow at once (Finished with a Problem).
  void start(Time now);
  /// Stops: Finished with the problem Cancelled, unless it is over already.
  void cancel(Time now);

  // --- answers from the adapter

  /// The answer to the last HttpRequest.
  void onHttpResponse(Time now, const HttpResponse& response);
  void onHttpFailed(Time now, std::string_view reason);  ///< no answer: DNS, TLS, connection
  /// The loopback port is open, on `port`.
  void onListening(Time now, std::uint16_t port);
  /// No port could be opened: the flow ends with ListenFailed.
  void onListenFailed(Time now, std::string_view reason);
  /// A request that reached the loopback port: its request target ("/?code=…&state=…").
  void onRedirect(Time now, std::string_view target);
  /// The time nextDeadline() named has come (earlier calls do nothing).
  void onTimeout(Time now);

  // --- outputs

  /// The next request or event, or nullopt when there is nothing more. Drain it after every call.
  std::optional<Output> poll();
  /// When to call onTimeout(): the next poll, or the browser's deadline; nullopt: no timer.
  std::optional<Time> nextDeadline() const { return deadline_; }

  // --- what it knows

  /// What it waits for now.
  FlowState state() const { return state_; }
  /// The flow is over: result() is set.
  bool finished() const { return state_ == FlowState::Done; }
  /// The outcome, once finished.
  const std::optional<Finished>& result() const { return result_; }
  const std::vector<StepEvent>& steps() const { return steps_; }  ///< every step so far
  /// The issuer these settings sign in with (issuerOf()).
  std::string issuer() const;

 private:
  // A field of a form body; a secret one shows as ******** in the request's description.
  struct FormField {
    std::string_view name;
    std::string_view value;
    bool secret = false;
  };

  // The only way to change state.
  void setState(FlowState next);
  void queue(Output output);
  void step(SignInStep which, std::string text);
  void fail(Problem problem);
  void fail(ProblemKind kind, std::string explanation = {});
  // False (and the flow ends with InvalidState, unless it is over) when not in `wanted`.
  bool expecting(FlowState wanted, std::string_view input);

  // perform<Step> asks for something and sets the state; on<Step>Response handles its answer.
  void performMetadata(bool openId);
  void onMetadataResponse(const HttpResponse& response);
  void afterEndpoints();
  void performRefresh();
  void onRefreshResponse(const HttpResponse& response);
  void performInteractive();
  void performListen();
  void performAuthorization(std::uint16_t port);
  void performAuthorizationAt(std::string redirectUri);
  void performCodeExchange(std::string code);
  void onCodeExchangeResponse(const HttpResponse& response);
  void performDeviceAuthorization();
  void onDeviceAuthorizationResponse(const HttpResponse& response);
  void schedulePoll(std::string why);
  void performPoll();
  void onPollResponse(const HttpResponse& response);
  // A token response (§5.1) that came with status 200: the token, or a problem.
  void acceptToken(const HttpResponse& response);
  // Any other answer from a token endpoint: its §5.2 error explained, or "unexpected".
  void tokenError(const HttpResponse& response, std::string_view context);

  // A form POST with the client's authentication added (a client_secret field, or HTTP Basic).
  HttpRequest post(const std::string& url, const std::vector<FormField>& fields) const;
  void send(HttpRequest request);
  std::string scope() const;

  Settings settings_;
  Secret verifier_;
  std::string stateParameter_;  // RFC 6749 §10.12: binds the redirect to this sign-in
  std::optional<Problem> startProblem_;
  FlowState state_ = FlowState::Idle;
  Time now_{0};
  Time requestedAt_{0};  // when the request being answered was handed out
  std::optional<Time> deadline_;
  std::deque<Output> outputs_;
  std::vector<StepEvent> steps_;
  std::optional<Finished> result_;
  Endpoints endpoints_;
  bool listening_ = false;
  bool refreshRejected_ = false;
  std::string redirectUri_;
  Secret deviceCode_;
  Duration pollInterval_ = kDefaultPollInterval;
  bool pendingSeen_ = false;  // authorization_pending is explained once, not every 5 s
  Time deviceDeadline_{0};
};

}  // namespace smtpc::oauth
