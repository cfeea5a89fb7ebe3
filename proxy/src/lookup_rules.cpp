#include "lookup_rules.h"

#include <QJsonDocument>
#include <QSet>
#include <QUrl>
#include <QUrlQuery>

#include "smtpc/relay.h"

namespace smtpc::proxy {

namespace {

constexpr int kMaxNameLength = 253;  // RFC 1035 §2.3.4: 255 octets on the wire, 253 characters written
constexpr int kMaxLabelLength = 63;
constexpr int kMaxAddressLength = 254;  // RFC 5321 §4.5.3.1.3 (a path of 256 octets, less the brackets)

QString qs(std::string_view text) { return fromView(text); }

// Thunderbird's locations of a domain's own document (its "fetchConfigFromISP").
constexpr char kAutoconfigHostPrefix[] = "autoconfig.";
constexpr char kAutoconfigPath[] = "/mail/config-v1.1.xml";
constexpr char kAutoconfigAddressParameter[] = "emailaddress";
constexpr char kWellKnownPath[] = "/.well-known/autoconfig/mail/config-v1.1.xml";

// An address for autoconfig's emailaddress=: one '@' with something on both sides, short, no
// spaces or control characters. Not necessarily at the domain asked about: discovery asks a
// provider's autoconfig (the MX host's domain) with the person's address at their own domain.
bool checkedAddress(const QString& address, QString* why) {
  if (address.isEmpty() || address.size() > kMaxAddressLength) {
    *why = QStringLiteral("the address is empty or longer than %1 characters").arg(kMaxAddressLength);
    return false;
  }
  const qsizetype at = address.indexOf(QLatin1Char('@'));
  if (at <= 0 || at == address.size() - 1 || address.count(QLatin1Char('@')) != 1) {
    *why = QStringLiteral("the address must be one local part, '@' and a domain");
    return false;
  }
  for (const QChar c : address)
    if (c.unicode() <= 0x20 || c.unicode() == 0x7f || c.category() == QChar::Other_Control) {
      *why = QStringLiteral("the address holds a space or a control character");
      return false;
    }
  return true;
}

bool setFetch(const QString& host, bool https, quint16 port, const QByteArray& pathAndQuery, FetchTarget* fetch,
              QString* why) {
  QString hostWhy;
  if (checkedDomain(host, &hostWhy).isEmpty()) {
    *why = QStringLiteral("%1: %2").arg(host, hostWhy);
    return false;
  }
  *fetch = FetchTarget{https, host, port, pathAndQuery};
  return true;
}

}  // namespace

QString FetchTarget::urlWithoutQuery() const {
  const qsizetype question = pathAndQuery.indexOf('?');
  const QByteArray path = question < 0 ? pathAndQuery : pathAndQuery.left(question);
  const bool defaultPort = port == (https ? 443 : 80);
  const QString authority = (host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host) +
                            (defaultPort ? QString() : QLatin1Char(':') + QString::number(port));
  return (https ? QStringLiteral("https://") : QStringLiteral("http://")) + authority + QString::fromLatin1(path);
}

QString FetchTarget::url() const {
  const qsizetype question = pathAndQuery.indexOf('?');
  return urlWithoutQuery() + (question < 0 ? QString() : QString::fromLatin1(pathAndQuery.mid(question)));
}

QString LookupQuery::typeName() const {
  switch (type) {
    case LookupType::Srv: return qs(relay::kLookupSrv);
    case LookupType::Mx: return qs(relay::kLookupMx);
    case LookupType::Autoconfig: return qs(relay::kLookupAutoconfig);
    case LookupType::WellKnown: return qs(relay::kLookupWellKnown);
    case LookupType::Ispdb: return qs(relay::kLookupIspdb);
  }
  return QString();
}

QString checkedDomain(const QString& text, QString* why) {
  const QString name = text.toLower();
  if (name.isEmpty() || name.size() > kMaxNameLength) {
    *why = QStringLiteral("a domain has 1 to %1 characters").arg(kMaxNameLength);
    return QString();
  }
  const QStringList labels = name.split(QLatin1Char('.'));
  if (labels.size() < 2) {
    *why = QStringLiteral("a domain has at least two labels (example.org)");
    return QString();
  }
  for (const QString& label : labels) {
    if (label.isEmpty() || label.size() > kMaxLabelLength) {
      *why = QStringLiteral("each label of a domain has 1 to %1 characters").arg(kMaxLabelLength);
      return QString();
    }
    for (const QChar c : label)
      if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
            c == QLatin1Char('-'))) {
        *why = QStringLiteral("a domain holds letters, digits, hyphens and dots only");
        return QString();
      }
    if (label.startsWith(QLatin1Char('-')) || label.endsWith(QLatin1Char('-'))) {
      *why = QStringLiteral("a label of a domain neither starts nor ends with a hyphen");
      return QString();
    }
  }
  bool numeric = false;
  labels.last().toULongLong(&numeric);
  if (numeric) {
    *why = QStringLiteral("a domain is a name, not an IP address");
    return QString();
  }
  return name;
}

bool isLookupTarget(QByteArrayView target) {
  const QByteArray bytes = target.toByteArray();
  const qsizetype question = bytes.indexOf('?');
  return (question < 0 ? bytes : bytes.left(question)) == QByteArrayView(relay::kLookupPath.data(), relay::kLookupPath.size());
}

bool parseLookupQuery(const Config& config, QByteArrayView target, LookupQuery* query, QString* why) {
  const QUrl url = QUrl::fromEncoded(target.toByteArray());
  if (!url.isValid() || url.path() != qs(relay::kLookupPath)) {
    *why = QStringLiteral("expected %1?%2=…").arg(qs(relay::kLookupPath), qs(relay::kLookupTypeParameter));
    return false;
  }
  // Every parameter once: two of a kind would leave it to chance which one the relay reads.
  QHash<QString, QString> items;
  for (const auto& [key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded)) {
    if (items.contains(key)) {
      *why = QStringLiteral("the parameter \"%1\" is given twice").arg(key);
      return false;
    }
    items.insert(key, value);
  }
  const QString type = items.value(qs(relay::kLookupTypeParameter));
  QSet<QString> allowed{qs(relay::kLookupTypeParameter), qs(relay::kTokenParameter)};
  LookupQuery q;
  QString nameWhy;
  if (type == qs(relay::kLookupSrv) || type == qs(relay::kLookupMx)) {
    q.type = type == qs(relay::kLookupSrv) ? LookupType::Srv : LookupType::Mx;
    allowed << qs(relay::kLookupNameParameter);
    QString name = items.value(qs(relay::kLookupNameParameter)).toLower();
    QString domain = name;
    if (q.type == LookupType::Srv) {
      // RFC 6186 §3.1 and RFC 8314 §5.1's services only: never a name the page makes up.
      const QString prefix = name.startsWith(qs(relay::kSrvSubmissions))  ? qs(relay::kSrvSubmissions)
                             : name.startsWith(qs(relay::kSrvSubmission)) ? qs(relay::kSrvSubmission)
                                                                           : QString();
      if (prefix.isEmpty()) {
        *why = QStringLiteral("an SRV lookup names %1DOMAIN or %2DOMAIN")
                   .arg(qs(relay::kSrvSubmissions), qs(relay::kSrvSubmission));
        return false;
      }
      domain = name.mid(prefix.size());
    }
    if (checkedDomain(domain, &nameWhy).isEmpty() || name.size() > kMaxNameLength) {
      *why = QStringLiteral("\"%1\" is not a domain: %2").arg(domain, nameWhy.isEmpty() ? QStringLiteral("too long") : nameWhy);
      return false;
    }
    q.name = name;
  } else if (type == qs(relay::kLookupAutoconfig) || type == qs(relay::kLookupWellKnown) ||
             type == qs(relay::kLookupIspdb)) {
    q.type = type == qs(relay::kLookupAutoconfig)  ? LookupType::Autoconfig
             : type == qs(relay::kLookupWellKnown) ? LookupType::WellKnown
                                                    : LookupType::Ispdb;
    allowed << qs(relay::kLookupDomainParameter);
    const QString domainParameter = items.value(qs(relay::kLookupDomainParameter));
    q.domain = checkedDomain(domainParameter, &nameWhy);
    if (q.domain.isEmpty()) {
      *why = QStringLiteral("\"%1\" is not a domain: %2").arg(domainParameter, nameWhy);
      return false;
    }
    if (q.type != LookupType::Ispdb) {
      allowed << qs(relay::kLookupSchemeParameter);
      const auto scheme = items.constFind(qs(relay::kLookupSchemeParameter));
      if (scheme != items.constEnd() && *scheme != qs(relay::kLookupPlainHttp)) {
        *why = QStringLiteral("%1= is %2 or absent").arg(qs(relay::kLookupSchemeParameter), qs(relay::kLookupPlainHttp));
        return false;
      }
      q.plainHttp = scheme != items.constEnd();
    }
    const quint16 port = q.plainHttp ? 80 : 443;
    bool ok = true;
    if (q.type == LookupType::Autoconfig) {
      allowed << qs(relay::kLookupAddressParameter);
      q.address = items.value(qs(relay::kLookupAddressParameter));
      if (!checkedAddress(q.address, why)) return false;
      const QByteArray path = QByteArray(kAutoconfigPath) + '?' + kAutoconfigAddressParameter + '=' +
                              QByteArray::fromStdString(relay::percentEncode(q.address.toStdString()));
      ok = setFetch(kAutoconfigHostPrefix + q.domain, !q.plainHttp, port, path, &q.fetch, why);
    } else if (q.type == LookupType::WellKnown) {
      ok = setFetch(q.domain, !q.plainHttp, port, kWellKnownPath, &q.fetch, why);
    } else {
      // The operator's base, as written (a name or an IP literal): only the domain is the page's.
      const QUrl& base = config.ispdbBase;
      const bool https = base.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
      q.fetch = FetchTarget{https, base.host().toLower(), static_cast<quint16>(base.port(https ? 443 : 80)),
                            base.path(QUrl::FullyEncoded).toLatin1() + q.domain.toLatin1()};
    }
    if (!ok) return false;
  } else {
    *why = QStringLiteral("%1= is one of %2, %3, %4, %5, %6")
               .arg(qs(relay::kLookupTypeParameter), qs(relay::kLookupSrv), qs(relay::kLookupMx),
                    qs(relay::kLookupAutoconfig), qs(relay::kLookupWellKnown), qs(relay::kLookupIspdb));
    return false;
  }
  for (auto it = items.constBegin(); it != items.constEnd(); ++it)
    if (!allowed.contains(it.key())) {
      *why = QStringLiteral("a %1 lookup takes no parameter \"%2\"").arg(type, it.key());
      return false;
    }
  *query = q;
  return true;
}

qint64 LookupBudget::take(const QString& key, int perMinute, qint64 nowMs) {
  if (nowMs - lastPruneMs_ >= kWindowMs) prune(nowMs);
  QList<qint64>& times = taken_[key];
  while (!times.isEmpty() && times.first() <= nowMs - kWindowMs) times.removeFirst();
  if (perMinute <= 0) return kWindowMs;
  if (times.size() >= perMinute) return times.first() + kWindowMs - nowMs;
  times.append(nowMs);
  return 0;
}

// Forgets the clients whose last lookup left the window, so that the table does not grow with
// every address ever seen.
void LookupBudget::prune(qint64 nowMs) {
  lastPruneMs_ = nowMs;
  for (auto it = taken_.begin(); it != taken_.end();) {
    if (it->isEmpty() || it->last() <= nowMs - kWindowMs) it = taken_.erase(it);
    else ++it;
  }
}

QJsonObject lookupStatus(std::string_view status, const QString& error) {
  QJsonObject body{{QStringLiteral("status"), qs(status)}};
  if (!error.isEmpty()) body.insert(QStringLiteral("error"), error);
  return body;
}

LookupAdmission admitLookup(const Config& config, const QHostAddress& peer, const HandshakeRequest& request,
                            LookupBudget& budget, qint64 nowMs, int lookupsAtOnce, bool shuttingDown) {
  LookupAdmission a;
  a.client = forwardedClient(config, peer, request.forwardedFor);
  a.clientKey = clientKey(a.client);
  auto refuse = [&a](int httpStatus, std::string_view status, const QString& reason) {
    a.httpStatus = httpStatus;
    a.status = qs(status);
    a.reason = reason;
    return a;
  };
  if (shuttingDown) return refuse(503, relay::kLookupBusy, QStringLiteral("the relay is shutting down"));
  // The same rule as for relaying: a page from an allowed origin, or nothing. A refused page
  // gets no CORS header, so it cannot even read why.
  // (--web: the page's own origin too, which a browser's same-origin GET names by Sec-Fetch-Site.)
  if (request.origins.isEmpty() && !isOwnOrigin(config, request))
    return refuse(403, relay::kLookupRefused, QStringLiteral("no Origin header"));
  if (!originAllowed(config, request)) return refuse(403, relay::kLookupRefused, QStringLiteral("origin not allowed"));
  if (!request.origins.isEmpty()) a.allowedOrigin = QString::fromUtf8(request.origins.first());
  if (request.method != "GET") return refuse(400, relay::kLookupBadRequest, QStringLiteral("a lookup is a GET"));
  QString why;
  if (!parseLookupQuery(config, request.target, &a.query, &why)) return refuse(400, relay::kLookupBadRequest, why);
  const QUrlQuery query(QUrl::fromEncoded(request.target));
  if (!config.token.isEmpty() &&
      !sameSecret(query.queryItemValue(fromView(relay::kTokenParameter), QUrl::FullyDecoded).toUtf8(), config.token))
    return refuse(403, relay::kLookupRefused, QStringLiteral("token refused"));
  if (lookupsAtOnce >= kMaxLookupsAtOnce)
    return refuse(503, relay::kLookupBusy, QStringLiteral("the relay is busy with other lookups; try again in a moment"));
  if (const qint64 waitMs = budget.take(a.clientKey, config.maxLookupsPerMinute, nowMs)) {
    a.retryAfterSeconds = static_cast<int>((waitMs + 999) / 1000);
    return refuse(429, relay::kLookupRateLimited,
                  QStringLiteral("more than %1 lookups in a minute from your address; try again in %2 s")
                      .arg(config.maxLookupsPerMinute)
                      .arg(a.retryAfterSeconds));
  }
  return a;
}

QByteArray lookupResponse(int httpStatus, const QString& allowedOrigin, const QJsonObject& body, int retryAfterSeconds) {
  const char* phrase = httpStatus == 200   ? "OK"
                       : httpStatus == 400 ? "Bad Request"
                       : httpStatus == 403 ? "Forbidden"
                       : httpStatus == 404 ? "Not Found"
                       : httpStatus == 429 ? "Too Many Requests"
                       : httpStatus == 503 ? "Service Unavailable"
                                           : "Error";
  QJsonObject json = body;
  if (retryAfterSeconds > 0) json.insert(QStringLiteral("retryAfter"), retryAfterSeconds);
  const QByteArray content = QJsonDocument(json).toJson(QJsonDocument::Compact);
  QByteArray head = "HTTP/1.1 " + QByteArray::number(httpStatus) + ' ' + phrase +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(content.size()) +
                    "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nVary: Origin\r\n";
  // Only an allowed Origin, which matched the request's header exactly (a line without CR or LF).
  if (!allowedOrigin.isEmpty()) head += "Access-Control-Allow-Origin: " + allowedOrigin.toUtf8() + "\r\n";
  if (retryAfterSeconds > 0) head += "Retry-After: " + QByteArray::number(retryAfterSeconds) + "\r\n";
  return head + "Connection: close\r\n\r\n" + content;
}

}  // namespace smtpc::proxy
