// Every transcript script in tests/core/scripts, played twice: with each server packet whole,
// and one byte at a time.
#include <QDir>
#include <QFile>
#include <QTest>

#include "script_player.h"

class TestScripts : public QObject {
  Q_OBJECT
 private slots:
  void scripts_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("byteAtATime");
    const QDir dir(QStringLiteral(SMTPC_SCRIPTS_DIR));
    const auto files = dir.entryList({QStringLiteral("*.smtp")}, QDir::Files, QDir::Name);
    QVERIFY2(files.size() >= 80, "the script folder is missing scripts");
    for (const QString& file : files) {
      QTest::newRow(qPrintable(file + QStringLiteral(" whole"))) << dir.filePath(file) << false;
      QTest::newRow(qPrintable(file + QStringLiteral(" bytewise"))) << dir.filePath(file) << true;
    }
  }
  void scripts() {
    QFETCH(QString, path);
    QFETCH(bool, byteAtATime);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray script = file.readAll();
    const auto result = smtpc::testing::runScript(std::string_view(script.constData(), script.size()), byteAtATime);
    if (!result.passed)
      qWarning().noquote() << "transcript:\n" << QString::fromStdString(result.transcript);
    QVERIFY2(result.passed, result.failure.c_str());
  }
};

QTEST_APPLESS_MAIN(TestScripts)
#include "tst_scripts.moc"
