// The lookup endpoint's decisions as functions (proxy/src/lookup_rules.h, http_response.h): which
// names a page may have looked up, the only URLs the relay builds from them, the order of the
// admission checks, the per-client budget, the answer's headers, and the reading of an HTTP
// response under its limits (every response also fed one byte at a time).
// tst_lookup runs the same endpoint end to end.
#include <QJsonDocument>
#include <QTest>

#include "http_response.h"
#include "lookup_rules.h"
#include "smtpc/relay.h"

using smtpc::proxy::HttpResponseReader;
using smtpc::proxy::LookupQuery;

namespace {

const QString kOrigin = QStringLiteral("http://page.smtpc.test");

smtpc::proxy::Config config() {
  smtpc::proxy::Config c;
  c.allowOrigins = {kOrigin};
  c.lookup = true;
  c.maxLookupsPerMinute = 3;
  return c;
}

smtpc::proxy::HandshakeRequest request(const QByteArray& target, const QByteArray& origin = kOrigin.toUtf8(),
                                       const QByteArray& method = "GET") {
  smtpc::proxy::HandshakeRequest r;
  r.method = method;
  r.target = target;
  r.version = "HTTP/1.1";
  if (!origin.isEmpty()) r.origins = {origin};
  return r;
}

QString statusName(HttpResponseReader::State state) {
  switch (state) {
    case HttpResponseReader::State::NeedMore: return QStringLiteral("need-more");
    case HttpResponseReader::State::Done: return QStringLiteral("done");
    case HttpResponseReader::State::TooLarge: return QStringLiteral("too-large");
    case HttpResponseReader::State::Malformed: return QStringLiteral("malformed");
  }
  return QString();
}

}  // namespace

class TestLookupRules : public QObject {
  Q_OBJECT

 private slots:
  void domains_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("domain");  // empty: refused
    QTest::newRow("plain") << "own.test" << "own.test";
    QTest::newRow("lower-cased") << "Own.TEST" << "own.test";
    QTest::newRow("idn in its xn-- form") << "xn--bcher-kva.example" << "xn--bcher-kva.example";
    QTest::newRow("digits and hyphens") << "mail-1.2go.example" << "mail-1.2go.example";
    QTest::newRow("63-character label") << QString(63, QLatin1Char('a')) + ".test" << QString(63, QLatin1Char('a')) + ".test";
    QTest::newRow("64-character label") << QString(64, QLatin1Char('a')) + ".test" << "";
    QTest::newRow("254 characters") << QString(125, QLatin1Char('a')) + "." + QString(123, QLatin1Char('b')) + ".test" << "";
    QTest::newRow("one label") << "localhost" << "";
    QTest::newRow("IPv4 literal") << "127.0.0.1" << "";
    QTest::newRow("IPv4 in another spelling") << "0x7f.1" << "";
    QTest::newRow("numeric top label") << "example.123" << "";
    QTest::newRow("IPv6 literal") << "[::1]" << "";
    QTest::newRow("IPv6 bare") << "::1" << "";
    QTest::newRow("empty label") << "own..test" << "";
    QTest::newRow("trailing dot") << "own.test." << "";
    QTest::newRow("leading hyphen") << "-own.test" << "";
    QTest::newRow("trailing hyphen") << "own-.test" << "";
    QTest::newRow("underscore") << "_own.test" << "";
    QTest::newRow("space") << "own .test" << "";
    QTest::newRow("slash") << "own.test/x" << "";
    QTest::newRow("at") << "evil.test@own.test" << "";
    QTest::newRow("port") << "own.test:8080" << "";
    QTest::newRow("non-ASCII") << QString::fromUtf8("bücher.example") << "";
    QTest::newRow("empty") << "" << "";
  }
  void domains() {
    QFETCH(QString, text);
    QFETCH(QString, domain);
    QString why;
    QCOMPARE(smtpc::proxy::checkedDomain(text, &why), domain);
    QCOMPARE(why.isEmpty(), !domain.isEmpty());
  }

  // Each request target, and the only URL the relay would fetch for it (or what it queries).
  void queries_data() {
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QString>("result");  // the URL, the name queried, or "refused"
    const QString refused = QStringLiteral("refused");
    QTest::newRow("srv submissions") << QByteArray("/lookup?type=srv&name=_submissions._tcp.own.test") << "_submissions._tcp.own.test";
    QTest::newRow("srv submission") << QByteArray("/lookup?type=srv&name=_submission._tcp.Own.Test") << "_submission._tcp.own.test";
    QTest::newRow("srv of another service") << QByteArray("/lookup?type=srv&name=_imaps._tcp.own.test") << refused;
    QTest::newRow("srv of a bare domain") << QByteArray("/lookup?type=srv&name=example.org") << refused;
    QTest::newRow("srv of an IP literal") << QByteArray("/lookup?type=srv&name=_submission._tcp.127.0.0.1") << refused;
    QTest::newRow("srv with a bad label") << QByteArray("/lookup?type=srv&name=_submission._tcp.bad_label.test") << refused;
    QTest::newRow("mx") << QByteArray("/lookup?type=mx&name=hosted.test") << "hosted.test";
    QTest::newRow("mx of an IP literal") << QByteArray("/lookup?type=mx&name=127.0.0.1") << refused;
    QTest::newRow("mx of an SRV name") << QByteArray("/lookup?type=mx&name=_submission._tcp.own.test") << refused;
    QTest::newRow("a name twice") << QByteArray("/lookup?type=mx&name=own.test&name=evil.test") << refused;
    QTest::newRow("a parameter of another type") << QByteArray("/lookup?type=mx&name=own.test&domain=own.test") << refused;
    QTest::newRow("an unknown parameter") << QByteArray("/lookup?type=mx&name=own.test&url=http://evil.test/") << refused;
    QTest::newRow("autoconfig")
        << QByteArray("/lookup?type=autoconfig&domain=own.test&address=alice@own.test")
        << "https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test";
    QTest::newRow("autoconfig over plain HTTP")
        << QByteArray("/lookup?type=autoconfig&domain=plainhttp.test&address=a@plainhttp.test&scheme=http")
        << "http://autoconfig.plainhttp.test/mail/config-v1.1.xml?emailaddress=a%40plainhttp.test";
    QTest::newRow("autoconfig for an address elsewhere (MX)")
        << QByteArray("/lookup?type=autoconfig&domain=mailhost.test&address=bob@hosted.test")
        << "https://autoconfig.mailhost.test/mail/config-v1.1.xml?emailaddress=bob%40hosted.test";
    QTest::newRow("autoconfig: the address cannot add parameters")
        << QByteArray("/lookup?type=autoconfig&domain=own.test&address=a%26x%3D1%23f@own.test")
        << "https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=a%26x%3D1%23f%40own.test";
    QTest::newRow("autoconfig without an address") << QByteArray("/lookup?type=autoconfig&domain=own.test") << refused;
    QTest::newRow("autoconfig, address without @") << QByteArray("/lookup?type=autoconfig&domain=own.test&address=alice") << refused;
    QTest::newRow("autoconfig, two @") << QByteArray("/lookup?type=autoconfig&domain=own.test&address=a@b@own.test") << refused;
    QTest::newRow("autoconfig, CRLF in the address")
        << QByteArray("/lookup?type=autoconfig&domain=own.test&address=a%0d%0aX:%20y@own.test") << refused;
    QTest::newRow("autoconfig, a long address")
        << QByteArray("/lookup?type=autoconfig&domain=own.test&address=") + QByteArray(250, 'a') + "@own.test" << refused;
    QTest::newRow("autoconfig, scheme=https") << QByteArray("/lookup?type=autoconfig&domain=own.test&address=a@own.test&scheme=https") << refused;
    QTest::newRow("autoconfig, scheme=file") << QByteArray("/lookup?type=autoconfig&domain=own.test&address=a@own.test&scheme=file") << refused;
    QTest::newRow("autoconfig of a path") << QByteArray("/lookup?type=autoconfig&domain=own.test%2F..%2Fx&address=a@own.test") << refused;
    QTest::newRow("autoconfig of an IP literal") << QByteArray("/lookup?type=autoconfig&domain=10.0.0.1&address=a@own.test") << refused;
    QTest::newRow("well-known") << QByteArray("/lookup?type=well-known&domain=wellknown.test")
                                << "https://wellknown.test/.well-known/autoconfig/mail/config-v1.1.xml";
    QTest::newRow("well-known over plain HTTP") << QByteArray("/lookup?type=well-known&domain=wellknown.test&scheme=http")
                                                << "http://wellknown.test/.well-known/autoconfig/mail/config-v1.1.xml";
    QTest::newRow("well-known with a port") << QByteArray("/lookup?type=well-known&domain=wellknown.test:8443") << refused;
    QTest::newRow("ispdb") << QByteArray("/lookup?type=ispdb&domain=mailhost.test") << "https://ispdb.test/v1.1/mailhost.test";
    QTest::newRow("ispdb takes no scheme") << QByteArray("/lookup?type=ispdb&domain=mailhost.test&scheme=http") << refused;
    QTest::newRow("no type") << QByteArray("/lookup?name=own.test") << refused;
    QTest::newRow("an unknown type") << QByteArray("/lookup?type=url&name=own.test") << refused;
    QTest::newRow("another path") << QByteArray("/lookup/x?type=mx&name=own.test") << refused;
    QTest::newRow("the token is allowed") << QByteArray("/lookup?type=mx&name=own.test&token=x") << "own.test";
  }
  void queries() {
    QFETCH(QByteArray, target);
    QFETCH(QString, result);
    smtpc::proxy::Config c = config();
    QString setWhy;
    QVERIFY2(c.set(QStringLiteral("ispdb"), QStringLiteral("https://ispdb.test/v1.1"), &setWhy), qPrintable(setWhy));  // the / is added
    LookupQuery query;
    QString why;
    const bool ok = smtpc::proxy::parseLookupQuery(c, target, &query, &why);
    if (result == QLatin1String("refused")) {
      QVERIFY2(!ok, qPrintable(query.fetch.url() + query.name));
      QVERIFY(!why.isEmpty());
      return;
    }
    QVERIFY2(ok, qPrintable(why));
    if (query.type == smtpc::proxy::LookupType::Srv || query.type == smtpc::proxy::LookupType::Mx) QCOMPARE(query.name, result);
    else QCOMPARE(query.fetch.url(), result);
    QVERIFY(!query.fetch.urlWithoutQuery().contains(QLatin1Char('?')));
  }

  void budgetIsASlidingMinutePerClient() {
    smtpc::proxy::LookupBudget budget;
    QCOMPARE(budget.take("a", 3, 1000), 0);
    QCOMPARE(budget.take("a", 3, 2000), 0);
    QCOMPARE(budget.take("a", 3, 3000), 0);
    QCOMPARE(budget.take("a", 3, 4000), 57000);  // the first one leaves the window at 61000
    QCOMPARE(budget.take("b", 3, 4000), 0);      // another client has its own
    QCOMPARE(budget.take("a", 3, 60999), 1);
    QCOMPARE(budget.take("a", 3, 61000), 0);
    QVERIFY(budget.take("a", 3, 61001) > 0);
    // Clients gone quiet are forgotten.
    QCOMPARE(budget.take("c", 3, 200000), 0);
    QCOMPARE(budget.clients(), 1);
  }

  void admissionOrder() {
    const smtpc::proxy::Config c = config();
    smtpc::proxy::LookupBudget budget;
    const QHostAddress peer(QStringLiteral("192.0.2.1"));
    auto admit = [&](const smtpc::proxy::HandshakeRequest& r, int atOnce = 0, bool shuttingDown = false) {
      return smtpc::proxy::admitLookup(c, peer, r, budget, 1000, atOnce, shuttingDown);
    };
    const QByteArray good = "/lookup?type=mx&name=own.test";
    auto a = admit(request(good, ""));
    QCOMPARE(a.httpStatus, 403);
    QVERIFY(a.allowedOrigin.isEmpty());
    a = admit(request(good, "http://evil.test"));
    QCOMPARE(a.httpStatus, 403);
    QVERIFY(a.allowedOrigin.isEmpty());  // a refused page is not even told why
    a = admit(request("/lookup?type=mx&name=127.0.0.1"));
    QCOMPARE(a.httpStatus, 400);
    QCOMPARE(a.status, QStringLiteral("bad-request"));
    QCOMPARE(a.allowedOrigin, kOrigin);
    QCOMPARE(admit(request(good, kOrigin.toUtf8(), "POST")).httpStatus, 400);
    QCOMPARE(admit(request(good), smtpc::proxy::kMaxLookupsAtOnce).httpStatus, 503);
    QCOMPARE(admit(request(good), 0, true).httpStatus, 503);
    for (int i = 0; i < 3; ++i) QVERIFY(admit(request(good)).admitted());
    a = admit(request(good));
    QCOMPARE(a.httpStatus, 429);
    QCOMPARE(a.retryAfterSeconds, 60);
    // Refused requests took nothing from the budget: exactly 3 were admitted.
    smtpc::proxy::Config withToken = c;
    withToken.token = "s3cret";
    smtpc::proxy::LookupBudget other;
    auto t = smtpc::proxy::admitLookup(withToken, peer, request(good), other, 0, 0, false);
    QCOMPARE(t.httpStatus, 403);
    QVERIFY(!t.reason.contains(QLatin1String("s3cret")));
    t = smtpc::proxy::admitLookup(withToken, peer, request(good + "&token=wrong"), other, 0, 0, false);
    QCOMPARE(t.httpStatus, 403);
    t = smtpc::proxy::admitLookup(withToken, peer, request(good + "&token=s3cret"), other, 0, 0, false);
    QVERIFY(t.admitted());
  }

  void answerHeaders() {
    const QByteArray allowed = smtpc::proxy::lookupResponse(200, kOrigin, smtpc::proxy::lookupStatus("ok", {}));
    const QByteArray head = allowed.left(allowed.indexOf("\r\n\r\n") + 2);
    QVERIFY(head.startsWith("HTTP/1.1 200 OK\r\n"));
    for (const char* header : {"Content-Type: application/json\r\n", "Cache-Control: no-store\r\n",
                               "X-Content-Type-Options: nosniff\r\n", "Vary: Origin\r\n",
                               "Access-Control-Allow-Origin: http://page.smtpc.test\r\n", "Connection: close\r\n"})
      QVERIFY2(head.contains(header), header);
    QCOMPARE(QJsonDocument::fromJson(allowed.mid(allowed.indexOf("\r\n\r\n") + 4)).object().value("status").toString(), "ok");
    const QByteArray refused = smtpc::proxy::lookupResponse(403, QString(), smtpc::proxy::lookupStatus("refused", "origin not allowed"));
    QVERIFY(!refused.contains("Access-Control-Allow-Origin"));
    QVERIFY(refused.contains("Vary: Origin\r\n"));
    const QByteArray limited = smtpc::proxy::lookupResponse(429, kOrigin, smtpc::proxy::lookupStatus("rate-limited", "x"), 7);
    QVERIFY(limited.contains("Retry-After: 7\r\n"));
  }

  void responses_data() {
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<bool>("closed");  // the connection ends after the bytes
    QTest::addColumn<QString>("state");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    const QByteArray doc = "<?xml version=\"1.0\"?><clientConfig/>";
    const QByteArray len = QByteArray::number(doc.size());
    QTest::newRow("content-length") << "HTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n" + doc + "garbage" << false
                                    << "done" << 200 << doc;
    QTest::newRow("chunked, extensions and trailers")
        << "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n<?xml\r\n" + QByteArray::number(doc.size() - 5, 16) +
               "\r\n" + doc.mid(5) + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
        << false << "done" << 200 << doc;
    QTest::newRow("until the connection ends") << "HTTP/1.0 200 OK\r\n\r\n" + doc << true << "done" << 200 << doc;
    QTest::newRow("interim 100 skipped") << "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n" + doc
                                         << false << "done" << 200 << doc;
    QTest::newRow("exactly the limit") << "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + QByteArray(65536, 'x') << false
                                       << "done" << 200 << QByteArray(65536, 'x');
    QTest::newRow("content-length over the limit") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n") << false
                                                   << "too-large" << 200 << QByteArray();
    QTest::newRow("chunks over the limit") << "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n" + QByteArray(0x8000, 'x') +
                                                  "\r\n8001\r\n"
                                           << false << "too-large" << 200 << QByteArray();
    QTest::newRow("until the end, over the limit") << "HTTP/1.1 200 OK\r\n\r\n" + QByteArray(65537, 'x') << false << "too-large" << 200
                                                   << QByteArray();
    QTest::newRow("a redirect is not followed") << QByteArray("HTTP/1.1 301 Moved\r\nLocation: https://evil.test/\r\nContent-Length: 3\r\n\r\nabc")
                                                << false << "done" << 301 << QByteArray();
    QTest::newRow("404 without a body read") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 100000\r\n\r\n") << false
                                             << "done" << 404 << QByteArray();
    QTest::newRow("not HTTP") << QByteArray("SSH-2.0-OpenSSH\r\n\r\n") << false << "malformed" << 0 << QByteArray();
    QTest::newRow("Content-Lengths that disagree") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
                                                   << false << "malformed" << 0 << QByteArray();
    QTest::newRow("a coding other than chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc") << false
                                                 << "malformed" << 0 << QByteArray();
    QTest::newRow("a bad chunk size") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") << false
                                      << "malformed" << 0 << QByteArray();
    QTest::newRow("cut short") << "HTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n<?x" << true << "malformed" << 0 << QByteArray();
    QTest::newRow("headers without end") << "HTTP/1.1 200 OK\r\nX: " + QByteArray(20000, 'x') << false << "too-large" << 0 << QByteArray();
  }
  void responses() {
    QFETCH(QByteArray, wire);
    QFETCH(bool, closed);
    QFETCH(QString, state);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    for (const bool byteByByte : {false, true}) {
      HttpResponseReader reader(16 * 1024, static_cast<qsizetype>(smtpc::relay::kLookupMaxDocumentBytes));
      if (byteByByte) {
        for (qsizetype i = 0; i < wire.size() && reader.state() == HttpResponseReader::State::NeedMore; ++i)
          reader.feed(wire.mid(i, 1));
      } else {
        reader.feed(wire);
      }
      if (closed) reader.finish();
      QCOMPARE(statusName(reader.state()), state);
      if (status) QCOMPARE(reader.status(), status);
      if (state == QLatin1String("done")) QCOMPARE(reader.body(), body);
      if (state != QLatin1String("done")) QVERIFY(!reader.why().isEmpty());
    }
  }

  void redirectTargetKept() {
    HttpResponseReader reader(16 * 1024, 65536);
    reader.feed("HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/config.xml\r\n\r\n");
    QCOMPARE(reader.location(), QByteArray("https://elsewhere.test/config.xml"));
  }
};

QTEST_GUILESS_MAIN(TestLookupRules)
#include "tst_lookup_rules.moc"
