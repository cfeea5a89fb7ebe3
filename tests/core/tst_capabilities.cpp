#include <QTest>

#include "smtpc/capabilities.h"

using smtpc::Capabilities;
using smtpc::Reply;

namespace {
Capabilities parse(std::vector<std::string> lines) {
  Reply reply;
  reply.code = 250;
  reply.lines = std::move(lines);
  return Capabilities::fromEhloReply(reply);
}
}  // namespace

class TestCapabilities : public QObject {
  Q_OBJECT
 private slots:
  void postfixStyle() {
    auto caps = parse({"mx.example.net", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS",
                       "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
                       "SMTPUTF8", "CHUNKING"});
    QCOMPARE(caps.serverName(), std::string("mx.example.net"));
    QVERIFY(caps.supportsPipelining());
    QVERIFY(caps.supportsStartTls());
    QVERIFY(caps.supports8BitMime());
    QVERIFY(caps.supportsSmtpUtf8());
    QVERIFY(caps.supportsEnhancedStatusCodes());
    QVERIFY(caps.supportsDsn());
    QVERIFY(caps.supportsChunking());
    QCOMPARE(caps.maxSize(), std::uint64_t(10240000));
    QCOMPARE(caps.authMechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
    QVERIFY(caps.has("VRFY"));  // unknown to SMTPc, still kept for the GUI
    QVERIFY(caps.has("etrn"));
  }

  void caseInsensitive() {
    auto caps = parse({"mx", "starttls", "Auth plain Cram-MD5", "size 42"});
    QVERIFY(caps.supportsStartTls());
    QVERIFY(caps.supportsAuthMechanism("cram-md5"));
    QCOMPARE(caps.authMechanisms(), (std::vector<std::string>{"PLAIN", "CRAM-MD5"}));
    QCOMPARE(caps.maxSize(), std::uint64_t(42));
    QCOMPARE(caps.find("SIZE")->params, std::vector<std::string>{"42"});
  }

  void oldAuthEqualsForm() {
    auto caps = parse({"mx", "AUTH=LOGIN"});
    QVERIFY(caps.supportsAuth());
    QCOMPARE(caps.authMechanisms(), std::vector<std::string>{"LOGIN"});
  }

  void sizeVariants_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<bool>("supported");
    QTest::addColumn<qulonglong>("limit");
    QTest::newRow("no parameter") << "SIZE" << true << 0ull;
    QTest::newRow("zero: no fixed limit") << "SIZE 0" << true << 0ull;
    QTest::newRow("garbage") << "SIZE lots" << true << 0ull;
    QTest::newRow("huge") << "SIZE 35882577000" << true << 35882577000ull;
  }
  void sizeVariants() {
    QFETCH(QString, line);
    QFETCH(bool, supported);
    QFETCH(qulonglong, limit);
    auto caps = parse({"mx", line.toStdString()});
    QCOMPARE(caps.supportsSize(), supported);
    QCOMPARE(caps.maxSize(), std::uint64_t(limit));
  }

  void onlyTheGreetingLine() {
    auto caps = parse({"mx.example.net says hi"});
    QVERIFY(caps.empty());
    QVERIFY(!caps.supportsAuth());
    QCOMPARE(caps.serverName(), std::string("mx.example.net"));
  }

  void duplicatesKeepFirst() {
    auto caps = parse({"mx", "SIZE 10", "SIZE 20", "AUTH PLAIN", "AUTH PLAIN LOGIN"});
    QCOMPARE(caps.entries().size(), std::size_t(2));
    QCOMPARE(caps.authMechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
  }

  void describeKnownAndUnknown() {
    QVERIFY(std::string(Capabilities::describe("starttls")).find("TLS") != std::string::npos);
    QVERIFY(std::string(Capabilities::describe("X-FOO")).find("does not use") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestCapabilities)
#include "tst_capabilities.moc"
