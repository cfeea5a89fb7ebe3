// smtpc-proxy's settings: what a command-line option or a config-file line may set; and the
// relay protocol's names as the proxy uses them (DESIGN.md, "Browser path").
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <string_view>

#include "smtpc/relay.h"

namespace smtpc::proxy {

// The relay protocol (path, query names, close codes with their reasons and meanings) is
// core's smtpc/relay.h, which the page's transport uses too: a close code is written there only.
using enum relay::CloseCode;

inline QString fromView(std::string_view text) { return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())); }
// What the proxy writes in a close frame with `code` when it knows nothing more precise.
inline QString defaultReason(int code) {
  const relay::CloseCodeInfo* info = relay::closeCodeInfo(code);
  return info ? fromView(info->reason) : QString();
}
// "/smtp?host=SERVER&port=N": what a page asks for, as --help and a refusal name it.
inline QString requestPattern() {
  return QStringLiteral("%1?%2=SERVER&%3=N")
      .arg(fromView(relay::kPath), fromView(relay::kHostParameter), fromView(relay::kPortParameter));
}

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

  // The lookup endpoint (relay::kLookupPath, lookup.h): off unless --lookup.
  bool lookup = false;
  int maxLookupsPerMinute = 30;  // per client (clientKey), admitted lookups only
  int lookupTimeoutMs = 10000;   // one lookup, from its admission to its answer
  QUrl ispdbBase = QUrl(QStringLiteral("https://autoconfig.thunderbird.net/v1.1/"));  // ends in '/'
  QList<QSslCertificate> extraCas;  // --ca-file: trusted for the lookups' HTTPS fetches, beside the system's
  // --dns-server: the DNS server (an IPv4 address, port 53) for the lookups' SRV and MX queries and
  // for every address lookup, the relay's included; null: the system's resolver.
  QHostAddress dnsServer;

  // --web DIR: the page's files served on the relay's own listener (web.h); empty: none.
  QString webDir;
  // --metrics ADDR:PORT: /healthz and /metrics (metrics.h) on a listener of their own; port -1: off.
  QHostAddress metricsAddress = QHostAddress::LocalHost;
  int metricsPort = -1;
  // --log-format json: one JSON object per line instead of words.
  bool logJson = false;
  // --shutdown-delay: after SIGTERM, /healthz says 503 this long while the relay still works (a
  // load balancer stops sending new clients), then every connection is closed.
  int shutdownDelayMs = 0;

  // Reads one "name = value" line of a config file or one "--name value" option.
  bool set(const QString& name, const QString& value, QString* why);
  // The allowlist entry for host:port, or null.
  const Destination* allowed(const QString& host, quint16 port) const;
  bool trustsForwarder(const QHostAddress& address) const;
};

}  // namespace smtpc::proxy
