// smtpc --explain LINE and --annotate (issue 17, item 2), as a learner runs them: the explanation
// with its RFC references, as text and as JSON, and a real run against the sandbox with an
// explanation under each transcript line, no secret in any.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"

class TestCliExplain : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;  // no accounts file: the person's own never changes a test

  CliRun cli(const QStringList& arguments, const QByteArray& password = "demo") {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QString::fromUtf8(password));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    return runCli(arguments, env);
  }
  QStringList starttlsLogin() const {
    return {"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file", sandbox_->caFile(),
            "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD", "--quit-after", "auth"};
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY(sandbox_->ok());
  }

  // The example: title, the explanation folded and indented, the references.
  void explainReply() {
    const auto r = cli({"--explain", "535 5.7.8 Authentication credentials invalid"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY2(r.out.startsWith(QStringLiteral("535 Authentication credentials invalid (5.7.8)\n  ")), qPrintable(r.out));
    QVERIFY(r.out.contains(QStringLiteral("Enhanced status code 5.7.8")));
    QVERIFY(r.out.contains(QStringLiteral("See: RFC 4954 §6, RFC 5321 §4.2.1, RFC 3463 §3.8")));
    for (const QString& line : r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
      QVERIFY2(line.size() <= 100, qPrintable(line));
  }

  void explainAsJson() {
    const auto r = cli({"--explain", "<~ 334 VXNlcm5hbWU6", "--json"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o.value("line").toString(), QStringLiteral("<~ 334 VXNlcm5hbWU6"));
    QVERIFY2(o.value("title").toString().contains(QStringLiteral("\"Username:\"")), qPrintable(r.out));
    QVERIFY(o.value("references").toArray().contains(QStringLiteral("RFC 4954 §4")));
    QVERIFY(!o.value("text").toString().isEmpty());
    QCOMPARE(o.value("version").toInt(), 1);
  }

  // A typed AUTH PLAIN payload: its parts named, the password never printed.
  void explainTypedPayloadWithoutSecret() {
    const QByteArray payload = QByteArray("\0demo\0s3cret-Pw", 15).toBase64();
    const auto r = cli({"--explain", "AUTH PLAIN " + QString::fromLatin1(payload)});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY2(r.out.contains(QStringLiteral("user name \"demo\"")), qPrintable(r.out));
    QVERIFY(!r.all().contains(QStringLiteral("s3cret-Pw")));
    QVERIFY(!r.all().contains(QString::fromLatin1(payload)));
  }

  // A real run: every transcript line has its explanation indented beneath it.
  void annotateRun() {
    const auto r = cli(starttlsLogin() << "--annotate");
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    const QStringList lines = r.out.split(QLatin1Char('\n'));
    int transcriptLines = 0;
    for (int i = 0; i < lines.size(); ++i) {
      const QString& line = lines[i];
      const bool transcript = line.startsWith(QLatin1String(" ->")) || line.startsWith(QLatin1String(" ~>")) ||
                              line.startsWith(QLatin1String("<- ")) || line.startsWith(QLatin1String("<~ "));
      if (!transcript) continue;
      ++transcriptLines;
      QVERIFY2(i + 2 < lines.size() && lines[i + 1].startsWith(QLatin1String("      ")) &&
                   !lines[i + 1].startsWith(QLatin1String("       ")) && lines[i + 2].startsWith(QLatin1String("        ")),
               qPrintable(line + " has no explanation beneath it:\n" + r.out));
    }
    QVERIFY2(transcriptLines >= 10, qPrintable(r.out));
    QVERIFY(r.out.contains(QStringLiteral(" ~> AUTH PLAIN ********\n      AUTH: log in with a SASL mechanism")));
    QVERIFY(r.out.contains(QStringLiteral("      STARTTLS: switch this connection to TLS")));
    QVERIFY(r.out.contains(QStringLiteral("      TLS is up")));
    QVERIFY(!r.all().contains(QStringLiteral("AGRlbW8AZGVtbw")));  // base64 of \0demo\0demo
  }

  void annotateRunAsJson() {
    const auto r = cli(starttlsLogin() << "--annotate" << "--json", "s3cret-Pw");
    QCOMPARE(r.status, 4);  // the sandbox's password is demo: a refused login
    const QJsonArray transcript = QJsonDocument::fromJson(r.out.toUtf8()).object().value("transcript").toArray();
    QVERIFY2(transcript.size() >= 10, qPrintable(r.out));
    bool refusalExplained = false;
    for (const auto& value : transcript) {
      const QJsonObject explanation = value.toObject().value("explanation").toObject();
      QVERIFY2(!explanation.value("title").toString().isEmpty() && !explanation.value("text").toString().isEmpty(),
               qPrintable(value.toObject().value("text").toString()));
      if (value.toObject().value("text").toString().startsWith(QStringLiteral("535")))
        refusalExplained = explanation.value("references").toArray().contains(QStringLiteral("RFC 4954 §6"));
    }
    QVERIFY2(refusalExplained, qPrintable(r.out));
    QVERIFY(!r.all().contains(QStringLiteral("s3cret-Pw")));
  }

  void withoutAnnotateNoExplanation() {
    const auto r = cli(starttlsLogin());
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(!r.out.contains(QStringLiteral("AUTH: log in with a SASL mechanism")));
  }

  void helpNamesTheOptions() {
    const auto r = cli({"--help"});
    QVERIFY(r.out.contains(QStringLiteral("--explain <LINE>")));
    QVERIFY(r.out.contains(QStringLiteral("--annotate")));
    QVERIFY(r.out.contains(QStringLiteral("$ smtpc --explain '535 5.7.8 Authentication credentials invalid'")));
  }
};

QTEST_MAIN(TestCliExplain)
#include "tst_cli_explain.moc"
