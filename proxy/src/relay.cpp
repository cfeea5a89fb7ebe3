#include "proxy.h"

#include <QSslSocket>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

// The relay of one admitted connection: bytes both ways between the browser's WebSocket and the
// server's TCP socket, back-pressure, splice(2) for bulk downloads, and its close. How a
// connection is accepted and admitted is proxy.cpp.

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
    : Deadlines::Owner(proxy.deadlines()), proxy_(proxy), config_(proxy.config()), ws_(ws), wsSocket_(socket), age_(age) {
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
  connect(&tcp_, &TcpLink::connected, this, &Relay::onTcpConnected);
  connect(&tcp_, &TcpLink::readable, this, &Relay::onTcpReadable);
  connect(&tcp_, &TcpLink::written, this, &Relay::onTcpWritten);
  connect(&tcp_, &TcpLink::failed, this, &Relay::onTcpFailed);
}

Relay::~Relay() {
  for (int fd : pipe_)
    if (fd >= 0) ::close(fd);
}

// Admitted already (admit(): Origin, token, allowlist, capacity): what is left is the name.
void Relay::start() {
  touch();
  scheduleNext();
  // An IP literal is itself; a name goes to --dns-server when there is one, else the system's
  // resolver. The connect timeout bounds the lookup too.
  proxy_.resolver().resolve(host_, config_.connectTimeoutMs, this, [this](const DnsResult& result) {
    resolved(result.addresses, result.status == DnsResult::Status::Ok ? QString() : result.error);
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
  connectBy_ = deadlines_->now() + config_.connectTimeoutMs;  // one budget for all the addresses
  scheduleNext();
  connectNext();
}

// Each permitted address in turn (a name may resolve to ::1 before 127.0.0.1, and the server
// listen on only one of them); the last failure is the one reported.
void Relay::connectNext() {
  const QHostAddress address = candidates_.takeFirst();
  tcp_.connectTo(address, allowed_->port);
}

void Relay::onTcpConnected() {
  connectBy_ = -1;
  tcpUp_ = true;
  if (!earlyFrames_.isEmpty()) {
    tcp_.write(earlyFrames_);
    earlyFrames_.clear();
  }
  tcp_.setReading(true);
  touch();
}

void Relay::touch() { lastActive_ = deadlines_->now(); }

// What falls due: the client's queue looked at again, the connect budget, the idle time, the
// close handshake's wait. Called at or after the earliest time asked for.
void Relay::deadlineDue(qint64 now) {
  if (done_) return;
  if (drainAt_ >= 0 && now >= drainAt_) {
    drainAt_ = -1;
    checkClientDrained();
  }
  if (closing_) {
    if (closeBy_ >= 0 && now >= closeBy_) {  // a peer that never answers the close frame
      closeBy_ = -1;
      ws_->abort();
      finish();
      return;
    }
  } else if (connectBy_ >= 0 && now >= connectBy_) {
    connectBy_ = -1;
    close(ConnectTimeout);
  } else if (now - lastActive_ >= config_.idleTimeoutMs) {
    close(IdleTimeout);
  }
  scheduleNext();
}

void Relay::scheduleNext() {
  if (done_) return;
  qint64 next = drainAt_;
  auto earliest = [&next](qint64 at) {
    if (at >= 0 && (next < 0 || at < next)) next = at;
  };
  if (closing_) earliest(closeBy_);
  else {
    earliest(connectBy_);
    earliest(lastActive_ + config_.idleTimeoutMs);
  }
  if (next >= 0) wakeAt(next);
}

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
  drainIntervalMs_ = kDrainCheckFirstMs;
  drainAt_ = deadlines_->now() + drainIntervalMs_;
  scheduleNext();
}

// Looks again later, each time twice as late (up to kDrainCheckMaxMs): a client that stalls for
// good costs a few wake-ups a second, one that reads again is resumed within milliseconds.
void Relay::checkClientDrained() {
  if (!clientBacklogged_) return;
  if (queuedToClient() >= config_.highWater / 2 && wsSocket_ && wsSocket_->state() == QAbstractSocket::ConnectedState) {
    drainIntervalMs_ = std::min(2 * drainIntervalMs_, kDrainCheckMaxMs);
    drainAt_ = deadlines_->now() + drainIntervalMs_;
    scheduleNext();
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
    connectBy_ = -1;
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
  connectBy_ = -1;
  if (pipeLeft_ > 0) spillPipe();  // the frame in the pipe goes before the close frame
  holdWebSocket();  // closing_: resumed, so that the close handshake is seen
  tcp_.closeAfterWrites();
  ws_->close(static_cast<QWebSocketProtocol::CloseCode>(code), reason);
  if (ws_->state() == QAbstractSocket::UnconnectedState) return finish();
  closeBy_ = deadlines_->now() + kCloseHandshakeMs;  // a peer that never answers: deadlineDue
  scheduleNext();
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
  drainAt_ = closeBy_ = -1;
  logConnection(client_, destination_, toServer_, toClient_, age_.elapsed(), code_, reason_);
  emit finished(this);
}

}  // namespace smtpc::proxy
