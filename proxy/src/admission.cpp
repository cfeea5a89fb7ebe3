#include "admission.h"

#include <QCryptographicHash>
#include <QUrl>
#include <QUrlQuery>

namespace smtpc::proxy {

namespace {

// Not globally reachable (IANA "IPv4 / IPv6 Special-Purpose Address Registry", the column
// "Globally Reachable"), plus multicast and the transition prefixes named below. Where the
// registry marks single addresses inside a refused block as reachable (the PCP and TURN
// anycast addresses in 192.0.0.0/24 and 2001::/23, AMT, AS112, ORCHIDv2), the whole block is
// still refused: no SMTP server lives there.
struct SpecialRange {
  const char* subnet;
  const char* name;
};
constexpr SpecialRange kNonPublicRanges[] = {
    // IPv4
    {"0.0.0.0/8", "this network (RFC 791)"},
    {"10.0.0.0/8", "private use (RFC 1918)"},
    {"100.64.0.0/10", "shared address space, CGNAT (RFC 6598)"},
    {"127.0.0.0/8", "loopback (RFC 1122)"},
    {"169.254.0.0/16", "link local (RFC 3927)"},
    {"172.16.0.0/12", "private use (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments: DS-Lite, NAT64 discovery (RFC 6890)"},
    {"192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"},
    {"192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"},
    {"192.168.0.0/16", "private use (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking (RFC 2544)"},
    {"198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"},
    {"203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"},
    {"224.0.0.0/4", "multicast (RFC 5771)"},
    {"240.0.0.0/4", "reserved, and the limited broadcast 255.255.255.255 (RFC 1112, RFC 919)"},
    // IPv6 (::ffff:0:0/96, IPv4-mapped, is judged by its IPv4 part before this table)
    {"::/96", "unspecified, loopback and deprecated IPv4-compatible addresses (RFC 4291)"},
    {"64:ff9b::/96", "NAT64 well-known prefix (RFC 6052): reachable, but it reaches IPv4 past these checks"},
    {"64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"},
    {"100::/64", "discard-only (RFC 6666)"},
    {"100:0:0:1::/64", "dummy IPv6 prefix (RFC 9780)"},
    {"2001::/23", "IETF protocol assignments, TEREDO 2001::/32, benchmarking 2001:2::/48 (RFC 2928)"},
    {"2001:db8::/32", "documentation (RFC 3849)"},
    {"2002::/16", "6to4 (RFC 3056): reaches IPv4 past these checks"},
    {"3fff::/20", "documentation (RFC 9637)"},
    {"5f00::/16", "segment routing SIDs (RFC 9602)"},
    {"fc00::/7", "unique local (RFC 4193)"},
    {"fe80::/10", "link-local (RFC 4291)"},
    {"fec0::/10", "deprecated site-local (RFC 3879)"},
    {"ff00::/8", "multicast (RFC 4291)"},
};

const QList<QPair<QHostAddress, int>>& nonPublicSubnets() {
  static const QList<QPair<QHostAddress, int>> subnets = [] {
    QList<QPair<QHostAddress, int>> list;
    for (const SpecialRange& range : kNonPublicRanges) list.append(QHostAddress::parseSubnet(QLatin1String(range.subnet)));
    return list;
  }();
  return subnets;
}

constexpr int kIpv6Bytes = 16;
constexpr int kSubscriberPrefixBytes = 8;  // a /64
constexpr char kWebSocketGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
constexpr int kMaxCloseReasonBytes = 123;  // a control frame's payload is at most 125 bytes (§5.5)

// One X-Forwarded-For entry: an address, maybe with a port ("[2001:db8::1]:443",
// "192.0.2.1:80"), maybe quoted. Null when it is none of these.
QHostAddress forwardedAddress(QByteArray entry) {
  entry = entry.trimmed();
  if (entry.size() >= 2 && entry.startsWith('"') && entry.endsWith('"')) entry = entry.mid(1, entry.size() - 2);
  if (entry.startsWith('[')) {
    const qsizetype close = entry.indexOf(']');
    if (close < 0) return {};
    const QByteArray rest = entry.mid(close + 1);
    bool portOk = rest.isEmpty();
    if (rest.startsWith(':')) rest.mid(1).toUShort(&portOk);
    if (!portOk) return {};
    entry = entry.mid(1, close - 1);
  } else if (entry.count(':') == 1) {
    entry.truncate(entry.indexOf(':'));
  }
  QHostAddress address;
  if (entry.isEmpty() || !address.setAddress(QString::fromLatin1(entry))) return {};
  return canonical(address);
}

}  // namespace

QHostAddress canonical(const QHostAddress& address) {
  if (address.protocol() == QAbstractSocket::IPv4Protocol) return QHostAddress(address.toIPv4Address());
  if (address.protocol() != QAbstractSocket::IPv6Protocol) return address;
  const Q_IPV6ADDR bytes = address.toIPv6Address();
  bool mapped = bytes[10] == 0xff && bytes[11] == 0xff;  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
  for (int i = 0; i < 10; ++i) mapped = mapped && bytes[i] == 0;
  if (mapped)
    return QHostAddress(static_cast<quint32>(bytes[12]) << 24 | static_cast<quint32>(bytes[13]) << 16 |
                        static_cast<quint32>(bytes[14]) << 8 | bytes[15]);
  return QHostAddress(bytes);  // without the scope id
}

bool isNonPublic(const QHostAddress& address) { return !nonPublicRange(address).isEmpty(); }

QString nonPublicRange(const QHostAddress& address) {
  if (address.isNull()) return QStringLiteral("not an address");
  const QHostAddress a = canonical(address);
  // Only 2000::/3 is allocated for global unicast (RFC 4291 §2.4, IANA "IPv6 Address Space");
  // the rest is special or reserved (fe00::/9, "ip6-localnet" in many /etc/hosts, for one).
  static const QPair<QHostAddress, int> globalUnicast = QHostAddress::parseSubnet(QStringLiteral("2000::/3"));
  const QList<QPair<QHostAddress, int>>& subnets = nonPublicSubnets();
  for (qsizetype i = 0; i < subnets.size(); ++i)
    if (a.isInSubnet(subnets[i])) return QLatin1String(kNonPublicRanges[i].name);
  if (a.protocol() == QAbstractSocket::IPv6Protocol && !a.isInSubnet(globalUnicast))
    return QStringLiteral("outside IPv6 global unicast 2000::/3 (RFC 4291)");
  return QString();
}

QString clientKey(const QHostAddress& address) {
  const QHostAddress a = canonical(address);
  if (a.protocol() != QAbstractSocket::IPv6Protocol) return a.toString();
  Q_IPV6ADDR bytes = a.toIPv6Address();
  for (int i = kSubscriberPrefixBytes; i < kIpv6Bytes; ++i) bytes[i] = 0;
  return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

QHostAddress forwardedClient(const Config& config, const QHostAddress& peer, const QList<QByteArray>& forwardedFor) {
  QHostAddress client = canonical(peer);
  if (!config.trustsForwarder(client)) return client;
  QList<QByteArray> entries;
  for (const QByteArray& header : forwardedFor) entries += header.split(',');
  for (qsizetype i = entries.size() - 1; i >= 0; --i) {
    const QHostAddress hop = forwardedAddress(entries[i]);
    if (hop.isNull()) break;
    client = hop;
    if (!config.trustsForwarder(hop)) break;
  }
  return client;
}

bool sameSecret(QByteArrayView given, QByteArrayView expected) {
  const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
  const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
  unsigned difference = 0;
  for (qsizetype i = 0; i < a.size(); ++i) difference |= static_cast<unsigned>(a[i] ^ b[i]);
  return difference == 0;
}

HeadStatus parseHandshake(QByteArrayView bytes, qsizetype maxBytes, HandshakeRequest* request) {
  const QByteArray data = bytes.toByteArray();
  const qsizetype end = data.indexOf("\r\n\r\n");
  if (end < 0) return data.size() >= maxBytes ? HeadStatus::TooLarge : HeadStatus::Incomplete;
  if (end + 4 > maxBytes) return HeadStatus::TooLarge;
  const QList<QByteArray> lines = data.left(end).split('\n');
  *request = HandshakeRequest();
  for (qsizetype i = 0; i < lines.size(); ++i) {
    // Every line ends in CRLF: a bare CR or LF inside one is read differently by different
    // parsers (ours decides, Qt's completes the handshake), so it is refused.
    QByteArray line = lines[i];
    if (i + 1 < lines.size()) {
      if (!line.endsWith('\r')) return HeadStatus::Malformed;
      line.chop(1);
    }
    if (line.contains('\r')) return HeadStatus::Malformed;
    if (i == 0) {
      const QList<QByteArray> parts = line.split(' ');
      if (parts.size() != 3 || parts[0].isEmpty() || parts[1].isEmpty()) return HeadStatus::Malformed;
      request->method = parts[0];
      request->target = parts[1];
      request->version = parts[2];
      continue;
    }
    const qsizetype colon = line.indexOf(':');
    // No obsolete line folding (RFC 7230 §3.2.4) and no space before the colon.
    if (colon <= 0 || line[0] == ' ' || line[0] == '\t' || line[colon - 1] == ' ' || line[colon - 1] == '\t')
      return HeadStatus::Malformed;
    const QByteArray name = line.left(colon).toLower();
    const QByteArray value = line.mid(colon + 1).trimmed();
    if (name == "origin") request->origins.append(value);
    else if (name == "sec-websocket-key") request->key = value;
    else if (name == "x-forwarded-for") request->forwardedFor.append(value);
    else if (name == "upgrade") request->upgradeToWebSocket = value.toLower() == "websocket";
    else if (name == "host") request->host = value;
    else if (name == "accept-encoding") request->acceptEncoding += (request->acceptEncoding.isEmpty() ? "" : ",") + value;
    else if (name == "if-none-match") request->ifNoneMatch += (request->ifNoneMatch.isEmpty() ? "" : ",") + value;
    else if (name == "connection") request->connection = value.toLower();
    else if (name == "sec-fetch-site") request->fetchSite = value.toLower();
    else if (name == "transfer-encoding" || (name == "content-length" && value != "0")) request->hasBody = true;
  }
  return HeadStatus::Complete;
}

bool isOwnOrigin(const Config& config, const HandshakeRequest& request) {
  if (config.webDir.isEmpty() || request.host.isEmpty()) return false;
  // Host is host[:port]; the name must be localhost or an address ([v6] in brackets).
  const QByteArray host = request.host.toLower();
  QByteArray name = host;
  if (host.startsWith('[')) {
    const qsizetype close = host.indexOf(']');
    if (close < 0 || (close + 1 < host.size() && host[close + 1] != ':')) return false;
    name = host.mid(1, close - 1);
  } else if (const qsizetype colon = host.indexOf(':'); colon >= 0) {
    name = host.left(colon);
  }
  if (name != "localhost" && QHostAddress(QString::fromLatin1(name)).isNull()) return false;
  if (request.origins.isEmpty()) return request.fetchSite == "same-origin";
  if (request.origins.size() != 1) return false;
  const QByteArray origin = request.origins.first().toLower();
  return origin == "http://" + host || origin == "https://" + host;
}

bool originAllowed(const Config& config, const HandshakeRequest& request) {
  if (request.origins.size() == 1 && config.allowOrigins.contains(QString::fromUtf8(request.origins.first()))) return true;
  return isOwnOrigin(config, request);
}

Admission admit(const Config& config, const QHostAddress& peer, const HandshakeRequest& request, const Load& load) {
  Admission a;
  a.client = forwardedClient(config, peer, request.forwardedFor);
  a.clientKey = clientKey(a.client);
  auto refuse = [&a](int code, const QString& reason, const char* why) {
    a.code = code;
    a.reason = reason;
    a.why = why;
    return a;
  };
  if (load.shuttingDown) return refuse(ShuttingDown, defaultReason(ShuttingDown), "shutting_down");
  // Origin: browsers always send it; a missing or unlisted one is refused (no cross-site use).
  // It keeps other web pages out, nothing more: any program can write any Origin.
  if (request.origins.isEmpty()) return refuse(NotAllowed, QStringLiteral("no Origin header"), "origin");
  if (!originAllowed(config, request)) return refuse(NotAllowed, QStringLiteral("origin not allowed"), "origin");
  if (request.method != "GET" || !request.upgradeToWebSocket || request.key.isEmpty())
    return refuse(NotAllowed, QStringLiteral("not a WebSocket request"), "not_websocket");
  const QUrl url = QUrl::fromEncoded(request.target);
  const QUrlQuery query(url);
  const QString host = query.queryItemValue(fromView(relay::kHostParameter));
  bool ok = false;
  const uint port = query.queryItemValue(fromView(relay::kPortParameter)).toUInt(&ok);
  if (!url.isValid() || url.path() != fromView(relay::kPath) || host.isEmpty() || !ok || port == 0 || port > 65535)
    return refuse(NotAllowed, QStringLiteral("expected ") + requestPattern(), "bad_target");
  a.host = host;
  a.port = static_cast<quint16>(port);
  if (!config.token.isEmpty() &&
      !sameSecret(query.queryItemValue(fromView(relay::kTokenParameter), QUrl::FullyDecoded).toUtf8(), config.token))
    return refuse(NotAllowed, QStringLiteral("token refused"), "token");
  a.destination = config.allowed(host, a.port);
  if (!a.destination) return refuse(NotAllowed, QStringLiteral("destination not allowed"), "destination");
  if (load.connections >= config.maxConnections) return refuse(OverCapacity, defaultReason(OverCapacity), "capacity");
  if (load.perClient && load.perClient->value(a.clientKey) >= config.maxPerClient)
    return refuse(OverCapacity, QStringLiteral("too many connections from your address"), "client_capacity");
  return a;
}

QByteArray httpErrorBytes(int status, const char* phrase) {
  return QByteArray("HTTP/1.1 ") + QByteArray::number(status) + ' ' + phrase +
         "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
}

QByteArray refusalBytes(const HandshakeRequest& request, int code, const QString& reason) {
  if (request.method != "GET" || !request.upgradeToWebSocket || request.key.isEmpty())
    return httpErrorBytes(400, "Bad Request");
  const QByteArray accept = QCryptographicHash::hash(request.key + kWebSocketGuid, QCryptographicHash::Sha1).toBase64();
  QByteArray bytes = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: " + accept + "\r\n\r\n";
  const QByteArray why = reason.toUtf8().left(kMaxCloseReasonBytes);
  bytes += static_cast<char>(0x88);  // FIN, close (RFC 6455 §5.5.1), unmasked
  bytes += static_cast<char>(2 + why.size());
  bytes += static_cast<char>(code >> 8);
  bytes += static_cast<char>(code & 0xff);
  bytes += why;
  return bytes;
}

}  // namespace smtpc::proxy
