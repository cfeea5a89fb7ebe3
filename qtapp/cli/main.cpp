// smtpc: test an SMTP connection or send a message, and watch the conversation (swaks-like).
//
// Exit status: 0 success; 1 bad usage or input; 2 network (name, refused, lost, timeout);
// 3 TLS (handshake, certificate, STARTTLS); 4 login (AUTH); 5 message refused (sender,
// recipients, size, content); 6 server refused or broke the protocol; 7 cancelled; 8 the OAuth
// sign-in was refused or could not be completed (oauth_options.cpp).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTextStream>
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "smtpc/display.h"
#include "smtpc/explain.h"
#include "smtpc/form.h"
#include "smtpc/message.h"
#include "smtpc/qt/attachment.h"
#include "smtpc/qt/client.h"
#include "smtpc/tls_policy.h"
#include "account_options.h"
#include "discover_options.h"
#include "dsn_options.h"
#include "explain_options.h"
#include "interactive_options.h"
#include "json_output.h"
#include "oauth_options.h"
#include "report_options.h"
#include "standard_input.h"
#include "step_options.h"

using namespace smtpc;

namespace {

// --count sends one --data-file this many times: up to this size it is read once, into memory.
constexpr std::uint64_t kHeldInMemory = 8 << 20;

enum Exit { Ok = 0, Usage = 1, Network = 2, Tls = 3, Auth = 4, MessageRefused = 5, ServerSide = 6, Cancelled = 7 };

// An error's exit status is a column of core's error list (smtpc/error.h, ExitClass), which numbers
// the classes as Exit does.
int exitCodeFor(ErrorCode code) {
  static_assert(static_cast<int>(ExitClass::Ok) == Ok && static_cast<int>(ExitClass::Usage) == Usage &&
                static_cast<int>(ExitClass::Network) == Network && static_cast<int>(ExitClass::Tls) == Tls &&
                static_cast<int>(ExitClass::Auth) == Auth &&
                static_cast<int>(ExitClass::MessageRefused) == MessageRefused &&
                static_cast<int>(ExitClass::ServerSide) == ServerSide &&
                static_cast<int>(ExitClass::Cancelled) == Cancelled);
  return static_cast<int>(exitClassOf(code));
}

QJsonObject replyJson(const std::optional<Reply>& reply) {
  if (!reply) return {};
  QJsonArray lines;
  for (const auto& line : reply->lines) lines.append(QString::fromStdString(line));
  return QJsonObject{{"code", reply->code},
                     {"enhanced", reply->enhanced ? QString::fromStdString(reply->enhanced->toString()) : QString()},
                     {"lines", lines}};
}

QJsonObject errorJson(const Error& e) {
  QJsonObject o{{"code", QString::fromStdString(std::string(errorCodeName(e.code())))},
                {"fault", QString::fromStdString(std::string(faultName(e.fault())))},
                {"transient", e.isTransient()},
                {"explanation", QString::fromStdString(e.explanation())}};
  if (e.reply()) o["reply"] = replyJson(e.reply());
  return o;
}

QJsonObject tlsJson(const TlsInfo& info) {
  QJsonArray chain, problems;
  for (const auto& c : info.chain) {
    QJsonArray sans;
    for (const auto& s : c.subjectAlternativeNames) sans.append(QString::fromStdString(s));
    chain.append(QJsonObject{{"subject", QString::fromStdString(c.subject)}, {"issuer", QString::fromStdString(c.issuer)},
                             {"not_before", QString::fromStdString(c.notBefore)},
                             {"not_after", QString::fromStdString(c.notAfter)}, {"san", sans},
                             {"sha256", QString::fromStdString(c.sha256Fingerprint)},
                             {"pin", QString::fromStdString(tls::pinOf(c))}});
  }
  for (const auto& p : info.verificationErrors) problems.append(QString::fromStdString(p));
  return QJsonObject{{"protocol", QString::fromStdString(info.protocol)}, {"cipher", QString::fromStdString(info.cipher)},
                     {"verified", info.verified}, {"accepted_despite_errors", info.acceptedDespiteErrors},
                     {"problems", problems}, {"chain", chain}};
}


// The examples of --help (and of the man page, which help2man makes from it).
QString examplesHelp() {
  // "$ " before a command: help2man sets it as a command, line by line (a plain indented line is filled).
  return QStringLiteral(
      "\n\nExamples:\n"
      "  Test a server's setup up to the login; smtpc asks for the password:\n"
      "    $ smtpc -s smtp.example.com -u me@example.com\n"
      "  Send a message with the account \"work\" of the accounts file:\n"
      "    $ smtpc -a work -t you@example.net --subject Hello --body \"Hi there\" --attach report.pdf\n"
      "  Send a ready message (headers and body) from standard input:\n"
      "    $ cat message.eml | smtpc -a work -t you@example.net --data -\n"
      "  The password from an environment variable, for a script:\n"
      "    $ SMTP_PASSWORD=... smtpc -s smtp.example.com -u me --password-env SMTP_PASSWORD\n"
      "  Check TLS on port 465 and print the result, certificate chain included, as JSON:\n"
      "    $ smtpc -s smtp.example.com --security tls --quit-after ehlo --json\n"
      "  Find the settings for an address and test them:\n"
      "    $ smtpc --discover me@example.com\n"
      "  What a line of the conversation means, and which RFC says so:\n"
      "    $ smtpc --explain '535 5.7.8 Authentication credentials invalid'\n"
      "  Type the password once and keep it in the system keychain; then use it from there:\n"
      "    $ smtpc -s smtp.example.com -u me --remember-password\n"
      "    $ smtpc -s smtp.example.com -u me --keychain");
}

int usage(const QString& message) {
  std::cerr << "smtpc: " << message.toStdString() << "\n(see smtpc --help)\n";
  return Usage;
}

}  // namespace

int main(int argc, char** argv) {
  // A 100 MB message streams through 64 KB buffers that glibc would otherwise hand back to the
  // system and fault in again on every chunk (half the CPU of tests/bench/run-native's row c).
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Not QT_NO_GLIB, though Qt's own poll() loop would start faster: the keychain (libsecret)
  // answers through GLib's main loop (tst_cli_oauth.keychain fails without it).
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("smtpc"));
  QCoreApplication::setApplicationVersion(QStringLiteral(SMTPC_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Test an SMTP server's setup, or send a message, and watch the conversation explained.\n"
      "Without --to (or --data-file), only the connection is tested: it stops after AUTH.\n"
      "Transcript: === notes, -> / <- clear text, ~> / <~ inside TLS, *** errors.\n"
      "Exit status: 0 ok, 1 usage/input, 2 network, 3 TLS, 4 login, 5 message refused, 6 server, 7 cancelled,\n"
      "8 OAuth sign-in refused or not completed.") + cli::accountsHelp() + cli::oauthHelp() + cli::discoverHelp() +
      examplesHelp());
  parser.addHelpOption();
  const QCommandLineOption version(QStringList{"version"}, "Print the version and exit.");
  parser.addOption(version);
  auto opt = [&](const QStringList& names, const QString& help, const QString& value = {}) {
    QCommandLineOption o(names, help, value);
    parser.addOption(o);
    return o;
  };
  const auto server = opt({"s", "server"}, "Server name or address, optionally with :PORT ([::1]:25 for IPv6).", "HOST[:PORT]");
  const auto port = opt({"p", "port"}, "Port (default: 25 none, 587 starttls, 465 tls).", "N");
  const auto security = opt({"security"}, "none | starttls (default) | starttls-if-offered (unsafe) | tls", "MODE");
  const auto user = opt({"u", "user"}, "Log in as NAME (AUTH).", "NAME");
  const auto passwordEnv = opt({"password-env"}, "Read the password from environment variable VAR.", "VAR");
  const auto passwordStdin = opt({"password-stdin"}, "Read the password from the first line of standard input.");
  const auto tokenEnv = opt({"token-env"}, "Read an OAuth2 access token from VAR (XOAUTH2 / OAUTHBEARER).", "VAR");
  const cli::OAuthOptions oauthOptions = cli::addOAuthOptions(parser);
  const cli::DiscoverOptions discoverOptions = cli::addDiscoverOptions(parser);
  const cli::ExplainOptions explainOptions = cli::addExplainOptions(parser);
  const auto auth = opt({"auth"}, "auto | scram-sha-256 | scram-sha-1 | plain | login | cram-md5 | xoauth2 | oauthbearer", "MECH");
  const auto allowPlain = opt({"allow-plaintext-auth"}, "Allow sending the password without TLS (test servers only).");
  const auto caFile = opt({"ca-file"}, "Trust the CA certificates in FILE (PEM) too.", "FILE");
  const auto pin = opt({"pin"}, "Require this public key: sha256//BASE64 (repeatable).", "PIN");
  const auto insecure = opt({"insecure"}, "Go on even if the certificate is invalid (shown loudly).");
  const auto tlsMin = opt({"tls-min"}, "Lowest TLS version: 1.2 (default) or 1.3.", "VERSION");
  const auto tlsName = opt({"tls-name"}, "Name to verify in the certificate (and SNI), if not the server name.", "NAME");
  const auto clientCert = opt({"client-cert"}, "Client certificate (PEM).", "FILE");
  const auto clientKey = opt({"client-key"}, "Client private key (PEM).", "FILE");
  const auto ehlo = opt({"ehlo"}, "Name to send in EHLO (default: our address as a literal).", "NAME");
  const auto noChunking = opt({"no-chunking"}, "Send with DATA even if the server offers CHUNKING (BDAT, RFC 3030).");
  const auto from = opt({"f", "from"}, "Sender: ADDR or \"Name <ADDR>\".", "ADDR");
  const auto to = opt({"t", "to"}, "Recipient (repeatable).", "ADDR");
  const auto cc = opt({"cc"}, "Copy recipient (repeatable).", "ADDR");
  const auto bcc = opt({"bcc"}, "Blind copy recipient (repeatable; never in a header).", "ADDR");
  const auto subject = opt({"subject"}, "Subject.", "TEXT");
  const auto body = opt({"body"}, "Body text.", "TEXT");
  const auto bodyFile = opt({"body-file"}, "Body text from FILE.", "FILE");
  const auto attach = opt({"attach"}, "Attach FILE (repeatable).", "FILE");
  const auto header = opt({"header"}, "Extra header \"Name: value\" (repeatable).", "HEADER");
  const auto dataFile = opt({"data-file", "data"}, "Send FILE as the message, as it is (RFC 5322); - reads it from standard input.", "FILE");
  const auto count = opt({"count"}, "Send the message N times over one connection.", "N");
  const auto quitAfter = opt({"quit-after"}, "Stop after: connect | tls | ehlo | auth | mail | rcpt", "PHASE");
  const auto sendToAccepted = opt({"send-to-accepted"}, "If some recipients are refused, send to the others.");
  const cli::DsnOptions dsnOptions = cli::addDsnOptions(parser);
  const auto timeout = opt({"timeout"}, "Seconds to wait for each step (default 60).", "SECONDS");
  const auto printMessage = opt({"print-message"}, "Compose the message, print it, send nothing.");
  const cli::AccountOptions accountOptions = cli::addAccountOptions(parser);
  const auto json = opt({"json"}, "Print one JSON object: result, capabilities, TLS, messages, transcript (docs/json.md).");
  const auto quiet = opt({"q", "quiet"}, "Print only the result.");
  const auto verbose = opt({"v", "verbose"}, "Also print timings.");
  const QCommandLineOption reportOption = cli::addReportOption(parser);
  const QCommandLineOption stepOption = cli::addStepOption(parser);
  const QCommandLineOption interactiveOption = cli::addInteractiveOption(parser);
  parser.process(app);
  if (parser.isSet(version)) {
    std::cout << "smtpc " SMTPC_VERSION "\n";
    return Ok;
  }
  if (parser.isSet(explainOptions.explain))
    return cli::printExplanation(parser.value(explainOptions.explain), parser.isSet(json));
  if (parser.isSet(interactiveOption)) return cli::runInteractive(parser);

  if (!parser.positionalArguments().isEmpty()) return usage("unexpected argument " + parser.positionalArguments().first());
  QString reportWhy;
  std::optional<cli::RunReport> report = cli::RunReport::fromOptions(parser, reportOption, &reportWhy);
  if (!reportWhy.isEmpty()) return usage(reportWhy);

  // --- the account (account_options.cpp): its values where the command line gives none
  if (parser.isSet(accountOptions.account) && parser.isSet(discoverOptions.discover))
    return usage("--discover finds the server that --account names: choose one");
  QString accountWhy;
  const std::optional<accounts::Account> account = cli::chooseAccount(
      parser, accountOptions, parser.isSet(server) || parser.isSet(discoverOptions.discover), &accountWhy);
  if (!accountWhy.isEmpty()) return usage(accountWhy);
  auto valueOf = [&](const QCommandLineOption& o, const std::string& accountValue) {
    return parser.isSet(o) || !account ? parser.value(o) : QString::fromStdString(accountValue);
  };
  const QString userName = valueOf(user, account ? account->user : "");
  const QString caFilePath = valueOf(caFile, account ? account->caFile : "");

  // --- OAuth 2: the settings now, the sign-in itself just before connecting (oauth_options.cpp)
  std::optional<oauth::Settings> oauthSettings;
  if (cli::oauthRequested(parser, oauthOptions)) {
    QString why;
    oauthSettings = cli::readOAuthSettings(parser, oauthOptions, userName.toStdString(), &why);
    if (!oauthSettings) return usage(why);
    if (parser.isSet(oauthOptions.forget)) return cli::forgetRefreshToken(*oauthSettings);
    if (parser.isSet(passwordEnv) || parser.isSet(passwordStdin) || parser.isSet(tokenEnv) ||
        parser.isSet(accountOptions.keychain) || parser.isSet(accountOptions.rememberPassword))
      return usage("--oauth signs in for a token: leave out --password-env, --password-stdin, --token-env, --keychain "
                   "and --remember-password");
  }

  // --- settings discovery (discover_options.cpp); --resolve and --dns-server apply to every connection
  QString networkWhy;
  const auto network = cli::readNetworkOptions(parser, discoverOptions, &networkWhy);
  if (!network) return usage(networkWhy);
  std::optional<cli::DiscoverOutcome> discovered;
  if (parser.isSet(discoverOptions.discover)) {
    if (parser.isSet(server) || parser.isSet(port) || parser.isSet(security))
      return usage("--discover finds the server, port and security: leave out --server, --port and --security");
    std::string caPem;
    if (!caFilePath.isEmpty()) {
      QString why;
      auto pem = qt::readFile(caFilePath, &why);
      if (!pem) return usage("--ca-file: " + why);
      caPem = *pem;
    }
    discovered = cli::discover(parser, discoverOptions, *network, caPem, parser.value(ehlo).toStdString(),
                               cli::Output{parser.isSet(json), parser.isSet(quiet), parser.isSet(verbose)});
    // Without a login there is nothing more to test: the probe went as far as a test without one.
    if (discovered->status != Ok || (userName.isEmpty() && !oauthSettings)) {
      if (parser.isSet(json)) cli::printJson(discovered->json);
      return discovered->status;
    }
  }

  // --- the message, if any
  const bool dataFromStandardInput = parser.value(dataFile) == QLatin1String("-");
  if (dataFromStandardInput && parser.isSet(passwordStdin))
    return usage("--data - and --password-stdin both read standard input: give the password another way");
  if (const QString conflict = cli::stepConflict(parser.isSet(passwordStdin), dataFromStandardInput);
      parser.isSet(stepOption) && !conflict.isEmpty())
    return usage(conflict);
  std::shared_ptr<BodySource> messageBody;
  Envelope envelope;
  const bool wantsMessage = parser.isSet(to) || parser.isSet(cc) || parser.isSet(bcc) || parser.isSet(dataFile);
  if (wantsMessage || parser.isSet(printMessage)) {
    Message m;
    auto mailboxes = [&](const QCommandLineOption& o, std::vector<Mailbox>& into, QString* why) {
      for (const QString& value : parser.values(o)) {
        for (const std::string& text : form::splitAddresses(value.toStdString())) {  // "--to 'a@x, b@y'" too
          auto mailbox = Mailbox::parse(text);
          if (!mailbox) {
            *why = QStringLiteral("--%1 %2: %3")
                       .arg(o.names().last(), QString::fromStdString(text), QString::fromStdString(mailbox.error().explanation()));
            return false;
          }
          into.push_back(*mailbox);
        }
      }
      return true;
    };
    QString why;
    if (const QString senderText = valueOf(from, account ? account->from : ""); !senderText.isEmpty()) {
      auto sender = Mailbox::parse(senderText.toStdString());
      if (!sender) return usage("--from: " + QString::fromStdString(sender.error().explanation()));
      m.from = *sender;
    }
    if (!mailboxes(to, m.to, &why) || !mailboxes(cc, m.cc, &why) || !mailboxes(bcc, m.bcc, &why)) return usage(why);
    if (!cli::readDsnOptions(parser, dsnOptions, m.dsn, &why)) return usage(why);
    if (parser.isSet(dataFile)) {
      // Streamed from the file as it is sent: any size, constant memory. "-": standard input.
      Result<std::shared_ptr<ContentSource>> content = std::shared_ptr<ContentSource>();
      if (dataFromStandardInput) {
        content = cli::messageFromStandardInput();
      } else if (auto file = FileContent::open(parser.value(dataFile).toStdString())) {
        content = std::shared_ptr<ContentSource>(*file);
        // --count: a small file is read once, not once per copy (two system calls a message less).
        if (parser.isSet(count) && (*file)->size() <= kHeldInMemory) {
          std::string bytes(static_cast<std::size_t>((*file)->size()), '\0');
          auto got = (*file)->read(std::span<char>(bytes));
          if (got && *got == bytes.size()) content = std::shared_ptr<ContentSource>(std::make_shared<MemoryContent>(std::move(bytes)));
        }
      } else {
        content = file.error();
      }
      auto streamed = content ? SourceBody::create(*content) : Result<std::shared_ptr<SourceBody>>(content.error());
      if (!streamed) return usage("--data-file: " + QString::fromStdString(streamed.error().explanation()));
      envelope = m.envelope();
      messageBody = *streamed;
      if (parser.isSet(printMessage)) {
        std::cout << (*streamed)->size().value_or(0) << " octets from "
                  << (dataFromStandardInput ? std::string("standard input") : parser.value(dataFile).toStdString()) << "\n";
        return Ok;
      }
    } else {
      if (m.from.empty()) return usage("--from is needed to send a message");
      m.subject = parser.value(subject).toStdString();
      m.text = parser.value(body).toStdString();
      if (parser.isSet(bodyFile)) {
        auto content = qt::readFile(parser.value(bodyFile), &why);
        if (!content) return usage(why);
        m.text = *content;
      }
      for (const QString& h : parser.values(header)) {
        const auto colon = h.indexOf(QLatin1Char(':'));
        if (colon <= 0) return usage("--header \"" + h + "\": expected \"Name: value\"");
        m.headers.emplace_back(h.left(colon).trimmed().toStdString(), h.mid(colon + 1).trimmed().toStdString());
      }
      for (const QString& path : parser.values(attach)) {
        auto a = qt::attachFile(path);
        if (!a) return usage("--attach: " + QString::fromStdString(a.error().explanation()));
        m.attachments.push_back(*a);
      }
      m.headers.emplace_back("X-Mailer", "SMTPc " SMTPC_VERSION);
      const QDateTime now = QDateTime::currentDateTime();
      auto composed = m.compose(DateTime{now.toSecsSinceEpoch(), now.offsetFromUtc() / 60});
      if (!composed) return usage(QString::fromStdString(composed.error().explanation()));
      if (parser.isSet(printMessage)) {
        auto text = (*composed)->toString();
        if (!text) return usage(QString::fromStdString(text.error().explanation()));
        std::cout << *text;
        return Ok;
      }
      envelope = m.envelope();
      messageBody = *composed;
    }
  }

  // --- the connection
  ConnectParams params;
  const QString serverText = valueOf(server, account ? account->server : "");
  if (serverText.isEmpty() && !discovered)
    return usage(account ? "account " + QString::fromStdString(account->name) + " names no server: give --server"
                         : QStringLiteral("--server is needed (or --discover ADDRESS, or an account: -a NAME)"));
  QString host = discovered ? QString::fromStdString(discovered->outcome->chosen.host) : serverText;
  // Checked as typed, before HOST:PORT is split off: "smtp://mail.example.com" is not a server name.
  if (const auto problem = form::checkServer(host.toStdString()))
    return usage("--server: " + QString::fromStdString(problem->explanation));
  const auto split = form::splitServer(host.toStdString());
  if (!split) return usage("--server: unclosed '[' in " + host);
  int portNumber = split->port;
  host = QString::fromStdString(split->host);
  if (parser.isSet(port)) portNumber = parser.value(port).toInt();
  else if (portNumber == 0 && account && account->port) portNumber = *account->port;
  if (discovered) portNumber = discovered->outcome->chosen.port;
  if (portNumber < 0 || portNumber > 65535) return usage("the port must be 1 to 65535");
  params.host = host.trimmed().toStdString();
  params.port = static_cast<std::uint16_t>(portNumber);
  if (parser.isSet(security)) {
    auto mode = securityModeFromName(parser.value(security).toStdString());
    if (!mode) return usage("--security must be none, starttls, starttls-if-offered or tls");
    params.security = *mode;
  } else if (account && account->security) {
    params.security = *account->security;
  }
  if (discovered) params.security = discovered->outcome->chosen.security;
  params.credentials.username = userName.toStdString();
  if (parser.isSet(accountOptions.keychain) && (parser.isSet(passwordEnv) || parser.isSet(passwordStdin)))
    return usage("--keychain is a password source, as --password-env and --password-stdin are: give one");
  if (parser.isSet(passwordEnv)) {
    const QByteArray value = qgetenv(parser.value(passwordEnv).toLocal8Bit().constData());
    if (value.isNull()) return usage("--password-env: the variable " + parser.value(passwordEnv) + " is not set");
    params.credentials.password = Secret(value.toStdString());
  } else if (parser.isSet(passwordStdin)) {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    params.credentials.password = Secret(std::move(line));
  }
  if (parser.isSet(tokenEnv)) {
    const QByteArray value = qgetenv(parser.value(tokenEnv).toLocal8Bit().constData());
    if (value.isNull()) return usage("--token-env: the variable " + parser.value(tokenEnv) + " is not set");
    params.credentials.oauthToken = Secret(value.toStdString());
  }
  // No password from the command line: the keychain, the account or a prompt (account_options.cpp).
  const cli::PasswordQuestion passwordQuestion{account ? &*account : nullptr, parser.isSet(accountOptions.keychain),
                                               params.host, params.effectivePort(), params.credentials.username,
                                               dataFromStandardInput || parser.isSet(passwordStdin) || parser.isSet(stepOption)};
  const bool tokenLogin = !params.credentials.oauthToken.empty() || oauthSettings;
  if (parser.isSet(accountOptions.rememberPassword) && (params.credentials.username.empty() || tokenLogin))
    return usage("--remember-password keeps a login's password: give --user (not with --token-env or --oauth)");
  bool passwordFromKeychain = false;
  if (!params.credentials.username.empty() && params.credentials.password.empty() && !tokenLogin) {
    cli::FoundPassword found = cli::findPassword(passwordQuestion);
    if (found.status == Cancelled) {
      std::cerr << "smtpc: " << found.why.toStdString() << "\n";
      return Cancelled;
    }
    if (found.status != Ok) return usage(found.why);
    params.credentials.password = std::move(found.password);
    passwordFromKeychain = found.fromKeychain;
  }
  if (parser.isSet(auth)) {
    auto mechanism = mechanismFromName(parser.value(auth).toUpper().toStdString());
    if (!mechanism) return usage("--auth must be auto, scram-sha-256, scram-sha-1, plain, login, cram-md5, xoauth2 or oauthbearer");
    params.authMechanism = *mechanism;
  } else if (account && account->auth) {
    params.authMechanism = *account->auth;
  }
  params.allowPlaintextAuth = parser.isSet(allowPlain);
  params.useChunking = !parser.isSet(noChunking);
  QString why;
  if (!caFilePath.isEmpty()) {
    auto pem = qt::readFile(caFilePath, &why);
    if (!pem) return usage("--ca-file: " + why);
    params.tls.caCertificatesPem = *pem;
  }
  for (const QString& p : parser.values(pin)) {
    form::Problem problem;
    auto pins = form::parsePins(p.toStdString(), &problem);
    if (!pins) return usage("--pin must look like sha256//BASE64");
    params.tls.pinnedSha256.insert(params.tls.pinnedSha256.end(), pins->begin(), pins->end());
  }
  params.tls.acceptInvalidCertificate = parser.isSet(insecure);
  if (parser.isSet(tlsMin)) {
    if (parser.value(tlsMin) == QStringLiteral("1.3")) params.tls.minimumVersion = TlsVersion::Tls1_3;
    else if (parser.value(tlsMin) != QStringLiteral("1.2")) return usage("--tls-min must be 1.2 or 1.3");
  }
  params.tls.verifyName = parser.value(tlsName).toStdString();
  if (parser.isSet(clientCert) != parser.isSet(clientKey)) return usage("--client-cert and --client-key go together");
  if (parser.isSet(clientCert)) {
    auto certificate = qt::readFile(parser.value(clientCert), &why);
    auto key = certificate ? qt::readFile(parser.value(clientKey), &why) : std::nullopt;
    if (!certificate || !key) return usage(why);
    params.tls.clientCertificatePem = *certificate;
    params.tls.clientKeyPem = *key;
  }
  params.ehloName = valueOf(ehlo, account ? account->ehlo : "").toStdString();
  // Without a message the run is a connection test (core's policy: it stops after AUTH unless
  // --quit-after says otherwise); with one it sends, unless --quit-after stops it first.
  std::optional<Phase> chosenStop;
  if (parser.isSet(quitAfter)) {
    auto phase = phaseFromName(parser.value(quitAfter).toStdString());
    if (!phase || *phase == Phase::None) return usage("--quit-after must be connect, tls, ehlo, auth, mail or rcpt");
    chosenStop = *phase;
  }
  const form::RunPlan plan = form::planRun(messageBody ? form::RunKind::Send : form::RunKind::Test, chosenStop);
  if (plan.needsEnvelope && !messageBody) return usage("--quit-after mail/rcpt needs a message: give --from and --to");
  params.quitAfter = plan.stopAfter;
  if (parser.isSet(sendToAccepted)) params.recipientPolicy = RecipientPolicy::SendToAccepted;
  const double seconds = parser.isSet(timeout) ? parser.value(timeout).toDouble() : 60.0;
  if (seconds <= 0) return usage("--timeout must be a positive number of seconds");
  params.timeouts = Timeouts::uniform(Duration(static_cast<std::int64_t>(seconds * 1000)));
  const int copies = parser.isSet(count) ? parser.value(count).toInt() : 1;
  if (copies < 1) return usage("--count must be 1 or more");

  // --- run
  const bool asJson = parser.isSet(json), isQuiet = parser.isSet(quiet), isVerbose = parser.isSet(verbose);
  const bool annotate = parser.isSet(explainOptions.annotate);
  std::signal(SIGINT, [](int) { QMetaObject::invokeMethod(qApp, [] { qApp->exit(Cancelled); }, Qt::QueuedConnection); });
  QJsonArray signInSteps;
  if (oauthSettings) {
    const cli::Output output{asJson, isQuiet, isVerbose};
    const cli::SignInOutcome signedIn = cli::signIn(std::move(*oauthSettings), params.tls.caCertificatesPem, output);
    if (signedIn.problem) {
      cli::printSignInFailure(signedIn, output,
                              QJsonObject{{"server", QString::fromStdString(params.host)}, {"port", params.effectivePort()},
                                          {"security", QString::fromStdString(std::string(securityModeName(params.security)))}});
      return signedIn.status;
    }
    if (signedIn.status != Ok) return signedIn.status;
    params.credentials.oauthToken = signedIn.accessToken;
    signInSteps = signedIn.steps;
  }
  qt::QtClient client;
  // The same story as the GUI and the page: where it failed, in plain words, what to try.
  Explainer explainer(params, messageBody != nullptr);
  if (report) report->begin(params, messageBody != nullptr);
  bool loggedIn = false;  // for --remember-password: only a password the server took is kept
  QObject::connect(&client, &qt::QtClient::sessionEvent, [&](const Event& e) {
    explainer.onEvent(e);
    if (report) report->onEvent(e);
    if (std::holds_alternative<AuthSucceeded>(e)) loggedIn = true;
  });
  std::string lastErrorLine;  // the transcript's last error, so the summary does not repeat it
  QJsonArray transcript, capabilities, messages;
  QJsonObject tls;
  int delivered = 0, failedMessages = 0;
  std::optional<Finished> outcome;

  QObject::connect(&client, &qt::QtClient::transcript, [&](const TranscriptEntry& e) {
    if (asJson) {
      transcript.append(QJsonObject{{"kind", QString::fromStdString(std::string(transcriptKindName(e.kind)))},
                                    {"encrypted", e.encrypted}, {"at_ms", static_cast<qint64>(e.at.count())},
                                    {"text", QString::fromStdString(e.text)}});
      if (annotate) {
        QJsonObject entry = transcript.last().toObject();
        entry["explanation"] = cli::explanationJson(explainLine(e));
        transcript.replace(transcript.size() - 1, entry);
      }
      return;
    }
    if (e.kind == TranscriptKind::Error) lastErrorLine = e.text;
    if (isQuiet) return;
    if (isVerbose) std::printf("%7.3f ", static_cast<double>(e.at.count()) / 1000.0);
    std::printf("%s %s\n", std::string(transcriptPrefix(e)).c_str(), escapeForTerminal(e.text).c_str());
    if (annotate) cli::printAnnotation(e);
  });
  QObject::connect(&client, &qt::QtClient::capabilitiesReceived, [&](const Capabilities& caps, bool) {
    capabilities = QJsonArray();
    for (const auto& entry : caps.entries()) {
      QString line = QString::fromStdString(entry.keyword);
      for (const auto& p : entry.params) line += QLatin1Char(' ') + QString::fromStdString(p);
      capabilities.append(line);
    }
  });
  QObject::connect(&client, &qt::QtClient::tlsEstablished, [&](const TlsInfo& info) { tls = tlsJson(info); });
  QObject::connect(&client, &qt::QtClient::messageResult, [&](const MessageResult& r) {
    (r.error ? failedMessages : delivered)++;
    if (!asJson) return;  // --count 10000: no JSON built that nobody prints
    QJsonObject o{{"index", static_cast<qint64>(r.message)}, {"ok", !r.error}};
    if (r.error) o["error"] = errorJson(r.error);
    if (r.reply) o["reply"] = replyJson(r.reply);
    if (r.dsnOmitted) o["dsnOmitted"] = true;  // delivery reports asked, the server offers no DSN: sent without
    QJsonArray recipients;
    for (const auto& rr : r.recipients)
      recipients.append(QJsonObject{{"address", QString::fromStdString(rr.address)}, {"accepted", rr.accepted},
                                    {"reply", replyJson(rr.reply)}});
    o["recipients"] = recipients;
    messages.append(o);
  });
  QObject::connect(&client, &qt::QtClient::ready, [&] {
    for (int i = 0; i < (messageBody ? copies : 0); ++i) {
      auto index = client.sendMessage(OutgoingMessage{envelope, messageBody});
      if (!index) {
        outcome = Finished{index.error(), Phase::None};
        client.cancel();
        return;
      }
    }
    client.disconnectFromServer();
  });
  QObject::connect(&client, &qt::QtClient::finished, [&](const Finished& f) {
    if (!outcome) outcome = f;
    QMetaObject::invokeMethod(&app, &QCoreApplication::quit, Qt::QueuedConnection);
  });

  // --resolve / --dns-server: connect to the address found, verify the certificate against the name.
  const std::string serverName = params.host;
  if (!network->empty()) {
    QString unresolved;
    auto resolved = cli::resolveForConnection(*network, params, &unresolved);
    if (!resolved) {
      std::printf("*** Failed at Connect: %s\n", escapeForTerminal(unresolved.toStdString()).c_str());
      return Network;
    }
    params = std::move(*resolved);
  }
  const auto stepper = parser.isSet(stepOption) ? cli::stepThrough(client, asJson) : nullptr;
  if (Error error = client.connectToServer(params)) return usage(QString::fromStdString(error.explanation()));
  const int loopResult = app.exec();
  if (!outcome) {
    client.cancel();
    outcome = Finished{Error(ErrorCode::Cancelled, "Interrupted."), Phase::None};
    if (loopResult != Cancelled) return loopResult;
  }

  const Error& error = outcome->error;
  int status = exitCodeFor(error.code());
  // Written after a failure too: that is when a learner most wants the handout.
  if (QString reportFailure; report && !report->write(*outcome, &reportFailure)) {
    std::cerr << "smtpc: " << reportFailure.toStdString() << "\n";
    if (status == Ok) status = Usage;
  }
  if (parser.isSet(accountOptions.rememberPassword) && loggedIn && !passwordFromKeychain)
    cli::rememberPassword(passwordQuestion, params.credentials.password);
  if (asJson) {
    QJsonObject result{{"ok", !error}, {"exit_status", status},
                       {"server", QString::fromStdString(serverName)}, {"port", params.effectivePort()},
                       {"security", QString::fromStdString(std::string(securityModeName(params.security)))},
                       {"capabilities", capabilities}, {"messages", messages}, {"transcript", transcript}};
    if (!signInSteps.isEmpty()) result["signIn"] = signInSteps;
    if (discovered) result["discovery"] = discovered->json;
    const Diagnosis d = explainer.diagnosis();
    result["encrypted"] = d.encrypted;
    if (!d.warning.empty()) result["warning"] = QString::fromStdString(d.warning);
    if (error) {
      result["error"] = errorJson(error);
      QJsonArray suggestions;
      for (const auto& suggestion : d.suggestions) suggestions.append(QString::fromStdString(suggestion));
      QJsonObject diagnosis{{"headline", QString::fromStdString(d.headline)},
                            {"explanation", QString::fromStdString(d.explanation)}, {"suggestions", suggestions}};
      if (const auto step = explainer.failedStep()) diagnosis["failed_step"] = QString::fromStdString(std::string(stepName(*step)));
      result["diagnosis"] = diagnosis;
    }
    if (!tls.isEmpty()) result["tls"] = tls;
    if (outcome->stoppedAfter != Phase::None)
      result["stopped_after"] = QString::fromStdString(std::string(phaseName(outcome->stoppedAfter)));
    cli::printJson(result);
    return status;
  }
  // Everything below may carry the server's words: printed escaped, never raw.
  const auto safe = [](std::string_view text) { return escapeForTerminal(text); };
  const Diagnosis d = explainer.diagnosis();
  if (error) {
    const auto step = explainer.failedStep();
    std::printf("*** Failed%s%s: %s\n", step ? " at " : "", step ? std::string(stepLabel(*step)).c_str() : "",
                safe(d.headline.empty() ? error.explanation() : d.headline).c_str());
    if (isQuiet || d.explanation != lastErrorLine) std::printf("    %s\n", safe(d.explanation).c_str());
    if (error.reply()) std::printf("*** The server said: %s\n", safe(error.reply()->summary()).c_str());
    for (const auto& suggestion : d.suggestions) std::printf("    Try: %s\n", safe(suggestion).c_str());
  } else if (outcome->stoppedAfter != Phase::None) {
    std::printf("=== OK%s: the connection works up to %s; stopped there as asked.\n",
                d.encrypted ? "" : " (NOT ENCRYPTED)", std::string(phaseName(outcome->stoppedAfter)).c_str());
  } else {
    std::printf("=== OK%s: %d message(s) accepted by the server.\n", d.encrypted ? "" : " (NOT ENCRYPTED)", delivered);
  }
  if (!d.warning.empty()) std::printf("*** %s\n", safe(d.warning).c_str());
  return status;
}
