// smtpc --discover: see discover_options.h.
#include "discover_options.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonDocument>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "smtpc/display.h"

namespace smtpc::cli {

namespace {
std::string safe(std::string_view text) { return escapeForTerminal(text); }
}  // namespace

DiscoverOptions addDiscoverOptions(QCommandLineParser& parser) {
  DiscoverOptions o{
      QCommandLineOption(QStringList{"discover"}, "Find the settings for ADDRESS (provider table, autoconfig, ISPDB, DNS SRV, MX, "
                                       "guesses), verify them, and explain the choice. With -u/--oauth, go on to test "
                                       "the login with them.", "ADDRESS"),
      QCommandLineOption(QStringList{"dns-server"}, "Ask this DNS server (port 53) instead of the system's, for every name.", "ADDR"),
      QCommandLineOption(QStringList{"resolve"}, "Connect to ADDR for HOST:PORT, for every connection (like curl's; repeatable).",
                         "HOST:PORT:ADDR"),
      QCommandLineOption(QStringList{"ispdb"}, "The ISPDB's base URL (default https://autoconfig.thunderbird.net/v1.1/).", "URL"),
      QCommandLineOption(QStringList{"allow-http-autoconfig"}, "Use a domain's autoconfig over plain HTTP without asking."),
  };
  for (const auto& option : {o.discover, o.dnsServer, o.resolve, o.ispdb, o.allowHttp}) parser.addOption(option);
  return o;
}

std::optional<qt::NetworkOptions> readNetworkOptions(const QCommandLineParser& parser, const DiscoverOptions& options,
                                                     QString* usage) {
  qt::NetworkOptions network;
  for (const QString& text : parser.values(options.resolve)) {
    auto entry = qt::NetworkOptions::parseResolve(text, usage);
    if (!entry) return std::nullopt;
    network.resolve.append(*entry);
  }
  if (parser.isSet(options.dnsServer)) {
    network.dnsServer = QHostAddress(parser.value(options.dnsServer));
    if (network.dnsServer.isNull()) {
      *usage = "--dns-server wants an IP address, not \"" + parser.value(options.dnsServer) + "\"";
      return std::nullopt;
    }
  }
  return network;
}

std::optional<ConnectParams> resolveForConnection(const qt::NetworkOptions& network, ConnectParams params, QString* why) {
  QEventLoop loop;
  std::optional<ConnectParams> result;
  bool done = false;
  qt::resolveConnection(network, std::move(params), &loop, [&](std::optional<ConnectParams> resolved, const QString& reason) {
    result = std::move(resolved);
    if (!result) *why = reason;
    done = true;
    loop.quit();
  });
  if (!done) loop.exec();
  return result;
}

DiscoverOutcome discover(const QCommandLineParser& parser, const DiscoverOptions& options,
                         const qt::NetworkOptions& network, const std::string& caPem, const std::string& ehloName,
                         const Output& output) {
  discovery::Settings settings;
  settings.address = parser.value(options.discover).toStdString();
  if (parser.isSet(options.ispdb)) settings.ispdbBase = parser.value(options.ispdb).toStdString();
  const bool canAsk = !output.json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  settings.plainHttp = parser.isSet(options.allowHttp) ? discovery::PlainHttp::Allow
                       : canAsk                        ? discovery::PlainHttp::Ask
                                                       : discovery::PlainHttp::Refuse;
  settings.tls.caCertificatesPem = caPem;
  settings.ehloName = ehloName;

  DiscoverOutcome result;
  qt::Discovery discovery(settings, network);
  const bool talk = !output.json && !output.quiet;
  if (talk) std::printf("=== Finding the settings for %s\n", safe(settings.address).c_str());
  discovery.setConfirmHandler([&](const discovery::ConfirmPlainHttp& question, std::function<void(bool)> answer) {
    std::printf("??? %s [y/N] ", safe(question.question).c_str());
    std::fflush(stdout);
    std::string line;
    std::getline(std::cin, line);
    answer(!line.empty() && (line[0] == 'y' || line[0] == 'Y'));
  });
  QObject::connect(&discovery, &qt::Discovery::step, [&](const discovery::Step& s) {
    if (!talk) return;
    std::printf("--- %-10s %s\n      %s%s\n", std::string(discovery::sourceName(s.source)).c_str(), safe(s.query).c_str(),
                safe(s.result).c_str(),
                s.took.count() > 0 ? (" (" + std::to_string(s.took.count()) + " ms)").c_str() : "");
  });
  QEventLoop loop;
  QObject::connect(&discovery, &qt::Discovery::finished, [&](const discovery::Outcome& outcome) {
    result.outcome = outcome;
    loop.quit();
  });
  discovery.start();
  if (discovery.isRunning() && loop.exec() != 0) discovery.cancel();
  if (!result.outcome) {
    result.status = 7;
    return result;
  }
  const discovery::Outcome& o = *result.outcome;
  result.json =
      QJsonDocument::fromJson(QByteArray::fromStdString(discovery::toJson(settings.address, o, discovery.flow().steps())))
          .object();
  result.status = o.found ? 0 : discovery.flow().domain().empty() ? 1 : 2;
  if (output.json) return result;

  if (!o.found) {
    std::printf("*** No settings found.\n    %s\n", safe(o.failure).c_str());
    return result;
  }
  const auto& c = o.chosen;
  std::printf("=== Found: %s port %u, security %s\n", safe(c.host).c_str(), c.port,
              std::string(securityModeName(c.security)).c_str());
  if (output.quiet) return result;
  std::printf("    %s\n", safe(o.decidedBy).c_str());
  for (const auto& r : o.reasons) std::printf("    Why: %s\n", safe(r).c_str());
  for (const auto& d : o.disagreements) std::printf("    Note: %s\n", safe(d).c_str());
  for (const auto& w : o.warnings) std::printf("*** Warning: %s\n", safe(w).c_str());
  for (const auto& a : o.advice) std::printf("    %s\n", safe(a).c_str());
  std::printf("    To test a login with them: smtpc --server %s --port %u --security %s -u %s --password-env VAR\n",
              safe(c.host).c_str(), c.port, std::string(securityModeName(c.security)).c_str(),
              safe(c.username.empty() ? settings.address : c.username).c_str());
  return result;
}

QString discoverHelp() {
  return QStringLiteral(
      "\n\nSettings discovery (--discover ADDRESS): asks, in this order, SMTPc's provider table, the domain's\n"
      "autoconfig (https://autoconfig.DOMAIN/, then /.well-known/), the ISPDB, DNS SRV (_submissions._tcp,\n"
      "_submission._tcp), the MX host's provider, and last guesses (smtp./mail. on 465 and 587); then connects\n"
      "to each server named, up to EHLO and never with a password, and picks the best verified one. Exit\n"
      "status 2 when nothing works.");
}

}  // namespace smtpc::cli
