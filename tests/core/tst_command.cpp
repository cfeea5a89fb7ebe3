// Exact wire lines, and the injection guard on every argument.
#include <QTest>

#include "smtpc/command.h"

namespace cmd = smtpc::command;
using smtpc::ErrorCode;

class TestCommand : public QObject {
  Q_OBJECT
 private slots:
  void exactWireLines() {
    QCOMPARE(*cmd::ehlo("client.example"), std::string("EHLO client.example\r\n"));
    QCOMPARE(*cmd::helo("[192.0.2.1]"), std::string("HELO [192.0.2.1]\r\n"));
    QCOMPARE(*cmd::mailFrom("a@example.org"), std::string("MAIL FROM:<a@example.org>\r\n"));
    QCOMPARE(*cmd::mailFrom(""), std::string("MAIL FROM:<>\r\n"));
    cmd::MailParameters p;
    p.size = 1234;
    p.body8BitMime = true;
    p.smtpUtf8 = true;
    QCOMPARE(*cmd::mailFrom("a@example.org", p), std::string("MAIL FROM:<a@example.org> SIZE=1234 BODY=8BITMIME SMTPUTF8\r\n"));
    QCOMPARE(*cmd::rcptTo("b@example.net"), std::string("RCPT TO:<b@example.net>\r\n"));
    QCOMPARE(cmd::data(), std::string("DATA\r\n"));
    QCOMPARE(cmd::rset(), std::string("RSET\r\n"));
    QCOMPARE(cmd::noop(), std::string("NOOP\r\n"));
    QCOMPARE(cmd::quit(), std::string("QUIT\r\n"));
    QCOMPARE(cmd::startTls(), std::string("STARTTLS\r\n"));
    QCOMPARE(*cmd::auth("PLAIN", std::string_view("AHVzZXIAcGFzcw==")), std::string("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"));
    QCOMPARE(*cmd::auth("LOGIN"), std::string("AUTH LOGIN\r\n"));
    QCOMPARE(*cmd::auth("EXTERNAL", std::string_view("")), std::string("AUTH EXTERNAL =\r\n"));  // RFC 4954 §4
    QCOMPARE(*cmd::authResponse("*"), std::string("*\r\n"));
  }

  void injectionRefused_data() {
    QTest::addColumn<QByteArray>("argument");
    QTest::newRow("CRLF") << QByteArray("x\r\nRCPT TO:<evil@example.net>");
    QTest::newRow("LF") << QByteArray("x\nDATA");
    QTest::newRow("CR") << QByteArray("x\rQUIT");
    QTest::newRow("NUL") << QByteArray("x\0y", 3);
  }
  void injectionRefused() {
    QFETCH(QByteArray, argument);
    const std::string a = argument.toStdString();
    const std::string address = "user" + a + "@example.org";
    QCOMPARE(cmd::ehlo(a).error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::helo(a).error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::mailFrom(address).error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::rcptTo(address).error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::auth("PLAIN", std::string_view(a)).error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::authResponse(a).error().code(), ErrorCode::InvalidArgument);
  }

  void lineLimits() {
    QCOMPARE(cmd::ehlo(std::string(600, 'a')).error().code(), ErrorCode::LineTooLong);
    // AUTH may be longer (RFC 4954 §4: 12288 octets), e.g. an OAuth token.
    QVERIFY(cmd::auth("XOAUTH2", std::string_view(std::string(4000, 'A'))).ok());
    QCOMPARE(cmd::auth("XOAUTH2", std::string_view(std::string(13000, 'A'))).error().code(), ErrorCode::LineTooLong);
  }

  void bracketsAreOurs() {
    QCOMPARE(cmd::rcptTo("<b@example.net>").error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(cmd::rcptTo("").error().code(), ErrorCode::NullArgument);
  }

  void addresses_data() {
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("code");  // ErrorCode::None when valid
    QTest::addColumn<bool>("utf8");
    const int ok = int(ErrorCode::None), bad = int(ErrorCode::InvalidArgument), tooLong = int(ErrorCode::StringTooLong);
    QTest::newRow("simple") << "user@example.org" << ok << false;
    QTest::newRow("plus and dots") << "first.last+tag@mail.example.org" << ok << false;
    QTest::newRow("atext specials") << "!#$%&'*+-/=?^_`{|}~@example.org" << ok << false;
    QTest::newRow("quoted local part") << "\"john doe\"@example.org" << ok << false;
    QTest::newRow("quoted with escape") << "\"a\\\"b\"@example.org" << ok << false;
    QTest::newRow("address literal") << "postmaster@[192.0.2.1]" << ok << false;
    QTest::newRow("ipv6 literal") << "postmaster@[IPv6:2001:db8::1]" << ok << false;
    QTest::newRow("single label") << "root@localhost" << ok << false;
    QTest::newRow("utf8 local") << QString::fromUtf8("jörg@example.org") << ok << true;
    QTest::newRow("utf8 domain") << QString::fromUtf8("user@bücher.example") << ok << true;
    QTest::newRow("no at") << "user.example.org" << bad << false;
    QTest::newRow("empty local") << "@example.org" << bad << false;
    QTest::newRow("empty domain") << "user@" << bad << false;
    QTest::newRow("leading dot") << ".user@example.org" << bad << false;
    QTest::newRow("double dot") << "a..b@example.org" << bad << false;
    QTest::newRow("trailing dot") << "user.@example.org" << bad << false;
    QTest::newRow("space") << "john doe@example.org" << bad << false;
    QTest::newRow("comma") << "a,b@example.org" << bad << false;
    QTest::newRow("domain dash start") << "user@-example.org" << bad << false;
    QTest::newRow("domain empty label") << "user@example..org" << bad << false;
    QTest::newRow("domain underscore") << "user@exa_mple.org" << bad << false;
    QTest::newRow("unclosed literal") << "user@[192.0.2.1" << bad << false;
    QTest::newRow("unclosed quote") << "\"abc@example.org" << bad << false;
    QTest::newRow("local 65") << QString(65, 'a') + "@example.org" << tooLong << false;
    QTest::newRow("local 64") << QString(64, 'a') + "@example.org" << ok << false;
    QTest::newRow("label 64") << "a@" + QString(64, 'b') + ".org" << tooLong << false;
    // Every part within its own limit, the whole path over 256 octets (RFC 5321 §4.5.3.1.3).
    QTest::newRow("path over 256") << QString(64, 'a') + "@" + QString(50, 'b') + "." + QString(50, 'c') + "." +
                                          QString(50, 'd') + "." + QString(50, 'e') << tooLong << false;
  }
  void addresses() {
    QFETCH(QString, address);
    QFETCH(int, code);
    QFETCH(bool, utf8);
    auto result = smtpc::checkAddress(address.toStdString());
    if (code == int(ErrorCode::None)) {
      QVERIFY2(result.ok(), result.ok() ? "" : result.error().toString().c_str());
      QCOMPARE(result->needsSmtpUtf8, utf8);
    } else {
      QVERIFY(!result.ok());
      QCOMPARE(int(result.error().code()), code);
      QVERIFY(!result.error().explanation().empty());
    }
  }
};

QTEST_APPLESS_MAIN(TestCommand)
#include "tst_command.moc"
