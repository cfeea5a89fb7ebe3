// smtpc-proxy --metrics ADDR:PORT and --log-format json, run as a process: /metrics in the
// Prometheus text format (0.0.4) whose counters move with a refused handshake and a relayed
// session, /healthz that says 503 once SIGTERM has come and while connections drain, and one
// JSON object per line in the log, with the connection's fields and never the token or payload.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include "proxy_process.h"

namespace {

using smtpc::proxytest::childFailures;
using smtpc::proxytest::kOrigin;
using smtpc::proxytest::ProxyProcess;

struct Http {
  int status = 0;
  QByteArray head, body;
};

Http httpGet(quint16 port, const QByteArray& path, const QByteArray& method = "GET") {
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  Http r;
  if (!socket.waitForConnected(5000)) return r;
  socket.write(method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  QByteArray wire;
  (void)QTest::qWaitFor(
      [&] {
        wire += socket.readAll();
        return socket.state() == QAbstractSocket::UnconnectedState;
      },
      10000);
  wire += socket.readAll();
  const qsizetype end = wire.indexOf("\r\n\r\n");
  if (end < 0) return r;
  r.status = wire.mid(9, 3).toInt();
  r.head = wire.left(end);
  r.body = wire.mid(end + 4);
  return r;
}

// The value of one sample ("name" or "name{labels}"); -1 when the line is not there.
double sample(const QByteArray& metrics, const QByteArray& series) {
  for (const QByteArray& line : metrics.split('\n'))
    if (line.startsWith(series + ' ')) return line.mid(series.size() + 1).toDouble();
  return -1;
}

// The proxy with --metrics on a free port: its port read from "metrics on ADDR:PORT".
struct Observed {
  explicit Observed(const QStringList& arguments) : proxy(QStringList{"--metrics", "127.0.0.1:0"} + arguments) {
    for (int i = 0; i < 3 && metricsPort == 0; ++i) {
      const QString line = proxy.nextLine();
      if (line.startsWith(QStringLiteral("metrics on "))) metricsPort = line.section(QLatin1Char(':'), -1).toUShort();
    }
  }
  QByteArray metrics() { return httpGet(metricsPort, "/metrics").body; }
  ProxyProcess proxy;
  quint16 metricsPort = 0;
};

QUrl relayUrl(quint16 proxyPort, quint16 port, const QString& more = {}) {
  return QUrl(QStringLiteral("ws://127.0.0.1:%1/smtp?host=127.0.0.1&port=%2%3").arg(proxyPort).arg(port).arg(more));
}

// A relayed session: the greeting comes, `send` goes up, the client closes with 1000.
void relaySession(quint16 proxyPort, quint16 destinationPort, const QByteArray& send, const QString& more = {}) {
  QWebSocket ws(kOrigin);
  bool closed = false, greeted = false;
  QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray&) {
    greeted = true;
    ws.sendBinaryMessage(send);
    QTimer::singleShot(300, &ws, [&ws] { ws.close(); });
  });
  QObject::connect(&ws, &QWebSocket::disconnected, [&] { closed = true; });
  ws.open(relayUrl(proxyPort, destinationPort, more));
  QVERIFY(QTest::qWaitFor([&] { return closed; }, 10000));
  QVERIFY(greeted);
}

// A destination that greets and keeps what it receives.
struct Greeter {
  Greeter() {
    server.listen(QHostAddress::LocalHost, 0);
    QObject::connect(&server, &QTcpServer::newConnection, [this] {
      QTcpSocket* s = server.nextPendingConnection();
      s->write("220 hello\r\n");
      QObject::connect(s, &QIODevice::readyRead, [this, s] { received += s->readAll(); });
    });
  }
  QTcpServer server;
  QByteArray received;
};

}  // namespace

class TestMetrics : public QObject {
  Q_OBJECT

 private slots:
  void cleanup() {
    const QStringList failures = childFailures();
    childFailures().clear();
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
  }

  void exposition() {
    Observed o({"--allow", "127.0.0.1:9"});
    QVERIFY(o.metricsPort != 0);
    const Http r = httpGet(o.metricsPort, "/metrics");
    QCOMPARE(r.status, 200);
    QVERIFY2(r.head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), r.head);
    // Every sample after its family's HELP and TYPE; counters end in _total; values are numbers.
    static const QRegularExpression sampleLine(QStringLiteral("^([a-z_]+)(\\{[a-z_]+=\"[^\"\\\\\\n]*\"\\})? -?[0-9.e+]+$"));
    QSet<QByteArray> helped, typed;
    QMap<QByteArray, QByteArray> types;
    for (const QByteArray& line : r.body.split('\n')) {
      if (line.isEmpty()) continue;
      if (line.startsWith("# HELP ")) {
        helped.insert(line.split(' ')[2]);
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        const QList<QByteArray> parts = line.split(' ');
        QCOMPARE(parts.size(), 4);
        typed.insert(parts[2]);
        types.insert(parts[2], parts[3]);
        if (parts[3] == "counter") QVERIFY2(parts[2].endsWith("_total"), parts[2]);
        continue;
      }
      const QRegularExpressionMatch m = sampleLine.match(QString::fromUtf8(line));
      QVERIFY2(m.hasMatch(), line);
      const QByteArray name = m.captured(1).toUtf8();
      QVERIFY2(helped.contains(name) && typed.contains(name), line);
    }
    for (const char* family : {"smtpc_proxy_connections", "smtpc_proxy_handshakes_refused_total", "smtpc_proxy_closes_total",
                               "smtpc_proxy_bytes_total", "smtpc_proxy_lookups_total", "smtpc_proxy_web_requests_total"})
      QVERIFY2(typed.contains(family), family);
    QCOMPARE(httpGet(o.metricsPort, "/").status, 404);
    QCOMPARE(httpGet(o.metricsPort, "/metrics", "POST").status, 405);
    const Http health = httpGet(o.metricsPort, "/healthz");
    QCOMPARE(health.status, 200);
    QCOMPARE(health.body, QByteArray("ok\n"));
  }

  void countersMove() {
    Greeter greeter;
    Observed o({"--allow", QStringLiteral("127.0.0.1:%1").arg(greeter.server.serverPort())});
    const QByteArray before = o.metrics();
    QCOMPARE(sample(before, "smtpc_proxy_connections"), 0.0);
    QCOMPARE(sample(before, "smtpc_proxy_handshakes_refused_total{reason=\"origin\"}"), -1.0);

    // Refused: another page's Origin.
    QWebSocket refused(QStringLiteral("http://elsewhere.example"));
    bool gone = false;
    QObject::connect(&refused, &QWebSocket::disconnected, [&] { gone = true; });
    refused.open(relayUrl(o.proxy.port(), greeter.server.serverPort()));
    QVERIFY(QTest::qWaitFor([&] { return gone; }, 10000));
    QVERIFY(QTest::qWaitFor([&] { return sample(o.metrics(), "smtpc_proxy_handshakes_refused_total{reason=\"origin\"}") == 1; }, 5000));
    QCOMPARE(sample(o.metrics(), "smtpc_proxy_closes_total{code=\"1008\"}"), 1.0);

    // Open: counted while it lasts.
    {
      QWebSocket ws(kOrigin);
      bool greeted = false;
      QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray&) { greeted = true; });
      ws.open(relayUrl(o.proxy.port(), greeter.server.serverPort()));
      QVERIFY(QTest::qWaitFor([&] { return greeted; }, 10000));
      QCOMPARE(sample(o.metrics(), "smtpc_proxy_connections"), 1.0);
      ws.close();
      QVERIFY(QTest::qWaitFor([&] { return sample(o.metrics(), "smtpc_proxy_connections") == 0; }, 10000));
    }
    relaySession(o.proxy.port(), greeter.server.serverPort(), "EHLO metrics.test\r\n");
    QVERIFY(QTest::qWaitFor([&] { return sample(o.metrics(), "smtpc_proxy_closes_total{code=\"1000\"}") == 2; }, 10000));
    const QByteArray after = o.metrics();
    QCOMPARE(sample(after, "smtpc_proxy_bytes_total{direction=\"up\"}"), double(sizeof "EHLO metrics.test\r\n" - 1));
    QCOMPARE(sample(after, "smtpc_proxy_bytes_total{direction=\"down\"}"), 2.0 * double(sizeof "220 hello\r\n" - 1));
    QCOMPARE(sample(after, "smtpc_proxy_accepted_total"), 3.0);
    QCOMPARE(sample(after, "smtpc_proxy_handshakes_refused_total{reason=\"origin\"}"), 1.0);
  }

  void healthFlipsWhileDraining() {
    Greeter greeter;
    Observed o({"--allow", QStringLiteral("127.0.0.1:%1").arg(greeter.server.serverPort()), "--shutdown-delay", "2"});
    QCOMPARE(httpGet(o.metricsPort, "/healthz").status, 200);
    // A session open when SIGTERM comes goes on through the delay, then is closed with 1001.
    QTcpSocket raw;
    raw.connectToHost(QHostAddress::LocalHost, o.proxy.port());
    QVERIFY(raw.waitForConnected(5000));
    raw.write("GET /smtp?host=127.0.0.1&port=" + QByteArray::number(greeter.server.serverPort()) +
              " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + kOrigin.toUtf8() + "\r\n\r\n");
    QByteArray wire;
    QVERIFY(QTest::qWaitFor([&] { return (wire += raw.readAll()).contains("220 hello"); }, 10000));
    o.proxy.terminate();
    Http health;
    QVERIFY(QTest::qWaitFor([&] { return (health = httpGet(o.metricsPort, "/healthz")).status == 503; }, 3000));
    QCOMPARE(health.body, QByteArray("draining\n"));
    QCOMPARE(sample(o.metrics(), "smtpc_proxy_draining"), 1.0);
    QCOMPARE(sample(o.metrics(), "smtpc_proxy_connections"), 1.0);
    wire.clear();
    raw.write(QByteArray("\x82\x84\0\0\0\0NOOP", 10));  // a masked binary frame: still relayed
    QVERIFY(QTest::qWaitFor([&] { return greeter.received.contains("NOOP"); }, 1500));
    QCOMPARE(raw.state(), QAbstractSocket::ConnectedState);
    // Then the close frame: 0x88, its length, 1001 (0x03e9).
    QVERIFY(QTest::qWaitFor([&] { return (wire += raw.readAll()).contains(QByteArray("\x03\xe9", 2)); }, 5000));
    QVERIFY(o.proxy.waitForFinished());
  }

  void jsonLog() {
    Greeter greeter;
    QTemporaryDir dir;
    QFile token(dir.filePath(QStringLiteral("token")));
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("s3cr3t-t0ken\n");
    token.close();
    ProxyProcess proxy({"--allow", QStringLiteral("127.0.0.1:%1").arg(greeter.server.serverPort()), "--token-file",
                        token.fileName(), "--log-format", "json"});
    relaySession(proxy.port(), greeter.server.serverPort(), "EHLO private.payload\r\n", QStringLiteral("&token=s3cr3t-t0ken"));
    QVERIFY(QTest::qWaitFor([&] { return greeter.received.contains("EHLO private.payload"); }, 5000));
    QWebSocket wrong(kOrigin);
    bool gone = false;
    QObject::connect(&wrong, &QWebSocket::disconnected, [&] { gone = true; });
    wrong.open(relayUrl(proxy.port(), greeter.server.serverPort(), QStringLiteral("&token=s3cr3t-wrong")));
    QVERIFY(QTest::qWaitFor([&] { return gone; }, 10000));
    QVERIFY(proxy.waitForLog(QStringLiteral("token refused")));
    proxy.stop();
    const QString log = proxy.log();
    QVERIFY2(!log.contains(QStringLiteral("s3cr3t")), qPrintable(log));
    QVERIFY(!log.contains(QStringLiteral("payload")));
    QVERIFY(!log.contains(QStringLiteral("token=")));
    QList<QJsonObject> connections;
    for (const QString& line : log.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
      QJsonParseError error{};
      const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
      QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(), qPrintable(line));
      QVERIFY(doc.object().value(QStringLiteral("time")).toString().endsWith(QLatin1Char('Z')));
      if (doc.object().value(QStringLiteral("event")).toString() == QLatin1String("connection")) connections.append(doc.object());
    }
    QCOMPARE(connections.size(), 2);
    const QJsonObject relayed = connections.first().value(QStringLiteral("code")).toInt() == 1000 ? connections[0] : connections[1];
    const QJsonObject refused = connections.first().value(QStringLiteral("code")).toInt() == 1000 ? connections[1] : connections[0];
    QCOMPARE(relayed.value(QStringLiteral("client")).toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(relayed.value(QStringLiteral("destination")).toString(), QStringLiteral("127.0.0.1:%1").arg(greeter.server.serverPort()));
    QCOMPARE(relayed.value(QStringLiteral("up")).toInt(), int(sizeof "EHLO private.payload\r\n" - 1));
    QCOMPARE(relayed.value(QStringLiteral("down")).toInt(), int(sizeof "220 hello\r\n" - 1));
    QVERIFY(relayed.value(QStringLiteral("ms")).isDouble());
    QVERIFY(relayed.contains(QStringLiteral("reason")));
    QCOMPARE(refused.value(QStringLiteral("code")).toInt(), 1008);
    QCOMPARE(refused.value(QStringLiteral("reason")).toString(), QStringLiteral("token refused"));
  }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
