// OAuth's tables (providers, problems, steps, states, the RFCs' error codes) and the check of the
// settings a person gives. The rows live in oauth.h; the lookups below come from the same lists.
#include "smtpc/oauth.h"
#include "text.h"

namespace smtpc::oauth {

namespace {

constexpr Provider kProviders[] = {
#define SMTPC_X(kind, name, label, issuer, authorize, token, device, scope, extra, noDevice) \
  {ProviderKind::kind, name, label, issuer, authorize, token, device, scope, extra, noDevice},
    SMTPC_OAUTH_PROVIDERS(SMTPC_X)
#undef SMTPC_X
};

struct ProblemEntry {
  std::string_view name;
  Fault fault;
  std::string_view headline;
  std::string_view text;
};
constexpr ProblemEntry kProblems[] = {
#define SMTPC_X(kind, fault, headline, text) {#kind, Fault::fault, headline, text},
    SMTPC_OAUTH_PROBLEMS(SMTPC_X)
#undef SMTPC_X
};

struct StepEntry {
  std::string_view name, label, purpose;
};
constexpr StepEntry kSteps[] = {
#define SMTPC_X(name, label, purpose) {#name, label, purpose},
    SMTPC_OAUTH_STEPS(SMTPC_X)
#undef SMTPC_X
};

struct StateEntry {
  std::string_view name, description;
};
constexpr StateEntry kStates[] = {
#define SMTPC_X(name, text) {#name, text},
    SMTPC_OAUTH_STATES(SMTPC_X)
#undef SMTPC_X
};

// The error codes an authorization server may send, with what a person can do about each:
// RFC 6749 §4.1.2.1 (the redirect), §5.2 (the token endpoint), RFC 8628 §3.5 (device polling).
struct ErrorCodeEntry {
  std::string_view code, text;
};
constexpr ErrorCodeEntry kErrorCodes[] = {
    {"invalid_request", "The provider found the request malformed; this is a bug in SMTPc or the provider."},
    {"invalid_client",
     "The provider does not accept this client ID, or the client secret is missing or wrong: check them against "
     "the application's registration."},
    {"invalid_grant",
     "The code or refresh token is invalid, expired or revoked, or was issued for another client or redirect "
     "address: sign in again."},
    {"unauthorized_client",
     "This application may not use this kind of sign-in: allow it in the application's registration (for the "
     "device flow, allow public client flows)."},
    {"unsupported_grant_type", "The provider does not offer this kind of sign-in; try the other flow."},
    {"unsupported_response_type", "The provider does not hand out authorization codes to this application."},
    {"invalid_scope",
     "The provider refused the scope asked for: check the scope, and that the application may ask for it."},
    {"access_denied", "The sign-in was refused: consent was declined, or an administrator does not allow this application."},
    {"server_error", "The provider failed while handling the sign-in; try again later."},
    {"temporarily_unavailable", "The provider is busy or in maintenance; try again later."},
    {"authorization_pending", "The person has not finished signing in on the other device yet."},
    {"slow_down", "SMTPc asked too often; it waits 5 s longer between questions from now on."},
    {"expired_token", "The device code expired before the sign-in was finished; start again for a new code."},
};

constexpr std::string_view kTenantPlaceholder = "{tenant}";

std::string withTenant(std::string_view pattern, std::string_view tenant) {
  std::string out(pattern);
  const std::size_t at = out.find(kTenantPlaceholder);
  if (at != std::string::npos) out.replace(at, kTenantPlaceholder.size(), tenant);
  return out;
}

bool hasSpaceOrControl(std::string_view s) {
  for (const char c : s) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet <= ' ' || octet == 0x7f) return true;
  }
  return false;
}

bool hasControl(std::string_view s) {
  for (const char c : s) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet < ' ' || octet == 0x7f) return true;
  }
  return false;
}

Problem settingsProblem(std::string field, std::string headline, std::string explanation) {
  Problem problem;
  problem.kind = ProblemKind::InvalidSettings;
  problem.field = std::move(field);
  problem.headline = std::move(headline);
  problem.explanation = std::move(explanation);
  return problem;
}

}  // namespace

const Provider& provider(ProviderKind kind) { return kProviders[static_cast<int>(kind)]; }

std::optional<ProviderKind> providerFromName(std::string_view name) {
  for (const Provider& row : kProviders)
    if (text::equalsIgnoreCase(row.name, name)) return row.kind;
  return std::nullopt;
}

std::string_view flowKindName(FlowKind kind) { return kind == FlowKind::Browser ? "browser" : "device"; }

std::optional<FlowKind> flowKindFromName(std::string_view name) {
  if (text::equalsIgnoreCase(name, "browser")) return FlowKind::Browser;
  if (text::equalsIgnoreCase(name, "device")) return FlowKind::Device;
  return std::nullopt;
}

std::string_view problemKindName(ProblemKind kind) { return kProblems[static_cast<int>(kind)].name; }
Fault faultOf(ProblemKind kind) { return kProblems[static_cast<int>(kind)].fault; }
std::string_view problemHeadline(ProblemKind kind) { return kProblems[static_cast<int>(kind)].headline; }
std::string_view problemExplanation(ProblemKind kind) { return kProblems[static_cast<int>(kind)].text; }

std::string_view signInStepName(SignInStep step) { return kSteps[static_cast<int>(step)].name; }
std::string_view signInStepLabel(SignInStep step) { return kSteps[static_cast<int>(step)].label; }
std::string_view signInStepPurpose(SignInStep step) { return kSteps[static_cast<int>(step)].purpose; }

std::string_view flowStateName(FlowState state) { return kStates[static_cast<int>(state)].name; }
std::string_view flowStateDescription(FlowState state) { return kStates[static_cast<int>(state)].description; }

std::string_view explainErrorCode(std::string_view error) {
  for (const ErrorCodeEntry& row : kErrorCodes)
    if (row.code == error) return row.text;
  return {};
}

std::string issuerOf(const Settings& settings) {
  if (settings.provider == ProviderKind::Custom) return settings.issuer;
  return withTenant(provider(settings.provider).issuer, settings.tenant);
}

Endpoints knownEndpoints(const Settings& settings) {
  const Provider& row = provider(settings.provider);
  Endpoints endpoints;
  endpoints.authorization = withTenant(row.authorizationEndpoint, settings.tenant);
  endpoints.token = withTenant(row.tokenEndpoint, settings.tenant);
  endpoints.device = withTenant(row.deviceAuthorizationEndpoint, settings.tenant);
  return endpoints;
}

std::string refreshTokenKey(const Settings& settings) {
  return refreshTokenKey(issuerOf(settings), settings.clientId, settings.user);
}

std::optional<Problem> checkSettings(const Settings& settings) {
  const Provider& row = provider(settings.provider);
  if (settings.provider == ProviderKind::Custom) {
    if (settings.issuer.empty())
      return settingsProblem("oauthIssuer", "No issuer",
                             "Enter the provider's issuer URL, for example https://login.example.com; SMTPc reads "
                             "its sign-in addresses from there (RFC 8414).");
    if (!isHttpsUrl(settings.issuer) || settings.issuer.find('?') != std::string::npos)
      return settingsProblem("oauthIssuer", "The issuer is not an https:// URL",
                             "An issuer is an https:// URL without a query or a fragment (RFC 8414 §2), for "
                             "example https://login.example.com/tenant.");
  }
  if (settings.provider == ProviderKind::Microsoft) {
    bool valid = !settings.tenant.empty();
    for (const char c : settings.tenant)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
        valid = false;
    if (!valid)
      return settingsProblem("tenant", "The tenant is not valid",
                             "Enter common, organizations, consumers, your tenant's ID "
                             "(00000000-0000-0000-0000-000000000000) or its domain (contoso.onmicrosoft.com).");
  }
  if (!settings.redirectUri.empty()) {
    // RFC 8252 §7.3 and §8.3: http only to the loopback interface; anything else is https.
    const std::string_view uri = settings.redirectUri;
    bool loopbackHttp = false;
    for (std::string_view host : {"http://127.0.0.1", "http://localhost", "http://[::1]"})
      if (uri.substr(0, host.size()) == host && (uri.size() == host.size() || uri[host.size()] == ':' ||
                                                  uri[host.size()] == '/'))
        loopbackHttp = true;
    if ((!loopbackHttp && !isHttpsUrl(uri)) || uri.find('#') != std::string_view::npos || hasSpaceOrControl(uri))
      return settingsProblem("redirectUri", "The redirect URI is not valid",
                             "The page that receives the sign-in's answer must be served over https (or from "
                             "this computer, http://127.0.0.1), without a fragment.");
  }
  if (settings.clientId.empty())
    return settingsProblem("clientId", "No client ID",
                           "Register SMTPc as an application with the provider and enter the client ID it gives you.");
  if (hasSpaceOrControl(settings.clientId))
    return settingsProblem("clientId", "The client ID is not valid",
                           "A client ID has no spaces; copy it again from the application's registration.");
  if (hasControl(settings.scope) || hasControl(settings.user) || hasControl(settings.clientSecret.reveal()))
    return settingsProblem(hasControl(settings.scope) ? "scope" : hasControl(settings.user) ? "username" : "clientSecret",
                           "A sign-in field holds a control character",
                           "Remove the line break or control character from the field.");
  if (settings.flow == FlowKind::Device && settings.provider != ProviderKind::Custom &&
      row.deviceAuthorizationEndpoint.empty()) {
    Problem problem = settingsProblem("oauthFlow", std::string(problemHeadline(ProblemKind::DeviceFlowNotAllowed)),
                                      std::string(row.noDeviceFlowReason));
    problem.kind = ProblemKind::DeviceFlowNotAllowed;
    return problem;
  }
  return std::nullopt;
}

}  // namespace smtpc::oauth
