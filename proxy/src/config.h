// smtpc-proxy's settings: what a command-line option or a config-file line may set, and the
// close codes the relay reports (DESIGN.md, "Browser path").
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace smtpc::proxy {

// Close codes the page can show (DESIGN.md, "Browser path").
enum CloseCode : int {
  ServerClosed = 1000,
  ShuttingDown = 1001,
  TextFrame = 1003,
  NotAllowed = 1008,
  TooBig = 1009,
  ConnectFailed = 1011,
  OverCapacity = 1013,
  DnsFailed = 4001,
  Refused = 4002,
  ConnectTimeout = 4003,
  IdleTimeout = 4004,
};

struct Destination {
  QString host;  // lower-case name or IP literal
  quint16 port = 0;
  bool allowPrivate = false;  // --allow-private: the name may resolve to loopback/private addresses
};

struct Config {
  QHostAddress listenAddress = QHostAddress::LocalHost;
  quint16 listenPort = 8025;
  QList<Destination> allow;
  QStringList allowOrigins;
  int maxConnections = 1000;
  int maxPerClient = 20;
  // Handshakes in progress (accepted, request not yet read and decided): each holds a socket
  // for up to the handshake timeout, so a client that opens many and sends nothing would
  // otherwise hold every descriptor. A browser opens one at a time.
  int maxHandshakes = 200;
  int maxHandshakesPerClient = 10;
  int handshakeTimeoutMs = 10000;
  int connectTimeoutMs = 10000;
  int idleTimeoutMs = 300000;
  qint64 maxFrameSize = 1 << 20;
  qint64 highWater = 1024 * 1024;
  QString certFile, keyFile;
  // Reverse proxies whose X-Forwarded-For is believed (--trust-forwarded-for), as subnets.
  QList<QPair<QHostAddress, int>> trustedForwarders;
  // --token-file: the shared secret a page must present as ?token=; empty: none asked for.
  // Never printed.
  QByteArray token;

  // Reads one "name = value" line of a config file or one "--name value" option.
  bool set(const QString& name, const QString& value, QString* why);
  // The allowlist entry for host:port, or null.
  const Destination* allowed(const QString& host, quint16 port) const;
  bool trustsForwarder(const QHostAddress& address) const;
};

}  // namespace smtpc::proxy
