// smtpc-proxy: one WebSocket per TCP connection, to destinations on an allowlist only.
//   ws(s)://HOST:PORT/smtp?host=SERVER&port=N      binary frames only; bytes are relayed as they are
// The proxy never reads the bytes (after STARTTLS they are TLS records anyway) and never logs them.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <memory>

#include "tcp_link.h"

Q_DECLARE_LOGGING_CATEGORY(lcProxy)

namespace smtpc::proxy {

// Close codes the page can show (DESIGN.md, "Browser path").
enum CloseCode : int {
  ServerClosed = 1000,
  ShuttingDown = 1001,
  TextFrame = 1003,
  NotAllowed = 1008,
  TooBig = 1009,
  ConnectFailed = 1011,
  OverCapacity = 1013,
  DnsFailed = 4001,
  Refused = 4002,
  ConnectTimeout = 4003,
  IdleTimeout = 4004,
};

struct Destination {
  QString host;  // lower-case name or IP literal
  quint16 port = 0;
  bool allowPrivate = false;  // --allow-private: the name may resolve to loopback/private addresses
};

struct Config {
  QHostAddress listenAddress = QHostAddress::LocalHost;
  quint16 listenPort = 8025;
  QList<Destination> allow;
  QStringList allowOrigins;
  int maxConnections = 1000;
  int maxPerClient = 20;
  int handshakeTimeoutMs = 10000;
  int connectTimeoutMs = 10000;
  int idleTimeoutMs = 300000;
  qint64 maxFrameSize = 1 << 20;
  qint64 highWater = 1024 * 1024;
  QString certFile, keyFile;

  // Reads one "name = value" line of a config file or one "--name value" option.
  bool set(const QString& name, const QString& value, QString* why);
};

// Loopback, private (RFC 1918), link-local, unique-local (RFC 4193), CGNAT, unspecified, multicast.
bool isNonPublic(const QHostAddress& address);

class Relay;

class Proxy : public QObject {
  Q_OBJECT
 public:
  explicit Proxy(Config config, QObject* parent = nullptr);
  ~Proxy() override;
  bool listen(QString* why);
  QHostAddress address() const { return server_.serverAddress(); }
  quint16 port() const { return server_.serverPort(); }
  // Closes every connection with 1001 and stops listening; emits drained() when all are gone.
  void shutdown();
  const Config& config() const { return config_; }
  const Destination* allowed(const QString& host, quint16 port) const;
  // The TCP socket under an accepted WebSocket, to pause reading it (back-pressure); or null.
  QAbstractSocket* underlyingSocket(QWebSocket* ws) const;

 signals:
  void drained();

 private:
  void onNewConnection();
  void onRelayFinished(Relay* relay);

  Config config_;
  QWebSocketServer server_;
  QHash<QString, int> perClient_;
  QList<Relay*> relays_;
  bool shuttingDown_ = false;
};

class Relay : public QObject {
  Q_OBJECT
 public:
  Relay(Proxy& proxy, QWebSocket* socket);
  ~Relay() override;
  void start();
  void close(int code, const QString& reason);
  QString clientKey() const { return client_; }

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
  // What waits to reach the browser: the socket's own buffer and the pipe when frames are
  // written directly, else what QWebSocket has not written yet.
  qint64 queuedToClient() const {
    return framesDirect_ && wsSocket_ ? wsSocket_->bytesToWrite() + pipeLeft_ : queuedToClient_;
  }
  void onWsDisconnected();
  void touch();
  void holdWebSocket();
  void finish();

  Proxy& proxy_;
  const Config& config_;
  QWebSocket* ws_;
  QPointer<QAbstractSocket> wsSocket_;  // the socket under the WebSocket, for back-pressure
  TcpLink tcp_;
  int pipe_[2] = {-1, -1};  // server -> browser through the kernel (splice), made for the first bulk read
  qint64 pipeLeft_ = 0;     // the end of a frame, waiting in the pipe for the browser's socket
  std::unique_ptr<QSocketNotifier> wsWritable_;  // the browser's socket, while pipeLeft_ > 0
  bool bulk_ = false, spliceOff_ = false, uploadHeld_ = false;
  QTimer connectTimer_, idleTimer_;
  QElapsedTimer age_;
  const Destination* allowed_ = nullptr;  // the allowlist entry this connection matched
  QString host_;
  QList<QHostAddress> candidates_;  // addresses not yet tried
  QByteArray earlyFrames_;  // sent by the client before the destination connected
  QString client_, destination_, reason_;
  int code_ = 0;
  qint64 toServer_ = 0, toClient_ = 0, queuedToClient_ = 0;
  bool wsPaused_ = false, tcpUp_ = false, closing_ = false, done_ = false, framesDirect_ = false;
};

}  // namespace smtpc::proxy
