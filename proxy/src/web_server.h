// The connections that ask for the page's files (--web): the proxy hands each one over after
// reading its first request (Proxy::onHandshakeBytes), and WebRoot (web.h) decides every answer.
// A connection carries up to kMaxRequests requests (keep-alive: a page load is about ten), one
// at a time; a file is sent in pieces as the socket drains, so memory stays bounded whatever its
// size. A request for the relay or the lookup endpoint on a kept-alive connection is handed back
// to the proxy, which decides it like a new connection's.
#pragma once

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QTcpSocket>
#include <QTimer>
#include <functional>

#include "config.h"
#include "web.h"

namespace smtpc::proxy {

class WebConnection : public QObject {
  Q_OBJECT
 public:
  WebConnection(const WebRoot& root, const Config& config, QTcpSocket* socket, const QString& peerKey);
  ~WebConnection() override;
  void start();
  void abort();  // shutting down: ends at once
  QString peerKey() const { return peerKey_; }

 signals:
  void finished(WebConnection* connection);
  // The next request is not for a file: `socket` is the proxy's again (its request unread).
  void handBack(WebConnection* connection, QTcpSocket* socket);

 private:
  void readRequest();
  void sendMore();
  void answered();
  void finish();

  const WebRoot& root_;
  const Config& config_;
  QTcpSocket* socket_;
  QString peerKey_;
  QFile file_;
  qint64 left_ = 0;  // bytes of file_ still to send
  bool sending_ = false, closeAfter_ = false, done_ = false;
  int served_ = 0;
  // The budget for the next request head (from the accept or the last answer, not renewed by its
  // bytes), then for each piece of a file to drain: a client that stops reading is cut off.
  QTimer timer_;
};

class WebServer : public QObject {
  Q_OBJECT
 public:
  // `handBack(socket)`: a kept-alive connection's next request is for the relay or the lookups.
  WebServer(const Config& config, std::function<void(QTcpSocket*)> handBack);
  ~WebServer() override;
  // Takes `socket` (its first request peeked, not read) and answers it.
  void take(QTcpSocket* socket, const QString& peerKey);
  void shutdown();
  int connections() const { return static_cast<int>(connections_.size()); }

 signals:
  void connectionEnded();

 private:
  void release(WebConnection* connection);
  const Config& config_;
  WebRoot root_;
  std::function<void(QTcpSocket*)> handBack_;
  QList<WebConnection*> connections_;
  QHash<QString, int> perClient_;  // open connections by the TCP peer's clientKey
};

}  // namespace smtpc::proxy
