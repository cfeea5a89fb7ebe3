// smtpc's OAuth 2 sign-in: options, the run before the SMTP connection, the refresh token's
// keeping, and the problems' exit statuses. The flow's decisions are core's (smtpc/oauth.h); the
// requests are carried out by smtpc::qt::OAuthSignIn; this file only prints and stores.
#include "oauth_options.h"

#include <QEventLoop>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "smtpc/display.h"
#include "smtpc/error.h"
#include "smtpc/qt/oauth.h"
#include "smtpc/qt/secretstore.h"
#include "json_output.h"

namespace smtpc::cli {

namespace {

constexpr int exitOf(ExitClass c) { return static_cast<int>(c); }

// A sign-in problem's exit status, one row per oauth::ProblemKind, in the order of core's list
// (smtpc/oauth.h): what a person has to fix, in the CLI's classes. The command line → 1; no
// answer from the provider → 2 (3 when it was the certificate, see exitStatusFor); the provider
// refused, or answered what the flow cannot use → 8; interrupted → 7.
struct SignInExit {
  oauth::ProblemKind kind;
  int status;
};
constexpr SignInExit kSignInExits[] = {
    {oauth::ProblemKind::InvalidSettings, exitOf(ExitClass::Usage)},
    {oauth::ProblemKind::DeviceFlowNotAllowed, exitOf(ExitClass::Usage)},
    {oauth::ProblemKind::NotEnoughRandomness, kSignInExit},
    {oauth::ProblemKind::HttpFailed, exitOf(ExitClass::Network)},
    {oauth::ProblemKind::UnexpectedAnswer, kSignInExit},
    {oauth::ProblemKind::MetadataNotFound, kSignInExit},
    {oauth::ProblemKind::IssuerMismatch, kSignInExit},
    {oauth::ProblemKind::EndpointMissing, kSignInExit},
    {oauth::ProblemKind::EndpointNotHttps, kSignInExit},
    {oauth::ProblemKind::PkceNotSupported, kSignInExit},
    {oauth::ProblemKind::ListenFailed, kSignInExit},
    {oauth::ProblemKind::StateMismatch, kSignInExit},
    {oauth::ProblemKind::ConsentRefused, kSignInExit},
    {oauth::ProblemKind::AuthorizationFailed, kSignInExit},
    {oauth::ProblemKind::TokenRefused, kSignInExit},
    {oauth::ProblemKind::NotBearer, kSignInExit},
    {oauth::ProblemKind::RefreshTokenRejected, kSignInExit},
    {oauth::ProblemKind::BrowserTimedOut, kSignInExit},
    {oauth::ProblemKind::DeviceCodeExpired, kSignInExit},
    {oauth::ProblemKind::Cancelled, exitOf(ExitClass::Cancelled)},
    {oauth::ProblemKind::InvalidState, kSignInExit},
};
// A kind added to core's list without a row here does not compile.
#define SMTPC_X(kind, fault, headline, text) +1
constexpr std::size_t kProblemKinds = 0 SMTPC_OAUTH_PROBLEMS(SMTPC_X);
#undef SMTPC_X
static_assert(std::size(kSignInExits) == kProblemKinds, "one exit row per oauth::ProblemKind");
constexpr bool rowsInOrder() {
  for (std::size_t i = 0; i < std::size(kSignInExits); ++i)
    if (static_cast<std::size_t>(kSignInExits[i].kind) != i) return false;
  return true;
}
static_assert(rowsInOrder(), "the exit rows follow oauth::ProblemKind's order");

int exitStatusFor(const oauth::Problem& problem, qt::OAuthSignIn::RequestFailure failure) {
  // The same class as an SMTP connection refused for its certificate.
  if (problem.kind == oauth::ProblemKind::HttpFailed && failure == qt::OAuthSignIn::RequestFailure::Tls)
    return exitOf(ExitClass::Tls);
  return kSignInExits[static_cast<std::size_t>(problem.kind)].status;
}

std::string safe(std::string_view text) { return escapeForTerminal(text); }

// Lines the person must see even with --json or --quiet (the code to type, the address to open):
// on standard error then, so standard output stays the JSON document or the result alone.
std::FILE* personStream(const Output& output) { return output.json || output.quiet ? stderr : stdout; }

void line(std::FILE* stream, const Output& output, Time at, const std::string& text) {
  if (output.verbose && stream == stdout) std::fprintf(stream, "%7.3f ", static_cast<double>(at.count()) / 1000.0);
  std::fprintf(stream, "%s\n", text.c_str());
  std::fflush(stream);  // a person waits on these: never held in a pipe's buffer
}

std::string keyDescription(const oauth::Settings& settings) {
  return "issuer " + oauth::issuerOf(settings) + ", client ID " + settings.clientId + ", user " + settings.user;
}

bool hasDesktopSession() {
#if defined(Q_OS_MACOS) || defined(Q_OS_WIN)
  return true;
#else
  return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
#endif
}

}  // namespace

OAuthOptions addOAuthOptions(QCommandLineParser& parser) {
  auto option = [](const char* name, const char* help, const char* value = nullptr) {
    return QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help),
                              value ? QString::fromLatin1(value) : QString());
  };
  OAuthOptions o{
      option("oauth", "Sign in with OAuth 2 before logging in: microsoft | google | custom (see above).", "PROVIDER"),
      option("client-id", "The client ID of the application registered with the provider.", "ID"),
      option("client-secret-env", "Read the application's client secret from VAR (Google gives installed apps one).",
             "VAR"),
      option("oauth-issuer", "For --oauth custom: the provider's issuer URL (https://...); its endpoints are read from it.",
             "URL"),
      option("tenant", "For --oauth microsoft: common (default), organizations, consumers, a tenant ID or domain.", "T"),
      option("scope", "The scope to ask for, if not the provider's mail scope.", "S"),
      option("oauth-flow",
             "browser (sign in in this computer's browser) | device (type a code on any device). Default: browser "
             "with a desktop session, else device.",
             "FLOW"),
      option("oauth-forget", "Remove the refresh token kept for --oauth, --client-id and --user, and exit."),
  };
  for (const QCommandLineOption* each :
       {&o.provider, &o.clientId, &o.clientSecretEnv, &o.issuer, &o.tenant, &o.scope, &o.flow, &o.forget})
    parser.addOption(*each);
  return o;
}

QString oauthHelp() {
  return QStringLiteral(
      "\n\nSigning in with OAuth 2 instead of a password (Microsoft 365, Gmail, any standard provider):\n"
      "  1.  Register an application with the provider (Microsoft Entra: \"App registrations\", a public\n"
      "      client; Google Cloud: an OAuth client of type \"Desktop app\"). Allow the redirect URI\n"
      "      http://127.0.0.1 (SMTPc listens on a free port there); for --oauth-flow device, allow public\n"
      "      client flows. Note the client ID (and Google's client secret).\n"
      "  2.  Run, for example:\n"
      "\n"
      "      $ smtpc --oauth microsoft --client-id ID -s smtp.office365.com -u you@example.com\n"
      "      $ SECRET=... smtpc --oauth google --client-id ID --client-secret-env SECRET -s smtp.gmail.com -u you@gmail.com\n"
      "      $ smtpc --oauth custom --oauth-issuer https://login.example.com --client-id ID -s HOST -u USER\n"
      "\n"
      "  3.  Sign in in the browser that opens (device flow: open the address shown, on any device, and\n"
      "      type the code). SMTPc never sees your password: it gets a token and logs in with it\n"
      "      (OAUTHBEARER, else XOAUTH2).\n"
      "  The refresh token is kept in the system keychain (without one, in a file only you can read) and\n"
      "  used next time without asking; --oauth-forget removes it. --ca-file applies to the sign-in too.\n"
      "  Google does not allow the device flow for mail: use the browser flow.\n");
}

bool oauthRequested(const QCommandLineParser& parser, const OAuthOptions& o) {
  for (const QCommandLineOption* option :
       {&o.provider, &o.clientId, &o.clientSecretEnv, &o.issuer, &o.tenant, &o.scope, &o.flow, &o.forget})
    if (parser.isSet(*option)) return true;
  return false;
}

std::optional<oauth::Settings> readOAuthSettings(const QCommandLineParser& parser, const OAuthOptions& o,
                                                 const std::string& user, QString* usage) {
  if (!parser.isSet(o.provider)) {
    *usage = QStringLiteral("--client-id, --oauth-issuer, --tenant, --scope, --oauth-flow and --oauth-forget go with "
                            "--oauth microsoft|google|custom");
    return std::nullopt;
  }
  oauth::Settings settings;
  const auto kind = oauth::providerFromName(parser.value(o.provider).toStdString());
  if (!kind) {
    *usage = QStringLiteral("--oauth must be microsoft, google or custom");
    return std::nullopt;
  }
  settings.provider = *kind;
  if (parser.isSet(o.issuer) && settings.provider != oauth::ProviderKind::Custom) {
    *usage = QStringLiteral("--oauth-issuer goes with --oauth custom (Microsoft's and Google's issuers are known)");
    return std::nullopt;
  }
  if (parser.isSet(o.tenant) && settings.provider != oauth::ProviderKind::Microsoft) {
    *usage = QStringLiteral("--tenant goes with --oauth microsoft");
    return std::nullopt;
  }
  settings.issuer = parser.value(o.issuer).toStdString();
  if (parser.isSet(o.tenant)) settings.tenant = parser.value(o.tenant).toStdString();
  settings.clientId = parser.value(o.clientId).toStdString();
  settings.scope = parser.value(o.scope).toStdString();
  if (parser.isSet(o.clientSecretEnv)) {
    const QByteArray value = qgetenv(parser.value(o.clientSecretEnv).toLocal8Bit().constData());
    if (value.isNull()) {
      *usage = "--client-secret-env: the variable " + parser.value(o.clientSecretEnv) + " is not set";
      return std::nullopt;
    }
    settings.clientSecret = Secret(value.toStdString());
  }
  if (parser.isSet(o.flow)) {
    const auto flow = oauth::flowKindFromName(parser.value(o.flow).toStdString());
    if (!flow) {
      *usage = QStringLiteral("--oauth-flow must be browser or device");
      return std::nullopt;
    }
    settings.flow = *flow;
  } else {
    // Without a desktop, a code typed in elsewhere; but not where the provider refuses the device
    // flow (Google): its browser flow still works through a forwarded port (ssh -L).
    const bool deviceFlowOffered = settings.provider == oauth::ProviderKind::Custom ||
                                   !oauth::provider(settings.provider).deviceAuthorizationEndpoint.empty();
    settings.flow = hasDesktopSession() || !deviceFlowOffered ? oauth::FlowKind::Browser : oauth::FlowKind::Device;
  }
  if (user.empty()) {
    *usage = QStringLiteral("--oauth needs --user: the mailbox to sign in as and to log in with");
    return std::nullopt;
  }
  settings.user = user;
  return settings;
}

int forgetRefreshToken(const oauth::Settings& settings) {
  // The key needs the issuer and the client ID as a sign-in does; the flow does not matter here.
  if (const auto problem = oauth::checkSettings(settings); problem && problem->kind == oauth::ProblemKind::InvalidSettings) {
    std::cerr << "smtpc: --oauth-forget: " << problem->headline << ". " << problem->explanation << "\n";
    return exitOf(ExitClass::Usage);
  }
  qt::RefreshTokenStore store;
  const std::string key = oauth::refreshTokenKey(settings);
  qt::RefreshTokenStore::Where where = qt::RefreshTokenStore::Where::Nowhere;
  const bool had = !store.load(key, &where).empty();
  store.forget(key);
  std::printf("=== %s (%s).\n", had ? "The refresh token was removed" : "No refresh token was kept",
              safe(keyDescription(settings)).c_str());
  return 0;
}

SignInOutcome signIn(oauth::Settings settings, const std::string& caPem, const Output& output) {
  SignInOutcome outcome;
  qt::OAuthSignIn driver;
  auto say = [&output](Time at, const std::string& text) {
    if (!output.json && !output.quiet) line(stdout, output, at, text);
  };
  QString why;
  if (!caPem.empty() && !driver.setExtraCaCertificates(caPem, &why)) {
    std::cerr << "smtpc: --ca-file: " << why.toStdString() << "\n(see smtpc --help)\n";
    outcome.status = exitOf(ExitClass::Usage);
    return outcome;
  }

  // Settings core refuses (Google's device flow, a missing client ID) are said before the
  // keychain is asked anything or a byte leaves.
  qt::RefreshTokenStore::Where where = qt::RefreshTokenStore::Where::Nowhere;
  std::optional<qt::RefreshTokenStore> store;
  bool warned = false;  // about the settings file: once a run
  auto warnIfFallback = [&] {
    if (where != qt::RefreshTokenStore::Where::SettingsFile || warned) return;
    warned = true;
    std::fprintf(stderr, "*** %s\n", store->fallbackWarning(where).toStdString().c_str());
  };
  const std::string key = oauth::refreshTokenKey(settings);
  if (!oauth::checkSettings(settings)) {
    store.emplace();
    settings.refreshToken = store->load(key, &where);
    warnIfFallback();
    if (!settings.refreshToken.empty())
      say(driver.now(), std::string("=== Sign-in: a refresh token is kept for this account (") +
                            (where == qt::RefreshTokenStore::Where::Keychain ? "in the system keychain" : "in the settings file") +
                            ")");
  }

  QObject::connect(&driver, &qt::OAuthSignIn::step, [&](const oauth::StepEvent& step) {
    say(step.at, "=== Sign-in [" + std::string(oauth::signInStepLabel(step.step)) + "] " + safe(step.text));
  });
  QObject::connect(&driver, &qt::OAuthSignIn::requestSent, [&](const QString& description) {
    if (output.verbose) say(driver.now(), "=== Sign-in [HTTPS] " + safe(description.toStdString()));
  });
  QObject::connect(&driver, &qt::OAuthSignIn::userCode, [&](const oauth::ShowUserCode& code) {
    // Each on a line of its own, so that a person (or a script) can copy it whole.
    std::FILE* stream = personStream(output);
    const Time at = driver.now();
    line(stream, output, at, "=== To sign in, open this address on any device:");
    line(stream, output, at, "    " + safe(code.verificationUri));
    line(stream, output, at, "=== and enter this code:");
    line(stream, output, at, "    " + safe(code.userCode));
    if (!code.verificationUriComplete.empty()) {
      line(stream, output, at, "=== or open this address, which holds the code already:");
      line(stream, output, at, "    " + safe(code.verificationUriComplete));
    }
  });
  QObject::connect(&driver, &qt::OAuthSignIn::openingBrowser, [&](const QString& url) {
    std::FILE* stream = personStream(output);
    line(stream, output, driver.now(), "=== Opening your browser at this address (open it yourself if no browser comes up):");
    line(stream, output, driver.now(), "    " + safe(url.toStdString()));
  });
  QObject::connect(&driver, &qt::OAuthSignIn::browserFailed, [&](const QString&, const QString& reason) {
    line(personStream(output), output, driver.now(),
         "*** No browser could be opened (" + safe(reason.toStdString()) + "): open the address above yourself.");
  });

  QEventLoop loop;
  QObject::connect(&driver, &qt::OAuthSignIn::finished, &loop, &QEventLoop::quit, Qt::QueuedConnection);
  driver.start(std::move(settings));
  if (!driver.result()) loop.exec();
  if (!driver.result()) driver.cancel();  // Ctrl-C: every event loop was told to end
  const oauth::Finished finished = *driver.result();

  for (const oauth::StepEvent& step : driver.steps())
    outcome.steps.append(QJsonObject{{"step", QString::fromStdString(std::string(oauth::signInStepName(step.step)))},
                                     {"label", QString::fromStdString(std::string(oauth::signInStepLabel(step.step)))},
                                     {"text", QString::fromStdString(step.text)},
                                     {"at_ms", static_cast<qint64>(step.at.count())}});

  // The refresh token: a refused one goes, a new one is kept (RFC 6749 §6: it may rotate).
  if (store && finished.refreshTokenRejected) {
    store->forget(key);
    say(driver.now(), "=== Sign-in: the refused refresh token was removed from the store");
  }
  if (store && finished.token && finished.token->refreshTokenChanged && !finished.token->refreshToken.empty()) {
    where = store->save(finished.token->storageKey, finished.token->refreshToken);
    if (where == qt::RefreshTokenStore::Where::SettingsFile)
      warnIfFallback();
    else
      say(driver.now(), "=== Sign-in: the new refresh token is kept in the system keychain for next time");
  }

  if (finished.token) {
    outcome.accessToken = finished.token->accessToken;
    return outcome;
  }
  outcome.problem = finished.problem;
  if (!outcome.problem) {  // a flow ends with a token or a problem; never neither
    oauth::Problem problem;
    problem.kind = oauth::ProblemKind::InvalidState;
    problem.headline = std::string(oauth::problemHeadline(problem.kind));
    problem.explanation = std::string(oauth::problemExplanation(problem.kind));
    outcome.problem = problem;
  }
  outcome.status = exitStatusFor(*outcome.problem, driver.lastRequestFailure());
  return outcome;
}

void printSignInFailure(const SignInOutcome& outcome, const Output& output, QJsonObject json) {
  const oauth::Problem& problem = *outcome.problem;
  if (output.json) {
    QJsonObject error{{"code", QString::fromStdString(std::string(oauth::problemKindName(problem.kind)))},
                      {"fault", QString::fromStdString(std::string(faultName(oauth::faultOf(problem.kind))))},
                      {"explanation", QString::fromStdString(problem.explanation)}};
    if (!problem.field.empty()) error["field"] = QString::fromStdString(problem.field);
    if (!problem.serverError.empty()) error["server_error"] = QString::fromStdString(problem.serverError);
    if (!problem.serverSaid.empty()) error["server_said"] = QString::fromStdString(problem.serverSaid);
    json["ok"] = false;
    json["exit_status"] = outcome.status;
    json["signIn"] = outcome.steps;
    json["error"] = error;
    json["diagnosis"] = QJsonObject{{"headline", QString::fromStdString(problem.headline)},
                                    {"explanation", QString::fromStdString(problem.explanation)},
                                    {"failed_step", QStringLiteral("SignIn")}};
    printJson(json);
    return;
  }
  // The explanation may quote the provider (its error code): escaped like any server text.
  std::printf("*** Failed at Sign-in: %s\n", safe(problem.headline).c_str());
  std::printf("    %s\n", safe(problem.explanation).c_str());
  if (!problem.serverSaid.empty()) std::printf("*** The provider said: %s\n", safe(problem.serverSaid).c_str());
}

}  // namespace smtpc::cli
