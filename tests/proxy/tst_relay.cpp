// The relay protocol (core's smtpc/relay.h) as data, and its two users agreeing on it: every
// close code has a name, a meaning, a reason and the words a person is shown; the numbers on
// the wire stay what deployed pages and relays expect; the target the page builds is the one
// smtpc-proxy admits; the proxy's --help and the page's words come from the same rows.
// (tst_proxy asserts each code end to end, through a running proxy.)
#include <QProcess>
#include <QSet>
#include <QTest>

#include "admission.h"
#include "config.h"
#include "smtpc/relay.h"

namespace {

const QString kOrigin = QStringLiteral("http://page.smtpc.test");

QString qs(std::string_view text) { return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())); }

smtpc::proxy::Admission admitTarget(const smtpc::proxy::Config& config, const std::string& target) {
  smtpc::proxy::HandshakeRequest request;
  const QByteArray head = "GET " + QByteArray::fromStdString(target) + " HTTP/1.1\r\nOrigin: " + kOrigin.toUtf8() +
                          "\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n";
  if (smtpc::proxy::parseHandshake(head, 4096, &request) != smtpc::proxy::HeadStatus::Complete) return {};
  return smtpc::proxy::admit(config, QHostAddress(QStringLiteral("192.0.2.1")), request, {});
}

}  // namespace

class TestRelayProtocol : public QObject {
  Q_OBJECT

 private slots:
  void everyCodeHasItsColumns() {
    QSet<int> codes;
    QSet<QString> names;
    for (const auto& c : smtpc::relay::kCloseCodes) {
      const QString name = qs(c.name);
      QVERIFY2(!name.isEmpty(), qPrintable(QString::number(c.code)));
      QVERIFY2(!c.reason.empty(), qPrintable(name));
      QVERIFY2(!c.meaning.empty(), qPrintable(name));
      QVERIFY2(!c.words.empty(), qPrintable(name));
      // RFC 6455 §7.4: registered codes, or the range left to applications.
      QVERIFY2((c.code >= 1000 && c.code <= 1015) || (c.code >= 4000 && c.code <= 4999), qPrintable(name));
      QVERIFY2(!codes.contains(c.code), qPrintable(name));
      QVERIFY2(!names.contains(name), qPrintable(name));
      codes.insert(c.code);
      names.insert(name);
      QCOMPARE(smtpc::relay::closeCodeInfo(c.code), &c);
      // The words end as a sentence and name no placeholder the page cannot fill.
      const std::string words = smtpc::relay::fillWords(c.words, {"mail.example", 587, "ws://relay", true}, c.code, "why");
      QVERIFY2(words.find('{') == std::string::npos && words.back() == '.', words.c_str());
    }
    QVERIFY(!smtpc::relay::closeCodeInfo(1006));  // the browser's own "abnormal closure"
  }

  // The numbers are a contract with relays and pages already deployed: written out here, apart
  // from the header, so that renumbering a row fails a test.
  void wireNumbers_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("code");
    QTest::newRow("1000") << "ServerClosed" << 1000;
    QTest::newRow("1001") << "ShuttingDown" << 1001;
    QTest::newRow("1003") << "TextFrame" << 1003;
    QTest::newRow("1008") << "NotAllowed" << 1008;
    QTest::newRow("1009") << "TooBig" << 1009;
    QTest::newRow("1011") << "ConnectFailed" << 1011;
    QTest::newRow("1013") << "OverCapacity" << 1013;
    QTest::newRow("4001") << "DnsFailed" << 4001;
    QTest::newRow("4002") << "Refused" << 4002;
    QTest::newRow("4003") << "ConnectTimeout" << 4003;
    QTest::newRow("4004") << "IdleTimeout" << 4004;
  }
  void wireNumbers() {
    QFETCH(QString, name);
    QFETCH(int, code);
    const smtpc::relay::CloseCodeInfo* info = smtpc::relay::closeCodeInfo(code);
    QVERIFY(info);
    QCOMPARE(qs(info->name), name);
    QCOMPARE(static_cast<int>(std::size(smtpc::relay::kCloseCodes)), 11);
  }

  // What the page shows for each code: the row's words, the server named, the proxy's reason
  // quoted; a server's hang-up is no error of the page's (the engine judges it).
  void pageWords_data() {
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<bool>("opened");
    QTest::addColumn<int>("error");
    QTest::addColumn<QString>("explanation");
    using smtpc::ErrorCode;
    QTest::newRow("server closed") << 1000 << "server closed the connection" << true << int(ErrorCode::None) << "";
    QTest::newRow("not allowed") << 1008 << "destination not allowed" << true << int(ErrorCode::ConnectFailed)
                                 << "The proxy refused to connect to mail.example port 587 (the proxy said: destination "
                                    "not allowed): only servers on its allowlist (and pages from allowed origins) may use "
                                    "it. Ask its operator, or run your own smtpc-proxy.";
    QTest::newRow("dns") << 4001 << "" << true << int(ErrorCode::HostNotFound)
                         << "The proxy could not resolve \"mail.example\": check the spelling of the server name.";
    QTest::newRow("refused") << 4002 << "connection refused" << true << int(ErrorCode::ConnectionRefused)
                             << "Nothing accepts connections on mail.example port 587 (the proxy said: connection "
                                "refused): check the port number and that the server runs.";
    QTest::newRow("idle") << 4004 << "idle timeout" << true << int(ErrorCode::Timeout)
                          << "The proxy closed the connection after it was idle too long (the proxy said: idle timeout).";
    QTest::newRow("relay not there") << 1006 << "" << false << int(ErrorCode::ConnectFailed)
                                     << "The proxy at ws://relay.example:8025 could not be reached: check its address and "
                                        "that smtpc-proxy runs.";
    QTest::newRow("lost") << 1006 << "" << true << int(ErrorCode::ConnectionLost)
                          << "The connection to the proxy was lost (WebSocket code 1006).";
  }
  void pageWords() {
    QFETCH(int, code);
    QFETCH(QString, reason);
    QFETCH(bool, opened);
    QFETCH(int, error);
    QFETCH(QString, explanation);
    const std::string said = reason.toStdString();
    const smtpc::Error e = smtpc::relay::closeError(code, said, {"mail.example", 587, "ws://relay.example:8025", opened});
    QCOMPARE(int(e.code()), error);
    if (e) QCOMPARE(qs(e.explanation()), explanation);
  }

  void everyCodeIsAnErrorOfThePagesOwnKind() {
    for (const auto& c : smtpc::relay::kCloseCodes) {
      const smtpc::Error e = smtpc::relay::closeError(c.code, c.reason, {"mail.example", 25, "ws://relay", true});
      QCOMPARE(int(e.code()), int(c.pageError));
      if (e) QVERIFY2(qs(e.explanation()).contains(qs(c.reason)), qPrintable(qs(c.name)));
    }
  }

  // The target the page asks for is the one the proxy reads: host (an IPv6 literal too), port
  // and a token with characters that must be encoded.
  void pagesTargetIsWhatTheProxyAdmits() {
    smtpc::proxy::Config config;
    QString why;
    QVERIFY(config.set(QStringLiteral("allow-origin"), kOrigin, &why));
    QVERIFY(config.set(QStringLiteral("allow"), QStringLiteral("mail.example:587"), &why));
    QVERIFY(config.set(QStringLiteral("allow"), QStringLiteral("[2001:db8::25]:25"), &why));
    config.token = "a b&c=d/é%";
    smtpc::proxy::Admission a = admitTarget(config, smtpc::relay::requestTarget("mail.example", 587, "a b&c=d/é%"));
    QVERIFY2(a.admitted(), qPrintable(a.reason));
    QCOMPARE(a.host, QStringLiteral("mail.example"));
    QCOMPARE(a.port, quint16(587));
    a = admitTarget(config, smtpc::relay::requestTarget("2001:db8::25", 25, "a b&c=d/é%"));
    QVERIFY2(a.admitted(), qPrintable(a.reason));
    QCOMPARE(a.port, quint16(25));
    // The proxy's refusals are the header's codes with the header's reasons.
    a = admitTarget(config, smtpc::relay::requestTarget("mail.example", 587, "wrong"));
    QCOMPARE(a.code, int{smtpc::relay::NotAllowed});
    a = admitTarget(config, "/other?host=mail.example&port=587");
    QCOMPARE(a.code, int{smtpc::relay::NotAllowed});
    QCOMPARE(a.reason, QStringLiteral("expected /smtp?host=SERVER&port=N"));
    smtpc::proxy::HandshakeRequest request;
    smtpc::proxy::Load load;
    load.shuttingDown = true;
    a = smtpc::proxy::admit(config, QHostAddress(QStringLiteral("192.0.2.1")), request, load);
    QCOMPARE(a.code, int{smtpc::relay::ShuttingDown});
    QCOMPARE(a.reason, qs(smtpc::relay::closeCodeInfo(smtpc::relay::ShuttingDown)->reason));
  }

  // smtpc-proxy --help lists every code with its meaning, from the same rows.
  void proxyHelpListsEveryCode() {
    QProcess proxy;
    proxy.start(QStringLiteral(SMTPC_PROXY), {QStringLiteral("--help")});
    QVERIFY(proxy.waitForFinished(10000));
    const QString help = QString::fromUtf8(proxy.readAllStandardOutput());
    QVERIFY2(help.contains(QStringLiteral("/smtp?host=SERVER&port=N")), qPrintable(help));
    for (const auto& c : smtpc::relay::kCloseCodes)
      QVERIFY2(help.contains(QStringLiteral("%1  %2").arg(int{c.code}).arg(qs(c.meaning))), qPrintable(qs(c.name)));
  }
};

QTEST_GUILESS_MAIN(TestRelayProtocol)
#include "tst_relay.moc"
