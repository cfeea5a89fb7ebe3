// The lookup endpoint's decisions, without sockets or a clock (lookup.h does the I/O): which
// requests are taken (Origin, form, token, budget), which names may be looked up, the only URLs
// the relay ever fetches, and the bytes of an answer. The protocol is smtpc/relay.h (kLookupPath).
//
// Why so strict: the endpoint makes the relay send DNS queries and HTTP requests for a web page.
// A page may never choose the URL (only a DOMAIN, put into fixed patterns), never name an
// address, and never reach a private address (lookup.cpp checks the address it connects to).
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QString>

#include "admission.h"
#include "config.h"

namespace smtpc::proxy {

enum class LookupType { Srv, Mx, Autoconfig, WellKnown, Ispdb };

// Lookups answered at once, in total: beyond this a request is answered 503 (busy).
inline constexpr int kMaxLookupsAtOnce = 100;

// A GET of one of the fixed URL patterns.
struct FetchTarget {
  bool https = true;
  QString host;  // a checked DNS name (or the --ispdb base's host, as the operator wrote it)
  quint16 port = 443;
  QByteArray pathAndQuery;  // "/mail/config-v1.1.xml?emailaddress=alice%40example.org"
  QString url() const;      // the whole URL, as the answer reports it
  QString urlWithoutQuery() const;  // as the log writes it (the query holds a person's address)
};

struct LookupQuery {
  LookupType type = LookupType::Srv;
  QString name;     // srv, mx: the name queried
  QString domain;   // documents: the domain whose document
  QString address;  // autoconfig: the address, for emailaddress=
  bool plainHttp = false;
  FetchTarget fetch;  // documents
  QString typeName() const;
  QString subject() const { return type == LookupType::Srv || type == LookupType::Mx ? name : domain; }
};

// `text` as a lookup may name it: a DNS name of ASCII letters, digits and hyphens (an IDN in its
// xn-- form), labels of 1-63 not starting or ending with a hyphen, at least two labels, at most
// 253 characters, the last label not all digits (so no IPv4 literal, in any spelling); returned
// lower-cased. Empty, with `why`, when it is not one.
QString checkedDomain(const QString& text, QString* why);

// The request's query read and checked against the patterns of relay.h: the type, its parameters
// and no others, each once. Returns false with `why` (a sentence) otherwise.
bool parseLookupQuery(const Config& config, QByteArrayView target, LookupQuery* query, QString* why);

// The target names the lookup endpoint (its path is relay::kLookupPath).
bool isLookupTarget(QByteArrayView target);

// Per client, at most N lookups in any 60 seconds (a sliding window). Time is passed in.
class LookupBudget {
 public:
  static constexpr qint64 kWindowMs = 60000;
  // Takes one from `key`'s budget: 0 when taken, otherwise the milliseconds until one is free.
  qint64 take(const QString& key, int perMinute, qint64 nowMs);
  qsizetype clients() const { return taken_.size(); }

 private:
  void prune(qint64 nowMs);
  QHash<QString, QList<qint64>> taken_;  // per client, the times of its lookups in the window
  qint64 lastPruneMs_ = 0;
};

struct LookupAdmission {
  int httpStatus = 0;  // 0: admitted; otherwise the answer's HTTP status
  QString status;      // the refusal's status word (relay.h)
  QString reason;      // said to the page and logged: never the token
  QString allowedOrigin;  // echoed as Access-Control-Allow-Origin; empty when the Origin is not allowed
  QHostAddress client;
  QString clientKey;
  int retryAfterSeconds = 0;  // 429
  LookupQuery query;
  bool admitted() const { return httpStatus == 0; }
};

// Decides in this order: shutting down or too many at once (503), Origin (403, and then no CORS
// header: the page learns nothing), the request's form (400), the token (403), the client's
// budget (429). An admitted lookup is taken from the budget.
LookupAdmission admitLookup(const Config& config, const QHostAddress& peer, const HandshakeRequest& request,
                            LookupBudget& budget, qint64 nowMs, int lookupsAtOnce, bool shuttingDown);

// A whole HTTP response with `body` as JSON: no-store, nosniff, and the CORS header for an
// allowed Origin (with Vary: Origin).
QByteArray lookupResponse(int httpStatus, const QString& allowedOrigin, const QJsonObject& body, int retryAfterSeconds = 0);
QJsonObject lookupStatus(std::string_view status, const QString& error);

}  // namespace smtpc::proxy
