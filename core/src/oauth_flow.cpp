// smtpc::oauth::Flow — the sign-in, state by state (oauth.h lists the RFCs).
//
// Each state takes one kind of answer; anything else is InvalidState, naming the state:
//   Idle                  start → Metadata (custom) | Refreshing (a stored refresh token)
//                         | Listening (browser) | RequestingDeviceCode (device)
//   Metadata              200 + JSON → checked → as from Idle; anything else → OpenIdConfiguration
//   OpenIdConfiguration   200 + JSON → checked → as from Idle; anything else → Done (MetadataNotFound)
//   Refreshing            200 → Done (token); invalid_grant → Listening | RequestingDeviceCode,
//                         or Done when the person did not want a sign-in to follow
//   Listening             onListening → Authorizing (OpenBrowser)
//   Authorizing           onRedirect "/" with our state and a code → ExchangingCode;
//                         another state, or an error → Done. Other paths get a 404 page.
//   ExchangingCode        200 → Done (token); an error → Done
//   RequestingDeviceCode  200 → WaitingToPoll (ShowUserCode)
//   WaitingToPoll         onTimeout at the deadline → Polling; a poll past the code's expiry → Done
//   Polling               200 → Done; authorization_pending → WaitingToPoll; slow_down → the
//                         interval grows by 5 s for good, WaitingToPoll; no answer → the interval
//                         doubles (RFC 8628 §3.5), WaitingToPoll; expired_token, access_denied,
//                         anything else → Done
// cancel() → Done from any state. A failed request (onHttpFailed) ends the flow except while polling.
//
// This file: the machinery, discovery, refresh and the token response. The browser flow is in
// oauth_browser.cpp, the device flow in oauth_device.cpp.
#include <openssl/crypto.h>

#include "oauth_internal.h"
#include "smtpc/base64.h"

namespace smtpc::oauth {

using namespace detail;

Flow::Flow(Settings settings, std::string_view randomBytes) : settings_(std::move(settings)) {
  if (randomBytes.size() < kRandomBytes) {
    Problem problem;
    problem.kind = ProblemKind::NotEnoughRandomness;
    problem.headline = std::string(problemHeadline(problem.kind));
    problem.explanation = "The flow was given " + std::to_string(randomBytes.size()) + " random bytes; it needs " +
                          std::to_string(kRandomBytes) + " from the system's secure random source.";
    startProblem_ = std::move(problem);
    return;
  }
  verifier_ = Secret(pkceVerifier(randomBytes.substr(0, kVerifierBytes)));
  stateParameter_ = base64url(randomBytes.substr(kVerifierBytes, kRandomBytes - kVerifierBytes));
}

Flow::~Flow() = default;

std::string Flow::issuer() const { return issuerOf(settings_); }

std::string Flow::scope() const {
  return settings_.scope.empty() ? std::string(provider(settings_.provider).defaultScope) : settings_.scope;
}

// ---------------------------------------------------------------------------------------------
// Outputs

void Flow::setState(FlowState next) { state_ = next; }

void Flow::queue(Output output) { outputs_.push_back(std::move(output)); }

std::optional<Output> Flow::poll() {
  if (outputs_.empty()) return std::nullopt;
  Output next = std::move(outputs_.front());
  outputs_.pop_front();
  return next;
}

void Flow::step(SignInStep which, std::string text) {
  StepEvent event{which, now_, std::move(text)};
  steps_.push_back(event);
  queue(std::move(event));
}

void Flow::fail(Problem problem) {
  if (listening_) {
    queue(StopListening{});
    listening_ = false;
  }
  deadline_.reset();
  setState(FlowState::Done);
  Finished finished;
  finished.problem = std::move(problem);
  finished.refreshTokenRejected = refreshRejected_;
  result_ = finished;
  queue(std::move(finished));
}

void Flow::fail(ProblemKind kind, std::string explanation) {
  Problem problem;
  problem.kind = kind;
  problem.headline = std::string(problemHeadline(kind));
  problem.explanation = explanation.empty() ? std::string(problemExplanation(kind)) : std::move(explanation);
  fail(std::move(problem));
}

bool Flow::expecting(FlowState wanted, std::string_view input) {
  if (state_ == wanted) return true;
  if (state_ != FlowState::Done)
    fail(ProblemKind::InvalidState, std::string(input) + " came while the flow was " +
                                        std::string(flowStateDescription(state_)) + " (state " +
                                        std::string(flowStateName(state_)) + ").");
  return false;
}

// ---------------------------------------------------------------------------------------------
// Commands

void Flow::start(Time now) {
  now_ = now;
  if (!expecting(FlowState::Idle, "start")) return;
  if (startProblem_) return fail(*startProblem_);
  if (auto problem = checkSettings(settings_)) return fail(*problem);
  if (settings_.provider == ProviderKind::Custom) return performMetadata(false);
  endpoints_ = knownEndpoints(settings_);
  step(SignInStep::Discover, "using " + std::string(provider(settings_.provider).label) +
                                 "'s known endpoints: authorization " + endpoints_.authorization + ", token " +
                                 endpoints_.token);
  afterEndpoints();
}

void Flow::cancel(Time now) {
  now_ = now;
  if (state_ != FlowState::Done) fail(ProblemKind::Cancelled);
}

void Flow::afterEndpoints() {
  if (!settings_.refreshToken.empty()) return performRefresh();
  performInteractive();
}

void Flow::performInteractive() {
  if (settings_.flow == FlowKind::Browser && !settings_.redirectUri.empty()) return performAuthorizationAt(settings_.redirectUri);
  if (settings_.flow == FlowKind::Browser) return performListen();
  performDeviceAuthorization();
}

// ---------------------------------------------------------------------------------------------
// Answers

void Flow::onHttpResponse(Time now, const HttpResponse& response) {
  now_ = now;
  switch (state_) {
    case FlowState::Metadata:
    case FlowState::OpenIdConfiguration: return onMetadataResponse(response);
    case FlowState::Refreshing: return onRefreshResponse(response);
    case FlowState::ExchangingCode: return onCodeExchangeResponse(response);
    case FlowState::RequestingDeviceCode: return onDeviceAuthorizationResponse(response);
    case FlowState::Polling: return onPollResponse(response);
    default: expecting(FlowState::Done, "An HTTP response"); return;
  }
}

void Flow::onHttpFailed(Time now, std::string_view reason) {
  now_ = now;
  switch (state_) {
    case FlowState::Polling:
      // RFC 8628 §3.5: a poll without an answer is retried, backing off exponentially.
      pollInterval_ *= 2;
      step(SignInStep::Poll, "no answer from the token endpoint (" + std::string(reason) + "): asking again in " +
                                 secondsText(pollInterval_));
      return schedulePoll("asking again after a failed request");
    case FlowState::Metadata:
    case FlowState::OpenIdConfiguration:
    case FlowState::Refreshing:
    case FlowState::ExchangingCode:
    case FlowState::RequestingDeviceCode:
      return fail(ProblemKind::HttpFailed, "The request while " + std::string(flowStateDescription(state_)) +
                                               " got no answer: " + std::string(reason) + ".");
    default: expecting(FlowState::Done, "A failed HTTP request"); return;
  }
}

void Flow::onTimeout(Time now) {
  now_ = now;
  // Early or late wake-ups are harmless: only a deadline that has come means anything.
  if (!deadline_ || now < *deadline_) return;
  if (state_ == FlowState::Authorizing) return fail(ProblemKind::BrowserTimedOut);
  if (state_ != FlowState::WaitingToPoll) return;
  deadline_.reset();
  performPoll();
}

// ---------------------------------------------------------------------------------------------
// HTTP requests

HttpRequest Flow::post(const std::string& url, const std::vector<FormField>& fields) const {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  std::vector<FormField> all = fields;
  const std::string_view secret = settings_.clientSecret.reveal();
  if (!secret.empty() && !endpoints_.basicAuthentication) all.push_back({"client_secret", secret, true});
  std::string body;
  request.description = "POST " + url + " (";
  for (const FormField& formField : all) {
    if (!body.empty()) {
      body += '&';
      request.description += ", ";
    }
    body += formEncode(formField.name) + '=' + formEncode(formField.value);
    request.description += std::string(formField.name) + '=' +
                           std::string(formField.secret ? Secret::redacted() : formField.value);
  }
  request.description += ')';
  if (!secret.empty() && endpoints_.basicAuthentication) {
    // RFC 6749 §2.3.1: both parts form-encoded, then "id:secret" in base64.
    std::string credentials = formEncode(settings_.clientId) + ':' + formEncode(secret);
    request.authorization = Secret("Basic " + base64::encode(credentials));
    OPENSSL_cleanse(credentials.data(), credentials.size());
    request.description += " with the client secret as HTTP Basic authentication";
  }
  request.body = Secret(std::move(body));
  return request;
}

void Flow::send(HttpRequest request) {
  requestedAt_ = now_;
  queue(std::move(request));
}

// ---------------------------------------------------------------------------------------------
// Discovery (RFC 8414, OpenID Connect Discovery §4)

void Flow::performMetadata(bool openId) {
  setState(openId ? FlowState::OpenIdConfiguration : FlowState::Metadata);
  HttpRequest request;
  request.method = "GET";
  request.url = openId ? openIdConfigurationUrl(settings_.issuer) : authorizationServerMetadataUrl(settings_.issuer);
  request.headers = {{"Accept", "application/json"}};
  request.description = "GET " + request.url;
  step(SignInStep::Discover, openId ? "trying the OpenID configuration instead: " + request.url
                                    : "asking the issuer where its sign-in endpoints are: " + request.url);
  send(std::move(request));
}

void Flow::onMetadataResponse(const HttpResponse& response) {
  const bool openId = state_ == FlowState::OpenIdConfiguration;
  if (response.status != 200 || !response.json) {
    if (!openId) {
      step(SignInStep::Discover, "no RFC 8414 metadata there (" + httpSummary(response) + ")");
      return performMetadata(true);
    }
    return fail(ProblemKind::MetadataNotFound,
                "Neither " + authorizationServerMetadataUrl(settings_.issuer) + " nor " +
                    openIdConfigurationUrl(settings_.issuer) + " gave a JSON document (the last: " +
                    httpSummary(response) + "). Check the issuer URL.");
  }
  // RFC 8414 §3.3: the document must name the issuer it was fetched for, exactly.
  const std::string named = field(response, "issuer");
  if (named != settings_.issuer) {
    Problem problem;
    problem.kind = ProblemKind::IssuerMismatch;
    problem.headline = std::string(problemHeadline(problem.kind));
    problem.explanation = "The metadata names the issuer \"" + named + "\", not \"" + settings_.issuer +
                          "\" (RFC 8414 §3.3), so SMTPc does not trust its endpoints. If it is the same "
                          "provider, enter the issuer exactly as the metadata writes it.";
    problem.serverSaid = named;
    return fail(std::move(problem));
  }
  const bool browser = settings_.flow == FlowKind::Browser;
  const struct {
    const char* member;
    bool needed;
    std::string* into;
  } members[] = {
      {"authorization_endpoint", browser, &endpoints_.authorization},
      {"token_endpoint", true, &endpoints_.token},
      {"device_authorization_endpoint", !browser, &endpoints_.device},
  };
  for (const auto& member : members) {
    const std::string url = field(response, member.member);
    if (url.empty()) {
      if (!member.needed) continue;
      return fail(ProblemKind::EndpointMissing,
                  std::string("The metadata has no \"") + member.member + "\", which the " +
                      std::string(flowKindName(settings_.flow)) + " sign-in needs." +
                      (browser ? "" : " The provider may not offer the device flow: try the browser flow."));
    }
    if (!isHttpsUrl(url))
      return fail(ProblemKind::EndpointNotHttps,
                  std::string("The metadata's \"") + member.member + "\" is " + url +
                      ": SMTPc sends codes and tokens only to https:// addresses, even on this computer.");
    *member.into = url;
  }
  // RFC 7636 §4.3 and RFC 8414 §2: a list of PKCE methods without S256 means no S256.
  if (browser && hasField(response, "code_challenge_methods_supported") &&
      !containsWord(field(response, "code_challenge_methods_supported"), "S256"))
    return fail(ProblemKind::PkceNotSupported,
                "The metadata's code_challenge_methods_supported is \"" +
                    field(response, "code_challenge_methods_supported") +
                    "\", without S256; SMTPc uses only S256 (plain would expose the verifier).");
  // RFC 8414 §2: without a list, the token endpoint expects client_secret_basic.
  endpoints_.basicAuthentication =
      !containsWord(field(response, "token_endpoint_auth_methods_supported"), "client_secret_post");
  step(SignInStep::Discover, "the metadata names the endpoints: " +
                                 (browser ? "authorization " + endpoints_.authorization
                                          : "device authorization " + endpoints_.device) +
                                 ", token " + endpoints_.token);
  afterEndpoints();
}

// ---------------------------------------------------------------------------------------------
// Refresh (RFC 6749 §6)

void Flow::performRefresh() {
  setState(FlowState::Refreshing);
  step(SignInStep::Refresh, "using the stored refresh token for a new access token, without asking you");
  const std::string requested = scope();
  // Microsoft wants the scope again on every refresh; §6 allows it when it is the same.
  std::vector<FormField> fields = {{"grant_type", "refresh_token"},
                                   {"refresh_token", settings_.refreshToken.reveal(), true},
                                   {"client_id", settings_.clientId}};
  if (!requested.empty()) fields.push_back({"scope", requested});
  send(post(endpoints_.token, fields));
}

void Flow::onRefreshResponse(const HttpResponse& response) {
  if (response.status == 200) return acceptToken(response);
  if (response.json && field(response, "error") == "invalid_grant") {
    refreshRejected_ = true;
    if (!settings_.signInIfRefreshFails)
      return fail(providerError(ProblemKind::RefreshTokenRejected, response, "The token endpoint"));
    step(SignInStep::Refresh, "the refresh token is no longer valid (the provider said invalid_grant): signing in again");
    return performInteractive();
  }
  tokenError(response, "The token endpoint, asked to refresh,");
}

// ---------------------------------------------------------------------------------------------
// The token response (RFC 6749 §5.1, §5.2)

void Flow::tokenError(const HttpResponse& response, std::string_view context) {
  if (response.json && !field(response, "error").empty())
    return fail(providerError(ProblemKind::TokenRefused, response, context));
  fail(ProblemKind::UnexpectedAnswer, std::string(context) + " answered " + httpSummary(response) +
                                          ", which is neither a token nor an OAuth error.");
}

void Flow::acceptToken(const HttpResponse& response) {
  if (!response.json || field(response, "access_token").empty())
    return fail(ProblemKind::UnexpectedAnswer,
                "The token endpoint answered " + httpSummary(response) + " without an access_token (RFC 6749 §5.1).");
  const std::string type = field(response, "token_type");
  if (!text::equalsIgnoreCase(type, "Bearer"))
    return fail(ProblemKind::NotBearer, "The provider issued a token of type \"" + type +
                                            "\"; SMTP's XOAUTH2 and OAUTHBEARER carry Bearer tokens only "
                                            "(RFC 6750).");
  Token token;
  token.accessToken = Secret(field(response, "access_token"));
  token.tokenType = type;
  const auto lifetime = seconds(field(response, "expires_in"));
  if (lifetime) token.expiresAt = requestedAt_ + std::chrono::seconds(*lifetime);
  token.scope = hasField(response, "scope") ? field(response, "scope") : scope();
  // §6: a response without refresh_token leaves the one we have valid.
  const std::string fresh = field(response, "refresh_token");
  token.refreshTokenChanged = !fresh.empty();
  token.refreshToken = fresh.empty() ? settings_.refreshToken : Secret(fresh);
  token.issuer = issuer();
  token.storageKey = refreshTokenKey(settings_);
  step(SignInStep::Token,
       "signed in: a Bearer token, " + (lifetime ? "valid for " + lifetimeText(*lifetime) : "with no lifetime given") +
           (token.refreshTokenChanged        ? ", and a new refresh token for next time"
            : token.refreshToken.empty()     ? ", and no refresh token (you will be asked again next time)"
                                             : "; the stored refresh token stays valid"));
  deadline_.reset();
  setState(FlowState::Done);
  Finished finished;
  finished.token = std::move(token);
  finished.refreshTokenRejected = refreshRejected_;
  result_ = finished;
  queue(std::move(finished));
}

}  // namespace smtpc::oauth
