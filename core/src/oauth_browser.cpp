// smtpc::oauth::Flow, the browser flow: authorization code + PKCE with a loopback redirect
// (RFC 6749 §4.1, RFC 7636, RFC 8252 §7.3). The states and their rules: oauth_flow.cpp.
#include <openssl/crypto.h>

#include "oauth_internal.h"

namespace smtpc::oauth {

using namespace detail;

namespace {

// "http://127.0.0.1:8080/cb?x" -> "/cb?x"; a target already without scheme and host stays.
std::string_view pathAndQuery(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos || url.substr(0, scheme).find('/') != std::string_view::npos) return url;
  const std::size_t path = url.find_first_of("/?", scheme + 3);
  return path == std::string_view::npos ? std::string_view("/") : url.substr(path);
}

// "http://127.0.0.1:8080/cb" -> "127.0.0.1:8080".
std::string_view hostPortOf(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  const std::string_view rest = url.substr(scheme + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

}  // namespace

void Flow::performListen() {
  setState(FlowState::Listening);
  step(SignInStep::Listen, "opening a port on 127.0.0.1 where your browser will bring back the provider's answer");
  listening_ = true;  // from the request on: if the flow ends before onListening, the adapter still stops
  queue(ListenForRedirect{});
}

void Flow::onListening(Time now, std::uint16_t port) {
  now_ = now;
  if (!expecting(FlowState::Listening, "A loopback port")) return;
  performAuthorization(port);
}

void Flow::onListenFailed(Time now, std::string_view reason) {
  now_ = now;
  if (!expecting(FlowState::Listening, "A failure to listen")) return;
  listening_ = false;
  fail(ProblemKind::ListenFailed, "SMTPc could not listen on 127.0.0.1 for the browser's answer: " +
                                      std::string(reason) + ". Try the device flow instead.");
}

void Flow::performAuthorization(std::uint16_t port) {
  performAuthorizationAt("http://127.0.0.1:" + std::to_string(port) + "/");
}

void Flow::performAuthorizationAt(std::string redirectUri) {
  setState(FlowState::Authorizing);
  redirectUri_ = std::move(redirectUri);
  const bool loopback = settings_.redirectUri.empty();
  const std::string_view hostPort = hostPortOf(redirectUri_);
  const std::string challenge = pkceChallenge(verifier_.reveal());
  const std::string requested = scope();
  FormFields parameters = {{"response_type", "code"}, {"client_id", settings_.clientId}, {"redirect_uri", redirectUri_}};
  if (!requested.empty()) parameters.emplace_back("scope", requested);
  parameters.emplace_back("state", stateParameter_);
  parameters.emplace_back("code_challenge", challenge);
  parameters.emplace_back("code_challenge_method", "S256");
  if (!settings_.user.empty()) parameters.emplace_back("login_hint", settings_.user);
  // §3.1: an endpoint's own query is kept; ours is added to it.
  std::string url = endpoints_.authorization;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += formEncode(parameters);
  const std::string_view extra = provider(settings_.provider).extraAuthorizationParameters;
  if (!extra.empty()) url += '&' + std::string(extra);
  step(SignInStep::Browser, loopback ? "opening your browser at the provider's sign-in page: sign in there and allow "
                                       "SMTPc to send mail; SMTPc never sees your password"
                                     : "opening the provider's sign-in page in a popup: sign in there and allow SMTPc "
                                       "to send mail; this page never sees your password");
  step(SignInStep::Browser, (loopback ? "the provider will redirect your browser to " + std::string(hostPort)
                                      : "the provider will send the popup back to this page (" + redirectUri_ + ")") +
                                " with a one-time code; the PKCE challenge in the address proves, later, that "
                                "SMTPc asked for it");
  queue(OpenBrowser{std::move(url)});
  deadline_ = now_ + kBrowserTimeout;  // a browser that never comes back must not hang the sign-in
}

void Flow::onRedirect(Time now, std::string_view target) {
  now_ = now;
  if (state_ != FlowState::Authorizing) {
    // A request the adapter had queued before StopListening (a second tab, the favicon) gets a
    // page; it never changes the outcome.
    queue(BrowserPage{404, "Nothing to do here", "This sign-in is not waiting for the browser; you can close this tab."});
    return;
  }
  // The absolute form (RFC 9112 §3.2.2), or the page's whole address: its path and query only.
  // Where the answer came from is the adapter's to know (its own port, its own page).
  target = pathAndQuery(target);
  const std::size_t question = target.find('?');
  const std::string_view expected = pathAndQuery(redirectUri_);
  if (target.substr(0, question) != expected.substr(0, expected.find('?'))) {
    queue(BrowserPage{404, "Not found", "SMTPc waits for the sign-in's answer at " +
                                            std::string(expected.substr(0, expected.find('?'))) + " only."});
    return;
  }
  auto query = formDecode(question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
  std::map<std::string, std::string> parameters;
  if (query)
    for (auto& [name, value] : *query) parameters.emplace(std::move(name), std::move(value));
  auto parameter = [&parameters](const std::string& name) {
    const auto it = parameters.find(name);
    return it == parameters.end() ? std::string() : it->second;
  };
  // RFC 6749 §10.12: an answer without our state is not ours, whatever it carries.
  if (!query || parameter("state") != stateParameter_) {
    queue(BrowserPage{400, "Sign-in not accepted", "This answer does not belong to the sign-in SMTPc started."});
    return fail(ProblemKind::StateMismatch);
  }
  if (!parameter("error").empty()) {
    HttpResponse asResponse;  // the redirect's error has the same members as a token error (§4.1.2.1)
    asResponse.fields = {{"error", parameter("error")}, {"error_description", parameter("error_description")}};
    const bool refused = parameter("error") == "access_denied";
    queue(BrowserPage{200, refused ? "Consent refused" : "Sign-in refused",
                     "SMTPc received the provider's answer: you can close this tab and return to SMTPc."});
    return fail(providerError(refused ? ProblemKind::ConsentRefused : ProblemKind::AuthorizationFailed, asResponse,
                              "The provider"));
  }
  std::string code = parameter("code");
  if (code.empty()) {
    queue(BrowserPage{400, "Sign-in incomplete", "The provider's answer has no code; return to SMTPc."});
    return fail(ProblemKind::AuthorizationFailed, "The browser came back with neither a code nor an error.");
  }
  queue(BrowserPage{200, "Signed in", "SMTPc received the provider's answer: you can close this tab and return to SMTPc."});
  queue(StopListening{});
  listening_ = false;
  deadline_.reset();
  step(SignInStep::Redirect, "your browser came back with a one-time code, and the state matches the one SMTPc sent");
  performCodeExchange(std::move(code));
}

void Flow::performCodeExchange(std::string code) {
  setState(FlowState::ExchangingCode);
  step(SignInStep::Exchange, "exchanging the code for a token at " + endpoints_.token +
                                 ", with the PKCE verifier that only SMTPc knows");
  send(post(endpoints_.token, {{"grant_type", "authorization_code"},
                               {"code", code, true},
                               {"redirect_uri", redirectUri_},
                               {"client_id", settings_.clientId},
                               {"code_verifier", verifier_.reveal(), true}}));
  OPENSSL_cleanse(code.data(), code.size());
}

void Flow::onCodeExchangeResponse(const HttpResponse& response) {
  if (response.status == 200) return acceptToken(response);
  tokenError(response, "The token endpoint");
}

}  // namespace smtpc::oauth
