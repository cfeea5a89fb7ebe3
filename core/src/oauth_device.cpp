// smtpc::oauth::Flow, the device flow: the device authorization grant (RFC 8628), its polling
// and its back-off. The states and their rules: oauth_flow.cpp.
#include "oauth_internal.h"

namespace smtpc::oauth {

using namespace detail;

namespace {
// §3.4: the grant type of a poll.
constexpr std::string_view kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
}  // namespace

void Flow::performDeviceAuthorization() {
  setState(FlowState::RequestingDeviceCode);
  step(SignInStep::DeviceCode, "asking " + endpoints_.device + " for a code to type in on another device");
  const std::string requested = scope();
  std::vector<FormField> fields = {{"client_id", settings_.clientId}};
  if (!requested.empty()) fields.push_back({"scope", requested});
  send(post(endpoints_.device, fields));
}

void Flow::onDeviceAuthorizationResponse(const HttpResponse& response) {
  if (response.status != 200) return tokenError(response, "The device authorization endpoint");
  // §3.2; Google and Microsoft spell the address verification_url.
  std::string uri = field(response, "verification_uri");
  if (uri.empty()) uri = field(response, "verification_url");
  const auto lifetime = seconds(field(response, "expires_in"));
  const std::string interval = field(response, "interval");
  const auto intervalSeconds = seconds(interval);
  const char* missing = !response.json                         ? "a JSON document"
                        : field(response, "device_code").empty() ? "device_code"
                        : field(response, "user_code").empty()   ? "user_code"
                        : uri.empty()                            ? "verification_uri"
                        : !lifetime                              ? "expires_in"
                        : (!interval.empty() && (!intervalSeconds || *intervalSeconds == 0)) ? "a valid interval"
                                                                                            : nullptr;
  if (missing)
    return fail(ProblemKind::UnexpectedAnswer,
                std::string("The device authorization response lacks ") + missing + " (RFC 8628 §3.2).");
  deviceCode_ = Secret(field(response, "device_code"));
  if (intervalSeconds) pollInterval_ = std::chrono::seconds(*intervalSeconds);
  // Counted from when the request went out: the code may not outlive what the provider said.
  deviceDeadline_ = requestedAt_ + std::chrono::seconds(*lifetime);
  ShowUserCode show{field(response, "user_code"), uri, field(response, "verification_uri_complete"), deviceDeadline_};
  step(SignInStep::DeviceCode, "open " + show.verificationUri + " on any device and enter the code " + show.userCode +
                                   "; it is valid for " + lifetimeText(*lifetime));
  queue(std::move(show));
  schedulePoll("waiting " + secondsText(pollInterval_) + " before asking whether you have finished");
}

void Flow::schedulePoll(std::string why) {
  const Time next = now_ + pollInterval_;
  // §3.5: once the code has expired there is nothing left to ask.
  if (next >= deviceDeadline_)
    return fail(ProblemKind::DeviceCodeExpired,
                "The code expired before the sign-in on the other device was finished; start again for a new code.");
  setState(FlowState::WaitingToPoll);
  deadline_ = next;
  queue(Wait{next, std::move(why)});
}

void Flow::performPoll() {
  setState(FlowState::Polling);
  send(post(endpoints_.token, {{"grant_type", kDeviceGrant},
                               {"device_code", deviceCode_.reveal(), true},
                               {"client_id", settings_.clientId}}));
}

void Flow::onPollResponse(const HttpResponse& response) {
  if (response.status == 200) return acceptToken(response);
  const std::string error = response.json ? field(response, "error") : std::string();
  if (error == "authorization_pending") {
    if (!pendingSeen_)
      step(SignInStep::Poll, "not finished yet: SMTPc asks again every " + secondsText(pollInterval_) +
                                 ", as the provider asked");
    pendingSeen_ = true;
    return schedulePoll("waiting " + secondsText(pollInterval_) + " before asking again");
  }
  if (error == "slow_down") {
    // §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
    pollInterval_ += kSlowDownStep;
    step(SignInStep::Poll, "the provider asks SMTPc to slow down: asking every " + secondsText(pollInterval_) +
                               " from now on");
    return schedulePoll("waiting " + secondsText(pollInterval_) + " before asking again");
  }
  if (error == "expired_token")
    return fail(providerError(ProblemKind::DeviceCodeExpired, response, "The token endpoint"));
  if (error == "access_denied") return fail(providerError(ProblemKind::ConsentRefused, response, "The token endpoint"));
  tokenError(response, "The token endpoint");
}

}  // namespace smtpc::oauth
