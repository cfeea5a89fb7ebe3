// The window's "Find settings" (issue 15) driven as a person would, against the discovery world
// (tests/servers/discovery_world.py): a DNS server, HTTPS autoconfig and an ISPDB mirror on
// loopback addresses, and the sandbox SMTP servers its domains lead to. The window gets the world
// as the demo gives it: --dns-server and --ispdb (StartupValues), the world's CA in the CA field.
// The world listens on port 53, so it needs root: without it every test is skipped.
//
// With SMTPC_SCREENSHOT_DIR set (under Xvfb), `screenshot` writes the window after own.test.
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUdpSocket>

#include "gui_test.h"
#include "mainwindow.h"
#include "sandbox.h"
#include "stepbar.h"

using smtpc::gui::MainWindow;
using smtpc::gui::StartupValues;

namespace {

// Relays every connection to `port` on 127.0.0.1: a provider's fixed port (587) in front of a
// sandbox listening on a port of its own.
class Forwarder : public QObject {
 public:
  Forwarder(const QHostAddress& address, quint16 listenPort, quint16 port) : port_(port) {
    server_.listen(address, listenPort);
    QObject::connect(&server_, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* in = server_.nextPendingConnection()) {
        auto* out = new QTcpSocket(in);
        QObject::connect(in, &QTcpSocket::readyRead, out, [in, out] { out->write(in->readAll()); });
        QObject::connect(out, &QTcpSocket::readyRead, in, [in, out] { in->write(out->readAll()); });
        QObject::connect(in, &QTcpSocket::disconnected, out, &QTcpSocket::disconnectFromHost);
        QObject::connect(out, &QTcpSocket::disconnected, in, &QTcpSocket::disconnectFromHost);
        out->connectToHost(QHostAddress::LocalHost, port_);
      }
    });
  }
  bool ok() const { return server_.isListening(); }

 private:
  QTcpServer server_;
  quint16 port_;
};

}  // namespace

class TestGuiDiscovery : public QObject {
  Q_OBJECT
  std::unique_ptr<DiscoveryWorld> world_;
  QTemporaryDir config_;

  smtpc::qt::NetworkOptions worldNetwork() const {
    smtpc::qt::NetworkOptions network;
    network.dnsServer = QHostAddress(world_->dns());
    return network;
  }

  // A window as `smtpc-gui --dns-server DNS --ispdb ISPDB` opens it, the world's CA in the CA
  // field, and a server already typed in (a failed discovery must leave it).
  std::unique_ptr<MainWindow> window(const smtpc::qt::NetworkOptions& network, bool useSettings = false) {
    StartupValues startup;
    startup.useSettings = useSettings;
    startup.network = network;
    startup.ispdb = world_->ispdb();
    auto w = std::make_unique<MainWindow>(startup);
    w->show();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("typed.before.example"));
    child<QLineEdit>(*w, "caFile")->setText(world_->caFile());
    child<QSpinBox>(*w, "timeout")->setValue(20);
    return w;
  }
  std::unique_ptr<MainWindow> window() { return window(worldNetwork()); }

  // Types the address, presses Find settings and waits for the end; returns whether it found.
  bool discover(MainWindow& w, const QString& address) {
    child<QLineEdit>(w, "emailAddress")->setText(address);
    QSignalSpy finished(&w, &MainWindow::discoveryFinished);
    QTest::mouseClick(child<QPushButton>(w, "discoverButton"), Qt::LeftButton);
    if (finished.isEmpty() && !finished.wait(60000)) return false;
    return finished.first().first().toBool();
  }

  QString text(MainWindow& w, const char* name) { return child<QLineEdit>(w, name)->text(); }
  QString status(MainWindow& w) { return child<QLabel>(w, "status")->text(); }
  QString explanation(MainWindow& w) { return child<QLabel>(w, "explanation")->text(); }
  QString warning(MainWindow& w) { return child<QLabel>(w, "resultWarning")->text(); }
  QString data(MainWindow& w, const char* name) { return child<QComboBox>(w, name)->currentData().toString(); }

 private slots:
  void initTestCase() {
    qputenv("XDG_CONFIG_HOME", config_.path().toLocal8Bit());  // remembered settings: never the user's
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpc-tst-gui-discovery");
    world_ = std::make_unique<DiscoveryWorld>();
    if (!world_->ok()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  }

  // own.test publishes its autoconfig over HTTPS: the form is filled in with its implicit-TLS
  // server, and the result says which source decided and why.
  void ownDomainFillsTheForm() {
    auto w = window();
    QVERIFY2(discover(*w, QStringLiteral("alice@own.test")), qPrintable(status(*w) + u'\n' + w->transcriptText()));
    QCOMPARE(text(*w, "server"), QStringLiteral("smtp.own.test"));
    QCOMPARE(child<QSpinBox>(*w, "port")->value(), world_->smtpPort("tls"));
    QCOMPARE(data(*w, "security"), QStringLiteral("tls"));
    QCOMPARE(text(*w, "username"), QStringLiteral("alice@own.test"));
    QCOMPARE(data(*w, "preset"), QStringLiteral("custom"));
    QVERIFY2(status(*w).contains(QStringLiteral("Found: smtp.own.test port %1 (implicit TLS)").arg(world_->smtpPort("tls"))),
             qPrintable(status(*w)));
    const QString why = explanation(*w);
    QVERIFY2(why.contains(QStringLiteral("Autoconfig (https://autoconfig.own.test/mail/config-v1.1.xml")), qPrintable(why));
    QVERIFY2(why.contains(QStringLiteral("Why this one:")) && why.contains(QStringLiteral("Implicit TLS (RFC 8314)")),
             qPrintable(why));
    QVERIFY2(why.contains(QStringLiteral("Servers, best first:")), qPrintable(why));
    QVERIFY(!child<QLabel>(*w, "resultWarning")->isVisible());  // its own domain, over HTTPS: nothing to warn of
    // The step bar shows what Test will now do: implicit TLS, then a login.
    const QString steps = child<smtpc::gui::StepBar>(*w, "steps")->summary();
    QVERIFY2(steps.contains(QStringLiteral("TlsHandshake:pending")) && steps.contains(QStringLiteral("Auth:pending")),
             qPrintable(steps));
    QVERIFY2(!steps.contains(QStringLiteral("StartTls")), qPrintable(steps));
    // The transcript: each source, what was asked, what came back, how long it took.
    const QString transcript = w->transcriptText();
    QVERIFY2(transcript.contains(QStringLiteral("Autoconfig: https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test")),
             qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("→ Own Test Mail: names smtp.own.test")), qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("DNS SRV: SRV _submissions._tcp.own.test")), qPrintable(transcript));
    QVERIFY2(transcript.contains(QRegularExpression(QStringLiteral("→ no such name \\(NXDOMAIN\\) \\(\\d+ ms\\)"))),
             qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("Probe: smtp.own.test port")), qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("Filled in: smtp.own.test")), qPrintable(transcript));
    // Runnable again, the button is Find settings again.
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
    QVERIFY(!child<QPushButton>(*w, "cancelButton")->isEnabled());
    QCOMPARE(child<QPushButton>(*w, "discoverButton")->text(), QStringLiteral("Find settings"));
  }

  // Each step is in the transcript as it comes, while the form cannot run and the button is Cancel.
  void stepsAppearWhileItRuns() {
    auto w = window();
    auto* transcript = child<QPlainTextEdit>(*w, "transcript");
    int answersWhileRunning = 0;
    bool formRunnable = false, cancellable = true;
    QString buttonText;
    connect(transcript, &QPlainTextEdit::textChanged, this, [&] {
      if (!w->isDiscovering()) return;
      answersWhileRunning = static_cast<int>(transcript->toPlainText().count(u'→'));
      formRunnable = formRunnable || child<QPushButton>(*w, "testButton")->isEnabled() ||
                     child<QPushButton>(*w, "sendButton")->isEnabled() || child<QComboBox>(*w, "preset")->isEnabled();
      cancellable = cancellable && child<QPushButton>(*w, "cancelButton")->isEnabled();
      buttonText = child<QPushButton>(*w, "discoverButton")->text();
    });
    QVERIFY(discover(*w, QStringLiteral("alice@own.test")));
    // Provider, 2 SRV, MX, well-known, ISPDB, autoconfig, a probe: all before the end.
    QVERIFY2(answersWhileRunning >= 8, qPrintable(QString::number(answersWhileRunning) + u'\n' + w->transcriptText()));
    QVERIFY(!formRunnable);
    QVERIFY(cancellable);
    QCOMPARE(buttonText, QStringLiteral("Cancel"));
  }

  // hosted.test's MX leads to mailhost.test's ISPDB entry: another domain, from a source the
  // domain does not control, so the result warns before anyone logs in.
  void otherDomainIsWarnedOf() {
    auto w = window();
    QVERIFY2(discover(*w, QStringLiteral("bob@hosted.test")), qPrintable(status(*w)));
    QCOMPARE(text(*w, "server"), QStringLiteral("smtp.mailhost.test"));
    QVERIFY(child<QLabel>(*w, "resultWarning")->isVisible());
    QVERIFY2(warning(*w).startsWith(u'⚠'), qPrintable(warning(*w)));
    QVERIFY2(warning(*w).contains(QStringLiteral("smtp.mailhost.test is not in hosted.test's domain")), qPrintable(warning(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("What the provider wants:")), qPrintable(explanation(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("OAuth 2")), qPrintable(explanation(*w)));
    QVERIFY2(w->transcriptText().contains(QStringLiteral("DNS MX: MX hosted.test")), qPrintable(w->transcriptText()));
  }

  // empty.test has nothing: the failure says what was tried, and the form is as it was.
  void nothingFoundLeavesTheForm() {
    auto w = window();
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("typed-user"));
    QVERIFY(!discover(*w, QStringLiteral("x@empty.test")));
    QCOMPARE(text(*w, "server"), QStringLiteral("typed.before.example"));
    QCOMPARE(text(*w, "username"), QStringLiteral("typed-user"));
    QVERIFY2(status(*w).contains(QStringLiteral("No settings found")), qPrintable(status(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("SMTPc found no working submission server for empty.test")),
             qPrintable(explanation(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("The form is as it was")), qPrintable(explanation(*w)));
    QVERIFY(w->transcriptText().contains(QStringLiteral("Guess: empty.test")));
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
  }

  void notAnAddressIsExplained() {
    auto w = window();
    QVERIFY(!discover(*w, QStringLiteral("no-at-sign.example")));
    QVERIFY2(status(*w).contains(QStringLiteral("Not an e-mail address")), qPrintable(status(*w)));
    QVERIFY(!w->isDiscovering());
    QVERIFY(!discover(*w, QString()));
    QVERIFY2(status(*w).contains(QStringLiteral("No e-mail address")), qPrintable(status(*w)));
  }

  // Cancel stops it in the middle: a DNS server that never answers keeps every lookup open for
  // the flow's 10 s; the button (now Cancel), or the Cancel button, ends it at once.
  void cancelStopsIt_data() {
    QTest::addColumn<QString>("button");
    QTest::newRow("Find settings is Cancel") << QStringLiteral("discoverButton");
    QTest::newRow("the Cancel button") << QStringLiteral("cancelButton");
  }
  void cancelStopsIt() {
    QFETCH(QString, button);
    QUdpSocket silent;  // bound and never read: no answer ever comes
    QVERIFY2(silent.bind(QHostAddress(QStringLiteral("127.54.0.1")), 53), qPrintable(silent.errorString()));
    smtpc::qt::NetworkOptions network;
    network.dnsServer = silent.localAddress();
    auto w = window(network);
    child<QLineEdit>(*w, "emailAddress")->setText(QStringLiteral("alice@own.test"));
    QSignalSpy finished(w.get(), &MainWindow::discoveryFinished);
    QTest::mouseClick(child<QPushButton>(*w, "discoverButton"), Qt::LeftButton);
    QTest::qWait(500);
    QVERIFY(w->isDiscovering());
    QVERIFY(finished.isEmpty());
    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(child<QPushButton>(*w, button.toLatin1().constData()), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 2000);
    QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY(!w->isDiscovering());
    QVERIFY2(status(*w).contains(QStringLiteral("cancelled")), qPrintable(status(*w)));
    QCOMPARE(text(*w, "server"), QStringLiteral("typed.before.example"));
    const QString transcript = w->transcriptText();
    QTest::qWait(300);
    QCOMPARE(w->transcriptText(), transcript);  // nothing more comes after the end
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
    QCOMPARE(child<QPushButton>(*w, "discoverButton")->text(), QStringLiteral("Find settings"));
  }

  // plainhttp.test's autoconfig is on plain HTTP only: the window asks, No is the default.
  void plainHttpIsAsked_data() {
    QTest::addColumn<bool>("yes");
    QTest::newRow("yes") << true;
    QTest::newRow("no (the default)") << false;
  }
  void plainHttpIsAsked() {
    QFETCH(bool, yes);
    auto w = window();
    bool asked = false;
    QString question;
    QTimer answerer;
    connect(&answerer, &QTimer::timeout, this, [&] {
      auto* box = w->findChild<QMessageBox*>(QStringLiteral("plainHttpQuestion"));
      if (!box || !box->isVisible() || asked) return;
      asked = true;
      question = box->text();
      QCOMPARE(box->defaultButton(), box->button(QMessageBox::No));
      if (yes) QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
      else QTest::keyClick(box, Qt::Key_Return);  // the default
    });
    answerer.start(20);
    const bool found = discover(*w, QStringLiteral("x@plainhttp.test"));
    QVERIFY(asked);
    QVERIFY2(question.contains(QStringLiteral("http://autoconfig.plainhttp.test/")), qPrintable(question));
    QVERIFY2(w->transcriptText().contains(QStringLiteral("Asking you whether to fetch http://autoconfig.plainhttp.test/")),
             qPrintable(w->transcriptText()));
    if (yes) {
      QVERIFY2(found, qPrintable(status(*w)));
      QCOMPARE(text(*w, "server"), QStringLiteral("smtp.plainhttp.test"));
      QCOMPARE(data(*w, "security"), QStringLiteral("starttls"));
    } else {
      QVERIFY(text(*w, "server") != QStringLiteral("smtp.plainhttp.test") ||
              child<QSpinBox>(*w, "port")->value() != world_->smtpPort("starttls"));
    }
  }

  // The settings found, then Test with the password: the SMTP run reaches smtp.sandbox.test
  // through --dns-server (the system's resolver knows no .test) and verifies its certificate.
  void testWithTheSettingsFound() {
    auto w = window();
    QVERIFY2(discover(*w, QStringLiteral("demo@sandbox.test")), qPrintable(status(*w)));
    QCOMPARE(text(*w, "server"), QStringLiteral("smtp.sandbox.test"));
    // The autoconfig's %EMAILLOCALPART% (the sandbox's user is demo): only the password is typed.
    QCOMPARE(text(*w, "username"), QStringLiteral("demo"));
    child<QLineEdit>(*w, "password")->setText(QStringLiteral("demo"));
    QSignalSpy ran(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QVERIFY(ran.wait(60000));
    QVERIFY2(ran.first().first().toBool(), qPrintable(status(*w) + u'\n' + explanation(*w) + u'\n' + w->transcriptText()));
    const QString transcript = w->transcriptText();
    QVERIFY2(transcript.contains(QStringLiteral("Testing smtp.sandbox.test port")), qPrintable(transcript));
    QVERIFY2(transcript.contains(QStringLiteral("AUTH PLAIN")), qPrintable(transcript));
  }

  // --resolve alone (no DNS server) also reaches a test run: connect to the address given, verify
  // the certificate against the name.
  void resolveAppliesToATestRun() {
    smtpc::qt::NetworkOptions network;
    QString why;
    network.resolve.append(*smtpc::qt::NetworkOptions::parseResolve(
        QStringLiteral("smtp.own.test:%1:127.0.0.1").arg(world_->smtpPort("tls")), &why));
    auto w = window(network);
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("smtp.own.test"));
    select(child<QComboBox>(*w, "security"), QStringLiteral("tls"));
    child<QSpinBox>(*w, "port")->setValue(world_->smtpPort("tls"));
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("demo"));
    child<QLineEdit>(*w, "password")->setText(QStringLiteral("demo"));
    QSignalSpy ran(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QVERIFY(ran.wait(60000));
    QVERIFY2(ran.first().first().toBool(), qPrintable(status(*w) + u'\n' + explanation(*w)));
  }

  // A name the DNS server does not know fails at Connect, in words; one it never answers for can
  // be cancelled while it resolves.
  void unresolvedServerIsExplained() {
    auto w = window();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("nowhere.own.test"));
    QSignalSpy ran(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QVERIFY(ran.wait(30000));
    QCOMPARE(ran.first().first().toBool(), false);
    const QString steps = child<smtpc::gui::StepBar>(*w, "steps")->summary();
    QVERIFY2(steps.contains(QStringLiteral("Connect:failed")), qPrintable(steps));
    QVERIFY2(explanation(*w).contains(QStringLiteral("the name nowhere.own.test does not resolve (DNS server %1)").arg(world_->dns())),
             qPrintable(explanation(*w)));
  }
  void cancelWhileResolving() {
    QUdpSocket silent;
    QVERIFY2(silent.bind(QHostAddress(QStringLiteral("127.54.0.2")), 53), qPrintable(silent.errorString()));
    smtpc::qt::NetworkOptions network;
    network.dnsServer = silent.localAddress();
    auto w = window(network);
    QSignalSpy ran(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "testButton"), Qt::LeftButton);
    QTest::qWait(300);
    QVERIFY(w->isRunning());
    QVERIFY(!child<QPushButton>(*w, "testButton")->isEnabled());
    QTest::mouseClick(child<QPushButton>(*w, "cancelButton"), Qt::LeftButton);
    QCOMPARE(ran.size(), 1);
    QCOMPARE(ran.first().first().toBool(), false);
    QVERIFY(!w->isRunning());
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
    QVERIFY2(status(*w).contains(QStringLiteral("ancel")), qPrintable(status(*w)));
  }

  // A provider in SMTPc's own table that signs in with OAuth 2 (outlook.com → Microsoft): the
  // sign-in's provider is chosen with the server. smtp.office365.com:587 is, by --resolve, a relay
  // to a sandbox whose certificate names it.
  void oauthProviderIsPreselected() {
    Sandbox sandbox({QStringLiteral("--names"), QStringLiteral("smtp.office365.com")});
    QVERIFY2(sandbox.ok(), qPrintable(sandbox.error()));
    const QHostAddress address(QStringLiteral("127.58.7.1"));
    Forwarder relay(address, 587, sandbox.port("starttls"));
    QVERIFY(relay.ok());
    smtpc::qt::NetworkOptions network = worldNetwork();  // every other name: the world's DNS, which refuses it
    QString why;
    network.resolve.append(*smtpc::qt::NetworkOptions::parseResolve(QStringLiteral("smtp.office365.com:587:127.58.7.1"), &why));
    auto w = window(network);
    child<QLineEdit>(*w, "caFile")->setText(sandbox.caFile());
    select(child<QComboBox>(*w, "oauthProvider"), QStringLiteral("custom"));
    QVERIFY2(discover(*w, QStringLiteral("ada@outlook.com")), qPrintable(status(*w) + u'\n' + w->transcriptText()));
    QCOMPARE(text(*w, "server"), QStringLiteral("smtp.office365.com"));
    QCOMPARE(data(*w, "oauthProvider"), QStringLiteral("microsoft"));
  }

  // The address is remembered with the form (core's field table: emailAddress is remembered).
  void addressIsRemembered() {
    {
      auto w = window(worldNetwork(), true);
      child<QLineEdit>(*w, "emailAddress")->setText(QStringLiteral("remember.me@own.test"));
      w->close();
    }
    auto again = window(worldNetwork(), true);
    QCOMPARE(text(*again, "emailAddress"), QStringLiteral("remember.me@own.test"));
  }

  // Under Xvfb (SMTPC_SCREENSHOT_DIR): the window after a discovery, for a person to look at —
  // found (own.test), found with a warning (hosted.test), nothing found (empty.test).
  void screenshot_data() {
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("name");
    QTest::newRow("own.test") << QStringLiteral("alice@own.test") << QStringLiteral("gui-discovery");
    QTest::newRow("hosted.test") << QStringLiteral("bob@hosted.test") << QStringLiteral("gui-discovery-warning");
    QTest::newRow("empty.test") << QStringLiteral("x@empty.test") << QStringLiteral("gui-discovery-nothing");
  }
  void screenshot() {
    QFETCH(QString, address);
    QFETCH(QString, name);
    const QString dir = qEnvironmentVariable("SMTPC_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("set SMTPC_SCREENSHOT_DIR");
    auto w = window();
    discover(*w, address);
    QTest::qWait(300);  // the layout settles
    QDir().mkpath(dir);
    const QString path = dir + u'/' + name + QStringLiteral(".png");
    QVERIFY(w->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
  }
};

QTEST_MAIN(TestGuiDiscovery)
#include "tst_gui_discovery.moc"
