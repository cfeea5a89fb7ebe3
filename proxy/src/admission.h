// Whether the relay takes a connection, decided from the request's bytes alone: no socket, no
// clock. The proxy reads the HTTP upgrade request itself (it never consumes it: Qt's WebSocket
// server reads it again to finish the handshake) and asks admit(); only an admitted connection
// counts against capacity. So a refused one costs nothing but the bytes of its refusal.
//   RFC 6455 §4.2 (the opening handshake), §7.4 (close codes); RFC 7230 §3 (message format).
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QString>

#include "config.h"

namespace smtpc::proxy {

// Addresses no SMTP server we relay to should have: every range of the IANA IPv4 and IPv6
// special-purpose address registries that is not globally reachable, plus multicast, the
// NAT64 prefix 64:ff9b::/96 (it reaches IPv4 addresses past these checks), 6to4 and TEREDO,
// and every IPv6 address outside 2000::/3 (global unicast).
// An IPv4-mapped address (::ffff:a.b.c.d) is judged by its IPv4 part. See the table in
// admission.cpp for each range and its RFC.
bool isNonPublic(const QHostAddress& address);
// Why isNonPublic(address): the range's name and RFC ("loopback (RFC 1122)"); empty when public.
QString nonPublicRange(const QHostAddress& address);

// The address as one family writes it: IPv4-mapped IPv6 becomes IPv4, the scope id goes.
QHostAddress canonical(const QHostAddress& address);

// What per-client limits count: an IPv4 address, or an IPv6 address's /64 (one subscriber is
// handed a whole /64, 2^64 addresses, so counting single addresses would limit nothing).
QString clientKey(const QHostAddress& address);

// The client behind a trusted reverse proxy. `peer` is the TCP peer; `forwardedFor` holds
// every X-Forwarded-For header's value in the order received. Only when the peer is trusted
// (config.trustsForwarder) are the entries read, right to left, skipping trusted proxies: the
// first entry that is not trusted is the client (entries to its left were written by the client
// and prove nothing). An entry that is not an IP address (with or without a port) ends the walk
// at the last address reached, so garbage is counted against the proxy that passed it on, never
// as a free new client. Not trusted, or no header: the peer itself.
QHostAddress forwardedClient(const Config& config, const QHostAddress& peer, const QList<QByteArray>& forwardedFor);

// Equal secrets, compared in time that depends on neither their contents nor their lengths
// (both are hashed first), so the answer's timing does not leak the token byte by byte.
bool sameSecret(QByteArrayView given, QByteArrayView expected);

// The parts of an HTTP upgrade request (RFC 6455 §4.2.1) the relay decides on.
struct HandshakeRequest {
  QByteArray method, target, version;
  QList<QByteArray> origins;  // every Origin header (a browser sends exactly one)
  QByteArray key;             // Sec-WebSocket-Key
  bool upgradeToWebSocket = false;
  QList<QByteArray> forwardedFor;
  // What the page's own files (--web, web.h) and the same-origin rule read.
  QByteArray host;            // Host
  QByteArray acceptEncoding;  // every Accept-Encoding value, joined with ','
  QByteArray ifNoneMatch;     // every If-None-Match value, joined with ','
  QByteArray connection;      // Connection, lower case
  QByteArray fetchSite;       // Sec-Fetch-Site: a browser's word on who asks (it cannot be set by a page)
  bool hasBody = false;       // a Content-Length other than 0, or a Transfer-Encoding
};

enum class HeadStatus { Incomplete, Complete, TooLarge, Malformed };

// Reads the request head (request line and headers, up to the empty line) from the start of
// `bytes`. More than `maxBytes` without an end is TooLarge.
HeadStatus parseHandshake(QByteArrayView bytes, qsizetype maxBytes, HandshakeRequest* request);

struct Load {
  int connections = 0;                         // admitted connections (what max-connections counts)
  const QHash<QString, int>* perClient = nullptr;  // admitted connections by clientKey
  bool shuttingDown = false;
};

struct Admission {
  int code = 0;    // 0: admitted; otherwise the close code the client is sent
  QString reason;  // said to the client and logged: never the query, never the token
  const char* why = "";  // the refusal as a fixed word for the metrics' label ("origin", "token", ...)
  QHostAddress client;
  QString clientKey;
  QString host;  // the destination asked for (empty if the request did not say)
  quint16 port = 0;
  const Destination* destination = nullptr;
  bool admitted() const { return code == 0; }
};

// --web: the page's own origin may use the relay without --allow-origin. The request's Origin
// names the Host it was sent to (http or https), or, for a lookup, there is no Origin and the
// browser says Sec-Fetch-Site: same-origin (a browser sends no Origin on a same-origin GET).
// Only when that Host is "localhost" or an IP literal: a DNS name could be an attacker's,
// rebound to this relay's address (DNS rebinding), so a page served under a name needs
// --allow-origin with that name.
bool isOwnOrigin(const Config& config, const HandshakeRequest& request);
// The Origin rule of the relay and of the lookups: listed in --allow-origin, or isOwnOrigin.
bool originAllowed(const Config& config, const HandshakeRequest& request);

// Decides in this order, so that nothing about the allowlist or the load is told to a page
// that may not use the relay: shutting down, Origin, the request's form, the token, the
// allowlist, total capacity, capacity for this client.
Admission admit(const Config& config, const QHostAddress& peer, const HandshakeRequest& request, const Load& load);

// What a refused client is sent: for a WebSocket request, a completed handshake (101) and at
// once a close frame with `code` and `reason`, because a page can read a close code but not an
// HTTP status; for anything else, an HTTP error `status` with no body.
QByteArray refusalBytes(const HandshakeRequest& request, int code, const QString& reason);
QByteArray httpErrorBytes(int status, const char* phrase);

}  // namespace smtpc::proxy
