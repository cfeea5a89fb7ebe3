// smtpc-proxy as a user runs it: byte-exact relaying both ways, every close code, the allowlist
// and Origin rules, limits, back-pressure with slow readers on either side, 1,000 connections;
// and as an attacker runs it: refused handshakes in bulk, half-sent ones, ping floods, forged
// X-Forwarded-For, names that resolve into special-purpose ranges, missing or wrong tokens.
// The admission rules (smtpc_proxy_rules) are also tested as functions.
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

#include "admission.h"
#include "config.h"
#include "proxy_process.h"

namespace {

using smtpc::proxytest::childFailures;
using smtpc::proxytest::kOrigin;
using smtpc::proxytest::ProxyProcess;

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

// A WebSocket request written by hand, as a browser (or anything else) would send it.
struct RawRequest {
  QString target;         // e.g. /smtp?host=127.0.0.1&port=25
  QString origin = kOrigin;  // empty: no Origin header
  QStringList headers;    // more "Name: value" lines
  QHostAddress from;      // the local address to connect from (127.0.0.x); null: any
  bool complete = true;   // false: the request stops before its end (a half-sent handshake)
};

// Connects (from request.from) and sends the request; the reply is left to the caller.
bool openRaw(QTcpSocket& raw, quint16 proxyPort, const RawRequest& request) {
  if (!request.from.isNull() && !raw.bind(request.from, 0)) return false;
  raw.connectToHost(QHostAddress::LocalHost, proxyPort);
  if (!raw.waitForConnected(5000)) return false;
  QString head = QStringLiteral("GET %1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
                     .arg(request.target);
  if (!request.origin.isEmpty()) head += QStringLiteral("Origin: %1\r\n").arg(request.origin);
  for (const QString& header : request.headers) head += header + QStringLiteral("\r\n");
  if (request.complete) head += QStringLiteral("\r\n");
  raw.write(head.toLatin1());
  return true;
}

QString smtpTarget(quint16 destinationPort, const QString& more = QString()) {
  return QStringLiteral("/smtp?host=127.0.0.1&port=%1%2").arg(destinationPort).arg(more);
}

// A WebSocket opened by hand, as a browser would: connects and sends the handshake (the reply is
// left to the caller).
bool openRawWebSocket(QTcpSocket& raw, quint16 proxyPort, quint16 destinationPort) {
  return openRaw(raw, proxyPort, RawRequest{smtpTarget(destinationPort)});
}

// What the proxy answered a hand-made WebSocket: the first binary frame (the destination's
// greeting: the connection was admitted and relayed), a close frame (refused, with its code and
// reason), or neither before the connection ended (aborted).
struct Answer {
  QByteArray status;  // the response's first line
  QByteArray data;    // the first binary frame
  int code = 0;       // the close frame's code
  QString reason;
  bool ended = false;  // the proxy closed the TCP connection before either
  bool admitted() const { return !data.isEmpty(); }
};

Answer awaitAnswer(QTcpSocket& raw, int timeoutMs = 15000) {
  Answer answer;
  QByteArray wire;
  auto parse = [&] {
    wire += raw.readAll();
    const qsizetype end = wire.indexOf("\r\n\r\n");
    if (end < 0) return false;
    answer.status = wire.left(wire.indexOf("\r\n"));
    const QByteArray frame = wire.mid(end + 4);
    if (frame.size() < 2 || frame.size() < 2 + (frame[1] & 0x7f)) return false;
    const int length = frame[1] & 0x7f;  // the proxy's greetings and close frames are short
    if ((static_cast<unsigned char>(frame[0]) & 0x0f) == 0x2) {
      answer.data = frame.mid(2, length);
    } else if ((static_cast<unsigned char>(frame[0]) & 0x0f) == 0x8 && length >= 2) {
      answer.code = (static_cast<unsigned char>(frame[2]) << 8) | static_cast<unsigned char>(frame[3]);
      answer.reason = QString::fromUtf8(frame.mid(4, length - 2));
    }
    return true;
  };
  const bool got = QTest::qWaitFor([&] { return parse() || raw.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
  answer.ended = got && answer.data.isEmpty() && answer.code == 0;
  return answer;
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

  // ---- the admission rules, as functions ------------------------------------------------------

  void nonPublicAddresses_data() {
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("nonPublic");
    // Each special-purpose range at its edges, and its public neighbours.
    const char* refused[] = {
        "0.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.1.1", "172.16.0.1",
        "172.31.255.255", "192.0.0.1", "192.0.0.255", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1",
        "198.19.255.255", "198.51.100.1", "203.0.113.255", "224.0.0.1", "240.0.0.1", "255.255.255.255",
        "::", "::1", "::127.0.0.1", "::8.8.8.8", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:198.18.0.1",
        "::ffff:192.0.2.1", "64:ff9b::808:808", "64:ff9b:1::1", "100::1", "100:0:0:1::1", "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:1ff:ffff::1", "2001:db8::1", "2002:c000:204::1",
        "2002:808:808::1", "3fff::1", "3fff:fff::1", "5f00::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1",
        "ff02::1", "fe00::1", "4000::1",
    };
    const char* allowed[] = {
        "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.255",
        "192.0.3.0", "192.31.196.1", "198.17.255.255", "198.20.0.0", "198.51.99.255", "203.0.114.0",
        "223.255.255.255", "::ffff:8.8.8.8", "2001:200::1", "2001:4860:4860::8888", "2003::1", "2606:4700::1111",
        "2620:4f:8000::1", "3fff:1000::1",
    };
    for (const char* a : refused) QTest::newRow(a) << QString::fromLatin1(a) << true;
    for (const char* a : allowed) QTest::newRow(a) << QString::fromLatin1(a) << false;
  }
  void nonPublicAddresses() {
    QFETCH(QString, address);
    QFETCH(bool, nonPublic);
    const QHostAddress parsed(address);
    QVERIFY(!parsed.isNull());
    QCOMPARE(smtpc::proxy::isNonPublic(parsed), nonPublic);
  }

  void clientsCountedPerSlash64() {
    // The tests can connect from ::1 only, so the key is tested here and, end to end, through a
    // trusted X-Forwarded-For (forwardedForOnlyFromATrustedPeer).
    using smtpc::proxy::clientKey;
    const auto key = [](const char* a) { return clientKey(QHostAddress(QString::fromLatin1(a))); };
    QCOMPARE(key("2001:db8:1:2:3:4:5:6"), QStringLiteral("2001:db8:1:2::/64"));
    QCOMPARE(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), key("2001:db8:1:2::1"));
    QVERIFY(key("2001:db8:1:2::1") != key("2001:db8:1:3::1"));
    QCOMPARE(key("192.0.2.1"), QStringLiteral("192.0.2.1"));
    QVERIFY(key("192.0.2.1") != key("192.0.2.2"));
    QCOMPARE(key("::ffff:192.0.2.1"), key("192.0.2.1"));  // one client, whichever socket family
  }

  void forwardedClient_data() {
    QTest::addColumn<QStringList>("trusted");
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QStringList>("headers");
    QTest::addColumn<QString>("client");
    const QStringList proxy{"10.0.0.1"};
    QTest::newRow("peer not trusted: header ignored") << proxy << "192.0.2.7" << QStringList{"203.0.113.5"} << "192.0.2.7";
    QTest::newRow("trusted peer") << proxy << "10.0.0.1" << QStringList{"203.0.113.5"} << "203.0.113.5";
    QTest::newRow("what the client wrote is ignored") << proxy << "10.0.0.1" << QStringList{"1.2.3.4, 203.0.113.5"} << "203.0.113.5";
    QTest::newRow("trusted proxies are skipped") << QStringList{"10.0.0.0/8"} << "10.0.0.1" << QStringList{"1.2.3.4, 203.0.113.5, 10.0.0.2"} << "203.0.113.5";
    QTest::newRow("two headers are one list") << proxy << "10.0.0.1" << QStringList{"1.2.3.4", "203.0.113.5"} << "203.0.113.5";
    QTest::newRow("IPv6 with a port") << proxy << "10.0.0.1" << QStringList{"[2001:db8::7]:443"} << "2001:db8::7";
    QTest::newRow("IPv4 with a port") << proxy << "10.0.0.1" << QStringList{"203.0.113.5:8080"} << "203.0.113.5";
    QTest::newRow("garbage: the proxy is the client") << proxy << "10.0.0.1" << QStringList{"203.0.113.5, unknown"} << "10.0.0.1";
    QTest::newRow("no header") << proxy << "10.0.0.1" << QStringList{} << "10.0.0.1";
    QTest::newRow("all trusted: the left-most") << QStringList{"10.0.0.0/8"} << "10.0.0.1" << QStringList{"10.0.0.3, 10.0.0.2"} << "10.0.0.3";
    QTest::newRow("IPv4-mapped peer") << proxy << "::ffff:10.0.0.1" << QStringList{"203.0.113.5"} << "203.0.113.5";
    QTest::newRow("trusted IPv6 proxy") << QStringList{"2001:db8::/32"} << "2001:db8::1" << QStringList{"198.51.100.7"} << "198.51.100.7";
  }
  void forwardedClient() {
    QFETCH(QStringList, trusted);
    QFETCH(QString, peer);
    QFETCH(QStringList, headers);
    QFETCH(QString, client);
    smtpc::proxy::Config config;
    QString why;
    for (const QString& t : trusted) QVERIFY2(config.set(QStringLiteral("trust-forwarded-for"), t, &why), qPrintable(why));
    QList<QByteArray> values;
    for (const QString& h : headers) values.append(h.toLatin1());
    QCOMPARE(smtpc::proxy::forwardedClient(config, QHostAddress(peer), values).toString(), client);
  }

  void requestHeads() {
    using smtpc::proxy::HeadStatus;
    smtpc::proxy::HandshakeRequest r;
    const QByteArray good = "GET /smtp?host=a&port=1 HTTP/1.1\r\nOrigin: http://o\r\nUpgrade: WebSocket\r\n"
                            "Sec-WebSocket-Key: k\r\nX-Forwarded-For: 1.2.3.4\r\nx-forwarded-for: 5.6.7.8\r\n\r\n";
    QCOMPARE(smtpc::proxy::parseHandshake(good, 1024, &r), HeadStatus::Complete);
    QCOMPARE(r.target, QByteArray("/smtp?host=a&port=1"));
    QCOMPARE(r.origins, QList<QByteArray>{"http://o"});
    QVERIFY(r.upgradeToWebSocket);
    QCOMPARE(r.forwardedFor, (QList<QByteArray>{"1.2.3.4", "5.6.7.8"}));
    QCOMPARE(smtpc::proxy::parseHandshake(good.left(good.size() - 2), 1024, &r), HeadStatus::Incomplete);
    QCOMPARE(smtpc::proxy::parseHandshake(good.left(good.size() - 2), 40, &r), HeadStatus::TooLarge);
    QCOMPARE(smtpc::proxy::parseHandshake("GET / HTTP/1.1\r\nOrigin: a\nHost: b\r\n\r\n", 1024, &r), HeadStatus::Malformed);
    QCOMPARE(smtpc::proxy::parseHandshake("GET / HTTP/1.1\r\nOrigin: a\r\n b\r\n\r\n", 1024, &r), HeadStatus::Malformed);
    QCOMPARE(smtpc::proxy::parseHandshake("GET / HTTP/1.1\r\nOrigin : a\r\n\r\n", 1024, &r), HeadStatus::Malformed);
  }

  void secretsComparedWhole() {
    using smtpc::proxy::sameSecret;
    QVERIFY(sameSecret("s3cret", "s3cret"));
    QVERIFY(!sameSecret("s3cres", "s3cret"));
    QVERIFY(!sameSecret("s3cre", "s3cret"));
    QVERIFY(!sameSecret("s3cret!", "s3cret"));
    QVERIFY(!sameSecret("", "s3cret"));
  }

  void tokenCheckedBeforeTheAllowlist() {
    // Without the token nothing about the allowlist is told: an unlisted destination is
    // refused for the token first.
    smtpc::proxy::Config config;
    QString why;
    QVERIFY(config.set(QStringLiteral("allow-origin"), kOrigin, &why));
    QVERIFY(config.set(QStringLiteral("allow"), QStringLiteral("mail.example:25"), &why));
    config.token = "s3cret";
    smtpc::proxy::HandshakeRequest r;
    QCOMPARE(smtpc::proxy::parseHandshake("GET /smtp?host=other.example&port=25 HTTP/1.1\r\nOrigin: " + kOrigin.toUtf8() +
                                              "\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
                                          4096, &r),
             smtpc::proxy::HeadStatus::Complete);
    const smtpc::proxy::Admission a = smtpc::proxy::admit(config, QHostAddress("192.0.2.1"), r, {});
    QCOMPARE(a.code, 1008);
    QCOMPARE(a.reason, QStringLiteral("token refused"));
  }

  // ---- the relay under abuse, end to end ------------------------------------------------------

  void refusedHandshakesAreNotCounted() {
    // 60 handshakes with a foreign Origin from one address, each refused at once with 1008 and
    // never counted: the relay's capacity (60) and the address's share (20) stay free, for
    // another address and for the same one. (They were counted, and held up to 5 s for a close
    // handshake the client never sends.)
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hi\r\n"); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-connections", "60"});
    QVERIFY(proxy.port());
    std::vector<std::unique_ptr<QTcpSocket>> refused;  // open, and never answering the close
    for (int i = 0; i < 60; ++i) {
      refused.push_back(std::make_unique<QTcpSocket>());
      RawRequest request{smtpTarget(peer.serverPort())};
      request.origin = QStringLiteral("http://evil.example");
      request.from = QHostAddress(QStringLiteral("127.0.0.1"));
      QVERIFY(openRaw(*refused.back(), proxy.port(), request));
      const Answer answer = awaitAnswer(*refused.back());
      QCOMPARE(answer.code, 1008);
      QCOMPARE(answer.reason, QStringLiteral("origin not allowed"));
    }
    for (const char* from : {"127.0.0.2", "127.0.0.1"}) {
      QTcpSocket welcome;
      RawRequest request{smtpTarget(peer.serverPort())};
      request.from = QHostAddress(QString::fromLatin1(from));
      QVERIFY(openRaw(welcome, proxy.port(), request));
      const Answer answer = awaitAnswer(welcome);
      QVERIFY2(answer.admitted(), qPrintable(QStringLiteral("from %1: %2 %3").arg(from).arg(answer.code).arg(answer.reason)));
      QCOMPARE(answer.data, QByteArray("220 hi\r\n"));
    }
    // ...and the refused ones were closed by the proxy, without waiting for their answer.
    for (auto& socket : refused)
      QVERIFY(QTest::qWaitFor([&] { return socket->state() == QAbstractSocket::UnconnectedState; }, 10000));
  }

  void refusalsAreDecidedBeforeTheLimits() {
    // An address at its limit (and a relay at capacity) still hears why a request is refused:
    // Origin, form and allowlist come first, and a refused request is never counted. (The
    // limits were applied first, to a connection already counted: 1013 for all of these.)
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hi\r\n"); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-connections", "1",
                        "--max-per-client", "1"});
    QVERIFY(proxy.port());
    QTcpSocket held;
    QVERIFY(openRaw(held, proxy.port(), RawRequest{smtpTarget(peer.serverPort())}));
    QVERIFY(awaitAnswer(held).admitted());
    struct Case {
      RawRequest request;
      int code;
      QString reason;
    };
    RawRequest foreign{smtpTarget(peer.serverPort())};
    foreign.origin = QStringLiteral("http://evil.example");
    const Case cases[] = {
        {foreign, 1008, QStringLiteral("origin not allowed")},
        {RawRequest{QStringLiteral("/smtp?host=127.0.0.1&port=1")}, 1008, QStringLiteral("destination not allowed")},
        {RawRequest{QStringLiteral("/other")}, 1008, QStringLiteral("expected /smtp?host=SERVER&port=N")},
        {RawRequest{smtpTarget(peer.serverPort())}, 1013, QStringLiteral("over capacity")},
    };
    for (const Case& c : cases) {
      QTcpSocket raw;
      QVERIFY(openRaw(raw, proxy.port(), c.request));
      const Answer answer = awaitAnswer(raw);
      QCOMPARE(answer.code, c.code);
      QCOMPARE(answer.reason, c.reason);
    }
  }

  void halfSentHandshakesClosedAtTheTimeout() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--handshake-timeout", "1"});
    QVERIFY(proxy.port());
    QTcpSocket half, silent;
    RawRequest request{smtpTarget(peer.serverPort())};
    request.complete = false;
    QVERIFY(openRaw(half, proxy.port(), request));
    silent.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(silent.waitForConnected(5000));
    QVERIFY(QTest::qWaitFor([&] {
      return half.state() == QAbstractSocket::UnconnectedState && silent.state() == QAbstractSocket::UnconnectedState;
    }, 30000));
    QVERIFY(proxy.waitForLog(QStringLiteral("close abort (handshake timeout)")));
    QCOMPARE(proxy.log().count(QStringLiteral("handshake timeout")), 2);
  }

  void handshakesInProgressAreCapped() {
    // Two half-sent handshakes from 127.0.0.1 fill its share: a third is cut off at once. One
    // from 127.0.0.2 fills the total (3): one from 127.0.0.3 is cut off too.
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hi\r\n"); });
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()), "--max-handshakes", "3",
                        "--max-handshakes-per-client", "2", "--handshake-timeout", "120"});
    QVERIFY(proxy.port());
    auto halfFrom = [&](QTcpSocket& socket, const char* from) {
      RawRequest request{smtpTarget(peer.serverPort())};
      request.from = QHostAddress(QString::fromLatin1(from));
      request.complete = false;
      return openRaw(socket, proxy.port(), request);
    };
    QTcpSocket first, second, third, other, fourth;
    QVERIFY(halfFrom(first, "127.0.0.1"));
    QVERIFY(halfFrom(second, "127.0.0.1"));
    QVERIFY(halfFrom(third, "127.0.0.1"));
    QVERIFY(QTest::qWaitFor([&] { return third.state() == QAbstractSocket::UnconnectedState; }, 10000));
    QVERIFY(proxy.waitForLog(QStringLiteral("close abort (too many handshakes in progress from this address)")));
    QVERIFY(halfFrom(other, "127.0.0.2"));
    QVERIFY(halfFrom(fourth, "127.0.0.3"));
    QVERIFY(QTest::qWaitFor([&] { return fourth.state() == QAbstractSocket::UnconnectedState; }, 10000));
    QVERIFY(proxy.waitForLog(QStringLiteral("close abort (too many handshakes in progress)")));
    // The ones under the caps were kept: finished now, they are relayed.
    for (QTcpSocket* kept : {&first, &other}) {
      kept->write("\r\n");
      const Answer answer = awaitAnswer(*kept);
      QCOMPARE(answer.data, QByteArray("220 hi\r\n"));
    }
    // A handshake that ends gives its place back.
    second.abort();
    QVERIFY(proxy.waitForLog(QStringLiteral("close abort (client left during the handshake)")));
    QTcpSocket again;
    RawRequest request{smtpTarget(peer.serverPort())};
    QVERIFY(openRaw(again, proxy.port(), request));
    QCOMPARE(awaitAnswer(again).data, QByteArray("220 hi\r\n"));
  }

  void pingFloodFromAClientThatNeverReads() {
    // A client sends pings and reads nothing: QWebSocket answers each with a pong queued toward
    // the client. Past the high-water mark the relay stops reading from that client, so its
    // memory stays bounded (it once grew by 62 MB for 64 MB of pings). When the client reads
    // again, every ping is answered and the relay relays again.
    StalledBrowser browser;
    QVERIFY(browser.open());
    ProxyProcess& proxy = *browser.proxy;
    QTcpSocket& raw = browser.raw;
    const long before = proxy.rssKb();
    const QByteArray payload(125, 'p');  // the largest control frame (RFC 6455 §5.5)
    const QByteArray ping = QByteArray("\x89", 1) + char(0x80 | payload.size()) + QByteArray(4, '\0') + payload;  // mask 0
    constexpr qint64 kFloodBytes = 64 << 20;
    const qint64 pings = kFloodBytes / ping.size();
    {
      QByteArray flood;
      flood.reserve(pings * ping.size());
      for (qint64 i = 0; i < pings; ++i) flood += ping;
      raw.write(flood);
    }
    // Either the relay says it stopped reading, or it took every byte (as it did before).
    const QString paused = QStringLiteral("reading from it paused");
    QVERIFY(QTest::qWaitFor([&] { return proxy.log().contains(paused) || raw.bytesToWrite() == 0; }, 120000));
    const long growth = proxy.peakRssKb() - before;
    qInfo() << "proxy peak RSS growth, 64 MB of pings from a client that reads nothing:" << growth << "KB;"
            << raw.bytesToWrite() / 1024 << "KB of pings not taken yet";
    QVERIFY2(growth < 24 * 1024, qPrintable(QString::number(growth)));
    QVERIFY(proxy.log().contains(paused));

    browser.server->write("220 still here\r\n");
    qint64 pongs = 0;
    QByteArray wire, relayed;
    qsizetype at = 0;
    bool handshakeDone = false;
    auto drain = [&] {
      wire += raw.readAll();
      if (!handshakeDone) {
        const qsizetype end = wire.indexOf("\r\n\r\n");
        if (end < 0) return;
        at = end + 4;
        handshakeDone = true;
      }
      while (wire.size() - at >= 2) {  // unmasked frames with 7-bit lengths: pongs and the greeting
        const int length = wire[at + 1] & 0x7f;
        if (wire.size() - at < 2 + length) break;
        if (static_cast<unsigned char>(wire[at]) == 0x8Au) ++pongs;
        else relayed += wire.mid(at + 2, length);
        at += 2 + length;
      }
      wire.remove(0, at);
      at = 0;
    };
    raw.setReadBufferSize(0);
    QVERIFY2(QTest::qWaitFor([&] {
      drain();
      return pongs == pings && relayed == "220 still here\r\n";
    }, 120000), qPrintable(QStringLiteral("%1 of %2 pongs; relayed \"%3\"").arg(pongs).arg(pings).arg(QString::fromLatin1(relayed))));
    raw.abort();
  }

  void tokenFile() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hi\r\n"); });
    QTemporaryDir dir;
    const QByteArray token = "Zm9v+YmFy/s3cr3t=";  // characters a URL must escape
    QFile file(dir.filePath(QStringLiteral("token")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(token + "\n");
    file.close();
    QFile config(dir.filePath(QStringLiteral("proxy.conf")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QStringLiteral("allow = 127.0.0.1:%1\ntoken-file = %2\n").arg(peer.serverPort()).arg(file.fileName()).toUtf8());
    config.close();
    const QString wrong = QStringLiteral("Zm9v+YmFy/s3cr3t");  // the token less its last character
    auto withToken = [&](const QString& t) {
      return QStringLiteral("&token=") + QString::fromLatin1(QUrl::toPercentEncoding(t));
    };
    for (const QStringList& arguments : {QStringList{"--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort()),
                                                     "--token-file", file.fileName()},
                                         QStringList{"--config", config.fileName()}}) {
      ProxyProcess proxy(arguments);
      QVERIFY(proxy.port());
      struct Case {
        QString more;
        bool admitted;
      };
      for (const Case& c : {Case{withToken(QString::fromLatin1(token)), true}, Case{withToken(wrong), false},
                            Case{QString(), false}, Case{withToken(QString()), false}}) {
        QTcpSocket raw;
        QVERIFY(openRaw(raw, proxy.port(), RawRequest{smtpTarget(peer.serverPort(), c.more)}));
        const Answer answer = awaitAnswer(raw);
        if (c.admitted) {
          QCOMPARE(answer.data, QByteArray("220 hi\r\n"));
        } else {
          QCOMPARE(answer.code, 1008);
          QCOMPARE(answer.reason, QStringLiteral("token refused"));
        }
      }
      proxy.stop();
      const QString log = proxy.log();
      QCOMPARE(log.count(QStringLiteral("close 1008 (token refused)")), 3);
      for (const QString& secret : {QString::fromLatin1(token), wrong, QString::fromLatin1(QUrl::toPercentEncoding(wrong))})
        QVERIFY2(!log.contains(secret), qPrintable(log));
      QVERIFY2(!log.contains(QStringLiteral("token=")) && !log.contains(QStringLiteral("?host=")), qPrintable(log));
    }
  }

  void forwardedForOnlyFromATrustedPeer() {
    // Behind a trusted reverse proxy (here: the test, at 127.0.0.1) each forwarded client has its
    // own share (--max-per-client 1); IPv6 clients share one per /64. From a peer that is not
    // trusted the header changes nothing: every connection is 127.0.0.1's.
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hi\r\n"); });
    const QString allow = QStringLiteral("127.0.0.1:%1").arg(peer.serverPort());
    std::vector<std::unique_ptr<QTcpSocket>> open;  // held, so that each counts
    auto connectAs = [&](ProxyProcess& proxy, const QString& forwardedFor) {
      open.push_back(std::make_unique<QTcpSocket>());
      RawRequest request{smtpTarget(peer.serverPort())};
      request.headers << QStringLiteral("X-Forwarded-For: ") + forwardedFor;
      if (!openRaw(*open.back(), proxy.port(), request)) return Answer();
      return awaitAnswer(*open.back());
    };
    {
      ProxyProcess proxy({"--allow", allow, "--max-per-client", "1", "--trust-forwarded-for", "127.0.0.1"});
      QVERIFY(connectAs(proxy, "203.0.113.5").admitted());
      QVERIFY(connectAs(proxy, "203.0.113.6").admitted());
      const Answer spoofed = connectAs(proxy, "198.51.100.9, 203.0.113.5");  // the left part is the client's own
      QCOMPARE(spoofed.code, 1013);
      QCOMPARE(spoofed.reason, QStringLiteral("too many connections from your address"));
      QVERIFY(connectAs(proxy, "2001:db8:1:2::1").admitted());
      QCOMPARE(connectAs(proxy, "2001:db8:1:2:ffff::2").code, 1013);  // the same /64
      QVERIFY(connectAs(proxy, "2001:db8:1:3::1").admitted());        // the next /64
      open.clear();
      QVERIFY(proxy.waitForLog(QStringLiteral("client 203.0.113.6 ")));
      QVERIFY2(proxy.log().contains(QStringLiteral("client 203.0.113.5 destination 127.0.0.1:%1 up 0 down 0").arg(peer.serverPort())),
               qPrintable(proxy.log()));
    }
    {
      ProxyProcess proxy({"--allow", allow, "--max-per-client", "1", "--trust-forwarded-for", "127.0.0.2"});
      QVERIFY(connectAs(proxy, "203.0.113.5").admitted());
      QCOMPARE(connectAs(proxy, "203.0.113.6").code, 1013);
      open.clear();
      QVERIFY(proxy.waitForLog(QStringLiteral("client 127.0.0.1 ")));
      QVERIFY(!proxy.log().contains(QStringLiteral("203.0.113")));
    }
  }

  void namesResolvingIntoSpecialRanges() {
    // Names on the allowlist that resolve (through a resolver preloaded into the proxy) into each
    // range isNonPublic once missed: refused before any connection. The control, a name that
    // resolves to loopback allowed with --allow-private, proves the resolver is in place.
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    bool reached = false;
    QObject::connect(&peer, &QTcpServer::newConnection, [&] {
      reached = true;
      peer.nextPendingConnection()->write("220 hi\r\n");
    });
    const QList<QPair<QString, QString>> names{
        {"ietf-assignments.test", "192.0.0.8"}, {"benchmarking.test", "198.18.0.1"},  {"test-net-1.test", "192.0.2.1"},
        {"test-net-2.test", "198.51.100.1"},    {"test-net-3.test", "203.0.113.1"},   {"nat64.test", "64:ff9b::808:808"},
        {"nat64-local.test", "64:ff9b:1::1"},   {"6to4.test", "2002:808:808::1"},     {"v4-compatible.test", "::8.8.8.8"},
        {"teredo.test", "2001::1"},             {"mapped.test", "::ffff:198.18.0.1"}, {"documentation-v6.test", "3fff::1"},
    };
    QStringList arguments{"--connect-timeout", "2", "--allow-private", QStringLiteral("control.test:%1").arg(peer.serverPort())};
    QStringList hosts{QStringLiteral("control.test=127.0.0.1")};
    for (const auto& [name, address] : names) {
      arguments << "--allow" << QStringLiteral("%1:%2").arg(name).arg(peer.serverPort());
      hosts << name + QLatin1Char('=') + address;
    }
    QProcessEnvironment env;
    env.insert(QStringLiteral("LD_PRELOAD"), QStringLiteral(SMTPC_TEST_RESOLVER));
    env.insert(QStringLiteral("SMTPC_TEST_HOSTS"), hosts.join(QLatin1Char(';')));
    ProxyProcess proxy(arguments, env);
    QVERIFY(proxy.port());
    const Closed control = openUntilClosed(url(proxy.port(), "control.test", peer.serverPort()), kOrigin,
                                           [](QWebSocket& ws) { QTimer::singleShot(300, &ws, [&ws] { ws.close(); }); });
    QCOMPARE(control.received, QByteArray("220 hi\r\n"));
    reached = false;
    for (const auto& [name, address] : names) {
      const Closed c = openUntilClosed(url(proxy.port(), name, peer.serverPort()));
      QVERIFY2(c.code == 1008 && c.reason.contains(QStringLiteral("private address")),
               qPrintable(QStringLiteral("%1 (%2): %3 %4").arg(name, address).arg(c.code).arg(c.reason)));
    }
    QVERIFY(!reached);
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
                        "1100", "--max-per-client", "1100", "--max-handshakes", "1100",
                        "--max-handshakes-per-client", "1100"});
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
