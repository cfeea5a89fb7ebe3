// The smtpc command-line tool as a user runs it, against the sandbox: transcript, exit codes,
// --json, --print-message, and that the password never shows.
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QElapsedTimer>
#include <algorithm>

#include "cli_run.h"
#include "sandbox.h"

class TestCli : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;  // no accounts file: the person's own never changes a test

  CliRun cli(const QStringList& arguments, const QByteArray& password = "demo") {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QString::fromUtf8(password));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    return runCli(arguments, env);
  }

  // A scripted server (tests/servers/scripted.py) that answers from `script` and records
  // everything the client sent.
  struct Scripted : ServerProcess {
    explicit Scripted(const QJsonObject& script)
        : ServerProcess(QStringLiteral(SMTPC_SCRIPTED),
                        {QStringLiteral("--script"), QString::fromUtf8(QJsonDocument(script).toJson(QJsonDocument::Compact))}) {}
    QStringList server() const { return {"-s", QStringLiteral("127.0.0.1:%1").arg(port("plain"))}; }
    QByteArray received() const {
      QFile f(value("received"));
      return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("(unreadable)");
    }
  };
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
    QTest::addColumn<QString>("summary");  // the diagnosis' first line: the step, the headline
    QTest::newRow("closed port") << QStringList{"-s", QStringLiteral("127.0.0.1:%1").arg(Sandbox::closedPort())} << 2
                                 << "*** Failed at Connect: Nothing answers on 127.0.0.1 port";
    QTest::newRow("untrusted certificate") << QStringList{"--security", "tls"} << 3
                                           << "*** Failed at TLS handshake: The server's certificate is not trusted";
    QTest::newRow("bad option value") << QStringList{"--security", "ssl"} << 1 << "";
    QTest::newRow("a URL, not a server name") << QStringList{"-s", "smtp://mail.example.com"} << 1 << "";
    QTest::newRow("refused recipient") << QStringList{"--from", "a@example.org", "--to", "x@example.net", "--to",
                                                       "temp@example.net"} << 5 << "*** Failed at RCPT:";
  }
  void exitCodesPerErrorClass() {
    QFETCH(QStringList, arguments);
    QFETCH(int, status);
    QFETCH(QString, summary);
    Sandbox refusing({"--temp-fail-rcpt", "temp"});
    QVERIFY(refusing.ok());
    QStringList args = arguments;
    if (!args.contains(QStringLiteral("-s")))
      args = QStringList{"-s", QStringLiteral("127.0.0.1:%1").arg(refusing.port(args.contains("tls") ? "tls" : "starttls"))} + args;
    if (status == 5) args << "--ca-file" << refusing.caFile();
    auto r = cli(args);
    QVERIFY2(r.status == status, qPrintable(QString::number(r.status) + "\n" + r.out + r.err));
    if (status > 1) {
      QVERIFY2(r.out.contains(summary), qPrintable(r.out.right(1500)));
      QVERIFY2(r.out.contains(QStringLiteral("    Try: ")), qPrintable(r.out.right(1500)));  // what to try
    }
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
    // A failure carries the same diagnosis as the GUI and the page.
    r = cli(server("starttls") + QStringList{"-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD", "--json"}, "wrong");
    QCOMPARE(r.status, 4);
    const QJsonObject d = QJsonDocument::fromJson(r.out.toUtf8()).object().value("diagnosis").toObject();
    QCOMPARE(d.value("failed_step").toString(), QStringLiteral("Auth"));
    QCOMPARE(d.value("headline").toString(), QStringLiteral("Login refused"));
    QVERIFY(!d.value("suggestions").toArray().isEmpty());
  }

  void dataFileIsStreamed() {
    // --data-file sends a ready message as it is (dot-stuffed on the wire, stored unstuffed) and
    // reads it as it goes: a 40 MB file costs the CLI no more memory than a tiny one.
    Sandbox big({"--size-limit", "100000000"});
    QVERIFY2(big.ok(), qPrintable(big.error()));
    QTemporaryDir dir;
    auto write = [&](const QString& name, qint64 lines) {
      QFile f(dir.filePath(name));
      if (!f.open(QIODevice::WriteOnly)) return QByteArray();
      QByteArray content = "From: a@example.org\r\nTo: b@example.net\r\nSubject: streamed\r\n\r\n";
      for (qint64 i = 0; i < lines; ++i)  // lines that start with a dot, 8-bit text
        content += (i % 3 == 0 ? QByteArray(".dot line ") : QByteArray("Grüße line ")) + QByteArray::number(i) + QByteArray(40, 'x') + "\r\n";
      f.write(content);
      return content;
    };
    const QByteArray small = write(QStringLiteral("small.eml"), 10);
    const QByteArray large = write(QStringLiteral("large.eml"), 700000);  // ~41 MB
    QVERIFY(large.size() > 36 << 20);
    const QStringList common{"-s", QStringLiteral("127.0.0.1:%1").arg(big.port("starttls")), "--ca-file", big.caFile(),
                             "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD", "--from", "a@example.org",
                             "--to", "b@example.net", "--data-file"};
    // The CLI's peak RSS: its VmHWM (a high-water mark, so any read after the peak sees it),
    // read every few milliseconds while it runs. (wait4's ru_maxrss would not do: it starts
    // from this test's own RSS at fork, 40 MB of which is the file's content.)
    auto run = [&](const QString& file) -> std::pair<int, long> {
      QProcess p;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QStringLiteral("demo"));
      // Under AddressSanitizer, freed memory waits in a 256 MB quarantine and would count as
      // growth; keep it small (ignored by a normal build).
      const QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
      env.insert(QStringLiteral("ASAN_OPTIONS"), asan + (asan.isEmpty() ? "" : ":") + "quarantine_size_mb=1:thread_local_quarantine_size_kb=64");
      p.setProcessEnvironment(env);
      p.setStandardOutputFile(QProcess::nullDevice());
      p.start(QStringLiteral(SMTPC_CLI), common + QStringList{file});
      if (!p.waitForStarted(10000)) return {-1, 0};
      QFile status(QStringLiteral("/proc/%1/status").arg(p.processId()));
      long peak = 0;
      QElapsedTimer clock;
      clock.start();
      while (!p.waitForFinished(5) && clock.elapsed() < 60000) {
        if (!status.open(QIODevice::ReadOnly)) continue;
        for (const QByteArray& line : status.readAll().split('\n'))
          if (line.startsWith("VmHWM:")) peak = std::max(peak, line.mid(6).trimmed().split(' ').first().toLong());
        status.close();
      }
      return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, peak};
    };
    const auto [smallStatus, smallRss] = run(dir.filePath(QStringLiteral("small.eml")));
    QCOMPARE(smallStatus, 0);
    const auto [largeStatus, largeRss] = run(dir.filePath(QStringLiteral("large.eml")));
    QCOMPARE(largeStatus, 0);
    qInfo() << "CLI peak RSS, tiny message:" << smallRss << "KB; 40 MB --data-file:" << largeRss << "KB";
    QVERIFY2(largeRss - smallRss < 16 * 1024, qPrintable(QString::number(largeRss - smallRss)));
    for (const auto& [id, sent] : {std::pair{1, small}, std::pair{2, large}}) {
      QFile stored(big.maildir() + QStringLiteral("/%1.eml").arg(id));
      QVERIFY(stored.open(QIODevice::ReadOnly));
      QVERIFY2(stored.readAll() == sent, qPrintable(QStringLiteral("message %1 differs").arg(id)));
    }
    // --count with a small file: read once, sent three times, each copy whole.
    auto r = cli(common + QStringList{dir.filePath(QStringLiteral("small.eml")), "--count", "3"});
    QVERIFY2(r.status == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains(QStringLiteral("3 message(s) accepted")), qPrintable(r.out.right(500)));
    for (int id = 3; id <= 5; ++id) {
      QFile stored(big.maildir() + QStringLiteral("/%1.eml").arg(id));
      QVERIFY2(stored.open(QIODevice::ReadOnly), qPrintable(stored.fileName()));
      QVERIFY2(stored.readAll() == small, qPrintable(QStringLiteral("copy %1 differs").arg(id)));
    }
  }

  void strippedStartTlsNeverSendsCramMd5() {
    // What a man in the middle does: STARTTLS removed from the list, only CRAM-MD5 offered, and
    // a challenge of its choosing. No AUTH line leaves, and the result says why.
    Scripted mitm(QJsonObject{{"ehlo", QJsonArray{"250-mx.example.net", "250 AUTH CRAM-MD5"}},
                              {"replies", QJsonObject{{"AUTH", QJsonArray{"334 PDEyMzRAbWl0bT4="}},
                                                      {"QUIT", QJsonArray{"221 bye"}}}}});
    QVERIFY2(mitm.ok(), qPrintable(mitm.error()));
    for (const QString& security : {QStringLiteral("starttls-if-offered"), QStringLiteral("none")}) {
      auto r = cli(mitm.server() + QStringList{"--security", security, "-u", "demo", "--password-env",
                                                "SMTPC_TEST_PASSWORD", "--quit-after", "auth"},
                   "Cr4m-secret");
      QVERIFY2(r.status == 4, qPrintable(QString::number(r.status) + "\n" + r.out + r.err));
      QVERIFY2(r.out.contains(QStringLiteral(": Password not sent without encryption")), qPrintable(r.out));
      QVERIFY2(r.out.contains(QStringLiteral("Not encrypted")), qPrintable(r.out));
    }
    QVERIFY2(!mitm.received().contains("AUTH"), mitm.received().constData());
    QVERIFY(mitm.received().contains("QUIT"));
  }

  void clearTextResultSaysSo() {
    // starttls-if-offered against a server without STARTTLS "works", and says it was not encrypted.
    Scripted plain(QJsonObject{{"ehlo", QJsonArray{"250-mx.example.net", "250 SIZE 1000"}}});
    QVERIFY2(plain.ok(), qPrintable(plain.error()));
    auto r = cli(plain.server() + QStringList{"--security", "starttls-if-offered", "--quit-after", "ehlo"});
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.out + r.err));
    QVERIFY2(r.out.contains(QStringLiteral("=== OK (NOT ENCRYPTED)")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("man in the middle")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("STARTTLS (required)")), qPrintable(r.out));
    r = cli(plain.server() + QStringList{"--security", "starttls-if-offered", "--quit-after", "ehlo", "--json"});
    QCOMPARE(r.status, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY2(o.contains(QStringLiteral("encrypted")) && !o.value("encrypted").toBool(), qPrintable(r.out));
    QVERIFY(o.value("warning").toString().contains(QStringLiteral("man in the middle")));
    // And over TLS it says encrypted.
    r = cli(server("tls") + QStringList{"--security", "tls", "--quit-after", "ehlo", "--json"});
    QCOMPARE(r.status, 0);
    QVERIFY(QJsonDocument::fromJson(r.out.toUtf8()).object().value("encrypted").toBool());
  }

  void serverTextNeverDrivesTheTerminal() {
    // A greeting and EHLO lines with terminal escapes: set the title, clear the screen, move
    // up and print a fake success, C1 CSI. None may reach the output as raw control bytes.
    Scripted hostile(QJsonObject{
        {"greeting", QJsonArray{QStringLiteral("220-evil \u001b]0;pwned\u0007 \u001b[2J"),
                                QStringLiteral("220 \u001b[1A=== OK: fake \u009b2J")}},
        {"ehlo", QJsonArray{QStringLiteral("250-evil \u001b[31mred"), QStringLiteral("250 AUTH PLAIN \u001b[0m")}},
        {"default", QJsonArray{QStringLiteral("550 5.0.0 no \u001b[2K\rway")}}});
    QVERIFY2(hostile.ok(), qPrintable(hostile.error()));
    for (const QStringList& extra : {QStringList{"--quit-after", "ehlo"},
                                     QStringList{"--from", "a@example.org", "--to", "b@example.net", "--body", "x"}}) {
      auto r = cli(hostile.server() + QStringList{"--security", "none"} + extra);
      QVERIFY2(r.status == 0 || r.status == 5 || r.status == 6, qPrintable(QString::number(r.status) + r.out));
      for (QChar c : r.out)
        QVERIFY2(c == QLatin1Char('\n') || c == QLatin1Char('\t') || (c.unicode() >= 0x20 && c.unicode() != 0x7f &&
                                                                     (c.unicode() < 0x80 || c.unicode() > 0x9f)),
                 qPrintable(QStringLiteral("control character U+%1 in the output").arg(c.unicode(), 4, 16, QLatin1Char('0'))));
      QVERIFY2(r.out.contains(QStringLiteral("\\x1b]0;pwned\\x07")), qPrintable(r.out));
    }
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
