// smtpc --oauth as a person runs it (issue 14), against real local servers: the sandbox's
// authorization server (tests/servers/oauth_server.py, HTTPS under the sandbox's CA) and the
// sandbox SMTP server, which accepts only the tokens that server signed. The device flow, the
// stored refresh token (a second run asks nothing; a revoked one falls back to signing in), the
// browser flow through a stand-in browser (oauth_browser.py via SMTPC_OPEN_URL), a refused
// consent, a wrong CA file, Google's device flow refused; and no token in any output.
//
// The refresh tokens never reach the real keychain: XDG_CONFIG_HOME is a temporary folder and the
// D-Bus session address leads nowhere, so the CLI uses its fallback file there (and says so).
// integration.tst_cli_oauth.keychain runs refreshTokenInKeychain against a private GNOME keyring
// on a private D-Bus session instead (tests/gui/with_keyring.sh).
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSslConfiguration>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include "sandbox.h"
#include "secret_leaks.h"

namespace {

struct CliRun {
  int status = -1;
  QString out, err;
  QString all() const { return out + err; }
  QStringList lines() const { return out.split(QLatin1Char('\n')); }
};

constexpr int kHung = -2;
constexpr int kCrashed = -3;
// The sandbox's access tokens start with this (tests/servers/sandbox.py TOKEN_PREFIX): it must
// show nowhere, raw or inside a SASL payload's base64.
constexpr const char* kTokenPrefix = "smtpc-sandbox.";
// The user codes oauth_server.py hands out (RFC 8628 §6.1's consonants).
const QRegularExpression kUserCodeLine(QStringLiteral("^    [BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$"));

}  // namespace

class TestCliOAuth : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<AuthServer> auth_;  // device codes approved by themselves after one pending poll

  static QProcessEnvironment environment(const QString& configHome, const QMap<QString, QString>& extraEnv) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome);
    if (!keychainTest())
      env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/smtpc-tst-cli-oauth"));
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "SMTPC_OPEN_URL"}) env.remove(QString::fromLatin1(name));
    for (auto it = extraEnv.begin(); it != extraEnv.end(); ++it) env.insert(it.key(), it.value());
    return env;
  }

  CliRun cli(const QStringList& arguments, const QString& configHome, const QMap<QString, QString>& extraEnv = {}) {
    QProcess p;
    p.setProcessEnvironment(environment(configHome, extraEnv));
    p.start(QStringLiteral(SMTPC_CLI), arguments);
    p.closeWriteChannel();
    return finish(p);
  }
  static CliRun finish(QProcess& p, const QString& outSoFar = {}) {
    int status = kHung;
    if (p.waitForFinished(90000)) status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : kCrashed;
    else {
      p.kill();
      p.waitForFinished(5000);
    }
    return CliRun{status, outSoFar + QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
  }

  // The "done when" command, with the device flow.
  QStringList signInArguments(const AuthServer& auth, const QStringList& extra = {}) const {
    return QStringList{"--oauth", "custom", "--oauth-issuer", auth.issuer(), "--client-id", "smtpc-test",
                       "--oauth-flow", "device", "--ca-file", sandbox_->caFile(),
                       "-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "-u", "demo",
                       "--quit-after", "auth"} +
           extra;
  }

  // The refresh token the CLI's fallback store holds ("" when none): the test reads the file the
  // CLI wrote, as a person could.
  static QString storedRefreshToken(const QString& configHome) {
    QSettings store(configHome + QStringLiteral("/SMTPc/refresh-tokens.ini"), QSettings::IniFormat);
    store.beginGroup(QStringLiteral("refreshTokens"));
    const QStringList keys = store.childKeys();
    return keys.size() == 1 ? store.value(keys.first()).toString() : QString();
  }

  // HTTPS to the authorization server, verified against the sandbox's CA: the JSON answer (and
  // the HTTP status in `status`).
  QJsonObject https(const AuthServer& auth, const QString& path, const QByteArray& postBody = {}, int* status = nullptr) {
    QNetworkAccessManager network;
    QNetworkRequest request(QUrl(auth.issuer() + path));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    QFile ca(sandbox_->caFile());
    if (!ca.open(QIODevice::ReadOnly)) return {};
    tls.addCaCertificates(QSslCertificate::fromData(ca.readAll(), QSsl::Pem));
    request.setSslConfiguration(tls);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/x-www-form-urlencoded"));
    QNetworkReply* reply = postBody.isNull() ? network.get(request) : network.post(request, postBody);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    if (status) *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return QJsonDocument::fromJson(reply->readAll()).object();
  }
  int requests(const AuthServer& auth, const char* what) {
    return https(auth, QStringLiteral("/control/stats")).value("requests").toObject().value(QLatin1String(what)).toInt();
  }

  // No access token (by its prefix, raw or in base64 at any alignment) and not the stored refresh
  // token, in anything the CLI printed.
  static QString leak(const CliRun& r, const QString& refreshToken) {
    const std::string all = r.all().toStdString();
    if (auto form = smtpc::testing::findSecret(all, kTokenPrefix); !form.empty()) return QString::fromStdString(form);
    if (!refreshToken.isEmpty())
      if (auto form = smtpc::testing::findSecret(all, refreshToken.toStdString()); !form.empty())
        return QString::fromStdString(form);
    if (r.all().contains(QStringLiteral("eyJ"))) return QStringLiteral("eyJ");  // a JWT's start
    return {};
  }

  static bool keychainTest() { return qEnvironmentVariable("SMTPC_TEST_KEYCHAIN") == QStringLiteral("1"); }
  static bool hasLine(const CliRun& r, const QString& line) { return r.lines().contains(line); }
  static int userCodeLines(const QString& text) {
    int n = 0;
    for (const QString& line : text.split(QLatin1Char('\n')))
      if (kUserCodeLine.match(line).hasMatch()) ++n;
    return n;
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--oauth"});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
    auth_ = std::make_unique<AuthServer>(*sandbox_, QStringList{"--interval", "1", "--auto-approve-device"});
    QVERIFY2(auth_->ok(), qPrintable(auth_->error()));
  }

  // (1) The "done when": device flow, AUTH with the token, no token anywhere. The test is
  // the person: it reads the code from the CLI's output while the CLI waits (so the code must be
  // printed and flushed then, not at the end), and types it in at the verification address.
  void deviceFlowSignsInAndLogsIn() {
    AuthServer manual(*sandbox_, {"--interval", "1"});  // approves only what a person approves
    QVERIFY2(manual.ok(), qPrintable(manual.error()));
    QTemporaryDir config;
    QProcess p;
    p.setProcessEnvironment(environment(config.path(), {}));
    p.start(QStringLiteral(SMTPC_CLI), signInArguments(manual));
    p.closeWriteChannel();
    QString out, code;
    QElapsedTimer clock;
    clock.start();
    while (code.isEmpty() && clock.elapsed() < 30000 && p.state() != QProcess::NotRunning) {
      p.waitForReadyRead(200);
      out += QString::fromUtf8(p.readAllStandardOutput());
      for (const QString& line : out.split(QLatin1Char('\n')))
        if (kUserCodeLine.match(line).hasMatch()) code = line.trimmed();
    }
    QVERIFY2(!code.isEmpty(), qPrintable(out));
    int typedIn = 0;
    https(manual, QStringLiteral("/device"), "user_code=" + code.toLatin1(), &typedIn);
    QCOMPARE(typedIn, 200);
    const CliRun r = finish(p, out);
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.all()));
    for (const char* step : {"=== Sign-in [Discovery] ", "=== Sign-in [Device code] ", "=== Sign-in [Token] "})
      QVERIFY2(r.out.contains(QLatin1String(step)), step);
    // The address and the code, each on a line of its own, as a person copies them.
    QVERIFY2(hasLine(r, QStringLiteral("    ") + manual.issuer() + QStringLiteral("/device")), qPrintable(r.out));
    QCOMPARE(userCodeLines(r.out), 1);
    QVERIFY2(hasLine(r, QStringLiteral("    %1/device?user_code=%2").arg(manual.issuer(), code)), qPrintable(r.out));
    QCOMPARE(requests(manual, "POST /device_authorization"), 1);
    // Then SMTP: the token through OAUTHBEARER (offered by the sandbox, first in Auto's order).
    QVERIFY2(r.out.contains(QStringLiteral("~> AUTH OAUTHBEARER ")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("<~  235")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("=== OK: the connection works up to auth")), qPrintable(r.out));
    // Kept for next time, in the owner-only fallback file, which the CLI names.
    const QString refreshToken = storedRefreshToken(config.path());
    QVERIFY(refreshToken.size() >= 20);
    QVERIFY2(r.err.contains(QStringLiteral("No system keychain")) && r.err.contains(QStringLiteral("refresh-tokens.ini")),
             qPrintable(r.err));
    const auto permissions = QFile(config.path() + QStringLiteral("/SMTPc/refresh-tokens.ini")).permissions();
    QVERIFY(!(permissions & (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther | QFile::WriteOther)));
    const QString leaked = leak(r, refreshToken);
    QVERIFY2(leaked.isEmpty(), qPrintable(leaked));
  }

  // With a real Secret Service: the refresh token goes to the keychain, not to the file, no
  // warning; the next run finds it there; --oauth-forget removes it from there.
  void refreshTokenInKeychain() {
    if (!keychainTest()) QSKIP("needs a secret service (ctest -R integration.tst_cli_oauth.keychain)");
    QTemporaryDir config;
    const CliRun r = cli(signInArguments(*auth_), config.path());
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.all()));
    QVERIFY2(!r.err.contains(QStringLiteral("No system keychain")), qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("the new refresh token is kept in the system keychain")), qPrintable(r.out));
    QVERIFY(storedRefreshToken(config.path()).isEmpty());
    const CliRun again = cli(signInArguments(*auth_), config.path());
    QVERIFY2(again.status == 0, qPrintable(again.all()));
    QVERIFY2(again.out.contains(QStringLiteral("a refresh token is kept for this account (in the system keychain)")),
             qPrintable(again.out));
    QCOMPARE(userCodeLines(again.out), 0);
    const CliRun forget = cli({"--oauth", "custom", "--oauth-issuer", auth_->issuer(), "--client-id", "smtpc-test",
                               "-u", "demo", "--oauth-forget"},
                              config.path());
    QVERIFY2(forget.out.contains(QStringLiteral("The refresh token was removed")), qPrintable(forget.all()));
    const CliRun signedIn = cli(signInArguments(*auth_), config.path());
    QCOMPARE(signedIn.status, 0);
    QCOMPARE(userCodeLines(signedIn.out), 1);
  }

  // (2) A second run trades the stored refresh token, asks nothing, and keeps the rotated one.
  void secondRunUsesTheRefreshToken() {
    QTemporaryDir config;
    QCOMPARE(cli(signInArguments(*auth_), config.path()).status, 0);
    const QString first = storedRefreshToken(config.path());
    QVERIFY(!first.isEmpty());
    const int deviceRequests = requests(*auth_, "POST /device_authorization");
    const CliRun r = cli(signInArguments(*auth_), config.path());
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.all()));
    QVERIFY2(r.out.contains(QStringLiteral("=== Sign-in [Refresh] ")), qPrintable(r.out));
    QVERIFY2(!r.all().contains(QStringLiteral("enter this code")) && userCodeLines(r.all()) == 0, qPrintable(r.all()));
    QVERIFY(!r.out.contains(QStringLiteral("[Device code]")));
    QCOMPARE(requests(*auth_, "POST /device_authorization"), deviceRequests);
    QVERIFY2(r.out.contains(QStringLiteral("<~  235")), qPrintable(r.out));
    // oauth_server.py rotates refresh tokens: the new one replaced the old (the old is dead now).
    const QString second = storedRefreshToken(config.path());
    QVERIFY(!second.isEmpty() && second != first);
    QVERIFY2(leak(r, first).isEmpty() && leak(r, second).isEmpty(), qPrintable(r.all()));
    // --oauth-forget removes it, without a server or a sign-in.
    const CliRun forget = cli({"--oauth", "custom", "--oauth-issuer", auth_->issuer(), "--client-id", "smtpc-test",
                               "-u", "demo", "--oauth-forget"},
                              config.path());
    QVERIFY2(forget.status == 0, qPrintable(forget.all()));
    QVERIFY2(forget.out.contains(QStringLiteral("The refresh token was removed")), qPrintable(forget.out));
    QVERIFY(storedRefreshToken(config.path()).isEmpty());
    const CliRun signedIn = cli(signInArguments(*auth_), config.path());
    QCOMPARE(signedIn.status, 0);
    QCOMPARE(userCodeLines(signedIn.out), 1);  // asked again
  }

  // (3) A revoked refresh token is forgotten and the person signs in again; --json reports the
  // steps (never a token) and the code goes to standard error, where the person sees it.
  void revokedRefreshTokenSignsInAgain() {
    QTemporaryDir config;
    QCOMPARE(cli(signInArguments(*auth_), config.path()).status, 0);
    const QString revoked = storedRefreshToken(config.path());
    QVERIFY(!revoked.isEmpty());
    QVERIFY(https(*auth_, QStringLiteral("/control/revoke-refresh-tokens"), "user=demo").value("revoked").toInt() >= 1);
    const CliRun r = cli(signInArguments(*auth_, {"--json"}), config.path());
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.all()));
    const QJsonObject result = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY2(result.value("ok").toBool(), qPrintable(r.out));
    QStringList steps;
    QString refreshText;
    for (const QJsonValue& step : result.value("signIn").toArray()) {
      steps << step.toObject().value("step").toString();
      if (steps.last() == QStringLiteral("Refresh")) refreshText += step.toObject().value("text").toString();
    }
    QVERIFY2(steps.contains("Refresh") && steps.contains("DeviceCode") && steps.last() == QStringLiteral("Token"),
             qPrintable(steps.join(u',')));
    QVERIFY2(refreshText.contains(QStringLiteral("no longer valid")), qPrintable(refreshText));
    QCOMPARE(userCodeLines(r.err), 1);
    const QString fresh = storedRefreshToken(config.path());
    QVERIFY(!fresh.isEmpty() && fresh != revoked);
    QVERIFY2(leak(r, revoked).isEmpty() && leak(r, fresh).isEmpty(), qPrintable(r.all()));
  }

  // (4) The browser flow: SMTPC_OPEN_URL names a stand-in browser, which follows the provider's
  // redirect to the CLI's loopback port and reads the page the CLI answers with.
  void browserFlowThroughTheLoopbackRedirect() {
    QTemporaryDir config;
    const QString log = config.filePath(QStringLiteral("browser.json"));
    const CliRun r = cli(signInArguments(*auth_, {"--oauth-flow", "browser"}), config.path(),
                         {{"SMTPC_OPEN_URL", QStringLiteral(SMTPC_TEST_BROWSER)},
                          {"SMTPC_TEST_BROWSER_CA", sandbox_->caFile()},
                          {"SMTPC_TEST_BROWSER_LOG", log}});
    QVERIFY2(r.status == 0, qPrintable(QString::number(r.status) + "\n" + r.all()));
    for (const char* step : {"=== Sign-in [Listen] ", "=== Sign-in [Browser] ", "=== Sign-in [Redirect] ",
                             "=== Sign-in [Exchange] ", "=== Sign-in [Token] ", "=== Opening your browser at"})
      QVERIFY2(r.out.contains(QLatin1String(step)), step);
    QVERIFY2(r.out.contains(QStringLiteral("\n    ") + auth_->issuer() + QStringLiteral("/authorize?")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("<~  235")), qPrintable(r.out));
    // The browser saw the provider's 302 to 127.0.0.1:PORT/ and then SMTPc's page.
    QFile file(log);
    for (int i = 0; i < 100 && !file.exists(); ++i) QThread::msleep(50);  // it runs detached
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject seen = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY2(!seen.contains("error"), qPrintable(seen.value("error").toString()));
    QCOMPARE(seen.value("authorize_status").toInt(), 302);
    QVERIFY2(seen.value("redirect").toString().startsWith(QStringLiteral("http://127.0.0.1:")), qPrintable(seen.value("redirect").toString()));
    QCOMPARE(seen.value("redirect_parameters").toArray(), (QJsonArray{"code", "state"}));
    QCOMPARE(seen.value("page_status").toInt(), 200);
    QVERIFY(seen.value("page_type").toString().startsWith(QStringLiteral("text/html")));
    QVERIFY2(seen.value("page").toString().contains(QStringLiteral("<h1>Signed in</h1>")), qPrintable(seen.value("page").toString()));
    QVERIFY2(leak(r, storedRefreshToken(config.path())).isEmpty(), qPrintable(r.all()));
  }

  // (5) Consent refused, in either flow: explained, its own exit status (8), no SMTP at all.
  void refusedConsentIsExplained_data() {
    QTest::addColumn<QString>("flow");
    QTest::newRow("device") << QStringLiteral("device");
    QTest::newRow("browser") << QStringLiteral("browser");
  }
  void refusedConsentIsExplained() {
    QFETCH(QString, flow);
    AuthServer refusing(*sandbox_, {"--interval", "1", "--auto-approve-device", "--refuse-consent"});
    QVERIFY2(refusing.ok(), qPrintable(refusing.error()));
    QTemporaryDir config;
    const QString log = config.filePath(QStringLiteral("browser.json"));
    const CliRun r = cli(signInArguments(refusing, {"--oauth-flow", flow}), config.path(),
                         {{"SMTPC_OPEN_URL", QStringLiteral(SMTPC_TEST_BROWSER)},
                          {"SMTPC_TEST_BROWSER_CA", sandbox_->caFile()},
                          {"SMTPC_TEST_BROWSER_LOG", log}});
    QVERIFY2(r.status == 8, qPrintable(QString::number(r.status) + "\n" + r.all()));
    QVERIFY2(r.out.contains(QStringLiteral("*** Failed at Sign-in: Consent refused\n")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("\"access_denied\"")) && r.out.contains(QStringLiteral("consent was declined")),
             qPrintable(r.out));
    QVERIFY2(!r.out.contains(QStringLiteral("EHLO")), qPrintable(r.out));
    QVERIFY(storedRefreshToken(config.path()).isEmpty());
    if (flow == QStringLiteral("browser")) {
      QFile file(log);
      for (int i = 0; i < 100 && !file.exists(); ++i) QThread::msleep(50);
      QVERIFY(file.open(QIODevice::ReadOnly));
      const QJsonObject seen = QJsonDocument::fromJson(file.readAll()).object();
      QVERIFY2(seen.value("page").toString().contains(QStringLiteral("<h1>Consent refused</h1>")),
               qPrintable(QJsonDocument(seen).toJson()));
    }
  }

  // (6) A CA file that does not cover the authorization server: the certificate problem in core's
  // words (Qt's for a forged signature), exit 3 as for an SMTP server's certificate.
  void wrongCaFileIsExplained_data() {
    QTest::addColumn<QString>("caFile");
    QTest::addColumn<QString>("explained");
    // Public CAs only: the sandbox's private CA is not among them.
    QTest::newRow("public CAs") << QStringLiteral("/etc/ssl/certs/ca-certificates.crt")
                                << QStringLiteral("a private CA this computer does not trust: give that CA's certificate as a CA file");
    // Another sandbox's CA, of the same name: the name matches, the signature does not.
    QTest::newRow("same name, other key") << QString() << QStringLiteral("signature of the certificate is invalid");
  }
  void wrongCaFileIsExplained() {
    QFETCH(QString, caFile);
    QFETCH(QString, explained);
    Sandbox other;  // another throwaway CA
    if (caFile.isEmpty()) {
      QVERIFY2(other.ok(), qPrintable(other.error()));
      caFile = other.caFile();
    }
    if (!QFile::exists(caFile)) QSKIP("no system CA bundle (Debian: ca-certificates)");
    QTemporaryDir config;
    QStringList arguments = signInArguments(*auth_);
    arguments[arguments.indexOf(QStringLiteral("--ca-file")) + 1] = caFile;
    const CliRun r = cli(arguments, config.path());
    QVERIFY2(r.status == 3, qPrintable(QString::number(r.status) + "\n" + r.all()));
    QVERIFY2(r.out.contains(QStringLiteral("*** Failed at Sign-in: The provider could not be reached\n")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("got no answer: the HTTPS certificate of 127.0.0.1 was refused. ")), qPrintable(r.out));
    QVERIFY2(r.out.contains(explained), qPrintable(r.out));
    QVERIFY(!r.out.contains(QStringLiteral("EHLO")));
  }

  // (7) Google's device flow is refused before anything leaves, with Google's reason.
  void googleDeviceFlowIsRefused() {
    QTemporaryDir config;
    const CliRun r = cli({"--oauth", "google", "--client-id", "x.apps.googleusercontent.com", "--oauth-flow", "device",
                          "-s", QStringLiteral("127.0.0.1:%1").arg(ServerProcess::closedPort()), "-u", "demo@gmail.com"},
                         config.path());
    QVERIFY2(r.status == 1, qPrintable(QString::number(r.status) + "\n" + r.all()));
    QVERIFY2(r.out.contains(QStringLiteral("*** Failed at Sign-in: Device sign-in not available\n")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("Google does not allow the device flow for the mail scope")), qPrintable(r.out));
    QVERIFY2(!r.out.contains(QStringLiteral("=== Sign-in [")) && !r.out.contains(QStringLiteral("Connect")),
             qPrintable(r.out));  // no discovery, no request, no SMTP
  }
};

QTEST_GUILESS_MAIN(TestCliOAuth)
#include "tst_cli_oauth.moc"
