// One admitted lookup (lookup_rules.h decided it): a DNS query, or a GET of one of the fixed
// document URLs, answered to the page as JSON (smtpc/relay.h, kLookupPath) and logged in one line.
//
// A fetch goes only where the rules allow: the host's addresses are looked up here (through
// --dns-server when there is one) and each is checked before it is connected to; the connection
// goes to that very address (no second lookup, so no DNS rebinding), with the name sent as
// Host, SNI and the name the certificate must carry. A private address is taken only when the
// operator allowed the host:port with --allow-private, as for relaying. No proxy, no redirect
// followed, no cookie or credential sent, at most relay::kLookupMaxDocumentBytes read.
#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslError>
#include <QTcpSocket>
#include <QTimer>
#include <memory>
#include <optional>

#include "config.h"
#include "dns.h"
#include "http_response.h"
#include "lookup_rules.h"

namespace smtpc::proxy {

// One log line per lookup: never the token, never the address asked about.
void logLookup(const QString& client, const QString& type, const QString& subject, const QString& status,
               const QString& detail, qint64 ms);

class Lookup : public QObject {
  Q_OBJECT
 public:
  // Takes `client` (the page's connection, its request read).
  Lookup(const Config& config, Resolver& resolver, QTcpSocket* client, const LookupAdmission& admission, QElapsedTimer age);
  ~Lookup() override;
  void start();
  // The proxy is shutting down: the connection closes now, unanswered.
  void abort();

 signals:
  void finished(Lookup* lookup);

 private:
  void onDns(const DnsResult& result);
  void onAddresses(const DnsResult& result);
  void connectNext();
  void onFetchUp();
  void onFetchReadable();
  void onFetchError(QAbstractSocket::SocketError error);
  void onFetchEnded();
  void onDocument();
  // Answers the page (200 and `body`), logs, and closes.
  void answer(const QJsonObject& body, const QString& logDetail);
  void fetchFailed(std::string_view status, const QString& error);
  void finish();

  const Config& config_;
  Resolver& resolver_;
  QPointer<QTcpSocket> client_;
  LookupAdmission admission_;
  QElapsedTimer age_;
  QTimer deadline_;
  std::unique_ptr<QTcpSocket> fetch_;  // a QSslSocket for https
  QList<QHostAddress> candidates_;     // permitted addresses not yet tried
  QHostAddress address_;               // the one being tried
  QString lastFailure_;
  QList<QSslError> sslErrors_;
  std::optional<HttpResponseReader> reader_;
  bool answered_ = false, done_ = false;
};

}  // namespace smtpc::proxy
