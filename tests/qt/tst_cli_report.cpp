// smtpc --report FILE (issue 17, "take it home") against the sandbox: a run writes the page and the
// diagram, after a success and after a failure; both parse (tests/core/check_report.py: Python's
// html.parser with balanced tags, and xml.etree) and hold no password in any form.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"

class TestCliReport : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;  // no accounts file: the person's own never changes a test
  QTemporaryDir dir_;

  CliRun cli(const QStringList& arguments, const QByteArray& password = "demo") {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QString::fromUtf8(password));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    return runCli(arguments, env);
  }
  QStringList login(const char* listener) const {
    return {"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port(listener)), "--ca-file", sandbox_->caFile(),
            "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD"};
  }
  static QByteArray read(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
  }
  // check_report.py on `files`, with `absent` forbidden in each; its complaints when it fails.
  static QString check(const QStringList& files, const QStringList& absent, const QStringList& present = {}) {
    QStringList arguments{QStringLiteral(SMTPC_CHECK_REPORT)};
    for (const QString& text : absent) arguments << QStringLiteral("--absent") << text;
    for (const QString& text : present) arguments << QStringLiteral("--present") << text;
    QProcess checker;
    checker.start(QStringLiteral("/usr/bin/python3"), arguments + files);
    if (!checker.waitForFinished(60000)) return QStringLiteral("check_report.py did not finish");
    if (checker.exitStatus() != QProcess::NormalExit || checker.exitCode() != 0)
      return QString::fromUtf8(checker.readAllStandardError()) + QStringLiteral(" (exit %1)").arg(checker.exitCode());
    return {};
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
  }

  // A message sent with STARTTLS and AUTH PLAIN: both files, the TLS part in them, the password
  // "demo" in none of its three base64 alignments nor in the PLAIN string (the user name, also
  // "demo", shows as text: that is not a secret).
  void successWritesBoth() {
    const QString html = dir_.filePath(QStringLiteral("sent.html")), svg = dir_.filePath(QStringLiteral("sent.SVG"));
    for (const QString& path : {html, svg}) {
      const CliRun r = cli(login("starttls") + QStringList{"--from", "a@example.org", "--to", "b@example.net",
                                                           "--subject", "report", "--body", "hi", "--report", path});
      QVERIFY2(r.status == 0, qPrintable(r.all()));
    }
    const QString why = check({html, svg}, {"ZGVtbw", "RlbW8", "kZW1v", "AGRlbW8AZGVtbw"}, {"STARTTLS", "250"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
    QVERIFY(read(html).contains("<li class=\"client encrypted\">"));
    QVERIFY(read(html).contains("AUTH PLAIN ********"));
    QVERIFY(read(html).contains("</summary><div class=\"explain\">EHLO"));  // each line explained (core's tables)
    QVERIFY(read(svg).contains("inside TLS: TLSv1."));
    QVERIFY(read(svg).contains(">OK: "));
  }

  // A wrong password: the files are written anyway, say where it failed, and hold no form of it.
  void failureWritesBoth() {
    const QByteArray wrong = "s3cret-Pw";
    const QStringList absent{QString::fromUtf8(wrong), QString::fromLatin1(wrong.toBase64()),
                             QString::fromLatin1((QByteArray("\0demo\0", 6) + wrong).toBase64())};
    QStringList files;
    for (const char* name : {"refused.html", "refused.svg"}) {
      files << dir_.filePath(QLatin1String(name));
      const CliRun r = cli(login("starttls") + QStringList{"--quit-after", "auth", "--report", files.last()}, wrong);
      QCOMPARE(r.status, 4);
      QVERIFY2(read(files.last()).contains("Failed at AUTH"), qPrintable(files.last()));
    }
    const QString why = check(files, absent, {"535"});
    QVERIFY2(why.isEmpty(), qPrintable(why));
  }

  // Nothing listening: the run fails at Connect, and still leaves its handout.
  void refusedConnection() {
    const QString path = dir_.filePath(QStringLiteral("refused-connection.html"));
    const CliRun r = cli({"-s", QStringLiteral("127.0.0.1:%1").arg(Sandbox::closedPort()), "--security", "none",
                          "--quit-after", "ehlo", "--report", path});
    QCOMPARE(r.status, 2);
    QVERIFY(read(path).contains("Failed at Connect"));
    const QString why = check({path}, {});
    QVERIFY2(why.isEmpty(), qPrintable(why));
  }

  // Any other extension is a usage error before a connection is tried; nothing is written.
  void otherExtensionIsUsage() {
    const QString path = dir_.filePath(QStringLiteral("run.pdf"));
    const CliRun r = cli(login("starttls") + QStringList{"--report", path});
    QCOMPARE(r.status, 1);
    QVERIFY(r.err.contains(QStringLiteral("must end in .html (a page) or .svg")));
    QVERIFY2(!r.out.contains(QStringLiteral("Connecting")), qPrintable(r.out));
    QVERIFY(!QFile::exists(path));
  }

  // A file that cannot be written: said on standard error, and a run that worked exits 1.
  void unwritableFile() {
    const QString path = dir_.filePath(QStringLiteral("no-such-folder/run.html"));
    const CliRun r = cli(login("starttls") + QStringList{"--quit-after", "ehlo", "--report", path});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("--report ")), qPrintable(r.err));
    QVERIFY(r.out.contains(QStringLiteral("=== OK")));
  }
};

QTEST_GUILESS_MAIN(TestCliReport)
#include "tst_cli_report.moc"
