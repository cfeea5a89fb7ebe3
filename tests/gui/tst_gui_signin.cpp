// The window's "Sign in…" (issue 14) driven as a person would, against real local servers: the
// sandbox's authorization server (tests/servers/oauth_server.py, HTTPS under the sandbox's CA)
// and the sandbox SMTP server, which accepts only the tokens that server signed. The browser is
// the stand-in tests/qt/oauth_browser.py (SMTPC_OPEN_URL): it follows the authorization URL and
// comes back to the window's loopback port, as a person's browser would.
//
// Nothing reaches the real keychain or settings: XDG_CONFIG_HOME is a temporary folder and D-Bus
// leads nowhere, so the refresh tokens go to the fallback file there.
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSslConfiguration>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test.h"
#include "mainwindow.h"
#include "sandbox.h"
#include "secret_leaks.h"
#include "stepbar.h"

using smtpc::gui::MainWindow;
using smtpc::gui::StartupValues;
using smtpc::testing::findSecret;

namespace {

// The user codes oauth_server.py hands out (RFC 8628 §6.1's consonants).
const QRegularExpression kUserCode(QStringLiteral("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$"));

// The authorization server, and what a test asks it over HTTPS.
class TestAuthServer : public AuthServer {
 public:
  TestAuthServer(const ServerProcess& sandbox, const QStringList& arguments)
      : AuthServer(sandbox, arguments), ca_(sandbox.caFile()) {}

  // GET /control/stats: what was asked and issued (counts only).
  QJsonObject stats() const { return https(QStringLiteral("/control/stats")); }
  // Every refresh token this server issued is refused from now on.
  void revokeRefreshTokens() const { https(QStringLiteral("/control/revoke-refresh-tokens"), ""); }

  QJsonObject https(const QString& path, const QByteArray& postBody = {}) const {
    QNetworkAccessManager network;
    QNetworkRequest request(QUrl(issuer() + path));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    QFile ca(ca_);
    if (!ca.open(QIODevice::ReadOnly)) return {};
    tls.addCaCertificates(QSslCertificate::fromData(ca.readAll(), QSsl::Pem));
    request.setSslConfiguration(tls);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/x-www-form-urlencoded"));
    QNetworkReply* reply = postBody.isNull() ? network.get(request) : network.post(request, postBody);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    return QJsonDocument::fromJson(reply->readAll()).object();
  }
  int requests(const char* what) const { return stats().value("requests").toObject().value(QLatin1String(what)).toInt(); }

 private:
  QString ca_;
};

}  // namespace

class TestGuiSignIn : public QObject {
  Q_OBJECT
  QTemporaryDir config_;
  QString browserLog_;
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<TestAuthServer> auth_;  // approves the browser at once, devices after one pending poll

  // A window filled for the sandbox's STARTTLS port, user demo, no password: the custom provider
  // at `auth`, the browser flow.
  std::unique_ptr<MainWindow> window(const TestAuthServer& auth, const char* flow = "browser") {
    auto w = std::make_unique<MainWindow>(StartupValues{.useSettings = true});
    w->show();
    child<QLineEdit>(*w, "server")->setText(QStringLiteral("localhost"));
    select(child<QComboBox>(*w, "security"), QStringLiteral("starttls"));
    child<QSpinBox>(*w, "port")->setValue(sandbox_->port("starttls"));
    select(child<QComboBox>(*w, "auth"), QStringLiteral("AUTO"));
    child<QLineEdit>(*w, "username")->setText(QStringLiteral("demo"));
    child<QLineEdit>(*w, "password")->clear();
    child<QLineEdit>(*w, "token")->clear();
    child<QLineEdit>(*w, "caFile")->setText(sandbox_->caFile());
    child<QSpinBox>(*w, "timeout")->setValue(20);
    select(child<QComboBox>(*w, "oauthProvider"), QStringLiteral("custom"));
    child<QLineEdit>(*w, "clientId")->setText(QStringLiteral("smtpc-test"));
    child<QLineEdit>(*w, "oauthIssuer")->setText(auth.issuer());
    select(child<QComboBox>(*w, "oauthFlow"), QLatin1String(flow));
    return w;
  }

  // Presses "Sign in…" and waits for the end: the test that follows a sign-in, or the sign-in's
  // failure. Returns whether the test ran and worked.
  struct Outcome {
    bool signedIn = false;
    bool tested = false;
    bool testOk = false;
  };
  Outcome signIn(MainWindow& w) {
    QSignalSpy signedIn(&w, &MainWindow::signInFinished);
    QSignalSpy tested(&w, &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(w, "signInButton"), Qt::LeftButton);
    (void)QTest::qWaitFor([&] { return !tested.isEmpty() || (!signedIn.isEmpty() && !signedIn.first().first().toBool()); },
                    90000);
    Outcome o;
    o.signedIn = !signedIn.isEmpty() && signedIn.first().first().toBool();
    o.tested = !tested.isEmpty();
    o.testOk = o.tested && tested.first().first().toBool();
    return o;
  }

  QString steps(MainWindow& w) { return child<smtpc::gui::StepBar>(w, "steps")->summary(); }
  QString status(MainWindow& w) { return child<QLabel>(w, "status")->text(); }
  QString explanation(MainWindow& w) { return child<QLabel>(w, "explanation")->text(); }

  // The refresh token kept for `issuer`, client smtpc-test, user demo (the fallback file: no
  // keychain answers here), under core's key.
  QString storedRefreshToken(const QString& issuer) {
    const QString wanted = QString::fromStdString(smtpc::oauth::refreshTokenKey(issuer.toStdString(), "smtpc-test", "demo"));
    QSettings store(config_.path() + QStringLiteral("/SMTPc/refresh-tokens.ini"), QSettings::IniFormat);
    store.beginGroup(QStringLiteral("refreshTokens"));
    for (const QString& key : store.childKeys())
      if (QUrl::fromPercentEncoding(key.toUtf8()) == wanted) return store.value(key).toString();
    return {};
  }

  // The window's own settings file as text: never a token in it.
  QByteArray settingsText() {
    QSettings settings(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    settings.sync();
    QFile file(settings.fileName());
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
  }

  void shoot(MainWindow& w, const QString& name) {
    const QString dir = qEnvironmentVariable("SMTPC_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    QDir().mkpath(dir);
    QTest::qWait(200);
    const QImage image = w.grab().toImage();
    const QString path = dir + u'/' + name + QStringLiteral(".png");
    QVERIFY(image.save(path));
    qInfo("screenshot: %s (%dx%d)", qPrintable(path), image.width(), image.height());
  }

 private slots:
  void initTestCase() {
    qputenv("XDG_CONFIG_HOME", config_.path().toLocal8Bit());
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpc-tst-gui-signin");
    // The sandbox first: --oauth makes the key its authorization server signs tokens with.
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--oauth", "--user", "demo:demo"});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
    auth_ = std::make_unique<TestAuthServer>(*sandbox_, QStringList{"--auto-approve-device", "--interval", "1"});
    QVERIFY2(auth_->ok(), qPrintable(auth_->error()));
    browserLog_ = config_.filePath(QStringLiteral("browser.json"));
    qputenv("SMTPC_OPEN_URL", SMTPC_TEST_BROWSER);
    qputenv("SMTPC_TEST_BROWSER_CA", sandbox_->caFile().toLocal8Bit());
    qputenv("SMTPC_TEST_BROWSER_LOG", browserLog_.toLocal8Bit());
  }

  // The sign-in row follows core's rules: shown when the method can use a token, the issuer for a
  // custom provider, the tenant for Microsoft; a form mistake is shown like any other, nothing runs.
  void fieldsFollowTheMethodAndProvider() {
    MainWindow w(StartupValues{.useSettings = false});
    w.show();
    auto* box = child<QWidget>(w, "signIn");
    select(child<QComboBox>(w, "auth"), QStringLiteral("PLAIN"));
    QVERIFY(!box->isVisible());
    select(child<QComboBox>(w, "auth"), QStringLiteral("XOAUTH2"));
    QVERIFY(box->isVisible());
    select(child<QComboBox>(w, "auth"), QStringLiteral("AUTO"));
    QVERIFY(box->isVisible());
    QVERIFY(child<QPushButton>(w, "signInButton")->text().startsWith(QStringLiteral("Sign in")));
    select(child<QComboBox>(w, "oauthProvider"), QStringLiteral("custom"));
    QVERIFY(child<QLineEdit>(w, "oauthIssuer")->isVisible());
    QVERIFY(!child<QLineEdit>(w, "tenant")->isVisible());
    select(child<QComboBox>(w, "oauthProvider"), QStringLiteral("microsoft"));
    QVERIFY(!child<QLineEdit>(w, "oauthIssuer")->isVisible());
    QVERIFY(child<QLineEdit>(w, "tenant")->isVisible());

    QSignalSpy signedIn(&w, &MainWindow::signInFinished);
    QSignalSpy ran(&w, &MainWindow::runFinished);
    child<QLineEdit>(w, "clientId")->clear();
    QTest::mouseClick(child<QPushButton>(w, "signInButton"), Qt::LeftButton);
    QCOMPARE(signedIn.size(), 1);
    QCOMPARE(signedIn.first().first().toBool(), false);
    QVERIFY2(status(w).contains(QStringLiteral("No client ID")), qPrintable(status(w)));
    // Google has no device flow for the mail scope: core says so, on the flow choice.
    select(child<QComboBox>(w, "oauthProvider"), QStringLiteral("google"));
    child<QLineEdit>(w, "clientId")->setText(QStringLiteral("123.apps.googleusercontent.com"));
    select(child<QComboBox>(w, "oauthFlow"), QStringLiteral("device"));
    QTest::mouseClick(child<QPushButton>(w, "signInButton"), Qt::LeftButton);
    QCOMPARE(signedIn.size(), 2);
    QVERIFY2(status(w).contains(QStringLiteral("Device sign-in not available")), qPrintable(status(w)));
    QVERIFY2(explanation(w).contains(QStringLiteral("browser flow")), qPrintable(explanation(w)));
    QVERIFY(!w.isSigningIn());
    QVERIFY(ran.isEmpty());
  }

  // The browser flow signs in, the token goes into the token field (not the settings), the
  // refresh token into the store, and the test that follows logs in with it; the transcript shows
  // the sign-in's steps and the AUTH, never the token.
  void browserFlowSignsInAndTests() {
    QFile::remove(browserLog_);
    const int authorizeBefore = auth_->requests("GET /authorize");
    auto w = window(*auth_);
    const Outcome o = signIn(*w);
    QVERIFY2(o.signedIn && o.testOk, qPrintable(status(*w) + u'\n' + explanation(*w) + u'\n' + w->transcriptText()));
    QCOMPARE(auth_->requests("GET /authorize"), authorizeBefore + 1);
    QVERIFY(QFile::exists(browserLog_));  // the stand-in browser was opened
    QCOMPARE(steps(*w), QStringLiteral("Connect:done Greeting:done Ehlo:done StartTls:done TlsHandshake:done "
                                       "EhloAgain:done Auth:done Quit:done"));
    QVERIFY2(status(*w).contains(QStringLiteral("The setup works")), qPrintable(status(*w)));
    const QString transcript = w->transcriptText();
    for (const char* step : {"Sign-in, Discovery: ", "Sign-in, Listen: ", "Sign-in, Browser: ", "Sign-in, Redirect: ",
                             "Sign-in, Exchange: ", "Sign-in, Token: "})
      QVERIFY2(transcript.contains(QLatin1String(step)), qPrintable(QLatin1String(step) + u'\n' + transcript));
    QVERIFY2(transcript.contains(QStringLiteral("~> AUTH OAUTHBEARER ")), qPrintable(transcript));
    QVERIFY(transcript.indexOf(QStringLiteral("Sign-in, Exchange")) < transcript.indexOf(QStringLiteral("AUTH OAUTHBEARER")));
    const QString token = child<QLineEdit>(*w, "token")->text();
    QVERIFY(token.startsWith(QStringLiteral("smtpc-sandbox.")));
    const QString refresh = storedRefreshToken(auth_->issuer());
    QVERIFY2(!refresh.isEmpty(), "no refresh token stored");
    for (const QString& secret : {token, refresh}) {
      const std::string leaked = findSecret(transcript.toStdString(), secret.toStdString());
      QVERIFY2(leaked.empty(), leaked.c_str());
      const std::string leakedInStatus = findSecret((status(*w) + explanation(*w)).toStdString(), secret.toStdString());
      QVERIFY2(leakedInStatus.empty(), leakedInStatus.c_str());
    }
    w->close();  // saves the settings
    const QByteArray saved = settingsText();
    QVERIFY2(saved.contains("smtpc-test"), saved.constData());  // the client ID is remembered
    QVERIFY(!saved.contains(token.toUtf8()));
    QVERIFY(!saved.contains(refresh.toUtf8()));
    QVERIFY(!saved.contains("smtpc-sandbox."));
  }

  // A second sign-in trades the stored refresh token: no browser, no consent asked again.
  void secondSignInUsesTheRefreshToken() {
    const QString before = storedRefreshToken(auth_->issuer());
    QVERIFY2(!before.isEmpty(), "browserFlowSignsInAndTests stores one first");
    QFile::remove(browserLog_);
    const int authorizeBefore = auth_->requests("GET /authorize");
    const int refreshedBefore = auth_->stats().value("issued").toObject().value("refresh_token").toInt();
    MainWindow remembered(StartupValues{.useSettings = true});  // the sign-in's choices came back
    QCOMPARE(child<QComboBox>(remembered, "oauthProvider")->currentData().toString(), QStringLiteral("custom"));
    QCOMPARE(child<QLineEdit>(remembered, "clientId")->text(), QStringLiteral("smtpc-test"));
    QCOMPARE(child<QLineEdit>(remembered, "oauthIssuer")->text(), auth_->issuer());
    QVERIFY(child<QLineEdit>(remembered, "token")->text().isEmpty());  // never remembered
    auto w = window(*auth_);
    const Outcome o = signIn(*w);
    QVERIFY2(o.signedIn && o.testOk, qPrintable(status(*w) + u'\n' + w->transcriptText()));
    QCOMPARE(auth_->requests("GET /authorize"), authorizeBefore);  // no browser this time
    QVERIFY(!QFile::exists(browserLog_));
    QCOMPARE(auth_->stats().value("issued").toObject().value("refresh_token").toInt(), refreshedBefore + 1);
    const QString transcript = w->transcriptText();
    QVERIFY2(transcript.contains(QStringLiteral("Sign-in, Refresh: ")), qPrintable(transcript));
    QVERIFY(!transcript.contains(QStringLiteral("Sign-in, Browser: ")));
    // The server rotates refresh tokens: the new one replaced the old in the store.
    const QString after = storedRefreshToken(auth_->issuer());
    QVERIFY(!after.isEmpty());
    QVERIFY(after != before);
    const std::string leaked = findSecret(transcript.toStdString(), child<QLineEdit>(*w, "token")->text().toStdString());
    QVERIFY2(leaked.empty(), leaked.c_str());
  }

  // A refresh token the provider refuses is forgotten, even when the sign-in that follows does
  // not finish (here the browser never comes back and the person cancels).
  void refusedRefreshTokenIsForgotten() {
    const QString stored = storedRefreshToken(auth_->issuer());
    QVERIFY2(!stored.isEmpty(), "browserFlowSignsInAndTests stores one first");
    auth_->revokeRefreshTokens();
    qputenv("SMTPC_OPEN_URL", "/bin/true");  // a browser that shows the page and nothing more
    auto w = window(*auth_);
    QSignalSpy signedIn(w.get(), &MainWindow::signInFinished);
    QTest::mouseClick(child<QPushButton>(*w, "signInButton"), Qt::LeftButton);
    const bool browserStep =
        QTest::qWaitFor([&] { return w->transcriptText().contains(QStringLiteral("Sign-in, Browser: ")); }, 20000);
    qputenv("SMTPC_OPEN_URL", SMTPC_TEST_BROWSER);
    QVERIFY2(browserStep, qPrintable(w->transcriptText()));
    QVERIFY(w->transcriptText().contains(QStringLiteral("Sign-in, Refresh: ")));
    QTest::mouseClick(child<QPushButton>(*w, "cancelButton"), Qt::LeftButton);
    QCOMPARE(signedIn.size(), 1);
    QVERIFY(storedRefreshToken(auth_->issuer()).isEmpty());
  }

  // The person (or an administrator) refuses consent: the window says so, with the provider's
  // words as text, the AUTH step failed on the step bar, no token and no test.
  void refusedConsentIsExplained() {
    TestAuthServer refusing(*sandbox_, {"--refuse-consent"});
    QVERIFY2(refusing.ok(), qPrintable(refusing.error()));
    auto w = window(refusing);
    const Outcome o = signIn(*w);
    QVERIFY(!o.signedIn);
    QVERIFY(!o.tested);
    QVERIFY2(status(*w).contains(QStringLiteral("Sign-in failed")) && status(*w).contains(QStringLiteral("Consent refused")),
             qPrintable(status(*w)));
    QVERIFY2(steps(*w).contains(QStringLiteral("Auth:failed")), qPrintable(steps(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("access_denied")), qPrintable(explanation(*w)));
    QVERIFY2(explanation(*w).contains(QStringLiteral("The user refused to sign in.")), qPrintable(explanation(*w)));
    QVERIFY(child<QLineEdit>(*w, "token")->text().isEmpty());
    QVERIFY(w->transcriptText().contains(QStringLiteral("Sign-in failed: Consent refused")));
    QVERIFY(child<QPushButton>(*w, "signInButton")->isEnabled());
    QVERIFY(!child<QPushButton>(*w, "cancelButton")->isEnabled());
  }

  // The device flow: the code and where to enter it appear in the window (with a Copy button);
  // the server approves it by itself after one pending poll, and the test follows.
  void deviceFlowShowsTheCode() {
    TestAuthServer devices(*sandbox_, {"--auto-approve-device", "--interval", "1"});
    QVERIFY2(devices.ok(), qPrintable(devices.error()));
    auto w = window(devices, "device");
    QSignalSpy tested(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "signInButton"), Qt::LeftButton);
    auto* code = child<QLabel>(*w, "userCode");
    QVERIFY(QTest::qWaitFor([&] { return code->isVisible() && !code->text().isEmpty(); }, 20000));
    QVERIFY2(kUserCode.match(code->text()).hasMatch(), qPrintable(code->text()));
    QVERIFY2(child<QLabel>(*w, "verificationUri")->text().contains(devices.issuer() + QStringLiteral("/device")),
             qPrintable(child<QLabel>(*w, "verificationUri")->text()));
    const QString shown = code->text();
    QTest::mouseClick(child<QPushButton>(*w, "copyUserCode"), Qt::LeftButton);
    QCOMPARE(QApplication::clipboard()->text(), shown);
    QVERIFY(child<QPushButton>(*w, "cancelButton")->isEnabled());
    QVERIFY(!child<QPushButton>(*w, "testButton")->isEnabled());
    shoot(*w, QStringLiteral("gui-signin-device-code"));
    QVERIFY(tested.wait(60000) || !tested.isEmpty());
    QVERIFY2(tested.first().first().toBool(), qPrintable(status(*w) + u'\n' + w->transcriptText()));
    const QString transcript = w->transcriptText();
    QVERIFY(transcript.contains(QStringLiteral("Sign-in, Device code: ")));
    QVERIFY(transcript.contains(QStringLiteral("enter the code ") + shown));
    QVERIFY(transcript.contains(QStringLiteral("~> AUTH OAUTHBEARER ")));
    QVERIFY(!code->isVisible());  // the code is spent
    shoot(*w, QStringLiteral("gui-signin-success"));
  }

  // Cancel stops a sign-in that waits for the person (a device code nobody approves).
  void cancelStopsTheSignIn() {
    TestAuthServer waiting(*sandbox_, {"--interval", "1"});
    QVERIFY2(waiting.ok(), qPrintable(waiting.error()));
    auto w = window(waiting, "device");
    QSignalSpy signedIn(w.get(), &MainWindow::signInFinished);
    QSignalSpy tested(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(*w, "signInButton"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return child<QLabel>(*w, "userCode")->isVisible(); }, 20000));
    QVERIFY(w->isSigningIn());
    QTest::mouseClick(child<QPushButton>(*w, "cancelButton"), Qt::LeftButton);
    QCOMPARE(signedIn.size(), 1);
    QCOMPARE(signedIn.first().first().toBool(), false);
    QVERIFY(!w->isSigningIn());
    QVERIFY2(status(*w).contains(QStringLiteral("cancelled")), qPrintable(status(*w)));
    QVERIFY(!child<QLabel>(*w, "userCode")->isVisible());
    QVERIFY(child<QPushButton>(*w, "testButton")->isEnabled());
    QTest::qWait(1500);  // a poll that was due does not bring the sign-in back
    QVERIFY(tested.isEmpty());
    QCOMPARE(signedIn.size(), 1);
  }
};

QTEST_MAIN(TestGuiSignIn)
#include "tst_gui_signin.moc"
