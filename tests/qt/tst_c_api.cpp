// Runs the C program against a sandbox and checks what arrived.
#include <QDir>
#include <QProcess>
#include <QTest>

#include "sandbox.h"

class TestCApi : public QObject {
  Q_OBJECT
 private slots:
  void cProgram() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    QProcess program;
    program.start(QStringLiteral(SMTPC_C_PROGRAM), {QString::number(sandbox.port("starttls")),
                                                     QString::number(sandbox.port("tls")), sandbox.caFile()});
    QVERIFY(program.waitForFinished(60000));
    QVERIFY2(program.exitCode() == 0, program.readAllStandardError().constData());
    // Three messages arrived: two on one connection, one with SendMail.
    const auto files = QDir(sandbox.maildir()).entryList({QStringLiteral("*.eml")});
    QCOMPARE(files.size(), 3);
    QFile first(sandbox.maildir() + QStringLiteral("/1.eml"));
    QVERIFY(first.open(QIODevice::ReadOnly));
    const QByteArray content = first.readAll();
    QVERIFY(content.contains("Subject: From the C API"));
    QVERIFY(content.contains("filename=\"bytes.bin\""));
    QVERIFY(content.contains("AAEC/w=="));  // base64 of 00 01 02 FF
  }
};

QTEST_GUILESS_MAIN(TestCApi)
#include "tst_c_api.moc"
