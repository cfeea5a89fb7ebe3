// The desktop window driven as a person would: fill the form, press the buttons, read the
// result. Against the aiosmtpd sandbox on loopback. With SMTPC_SCREENSHOT_DIR set (under Xvfb),
// the `screenshots` function writes the window after a success and after a failure as PNG.
#include <QCheckBox>
#include <QFileInfo>
#include <qplatformdefs.h>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTreeWidget>

#include "gui_test.h"
#include "mainwindow.h"
#include "sandbox.h"
#include "secret_leaks.h"
#include "stepbar.h"

using smtpc::gui::MainWindow;
using smtpc::gui::StartupValues;
using smtpc::testing::findSecret;

namespace {

QString treeText(QTreeWidget* tree) {
  QString all;
  for (QTreeWidgetItemIterator it(tree); *it; ++it)
    for (int c = 0; c < tree->columnCount(); ++c) all += (*it)->text(c) + u'\t';
  return all;
}

// What a person reads in a label or tooltip: its text as Qt renders it (rich text when the label
// says so, or when it is AutoText and the text looks like HTML).
QString rendered(const QString& text, Qt::TextFormat format) {
  const bool rich = format == Qt::RichText || (format == Qt::AutoText && Qt::mightBeRichText(text));
  if (!rich) return text;
  QTextDocument document;
  document.setHtml(text);
  return document.toPlainText();
}

// An SMTP server on loopback that says what it is told: its greeting and EHLO reply carry markup
// and terminal control sequences. Answers QUIT with 221, anything else with 250.
class HostileServer : public QObject {
 public:
  HostileServer(QByteArray greeting, QByteArray ehlo) : greeting_(std::move(greeting)), ehlo_(std::move(ehlo)) {
    server_.listen(QHostAddress::LocalHost, 0);
    QObject::connect(&server_, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* socket = server_.nextPendingConnection()) {
        socket->setParent(this);
        socket->write(greeting_);
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
          while (socket->canReadLine()) {
            const QByteArray line = socket->readLine().trimmed().toUpper();
            if (line.startsWith("EHLO")) {
              socket->write(ehlo_);
            } else if (line.startsWith("QUIT")) {
              socket->write("221 bye\r\n");
              socket->disconnectFromHost();
            } else {
              socket->write("250 OK\r\n");
            }
          }
        });
      }
    });
  }
  std::uint16_t port() const { return server_.serverPort(); }

 private:
  QTcpServer server_;
  QByteArray greeting_;
  QByteArray ehlo_;
};

}  // namespace

class TestGui : public QObject {
  Q_OBJECT
  // A password unlike anything else in a transcript, so a leak search cannot match by chance.
  inline static const QString kSecret = QStringLiteral("Gui-Secret-4711");
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir config_;

  // A window filled for the sandbox's STARTTLS port, user demo.
  std::unique_ptr<MainWindow> window(const QString& password = QStringLiteral("demo"), bool useSettings = false) {
    auto w = std::make_unique<MainWindow>(StartupValues{.useSettings = useSettings});
    w->show();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("localhost"));
    select(child<QComboBox>(*w, "security"), QStringLiteral("starttls"));
    child<QSpinBox>(*w, "port")->setValue(sandbox_->port("starttls"));
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("demo"));
    child<QLineEdit>(*w, "password")->setText(password);
    child<QLineEdit>(*w, "caFile")->setText(sandbox_->caFile());
    child<QSpinBox>(*w, "timeout")->setValue(20);
    return w;
  }

  // Presses a button and waits for the run to end; returns whether it succeeded.
  bool press(MainWindow& w, const char* button) { return pressAndWait(w, button); }

  QString steps(MainWindow& w) { return child<smtpc::gui::StepBar>(w, "steps")->summary(); }
  QString status(MainWindow& w) { return child<QLabel>(w, "status")->text(); }
  QString explanation(MainWindow& w) { return child<QLabel>(w, "explanation")->text(); }

  void shoot(MainWindow& w, const QString& name) {
    const QString dir = qEnvironmentVariable("SMTPC_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    QDir().mkpath(dir);
    QTest::qWait(200);  // let the window settle (fonts, layout) before the grab
    const QImage image = w.grab().toImage();
    const QString path = dir + u'/' + name + QStringLiteral(".png");
    QVERIFY(image.save(path));
    // Not a blank rectangle: a real window has many distinct colours.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    QVERIFY2(colours.size() > 20, qPrintable(path));
    qInfo("screenshot: %s (%dx%d)", qPrintable(path), image.width(), image.height());
  }

 private slots:
  static bool keychainTest() { return qEnvironmentVariableIsSet("SMTPC_TEST_KEYCHAIN"); }

  void initTestCase() {
    // Remembered settings go to a private folder, never the user's.
    qputenv("XDG_CONFIG_HOME", config_.path().toLocal8Bit());
    // Nor do remembered passwords reach the user's keychain: unless gui.keychain provides a
    // private one, D-Bus points nowhere, so no keychain answers (as on a headless machine).
    if (!keychainTest()) qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpc-tst-gui");
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--reject-rcpt", "nobody", "--user", "demo:demo", "--user",
                                                     QStringLiteral("learner:") + kSecret});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
  }

  void testSucceeds() {
    auto w = window(kSecret);
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("learner"));
    QVERIFY(press(*w, "testButton"));
    QCOMPARE(steps(*w), QStringLiteral("Connect:done Greeting:done Ehlo:done StartTls:done TlsHandshake:done "
                                       "EhloAgain:done Auth:done Quit:done"));
    QVERIFY2(status(*w).contains(QStringLiteral("The setup works")), qPrintable(status(*w)));
    const QString transcript = w->transcriptText();
    QVERIFY(transcript.contains(QStringLiteral("-> STARTTLS")));
    QVERIFY(transcript.contains(QStringLiteral("TLS established")));
    QVERIFY(transcript.contains(QStringLiteral("~> AUTH PLAIN")));
    // The password never travels raw: look for every SASL encoding of it, at any alignment.
    const std::string leaked = findSecret(transcript.toStdString(), kSecret.toStdString());
    QVERIFY2(leaked.empty(), leaked.c_str());
    QVERIFY(!transcript.contains(QStringLiteral("MAIL FROM")));       // a test sends no mail
    const QString capabilities = treeText(child<QTreeWidget>(*w, "capabilities"));
    QVERIFY2(capabilities.contains(QStringLiteral("AUTH\t")), qPrintable(capabilities));
    QVERIFY(capabilities.contains(QStringLiteral("PLAIN")));
    QVERIFY(capabilities.contains(QStringLiteral("SASL mechanisms")));
    const QString tls = treeText(child<QTreeWidget>(*w, "tls"));
    QVERIFY2(tls.contains(QStringLiteral("TLSv1.3")) || tls.contains(QStringLiteral("TLSv1.2")), qPrintable(tls));
    QVERIFY(tls.contains(QStringLiteral("verified")));
    QVERIFY(tls.contains(QStringLiteral("sha256//")));
    QVERIFY(tls.contains(QStringLiteral("localhost")));
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
    QVERIFY(!child<QPushButton>(*w, "cancelButton")->isEnabled());
  }

  // "Don't stop" (core's planRun: quitWhenReady): the test logs in, is ready, and says QUIT
  // itself, without the "Stopping after" of a chosen phase; before, the list had no such entry.
  void dontStopQuitsWhenReady() {
    auto w = window();
    select(child<QComboBox>(*w, "stopAfter"), QStringLiteral("none"));
    QVERIFY2(press(*w, "testButton"), qPrintable(status(*w)));
    const QString transcript = w->transcriptText();
    QVERIFY2(transcript.contains(QStringLiteral("~> QUIT")), qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("Logged in.")), qPrintable(transcript));
    QVERIFY(!transcript.contains(QStringLiteral("Stopping after")));
    QVERIFY(!transcript.contains(QStringLiteral("MAIL FROM")));
  }

  void wrongPassword() {
    auto w = window(QStringLiteral("not-the-password"));
    QVERIFY(!press(*w, "testButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("Login refused")), qPrintable(status(*w)));
    QVERIFY(steps(*w).contains(QStringLiteral("Auth:failed")));
    QVERIFY(explanation(*w).contains(QStringLiteral("Check the user name")));
    QVERIFY(explanation(*w).contains(QStringLiteral("535")));
    const std::string leaked = findSecret(w->transcriptText().toStdString(), "not-the-password");
    QVERIFY2(leaked.empty(), leaked.c_str());
  }

  void closedPort() {
    auto w = window();
    child<QSpinBox>(*w, "port")->setValue(ServerProcess::closedPort());
    QVERIFY(!press(*w, "testButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("Nothing answers on localhost port")), qPrintable(status(*w)));
    QVERIFY(steps(*w).startsWith(QStringLiteral("Connect:failed Greeting:pending")));
    QVERIFY(explanation(*w).contains(QStringLiteral("587 is for STARTTLS")));
  }

  void implicitTlsOnAStartTlsPort() {
    auto w = window();
    select(child<QComboBox>(*w, "security"), QStringLiteral("tls"));
    QVERIFY(!press(*w, "testButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("TLS handshake failed")), qPrintable(status(*w)));
    QVERIFY(steps(*w).contains(QStringLiteral("TlsHandshake:failed")));
    QVERIFY2(explanation(*w).contains(QStringLiteral("Choose &quot;STARTTLS&quot;")), qPrintable(explanation(*w)));
  }

  void clearTextRunIsFlagged() {
    // starttls-if-offered to a port without STARTTLS "works": the window says it was not
    // encrypted, beside the headline; a TLS run right after clears the warning.
    auto w = window();
    select(child<QComboBox>(*w, "security"), QStringLiteral("starttls-if-offered"));
    child<QSpinBox>(*w, "port")->setValue(sandbox_->port("plain"));
    child<QLineEdit>(*w, "username")->clear();
    QVERIFY(press(*w, "testButton"));
    auto* warning = child<QLabel>(*w, "resultWarning");
    QVERIFY(warning->isVisible());
    QVERIFY2(warning->text().contains(QStringLiteral("Not encrypted")) &&
                 warning->text().contains(QStringLiteral("STARTTLS (required)")),
             qPrintable(warning->text()));
    QCOMPARE(warning->textFormat(), Qt::PlainText);
    select(child<QComboBox>(*w, "security"), QStringLiteral("starttls"));
    child<QSpinBox>(*w, "port")->setValue(sandbox_->port("starttls"));
    QVERIFY(press(*w, "testButton"));
    QVERIFY(!warning->isVisible());
  }

  void untrustedCertificate() {
    auto w = window();
    child<QLineEdit>(*w, "caFile")->clear();
    QVERIFY(!press(*w, "testButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("certificate is not trusted")), qPrintable(status(*w)));
    QVERIFY(explanation(*w).contains(QStringLiteral("(CA file)")));
    // The teaching switch goes on, and says so loudly.
    child<QCheckBox>(*w, "acceptInvalid")->setChecked(true);
    QVERIFY(press(*w, "testButton"));
    QVERIFY(explanation(*w).contains(QStringLiteral("NOT valid")));
  }

  void portFollowsSecurityUntilEdited() {
    MainWindow w(StartupValues{.useSettings = false});
    auto* security = child<QComboBox>(w, "security");
    auto* port = child<QSpinBox>(w, "port");
    select(security, QStringLiteral("tls"));
    QCOMPARE(port->value(), 465);
    select(security, QStringLiteral("none"));
    QCOMPARE(port->value(), 25);
    port->setValue(2525);  // the user's choice now sticks
    select(security, QStringLiteral("starttls"));
    QCOMPARE(port->value(), 2525);
  }

  void presets() {
    MainWindow w(StartupValues{.useSettings = false});
    auto* preset = child<QComboBox>(w, "preset");
    w.applyPreset(preset->findData(QStringLiteral("yahoo")));
    QCOMPARE(child<QLineEdit>(w, "server")->text(), QStringLiteral("smtp.mail.yahoo.com"));
    QCOMPARE(child<QSpinBox>(w, "port")->value(), 465);
    QCOMPARE(child<QComboBox>(w, "security")->currentData().toString(), QStringLiteral("tls"));
    QVERIFY(child<QLabel>(w, "presetNote")->text().contains(QStringLiteral("app password")));
    w.applyPreset(preset->findData(QStringLiteral("gmail")));
    QCOMPARE(child<QLineEdit>(w, "server")->text(), QStringLiteral("smtp.gmail.com"));
    QCOMPARE(child<QSpinBox>(w, "port")->value(), 587);
    QCOMPARE(child<QComboBox>(w, "security")->currentData().toString(), QStringLiteral("starttls"));
  }

  void badInputIsExplainedNotSent() {
    auto w = window();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("smtp://mail.example.com"));
    QSignalSpy ended(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QVERIFY(!w->isRunning());
    QCOMPARE(ended.size(), 1);  // said at once, so a caller waiting for the end is not left hanging
    QCOMPARE(ended.first().first().toBool(), false);
    QVERIFY(status(*w).contains(QStringLiteral("not a server name")));
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("localhost"));
    child<QLineEdit>(*w, "from")->setText(QStringLiteral("not an address"));
    QTest::mouseClick(child<QPushButton>(*w, "sendButton"), Qt::LeftButton);
    QVERIFY(!w->isRunning());
    QVERIFY2(status(*w).contains(QStringLiteral("not ready")), qPrintable(status(*w)));
  }

  void sendsAMessage() {
    auto w = window();
    child<QLineEdit>(*w, "from")->setText(QStringLiteral("Ada <ada@example.org>"));
    child<QLineEdit>(*w, "to")->setText(QStringLiteral("one@example.net, \"Two, Esq.\" <two@example.net>"));
    child<QLineEdit>(*w, "bcc")->setText(QStringLiteral("hidden@example.net"));
    child<QLineEdit>(*w, "subject")->setText(QStringLiteral("GUI test %1").arg(QDateTime::currentMSecsSinceEpoch()));
    const QString subject = child<QLineEdit>(*w, "subject")->text();
    const int before = QDir(sandbox_->maildir()).entryList({"*.eml"}).size();
    QVERIFY(press(*w, "sendButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("accepted")), qPrintable(status(*w)));
    QCOMPARE(steps(*w), QStringLiteral("Connect:done Greeting:done Ehlo:done StartTls:done TlsHandshake:done "
                                       "EhloAgain:done Auth:done Mail:done Rcpt:done Data:done Quit:done"));
    const QStringList files = QDir(sandbox_->maildir()).entryList({"*.eml"}, QDir::Files, QDir::Time);
    QCOMPARE(files.size(), before + 1);
    QFile file(sandbox_->maildir() + u'/' + files.first());
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray stored = file.readAll();
    QVERIFY(stored.contains(subject.toUtf8()));
    QVERIFY(stored.contains("\"Two, Esq.\" <two@example.net>"));
    QVERIFY(!stored.contains("hidden@example.net"));  // Bcc is envelope only
  }

  void refusedRecipientExplained() {
    auto w = window();
    child<QLineEdit>(*w, "from")->setText(QStringLiteral("ada@example.org"));
    child<QLineEdit>(*w, "to")->setText(QStringLiteral("nobody@example.net"));
    QVERIFY(!press(*w, "sendButton"));
    QVERIFY2(status(*w).contains(QStringLiteral("recipient was refused")), qPrintable(status(*w)));
    QVERIFY(steps(*w).contains(QStringLiteral("Rcpt:failed")));
  }

  void cancelWhileSending() {
    QTemporaryDir dir;
    QFile big(dir.filePath(QStringLiteral("big.bin")));
    QVERIFY(big.open(QIODevice::WriteOnly));
    const QByteArray chunk(1 << 20, 'x');
    for (int i = 0; i < 16; ++i) big.write(chunk);  // 16 MB (21 MB in base64): DATA takes a while
    big.close();
    auto w = window();
    child<QLineEdit>(*w, "from")->setText(QStringLiteral("ada@example.org"));
    child<QLineEdit>(*w, "to")->setText(QStringLiteral("one@example.net"));
    w->addAttachment(big.fileName());
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "sendButton"), Qt::LeftButton);
    auto* progress = child<QProgressBar>(*w, "progress");
    QVERIFY(QTest::qWaitFor([&] { return progress->maximum() > 0 && progress->value() > 0; }, 30000));
    QVERIFY(child<QPushButton>(*w, "cancelButton")->isEnabled());
    QTest::mouseClick(child<QPushButton>(*w, "cancelButton"), Qt::LeftButton);
    QVERIFY(finished.wait(20000) || finished.size() == 1);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY2(status(*w).contains(QStringLiteral("Cancelled")), qPrintable(status(*w)));
    QVERIFY(steps(*w).contains(QStringLiteral("Data:failed")));
  }

  // No keychain answers here (initTestCase points D-Bus nowhere): the password goes to the
  // settings file, with a warning in the window, the file readable by its owner only, and it is
  // given back only for the server, port and user it was saved for.
  void passwordRememberedOnlyWhenAsked() {
    if (keychainTest()) QSKIP("runs without a keychain (gui.tst_gui)");
    QSettings settings(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    QVERIFY2(settings.fileName().startsWith(config_.path()), qPrintable(settings.fileName()));
    const auto fileText = [&] {
      QFile file(settings.fileName());
      return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    };
    {
      auto w = window(QStringLiteral("secret-one"), true);
      w->close();
      QVERIFY(!child<QLabel>(*w, "passwordWarning")->isVisibleTo(w.get()));
    }
    settings.sync();
    QCOMPARE(settings.value(QStringLiteral("username")).toString(), QStringLiteral("demo"));
    QVERIFY(!fileText().contains("secret-one"));
    {
      auto w = window(QStringLiteral("secret-two"), true);
      child<QCheckBox>(*w, "rememberPassword")->setChecked(true);
      w->close();
      auto* warning = child<QLabel>(*w, "passwordWarning");
      QVERIFY(warning->isVisibleTo(w.get()));
      QVERIFY2(warning->text().contains(QStringLiteral("plain text")) && warning->text().contains(settings.fileName()),
               qPrintable(warning->text()));
    }
    QT_STATBUF info;
    QVERIFY(QT_STAT(QFile::encodeName(settings.fileName()).constData(), &info) == 0);
    QCOMPARE(info.st_mode & 0777, 0600u);
    settings.sync();
    QVERIFY(fileText().contains("secret-two"));      // the fallback is plain text, and says so
    QVERIFY(!settings.contains(QStringLiteral("password")));  // never unbound
    const int port = sandbox_->port("starttls");
    {
      MainWindow again(StartupValues{.useSettings = true});
      QCOMPARE(child<QLineEdit>(again, "password")->text(), QStringLiteral("secret-two"));
      QCOMPARE(child<QSpinBox>(again, "port")->value(), port);
      QVERIFY(child<QLabel>(again, "passwordWarning")->isVisibleTo(&again));
      // Another account typed into the form: the password filled in for this one goes.
      child<QLineEdit>(again, "server")->setText(QStringLiteral("elsewhere.example"));
      QVERIFY(child<QLineEdit>(again, "password")->text().isEmpty());
    }
    // Saved for localhost, this port and demo: another server, port or user gets nothing.
    for (const auto& [key, value] : {std::pair<QString, QVariant>{QStringLiteral("server"), QStringLiteral("LOCALHOST.")},
                                     {QStringLiteral("port"), port + 1},
                                     {QStringLiteral("username"), QStringLiteral("demo2")}}) {
      const QVariant saved = settings.value(key);
      settings.setValue(key, value);
      settings.sync();
      {
        MainWindow other(StartupValues{.useSettings = true});
        QVERIFY2(child<QLineEdit>(other, "password")->text().isEmpty(), qPrintable(key));
      }
      settings.setValue(key, saved);
      settings.sync();
    }
    {
      MainWindow same(StartupValues{.useSettings = true});
      QCOMPARE(child<QLineEdit>(same, "password")->text(), QStringLiteral("secret-two"));
      // Unticking "remember" forgets it at once.
      child<QCheckBox>(same, "rememberPassword")->setChecked(false);
      QVERIFY(!child<QLabel>(same, "passwordWarning")->isVisibleTo(&same));
    }
    settings.sync();
    QVERIFY(!fileText().contains("secret-two"));
  }

  // A password remembered by an older version (one unbound "password" key) moves to the store,
  // bound to the account saved beside it.
  void legacyPasswordIsBound() {
    if (keychainTest()) QSKIP("runs without a keychain (gui.tst_gui)");
    QSettings settings(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    settings.setValue(QStringLiteral("server"), QStringLiteral("legacy.example"));
    settings.setValue(QStringLiteral("username"), QStringLiteral("old"));
    settings.setValue(QStringLiteral("rememberPassword"), true);
    settings.setValue(QStringLiteral("password"), QStringLiteral("legacy-secret"));
    settings.sync();
    {
      MainWindow w(StartupValues{.useSettings = true});
      QCOMPARE(child<QLineEdit>(w, "password")->text(), QStringLiteral("legacy-secret"));
    }
    settings.sync();
    QVERIFY(!settings.contains(QStringLiteral("password")));
    settings.setValue(QStringLiteral("username"), QStringLiteral("someone-else"));
    settings.sync();
    MainWindow other(StartupValues{.useSettings = true});
    QVERIFY(child<QLineEdit>(other, "password")->text().isEmpty());
  }

  // With a real Secret Service (gui.keychain starts a private GNOME keyring on a private D-Bus):
  // the password goes to the keychain, never to the settings file, and no warning is shown.
  void passwordInKeychain() {
    if (!keychainTest()) QSKIP("needs a secret service (ctest -R gui.keychain)");
    QSettings settings(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    {
      auto w = window(QStringLiteral("keychain-secret-5"), true);
      child<QCheckBox>(*w, "rememberPassword")->setChecked(true);
      w->close();
      QVERIFY2(!child<QLabel>(*w, "passwordWarning")->isVisibleTo(w.get()),
               qPrintable(child<QLabel>(*w, "passwordWarning")->text()));
    }
    settings.sync();
    QFile file(settings.fileName());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(!file.readAll().contains("keychain-secret-5"));
    smtpc::gui::PasswordStore store(&settings);
    smtpc::gui::PasswordStore::Where where = smtpc::gui::PasswordStore::Where::Nowhere;
    const int port = sandbox_->port("starttls");
    QCOMPARE(store.load({QStringLiteral("localhost"), port, QStringLiteral("demo")}, &where),
             QStringLiteral("keychain-secret-5"));
    QVERIFY(where == smtpc::gui::PasswordStore::Where::Keychain);
    QVERIFY(store.load({QStringLiteral("localhost"), port + 1, QStringLiteral("demo")}).isEmpty());
    QVERIFY(store.load({QStringLiteral("localhost"), port, QStringLiteral("demo2")}).isEmpty());
    MainWindow again(StartupValues{.useSettings = true});
    QCOMPARE(child<QLineEdit>(again, "password")->text(), QStringLiteral("keychain-secret-5"));
    child<QCheckBox>(again, "rememberPassword")->setChecked(false);
    QVERIFY(store.load({QStringLiteral("localhost"), port, QStringLiteral("demo")}).isEmpty());
  }

  // Under Xvfb (the gui.screenshots test): the window after a success and after a failure.
  void screenshots() {
    if (qEnvironmentVariable("SMTPC_SCREENSHOT_DIR").isEmpty()) QSKIP("set SMTPC_SCREENSHOT_DIR (ctest -R gui.screenshots)");
    auto ok = window();
    QVERIFY(press(*ok, "testButton"));
    shoot(*ok, QStringLiteral("gui-success"));
    auto bad = window(QStringLiteral("wrong"));
    QVERIFY(!press(*bad, "testButton"));
    shoot(*bad, QStringLiteral("gui-wrong-password"));
  }
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
