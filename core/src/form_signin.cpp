// The sign-in part of the form (smtpc/form.h): the desktop app and the page map their fields to
// the OAuth flow's settings here, and show its problems like any other form mistake.
#include "smtpc/form.h"

namespace smtpc::form {

namespace {

std::string trimmed(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

SignInFields signInFields(std::string_view provider) {
  const auto kind = oauth::providerFromName(provider);
  return SignInFields{kind == oauth::ProviderKind::Custom, kind == oauth::ProviderKind::Microsoft};
}

std::optional<oauth::Settings> toSignInSettings(const SignInForm& form, oauth::FlowKind flow, Problem* out) {
  const auto kind = oauth::providerFromName(form.provider);
  if (!kind)
    return *out = Problem{"oauthProvider", "Choose a provider", "Choose whom to sign in with: Microsoft, Google or another provider by its issuer URL."},
           std::nullopt;
  oauth::Settings settings;
  settings.provider = *kind;
  settings.clientId = trimmed(form.clientId);
  settings.issuer = trimmed(form.issuer);
  if (const std::string tenant = trimmed(form.tenant); !tenant.empty()) settings.tenant = tenant;
  settings.user = trimmed(form.user);
  if (!form.clientSecret.empty()) settings.clientSecret = Secret(form.clientSecret);
  settings.flow = flow;
  if (const auto problem = oauth::checkSettings(settings))
    return *out = Problem{problem->field, problem->headline, problem->explanation}, std::nullopt;
  return settings;
}

}  // namespace smtpc::form
