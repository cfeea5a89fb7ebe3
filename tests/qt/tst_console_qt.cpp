// qt::QtConsole against the sandbox, as the GUI's console tab drives it: slots to type and to
// answer the AUTH helper, signals for the transcript, warnings, the credential request, the
// state and the end. QSignalSpy needs the metatypes QtConsole registers.
#include <QSignalSpy>
#include <QTest>

#include "sandbox.h"
#include "secret_leaks.h"
#include "smtpc/qt/client.h"  // qt::readFile
#include "smtpc/qt/console.h"

using namespace smtpc;

class TestConsoleQt : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;

  // Waits until the console takes a command again (the reply to the last one came).
  static bool commandState(qt::QtConsole& console) {
    return QTest::qWaitFor([&] {
      return console.console() &&
             (console.console()->state() == ConsoleState::Command || console.console()->state() == ConsoleState::Content ||
              console.console()->finished());
    }, 20000);
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--user", "learner:Wh1te-Rabbit-42"});
    QVERIFY(sandbox_->ok());
  }

  void signalsCarryASession() {
    qt::QtConsole console;
    QSignalSpy transcript(&console, &qt::QtConsole::transcript);
    QSignalSpy warnings(&console, &qt::QtConsole::warning);
    QSignalSpy requests(&console, &qt::QtConsole::credentialsRequested);
    QSignalSpy tls(&console, &qt::QtConsole::tlsEstablished);
    QSignalSpy states(&console, &qt::QtConsole::stateChanged);
    QSignalSpy finished(&console, &qt::QtConsole::finished);
    ConsoleParams params;
    params.host = "127.0.0.1";
    params.port = sandbox_->port("tls");
    params.implicitTls = true;
    params.tls.caCertificatesPem = qt::readFile(sandbox_->caFile(), nullptr).value_or("");
    QVERIFY(!console.connectToServer(params).isError());
    QVERIFY(commandState(console));
    QCOMPARE(tls.count(), 1);
    // Before EHLO the server's AUTH is unknown: warned, not sent.
    QVERIFY(console.check(QStringLiteral("AUTH PLAIN")).has_value());
    console.type(QStringLiteral("AUTH PLAIN"));
    QCOMPARE(warnings.count(), 1);
    QCOMPARE(warnings.at(0).at(0).value<ConsoleWarning>().reference, std::string("RFC 4954 §3"));
    console.type(QStringLiteral("EHLO client.example"));
    QVERIFY(commandState(console));
    console.type(QStringLiteral("AUTH PLAIN"));
    QCOMPARE(requests.count(), 1);
    QCOMPARE(requests.at(0).at(0).value<CredentialRequest>().mechanism, std::string("PLAIN"));
    console.provideCredentials(QStringLiteral("learner"), QStringLiteral("Wh1te-Rabbit-42"));
    QVERIFY(commandState(console));
    console.type(QStringLiteral("QUIT"));
    QVERIFY(QTest::qWaitFor([&] { return finished.count() == 1; }, 20000));
    QVERIFY(!finished.at(0).at(0).value<ConsoleFinished>().error.isError());
    QCOMPARE(states.last().at(1).value<ConsoleState>(), ConsoleState::Closed);
    std::string all;
    bool loggedIn = false;
    for (const auto& signal : transcript) {
      const auto entry = signal.at(0).value<TranscriptEntry>();
      QVERIFY(entry.encrypted || entry.kind == TranscriptKind::Info);
      loggedIn = loggedIn || entry.text.rfind("235 ", 0) == 0;
      all += entry.text + "\n";
    }
    QVERIFY2(loggedIn, all.c_str());
    QCOMPARE(QString::fromStdString(testing::findSecret(all, "Wh1te-Rabbit-42")), QString());
  }
};

QTEST_GUILESS_MAIN(TestConsoleQt)
#include "tst_console_qt.moc"
