// smtpc --discover (issue 15): from an e-mail address to verified settings, with the reasoning
// printed (core's flow, driven by smtpc::qt::Discovery); and --resolve / --dns-server, which
// apply to every connection of the run.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QJsonObject>
#include <QString>
#include <optional>
#include <string>

#include "oauth_options.h"
#include "smtpc/discovery.h"
#include "smtpc/qt/discovery.h"

namespace smtpc::cli {

struct DiscoverOptions {
  QCommandLineOption discover, dnsServer, resolve, ispdb, allowHttp;
};
DiscoverOptions addDiscoverOptions(QCommandLineParser& parser);

// --resolve and --dns-server; nullopt with `usage` set when one is malformed.
std::optional<qt::NetworkOptions> readNetworkOptions(const QCommandLineParser& parser, const DiscoverOptions& options,
                                                     QString* usage);

// The SMTP session's params aimed at the address the options give (qt::resolveConnection), waiting
// for the answer; nullopt with `why` when the name does not resolve.
std::optional<ConnectParams> resolveForConnection(const qt::NetworkOptions& network, ConnectParams params, QString* why);

struct DiscoverOutcome {
  int status = 0;  // exit status: 0 found, 1 not an address, 2 nothing found, 7 cancelled
  std::optional<discovery::Outcome> outcome;
  QJsonObject json;  // core's discovery JSON
};

// Runs discovery for parser.value(discover), printing the steps as they come (not with --json or
// --quiet) and the outcome (not with --json; the caller prints `json`). `tls`: --ca-file and the
// EHLO name, used by the HTTPS lookups and the probes.
DiscoverOutcome discover(const QCommandLineParser& parser, const DiscoverOptions& options,
                         const qt::NetworkOptions& network, const std::string& caPem, const std::string& ehloName,
                         const Output& output);

// What --help says about discovery.
QString discoverHelp();

}  // namespace smtpc::cli
