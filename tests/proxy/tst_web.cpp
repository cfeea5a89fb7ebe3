// smtpc-proxy --web DIR, run as a process: the page's files with their types, a precompressed
// sibling chosen by Accept-Encoding, ETags and 304, HEAD, the security headers on every answer,
// keep-alive; and as an attacker asks: "..", encoded slashes and dots, NUL, dotfiles, symlinks
// out of DIR, folders, other methods, absolute targets. The page's own origin may use the relay
// (by address, not under a DNS name that could be rebound), also on a kept-alive connection.
#include <QDir>
#include <QFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include "proxy_process.h"

namespace {

using smtpc::proxytest::childFailures;
using smtpc::proxytest::ProxyProcess;

struct Response {
  int status = 0;
  QMap<QByteArray, QByteArray> headers;  // lower-case names
  QByteArray body;
  QByteArray header(const char* name) const { return headers.value(QByteArray(name)); }
};

// Reads every response on the connection until the proxy closes it (each framed by Content-Length;
// `heads`: the method of each request, a HEAD's answer has no body).
QList<Response> readResponses(QTcpSocket& socket, const QList<QByteArray>& methods, int timeoutMs = 10000) {
  QByteArray wire;
  (void)QTest::qWaitFor(
      [&] {
        wire += socket.readAll();
        return socket.state() == QAbstractSocket::UnconnectedState;
      },
      timeoutMs);
  wire += socket.readAll();
  QList<Response> responses;
  for (const QByteArray& method : methods) {
    const qsizetype end = wire.indexOf("\r\n\r\n");
    if (end < 0) break;
    Response r;
    const QList<QByteArray> lines = wire.left(end).split('\n');
    r.status = lines.first().mid(9, 3).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
      const QByteArray line = lines[i].trimmed();
      const qsizetype colon = line.indexOf(':');
      r.headers.insert(line.left(colon).toLower(), line.mid(colon + 1).trimmed());
    }
    const qsizetype length = method == "HEAD" || r.status == 304 ? 0 : r.header("content-length").toLongLong();
    r.body = wire.mid(end + 4, length);
    wire.remove(0, end + 4 + length);
    responses.append(r);
  }
  return responses;
}

// Sends `heads` (complete requests) on one connection; the last one should say Connection: close.
QList<Response> exchange(quint16 port, const QList<QByteArray>& requests) {
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  if (!socket.waitForConnected(5000)) return {};
  QList<QByteArray> methods;
  for (const QByteArray& request : requests) {
    socket.write(request);
    methods.append(request.left(request.indexOf(' ')));
  }
  return readResponses(socket, methods);
}

QByteArray request(const QByteArray& target, const QByteArray& more = {}, const QByteArray& method = "GET") {
  return method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + more + "Connection: close\r\n\r\n";
}

Response get(quint16 port, const QByteArray& target, const QByteArray& more = {}, const QByteArray& method = "GET") {
  const QList<Response> r = exchange(port, {request(target, more, method)});
  return r.isEmpty() ? Response{} : r.first();
}

void write(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

// Every answer, a file's or an error's, carries these.
void checkSecurityHeaders(const Response& r) {
  QVERIFY2(r.header("content-security-policy").contains("frame-ancestors 'none'"), r.header("content-security-policy"));
  QVERIFY(r.header("content-security-policy").contains("script-src 'self' 'wasm-unsafe-eval'"));
  QCOMPARE(r.header("x-content-type-options"), QByteArray("nosniff"));
  QCOMPARE(r.header("referrer-policy"), QByteArray("no-referrer"));
  QCOMPARE(r.header("cross-origin-opener-policy"), QByteArray("same-origin"));
}

const QByteArray kSecret = "THE SECRET OUTSIDE THE WEB FOLDER";
const QByteArray kPage = "<!doctype html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; "
                         "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:\"><title>t</title>";

}  // namespace

class TestWeb : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  QString web_;
  QByteArray wasm_, script_, scriptGz_, scriptBr_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    web_ = tmp_.path() + QStringLiteral("/web");
    QVERIFY(QDir().mkpath(web_ + QStringLiteral("/sub")));
    write(tmp_.path() + QStringLiteral("/secret.txt"), kSecret);
    write(web_ + QStringLiteral("/.hidden"), kSecret);
    write(web_ + QStringLiteral("/index.html"), kPage);
    script_ = QByteArray("console.log('page');\n").repeated(50);
    scriptGz_ = "GZIP BYTES";  // what is served is the file as it is: the proxy never compresses
    scriptBr_ = "BROTLI BYTES";
    write(web_ + QStringLiteral("/app.js"), script_);
    write(web_ + QStringLiteral("/app.js.gz"), scriptGz_);
    write(web_ + QStringLiteral("/only-gz.js"), script_);
    write(web_ + QStringLiteral("/only-gz.js.gz"), scriptGz_);
    write(web_ + QStringLiteral("/app.js.br"), scriptBr_);
    write(web_ + QStringLiteral("/style.css"), "body{}");
    write(web_ + QStringLiteral("/data.json"), "{}");
    write(web_ + QStringLiteral("/icon.svg"), "<svg/>");
    write(web_ + QStringLiteral("/sub/index.html"), "sub");
    // A module of a few MB, sent in pieces.
    wasm_ = QByteArray("\0asm\1\0\0\0", 8);
    for (qint64 i = 0; wasm_.size() < 5 * 1024 * 1024; ++i) wasm_ += QByteArray::number(i * 7919) + ',';
    write(web_ + QStringLiteral("/smtpc.wasm"), wasm_);
    QVERIFY(QFile::link(tmp_.path() + QStringLiteral("/secret.txt"), web_ + QStringLiteral("/out.txt")));
    QVERIFY(QFile::link(web_ + QStringLiteral("/style.css"), web_ + QStringLiteral("/in.css")));
    QVERIFY(QFile::link(web_ + QStringLiteral("/.hidden"), web_ + QStringLiteral("/to-hidden.txt")));
    QVERIFY(QDir().mkpath(web_ + QStringLiteral("/empty")));
  }

  void cleanup() {
    const QStringList failures = childFailures();
    childFailures().clear();
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
  }

  void typesAndBodies_data() {
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<QString>("file");
    QTest::newRow("/") << QByteArray("/") << QByteArray("text/html; charset=utf-8") << "index.html";
    QTest::newRow("index.html") << QByteArray("/index.html") << QByteArray("text/html; charset=utf-8") << "index.html";
    QTest::newRow("js") << QByteArray("/app.js") << QByteArray("text/javascript; charset=utf-8") << "app.js";
    QTest::newRow("css") << QByteArray("/style.css") << QByteArray("text/css; charset=utf-8") << "style.css";
    QTest::newRow("wasm") << QByteArray("/smtpc.wasm") << QByteArray("application/wasm") << "smtpc.wasm";
    QTest::newRow("json") << QByteArray("/data.json") << QByteArray("application/json") << "data.json";
    QTest::newRow("svg") << QByteArray("/icon.svg") << QByteArray("image/svg+xml") << "icon.svg";
    QTest::newRow("query ignored") << QByteArray("/app.js?v=2") << QByteArray("text/javascript; charset=utf-8") << "app.js";
    QTest::newRow("symlink inside") << QByteArray("/in.css") << QByteArray("text/css; charset=utf-8") << "style.css";
    QTest::newRow("folder index") << QByteArray("/sub/") << QByteArray("text/html; charset=utf-8") << "sub/index.html";
    QTest::newRow("percent-encoded name") << QByteArray("/%61pp.js") << QByteArray("text/javascript; charset=utf-8") << "app.js";
  }
  void typesAndBodies() {
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, type);
    QFETCH(QString, file);
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const Response r = get(proxy.port(), target);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), type);
    QFile f(web_ + QLatin1Char('/') + file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray expected = f.readAll();
    QCOMPARE(r.header("content-length").toLongLong(), expected.size());
    QVERIFY(r.body == expected);
    QVERIFY(r.header("content-encoding").isEmpty());
    QVERIFY(r.header("etag").startsWith('"'));  // strong
    QCOMPARE(r.header("cache-control"), QByteArray("no-cache"));
    QCOMPARE(r.header("vary"), QByteArray("Accept-Encoding"));
    checkSecurityHeaders(r);
  }

  void thePagesOwnPolicy() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    // index.html's <meta> policy, plus what only a header can say.
    QCOMPARE(get(proxy.port(), "/nothing-here").header("content-security-policy"),
             QByteArray("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:; "
                        "frame-ancestors 'none'"));
  }

  void precompressedSiblings() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const Response plain = get(proxy.port(), "/app.js");
    const Response gz = get(proxy.port(), "/app.js", "Accept-Encoding: gzip, deflate\r\n");
    QCOMPARE(gz.status, 200);
    QCOMPARE(gz.header("content-encoding"), QByteArray("gzip"));
    QCOMPARE(gz.body, scriptGz_);
    QCOMPARE(gz.header("content-type"), QByteArray("text/javascript; charset=utf-8"));  // the original's type
    QCOMPARE(gz.header("vary"), QByteArray("Accept-Encoding"));
    QVERIFY(gz.header("etag") != plain.header("etag"));  // one tag per representation
    const Response br = get(proxy.port(), "/app.js", "Accept-Encoding: gzip, deflate, br\r\n");
    QCOMPARE(br.header("content-encoding"), QByteArray("br"));
    QCOMPARE(br.body, scriptBr_);
    QVERIFY(br.header("etag") != gz.header("etag"));
    const Response refused = get(proxy.port(), "/app.js", "Accept-Encoding: br;q=0, gzip;q=0\r\n");
    QVERIFY(refused.header("content-encoding").isEmpty());
    QCOMPARE(refused.body, script_);
    const Response onlyGz = get(proxy.port(), "/only-gz.js", "Accept-Encoding: br, gzip\r\n");
    QCOMPARE(onlyGz.header("content-encoding"), QByteArray("gzip"));
    QCOMPARE(onlyGz.body, scriptGz_);
    QVERIFY(get(proxy.port(), "/style.css", "Accept-Encoding: gzip\r\n").header("content-encoding").isEmpty());
  }

  void entityTagsAndNotModified() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const Response first = get(proxy.port(), "/app.js");
    const QByteArray tag = first.header("etag");
    QVERIFY(!tag.isEmpty());
    QCOMPARE(get(proxy.port(), "/app.js").header("etag"), tag);  // stable
    const Response again = get(proxy.port(), "/app.js", "If-None-Match: " + tag + "\r\n");
    QCOMPARE(again.status, 304);
    QVERIFY(again.body.isEmpty());
    QCOMPARE(again.header("etag"), tag);
    checkSecurityHeaders(again);
    QCOMPARE(get(proxy.port(), "/app.js", "If-None-Match: \"other\", W/" + tag + "\r\n").status, 304);
    QCOMPARE(get(proxy.port(), "/app.js", "If-None-Match: \"other\"\r\n").status, 200);
    // The gzip representation's tag does not validate the plain one.
    const QByteArray gzTag = get(proxy.port(), "/app.js", "Accept-Encoding: gzip\r\n").header("etag");
    QCOMPARE(get(proxy.port(), "/app.js", "If-None-Match: " + gzTag + "\r\n").status, 200);
    QCOMPARE(get(proxy.port(), "/app.js", "Accept-Encoding: gzip\r\nIf-None-Match: " + gzTag + "\r\n").status, 304);
  }

  void headAndMethods() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const Response head = get(proxy.port(), "/smtpc.wasm", {}, "HEAD");
    QCOMPARE(head.status, 200);
    QCOMPARE(head.header("content-length").toLongLong(), wasm_.size());
    QCOMPARE(head.header("content-type"), QByteArray("application/wasm"));
    QVERIFY(head.body.isEmpty());
    checkSecurityHeaders(head);
    for (const QByteArray method : {"POST", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
      const Response r = get(proxy.port(), "/index.html", "Content-Length: 0\r\n", method);
      QCOMPARE(r.status, 405);
      QCOMPARE(r.header("allow"), QByteArray("GET, HEAD"));
      checkSecurityHeaders(r);
    }
  }

  void nothingOutsideTheFolder_data() {
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("..") << QByteArray("/../secret.txt");
    QTest::newRow("../ deeper") << QByteArray("/sub/../../secret.txt");
    QTest::newRow("%2e%2e") << QByteArray("/%2e%2e/secret.txt");
    QTest::newRow("%2E%2E") << QByteArray("/%2E%2E/secret.txt");
    QTest::newRow(".%2e") << QByteArray("/.%2e/secret.txt");
    QTest::newRow("%2f") << QByteArray("/..%2fsecret.txt");
    QTest::newRow("%2F") << QByteArray("/sub%2F..%2F..%2Fsecret.txt");
    QTest::newRow("%5c") << QByteArray("/..%5csecret.txt");
    QTest::newRow("backslash") << QByteArray("/..\\secret.txt");
    QTest::newRow("NUL") << QByteArray("/index.html%00.js");
    QTest::newRow("dotfile") << QByteArray("/.hidden");
    QTest::newRow("dotfile encoded") << QByteArray("/%2ehidden");
    QTest::newRow("symlink out") << QByteArray("/out.txt");
    QTest::newRow("symlink to a dotfile") << QByteArray("/to-hidden.txt");
    QTest::newRow("folder without index") << QByteArray("/empty/");
    QTest::newRow("folder without slash") << QByteArray("/sub");
    QTest::newRow("double slash") << QByteArray("//secret.txt");
    QTest::newRow("absolute path") << QByteArray("/" + QFile::encodeName(tmp_.path()) + "/secret.txt");
    QTest::newRow("absolute-form") << QByteArray("http://127.0.0.1/index.html");
    QTest::newRow("asterisk") << QByteArray("*");
    QTest::newRow("missing") << QByteArray("/nothing.js");
    QTest::newRow("invalid UTF-8") << QByteArray("/app%ff.js");
  }
  void nothingOutsideTheFolder() {
    QFETCH(QByteArray, target);
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const Response r = get(proxy.port(), target);
    QVERIFY2(r.status == 404 || r.status == 400, qPrintable(QString::number(r.status)));
    QVERIFY(!r.body.contains(kSecret));
    QVERIFY(r.body.size() < 64);  // a small body, no listing
    checkSecurityHeaders(r);
  }

  void keepAliveCarriesAPageLoad() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9"});
    const QByteArray open = " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Sent at once (pipelined): answered in order on one connection, until the one that says close.
    const QList<Response> r = exchange(proxy.port(), {"GET /" + open, "GET /smtpc.wasm" + open, "HEAD /app.js" + open,
                                                      "GET /missing" + open, request("/style.css")});
    QCOMPARE(r.size(), 5);
    QCOMPARE(r[0].header("connection"), QByteArray("keep-alive"));
    QCOMPARE(r[0].body, kPage);
    QVERIFY(r[1].body == wasm_);
    QCOMPARE(r[2].status, 200);
    QCOMPARE(r[3].status, 404);
    QCOMPARE(r[4].body, QByteArray("body{}"));
    QCOMPARE(r[4].header("connection"), QByteArray("close"));
  }

  void idleConnectionClosedAtTheTimeout() {
    ProxyProcess proxy({"--web", web_, "--allow", "127.0.0.1:9", "--handshake-timeout", "1"});
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /app.js HTTP/1.1\r\n");  // the second never ends
    QVERIFY(QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; }, 5000));
  }

  void theOwnOriginUsesTheRelay() {
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&peer, &QTcpServer::newConnection, [&] { peer.nextPendingConnection()->write("220 hello\r\n"); });
    ProxyProcess proxy({"--web", web_, "--allow", QStringLiteral("127.0.0.1:%1").arg(peer.serverPort())});
    const QByteArray upgrade = "GET /smtp?host=127.0.0.1&port=" + QByteArray::number(peer.serverPort()) +
                               " HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    auto relayed = [&](const QByteArray& host, const QByteArray& origin, bool afterAFile) {
      QTcpSocket socket;
      socket.connectToHost(QHostAddress::LocalHost, proxy.port());
      if (!socket.waitForConnected(5000)) return QByteArray("(no connection)");
      QByteArray wire;
      if (afterAFile) {  // a kept-alive connection that fetched a file first
        socket.write("GET /style.css HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        (void)QTest::qWaitFor([&] { return (wire += socket.readAll()).endsWith("body{}"); }, 5000);
        wire.clear();
      }
      socket.write(upgrade + "Host: " + host + "\r\nOrigin: " + origin + "\r\n\r\n");
      // Admitted: 101 and the destination's greeting in a binary frame; refused: 101 and a close frame.
      (void)QTest::qWaitFor([&] { return (wire += socket.readAll()).contains("hello") || socket.state() != QAbstractSocket::ConnectedState; },
                      5000);
      wire += socket.readAll();
      return wire;
    };
    const QByteArray self = "127.0.0.1:" + QByteArray::number(proxy.port());
    QVERIFY(relayed(self, "http://" + self, false).contains("220 hello"));
    QVERIFY(relayed(self, "http://" + self, true).contains("220 hello"));
    const QByteArray local = "localhost:" + QByteArray::number(proxy.port());
    QVERIFY(relayed(local, "http://" + local, false).contains("220 hello"));
    // Another page, and a DNS name (it could be someone's, rebound to this address): refused.
    QVERIFY(relayed(self, "http://127.0.0.1:1", false).contains("origin not allowed"));
    const QByteArray name = "attacker.example:" + QByteArray::number(proxy.port());
    QVERIFY(relayed(name, "http://" + name, false).contains("origin not allowed"));
    QVERIFY(relayed(self, "null", false).contains("origin not allowed"));
  }

  void sameOriginLookupWithoutOrigin() {
    ProxyProcess proxy({"--web", web_, "--lookup"});
    // A browser's same-origin GET has no Origin header: Sec-Fetch-Site says who asks. Without
    // it the lookup is refused before its query is read (403); with it the query is read (400: none).
    QCOMPARE(get(proxy.port(), "/lookup").status, 403);
    QCOMPARE(get(proxy.port(), "/lookup", "Sec-Fetch-Site: same-origin\r\n").status, 400);
    QCOMPARE(get(proxy.port(), "/lookup", "Sec-Fetch-Site: cross-site\r\n").status, 403);
  }

  void webNeedsAPage() {
    QProcess p;
    p.start(QStringLiteral(SMTPC_PROXY), {"--web", tmp_.path() + QStringLiteral("/nowhere"), "--allow", "127.0.0.1:9"});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 1);
    QVERIFY(p.readAllStandardError().contains("web wants a folder holding index.html"));
  }
};

QTEST_GUILESS_MAIN(TestWeb)
#include "tst_web.moc"
