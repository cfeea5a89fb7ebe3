#include "config.h"

#include <QFile>
#include <QFileInfo>

#include "admission.h"

namespace smtpc::proxy {

bool Config::set(const QString& name, const QString& value, QString* why) {
  auto number = [&](int& into, int scale = 1) {
    bool ok = false;
    const double v = value.toDouble(&ok);
    if (!ok || v < 0) {
      *why = QStringLiteral("%1 wants a number, not \"%2\"").arg(name, value);
      return false;
    }
    into = static_cast<int>(v * scale);
    return true;
  };
  auto hostPort = [&](QString& host, quint16& port, bool allowZero) {
    const qsizetype colon = value.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    const uint p = colon > 0 ? value.mid(colon + 1).toUInt(&ok) : 0;
    if (!ok || (p == 0 && !allowZero) || p > 65535) {
      *why = QStringLiteral("%1 wants HOST:PORT, not \"%2\"").arg(name, value);
      return false;
    }
    host = value.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']'))) host = host.mid(1, host.size() - 2);
    host = host.toLower();
    port = static_cast<quint16>(p);
    return true;
  };
  if (name == QLatin1String("listen")) {
    QString host;
    if (!hostPort(host, listenPort, true)) return false;
    listenAddress = QHostAddress(host);
    if (listenAddress.isNull()) {
      *why = QStringLiteral("listen: \"%1\" is not an IP address").arg(host);
      return false;
    }
    return true;
  }
  if (name == QLatin1String("allow") || name == QLatin1String("allow-private")) {
    Destination d;
    if (!hostPort(d.host, d.port, false)) return false;
    d.allowPrivate = name == QLatin1String("allow-private");
    allow.append(d);
    return true;
  }
  if (name == QLatin1String("allow-origin")) {
    allowOrigins.append(value);
    return true;
  }
  if (name == QLatin1String("max-connections")) return number(maxConnections);
  if (name == QLatin1String("max-per-client")) return number(maxPerClient);
  if (name == QLatin1String("max-handshakes")) return number(maxHandshakes);
  if (name == QLatin1String("max-handshakes-per-client")) return number(maxHandshakesPerClient);
  if (name == QLatin1String("handshake-timeout")) return number(handshakeTimeoutMs, 1000);
  if (name == QLatin1String("connect-timeout")) return number(connectTimeoutMs, 1000);
  if (name == QLatin1String("idle-timeout")) return number(idleTimeoutMs, 1000);
  if (name == QLatin1String("shutdown-delay")) return number(shutdownDelayMs, 1000);
  if (name == QLatin1String("max-frame")) {
    int v = 0;
    if (!number(v)) return false;
    maxFrameSize = v;
    return true;
  }
  if (name == QLatin1String("high-water")) {
    int v = 0;
    if (!number(v)) return false;
    highWater = v;
    return true;
  }
  if (name == QLatin1String("cert")) return certFile = value, true;
  if (name == QLatin1String("key")) return keyFile = value, true;
  if (name == QLatin1String("trust-forwarded-for")) {
    // An address (a /32 or /128) or a subnet written ADDR/BITS.
    QPair<QHostAddress, int> subnet = value.contains(QLatin1Char('/'))
                                          ? QHostAddress::parseSubnet(value)
                                          : qMakePair(canonical(QHostAddress(value)), -1);
    if (subnet.first.isNull()) {
      *why = QStringLiteral("trust-forwarded-for wants an IP address or ADDR/BITS, not \"%1\"").arg(value);
      return false;
    }
    const bool mapped = subnet.first.protocol() == QAbstractSocket::IPv6Protocol;
    subnet.first = canonical(subnet.first);
    constexpr int kMappedPrefixBits = 96;  // ::ffff:a.b.c.d/N is a.b.c.d/(N - 96)
    if (mapped && subnet.first.protocol() == QAbstractSocket::IPv4Protocol && subnet.second >= kMappedPrefixBits)
      subnet.second -= kMappedPrefixBits;
    if (subnet.second < 0) subnet.second = subnet.first.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128;
    trustedForwarders.append(subnet);
    return true;
  }
  if (name == QLatin1String("token-file")) {
    QFile file(value);
    if (!file.open(QIODevice::ReadOnly)) {
      *why = QStringLiteral("token-file: cannot read \"%1\"").arg(value);
      return false;
    }
    // The secret is the file's first line (an editor's trailing newline is not part of it).
    token = file.readLine().trimmed();
    if (token.isEmpty()) {
      *why = QStringLiteral("token-file: \"%1\" holds no token").arg(value);
      return false;
    }
    return true;
  }
  if (name == QLatin1String("lookup")) {
    const QString v = value.toLower();
    if (v == QLatin1String("on") || v == QLatin1String("yes") || v == QLatin1String("true") || v == QLatin1String("1"))
      return lookup = true, true;
    if (v == QLatin1String("off") || v == QLatin1String("no") || v == QLatin1String("false") || v == QLatin1String("0"))
      return lookup = false, true;
    *why = QStringLiteral("lookup wants on or off, not \"%1\"").arg(value);
    return false;
  }
  if (name == QLatin1String("max-lookups-per-minute")) return number(maxLookupsPerMinute);
  if (name == QLatin1String("lookup-timeout")) return number(lookupTimeoutMs, 1000);
  if (name == QLatin1String("ispdb")) {
    QUrl base(value, QUrl::StrictMode);
    const QString scheme = base.scheme().toLower();
    if (!base.isValid() || (scheme != QLatin1String("https") && scheme != QLatin1String("http")) ||
        base.host().isEmpty() || !base.userInfo().isEmpty() || base.hasQuery() || base.hasFragment()) {
      *why = QStringLiteral("ispdb wants an http:// or https:// URL without a query, not \"%1\"").arg(value);
      return false;
    }
    // The domain is appended to the base: https://autoconfig.thunderbird.net/v1.1/ + example.org.
    if (!base.path().endsWith(QLatin1Char('/'))) base.setPath(base.path() + QLatin1Char('/'));
    ispdbBase = base;
    return true;
  }
  if (name == QLatin1String("ca-file")) {
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(value, QSsl::Pem);
    if (certificates.isEmpty()) {
      *why = QStringLiteral("ca-file: \"%1\" holds no PEM certificate").arg(value);
      return false;
    }
    extraCas += certificates;
    return true;
  }
  if (name == QLatin1String("dns-server")) {
    // The resolver library takes an IPv4 server on port 53 only (what QDnsLookup also allows).
    dnsServer = canonical(QHostAddress(value));
    if (dnsServer.protocol() != QAbstractSocket::IPv4Protocol) {
      *why = QStringLiteral("dns-server wants an IPv4 address (port 53), not \"%1\"").arg(value);
      return false;
    }
    return true;
  }
  if (name == QLatin1String("web")) {
    const QFileInfo dir(value);
    if (!dir.isDir() || !QFileInfo::exists(dir.filePath() + QStringLiteral("/index.html"))) {
      *why = QStringLiteral("web wants a folder holding index.html, not \"%1\"").arg(value);
      return false;
    }
    webDir = dir.canonicalFilePath();
    return true;
  }
  if (name == QLatin1String("metrics")) {
    QString host;
    quint16 port = 0;
    if (!hostPort(host, port, true)) return false;
    metricsAddress = QHostAddress(host);
    if (metricsAddress.isNull()) {
      *why = QStringLiteral("metrics: \"%1\" is not an IP address").arg(host);
      return false;
    }
    metricsPort = port;
    return true;
  }
  if (name == QLatin1String("log-format")) {
    if (value != QLatin1String("json") && value != QLatin1String("text")) {
      *why = QStringLiteral("log-format wants text or json, not \"%1\"").arg(value);
      return false;
    }
    logJson = value == QLatin1String("json");
    return true;
  }
  *why = QStringLiteral("unknown setting \"%1\"").arg(name);
  return false;
}

const Destination* Config::allowed(const QString& host, quint16 port) const {
  for (const Destination& d : allow)
    if (d.port == port && d.host == host.toLower()) return &d;
  return nullptr;
}

bool Config::trustsForwarder(const QHostAddress& address) const {
  const QHostAddress a = canonical(address);
  for (const auto& subnet : trustedForwarders)
    if (a.isInSubnet(subnet)) return true;
  return false;
}

}  // namespace smtpc::proxy
