// smtpc-proxy: one WebSocket per TCP connection, to destinations on an allowlist only.
//   ws(s)://HOST:PORT/smtp?host=SERVER&port=N[&token=T]   binary frames only; bytes relayed as they are
// (the path, the names and the close codes: smtpc/relay.h)
// The proxy never reads the bytes (after STARTTLS they are TLS records anyway) and never logs them.
//
// A connection's life: accepted (a handshake in progress: capped in total and per client, and
// closed at the handshake timeout) -> its request read and decided by admit() (refused: a close
// frame and the socket closed at once, never counted) -> admitted (counts against capacity) ->
// Qt's WebSocket server completes the handshake -> a Relay.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTcpServer>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <map>
#include <memory>

#include "admission.h"
#include "config.h"
#include "deadlines.h"
#include "dns.h"
#include "lookup_rules.h"
#include "metrics.h"
#include "tcp_link.h"

Q_DECLARE_LOGGING_CATEGORY(lcProxy)

namespace smtpc::proxy {

class Lookup;
class Relay;
class WebServer;

// One log line per connection, refused or relayed: never payload, never the request's query.
void logConnection(const QString& client, const QString& destination, qint64 up, qint64 down, qint64 ms, int code,
                   const QString& reason);

class Proxy : public QObject {
  Q_OBJECT
 public:
  explicit Proxy(Config config, QObject* parent = nullptr);
  ~Proxy() override;
  bool listen(QString* why);
  QHostAddress address() const;
  quint16 port() const;
  Deadlines& deadlines() { return deadlines_; }
  // Closes every connection with ShuttingDown and stops listening; emits drained() when all are gone.
  void shutdown();
  const Config& config() const { return config_; }
  Resolver& resolver() { return resolver_; }
  Gauges gauges() const;  // what is open now, for /metrics and /healthz

 signals:
  void drained();

 private:
  struct Handshake;
  void onAccepted(qintptr descriptor);
  // Counts `socket` as a handshake in progress and waits for its request; false: refused, closed.
  bool startHandshake(QTcpSocket* socket);
  void onHandshakeBytes(QTcpSocket* socket);
  void onUpgraded();
  // Ends a handshake that will not become a relay: logs it (code 0: aborted without a close
  // frame; `refusal`: the decision that refused it, for the client and destination logged),
  // gives back what it counted, and closes the socket at once.
  void dropHandshake(QTcpSocket* socket, int code, const QString& reason, const Admission* refusal = nullptr);
  // Takes a handshake out of the books (its counts given back, its timer stopped), the socket left open.
  std::unique_ptr<Handshake> takeHandshake(QTcpSocket* socket);
  // A request for the lookup endpoint (lookup.h) instead of a WebSocket.
  void onLookupRequest(QTcpSocket* socket, const HandshakeRequest& request);
  void onLookupFinished(Lookup* lookup);
  void onRelayFinished(Relay* relay);
  void checkDrained();

  Config config_;
  Resolver resolver_;  // destroyed last: it waits for DNS queries still running
  Deadlines deadlines_;  // every relay's timeouts on one timer (deadlines.h)
  std::unique_ptr<QTcpServer> acceptor_;  // accepts; the proxy reads and decides the request
  QWebSocketServer upgrader_;             // completes the handshake of admitted connections
  std::map<QTcpSocket*, std::unique_ptr<Handshake>> handshakes_;
  QHash<QString, int> handshakesFrom_;  // handshakes in progress by the TCP peer's clientKey
  QHash<QString, int> perClient_;       // admitted connections by the client's clientKey
  int connections_ = 0;                 // admitted connections: relays and admitted handshakes
  QSet<Relay*> relays_;  // a set: one that finishes goes without a search through all of them
  // Admitted handshakes being upgraded by Qt, by their ports (portsKey): how the WebSocket Qt
  // hands back is matched to its handshake without looking at every handshake in progress.
  QMultiHash<quint32, QTcpSocket*> upgrading_;
  QList<Lookup*> lookups_;
  std::unique_ptr<WebServer> web_;  // --web: the page's files
  LookupBudget lookupBudget_;
  QElapsedTimer clock_;  // the lookup budget's time
  bool shuttingDown_ = false, drainedSignalled_ = false;
};

class Relay : public QObject, private Deadlines::Owner {
  Q_OBJECT
 public:
  // `socket` is the TCP (or TLS) socket under `ws`; `age` runs since it was accepted.
  Relay(Proxy& proxy, QWebSocket* ws, QAbstractSocket* socket, const Admission& admission, QElapsedTimer age);
  ~Relay() override;
  void start();
  void close(int code, const QString& reason);
  void close(int code) { close(code, defaultReason(code)); }  // with the code's usual reason
  QString clientKey() const { return clientKey_; }

 signals:
  void finished(Relay* relay);

 private:
  void resolved(const QList<QHostAddress>& addresses, const QString& lookupError);
  void connectNext();
  void onTcpConnected();
  void onTcpReadable();
  qint64 forwardOnce(bool maySplice = true);
  bool spliceReady();
  void forwardFromPipe(qint64 size);
  void flushPipe();
  void spillPipe();
  void onTcpWritten();
  void onTcpFailed(int error);
  void serverGone();
  void onFrame(const QByteArray& frame);
  void onWsBytesWritten(qint64 bytes);
  void sendToClient(QByteArrayView chunk);
  // What waits to reach the browser, whoever queued it (our frames, QWebSocket's pongs and
  // close frame): the socket's buffer (under TLS, before and after encryption) and the pipe.
  qint64 queuedToClient() const;
  void onClientReadable();
  void checkClientDrained();
  void onWsDisconnected();
  void touch();
  void holdWebSocket();
  void finish();
  void deadlineDue(qint64 now) override;
  void scheduleNext();

  Proxy& proxy_;
  const Config& config_;
  QWebSocket* ws_;
  QPointer<QAbstractSocket> wsSocket_;  // the socket under the WebSocket, for back-pressure
  TcpLink tcp_;
  int pipe_[2] = {-1, -1};  // server -> browser through the kernel (splice), made for the first bulk read
  qint64 pipeLeft_ = 0;     // the end of a frame, waiting in the pipe for the browser's socket
  std::unique_ptr<QSocketNotifier> wsWritable_;  // the browser's socket, while pipeLeft_ > 0
  bool bulk_ = false, spliceOff_ = false, uploadHeld_ = false;
  // The client reads nothing while its queue is over highWater: reading from it stops (it could
  // otherwise make us queue a pong for each of its pings without end). The drain is looked at
  // again at drainAt_, because the socket's bytesWritten is held with its other signals.
  bool clientBacklogged_ = false, backlogLogged_ = false;
  // Deadlines (ms on deadlines_.now(), -1: none), kept here and not in QTimers (deadlines.h):
  // the idle one moves with every frame (lastActive_) at the cost of reading the clock.
  qint64 drainAt_ = -1, connectBy_ = -1, closeBy_ = -1, lastActive_ = 0;
  int drainIntervalMs_ = 0;
  QElapsedTimer age_;
  const Destination* allowed_ = nullptr;  // the allowlist entry this connection matched
  QString host_;
  QList<QHostAddress> candidates_;  // addresses not yet tried
  QByteArray earlyFrames_;  // sent by the client before the destination connected
  QString client_, clientKey_, destination_, reason_;
  int code_ = 0;
  qint64 toServer_ = 0, toClient_ = 0;
  bool wsPaused_ = false, tcpUp_ = false, closing_ = false, done_ = false, framesDirect_ = false;
};

}  // namespace smtpc::proxy
