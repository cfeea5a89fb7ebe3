// Starts a test server (aiosmtpd sandbox or a private Postfix) on free loopback ports for one
// test and stops it with the test: it watches its standard input, so it also dies if the test
// crashes.
#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>
#include <QTcpServer>

// A test server process (tests/servers/*.py) that prints its ports as one JSON line.
class ServerProcess {
 public:
  ServerProcess(const QString& script, const QStringList& arguments) {
    process_.setProgram(QStringLiteral("/usr/bin/python3"));
    process_.setArguments(QStringList{script, QStringLiteral("--exit-on-stdin-eof")} + arguments);
    process_.setProcessChannelMode(QProcess::SeparateChannels);
    process_.start();
    if (!process_.waitForStarted(10000)) return;
    while (!process_.canReadLine() && process_.waitForReadyRead(15000)) {
    }
    info_ = QJsonDocument::fromJson(process_.readLine()).object();
  }
  ~ServerProcess() {
    process_.closeWriteChannel();
    if (!process_.waitForFinished(5000)) {
      process_.kill();
      process_.waitForFinished(2000);
    }
  }
  bool ok() const { return !info_.isEmpty(); }
  QString error() { return QString::fromUtf8(process_.readAllStandardError()); }
  std::uint16_t port(const char* listener) const { return static_cast<std::uint16_t>(info_.value(QLatin1String(listener)).toInt()); }
  QString caFile() const { return info_.value(QStringLiteral("ca_file")).toString(); }
  QString maildir() const { return info_.value(QStringLiteral("maildir")).toString(); }
  QString value(const char* key) const { return info_.value(QLatin1String(key)).toVariant().toString(); }
  QJsonObject object(const char* key) const { return info_.value(QLatin1String(key)).toObject(); }

  // A loopback port with nothing listening: bound, read, closed.
  static std::uint16_t closedPort() {
    QTcpServer server;
    server.listen(QHostAddress::LocalHost, 0);
    const auto port = server.serverPort();
    server.close();
    return port;
  }

 private:
  QProcess process_;
  QJsonObject info_;
};

// The aiosmtpd sandbox (tests/servers/sandbox.py).
class Sandbox : public ServerProcess {
 public:
  explicit Sandbox(const QStringList& arguments = {}) : ServerProcess(QStringLiteral(SMTPC_SANDBOX), arguments) {}
};

#ifdef SMTPC_OAUTH_SERVER
// The local OAuth 2 authorization server (tests/servers/oauth_server.py), under the CA of a
// sandbox started with --oauth and signing tokens with that sandbox's key, so it accepts them.
class AuthServer : public ServerProcess {
 public:
  AuthServer(const ServerProcess& sandbox, const QStringList& arguments)
      : ServerProcess(QStringLiteral(SMTPC_OAUTH_SERVER),
                      QStringList{"--ca-cert", sandbox.caFile(), "--ca-key", sandbox.value("ca_key"), "--token-key-file",
                                  sandbox.value("oauth_key_file")} +
                          arguments) {}
  QString issuer() const { return value("issuer"); }
};
#endif

#ifdef SMTPC_DISCOVERY_WORLD
// The settings-discovery world (tests/servers/discovery_world.py): a DNS server on a loopback
// address (port 53: needs root; ok() is false otherwise), HTTPS autoconfig and an ISPDB mirror
// under the sandbox's CA, and sandbox SMTP servers behind the test domains.
class DiscoveryWorld : public ServerProcess {
 public:
  DiscoveryWorld() : ServerProcess(QStringLiteral(SMTPC_DISCOVERY_WORLD), {}) {}
  QString dns() const { return value("dns"); }
  QString ispdb() const { return value("ispdb"); }
  int smtpPort(const char* listener) const { return object("smtp").value(QLatin1String(listener)).toInt(); }
  // --dns-server, --ca-file and --ispdb for smtpc.
  QStringList cliOptions() const {
    return {QStringLiteral("--dns-server"), dns(), QStringLiteral("--ca-file"), caFile(), QStringLiteral("--ispdb"), ispdb()};
  }
};
#endif

// A private Postfix instance (tests/servers/postfix.py; needs root).
class PostfixServer : public ServerProcess {
 public:
  explicit PostfixServer(const QStringList& arguments = {})
      : ServerProcess(QStringLiteral(SMTPC_POSTFIX), arguments) {}
};
