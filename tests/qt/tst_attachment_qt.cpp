// Attachments natively (issue 19): content types from Qt's MIME database (shared-mime-info), which
// knows what core's table of common extensions does not, and an attached .eml going through the CLI
// as a message (message/rfc822, 7bit), never base64.
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "smtpc/qt/attachment.h"

using namespace smtpc;

class TestAttachmentQt : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  QString write(const QString& name, const QByteArray& bytes) {
    const QString path = dir_.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
    f.write(bytes);
    return path;
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void contentTypes_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("type");
    QTest::newRow("eml") << "forwarded.eml" << QByteArray("From: a@example.org\r\nSubject: x\r\n\r\nhi\r\n")
                         << "message/rfc822";
    QTest::newRow("pdf") << "report.pdf" << QByteArray("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") << "application/pdf";
    // Not in core's table: an e-book and a Python source.
    QTest::newRow("epub") << "book.epub" << QByteArray("PK\x03\x04") << "application/epub+zip";
    QTest::newRow("python") << "tool.py" << QByteArray("print('hi')\n") << "text/x-python";
    // No extension: by content.
    QTest::newRow("pdf without a name") << "scan" << QByteArray("%PDF-1.7\n1 0 obj\n") << "application/pdf";
    QTest::newRow("png without a name") << "picture" << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) << "image/png";
    // Nothing known: the neutral type, never Qt's x-zerosize for an empty file.
    QTest::newRow("empty") << "empty" << QByteArray() << "application/octet-stream";
    QTest::newRow("random") << "blob" << QByteArray("\x01\x02\x03\xff\xfe", 5) << "application/octet-stream";
  }
  void contentTypes() {
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, type);
    const QString path = write(name, bytes);
    QCOMPARE(QString::fromStdString(qt::contentTypeOf(path)), type);
    auto attachment = qt::attachFile(path);
    QVERIFY(attachment);
    QCOMPARE(QString::fromStdString(attachment->contentType), type);
    QCOMPARE(QString::fromStdString(attachment->filename), name);
  }

  void missingFileIsAnError() {
    auto attachment = qt::attachFile(dir_.filePath("does-not-exist.eml"));
    QVERIFY(!attachment);
    QVERIFY(QString::fromStdString(attachment.error().explanation()).contains("cannot be read"));
  }

  // The CLI attaches with the database's type, so an .eml goes as a message, line ends made CRLF.
  void cliAttachesAMessage() {
    const QString eml = write("forwarded.eml", "From: a@example.org\nSubject: Inner\n\nHello\n");
    const QString scan = write("scan", "%PDF-1.7\n1 0 obj\n");
    const CliRun r = runCli({"--print-message", "--from", "a@example.org", "--to", "b@example.net", "--body", "Fwd",
                             "--attach", eml, "--attach", scan},
                            QProcessEnvironment::systemEnvironment());
    QCOMPARE(r.status, 0);
    QVERIFY2(r.out.contains("Content-Type: message/rfc822;\r\n name=\"forwarded.eml\"\r\n"
                            "Content-Transfer-Encoding: 7bit\r\n"),
             qPrintable(r.out));
    QVERIFY(r.out.contains("\r\n\r\nFrom: a@example.org\r\nSubject: Inner\r\n\r\nHello\r\n--"));
    QVERIFY(r.out.contains("Content-Type: application/pdf;\r\n name=\"scan\""));
  }
};

QTEST_GUILESS_MAIN(TestAttachmentQt)
#include "tst_attachment_qt.moc"
