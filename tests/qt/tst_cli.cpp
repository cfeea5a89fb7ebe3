// The smtpc command-line tool as a user runs it, against the sandbox: transcript, exit codes,
// --json, --print-message, and that the password never shows.
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "sandbox.h"

namespace {
struct CliRun {
  int status = -1;
  QString out, err;
};
}  // namespace

class TestCli : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;

  CliRun cli(const QStringList& arguments, const QByteArray& password = "demo") {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QString::fromUtf8(password));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(SMTPC_CLI), arguments);
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) p.kill();
    return CliRun{p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
  }
  QStringList server(const char* listener) const {
    return {"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port(listener)), "--ca-file", sandbox_->caFile()};
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY(sandbox_->ok());
  }

  void connectionTestTranscript() {
    // The issue's own example: a learner can follow it, and the password is nowhere.
    auto r = cli(server("starttls") + QStringList{"--security", "starttls", "-u", "demo", "--password-env",
                                                    "SMTPC_TEST_PASSWORD", "--quit-after", "auth"},
                 "s3cret-Pw");
    QCOMPARE(r.status, 4);  // the sandbox's password is demo: a login failure, exit 4
    r = cli(server("starttls") + QStringList{"-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD", "--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.out + r.err));
    for (const char* expected : {"-> STARTTLS", "~> EHLO", "~> AUTH PLAIN ********", "<~  235", "=== OK:"})
      QVERIFY2(r.out.contains(QLatin1String(expected)), expected);
    QVERIFY(!r.out.contains(QStringLiteral("AGRlbW8AZGVtbw")));  // base64 of \0demo\0demo
  }

  void passwordNeverOnTheCommandLine() {
    auto r = cli(server("starttls") + QStringList{"-u", "demo"});
    QCOMPARE(r.status, 1);
    QVERIFY(r.err.contains(QStringLiteral("never a password on the command line")));
  }

  void exitCodesPerErrorClass_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("status");
    QTest::newRow("closed port") << QStringList{"-s", QStringLiteral("127.0.0.1:%1").arg(Sandbox::closedPort())} << 2;
    QTest::newRow("untrusted certificate") << QStringList{"--security", "tls"} << 3;
    QTest::newRow("bad option value") << QStringList{"--security", "ssl"} << 1;
    QTest::newRow("refused recipient") << QStringList{"--from", "a@example.org", "--to", "x@example.net", "--to",
                                                       "temp@example.net"} << 5;
  }
  void exitCodesPerErrorClass() {
    QFETCH(QStringList, arguments);
    QFETCH(int, status);
    Sandbox refusing({"--temp-fail-rcpt", "temp"});
    QVERIFY(refusing.ok());
    QStringList args = arguments;
    if (!args.contains(QStringLiteral("-s")))
      args = QStringList{"-s", QStringLiteral("127.0.0.1:%1").arg(refusing.port(args.contains("tls") ? "tls" : "starttls"))} + args;
    if (status == 5) args << "--ca-file" << refusing.caFile();
    auto r = cli(args);
    QVERIFY2(r.status == status, qPrintable(QString::number(r.status) + "\n" + r.out + r.err));
    if (status > 1) QVERIFY(r.out.contains(QStringLiteral("*** Failed:")));
  }

  void jsonResult() {
    auto r = cli(server("tls") + QStringList{"--security", "tls", "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD",
                                               "--from", "a@example.org", "--to", "b@example.net", "--subject", "json",
                                               "--body", "hi", "--count", "3", "--json"});
    QCOMPARE(r.status, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY(o.value("ok").toBool());
    QCOMPARE(o.value("messages").toArray().size(), 3);
    QCOMPARE(o.value("tls").toObject().value("verified").toBool(), true);
    QVERIFY(o.value("tls").toObject().value("chain").toArray().first().toObject().value("pin").toString().startsWith("sha256//"));
    QVERIFY(o.value("capabilities").toArray().contains(QJsonValue("AUTH LOGIN PLAIN")));
    QVERIFY(o.value("transcript").toArray().size() > 20);
    QVERIFY(!r.out.contains(QStringLiteral("ZGVtbw")));
  }

  void printMessage() {
    QTemporaryDir dir;
    QFile attachment(dir.filePath("notes.txt"));
    QVERIFY(attachment.open(QIODevice::WriteOnly));
    attachment.write("attached\n");
    attachment.close();
    auto r = cli({"--print-message", "--from", "Jörg <j@example.org>", "--to", "b@example.net", "--subject", "Grüße",
                  "--body", "Hallo", "--attach", attachment.fileName(), "--header", "X-Test: yes"});
    QCOMPARE(r.status, 0);
    QVERIFY(r.out.contains(QStringLiteral("Subject: =?UTF-8?B?")));
    QVERIFY(r.out.contains(QStringLiteral("filename=\"notes.txt\"")));
    QVERIFY(r.out.contains(QStringLiteral("X-Test: yes")));
    QVERIFY(!r.out.contains(QStringLiteral("Connecting")));  // nothing was sent
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
