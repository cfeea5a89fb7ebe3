// smtpc --interactive against the sandbox, driven as a script drives it: the commands piped in,
// one a line; each waits for the reply to the one before. smtpc does what the learner cannot
// (TLS after STARTTLS's 220, AUTH PLAIN's base64 from the helper's questions, dot-stuffing), warns
// before a command that cannot work, and never prints the password.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"
#include "secret_leaks.h"

class TestCliInteractive : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;  // no accounts file: the person's own never changes a test

  CliRun interactive(const QByteArray& input) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    const QStringList arguments{"--interactive", "-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")),
                                "--ca-file", sandbox_->caFile()};
    return runCli(arguments, env, input);
  }
  // The session of the issue: EHLO, STARTTLS, EHLO, AUTH PLAIN (helper), MAIL, RCPT, DATA, QUIT.
  static QByteArray session(const QByteArray& user, const QByteArray& password, const QByteArray& subject) {
    return "EHLO client.example\nSTARTTLS\nEHLO client.example\nAUTH PLAIN\n" + user + "\n" + password +
           "\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\nDATA\nSubject: " + subject +
           "\n\n.hidden behind a dot\nthe end\n.\nQUIT\n";
  }
  // The message whose Subject is `subject`, as the sandbox stored it.
  QByteArray stored(const QByteArray& subject) const {
    for (const QString& name : QDir(sandbox_->maildir()).entryList({"*.eml"})) {
      QFile file(sandbox_->maildir() + QLatin1Char('/') + name);
      if (!file.open(QIODevice::ReadOnly)) continue;
      const QByteArray content = file.readAll();
      if (content.contains("Subject: " + subject)) return content;
    }
    return {};
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--user", "demo:demo", "--user", "learner:Wh1te-Rabbit-42"});
    QVERIFY(sandbox_->ok());
  }

  void typedSessionDeliversTheMessage() {
    const CliRun r = interactive(session("demo", "demo", "typed by hand"));
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    for (const char* text : {" -> STARTTLS\n", "=== SMTPc starts the TLS handshake for you", " ~> EHLO client.example\n",
                             " ~> AUTH PLAIN ********\n", "anyone who sees AGRlbW8A", "<~  235 2.7.0",
                             " ~> ..hidden behind a dot\n", "dot-stuffing, RFC 5321 §4.5.2", "<~  221 ",
                             "      235 Authentication succeeded"})  // a reply's explanation beneath it
      QVERIFY2(r.out.contains(QString::fromUtf8(text)), text);
    const QByteArray message = stored("typed by hand");
    QVERIFY2(!message.isEmpty(), qPrintable(r.all()));
    QVERIFY(message.contains("\n.hidden behind a dot\r\n") || message.contains("\n.hidden behind a dot\n"));
    QVERIFY(!message.contains("..hidden"));
    // The whole PLAIN payload, and the password's answer line, never printed.
    QVERIFY(!r.all().contains(QStringLiteral("AGRlbW8AZGVtbw")));
    QVERIFY(!r.all().contains(QStringLiteral("\ndemo\n\n")));
  }

  void passwordNeverPrinted() {
    const QByteArray password = "Wh1te-Rabbit-42";
    const CliRun r = interactive(session("learner", password, "secret check"));
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(!stored("secret check").isEmpty());
    QCOMPARE(QString::fromStdString(smtpc::testing::findSecret(r.all().toStdString(), password.toStdString())),
             QString());
  }

  // Input ends while the AUTH helper waits for a user name: no login, and smtpc ends (closing
  // without QUIT: cancelled) instead of waiting forever.
  void inputEndingAtTheHelperEnds() {
    const CliRun r = interactive("EHLO client.example\nSTARTTLS\nEHLO client.example\nAUTH PLAIN\n");
    QVERIFY2(r.status == 7, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("=== Standard input ended: no user name and password.")));
    QVERIFY(!r.out.contains(QStringLiteral("~> AUTH")));
  }

  // MAIL before EHLO: warned with the RFC section, and not sent when the answer is no.
  void warningAsksFirst() {
    const CliRun r = interactive("MAIL FROM:<a@example.org>\nn\nQUIT\n");
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("!!! Say EHLO (or HELO) before MAIL")));
    QVERIFY(r.out.contains(QStringLiteral("(RFC 5321 §4.1.4)")));
    QVERIFY(r.out.contains(QStringLiteral("send it anyway? [y/N] n\n=== Not sent.")));
    QVERIFY(!r.out.contains(QStringLiteral("-> MAIL")));
    const CliRun y = interactive("MAIL FROM:<a@example.org>\ny\nQUIT\n");
    QVERIFY2(y.out.contains(QStringLiteral(" -> MAIL FROM:<a@example.org>\n")), qPrintable(y.all()));
  }
};

QTEST_GUILESS_MAIN(TestCliInteractive)
#include "tst_cli_interactive.moc"
