// The front-end model (smtpc/form.h): the rules the GUI, the CLI and the page share.
#include <QtTest>

#include "smtpc/form.h"

using namespace smtpc;
using namespace smtpc::form;

class TestForm : public QObject {
  Q_OBJECT
 private slots:
  void servers_data() {
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("headline");  // empty: accepted
    QTest::newRow("name") << "smtp.example.com" << "";
    QTest::newRow("spaces around") << "  smtp.example.com " << "";
    QTest::newRow("ipv6") << "::1" << "";
    QTest::newRow("empty") << "" << "No server";
    QTest::newRow("blank") << "   " << "No server";
    QTest::newRow("url") << "smtp://smtp.example.com" << "That is not a server name";
    QTest::newRow("address") << "me@example.com" << "That is not a server name";
    QTest::newRow("inner space") << "smtp example.com" << "That is not a server name";
  }
  void servers() {
    QFETCH(QString, server);
    QFETCH(QString, headline);
    const auto problem = checkServer(server.toStdString());
    QCOMPARE(problem ? QString::fromStdString(problem->headline) : QString(), headline);
    if (problem) QCOMPARE(problem->field, std::string("server"));
  }

  void addressLists_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("parts");
    QTest::newRow("one") << "a@example.org" << QStringList{"a@example.org"};
    QTest::newRow("comma, semicolon, newline") << "a@x.org, b@x.org;c@x.org\nd@x.org"
                                               << QStringList{"a@x.org", "b@x.org", "c@x.org", "d@x.org"};
    QTest::newRow("quoted comma") << "\"Doe, Jane\" <jane@x.org>, bob@x.org"
                                  << QStringList{"\"Doe, Jane\" <jane@x.org>", "bob@x.org"};
    QTest::newRow("empty parts") << " , ;\n ,a@x.org,, " << QStringList{"a@x.org"};
    QTest::newRow("nothing") << "" << QStringList{};
  }
  void addressLists() {
    QFETCH(QString, text);
    QFETCH(QStringList, parts);
    QStringList got;
    for (const auto& p : splitAddresses(text.toStdString())) got << QString::fromStdString(p);
    QCOMPARE(got, parts);
  }

  void securityHints_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("contains");  // empty: no hint
    QTest::newRow("starttls 587") << int(SecurityMode::StartTls) << 587 << "";
    QTest::newRow("tls 465") << int(SecurityMode::ImplicitTls) << 465 << "";
    QTest::newRow("tls 587") << int(SecurityMode::ImplicitTls) << 587 << "Port 587 usually starts in clear text";
    QTest::newRow("tls 25") << int(SecurityMode::ImplicitTls) << 25 << "Port 25 usually starts in clear text";
    QTest::newRow("starttls 465") << int(SecurityMode::StartTls) << 465 << "choose Implicit TLS";
    QTest::newRow("none 25") << int(SecurityMode::None) << 25 << "Nothing is encrypted";
    QTest::newRow("if offered 587") << int(SecurityMode::StartTlsIfOffered) << 587 << "removed by an attacker";
    QTest::newRow("none 465: the port wins") << int(SecurityMode::None) << 465 << "choose Implicit TLS";
  }
  void securityHints() {
    QFETCH(int, mode);
    QFETCH(int, port);
    QFETCH(QString, contains);
    const QString hint = QString::fromStdString(securityHint(SecurityMode(mode), static_cast<std::uint16_t>(port)));
    if (contains.isEmpty()) QVERIFY2(hint.isEmpty(), qPrintable(hint));
    else QVERIFY2(hint.contains(contains), qPrintable(hint));
  }

  void runPlans() {
    QCOMPARE(planRun(RunKind::Test, std::nullopt).stopAfter, Phase::Auth);
    QVERIFY(!planRun(RunKind::Test, std::nullopt).needsEnvelope);
    QVERIFY(planRun(RunKind::Test, Phase::Rcpt).needsEnvelope);
    QVERIFY(planRun(RunKind::Test, Phase::Mail).needsEnvelope);
    QVERIFY(!planRun(RunKind::Test, Phase::Ehlo).needsEnvelope);
    QCOMPARE(planRun(RunKind::Test, Phase::None).stopAfter, Phase::None);  // "don't stop"
    QVERIFY(!planRun(RunKind::Test, Phase::None).needsEnvelope);
    QCOMPARE(planRun(RunKind::Send, std::nullopt).stopAfter, Phase::None);
    QVERIFY(planRun(RunKind::Send, std::nullopt).needsEnvelope);
    QCOMPARE(planRun(RunKind::Send, Phase::Rcpt).stopAfter, Phase::Rcpt);
  }

  void credentialFieldsPerMethod() {
    QVERIFY(credentialFields(AuthMechanism::Auto).password && credentialFields(AuthMechanism::Auto).token);
    QVERIFY(credentialFields(AuthMechanism::Plain).password && !credentialFields(AuthMechanism::Plain).token);
    QVERIFY(!credentialFields(AuthMechanism::XOAuth2).password && credentialFields(AuthMechanism::XOAuth2).token);
    QVERIFY(!credentialFields(AuthMechanism::OAuthBearer).password);
  }

  void connectionForm_data() {
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("field");  // empty: accepted
    QTest::newRow("good") << "" << "";
    QTest::newRow("no server") << "server=" << "server";
    QTest::newRow("user without password") << "password=" << "password";
    QTest::newRow("token method without token") << "oauth" << "token";
    QTest::newRow("bad pin") << "pins=md5//x" << "pin";
    QTest::newRow("empty pin") << "pins=sha256//" << "pin";
    QTest::newRow("cert without key") << "cert" << "clientCert";
    QTest::newRow("zero timeout") << "timeout" << "timeout";
  }
  void connectionForm() {
    QFETCH(QString, change);
    QFETCH(QString, field);
    ConnectionForm f;
    f.server = " smtp.example.com ";
    f.port = 587;
    f.username = " me ";
    f.password = "pw";
    f.pins = "sha256//AAAA=, sha256//BBBB=";
    if (change == "server=") f.server.clear();
    if (change == "password=") f.password.clear();
    if (change == "oauth") f.auth = AuthMechanism::XOAuth2;  // the password does not count for it
    if (change == "pins=md5//x") f.pins = "md5//x";
    if (change == "pins=sha256//") f.pins = "sha256//";
    if (change == "cert") f.clientCertificatePem = "-----BEGIN CERTIFICATE-----";
    if (change == "timeout") f.timeoutSeconds = 0;
    Problem problem;
    const auto params = toConnectParams(f, planRun(RunKind::Test, Phase::Ehlo), &problem);
    QCOMPARE(params.has_value(), field.isEmpty());
    if (!params) {
      QCOMPARE(QString::fromStdString(problem.field), field);
      QVERIFY(!problem.headline.empty() && !problem.explanation.empty());
      return;
    }
    QCOMPARE(params->host, std::string("smtp.example.com"));
    QCOMPARE(params->credentials.username, std::string("me"));
    QCOMPARE(params->tls.pinnedSha256.size(), std::size_t(2));
    QCOMPARE(params->quitAfter, Phase::Ehlo);
  }

  void messageForm() {
    MessageForm m;
    m.from = "Jörg <j@example.org>";
    m.to = "\"Doe, Jane\" <jane@example.net>; bob@example.net";
    m.bcc = "hidden@example.net";
    Problem problem;
    auto message = toMessage(m, &problem);
    QVERIFY(message);
    QCOMPARE(message->to.size(), std::size_t(2));
    QCOMPARE(message->bcc.size(), std::size_t(1));
    m.cc = "not an address";
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("cc"));
    QVERIFY(problem.explanation.find("Cc \"not an address\"") == 0);
    m.cc.clear();
    m.to.clear();
    m.bcc.clear();
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("to"));
    m.from = "";
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("from"));
  }
};

QTEST_APPLESS_MAIN(TestForm)
#include "tst_form.moc"
