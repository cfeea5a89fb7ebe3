// smtpc --step against the sandbox, driven as a script drives it: one line of standard input per
// pause. Each command is announced (what, why, the replies that may come) before it is sent.
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"

class TestCliStep : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;  // no accounts file: the person's own never changes a test

  CliRun step(const QStringList& more, const QByteArray& input) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QStringLiteral("demo"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    const QStringList arguments{"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file",
                                sandbox_->caFile(), "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD", "--step"};
    return runCli(arguments + more, env, input);
  }
  static QStringList announced(const QString& out) {
    QStringList commands;
    for (const QString& line : out.split(QLatin1Char('\n')))
      if (line.startsWith(QStringLiteral("--- Next"))) commands << line.section(QStringLiteral("): "), 1);
    return commands;
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY(sandbox_->ok());
  }

  // Enter at each of the nine pauses: the message is sent, and each command was announced, with
  // why, before it went out.
  void enterAtEachCommandReachesTheEnd() {
    const QStringList message{"--from", "a@example.org", "--to", "b@example.net", "--subject", "step", "--body", "hi"};
    const CliRun r = step(message, QByteArray(9, '\n'));
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    const QStringList expected{"EHLO [127.0.0.1]", "STARTTLS", "EHLO [127.0.0.1]", "AUTH PLAIN ********",
                               "MAIL FROM:<a@example.org> SIZE=", "RCPT TO:<b@example.net>", "DATA",
                               "(the message content", "QUIT"};
    const QStringList got = announced(r.out);
    QCOMPARE(got.size(), expected.size());
    for (int i = 0; i < expected.size(); ++i) QVERIFY2(got[i].startsWith(expected[i]), qPrintable(got[i]));
    for (const char* text : {"--- Next (STARTTLS): STARTTLS\n    Why: STARTTLS: the server offered it and the settings "
                             "require TLS — RFC 3207 §4",
                             "--- Next (AUTH): AUTH PLAIN ********\n    Why: AUTH:", "--- Next (QUIT): QUIT\n",
                             "      235  logged in", "      221  goodbye", "PIPELINING (RFC 2920) is not used",
                             "at least 5 minutes", "=== OK:"})
      QVERIFY2(r.out.contains(QString::fromUtf8(text)), text);
    // Announced, then sent: the announcement comes first.
    QVERIFY(r.out.indexOf(QStringLiteral("--- Next (STARTTLS)")) < r.out.indexOf(QStringLiteral("-> STARTTLS")));
    QVERIFY(r.out.indexOf(QStringLiteral("--- Next (QUIT)")) < r.out.indexOf(QStringLiteral("~> QUIT")));
    QVERIFY(!r.out.contains(QStringLiteral("Standard input ended")));  // one line per pause, none spare
    QVERIFY(!r.all().contains(QStringLiteral("AGRlbW8AZGVtbw")));        // base64 of \0demo\0demo
  }

  // c goes on to the next step of the bar: at AUTH LOGIN the two answers to the server's
  // challenges pass unannounced, at the first RCPT the second one does. r runs to the end.
  void continueThenRunToEnd() {
    const QStringList message{"--auth", "login", "--from", "a@example.org", "--to", "b@example.net",
                              "--to", "c@example.net", "--body", "hi"};
    const CliRun r = step(message, "\n\n\nc\n\nc\nr\n");
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    const QStringList got = announced(r.out);
    QCOMPARE(got.size(), 7);
    QCOMPARE(got[3], QStringLiteral("AUTH LOGIN"));
    QVERIFY(got[4].startsWith(QStringLiteral("MAIL FROM:<a@example.org>")));
    QCOMPARE(got[5], QStringLiteral("RCPT TO:<b@example.net>"));
    QCOMPARE(got[6], QStringLiteral("DATA"));
    QVERIFY(r.out.contains(QStringLiteral("~> RCPT TO:<c@example.net>")));
    QVERIFY(r.out.contains(QStringLiteral("=== OK:")));
  }

  // q quits before the first command: cancelled (7), nothing sent.
  void quitAtFirstPause() {
    const CliRun r = step({}, "q\n");
    QCOMPARE(r.status, 7);
    QVERIFY(!r.out.contains(QStringLiteral("-> EHLO")));
  }

  // --json keeps standard output for its one object: the pauses go to standard error.
  void jsonStaysParsable() {
    const CliRun r = step({"--json"}, "r\n");
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QJsonParseError error;
    const QJsonDocument json = QJsonDocument::fromJson(r.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(r.out));
    QVERIFY(json.object().value(QStringLiteral("ok")).toBool());
    QVERIFY(r.err.contains(QStringLiteral("--- Next (EHLO): EHLO")));
  }

  // Standard input is for the steps: nothing else may read it.
  void standardInputIsTaken() {
    QCOMPARE(step({"--password-stdin"}, "demo\n").status, 1);
    const CliRun r = step({"--to", "b@example.net", "--data", "-"}, "Subject: x\n\nhi\n");
    QCOMPARE(r.status, 1);
    QVERIFY(r.err.contains(QStringLiteral("--step")));
  }
};

QTEST_GUILESS_MAIN(TestCliStep)
#include "tst_cli_step.moc"
