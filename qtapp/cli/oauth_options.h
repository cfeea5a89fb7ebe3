// smtpc's OAuth 2 sign-in (issue 14): the --oauth options, the sign-in itself before the SMTP
// connection (core's flow, driven by smtpc::qt::OAuthSignIn), the refresh token kept in the
// keychain, and how a sign-in problem is printed and which exit status it gives.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <optional>
#include <string>

#include "smtpc/oauth.h"

namespace smtpc::cli {

// The exit status of a sign-in the provider refused or that could not be completed (smtpc(1)):
// after the classes of core's errors (ExitClass, 0 to 7).
inline constexpr int kSignInExit = 8;

struct OAuthOptions {
  QCommandLineOption provider, clientId, clientSecretEnv, issuer, tenant, scope, flow, forget;
};
OAuthOptions addOAuthOptions(QCommandLineParser& parser);

// Was any --oauth option given?
bool oauthRequested(const QCommandLineParser& parser, const OAuthOptions& options);

// The sign-in's settings from the command line (the user comes from --user). nullopt with `usage`
// set when an option is malformed; what core checks (checkSettings) is left to the sign-in.
std::optional<oauth::Settings> readOAuthSettings(const QCommandLineParser& parser, const OAuthOptions& options,
                                                 const std::string& user, QString* usage);

// --oauth-forget: removes the refresh token kept for these settings. Returns the exit status.
int forgetRefreshToken(const oauth::Settings& settings);

struct Output {
  bool json = false, quiet = false, verbose = false;
};

struct SignInOutcome {
  int status = 0;                         // 0: signed in
  Secret accessToken;                     // for Credentials::oauthToken
  std::optional<oauth::Problem> problem;  // when not signed in
  QJsonArray steps;                       // for --json: {step, label, text, at_ms}; never a token
};

// Signs in (the stored refresh token first, without asking), printing the steps, the user code or
// the browser's address; keeps a new refresh token and forgets a refused one. `caPem`: the
// --ca-file's certificates, trusted for the sign-in's HTTPS as well as the system's.
SignInOutcome signIn(oauth::Settings settings, const std::string& caPem, const Output& output);

// The result of a run that ended at the sign-in: printed as the SMTP results are (text or JSON;
// `json` holds what the run knows: server, port, security).
void printSignInFailure(const SignInOutcome& outcome, const Output& output, QJsonObject json);

// What --help says about the sign-in, for a learner.
QString oauthHelp();

}  // namespace smtpc::cli
