// Teaching mode in the desktop window (issue 17), driven as a teacher would: a step-through run
// pressed Next by Next to the end, Continue and Run to end, a click on a transcript line that
// shows what it means, every lesson against one sandbox started with --lessons, and the run saved
// as an HTML page and an SVG diagram that parsers other than ours read and that hold no secret.
// Under Xvfb with SMTPC_SCREENSHOT_DIR set, `screenshot` writes step mode as a PNG for the README.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>

#include "gui_test.h"
#include "mainwindow.h"
#include "sandbox.h"
#include "secret_leaks.h"
#include "smtpc/line_explain.h"
#include "transcriptview.h"

using smtpc::gui::MainWindow;
using smtpc::gui::StartupValues;
using smtpc::testing::findSecret;

namespace {

QString plain(const QString& richText) {
  QTextDocument document;
  document.setHtml(richText);
  return document.toPlainText();
}

}  // namespace

class TestGuiTeach : public QObject {
  Q_OBJECT
  // A password unlike anything else in a transcript, so a leak search cannot match by chance.
  inline static const QString kSecret = QStringLiteral("Teach-Secret-8813");
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir dir_;
  QString sandboxJson_;

  std::unique_ptr<MainWindow> window() {
    StartupValues startup;
    startup.useSettings = false;
    startup.sandboxJson = sandboxJson_;
    auto w = std::make_unique<MainWindow>(startup);
    w->show();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("localhost"));
    select(child<QComboBox>(*w, "security"), QStringLiteral("starttls"));
    child<QSpinBox>(*w, "port")->setValue(sandbox_->port("starttls"));
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("learner"));
    child<QLineEdit>(*w, "password")->setText(kSecret);
    child<QLineEdit>(*w, "caFile")->setText(sandbox_->caFile());
    child<QSpinBox>(*w, "timeout")->setValue(20);
    return w;
  }

  // Presses a button and waits for the run to end; returns whether it succeeded.
  bool press(MainWindow& w, const char* button) { return pressAndWait(w, button); }

  // Waits until the run pauses (Next becomes enabled) or ends; true when it paused.
  static bool waitForPause(MainWindow& w, QSignalSpy& finished) {
    auto* next = child<QPushButton>(w, "nextButton");
    for (int i = 0; i < 3000 && !next->isEnabled() && finished.isEmpty(); ++i) QTest::qWait(10);
    return next->isEnabled();
  }

 private slots:
  void initTestCase() {
    qputenv("XDG_CONFIG_HOME", dir_.filePath(QStringLiteral("config")).toLocal8Bit());
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpc-tst-gui-teach");
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--lessons", "--user", "demo:demo", "--user",
                                                     QStringLiteral("learner:") + kSecret});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
    // What scripts/demo hands the window: the sandbox's JSON line, for the lessons' ports.
    sandboxJson_ = dir_.filePath(QStringLiteral("sandbox.json"));
    QFile json(sandboxJson_);
    QVERIFY(json.open(QIODevice::WriteOnly));
    json.write(QStringLiteral("{\"host\": \"127.0.0.1\", \"plain\": %1, \"starttls\": %2, \"tls\": %3, \"ca_file\": \"%4\"}\n")
                   .arg(sandbox_->port("plain")).arg(sandbox_->port("starttls")).arg(sandbox_->port("tls"))
                   .arg(sandbox_->caFile()).toUtf8());
  }

  void stepThroughToTheEnd() {
    auto w = window();
    child<QCheckBox>(*w, "stepMode")->setChecked(true);
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QStringList pauses;
    while (waitForPause(*w, finished)) {
      pauses << plain(child<QLabel>(*w, "pauseExplanation")->text());
      QVERIFY2(pauses.size() < 100, "no end in sight");
      // While paused nothing moves on by itself: no new transcript line after a while.
      if (pauses.size() == 3) {
        const QString before = w->transcriptText();
        QTest::qWait(300);
        QCOMPARE(w->transcriptText(), before);
      }
      QTest::mouseClick(child<QPushButton>(*w, "nextButton"), Qt::LeftButton);
    }
    QVERIFY2(finished.wait(30000) || !finished.isEmpty(), "the run did not end");
    QVERIFY2(finished.first().first().toBool(), qPrintable(child<QLabel>(*w, "status")->text()));
    const QString all = pauses.join(QStringLiteral("\n----\n"));
    // Every command the test sends had its stop, with why and what may come back.
    for (const char* command : {"EHLO", "STARTTLS", "AUTH PLAIN", "QUIT"})
      QVERIFY2(all.contains(QLatin1String("next we send: ") + QLatin1String(command)), qPrintable(all.left(3000)));
    QVERIFY2(all.contains(QStringLiteral("the server answered")), qPrintable(all.left(2000)));
    QVERIFY2(all.contains(QStringLiteral("RFC 3207")), qPrintable(all.left(2000)));
    QVERIFY2(pauses.size() >= 10, qPrintable(QString::number(pauses.size())));
    const std::string leaked = findSecret(all.toStdString(), kSecret.toStdString());
    QVERIFY2(leaked.empty(), leaked.c_str());
    QVERIFY(!child<QPushButton>(*w, "nextButton")->isEnabled());
  }

  void continueThenRunToEnd() {
    auto w = window();
    child<QCheckBox>(*w, "stepMode")->setChecked(true);
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QVERIFY(waitForPause(*w, finished));
    const QString first = plain(child<QLabel>(*w, "pauseExplanation")->text());
    QTest::mouseClick(child<QPushButton>(*w, "continueButton"), Qt::LeftButton);
    QVERIFY(waitForPause(*w, finished));
    QVERIFY2(plain(child<QLabel>(*w, "pauseExplanation")->text()) != first, qPrintable(first));
    QTest::mouseClick(child<QPushButton>(*w, "runToEndButton"), Qt::LeftButton);
    QVERIFY(!child<QCheckBox>(*w, "stepMode")->isChecked());
    QVERIFY(!waitForPause(*w, finished));  // no stop after Run to end
    QVERIFY(finished.wait(30000) || !finished.isEmpty());
    QVERIFY(finished.first().first().toBool());
  }

  void clickALineExplainsIt() {
    auto w = window();
    QVERIFY(press(*w, "testButton"));
    auto* view = child<smtpc::gui::TranscriptView>(*w, "transcript");
    // The server's 235 (login accepted): find its line, click it as a person would.
    int block = -1;
    for (int i = 0; i < view->document()->blockCount(); ++i)
      if (auto e = view->entryAt(i); e && e->kind == smtpc::TranscriptKind::Server && e->text.rfind("235", 0) == 0) block = i;
    QVERIFY(block >= 0);
    const smtpc::TranscriptEntry entry = *view->entryAt(block);
    QTextCursor cursor(view->document()->findBlockByNumber(block));
    view->setTextCursor(cursor);
    view->ensureCursorVisible();
    QTest::qWait(50);
    const QRect at = view->cursorRect(cursor);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at.center() + QPoint(40, 0));
    const QString shown = plain(child<QLabel>(*w, "lineExplanation")->text());
    const auto expected = smtpc::explainLine(entry);
    QVERIFY(!expected.title.empty());
    QVERIFY2(shown.contains(QString::fromStdString(expected.title)), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("RFC 4954")), qPrintable(shown));
  }

  void eachLesson() {
    auto w = window();
    auto* lessons = child<QListWidget>(*w, "lessons");
    QVERIFY(lessons->count() >= 7);
    for (int row = 0; row < lessons->count(); ++row) {
      lessons->setCurrentRow(row);
      const QString id = lessons->item(row)->data(Qt::UserRole).toString();
      QVERIFY2(!child<QLabel>(*w, "lessonWatch")->text().isEmpty(), qPrintable(id));
      const auto* lesson = smtpc::lessons::find(id.toStdString());
      QVERIFY(lesson);
      for (int run = 0; run < (lesson->retry ? 2 : 1); ++run) {
        QVERIFY2(child<QPushButton>(*w, "startLesson")->isEnabled(), qPrintable(id));
        press(*w, "startLesson");
        const QString result = child<QLabel>(*w, "lessonResult")->text();
        QVERIFY2(result.startsWith(QStringLiteral("✓")), qPrintable(id + ": " + result + "\n" + w->transcriptText().right(1500)));
      }
      // The lesson's settings are in the form, for the learner to see (the password masked).
      QCOMPARE(child<QLineEdit>(*w, "password")->echoMode(), QLineEdit::Password);
    }
    const std::string leaked = findSecret(w->transcriptText().toStdString(), "not-the-password");
    QVERIFY2(leaked.empty(), leaked.c_str());
  }

  void savesReports() {
    auto w = window();
    QString why;
    QVERIFY(!w->saveReport(dir_.filePath(QStringLiteral("early.html")), &why));  // nothing ran yet
    QVERIFY(press(*w, "testButton"));
    const QString html = dir_.filePath(QStringLiteral("run.html")), svg = dir_.filePath(QStringLiteral("run.svg"));
    QVERIFY2(w->saveReport(html, &why), qPrintable(why));
    QVERIFY2(w->saveReport(svg, &why), qPrintable(why));
    QVERIFY(!w->saveReport(dir_.filePath(QStringLiteral("run.pdf")), &why));
    for (const QString& path : {html, svg}) {
      QFile f(path);
      QVERIFY(f.open(QIODevice::ReadOnly));
      const QByteArray text = f.readAll();
      const std::string leaked = findSecret(text.toStdString(), kSecret.toStdString());
      QVERIFY2(leaked.empty(), qPrintable(path + ": " + QString::fromStdString(leaked)));
      QVERIFY(text.contains("STARTTLS"));
    }
    // Each line's explanation is in the page (the window gives the report core's explanations).
    QFile page(html);
    QVERIFY(page.open(QIODevice::ReadOnly));
    const auto ehlo = smtpc::explainLine(smtpc::TranscriptEntry{smtpc::TranscriptKind::Client, false, {}, "STARTTLS"});
    QVERIFY2(QString::fromUtf8(page.readAll()).contains(QString::fromStdString(ehlo.title).toHtmlEscaped()),
             ehlo.title.c_str());
    // Parsers that are not ours read both, and find no secret (tests/core/check_report.py).
    QProcess check;
    check.start(QStringLiteral("/usr/bin/python3"),
                {QStringLiteral(SMTPC_CHECK_REPORT), QStringLiteral("--absent"), kSecret, QStringLiteral("--present"),
                 QStringLiteral("STARTTLS"), html, svg});
    QVERIFY(check.waitForFinished(30000));
    QVERIFY2(check.exitCode() == 0, check.readAllStandardError().constData());
  }

  // Type it yourself: the whole conversation typed in the Console tab, with STARTTLS's handshake,
  // the AUTH helper and dot-stuffing done by SMTPc, and a command held back with a warning.
  void consoleSession() {
    auto w = window();
    auto* input = child<QLineEdit>(*w, "consoleInput");
    auto* log = child<smtpc::gui::TranscriptView>(*w, "consoleTranscript");
    auto type = [&](const QString& line) {
      input->setText(line);
      QTest::keyClick(input, Qt::Key_Return);
    };
    // Waits until the console's transcript holds `text` (a reply's words).
    auto until = [&](const QString& text, int times = 1) {
      for (int i = 0; i < 2000 && log->toPlainText().count(text) < times; ++i) QTest::qWait(10);
      return log->toPlainText().count(text) >= times;
    };
    for (auto* tabs : w->findChildren<QTabWidget*>())  // the Console tab, as a learner opens it
      for (int i = 0; i < tabs->count(); ++i)
        if (tabs->tabText(i).remove(u'&') == QStringLiteral("Console")) tabs->setCurrentIndex(i);
    QVERIFY(input->isVisible());
    QTest::mouseClick(child<QPushButton>(*w, "consoleConnect"), Qt::LeftButton);
    QVERIFY2(until(QStringLiteral("220 ")), qPrintable(log->toPlainText()));
    // MAIL before EHLO: held back with why; nothing leaves until the learner insists.
    type(QStringLiteral("MAIL FROM:<a@example.org>"));
    QVERIFY(child<QWidget>(*w, "consoleWarning")->isVisible());
    QVERIFY2(!child<QLabel>(*w, "consoleWarningText")->text().isEmpty(), "no reason given");
    QVERIFY(!log->toPlainText().contains(QStringLiteral("MAIL FROM")));
    QTest::mouseClick(child<QPushButton>(*w, "consoleDontSend"), Qt::LeftButton);
    QVERIFY(!child<QWidget>(*w, "consoleWarning")->isVisible());
    // One command at a time, each after its reply (the sandbox offers no PIPELINING): the state
    // line is the console's own word for what it waits for.
    auto* state = child<QLabel>(*w, "consoleState");
    auto typeAndWait = [&](const char* line, const QString& then) {
      type(QLatin1String(line));
      for (int i = 0; i < 2000 && state->text() != QStringLiteral("State: ") + then; ++i) QTest::qWait(10);
      return state->text() == QStringLiteral("State: ") + then;
    };
    QVERIFY2(typeAndWait("EHLO learner.example", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(typeAndWait("STARTTLS", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(log->toPlainText().contains(QStringLiteral("────")), "no TLS boundary");  // the handshake was done for us
    QVERIFY2(typeAndWait("EHLO learner.example", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(typeAndWait("AUTH PLAIN", QStringLiteral("credentials")), qPrintable(log->toPlainText().right(600)));
    QVERIFY(child<QWidget>(*w, "consoleCredentials")->isVisible());
    QCOMPARE(child<QLineEdit>(*w, "consoleUser")->text(), QStringLiteral("learner"));  // from the form
    QCOMPARE(child<QLineEdit>(*w, "consolePassword")->echoMode(), QLineEdit::Password);
    child<QLineEdit>(*w, "consolePassword")->setText(kSecret);
    QTest::mouseClick(child<QPushButton>(*w, "consoleCredentialsOk"), Qt::LeftButton);
    for (int i = 0; i < 2000 && state->text() != QStringLiteral("State: command"); ++i) QTest::qWait(10);
    QVERIFY2(log->toPlainText().contains(QStringLiteral("235 ")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(typeAndWait("MAIL FROM:<a@example.org>", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(typeAndWait("RCPT TO:<b@example.net>", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(typeAndWait("DATA", QStringLiteral("content")), qPrintable(log->toPlainText().right(600)));
    QVERIFY(until(QStringLiteral("354 ")));
    for (const char* line : {"Subject: typed in the GUI console", "", "Hello,", ".a line that starts with a dot"})
      type(QLatin1String(line));
    QVERIFY2(typeAndWait(".", QStringLiteral("command")), qPrintable(log->toPlainText().right(600)));
    QVERIFY2(log->toPlainText().right(300).contains(QStringLiteral("<~  250")), qPrintable(log->toPlainText().right(600)));
    type(QStringLiteral("QUIT"));
    QVERIFY(until(QStringLiteral("221")));
    const std::string leaked = findSecret(log->toPlainText().toStdString(), kSecret.toStdString());
    QVERIFY2(leaked.empty(), leaked.c_str());
    // The message arrived, its dot line as typed (stuffed on the wire, unstuffed by the server).
    bool found = false;
    for (int i = 0; i < 300 && !found; ++i) {
      for (const QFileInfo& f : QDir(sandbox_->maildir()).entryInfoList({QStringLiteral("*.eml")})) {
        QFile mail(f.filePath());
        if (!mail.open(QIODevice::ReadOnly)) continue;
        const QByteArray text = mail.readAll();
        if (!text.contains("typed in the GUI console")) continue;
        QVERIFY2(text.contains("\r\n.a line that starts with a dot\r\n"), text.constData());
        found = true;
      }
      if (!found) QTest::qWait(10);
    }
    QVERIFY(found);
  }

  // For the README: the window stopped before STARTTLS with the greeting's line explained, and the
  // run's sequence diagram.
  void screenshot() {
    const QString dir = qEnvironmentVariable("SMTPC_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("set SMTPC_SCREENSHOT_DIR (ctest -R gui.teach_screenshots)");
    QDir().mkpath(dir);
    auto w = window();
    w->resize(1300, 860);
    child<QCheckBox>(*w, "stepMode")->setChecked(true);
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    while (waitForPause(*w, finished) &&
           !plain(child<QLabel>(*w, "pauseExplanation")->text()).contains(QStringLiteral("next we send: STARTTLS")))
      QTest::mouseClick(child<QPushButton>(*w, "nextButton"), Qt::LeftButton);
    QVERIFY(child<QPushButton>(*w, "nextButton")->isEnabled());
    auto* view = child<smtpc::gui::TranscriptView>(*w, "transcript");
    for (int i = 0; i < view->document()->blockCount(); ++i) {
      const auto e = view->entryAt(i);
      if (!e || e->kind != smtpc::TranscriptKind::Server || e->text.rfind("250-STARTTLS", 0) != 0) continue;
      QTextCursor cursor(view->document()->findBlockByNumber(i));
      view->setTextCursor(cursor);
      QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->cursorRect(cursor).center() + QPoint(40, 0));
    }
    QTest::qWait(300);
    const QImage image = w->grab().toImage();
    QVERIFY(image.save(dir + QStringLiteral("/gui-step-mode.png")));
    qInfo("screenshot: %s/gui-step-mode.png", qPrintable(dir));
    QTest::mouseClick(child<QPushButton>(*w, "runToEndButton"), Qt::LeftButton);
    QVERIFY(finished.wait(30000) || !finished.isEmpty());
    QString why;
    QVERIFY2(w->saveReport(dir + QStringLiteral("/sequence.svg"), &why), qPrintable(why));
    QVERIFY2(w->saveReport(dir + QStringLiteral("/report.html"), &why), qPrintable(why));
  }
};

QTEST_MAIN(TestGuiTeach)
#include "tst_gui_teach.moc"
