#include "web_server.h"

#include "lookup_rules.h"
#include "metrics.h"

namespace smtpc::proxy {

namespace {

constexpr qsizetype kMaxRequestHead = 16 * 1024;  // as a relay handshake's (proxy.cpp)
constexpr int kMaxRequests = 100;                 // then Connection: close, and the browser opens another
constexpr qint64 kPiece = 64 * 1024;              // read from the file and written at a time
constexpr qint64 kQueued = 256 * 1024;            // at most this much of a file waits in the socket

}  // namespace

WebConnection::WebConnection(const WebRoot& root, const Config& config, QTcpSocket* socket, const QString& peerKey)
    : root_(root), config_(config), socket_(socket), peerKey_(peerKey) {
  socket_->setParent(this);
  socket_->setReadBufferSize(kMaxRequestHead);  // one request head at a time; TCP holds the rest back
  timer_.setSingleShot(true);
  connect(&timer_, &QTimer::timeout, this, [this] {
    socket_->abort();
    finish();
  });
  connect(socket_, &QIODevice::readyRead, this, &WebConnection::readRequest);
  connect(socket_, &QIODevice::bytesWritten, this, &WebConnection::sendMore);
  connect(socket_, &QAbstractSocket::disconnected, this, &WebConnection::finish);
}

WebConnection::~WebConnection() = default;

void WebConnection::start() {
  timer_.start(config_.handshakeTimeoutMs);
  readRequest();
}

void WebConnection::abort() {
  socket_->abort();
  finish();
}

void WebConnection::readRequest() {
  if (sending_ || closeAfter_ || done_) return;
  const QByteArray peeked = socket_->peek(socket_->bytesAvailable());
  HandshakeRequest request;
  const HeadStatus status = parseHandshake(peeked, kMaxRequestHead, &request);
  if (status == HeadStatus::Incomplete) return;
  WebReply reply;
  if (status == HeadStatus::Complete && (request.upgradeToWebSocket || isLookupTarget(request.target))) {
    // For the proxy to decide, as if it came on a connection of its own (the request stays unread).
    timer_.stop();
    socket_->disconnect(this);
    socket_->setParent(nullptr);
    QTcpSocket* socket = socket_;
    socket_ = nullptr;
    done_ = true;
    emit handBack(this, socket);
    return;
  }
  if (status == HeadStatus::Complete) {
    socket_->read(peeked.indexOf("\r\n\r\n") + 4);
    ++served_;
    reply = root_.answer(request, keepsAlive(request) && served_ < kMaxRequests);
  } else {
    // Too large or malformed: answered once, and the connection ends (what follows cannot be framed).
    HandshakeRequest bad;
    bad.method = "GET";
    bad.target = "#";  // WebRoot answers 400 for it, with every header a page's answer has
    reply = root_.answer(bad, false);
  }
  ++counters().webRequests[reply.status];
  socket_->write(reply.head);
  if (request.method != "HEAD") socket_->write(reply.body);
  closeAfter_ = reply.close;
  if (!reply.file.isEmpty()) {
    file_.setFileName(reply.file);
    if (!file_.open(QIODevice::ReadOnly)) {  // gone since it was found: the head promised a length
      socket_->abort();
      return finish();
    }
    left_ = reply.length;
    sending_ = true;
    timer_.start(config_.handshakeTimeoutMs);
    return sendMore();
  }
  answered();
}

void WebConnection::sendMore() {
  if (!sending_ || done_) return;
  timer_.start(config_.handshakeTimeoutMs);  // progress: the client reads
  while (left_ > 0 && socket_->bytesToWrite() < kQueued) {
    const QByteArray piece = file_.read(qMin(left_, kPiece));
    if (piece.isEmpty()) {  // shorter than when it was answered: the length cannot be kept
      socket_->abort();
      return finish();
    }
    left_ -= piece.size();
    socket_->write(piece);
  }
  if (left_ > 0) return;
  file_.close();
  sending_ = false;
  answered();
}

void WebConnection::answered() {
  if (closeAfter_) {
    socket_->disconnectFromHost();  // once written; disconnected() finishes, or the timer does
    timer_.start(config_.handshakeTimeoutMs);
    return;
  }
  timer_.start(config_.handshakeTimeoutMs);  // the budget for the next request
  // A request sent behind this one (pipelined) is already in the buffer: no readyRead will come.
  QMetaObject::invokeMethod(this, &WebConnection::readRequest, Qt::QueuedConnection);
}

void WebConnection::finish() {
  if (done_) return;
  done_ = true;
  timer_.stop();
  emit finished(this);
}

WebServer::WebServer(const Config& config, std::function<void(QTcpSocket*)> handBack)
    : config_(config), root_(config.webDir), handBack_(std::move(handBack)) {}

WebServer::~WebServer() {
  for (WebConnection* connection : connections_) connection->disconnect(this);
  qDeleteAll(connections_);
}

void WebServer::take(QTcpSocket* socket, const QString& peerKey) {
  // Counted apart from relays, under the same limits: a page load holds a few connections for
  // seconds, a relay one for minutes.
  if (connections() >= config_.maxConnections || perClient_.value(peerKey) >= config_.maxPerClient) {
    ++counters().webRequests[503];
    socket->write("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    socket->flush();
    socket->abort();
    socket->deleteLater();
    return;
  }
  auto* connection = new WebConnection(root_, config_, socket, peerKey);
  connections_.append(connection);
  ++perClient_[peerKey];
  connect(connection, &WebConnection::finished, this, &WebServer::release);
  connect(connection, &WebConnection::handBack, this, [this](WebConnection* from, QTcpSocket* s) {
    release(from);
    handBack_(s);
  });
  connection->start();
}

void WebServer::release(WebConnection* connection) {
  if (!connections_.removeOne(connection)) return;
  if (--perClient_[connection->peerKey()] <= 0) perClient_.remove(connection->peerKey());
  connection->deleteLater();
  emit connectionEnded();
}

void WebServer::shutdown() {
  const auto open = connections_;
  for (WebConnection* connection : open) connection->abort();
}

}  // namespace smtpc::proxy
