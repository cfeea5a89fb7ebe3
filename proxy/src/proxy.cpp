#include "proxy.h"

#include <QFile>
#include <QHostInfo>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <limits>
#include <optional>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcProxy, "smtpc.proxy", QtInfoMsg)

namespace smtpc::proxy {

namespace {
constexpr qint64 kReadChunk = 256 * 1024;
constexpr int kCloseHandshakeMs = 5000;  // how long a closed relay waits for the client's close frame
constexpr int kDrainCheckFirstMs = 1;    // a backlogged client's queue is looked at again after this,
constexpr int kDrainCheckMaxMs = 250;    // then twice as late each time, up to this
constexpr int kPipeSize = 1024 * 1024;  // what one splice(2) may move (the default pipe holds 64 KiB)
constexpr qint64 kBulk = 64 * 1024;     // a read this large means a bulk transfer (SMTP replies are lines)

// One buffer for every relay's reads from a server (the proxy has one thread): a connection
// costs no read buffer of its own while idle.
char* readBuffer() {
  static char* buffer = new char[kReadChunk];
  return buffer;
}

}  // namespace

// A connection whose WebSocket handshake is not done: accepted, its request not yet read and
// decided (admission empty), or admitted and being upgraded by Qt.
struct Proxy::Handshake {
  QTcpSocket* socket = nullptr;
  QHostAddress peer;  // the TCP peer
  QString peerKey;    // its clientKey: what the handshake caps count
  QElapsedTimer age;
  QTimer* timeout = nullptr;  // a child of the socket: it may end the handshake from its own signal
  QMetaObject::Connection reading;
  std::optional<Admission> admission;
};

namespace {

// The largest request head read: a browser's upgrade request is well under 2 KiB (the relay's
// origin sets no cookies); more than this without an end is refused instead of buffered.
constexpr qint64 kMaxHandshakeBytes = 16 * 1024;

// Accepts TCP connections and hands each descriptor to the proxy before any byte is read, so
// the proxy can cap handshakes in progress and read the request itself.
class Acceptor : public QTcpServer {
 public:
  explicit Acceptor(std::function<void(qintptr)> onAccepted) : onAccepted_(std::move(onAccepted)) {}

 protected:
  void incomingConnection(qintptr descriptor) override { onAccepted_(descriptor); }

 private:
  std::function<void(qintptr)> onAccepted_;
};

// One line per connection, refused or relayed: never payload, never the request's query.
void logConnection(const QString& client, const QString& destination, qint64 up, qint64 down, qint64 ms, int code,
                   const QString& reason) {
  qCInfo(lcProxy).noquote() << QStringLiteral("client %1 destination %2 up %3 down %4 duration %5 ms close %6 (%7)")
                                   .arg(client, destination.isEmpty() ? QStringLiteral("-") : destination)
                                   .arg(up)
                                   .arg(down)
                                   .arg(ms)
                                   .arg(code ? QString::number(code) : QStringLiteral("abort"))
                                   .arg(reason);
}

}  // namespace

Proxy::Proxy(Config config, QObject* parent)
    : QObject(parent),
      config_(std::move(config)),
      acceptor_(std::make_unique<Acceptor>([this](qintptr descriptor) { onAccepted(descriptor); })),
      upgrader_(QStringLiteral("smtpc-proxy"),
                config_.certFile.isEmpty() ? QWebSocketServer::NonSecureMode : QWebSocketServer::SecureMode) {
  // Every connection handed to the upgrader was admitted and counted already.
  upgrader_.setMaxPendingConnections(std::numeric_limits<int>::max());
  connect(&upgrader_, &QWebSocketServer::newConnection, this, &Proxy::onUpgraded);
}

Proxy::~Proxy() {
  for (Relay* relay : relays_) relay->disconnect(this);
  qDeleteAll(relays_);
  for (auto& [socket, handshake] : handshakes_) socket->disconnect(this);
}

QHostAddress Proxy::address() const { return acceptor_->serverAddress(); }
quint16 Proxy::port() const { return acceptor_->serverPort(); }

bool Proxy::listen(QString* why) {
  if (!config_.certFile.isEmpty()) {
    QFile certFile(config_.certFile), keyFile(config_.keyFile);
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly)) {
      *why = QStringLiteral("cannot read --cert or --key");
      return false;
    }
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificateChain(QSslCertificate::fromData(certFile.readAll()));
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Ec);
    if (key.isNull()) key = QSslKey(keyPem, QSsl::Rsa);
    if (key.isNull()) {
      *why = QStringLiteral("--key is not a PEM EC or RSA private key");
      return false;
    }
    ssl.setPrivateKey(key);
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    upgrader_.setSslConfiguration(ssl);
  }
  if (!acceptor_->listen(config_.listenAddress, config_.listenPort)) {
    *why = acceptor_->errorString();
    return false;
  }
  return true;
}

void Proxy::onAccepted(qintptr descriptor) {
  QTcpSocket* socket = config_.certFile.isEmpty() ? new QTcpSocket(this) : new QSslSocket(this);
  if (!socket->setSocketDescriptor(descriptor)) {
    ::close(static_cast<int>(descriptor));
    delete socket;
    return;
  }
  const QHostAddress peer = canonical(socket->peerAddress());
  const QString peerKey = clientKey(peer);
  auto refuse = [&](const QString& reason) {
    logConnection(peer.toString(), QString(), 0, 0, 0, 0, reason);
    socket->abort();
    socket->deleteLater();
  };
  if (shuttingDown_) return refuse(QStringLiteral("proxy shutting down"));
  if (static_cast<qsizetype>(handshakes_.size()) >= config_.maxHandshakes)
    return refuse(QStringLiteral("too many handshakes in progress"));
  // A trusted reverse proxy carries many clients' handshakes; it is only under the total cap.
  if (handshakesFrom_.value(peerKey) >= config_.maxHandshakesPerClient && !config_.trustsForwarder(peer))
    return refuse(QStringLiteral("too many handshakes in progress from this address"));

  auto handshake = std::make_unique<Handshake>();
  handshake->socket = socket;
  handshake->peer = peer;
  handshake->peerKey = peerKey;
  handshake->age.start();
  ++handshakesFrom_[peerKey];
  // A client that sends its request slowly, or half of it, or nothing, is cut off here: the
  // budget runs from the accept and is not renewed by bytes.
  handshake->timeout = new QTimer(socket);
  handshake->timeout->setSingleShot(true);
  connect(handshake->timeout, &QTimer::timeout, this,
          [this, socket] { dropHandshake(socket, 0, QStringLiteral("handshake timeout")); });
  handshake->timeout->start(config_.handshakeTimeoutMs);
  socket->setReadBufferSize(kMaxHandshakeBytes);  // a request head is read, never a flood
  handshake->reading = connect(socket, &QIODevice::readyRead, this, [this, socket] { onHandshakeBytes(socket); });
  connect(socket, &QAbstractSocket::disconnected, this,
          [this, socket] { dropHandshake(socket, 0, QStringLiteral("client left during the handshake")); });
  handshakes_.emplace(socket, std::move(handshake));
  if (auto* tls = qobject_cast<QSslSocket*>(socket)) {
    tls->setSslConfiguration(upgrader_.sslConfiguration());
    tls->startServerEncryption();
  }
}

void Proxy::onHandshakeBytes(QTcpSocket* socket) {
  const auto it = handshakes_.find(socket);
  if (it == handshakes_.end() || it->second->admission) return;
  Handshake& handshake = *it->second;
  HandshakeRequest request;
  // peek, not read: Qt's server reads the same bytes again to complete the handshake.
  switch (parseHandshake(socket->peek(socket->bytesAvailable()), kMaxHandshakeBytes, &request)) {
    case HeadStatus::Incomplete: return;
    case HeadStatus::TooLarge:
      socket->write(httpErrorBytes(431, "Request Header Fields Too Large"));
      return dropHandshake(socket, 0, QStringLiteral("request head too large"));
    case HeadStatus::Malformed:
      socket->write(httpErrorBytes(400, "Bad Request"));
      return dropHandshake(socket, 0, QStringLiteral("malformed request"));
    case HeadStatus::Complete: break;
  }
  const Admission admission = admit(config_, handshake.peer, request, Load{connections_, &perClient_, shuttingDown_});
  if (!admission.admitted()) {
    socket->write(refusalBytes(request, admission.code, admission.reason));
    return dropHandshake(socket, admission.code, admission.reason, &admission);
  }
  ++connections_;
  ++perClient_[admission.clientKey];
  handshake.admission = admission;
  disconnect(handshake.reading);
  socket->setReadBufferSize(0);  // the relay decides from now on (Relay::holdWebSocket)
  upgrader_.handleConnection(socket);
}

void Proxy::dropHandshake(QTcpSocket* socket, int code, const QString& reason, const Admission* refusal) {
  auto node = handshakes_.extract(socket);
  if (node.empty()) return;
  const Handshake& handshake = *node.mapped();
  socket->disconnect(this);
  handshake.timeout->stop();
  if (--handshakesFrom_[handshake.peerKey] <= 0) handshakesFrom_.remove(handshake.peerKey);
  if (handshake.admission) {
    --connections_;
    if (--perClient_[handshake.admission->clientKey] <= 0) perClient_.remove(handshake.admission->clientKey);
  }
  const Admission* decided = handshake.admission ? &*handshake.admission : refusal;
  const QString client = decided ? decided->client.toString() : handshake.peer.toString();
  const QString destination =
      decided && !decided->host.isEmpty() ? decided->host + QLatin1Char(':') + QString::number(decided->port) : QString();
  logConnection(client, destination, 0, 0, handshake.age.elapsed(), code, reason);
  // What was written (a refusal) is in the kernel after flush(); abort() then closes without
  // waiting for the client to answer, and drops anything unsent of a client that reads nothing.
  socket->flush();
  socket->abort();
  socket->deleteLater();
  checkDrained();
}

void Proxy::onUpgraded() {
  while (QWebSocket* ws = upgrader_.nextPendingConnection()) {
    auto it = std::find_if(handshakes_.begin(), handshakes_.end(), [ws](const auto& entry) {
      const QTcpSocket* s = entry.first;
      return entry.second->admission && s->peerPort() == ws->peerPort() && s->localPort() == ws->localPort() &&
             s->peerAddress() == ws->peerAddress();
    });
    if (it == handshakes_.end()) {  // not one we admitted: cannot happen, but never relay it
      ws->abort();
      ws->deleteLater();
      continue;
    }
    auto node = handshakes_.extract(it);
    Handshake& handshake = *node.mapped();
    handshake.socket->disconnect(this);
    delete handshake.timeout;  // not from its own signal: this runs on Qt's newConnection
    if (--handshakesFrom_[handshake.peerKey] <= 0) handshakesFrom_.remove(handshake.peerKey);
    // Still counted in connections_ and perClient_: the relay gives them back when it finishes.
    auto* relay = new Relay(*this, ws, handshake.socket, *handshake.admission, handshake.age);
    relays_.append(relay);
    connect(relay, &Relay::finished, this, &Proxy::onRelayFinished);
    relay->start();
  }
}

void Proxy::onRelayFinished(Relay* relay) {
  relays_.removeOne(relay);
  --connections_;
  if (--perClient_[relay->clientKey()] <= 0) perClient_.remove(relay->clientKey());
  relay->deleteLater();
  checkDrained();
}

void Proxy::checkDrained() {
  if (!shuttingDown_ || drainedSignalled_ || !relays_.isEmpty() || !handshakes_.empty()) return;
  drainedSignalled_ = true;
  emit drained();
}

void Proxy::shutdown() {
  shuttingDown_ = true;
  acceptor_->close();
  std::vector<QTcpSocket*> pending;
  for (const auto& entry : handshakes_) pending.push_back(entry.first);
  for (QTcpSocket* socket : pending) dropHandshake(socket, 0, QStringLiteral("proxy shutting down"));
  const auto relays = relays_;
  for (Relay* relay : relays) relay->close(ShuttingDown);
  QMetaObject::invokeMethod(this, &Proxy::checkDrained, Qt::QueuedConnection);  // when nothing was open
}

// ---------------------------------------------------------------------------------------------

namespace {

// Writes `parts` in order: straight to the kernel in one sendmsg() when Qt holds nothing unsent
// for this socket (no copy into Qt's buffer), the rest through QAbstractSocket::write followed by
// flush(), which writes until the kernel is full instead of one buffer chunk per event-loop turn.
// Never for TLS sockets (the bytes must go through QSslSocket).
// Measured (strace): Qt's own path made one poll() and one write() per chunk, and a WebSocket
// frame was two chunks (its header alone was one).
void writeThrough(QAbstractSocket* socket, std::initializer_list<QByteArrayView> parts) {
  qsizetype skip = 0;
  const qintptr fd = socket->socketDescriptor();
  const bool plain = !qobject_cast<QSslSocket*>(socket);
  if (plain && fd >= 0 && socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState) {
    iovec vectors[4];
    int count = 0;
    for (QByteArrayView part : parts) {
      if (part.isEmpty() || count == 4) continue;
      vectors[count].iov_base = const_cast<char*>(part.data());
      vectors[count].iov_len = static_cast<size_t>(part.size());
      ++count;
    }
    msghdr message{};
    message.msg_iov = vectors;
    message.msg_iovlen = static_cast<decltype(message.msg_iovlen)>(count);
    const ssize_t sent = ::sendmsg(static_cast<int>(fd), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) skip = sent;  // errors (EAGAIN, a reset) are left to Qt's write below
  }
  bool buffered = false;
  for (QByteArrayView part : parts) {
    if (skip >= part.size()) {
      skip -= part.size();
      continue;
    }
    socket->write(part.data() + skip, part.size() - skip);
    skip = 0;
    buffered = true;
  }
  if (buffered && plain) socket->flush();
}

// The header of an unmasked binary frame (server to client, RFC 6455 §5.2) for `length` bytes.
QByteArrayView frameHeader(qint64 length, char (&buffer)[10]) {
  buffer[0] = static_cast<char>(0x82);  // FIN, binary
  if (length < 126) {
    buffer[1] = static_cast<char>(length);
    return QByteArrayView(buffer, 2);
  }
  if (length < 65536) {
    buffer[1] = 126;
    buffer[2] = static_cast<char>(length >> 8);
    buffer[3] = static_cast<char>(length);
    return QByteArrayView(buffer, 4);
  }
  buffer[1] = 127;
  for (int i = 0; i < 8; ++i) buffer[2 + i] = static_cast<char>(length >> (56 - 8 * i));
  return QByteArrayView(buffer, 10);
}

}  // namespace

Relay::Relay(Proxy& proxy, QWebSocket* ws, QAbstractSocket* socket, const Admission& admission, QElapsedTimer age)
    : proxy_(proxy), config_(proxy.config()), ws_(ws), wsSocket_(socket), age_(age) {
  ws_->setParent(this);
  client_ = admission.client.toString();
  clientKey_ = admission.clientKey;
  host_ = admission.host;
  destination_ = admission.host + QLatin1Char(':') + QString::number(admission.port);
  allowed_ = admission.destination;
  // Frames to the browser go past QWebSocket onto its plain socket (never under TLS: wss bytes
  // must go through QSslSocket).
  framesDirect_ = wsSocket_ && !qobject_cast<QSslSocket*>(wsSocket_.data());
  // SMTP is a conversation of short lines: without this, Nagle's algorithm and the browser's
  // delayed ACK hold each reply back by up to 40 ms (measured: EHLO round trips of 70 ms).
  if (wsSocket_) wsSocket_->setSocketOption(QAbstractSocket::LowDelayOption, 1);
  ws_->setMaxAllowedIncomingFrameSize(static_cast<quint64>(config_.maxFrameSize));
  ws_->setMaxAllowedIncomingMessageSize(static_cast<quint64>(config_.maxFrameSize));
  connect(ws_, &QWebSocket::disconnected, this, &Relay::onWsDisconnected);
  connect(ws_, &QWebSocket::binaryFrameReceived, this, [this](const QByteArray& frame, bool) { onFrame(frame); });
  connect(ws_, &QWebSocket::textFrameReceived, this, [this] { close(TextFrame); });
  connect(ws_, &QWebSocket::bytesWritten, this, &Relay::onWsBytesWritten);
  // Frames written past QWebSocket (sendToClient) drain from the socket's own buffer.
  if (wsSocket_) connect(wsSocket_, &QAbstractSocket::bytesWritten, this, [this] { onWsBytesWritten(0); });
  // Connected after QWebSocket's own slot, so this runs once the client's frames were handled
  // (and its pings answered).
  if (wsSocket_) connect(wsSocket_, &QIODevice::readyRead, this, &Relay::onClientReadable);
  drainCheck_.setSingleShot(true);
  connect(&drainCheck_, &QTimer::timeout, this, &Relay::checkClientDrained);
  connect(&tcp_, &TcpLink::connected, this, &Relay::onTcpConnected);
  connect(&tcp_, &TcpLink::readable, this, &Relay::onTcpReadable);
  connect(&tcp_, &TcpLink::written, this, &Relay::onTcpWritten);
  connect(&tcp_, &TcpLink::failed, this, &Relay::onTcpFailed);
  connectTimer_.setSingleShot(true);
  connect(&connectTimer_, &QTimer::timeout, this, [this] { close(ConnectTimeout); });
  idleTimer_.setSingleShot(true);
  connect(&idleTimer_, &QTimer::timeout, this, [this] { close(IdleTimeout); });
}

Relay::~Relay() {
  for (int fd : pipe_)
    if (fd >= 0) ::close(fd);
}

// Admitted already (admit(): Origin, token, allowlist, capacity): what is left is the name.
void Relay::start() {
  idleTimer_.start(config_.idleTimeoutMs);
  const QHostAddress literal(host_);
  if (!literal.isNull()) {
    resolved({literal}, QString());
    return;
  }
  QPointer<Relay> self(this);
  QHostInfo::lookupHost(host_, this, [self](const QHostInfo& info) {
    if (self) self->resolved(info.addresses(), info.error() == QHostInfo::NoError ? QString() : info.errorString());
  });
}

void Relay::resolved(const QList<QHostAddress>& addresses, const QString& lookupError) {
  if (closing_) return;
  if (!lookupError.isEmpty() || addresses.isEmpty()) {
    close(DnsFailed);
    return;
  }
  const bool literal = !QHostAddress(host_).isNull();  // an IP literal on the allowlist is explicit
  // The address checked is the address connected to: no second lookup (DNS rebinding).
  candidates_.clear();
  for (const QHostAddress& address : addresses)
    if (!isNonPublic(address) || literal || allowed_->allowPrivate) candidates_.append(address);
  if (candidates_.isEmpty()) {
    close(NotAllowed, QStringLiteral("destination resolves to a private address"));
    return;
  }
  connectTimer_.start(config_.connectTimeoutMs);  // one budget for all the addresses
  connectNext();
}

// Each permitted address in turn (a name may resolve to ::1 before 127.0.0.1, and the server
// listen on only one of them); the last failure is the one reported.
void Relay::connectNext() {
  const QHostAddress address = candidates_.takeFirst();
  tcp_.connectTo(address, allowed_->port);
}

void Relay::onTcpConnected() {
  connectTimer_.stop();
  tcpUp_ = true;
  if (!earlyFrames_.isEmpty()) {
    tcp_.write(earlyFrames_);
    earlyFrames_.clear();
  }
  tcp_.setReading(true);
  touch();
}

void Relay::touch() { idleTimer_.start(config_.idleTimeoutMs); }

// Back-pressure toward the browser: read the server only while the WebSocket's queue is short;
// what is not read stays in the kernel, and TCP flow control slows the server down.
void Relay::onTcpReadable() {
  if (closing_) return;
  while (pipeLeft_ == 0 && queuedToClient() < config_.highWater) {
    const qint64 n = forwardOnce();
    if (n > 0) {
      touch();
      if (closing_) return;
      continue;
    }
    if (n == 0 || errno == ECONNRESET) return serverGone();
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
    close(ConnectFailed, QStringLiteral("connection to the destination failed"));
    return;
  }
  tcp_.setReading(pipeLeft_ == 0 && queuedToClient() < config_.highWater);
}

// Moves one chunk from the server toward the browser; returns its size, 0 at the end of the
// server's stream, or -1 with errno. Short replies are read and sent (two system calls); once a
// read brings 64 KiB or more, a bulk transfer is under way and the bytes go server socket ->
// pipe -> browser socket with splice(2), which moves page references instead of copying.
qint64 Relay::forwardOnce(bool maySplice) {
  const int fd = tcp_.descriptor();
  if (maySplice && bulk_ && spliceReady()) {
    const ssize_t n = ::splice(fd, nullptr, pipe_[1], nullptr, kPipeSize, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      forwardFromPipe(n);
      bulk_ = n >= kBulk;
      return n;
    }
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET || errno == EINTR) return n;
    spliceOff_ = true;  // not supported here: read and copy from now on
  }
  const ssize_t n = ::read(fd, readBuffer(), kReadChunk);
  if (n > 0) {
    sendToClient(QByteArrayView(readBuffer(), n));
    bulk_ = n >= kBulk;
  }
  return n;
}

// Splice only straight onto the browser's plain socket, and only with nothing of Qt's ahead.
bool Relay::spliceReady() {
  if (spliceOff_ || !framesDirect_ || !wsSocket_ || wsSocket_->bytesToWrite() > 0 ||
      wsSocket_->state() != QAbstractSocket::ConnectedState)
    return false;
  if (pipe_[0] < 0) {
    if (::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
      spliceOff_ = true;  // out of descriptors, say: the copying path still works
      return false;
    }
    (void)::fcntl(pipe_[1], F_SETPIPE_SZ, kPipeSize);  // may be refused (per-user pipe limit): then 64 KiB
  }
  return true;
}

// The pipe holds `size` bytes from the server: a frame header goes onto the browser's socket,
// then the bytes are spliced behind it. What the socket does not take now waits in the pipe
// (pipeLeft_) until it is writable again; meanwhile nothing else may be written to the socket:
// the server is not read, and the WebSocket is held (holdWebSocket), so QWebSocket cannot
// answer a ping into the middle of the frame.
void Relay::forwardFromPipe(qint64 size) {
  toClient_ += size;
  const int ws = static_cast<int>(wsSocket_->socketDescriptor());
  char header[10];
  const QByteArrayView head = frameHeader(size, header);
  const ssize_t sent = ::send(ws, head.data(), static_cast<size_t>(head.size()), MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT);
  pipeLeft_ = size;
  if (sent != head.size()) {  // not even the header fits: Qt's buffer takes the rest of it and the frame
    wsSocket_->write(head.data() + std::max<ssize_t>(sent, 0), head.size() - std::max<ssize_t>(sent, 0));
    spillPipe();
    return;
  }
  flushPipe();
}

// Splices the rest of the frame onto the browser's socket while it takes it.
void Relay::flushPipe() {
  while (pipeLeft_ > 0) {
    const ssize_t moved = ::splice(pipe_[0], nullptr, static_cast<int>(wsSocket_->socketDescriptor()), nullptr,
                                   static_cast<size_t>(pipeLeft_), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (moved > 0) {
      pipeLeft_ -= moved;
      continue;
    }
    if (moved < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wsWritable_) {
        wsWritable_ = std::make_unique<QSocketNotifier>(wsSocket_->socketDescriptor(), QSocketNotifier::Write);
        connect(wsWritable_.get(), &QSocketNotifier::activated, this, &Relay::flushPipe);
      }
      wsWritable_->setEnabled(true);
      holdWebSocket();
      return;
    }
    // The browser is gone: what is in the pipe has nowhere to go.
    while (::read(pipe_[0], readBuffer(), kReadChunk) > 0) {
    }
    pipeLeft_ = 0;
    if (wsWritable_) wsWritable_->setEnabled(false);
    holdWebSocket();
    ws_->abort();
    return;
  }
  if (wsWritable_) wsWritable_->setEnabled(false);
  holdWebSocket();
  if (!closing_ && tcpUp_) tcp_.setReading(queuedToClient() < config_.highWater);
}

// Moves the rest of the frame from the pipe into Qt's buffer, in order, before anything else
// must be written (a close frame, the server's last bytes) or when the header did not fit.
void Relay::spillPipe() {
  while (pipeLeft_ > 0) {
    const ssize_t n = ::read(pipe_[0], readBuffer(), static_cast<size_t>(std::min(pipeLeft_, kReadChunk)));
    if (n <= 0) break;  // cannot happen: the pipe holds exactly pipeLeft_ bytes
    wsSocket_->write(readBuffer(), n);
    pipeLeft_ -= n;
  }
  pipeLeft_ = 0;
  if (wsWritable_) wsWritable_->setEnabled(false);
  if (wsSocket_->bytesToWrite() > 0) wsSocket_->flush();
  holdWebSocket();
}

void Relay::sendToClient(QByteArrayView chunk) {
  toClient_ += chunk.size();
  if (framesDirect_ && wsSocket_) {
    char header[10];
    writeThrough(wsSocket_, {frameHeader(chunk.size(), header), chunk});
  } else {
    ws_->sendBinaryMessage(chunk.toByteArray());
  }
}

qint64 Relay::queuedToClient() const {
  if (!wsSocket_) return pipeLeft_;
  const auto* tls = qobject_cast<const QSslSocket*>(wsSocket_.data());
  return wsSocket_->bytesToWrite() + (tls ? tls->encryptedBytesToWrite() : 0) + pipeLeft_;
}

// The client sent something and QWebSocket has handled it (answering each ping with a pong
// queued toward the client). A client that sends and never reads would grow that queue without
// end; once it passes highWater we stop reading from the client until it drains.
void Relay::onClientReadable() {
  if (clientBacklogged_ || queuedToClient() <= config_.highWater) return;
  clientBacklogged_ = true;
  if (!backlogLogged_) {  // once per connection: a client that never reads would flood the log
    backlogLogged_ = true;
    qCInfo(lcProxy).noquote() << QStringLiteral("client %1 destination %2: %3 bytes queued toward the client, "
                                                "reading from it paused until they drain")
                                     .arg(client_, destination_)
                                     .arg(queuedToClient());
  }
  holdWebSocket();
  drainCheck_.start(kDrainCheckFirstMs);
}

// Looks again later, each time twice as late (up to kDrainCheckMaxMs): a client that stalls for
// good costs a few wake-ups a second, one that reads again is resumed within milliseconds.
void Relay::checkClientDrained() {
  if (!clientBacklogged_) return;
  if (queuedToClient() >= config_.highWater / 2 && wsSocket_ && wsSocket_->state() == QAbstractSocket::ConnectedState) {
    drainCheck_.start(std::min(2 * drainCheck_.interval(), kDrainCheckMaxMs));
    return;
  }
  clientBacklogged_ = false;
  holdWebSocket();
}

void Relay::onWsBytesWritten(qint64) {
  if (!closing_ && tcpUp_ && pipeLeft_ == 0 && queuedToClient() < config_.highWater / 2) tcp_.setReading(true);
}

void Relay::onFrame(const QByteArray& frame) {
  if (closing_) return;
  toServer_ += frame.size();
  touch();
  // A client may send as soon as the WebSocket is open; until the destination is connected the
  // bytes wait here, under the same limit as the socket's write buffer.
  if (!tcpUp_) earlyFrames_ += frame;
  else tcp_.write(frame);
  const qint64 queued = tcpUp_ ? tcp_.bytesToWrite() : earlyFrames_.size();
  if (queued > config_.highWater) {
    if (wsSocket_) {
      uploadHeld_ = true;
      holdWebSocket();
    }
    else if (queued > 8 * config_.highWater) close(TooBig, QStringLiteral("destination too slow"));
  }
}

void Relay::onTcpWritten() {
  if (uploadHeld_ && tcp_.bytesToWrite() < config_.highWater / 2) {
    uploadHeld_ = false;
    holdWebSocket();
  }
  touch();
}

// Stops the WebSocket from reading its socket (and so the browser's TCP window closes) while
// the server cannot take more (uploadHeld_), a frame waits in the pipe (pipeLeft_) or the
// client reads nothing of what is queued toward it (clientBacklogged_, kept while closing too:
// a closing relay still answers pings): the socket keeps at most highWater unread bytes, and its
// signals are held until resumed.
void Relay::holdWebSocket() {
  const bool pause = clientBacklogged_ || (!closing_ && (uploadHeld_ || pipeLeft_ > 0));
  if (!wsSocket_ || wsPaused_ == pause) return;
  wsPaused_ = pause;
  wsSocket_->setReadBufferSize(pause ? config_.highWater : 0);
  wsSocket_->blockSignals(pause);
  if (pause) return;
  if (wsSocket_->bytesAvailable() > 0) QMetaObject::invokeMethod(wsSocket_, "readyRead", Qt::QueuedConnection);
  onWsBytesWritten(0);  // its bytesWritten was blocked too: the download may go on
  if (wsSocket_->state() == QAbstractSocket::UnconnectedState) onWsDisconnected();
}

void Relay::onTcpFailed(int error) {
  if (closing_) return;
  if (!tcpUp_) {
    if (!candidates_.isEmpty()) {
      connectNext();
      return;
    }
    connectTimer_.stop();
    close(error == ECONNREFUSED ? Refused : ConnectFailed);
    return;
  }
  if (error == ECONNRESET || error == EPIPE) serverGone();
  else close(ConnectFailed, QStringLiteral("connection to the destination failed"));
}

// The server closed (or reset) the connection: whatever it sent before goes to the browser first,
// past the high-water mark (it is at most what the kernel holds for this socket).
void Relay::serverGone() {
  if (closing_) return;
  if (pipeLeft_ > 0) spillPipe();  // first the frame that was waiting
  while (forwardOnce(false) > 0) {  // plain reads: nothing may be left in the pipe
  }
  close(ServerClosed);
}

void Relay::close(int code, const QString& reason) {
  if (closing_) return;
  closing_ = true;
  code_ = code;
  reason_ = reason;
  connectTimer_.stop();
  idleTimer_.stop();
  if (pipeLeft_ > 0) spillPipe();  // the frame in the pipe goes before the close frame
  holdWebSocket();  // closing_: resumed, so that the close handshake is seen
  tcp_.closeAfterWrites();
  ws_->close(static_cast<QWebSocketProtocol::CloseCode>(code), reason);
  if (ws_->state() == QAbstractSocket::UnconnectedState) finish();
  else QTimer::singleShot(kCloseHandshakeMs, this, [this] { ws_->abort(); finish(); });  // a peer that never answers
}

void Relay::onWsDisconnected() {
  if (wsPaused_) return;  // seen again when resumed
  if (!closing_) {
    closing_ = true;
    code_ = ws_->closeCode();
    reason_ = QStringLiteral("client closed");
    tcp_.closeAfterWrites();  // what the browser sent, then FIN to the server
  }
  finish();
}

void Relay::finish() {
  if (done_) return;
  done_ = true;
  drainCheck_.stop();
  logConnection(client_, destination_, toServer_, toClient_, age_.elapsed(), code_, reason_);
  emit finished(this);
}

}  // namespace smtpc::proxy
