// smtpc-proxy's lookup endpoint (--lookup) end to end, as the page uses it: against
// tests/servers/discovery_world.py (DNS on port 53 and HTTPS on 443 of loopback addresses, the
// sandbox's CA) and, for documents the world does not serve (oversize, redirects, silence), a
// canned HTTP server of the test's own named as the --ispdb base. Each answer is checked with its
// CORS headers; what the world saw (its request log) proves where the relay went and where not.
// The world needs root (ports 53, 80, 443): without it those tests are skipped.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUdpSocket>
#include <QWebSocket>
#include <memory>

#include "proxy_process.h"

using smtpc::proxytest::childFailures;
using smtpc::proxytest::kOrigin;
using smtpc::proxytest::ProxyProcess;

namespace {

// discovery_world.py, for the whole test run: its JSON line read, stopped by closing its stdin.
struct World {
  QProcess process;
  QJsonObject info;
  QString dns, web, ispdb, caFile;
  int tls = 0, starttls = 0;
  bool start() {
    process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(SMTPC_DISCOVERY_WORLD), QStringLiteral("--exit-on-stdin-eof")});
    if (!process.waitForStarted(5000)) return false;
    while (!process.canReadLine() && process.state() == QProcess::Running) process.waitForReadyRead(30000);
    info = QJsonDocument::fromJson(process.readLine()).object();
    dns = info.value("dns").toString();
    web = info.value("web").toString();
    ispdb = info.value("ispdb").toString();
    caFile = info.value("ca_file").toString();
    tls = info.value("smtp").toObject().value("tls").toInt();
    starttls = info.value("smtp").toObject().value("starttls").toInt();
    return !dns.isEmpty();
  }
  ~World() {
    process.closeWriteChannel();
    if (!process.waitForFinished(15000)) process.kill();
  }
  // The world's own control requests, to https://WEB/control/... (the test trusts its own server).
  QByteArray control(const QByteArray& method, const QByteArray& path) {
    QSslSocket socket;
    socket.setPeerVerifyMode(QSslSocket::VerifyNone);
    socket.connectToHostEncrypted(web, 443);
    if (!socket.waitForEncrypted(5000)) return {};
    socket.write(method + ' ' + path + " HTTP/1.1\r\nHost: " + web.toLatin1() + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    QByteArray reply;
    while (socket.waitForReadyRead(5000)) reply += socket.readAll();
    return reply.mid(reply.indexOf("\r\n\r\n") + 4);
  }
  QJsonArray requests() { return QJsonDocument::fromJson(control("GET", "/control/log")).array(); }
  void resetLog() { control("POST", "/control/reset-log"); }
};

struct Answer {
  int status = 0;
  QByteArray head;
  QJsonObject json;
  QByteArray header(const QByteArray& name) const {
    for (const QByteArray& line : head.split('\n'))
      if (line.toLower().startsWith(name.toLower() + ':')) return line.mid(name.size() + 1).trimmed();
    return {};
  }
  QString field(const char* name) const { return json.value(QLatin1String(name)).toString(); }
};

// GET `target` from the proxy as a page would (fetch() from kOrigin), from `from` if given.
Answer get(quint16 port, const QString& target, const QByteArray& origin = kOrigin.toUtf8(), const QHostAddress& from = {}) {
  Answer answer;
  QTcpSocket socket;
  if (!from.isNull() && !socket.bind(from, 0)) return answer;
  socket.connectToHost(QHostAddress::LocalHost, port);
  if (!socket.waitForConnected(5000)) return answer;
  socket.write("GET " + target.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
               (origin.isEmpty() ? QByteArray() : "Origin: " + origin + "\r\n") + "\r\n");
  QByteArray wire;
  (void)QTest::qWaitFor([&] {
    wire += socket.readAll();
    return socket.state() == QAbstractSocket::UnconnectedState;
  }, 30000);
  wire += socket.readAll();
  const qsizetype end = wire.indexOf("\r\n\r\n");
  answer.head = wire.left(end);
  answer.status = wire.mid(9, 3).toInt();
  answer.json = QJsonDocument::fromJson(wire.mid(end + 4)).object();
  return answer;
}

// An HTTP server on loopback answering each path with canned bytes (or never, for "silent").
class CannedServer : public QTcpServer {
 public:
  QHash<QByteArray, QByteArray> responses;  // by the request's last path segment (the domain)
  QList<QByteArray> heads;                  // every request head received
  CannedServer() {
    listen(QHostAddress::LocalHost, 0);
    connect(this, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* s = nextPendingConnection()) {
        connect(s, &QTcpSocket::readyRead, s, [this, s] {
          const QByteArray head = s->peek(s->bytesAvailable());
          if (!head.contains("\r\n\r\n")) return;
          heads.append(s->readAll());
          const QByteArray path = head.split(' ').value(1);
          const QByteArray reply = responses.value(path.mid(path.lastIndexOf('/') + 1));
          if (reply == "silent") return;
          s->write(reply);
          s->disconnectFromHost();
        });
        connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
      }
    });
  }
};

QString srvJson(int priority, int weight, const QString& port, const QString& target) {
  return QStringLiteral("{\"port\":%1,\"priority\":%2,\"target\":\"%3\",\"weight\":%4}").arg(port).arg(priority).arg(target).arg(weight);
}

}  // namespace

class TestLookup : public QObject {
  Q_OBJECT

  std::unique_ptr<World> world_;

  QStringList worldOptions() const {
    return {"--lookup", "--dns-server", world_->dns, "--ca-file", world_->caFile, "--ispdb", world_->ispdb};
  }
  // Every host the world serves documents from, allowed although it is on loopback.
  QStringList allowWorld() const {
    QStringList options;
    for (const char* host : {"autoconfig.own.test:443", "wellknown.test:443", "ispdb.test:443", "autoconfig.plainhttp.test:80",
                             "autoconfig.plainhttp.test:443", "autoconfig.empty.test:443"})
      options << "--allow-private" << QString::fromLatin1(host);
    return options;
  }
#define NEED_WORLD() \
  if (!world_) QSKIP("discovery_world.py did not start (it needs root for ports 53, 80 and 443)")

 private slots:
  void initTestCase() {
    auto world = std::make_unique<World>();
    if (world->start()) world_ = std::move(world);
  }
  void cleanupTestCase() { world_.reset(); }
  void cleanup() {
    const QStringList failures = std::exchange(childFailures(), {});
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
  }

  void dnsRecords_data() {
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("records");  // the JSON array, {tls} and {starttls} the sandbox's ports
    QTest::newRow("srv: implicit TLS") << "type=srv&name=_submissions._tcp.srv.test" << "ok"
                                       << "[" + srvJson(0, 1, "{tls}", "mail.srv.test") + "]";
    QTest::newRow("srv: STARTTLS") << "type=srv&name=_submission._tcp.srv.test" << "ok" << "[" + srvJson(10, 1, "{starttls}", "mail.srv.test") + "]";
    QTest::newRow("srv: target . (not offered)") << "type=srv&name=_submissions._tcp.notoffered.test" << "ok"
                                                  << "[" + srvJson(0, 0, "0", ".") + "]";
    QTest::newRow("srv: no such name") << "type=srv&name=_submissions._tcp.empty.test" << "nxdomain" << "";
    QTest::newRow("mx") << "type=mx&name=hosted.test" << "ok" << "[{\"exchange\":\"mx1.mailhost.test\",\"preference\":10}]";
    QTest::newRow("mx: NOERROR, no records") << "type=mx&name=empty.test" << "ok" << "[]";
    QTest::newRow("mx: NXDOMAIN") << "type=mx&name=nothere.test" << "nxdomain" << "";
    QTest::newRow("mx: REFUSED") << "type=mx&name=example.org" << "failed" << "";
  }
  void dnsRecords() {
    NEED_WORLD();
    QFETCH(QString, query);
    QFETCH(QString, status);
    QFETCH(QString, records);
    records.replace(QLatin1String("{tls}"), QString::number(world_->tls)).replace(QLatin1String("{starttls}"), QString::number(world_->starttls));
    ProxyProcess proxy(worldOptions());
    QVERIFY(proxy.port());
    const Answer a = get(proxy.port(), "/lookup?" + query);
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(a.header("Access-Control-Allow-Origin"), kOrigin.toUtf8());
    QCOMPARE(a.header("Vary"), QByteArray("Origin"));
    QCOMPARE(a.header("Cache-Control"), QByteArray("no-store"));
    QCOMPARE(a.header("X-Content-Type-Options"), QByteArray("nosniff"));
    QCOMPARE(a.field("status"), status);
    const QString key = query.startsWith(QLatin1String("type=srv")) ? QStringLiteral("srv") : QStringLiteral("mx");
    if (records.isEmpty()) {
      QVERIFY2(!a.field("error").isEmpty(), a.head.constData());
      QVERIFY(!a.json.contains(key));
    } else {
      QCOMPARE(QString::fromUtf8(QJsonDocument(a.json.value(key).toArray()).toJson(QJsonDocument::Compact)), records);
    }
    QVERIFY(proxy.waitForLog(QStringLiteral("lookup client 127.0.0.1 %1").arg(key)));
  }

  void documents_data() {
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("status");
    QTest::addColumn<int>("http");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("found");  // in the body (200) or the error
    QTest::newRow("autoconfig") << "type=autoconfig&domain=own.test&address=alice@own.test" << "ok" << 200
                                << "https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test"
                                << "<hostname>smtp.own.test</hostname>";
    QTest::newRow("well-known") << "type=well-known&domain=wellknown.test" << "ok" << 200
                                << "https://wellknown.test/.well-known/autoconfig/mail/config-v1.1.xml"
                                << "<hostname>mail.wellknown.test</hostname>";
    QTest::newRow("ispdb") << "type=ispdb&domain=mailhost.test" << "ok" << 200 << "https://ispdb.test/v1.1/mailhost.test"
                           << "<hostname>smtp.mailhost.test</hostname>";
    QTest::newRow("ispdb: not in it") << "type=ispdb&domain=own.test" << "ok" << 404 << "https://ispdb.test/v1.1/own.test" << "";
    QTest::newRow("autoconfig host missing") << "type=autoconfig&domain=empty.test&address=a@empty.test" << "nxdomain" << 0
                                             << "https://autoconfig.empty.test/mail/config-v1.1.xml?emailaddress=a%40empty.test"
                                             << "does not exist";
  }
  void documents() {
    NEED_WORLD();
    QFETCH(QString, query);
    QFETCH(QString, status);
    QFETCH(int, http);
    QFETCH(QString, url);
    QFETCH(QString, found);
    ProxyProcess proxy(worldOptions() + allowWorld());
    QVERIFY(proxy.port());
    world_->resetLog();
    const Answer a = get(proxy.port(), "/lookup?" + query);
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("Access-Control-Allow-Origin"), kOrigin.toUtf8());
    QVERIFY2(a.field("status") == status, qPrintable(a.field("status") + ": " + a.field("error")));
    QCOMPARE(a.field("url"), url);
    QCOMPARE(a.json.value("http").toInt(), http);
    if (http == 200) QVERIFY2(a.field("body").contains(found), qPrintable(a.field("body")));
    else if (http) QCOMPARE(a.field("body"), QString());
    else QVERIFY2(a.field("error").contains(found), qPrintable(a.field("error")));
    if (http) {  // the world saw exactly this request, by name, over HTTPS
      const QJsonArray requests = world_->requests();
      QCOMPARE(requests.size(), 1);
      const QJsonObject r = requests.first().toObject();
      QCOMPARE(r.value("scheme").toString(), QStringLiteral("https"));
      QCOMPARE(r.value("method").toString(), QStringLiteral("GET"));
      const QUrl asked(url);
      QCOMPARE(r.value("host").toString(), asked.host());
      QCOMPARE(r.value("path").toString(), asked.path());
      QCOMPARE(r.value("query").toString(), asked.query(QUrl::FullyEncoded));
    }
    // One line per lookup, and never the person's address.
    QVERIFY(proxy.waitForLog(QStringLiteral("lookup client 127.0.0.1 ")));
    QVERIFY(!proxy.log().contains(QLatin1String("alice")));
    QVERIFY(!proxy.log().contains(QLatin1String("emailaddress")));
  }

  void plainHttpOnlyWhenAsked() {
    NEED_WORLD();
    ProxyProcess proxy(worldOptions() + allowWorld());
    QVERIFY(proxy.port());
    world_->resetLog();
    // HTTPS by default: the plain-HTTP host has nothing on 443.
    Answer a = get(proxy.port(), "/lookup?type=autoconfig&domain=plainhttp.test&address=a@plainhttp.test");
    QCOMPARE(a.field("status"), QStringLiteral("failed"));
    QVERIFY(a.field("url").startsWith(QLatin1String("https://autoconfig.plainhttp.test/")));
    QVERIFY2(a.field("error").contains(QLatin1String("refused")), qPrintable(a.field("error")));
    QVERIFY(world_->requests().isEmpty());
    a = get(proxy.port(), "/lookup?type=autoconfig&domain=plainhttp.test&address=a@plainhttp.test&scheme=http");
    QCOMPARE(a.field("status"), QStringLiteral("ok"));
    QCOMPARE(a.json.value("http").toInt(), 200);
    QVERIFY(a.field("url").startsWith(QLatin1String("http://autoconfig.plainhttp.test/mail/config-v1.1.xml?")));
    QVERIFY(a.field("body").contains(QLatin1String("<hostname>smtp.plainhttp.test</hostname>")));
    const QJsonArray requests = world_->requests();
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().toObject().value("scheme").toString(), QStringLiteral("http"));
  }

  // The certificate is checked against the name (here: the sandbox's CA only with --ca-file).
  void httpsIsVerified() {
    NEED_WORLD();
    ProxyProcess proxy(QStringList{"--lookup", "--dns-server", world_->dns} + allowWorld());
    QVERIFY(proxy.port());
    const Answer a = get(proxy.port(), "/lookup?type=autoconfig&domain=own.test&address=alice@own.test");
    QCOMPARE(a.field("status"), QStringLiteral("failed"));
    QVERIFY2(a.field("error").startsWith(QLatin1String("TLS with autoconfig.own.test")), qPrintable(a.field("error")));
  }

  void privateAddressRefused_data() {
    QTest::addColumn<QStringList>("options");
    QTest::newRow("not on the allowlist") << QStringList();
    QTest::newRow("allowed, but not private") << QStringList{"--allow", "autoconfig.own.test:443"};
    QTest::newRow("allowed private on another port") << QStringList{"--allow-private", "autoconfig.own.test:80"};
    QTest::newRow("another host allowed private") << QStringList{"--allow-private", "own.test:443"};
  }
  void privateAddressRefused() {
    NEED_WORLD();
    QFETCH(QStringList, options);
    ProxyProcess proxy(worldOptions() + options);
    QVERIFY(proxy.port());
    world_->resetLog();
    const Answer a = get(proxy.port(), "/lookup?type=autoconfig&domain=own.test&address=alice@own.test");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.field("status"), QStringLiteral("refused"));
    QVERIFY(a.field("url").startsWith(QLatin1String("https://autoconfig.own.test/")));
    const QString error = a.field("error");
    QVERIFY2(error.startsWith(QStringLiteral("autoconfig.own.test resolves to %1, not a public address (loopback").arg(world_->web)),
             qPrintable(error));
    QVERIFY2(error.endsWith(QLatin1String("--allow-private autoconfig.own.test:443.")), qPrintable(error));
    QVERIFY(world_->requests().isEmpty());  // nothing was fetched
  }

  void disabledIsNotFound() {
    ProxyProcess proxy({"--allow", "127.0.0.1:25"});
    QVERIFY(proxy.port());
    const Answer a = get(proxy.port(), "/lookup?type=mx&name=own.test");
    QCOMPARE(a.status, 404);
    QVERIFY(a.header("Access-Control-Allow-Origin").isEmpty());
  }

  void badRequests_data() {
    QTest::addColumn<QString>("query");
    QTest::newRow("srv of another name") << "type=srv&name=example.org";
    QTest::newRow("mx of an IP literal") << "type=mx&name=127.0.0.1";
    QTest::newRow("a bad label") << "type=mx&name=bad_label.test";
    QTest::newRow("autoconfig of an IP literal") << "type=autoconfig&domain=10.1.2.3&address=a@b.test";
    QTest::newRow("a URL of the page's") << "type=ispdb&domain=mailhost.test&url=http://169.254.169.254/";
  }
  void badRequests() {
    QFETCH(QString, query);
    ProxyProcess proxy({"--lookup"});
    QVERIFY(proxy.port());
    const Answer a = get(proxy.port(), "/lookup?" + query);
    QCOMPARE(a.status, 400);
    QCOMPARE(a.field("status"), QStringLiteral("bad-request"));
    QVERIFY(!a.field("error").isEmpty());
    QCOMPARE(a.header("Access-Control-Allow-Origin"), kOrigin.toUtf8());  // the page may read why
  }

  void originRefused() {
    ProxyProcess proxy({"--lookup"});
    QVERIFY(proxy.port());
    for (const QByteArray& origin : {QByteArray("http://evil.test"), QByteArray()}) {
      const Answer a = get(proxy.port(), "/lookup?type=mx&name=own.test", origin);
      QCOMPARE(a.status, 403);
      QCOMPARE(a.field("status"), QStringLiteral("refused"));
      QVERIFY(a.header("Access-Control-Allow-Origin").isEmpty());
    }
    QVERIFY(proxy.waitForLog(QStringLiteral("status 403 refused")));
  }

  void tokenRequired() {
    NEED_WORLD();
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("token")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("lookup-s3cret\n");
    file.close();
    ProxyProcess proxy(worldOptions() + QStringList{"--token-file", file.fileName()});
    QVERIFY(proxy.port());
    for (const QString& token : {QString(), QStringLiteral("&token=wrong")}) {
      const Answer a = get(proxy.port(), "/lookup?type=mx&name=hosted.test" + token);
      QCOMPARE(a.status, 403);
      QCOMPARE(a.field("error"), QStringLiteral("token refused"));
    }
    const Answer a = get(proxy.port(), "/lookup?type=mx&name=hosted.test&token=lookup-s3cret");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.field("status"), QStringLiteral("ok"));
    QVERIFY(proxy.waitForLog(QStringLiteral("mx hosted.test status ok")));
    QVERIFY(!proxy.log().contains(QLatin1String("s3cret")));
  }

  void rateLimitedPerClient() {
    ProxyProcess proxy({"--lookup", "--max-lookups-per-minute", "2", "--dns-server", "127.0.0.1", "--lookup-timeout", "1"});
    QVERIFY(proxy.port());
    const QHostAddress first(QStringLiteral("127.0.0.1")), second(QStringLiteral("127.0.0.2"));
    QCOMPARE(get(proxy.port(), "/lookup?type=mx&name=own.test", kOrigin.toUtf8(), first).status, 200);
    QCOMPARE(get(proxy.port(), "/lookup?type=mx&name=own.test", kOrigin.toUtf8(), first).status, 200);
    const Answer limited = get(proxy.port(), "/lookup?type=mx&name=own.test", kOrigin.toUtf8(), first);
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.field("status"), QStringLiteral("rate-limited"));
    const int retry = limited.header("Retry-After").toInt();
    QVERIFY2(retry > 55 && retry <= 60, limited.head.constData());
    QCOMPARE(limited.json.value("retryAfter").toInt(), retry);
    QCOMPARE(limited.header("Access-Control-Allow-Origin"), kOrigin.toUtf8());
    QCOMPARE(get(proxy.port(), "/lookup?type=mx&name=own.test", kOrigin.toUtf8(), second).status, 200);
  }

  // The options as config-file lines, like every other setting (no --allow needed for lookups only).
  void configFile() {
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("proxy.conf")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("lookup = on\nmax-lookups-per-minute = 1\ndns-server = 127.0.0.1\nlookup-timeout = 1\n");
    file.close();
    ProxyProcess proxy({"--config", file.fileName()});
    QVERIFY(proxy.port());
    QCOMPARE(get(proxy.port(), "/lookup?type=mx&name=own.test").status, 200);
    QCOMPARE(get(proxy.port(), "/lookup?type=mx&name=own.test").status, 429);
  }

  // Documents the world does not have, from a server of the test's own (the --ispdb base).
  void documentLimits_data() {
    QTest::addColumn<QByteArray>("domain");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QString>("status");
    QTest::addColumn<int>("http");
    QTest::addColumn<QString>("found");  // in the error
    const QByteArray ok = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n";
    QTest::newRow("64 KiB") << QByteArray("exact.test") << ok + "Content-Length: 65536\r\n\r\n" + QByteArray(65536, 'x') << "ok" << 200 << "";
    QTest::newRow("64 KiB + 1") << QByteArray("big.test") << ok + "Content-Length: 65537\r\n\r\n" + QByteArray(65537, 'x')
                                << "too-large" << 0 << "over the limit of 65536";
    QTest::newRow("64 KiB + 1, no length") << QByteArray("endless.test") << ok + "\r\n" + QByteArray(65537, 'x') << "too-large" << 0
                                           << "over the limit of 65536";
    QTest::newRow("redirect") << QByteArray("moved.test")
                              << QByteArray("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n")
                              << "ok" << 302 << "points to http://169.254.169.254/latest; the relay does not follow redirects";
    QTest::newRow("no answer") << QByteArray("slow.test") << QByteArray("silent") << "timeout" << 0 << "within 1 s";
    QTest::newRow("not HTTP") << QByteArray("garbage.test") << QByteArray("220 smtp ready\r\n\r\n") << "failed" << 0 << "not an HTTP response";
  }
  void documentLimits() {
    QFETCH(QByteArray, domain);
    QFETCH(QByteArray, response);
    QFETCH(QString, status);
    QFETCH(int, http);
    QFETCH(QString, found);
    CannedServer server;
    QVERIFY(server.isListening());
    server.responses.insert(domain, response);
    const QString base = QStringLiteral("127.0.0.1:%1").arg(server.serverPort());
    ProxyProcess proxy({"--lookup", "--lookup-timeout", "1", "--ispdb", "http://" + base + "/v1.1/", "--allow-private", base});
    QVERIFY(proxy.port());
    const Answer a = get(proxy.port(), "/lookup?type=ispdb&domain=" + QString::fromLatin1(domain));
    QCOMPARE(a.status, 200);
    QVERIFY2(a.field("status") == status, qPrintable(a.field("status") + ": " + a.field("error")));
    QCOMPARE(a.field("url"), QStringLiteral("http://%1/v1.1/%2").arg(base, QString::fromLatin1(domain)));
    QCOMPARE(a.json.value("http").toInt(), http);
    if (http == 200) QCOMPARE(a.field("body").size(), 65536);
    else QCOMPARE(a.field("body"), QString());
    QVERIFY2(a.field("error").contains(found), qPrintable(a.field("error")));
    // The request names the host, asks for no compression, and carries nothing of the page's.
    QCOMPARE(server.heads.size(), 1);
    const QByteArray head = server.heads.first();
    QVERIFY2(head.startsWith("GET /v1.1/" + domain + " HTTP/1.1\r\nHost: " + base.toLatin1() + "\r\n"), head.constData());
    QVERIFY(head.contains("\r\nConnection: close\r\n"));
    QVERIFY(head.contains("\r\nAccept-Encoding: identity\r\n"));
    for (const char* header : {"cookie", "authorization", "origin", "x-forwarded-for"})
      QVERIFY2(!head.toLower().contains(QByteArray("\n") + header + ':'), header);
  }

  void dnsTimeout() {
    QUdpSocket silent;  // a DNS server that never answers
    if (!silent.bind(QHostAddress(QStringLiteral("127.88.53.1")), 53)) QSKIP("cannot bind port 53 (needs root)");
    ProxyProcess proxy({"--lookup", "--dns-server", "127.88.53.1", "--lookup-timeout", "2"});
    QVERIFY(proxy.port());
    QElapsedTimer clock;
    clock.start();
    const Answer a = get(proxy.port(), "/lookup?type=srv&name=_submissions._tcp.own.test");
    QCOMPARE(a.field("status"), QStringLiteral("timeout"));
    QVERIFY(!a.field("error").isEmpty());
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(silent.hasPendingDatagrams() || silent.waitForReadyRead(100));  // it was asked
  }

  // --dns-server is the relay's resolver too: a name only the world knows is relayed.
  void relayResolvesThroughTheDnsServer() {
    NEED_WORLD();
    const QString destination = QStringLiteral("mail.srv.test:%1").arg(world_->starttls);
    const QString url = QStringLiteral("ws://127.0.0.1:%1/smtp?host=mail.srv.test&port=%2");
    for (const bool withServer : {true, false}) {
      ProxyProcess proxy(withServer ? QStringList{"--dns-server", world_->dns, "--allow-private", destination}
                                    : QStringList{"--allow-private", destination});
      QVERIFY(proxy.port());
      QWebSocket ws(kOrigin);
      QByteArray greeting;
      int closeCode = 0;
      QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray& m) { greeting += m; });
      QObject::connect(&ws, &QWebSocket::disconnected, [&] { closeCode = ws.closeCode(); });
      ws.open(QUrl(url.arg(proxy.port()).arg(world_->starttls)));
      QVERIFY(QTest::qWaitFor([&] { return greeting.contains('\n') || closeCode; }, 15000));
      if (withServer) QVERIFY2(greeting.startsWith("220 "), greeting.constData());
      else QCOMPARE(closeCode, 4001);  // the system's resolver knows no .test
      ws.close();
    }
  }
};

QTEST_GUILESS_MAIN(TestLookup)
#include "tst_lookup.moc"
