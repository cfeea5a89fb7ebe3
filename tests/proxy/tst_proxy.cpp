// smtpc-proxy as a user runs it: byte-exact relaying both ways, every close code, the allowlist
// and Origin rules, limits, back-pressure with slow readers on either side, 1,000 connections.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QSslConfiguration>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <memory>
#include <utility>

namespace {

const QString kOrigin = QStringLiteral("http://page.smtpc.test");

// How each proxy child ended, when it did not end well: a crash, a nonzero exit status (what
// LeakSanitizer and AddressSanitizer exit with), or no exit after SIGTERM. cleanup() fails the
// test that started it.
QStringList& childFailures() {
  static QStringList failures;
  return failures;
}

// Long enough for a relay whose client never answers its close frame (the relay waits 5 s).
constexpr int kProxyStopMs = 15000;

class ProxyProcess {
 public:
  explicit ProxyProcess(const QStringList& arguments, const QProcessEnvironment& extra = {}) {
    // The memory tests compare the proxy's RSS: under AddressSanitizer freed buffers wait in a
    // 256 MB quarantine and would count as growth, so keep it small (a normal build ignores it).
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
    // (verify_asan_link_order=0: GCC's runtime insists on coming first, and one test preloads a
    // resolver of its own.)
    env.insert(QStringLiteral("ASAN_OPTIONS"), asan + (asan.isEmpty() ? "" : ":") +
                                                   "quarantine_size_mb=1:thread_local_quarantine_size_kb=64:verify_asan_link_order=0");
    for (const QString& key : extra.keys()) env.insert(key, extra.value(key));
    process_.setProcessEnvironment(env);
    process_.start(QStringLiteral(SMTPC_PROXY),
                   QStringList{"--listen", "127.0.0.1:0", "--allow-origin", kOrigin} + arguments);
    if (!process_.waitForStarted(5000)) return;
    while (!process_.canReadLine() && process_.waitForReadyRead(10000)) {
    }
    const QString line = QString::fromUtf8(process_.readLine()).trimmed();
    if (line.startsWith(QStringLiteral("listening on "))) port_ = line.section(QLatin1Char(':'), -1).toUShort();
  }
  ~ProxyProcess() { stop(); }
  // SIGTERM, then the exit status is read: anything but a clean 0 is recorded for cleanup().
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if (process_.state() != QProcess::NotRunning) {
      process_.terminate();
      if (!process_.waitForFinished(kProxyStopMs)) {
        process_.kill();
        process_.waitForFinished();
        childFailures() << QStringLiteral("smtpc-proxy did not exit within %1 ms of SIGTERM").arg(kProxyStopMs);
        return;
      }
    }
    if (process_.exitStatus() != QProcess::NormalExit || process_.exitCode() != 0)
      childFailures() << QStringLiteral("smtpc-proxy %1 %2; the end of its log:\n%3")
                             .arg(process_.exitStatus() == QProcess::CrashExit ? "crashed, signal" : "exited with status")
                             .arg(process_.exitCode())
                             .arg(log().right(4000));
  }
  quint16 port() const { return port_; }
  // Everything the proxy logged so far (its log goes to stderr).
  QString log() {
    log_ += QString::fromUtf8(process_.readAllStandardError());
    return log_;
  }
  bool waitForLog(const QString& text, int timeoutMs = 20000) {
    return QTest::qWaitFor([&] { return log().contains(text); }, timeoutMs);
  }
  qint64 pid() const { return process_.processId(); }
  void terminate() { process_.terminate(); }
  bool waitForFinished() { return process_.state() == QProcess::NotRunning || process_.waitForFinished(kProxyStopMs); }
  long rssKb() const { return statusKb("VmRSS:"); }
  long peakRssKb() const { return statusKb("VmHWM:"); }

 private:
  long statusKb(const QByteArray& field) const {
    QFile status(QStringLiteral("/proc/%1/status").arg(pid()));
    if (!status.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : status.readAll().split('\n'))
      if (line.startsWith(field)) return line.mid(field.size()).trimmed().split(' ').first().toLong();
    return -1;
  }

  QProcess process_;
  quint16 port_ = 0;
  QString log_;
  bool stopped_ = false;
};

QUrl url(quint16 proxyPort, const QString& host, quint16 port, const QString& path = QStringLiteral("/smtp")) {
  return QUrl(QStringLiteral("ws://127.0.0.1:%1%2?host=%3&port=%4").arg(proxyPort).arg(path, host).arg(port));
}

struct Closed {
  int code = -1;
  QString reason;
  QByteArray received;
};

// Opens a WebSocket, runs `onOpen`, and waits until the proxy closes it.
Closed openUntilClosed(const QUrl& target, const QString& origin = kOrigin,
                       const std::function<void(QWebSocket&)>& onOpen = {}, int timeoutMs = 15000) {
  Closed result;
  QWebSocket ws(origin);
  bool closed = false;
  QObject::connect(&ws, &QWebSocket::connected, [&] {
    if (onOpen) onOpen(ws);
  });
  QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray& m) { result.received += m; });
  QObject::connect(&ws, &QWebSocket::disconnected, [&] {
    result.code = ws.closeCode();
    result.reason = ws.closeReason();
    closed = true;
  });
  ws.open(target);
  if (!QTest::qWaitFor([&] { return closed; }, timeoutMs)) result.reason = QStringLiteral("(the test gave up waiting)");
  return result;
}

// A WebSocket opened by hand, as a browser would: connects and sends the handshake (the reply is
// left to the caller).
bool openRawWebSocket(QTcpSocket& raw, quint16 proxyPort, quint16 destinationPort) {
  raw.connectToHost(QHostAddress::LocalHost, proxyPort);
  if (!raw.waitForConnected(5000)) return false;
  raw.write(QStringLiteral("GET /smtp?host=127.0.0.1&port=%1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\nOrigin: %2\r\n\r\n")
                .arg(destinationPort)
                .arg(kOrigin)
                .toLatin1());
  return true;
}

// A proxy relaying to a TCP peer on loopback, and a browser (a raw WebSocket) that reads
// nothing until its read buffer is opened again (raw.setReadBufferSize(0)).
struct StalledBrowser {
  QTcpServer peer;
  QTcpSocket* server = nullptr;  // the peer's side of the relayed connection
  std::unique_ptr<ProxyProcess> proxy;
  QTcpSocket raw;
  bool open() {
    if (!peer.listen(QHostAddress::LocalHost, 0)) return false;
    QObject::connect(&peer, &QTcpServer::newConnection, [this] { server = peer.nextPendingConnection(); });
    proxy = std::make_unique<ProxyProcess>(QStringList{"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    raw.setReadBufferSize(1);
    return proxy->port() && openRawWebSocket(raw, proxy->port(), peer.serverPort()) &&
           QTest::qWaitFor([this] { return server != nullptr; }, 5000);
  }
};

// Reads the close frame the proxy sends, as a browser would. (Qt's own WebSocket client treats
// the registered codes 1012-1014 as invalid and reports 1002 instead, so it cannot see 1013.)
Closed rawClose(quint16 proxyPort, quint16 destinationPort) {
  Closed result;
  QTcpSocket raw;
  if (!openRawWebSocket(raw, proxyPort, destinationPort)) return result;
  QByteArray data;
  (void)QTest::qWaitFor([&] {  // what arrived is checked below
    data += raw.readAll();
    const int body = data.indexOf("\r\n\r\n");
    return body >= 0 && data.size() >= body + 4 + 2 && data.size() >= body + 4 + 2 + (data[body + 5] & 0x7f);
  }, 10000);
  const int body = data.indexOf("\r\n\r\n") + 4;
  if (body < 4 || data.size() < body + 4 || (static_cast<unsigned char>(data[body]) & 0x0f) != 0x8) return result;
  const int length = data[body + 1] & 0x7f;
  result.code = (static_cast<unsigned char>(data[body + 2]) << 8) | static_cast<unsigned char>(data[body + 3]);
  result.reason = QString::fromUtf8(data.mid(body + 4, length - 2));
  return result;
}

QByteArray randomBytes(qint64 n) {
  QByteArray data(n, Qt::Uninitialized);
  QRandomGenerator::global()->fillRange(reinterpret_cast<quint32*>(data.data()), n / 4);
  return data;
}

// A loopback port whose accept queue is full: connecting to it hangs (for the connect timeout).
struct BlackholePort {
  int listener = -1;
  std::vector<int> fillers;
  quint16 port = 0;
  BlackholePort() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener, 0);
    socklen_t len = sizeof a;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    for (int i = 0; i < 4; ++i) {
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers.push_back(s);
    }
  }
  ~BlackholePort() {
    for (int s : fillers) ::close(s);
    ::close(listener);
  }
};

}  // namespace

class TestProxy : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    rlimit limit{};  // 1,000 connections need 4,000 descriptors in this process
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  // Every test: the proxies it started exited cleanly (LeakSanitizer's reports fail here).
  void cleanup() {
    const QStringList failures = std::exchange(childFailures(), {});
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
  }

  void tenMegabytesEachWay() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    QVERIFY(proxy.port());
    const QByteArray up = randomBytes(10 << 20), down = randomBytes(10 << 20);
    QByteArray peerGot, clientGot;
    QTcpSocket* server = nullptr;
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      server = peer.nextPendingConnection();
      QObject::connect(server, &QTcpSocket::readyRead, [&] { peerGot += server->readAll(); });
      server->write(down);
    });
    QWebSocket ws(kOrigin);
    QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray& m) { clientGot += m; });
    QObject::connect(&ws, &QWebSocket::connected, [&] {
      for (qint64 at = 0; at < up.size();) {  // frames of random sizes, 1 byte to 64 KiB
        const qint64 n = std::min<qint64>(up.size() - at, 1 + QRandomGenerator::global()->bounded(65536));
        ws.sendBinaryMessage(up.mid(at, n));
        at += n;
      }
    });
    ws.open(url(proxy.port(), "127.0.0.1", peer.serverPort()));
    QVERIFY(QTest::qWaitFor([&] { return peerGot.size() >= up.size() && clientGot.size() >= down.size(); }, 60000));
    QVERIFY(peerGot == up);
    QVERIFY(clientGot == down);
    // The client closes: the TCP side is closed too.
    bool peerSawClose = false;
    QObject::connect(server, &QTcpSocket::disconnected, [&] { peerSawClose = true; });
    ws.close();
    QVERIFY(QTest::qWaitFor([&] { return peerSawClose; }, 10000));
  }

  void dataBeforeTheDestinationConnects() {
    // A client may send right after the WebSocket opens; nothing may be lost or refused while
    // the proxy is still connecting (the destination here accepts only after a delay).
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    peer.pauseAccepting();
    QByteArray got;
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      QTcpSocket* s = peer.nextPendingConnection();
      QObject::connect(s, &QTcpSocket::readyRead, [&got, s] { got += s->readAll(); });
      got += s->readAll();
    });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    QWebSocket ws(kOrigin);
    const QByteArray early = randomBytes(100 * 1024);
    QObject::connect(&ws, &QWebSocket::connected, [&] { ws.sendBinaryMessage(early); });
    ws.open(url(proxy.port(), "127.0.0.1", peer.serverPort()));
    QVERIFY(QTest::qWaitFor([&] { return ws.state() == QAbstractSocket::ConnectedState; }, 5000));
    QTest::qWait(300);
    peer.resumeAccepting();
    QVERIFY(QTest::qWaitFor([&] { return got.size() >= early.size(); }, 10000));
    QVERIFY(got == early);
    QCOMPARE(ws.state(), QAbstractSocket::ConnectedState);
  }

  void refusals_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("origin");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    // PORT is replaced by a listening peer's port.
    QTest::newRow("not listed") << QStringList{"--allow", "127.0.0.1:1"} << "127.0.0.1" << "/smtp" << kOrigin << 1008 << "destination not allowed";
    QTest::newRow("name resolving to loopback") << QStringList{"--allow", "localhost:PORT"} << "localhost" << "/smtp" << kOrigin << 1008 << "private address";
    QTest::newRow("wrong origin") << QStringList{"--allow", "127.0.0.1:PORT"} << "127.0.0.1" << "/smtp" << "http://evil.example" << 1008 << "origin not allowed";
    QTest::newRow("no origin") << QStringList{"--allow", "127.0.0.1:PORT"} << "127.0.0.1" << "/smtp" << "" << 1008 << "no Origin";
    QTest::newRow("wrong path") << QStringList{"--allow", "127.0.0.1:PORT"} << "127.0.0.1" << "/other" << kOrigin << 1008 << "expected /smtp";
    QTest::newRow("dns failure") << QStringList{"--allow", "no-such-host.invalid:PORT"} << "no-such-host.invalid" << "/smtp" << kOrigin << 4001 << "DNS";
  }
  void refusals() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, host);
    QFETCH(QString, path);
    QFETCH(QString, origin);
    QFETCH(int, code);
    QFETCH(QString, reason);
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    bool reached = false;
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { reached = true; });
    for (QString& a : arguments) a.replace(QStringLiteral("PORT"), QString::number(peer.serverPort()));
    ProxyProcess proxy(arguments);
    QVERIFY(proxy.port());
    Closed c = openUntilClosed(url(proxy.port(), host, peer.serverPort(), path), origin);
    QCOMPARE(c.code, code);
    QVERIFY2(c.reason.contains(reason), qPrintable(c.reason));
    QVERIFY(!reached);  // nothing reached the destination
  }

  void privateNameAllowedExplicitly() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    ProxyProcess proxy({"--allow-private", QStringLiteral("localhost:%1").arg(peer.serverPort())});
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hello\r\n"); });
    Closed c = openUntilClosed(url(proxy.port(), "localhost", peer.serverPort()), kOrigin,
                               [&](QWebSocket& ws) { QTimer::singleShot(500, &ws, [&ws] { ws.close(); }); });
    QCOMPARE(c.received, QByteArray("220 hello\r\n"));
  }

  void connectionFailures() {
    // refused: nothing listens
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const quint16 closedPort = closed.serverPort();
    closed.close();
    BlackholePort blackhole;
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(closedPort), "--allow",
                        QStringLiteral("127.0.0.1:%1").arg(blackhole.port), "--connect-timeout", "1"});
    QCOMPARE(openUntilClosed(url(proxy.port(), "127.0.0.1", closedPort)).code, 4002);
    Closed timeout = openUntilClosed(url(proxy.port(), "127.0.0.1", blackhole.port));
    QCOMPARE(timeout.code, 4003);
  }

  void serverClosesAndIdle() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--idle-timeout", "1"});
    bool closeNext = true;
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      QTcpSocket* s = peer.nextPendingConnection();
      if (closeNext) {
        s->write("421 bye\r\n");
        s->disconnectFromHost();
      }
    });
    Closed closedByServer = openUntilClosed(url(proxy.port(), "127.0.0.1", peer.serverPort()));
    QCOMPARE(closedByServer.code, 1000);
    QCOMPARE(closedByServer.received, QByteArray("421 bye\r\n"));  // delivered before the close
    closeNext = false;
    QCOMPARE(openUntilClosed(url(proxy.port(), "127.0.0.1", peer.serverPort())).code, 4004);
  }

  void framesAndLimits() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection(); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-frame", "1024",
                        "--max-connections", "2", "--max-per-client", "2"});
    const QUrl target = url(proxy.port(), "127.0.0.1", peer.serverPort());
    auto afterConnected = [](std::function<void(QWebSocket&)> f) {
      return [f](QWebSocket& ws) { QTimer::singleShot(300, &ws, [&ws, f] { f(ws); }); };
    };
    QCOMPARE(openUntilClosed(target, kOrigin, afterConnected([](QWebSocket& ws) { ws.sendTextMessage("EHLO"); })).code, 1003);
    QCOMPARE(openUntilClosed(target, kOrigin, afterConnected([](QWebSocket& ws) {
               ws.sendBinaryMessage(QByteArray(2048, 'x'));
             })).code,
             1009);
    // Over capacity: two held open, the third is refused with 1013.
    QWebSocket a(kOrigin), b(kOrigin);
    a.open(target);
    b.open(target);
    QVERIFY(QTest::qWaitFor([&] { return a.state() == QAbstractSocket::ConnectedState && b.state() == QAbstractSocket::ConnectedState; }, 5000));
    QTest::qWait(200);
    Closed third = rawClose(proxy.port(), peer.serverPort());
    QCOMPARE(third.code, 1013);
    QCOMPARE(third.reason, QStringLiteral("over capacity"));
  }

  void perClientLimit() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection(); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-per-client", "1"});
    const QUrl target = url(proxy.port(), "127.0.0.1", peer.serverPort());
    QWebSocket first(kOrigin);
    first.open(target);
    QVERIFY(QTest::qWaitFor([&] { return first.state() == QAbstractSocket::ConnectedState; }, 5000));
    QTest::qWait(200);
    Closed second = rawClose(proxy.port(), peer.serverPort());
    QCOMPARE(second.code, 1013);
    QVERIFY(second.reason.contains(QStringLiteral("your address")));
  }

  void shutdownSaysGoingAway() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection(); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    Closed c = openUntilClosed(url(proxy.port(), "127.0.0.1", peer.serverPort()), kOrigin,
                               [&](QWebSocket& ws) { QTimer::singleShot(300, &ws, [&] { proxy.terminate(); }); });
    QCOMPARE(c.code, 1001);
    QVERIFY(proxy.waitForFinished());
    QVERIFY(proxy.log().contains(QStringLiteral("close 1001")));  // one log line per connection
  }

  void wssAndConfigFile() {
    QTemporaryDir dir;
    const QString cert = dir.filePath("cert.pem"), key = dir.filePath("key.pem"), config = dir.filePath("proxy.conf");
    QProcess openssl;
    openssl.start("openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                              "-addext", "subjectAltName=IP:127.0.0.1"});
    QVERIFY(openssl.waitForFinished(20000) && openssl.exitCode() == 0);
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 over wss\r\n"); });
    QFile file(config);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("# proxy settings\nallow = 127.0.0.1:%1\ncert = %2\nkey = %3\nidle-timeout = 30\n")
                   .arg(peer.serverPort()).arg(cert, key).toUtf8());
    file.close();
    ProxyProcess proxy({"--config", config});
    QVERIFY(proxy.port());
    QWebSocket ws(kOrigin);
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.addCaCertificates(cert);
    ws.setSslConfiguration(ssl);
    QByteArray got;
    QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray& m) { got += m; });
    ws.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/smtp?host=127.0.0.1&port=%2").arg(proxy.port()).arg(peer.serverPort())));
    QVERIFY(QTest::qWaitFor([&] { return got == "220 over wss\r\n"; }, 10000));

    QFile bad(dir.filePath("bad.conf"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("allow = 127.0.0.1:25\nmax-connections = many\n");
    bad.close();
    QProcess refused;
    refused.start(QStringLiteral(SMTPC_PROXY), {"--config", bad.fileName(), "--allow-origin", kOrigin});
    QVERIFY(refused.waitForFinished(5000));
    QCOMPARE(refused.exitCode(), 1);
    QVERIFY(refused.readAllStandardError().contains("line 2"));
  }

  void slowTcpReaderKeepsMemoryBounded() {
    // The destination reads nothing: the proxy must stop reading the WebSocket, not buffer.
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      QTcpSocket* s = peer.nextPendingConnection();
      s->setReadBufferSize(1);  // and so Qt stops reading this socket
    });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    QWebSocket ws(kOrigin);
    ws.open(url(proxy.port(), "127.0.0.1", peer.serverPort()));
    QVERIFY(QTest::qWaitFor([&] { return ws.state() == QAbstractSocket::ConnectedState; }, 5000));
    QTest::qWait(300);
    const long before = proxy.rssKb();
    const QByteArray chunk = randomBytes(64 * 1024);
    for (int i = 0; i < 1024; ++i) ws.sendBinaryMessage(chunk);  // 64 MB offered
    QTest::qWait(3000);
    const long growth = proxy.rssKb() - before;
    qInfo() << "proxy RSS growth with a TCP reader that reads nothing, 64 MB offered:" << growth << "KB";
    QVERIFY2(growth < 24 * 1024, qPrintable(QString::number(growth)));
    QCOMPARE(ws.state(), QAbstractSocket::ConnectedState);  // slowed down, not cut off
  }

  void slowWebSocketReaderKeepsMemoryBounded() {
    // The browser reads nothing (a raw WebSocket handshake, then no reads): the proxy must stop
    // reading the destination.
    StalledBrowser browser;
    QVERIFY(browser.open());
    QTcpSocket* const server = browser.server;
    QTcpSocket& raw = browser.raw;
    const long before = browser.proxy->rssKb();
    const QByteArray chunk = randomBytes(64 * 1024);
    for (int i = 0; i < 1024; ++i) server->write(chunk);  // 64 MB toward a browser that reads nothing
    QTest::qWait(3000);
    const long growth = browser.proxy->rssKb() - before;
    qInfo() << "proxy RSS growth with a WebSocket reader that reads nothing, 64 MB offered:" << growth << "KB";
    QVERIFY2(growth < 24 * 1024, qPrintable(QString::number(growth)));
    QVERIFY(server->bytesToWrite() > 32 << 20);  // the rest waits at the server, where it belongs
    QCOMPARE(server->state(), QAbstractSocket::ConnectedState);  // slowed down, not cut off
  }

  void slowWebSocketReaderThenReadsEverything() {
    // The browser stalls (its socket buffer fills, the relay's own buffer or its pipe fills and it
    // stops reading the server), then reads again: every byte arrives, in order, in well-formed
    // frames.
    StalledBrowser browser;
    QVERIFY(browser.open());
    QTcpSocket* const server = browser.server;
    QTcpSocket& raw = browser.raw;
    // Sizes that need each length form of a frame header: 7-bit, 16-bit and 64-bit.
    QByteArray sent;
    for (int size : {1, 125, 126, 65535, 65536, 300000}) sent += randomBytes(size);
    sent += randomBytes(24 << 20);
    server->write(sent);
    QTest::qWait(1500);  // the browser reads nothing meanwhile
    // ...and sends a ping while a frame toward it is half written: the proxy's WebSocket answers
    // with a pong, which must come after that frame, never inside it.
    const QByteArray ping("are you there");
    raw.write(QByteArray("\x89", 1) + char(0x80 | ping.size()) + QByteArray(4, '\0') + ping);  // masked with key 0
    QTest::qWait(300);
    raw.setReadBufferSize(0);
    QByteArray wire, payload, pong;
    bool handshakeDone = false;
    auto drain = [&] {
      wire += raw.readAll();
      if (!handshakeDone) {
        const auto end = wire.indexOf("\r\n\r\n");
        if (end < 0) return;
        QVERIFY(wire.startsWith("HTTP/1.1 101"));
        wire.remove(0, end + 4);
        handshakeDone = true;
      }
      for (;;) {  // unmasked binary frames from the server, and one pong
        if (wire.size() < 2) return;
        const auto opcode = static_cast<unsigned char>(wire[0]);
        QVERIFY2(opcode == 0x82u || opcode == 0x8Au, qPrintable(QString::number(opcode, 16)));
        QVERIFY((wire[1] & 0x80) == 0);
        qint64 length = wire[1] & 0x7f;
        int header = 2;
        if (length == 126) {
          if (wire.size() < 4) return;
          length = (static_cast<unsigned char>(wire[2]) << 8) | static_cast<unsigned char>(wire[3]);
          header = 4;
        } else if (length == 127) {
          if (wire.size() < 10) return;
          length = 0;
          for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<unsigned char>(wire[2 + i]);
          header = 10;
        }
        if (wire.size() < header + length) return;
        (opcode == 0x8Au ? pong : payload) += wire.mid(header, length);
        wire.remove(0, header + length);
      }
    };
    QObject::connect(&raw, &QTcpSocket::readyRead, drain);
    drain();
    QVERIFY(QTest::qWaitFor([&] { return payload.size() >= sent.size() && pong.size() >= ping.size(); }, 60000));
    QVERIFY(payload == sent);
    QCOMPARE(pong, ping);
  }

  void thousandConnections() {
    QTcpServer peer;
    peer.setListenBacklogSize(2048);  // Qt's default (50) drops SYNs under a burst of 1,000
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    peer.setMaxPendingConnections(2000);
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      while (QTcpSocket* s = peer.nextPendingConnection())
        QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });  // echo
    });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-connections",
                        "1100", "--max-per-client", "1100"});
    // Declared before the sockets: their destructors emit disconnected() into these.
    int echoed = 0;
    QMap<QString, int> closes;
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    for (int i = 0; i < 1000; ++i) {
      auto ws = std::make_unique<QWebSocket>(kOrigin);
      QWebSocket* w = ws.get();
      const QByteArray hello = "hello " + QByteArray::number(i);
      QObject::connect(w, &QWebSocket::connected, w, [w, hello] { w->sendBinaryMessage(hello); });
      QObject::connect(w, &QWebSocket::disconnected, w, [w, &closes] {
        ++closes[QString::number(w->closeCode()) + " " + w->closeReason() + " " + w->errorString()];
      });
      QObject::connect(w, &QWebSocket::binaryMessageReceived, w, [&echoed, hello](const QByteArray& m) {
        if (m == hello) ++echoed;
      });
      w->open(url(proxy.port(), "127.0.0.1", peer.serverPort()));
      sockets.push_back(std::move(ws));
    }
    const bool all = QTest::qWaitFor([&] { return echoed == 1000; }, 120000);
    for (auto it = closes.cbegin(); it != closes.cend(); ++it) qInfo() << "closed early:" << it.key() << it.value();
    QVERIFY2(all, qPrintable(QString::number(echoed)));
    qInfo() << "proxy RSS with 1,000 open connections:" << proxy.rssKb() << "KB";
  }
};

QTEST_GUILESS_MAIN(TestProxy)
#include "tst_proxy.moc"
