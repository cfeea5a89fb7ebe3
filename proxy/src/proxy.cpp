#include "proxy.h"

#include "lookup.h"
#include "web_server.h"

#include <QFile>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>

#include <functional>
#include <limits>
#include <optional>
#include <unistd.h>

// Accepting connections, reading and deciding each upgrade request, and handing the admitted
// ones to a Relay (relay.cpp); shutting down.

Q_LOGGING_CATEGORY(lcProxy, "smtpc.proxy", QtInfoMsg)

namespace smtpc::proxy {


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
  quint32 ports = 0;  // its key in upgrading_ once admitted (a closed socket forgets its ports)
};

namespace {

// The largest request head read: a browser's upgrade request is well under 2 KiB (the relay's
// origin sets no cookies); more than this without an end is refused instead of buffered.
constexpr qint64 kMaxHandshakeBytes = 16 * 1024;

// A TCP connection's two ports, as one key (its peer address tells apart the rare equal keys).
quint32 portsKey(quint16 peerPort, quint16 localPort) { return (quint32{peerPort} << 16) | localPort; }

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


}  // namespace

void logConnection(const QString& client, const QString& destination, qint64 up, qint64 down, qint64 ms, int code,
                   const QString& reason) {
  countConnectionEnd(code, up, down);
  if (jsonLog()) {
    if (lcProxy().isInfoEnabled())
      logJson({{QStringLiteral("event"), QStringLiteral("connection")}, {QStringLiteral("client"), client},
               {QStringLiteral("destination"), destination.isEmpty() ? QJsonValue() : QJsonValue(destination)},
               {QStringLiteral("up"), up}, {QStringLiteral("down"), down}, {QStringLiteral("ms"), ms},
               {QStringLiteral("code"), code}, {QStringLiteral("reason"), reason}});
    return;
  }
  qCInfo(lcProxy).noquote() << QStringLiteral("client %1 destination %2 up %3 down %4 duration %5 ms close %6 (%7)")
                                   .arg(client, destination.isEmpty() ? QStringLiteral("-") : destination)
                                   .arg(up)
                                   .arg(down)
                                   .arg(ms)
                                   .arg(code ? QString::number(code) : QStringLiteral("abort"))
                                   .arg(reason);
}

Proxy::Proxy(Config config, QObject* parent)
    : QObject(parent),
      config_(std::move(config)),
      resolver_(config_.dnsServer),
      acceptor_(std::make_unique<Acceptor>([this](qintptr descriptor) { onAccepted(descriptor); })),
      upgrader_(QStringLiteral("smtpc-proxy"),
                config_.certFile.isEmpty() ? QWebSocketServer::NonSecureMode : QWebSocketServer::SecureMode) {
  // Every connection handed to the upgrader was admitted and counted already.
  upgrader_.setMaxPendingConnections(std::numeric_limits<int>::max());
  connect(&upgrader_, &QWebSocketServer::newConnection, this, &Proxy::onUpgraded);
  clock_.start();
  if (!config_.webDir.isEmpty()) {
    // A kept-alive connection's request for the relay or the lookups: decided as a new connection's.
    web_ = std::make_unique<WebServer>(config_, [this](QTcpSocket* socket) {
      socket->setParent(this);
      if (startHandshake(socket)) onHandshakeBytes(socket);
    });
    connect(web_.get(), &WebServer::connectionEnded, this, &Proxy::checkDrained);
  }
}

Gauges Proxy::gauges() const {
  return Gauges{connections_, static_cast<int>(handshakes_.size()), static_cast<int>(lookups_.size()),
                web_ ? web_->connections() : 0, shuttingDown_};
}

Proxy::~Proxy() {
  for (Relay* relay : relays_) relay->disconnect(this);
  qDeleteAll(relays_);
  for (Lookup* lookup : lookups_) lookup->disconnect(this);
  qDeleteAll(lookups_);
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
  ++counters().accepted;
  if (!startHandshake(socket)) return;
  if (auto* tls = qobject_cast<QSslSocket*>(socket)) {
    tls->setSslConfiguration(upgrader_.sslConfiguration());
    tls->startServerEncryption();
  }
}

bool Proxy::startHandshake(QTcpSocket* socket) {
  const QHostAddress peer = canonical(socket->peerAddress());
  const QString peerKey = clientKey(peer);
  auto refuse = [&](const QString& reason) {
    ++counters().refused[reasonWord(reason)];
    logConnection(peer.toString(), QString(), 0, 0, 0, 0, reason);
    socket->abort();
    socket->deleteLater();
    return false;
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
  return true;
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
  if (isLookupTarget(request.target)) return onLookupRequest(socket, request);
  if (web_ && !request.upgradeToWebSocket) {  // --web: a request for the page's files
    const QString peerKey = handshake.peerKey;
    takeHandshake(socket);
    return web_->take(socket, peerKey);
  }
  const Admission admission = admit(config_, handshake.peer, request, Load{connections_, &perClient_, shuttingDown_});
  if (!admission.admitted()) {
    socket->write(refusalBytes(request, admission.code, admission.reason));
    return dropHandshake(socket, admission.code, admission.reason, &admission);
  }
  ++connections_;
  ++perClient_[admission.clientKey];
  handshake.admission = admission;
  handshake.ports = portsKey(socket->peerPort(), socket->localPort());
  upgrading_.insert(handshake.ports, socket);
  disconnect(handshake.reading);
  socket->setReadBufferSize(0);  // the relay decides from now on (Relay::holdWebSocket)
  upgrader_.handleConnection(socket);
}

std::unique_ptr<Proxy::Handshake> Proxy::takeHandshake(QTcpSocket* socket) {
  auto node = handshakes_.extract(socket);
  if (node.empty()) return nullptr;
  std::unique_ptr<Handshake> handshake = std::move(node.mapped());
  socket->disconnect(this);
  handshake->timeout->stop();
  if (--handshakesFrom_[handshake->peerKey] <= 0) handshakesFrom_.remove(handshake->peerKey);
  if (handshake->admission) {
    upgrading_.remove(handshake->ports, socket);
    --connections_;
    if (--perClient_[handshake->admission->clientKey] <= 0) perClient_.remove(handshake->admission->clientKey);
  }
  return handshake;
}

void Proxy::dropHandshake(QTcpSocket* socket, int code, const QString& reason, const Admission* refusal) {
  const std::unique_ptr<Handshake> taken = takeHandshake(socket);
  if (!taken) return;
  const Handshake& handshake = *taken;
  ++counters().refused[refusal ? refusal->why : reasonWord(reason)];
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

void Proxy::onLookupRequest(QTcpSocket* socket, const HandshakeRequest& request) {
  const std::unique_ptr<Handshake> handshake = takeHandshake(socket);
  if (!handshake) return;
  auto close = [&] {
    socket->flush();
    socket->abort();
    socket->deleteLater();
    checkDrained();
  };
  if (!config_.lookup) {  // off: as if there were no such path
    logLookup(handshake->peer.toString(), QStringLiteral("-"), QString(), QStringLiteral("404"),
              QStringLiteral("the lookup endpoint is off (--lookup)"), handshake->age.elapsed());
    socket->write(httpErrorBytes(404, "Not Found"));
    return close();
  }
  const LookupAdmission admission = admitLookup(config_, handshake->peer, request, lookupBudget_, clock_.elapsed(),
                                                static_cast<int>(lookups_.size()), shuttingDown_);
  if (!admission.admitted()) {
    const bool read = !admission.query.subject().isEmpty();  // the form was read before the refusal
    logLookup(admission.client.toString(), read ? admission.query.typeName() : QStringLiteral("-"), admission.query.subject(),
              QStringLiteral("%1 %2").arg(admission.httpStatus).arg(admission.status), admission.reason, handshake->age.elapsed());
    socket->write(lookupResponse(admission.httpStatus, admission.allowedOrigin, lookupStatus(admission.status.toStdString(), admission.reason),
                                 admission.retryAfterSeconds));
    return close();
  }
  // The request (peeked so far) is consumed; anything more the page sends stays unread, under
  // the handshake's read buffer limit (then TCP holds it back).
  socket->read(socket->bytesAvailable());
  auto* lookup = new Lookup(config_, resolver_, socket, admission, handshake->age);
  lookups_.append(lookup);
  connect(lookup, &Lookup::finished, this, &Proxy::onLookupFinished);
  lookup->start();
}

void Proxy::onLookupFinished(Lookup* lookup) {
  lookups_.removeOne(lookup);
  lookup->deleteLater();
  checkDrained();
}

void Proxy::onUpgraded() {
  while (QWebSocket* ws = upgrader_.nextPendingConnection()) {
    auto it = handshakes_.end();
    const quint32 ports = portsKey(ws->peerPort(), ws->localPort());
    for (auto candidate = upgrading_.find(ports); candidate != upgrading_.end() && candidate.key() == ports; ++candidate)
      if ((*candidate)->peerAddress() == ws->peerAddress()) {
        it = handshakes_.find(*candidate);
        upgrading_.erase(candidate);
        break;
      }
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
    relays_.insert(relay);
    connect(relay, &Relay::finished, this, &Proxy::onRelayFinished);
    relay->start();
  }
}

void Proxy::onRelayFinished(Relay* relay) {
  relays_.remove(relay);
  --connections_;
  if (--perClient_[relay->clientKey()] <= 0) perClient_.remove(relay->clientKey());
  relay->deleteLater();
  checkDrained();
}

void Proxy::checkDrained() {
  if (!shuttingDown_ || drainedSignalled_ || !relays_.isEmpty() || !handshakes_.empty() || !lookups_.isEmpty() ||
      (web_ && web_->connections() > 0))
    return;
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
  const auto lookups = lookups_;
  for (Lookup* lookup : lookups) lookup->abort();
  if (web_) web_->shutdown();
  QMetaObject::invokeMethod(this, &Proxy::checkDrained, Qt::QueuedConnection);  // when nothing was open
}

}  // namespace smtpc::proxy
