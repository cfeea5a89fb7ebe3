// SASL mechanisms against their RFCs' own examples, and the choice rules.
#include <QTest>
#include <sstream>

#include "smtpc/base64.h"
#include "smtpc/sasl.h"

using namespace smtpc;

namespace {
Capabilities capsWithAuth(const std::string& mechanisms) {
  Reply reply;
  reply.code = 250;
  reply.lines = {"mx", "AUTH " + mechanisms};
  return Capabilities::fromEhloReply(reply);
}
Credentials password(std::string user, std::string pass) {
  Credentials c;
  c.username = std::move(user);
  c.password = Secret(std::move(pass));
  return c;
}
}  // namespace

class TestSasl : public QObject {
  Q_OBJECT
 private slots:
  void plainRfc4616() {
    // RFC 4616 §4: "\0tim\0tanstaaftanstaaf"
    QCOMPARE(sasl::plain("", "tim", "tanstaaftanstaaf"), std::string("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));
    QCOMPARE(*base64::decode(sasl::plain("Ursel", "Kurt", "xipj3plmq")), std::string("Ursel\0Kurt\0xipj3plmq", 20));
  }
  void cramMd5Rfc2195() {
    auto response = sasl::cramMd5("tim", "tanstaaftanstaaf", "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
    QVERIFY(response);
    QCOMPARE(*base64::decode(*response), std::string("tim b913a602c7eda7a495b4e6e7334d3890"));
    QCOMPARE(sasl::cramMd5("tim", "x", "!!!").error().code(), ErrorCode::ProtocolViolation);
  }
  void xoauth2GoogleExample() {
    QCOMPARE(*base64::decode(sasl::xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")),
             std::string("user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"));
  }
  void oauthBearerRfc7628() {
    // RFC 7628 §4.1, with its host and port.
    QCOMPARE(*base64::decode(sasl::oauthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                               "server.example.com", 143)),
             std::string("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                         "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"));
    // RFC 5801 §4: "," and "=" in the authzid are escaped.
    QVERIFY(base64::decode(sasl::oauthBearer("a,b=c", "t", "", 0))->rfind("n,a=a=2Cb=3Dc,", 0) == 0);
  }

  void loginExchange() {
    Credentials creds = password("demo", "Pa55-word");
    sasl::Exchange exchange(AuthMechanism::Login, creds, "mx", 587);
    QVERIFY(!exchange.initialResponse());
    QCOMPARE(*exchange.respond("VXNlcm5hbWU6"), base64::encode("demo"));
    QCOMPARE(*exchange.respond("UGFzc3dvcmQ6"), base64::encode("Pa55-word"));
    QCOMPARE(exchange.respond("again?").error().code(), ErrorCode::ProtocolViolation);
  }

  void choose_data() {
    QTest::addColumn<QString>("offered");
    QTest::addColumn<QString>("wanted");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<bool>("allowPlain");
    QTest::addColumn<bool>("token");
    QTest::addColumn<QString>("expected");  // a mechanism, or an error code name
    QTest::newRow("tls prefers plain") << "LOGIN PLAIN CRAM-MD5" << "AUTO" << true << false << false << "PLAIN";
    QTest::newRow("tls login only") << "LOGIN" << "AUTO" << true << false << false << "LOGIN";
    QTest::newRow("clear refuses cram") << "PLAIN CRAM-MD5" << "AUTO" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("clear allowed prefers cram") << "PLAIN CRAM-MD5" << "AUTO" << false << true << false << "CRAM-MD5";
    QTest::newRow("clear refuses plain") << "PLAIN LOGIN" << "AUTO" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("clear allowed") << "PLAIN LOGIN" << "AUTO" << false << true << false << "PLAIN";
    QTest::newRow("token prefers oauthbearer") << "XOAUTH2 OAUTHBEARER PLAIN" << "AUTO" << true << false << true << "OAUTHBEARER";
    QTest::newRow("token xoauth2") << "XOAUTH2 PLAIN" << "AUTO" << true << false << true << "XOAUTH2";
    QTest::newRow("token but none") << "PLAIN LOGIN" << "AUTO" << true << false << true << "NoCommonMechanism";
    QTest::newRow("token in clear refused") << "XOAUTH2" << "AUTO" << false << false << true << "PlaintextAuthRefused";
    QTest::newRow("nothing usable") << "GSSAPI NTLM" << "AUTO" << true << false << false << "NoCommonMechanism";
    QTest::newRow("no auth at all") << "" << "AUTO" << true << false << false << "AuthNotOffered";
    QTest::newRow("named offered") << "PLAIN LOGIN" << "LOGIN" << true << false << false << "LOGIN";
    QTest::newRow("named not offered") << "PLAIN" << "LOGIN" << true << false << false << "NoCommonMechanism";
    QTest::newRow("named in clear") << "PLAIN" << "PLAIN" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("named cram in clear") << "CRAM-MD5" << "CRAM-MD5" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("named cram in clear allowed") << "CRAM-MD5" << "CRAM-MD5" << false << true << false << "CRAM-MD5";
    QTest::newRow("named token without token") << "XOAUTH2" << "XOAUTH2" << true << false << false << "NullArgument";
  }
  void choose() {
    QFETCH(QString, offered);
    QFETCH(QString, wanted);
    QFETCH(bool, tls);
    QFETCH(bool, allowPlain);
    QFETCH(bool, token);
    QFETCH(QString, expected);
    Reply reply;
    reply.code = 250;
    reply.lines = {"mx"};
    if (!offered.isEmpty()) reply.lines.push_back("AUTH " + offered.toStdString());
    const Capabilities caps = Capabilities::fromEhloReply(reply);
    Credentials creds = password("demo", "pw");
    if (token) creds.oauthToken = Secret("tok");
    auto chosen = sasl::choose(*mechanismFromName(wanted.toStdString()), caps, creds, tls, allowPlain);
    const QString got = chosen ? QString::fromStdString(std::string(mechanismName(*chosen)))
                               : QString::fromStdString(std::string(errorCodeName(chosen.error().code())));
    QCOMPARE(got, expected);
    if (!chosen) QVERIFY(!chosen.error().explanation().empty());
  }

  void secretsPrintRedacted() {
    Secret secret("hunter2");
    std::ostringstream out;
    out << secret;
    QCOMPARE(out.str(), std::string("********"));
    QCOMPARE(secret.reveal(), std::string_view("hunter2"));
    Secret moved(std::move(secret));
    QVERIFY(secret.empty());  // NOLINT: checking the moved-from state on purpose
    QCOMPARE(moved.reveal(), std::string_view("hunter2"));
  }
};

QTEST_APPLESS_MAIN(TestSasl)
#include "tst_sasl.moc"
