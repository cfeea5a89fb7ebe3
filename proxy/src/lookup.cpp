#include "lookup.h"

#include <QJsonArray>
#include <QNetworkProxy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStringDecoder>

#include "proxy.h"
#include "smtpc/relay.h"

namespace smtpc::proxy {

namespace {

constexpr qsizetype kMaxResponseHead = 16 * 1024;
constexpr int kCloseMs = 5000;  // how long an answered page may take to read its answer

// A document as text: UTF-8 as a clientConfig is written, or else Latin-1 byte for byte
// (never silently replaced characters).
QString documentText(const QByteArray& bytes) {
  QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
  const QString text = utf8(bytes);
  return utf8.hasError() ? QString::fromLatin1(bytes) : text;
}

QString seconds(int ms) { return QString::number(ms / 1000.0, 'g', 3); }

}  // namespace

void logLookup(const QString& client, const QString& type, const QString& subject, const QString& status,
               const QString& detail, qint64 ms) {
  countLookup(status);
  if (jsonLog()) {
    if (lcProxy().isInfoEnabled())
      logJson({{QStringLiteral("event"), QStringLiteral("lookup")}, {QStringLiteral("client"), client},
               {QStringLiteral("type"), type}, {QStringLiteral("subject"), subject.isEmpty() ? QJsonValue() : QJsonValue(subject)},
               {QStringLiteral("status"), status}, {QStringLiteral("ms"), ms}, {QStringLiteral("reason"), detail}});
    return;
  }
  qCInfo(lcProxy).noquote() << QStringLiteral("lookup client %1 %2 %3 status %4 duration %5 ms (%6)")
                                   .arg(client, type, subject.isEmpty() ? QStringLiteral("-") : subject, status)
                                   .arg(ms)
                                   .arg(detail);
}

Lookup::Lookup(const Config& config, Resolver& resolver, QTcpSocket* client, const LookupAdmission& admission,
               QElapsedTimer age)
    : config_(config), resolver_(resolver), client_(client), admission_(admission), age_(age) {
  client_->setParent(this);
  connect(client_, &QAbstractSocket::disconnected, this, [this] {
    if (!answered_) logLookup(admission_.client.toString(), admission_.query.typeName(), admission_.query.subject(),
                              QStringLiteral("abandoned"), QStringLiteral("the page left before the answer"), age_.elapsed());
    answered_ = true;
    finish();
  });
  deadline_.setSingleShot(true);
  connect(&deadline_, &QTimer::timeout, this, [this] {
    const QString budget = seconds(config_.lookupTimeoutMs);
    if (admission_.query.type == LookupType::Srv || admission_.query.type == LookupType::Mx)
      return answer(lookupStatus(relay::kLookupTimeout, QStringLiteral("No DNS answer within %1 s.").arg(budget)),
                    QStringLiteral("no DNS answer in time"));
    fetchFailed(relay::kLookupTimeout, QStringLiteral("No answer from %1 within %2 s.").arg(admission_.query.fetch.host, budget));
  });
}

Lookup::~Lookup() {
  if (fetch_) fetch_->disconnect(this);
}

void Lookup::start() {
  deadline_.start(config_.lookupTimeoutMs);
  const LookupQuery& q = admission_.query;
  switch (q.type) {
    case LookupType::Srv:
    case LookupType::Mx:
      resolver_.query(q.name, q.type == LookupType::Srv ? DnsType::Srv : DnsType::Mx, config_.lookupTimeoutMs, this,
                      [this](const DnsResult& result) { onDns(result); });
      return;
    default:
      resolver_.resolve(q.fetch.host, config_.lookupTimeoutMs, this, [this](const DnsResult& result) { onAddresses(result); });
  }
}

void Lookup::onDns(const DnsResult& result) {
  if (answered_) return;
  switch (result.status) {
    case DnsResult::Status::Ok: break;
    case DnsResult::Status::NxDomain:
      return answer(lookupStatus(relay::kLookupNxDomain, QStringLiteral("%1 does not exist (NXDOMAIN).").arg(admission_.query.name)),
                    result.error);
    case DnsResult::Status::Timeout:
      return answer(lookupStatus(relay::kLookupTimeout, QStringLiteral("No DNS answer for %1 in time.").arg(admission_.query.name)),
                    result.error);
    case DnsResult::Status::Failed:
      return answer(lookupStatus(relay::kLookupFailed, QStringLiteral("The DNS lookup of %1 failed: %2.").arg(admission_.query.name, result.error)),
                    result.error);
  }
  QJsonObject body = lookupStatus(relay::kLookupOk, QString());
  QJsonArray records;
  if (admission_.query.type == LookupType::Srv) {
    for (const SrvRecord& r : result.srv)
      records.append(QJsonObject{{QStringLiteral("priority"), r.priority}, {QStringLiteral("weight"), r.weight},
                                 {QStringLiteral("port"), r.port}, {QStringLiteral("target"), r.target}});
    body.insert(QStringLiteral("srv"), records);
  } else {
    for (const MxRecord& r : result.mx)
      records.append(QJsonObject{{QStringLiteral("preference"), r.preference}, {QStringLiteral("exchange"), r.exchange}});
    body.insert(QStringLiteral("mx"), records);
  }
  answer(body, QStringLiteral("%1 records").arg(records.size()));
}

void Lookup::onAddresses(const DnsResult& result) {
  if (answered_) return;
  const FetchTarget& target = admission_.query.fetch;
  if (result.status == DnsResult::Status::Timeout)
    return fetchFailed(relay::kLookupTimeout, QStringLiteral("No DNS answer for %1 in time.").arg(target.host));
  if (result.status == DnsResult::Status::NxDomain)
    return fetchFailed(relay::kLookupNxDomain, QStringLiteral("%1 does not exist (NXDOMAIN).").arg(target.host));
  if (result.status != DnsResult::Status::Ok)
    return fetchFailed(relay::kLookupFailed, QStringLiteral("The address of %1 could not be found: %2.").arg(target.host, result.error));
  // The relay's own rule (Relay::resolved): public addresses, unless the operator listed this
  // host:port with --allow-private (or wrote the --ispdb base with an address on the allowlist).
  const Destination* allowed = config_.allowed(target.host, target.port);
  const bool privateAllowed = allowed && (allowed->allowPrivate || !QHostAddress(target.host).isNull());
  candidates_.clear();
  QString refusedRange;
  QHostAddress refused;
  for (const QHostAddress& address : result.addresses) {
    const QString range = nonPublicRange(address);
    if (range.isEmpty() || privateAllowed) candidates_.append(address);
    else if (refused.isNull()) refused = address, refusedRange = range;
  }
  if (candidates_.isEmpty())
    return fetchFailed(relay::kLookupRefused,
                       QStringLiteral("%1 resolves to %2, not a public address (%3): the relay fetches from public "
                                      "addresses only, unless its operator allows this host with --allow-private %1:%4.")
                           .arg(target.host, canonical(refused).toString(), refusedRange)
                           .arg(target.port));
  connectNext();
}

// Each permitted address in turn, within the one deadline; the last failure is reported.
void Lookup::connectNext() {
  if (candidates_.isEmpty())
    return fetchFailed(relay::kLookupFailed, QStringLiteral("Could not connect to %1: %2.").arg(admission_.query.fetch.host, lastFailure_));
  const FetchTarget& target = admission_.query.fetch;
  address_ = candidates_.takeFirst();
  if (fetch_) {
    fetch_->disconnect(this);
    fetch_.release()->deleteLater();
  }
  reader_.emplace(kMaxResponseHead, static_cast<qsizetype>(relay::kLookupMaxDocumentBytes));
  sslErrors_.clear();
  QSslSocket* tls = target.https ? new QSslSocket : nullptr;
  fetch_.reset(tls ? tls : new QTcpSocket);
  fetch_->setProxy(QNetworkProxy::NoProxy);  // straight to the address checked, never through an environment's proxy
  connect(fetch_.get(), &QAbstractSocket::errorOccurred, this, &Lookup::onFetchError);
  connect(fetch_.get(), &QIODevice::readyRead, this, &Lookup::onFetchReadable);
  connect(fetch_.get(), &QAbstractSocket::disconnected, this, &Lookup::onFetchEnded);
  if (tls) {
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.addCaCertificates(config_.extraCas);
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    tls->setSslConfiguration(ssl);
    connect(tls, &QSslSocket::sslErrors, this, [this](const QList<QSslError>& errors) { sslErrors_ = errors; });
    connect(tls, &QSslSocket::encrypted, this, &Lookup::onFetchUp);
    // The address as the host (no lookup), the name for SNI and for the certificate check.
    tls->connectToHostEncrypted(address_.toString(), target.port, target.host);
  } else {
    connect(fetch_.get(), &QAbstractSocket::connected, this, &Lookup::onFetchUp);
    fetch_->connectToHost(address_, target.port);
  }
}

void Lookup::onFetchUp() {
  const FetchTarget& target = admission_.query.fetch;
  const bool defaultPort = target.port == (target.https ? 443 : 80);
  const QString host = target.host.contains(QLatin1Char(':')) ? QLatin1Char('[') + target.host + QLatin1Char(']') : target.host;
  // No cookie, no credential, nothing of the page's: the same request whoever asks.
  fetch_->write("GET " + target.pathAndQuery + " HTTP/1.1\r\nHost: " + host.toLatin1() +
                (defaultPort ? QByteArray() : ':' + QByteArray::number(target.port)) +
                "\r\nUser-Agent: smtpc-proxy/" SMTPC_VERSION
                "\r\nAccept: application/xml, text/xml, */*;q=0.5\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n");
}

void Lookup::onFetchReadable() {
  if (answered_ || !reader_) return;
  if (reader_->feed(fetch_->readAll()) != HttpResponseReader::State::NeedMore) onDocument();
}

void Lookup::onFetchEnded() {
  if (answered_ || !reader_) return;
  if (fetch_->bytesAvailable() > 0) reader_->feed(fetch_->readAll());
  if (reader_->state() == HttpResponseReader::State::NeedMore) reader_->finish();
  onDocument();
}

void Lookup::onFetchError(QAbstractSocket::SocketError error) {
  if (answered_) return;
  const FetchTarget& target = admission_.query.fetch;
  const QString where = QStringLiteral("%1 port %2").arg(canonical(address_).toString()).arg(target.port);
  if (error == QAbstractSocket::RemoteHostClosedError) return onFetchEnded();
  if (error == QAbstractSocket::SslHandshakeFailedError || !sslErrors_.isEmpty()) {
    const QString problem = sslErrors_.isEmpty() ? fetch_->errorString() : sslErrors_.first().errorString();
    return fetchFailed(relay::kLookupFailed, QStringLiteral("TLS with %1 (%2) failed: %3.").arg(target.host, where, problem));
  }
  lastFailure_ = error == QAbstractSocket::ConnectionRefusedError ? QStringLiteral("connection refused by %1").arg(where)
                                                                   : QStringLiteral("%1 (%2)").arg(fetch_->errorString(), where);
  if (reader_ && reader_->status() == 0 && fetch_->state() != QAbstractSocket::ConnectedState) {
    QMetaObject::invokeMethod(this, &Lookup::connectNext, Qt::QueuedConnection);  // not from inside the socket's signal
    return;
  }
  fetchFailed(relay::kLookupFailed, QStringLiteral("The connection to %1 failed: %2.").arg(target.host, lastFailure_));
}

void Lookup::onDocument() {
  if (answered_) return;
  const FetchTarget& target = admission_.query.fetch;
  switch (reader_->state()) {
    case HttpResponseReader::State::NeedMore: return;
    case HttpResponseReader::State::TooLarge:
      return fetchFailed(relay::kLookupTooLarge, QStringLiteral("The answer of %1 is too large: %2.").arg(target.host, reader_->why()));
    case HttpResponseReader::State::Malformed:
      return fetchFailed(relay::kLookupFailed, QStringLiteral("The answer of %1 could not be read: %2.").arg(target.host, reader_->why()));
    case HttpResponseReader::State::Done: break;
  }
  const int status = reader_->status();
  QJsonObject body = lookupStatus(relay::kLookupOk, QString());
  body.insert(QStringLiteral("http"), status);
  body.insert(QStringLiteral("url"), target.url());
  body.insert(QStringLiteral("body"), status == 200 ? documentText(reader_->body()) : QString());
  if (status >= 300 && status < 400)
    body.insert(QStringLiteral("error"),
                QStringLiteral("%1 answered %2 and points to %3; the relay does not follow redirects.")
                    .arg(target.host)
                    .arg(status)
                    .arg(QString::fromLatin1(reader_->location().left(2000))));
  answer(body, QStringLiteral("http %1 %2, %3 bytes").arg(status).arg(target.urlWithoutQuery()).arg(reader_->body().size()));
}

void Lookup::fetchFailed(std::string_view status, const QString& error) {
  QJsonObject body = lookupStatus(status, error);
  body.insert(QStringLiteral("url"), admission_.query.fetch.url());
  answer(body, admission_.query.fetch.urlWithoutQuery() + QStringLiteral(": ") + error);
}

void Lookup::answer(const QJsonObject& body, const QString& logDetail) {
  if (answered_) return;
  answered_ = true;
  deadline_.stop();
  if (fetch_) {
    fetch_->disconnect(this);
    fetch_->abort();
  }
  logLookup(admission_.client.toString(), admission_.query.typeName(), admission_.query.subject(),
            body.value(QStringLiteral("status")).toString(), logDetail, age_.elapsed());
  if (!client_) return finish();
  client_->write(lookupResponse(200, admission_.allowedOrigin, body));
  client_->disconnectFromHost();  // after what was written; disconnected() finishes
  if (client_ && client_->state() == QAbstractSocket::UnconnectedState) return finish();
  QTimer::singleShot(kCloseMs, this, [this] {
    if (client_) client_->abort();
    finish();
  });
}

void Lookup::abort() {
  answered_ = true;
  deadline_.stop();
  if (fetch_) {
    fetch_->disconnect(this);
    fetch_->abort();
  }
  if (client_) {
    client_->disconnect(this);
    client_->abort();
  }
  logLookup(admission_.client.toString(), admission_.query.typeName(), admission_.query.subject(), QStringLiteral("abandoned"),
            QStringLiteral("proxy shutting down"), age_.elapsed());
  finish();
}

void Lookup::finish() {
  if (done_) return;
  done_ = true;
  emit finished(this);
}

}  // namespace smtpc::proxy
