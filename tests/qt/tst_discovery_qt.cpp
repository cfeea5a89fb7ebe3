// Settings discovery natively (issue 15): the Qt adapter's XML reader against hostile documents,
// then smtpc --discover and smtpc::qt::Discovery end to end against the discovery world
// (tests/servers/discovery_world.py): a real DNS server on a loopback address, HTTPS autoconfig and
// an ISPDB mirror under the sandbox's CA, and sandbox SMTP servers — one domain of each kind.
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>
#include <QTimer>

#include "sandbox.h"
#include "smtpc/qt/discovery.h"

using namespace smtpc;

namespace {

struct CliRun {
  int status = -1;
  QString out, err;
  QJsonObject json() const { return QJsonDocument::fromJson(out.toUtf8()).object(); }
};

CliRun cli(const QStringList& arguments, const QMap<QString, QString>& env = {}) {
  QProcess p;
  QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
  for (auto it = env.begin(); it != env.end(); ++it) e.insert(it.key(), it.value());
  p.setProcessEnvironment(e);
  p.start(QStringLiteral(SMTPC_CLI), arguments);
  p.closeWriteChannel();
  CliRun run;
  if (p.waitForFinished(90000)) {
    run.status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -3;
  } else {
    p.kill();
    p.waitForFinished(5000);
    run.status = -2;
  }
  run.out = QString::fromUtf8(p.readAllStandardOutput());
  run.err = QString::fromUtf8(p.readAllStandardError());
  return run;
}

QStringList sources(const QJsonObject& json) {
  QStringList out;
  for (const auto& step : json.value(QStringLiteral("steps")).toArray()) out << step.toObject().value("source").toString();
  return out;
}

// (Not a raw string literal: moc of Qt 6.4 stops reading the file at one.)
const char* kConfig =
    "<?xml version=\"1.0\"?>\n"
    "<clientConfig version=\"1.1\">\n"
    "  <emailProvider id=\"own.test\">\n"
    "    <domain>own.test</domain>\n"
    "    <displayName>Own Test</displayName>\n"
    "    <incomingServer type=\"imap\"><hostname>imap.own.test</hostname><port>993</port><socketType>SSL</socketType></incomingServer>\n"
    "    <outgoingServer type=\"smtp\">\n"
    "      <hostname> smtp.own.test </hostname><port>465</port><socketType>SSL</socketType>\n"
    "      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication><authentication>OAuth2</authentication>\n"
    "    </outgoingServer>\n"
    "    <outgoingServer type=\"smtp\"><hostname>smtp2.own.test</hostname><port>587</port><socketType>STARTTLS</socketType></outgoingServer>\n"
    "    <documentation url=\"https://own.test/help\"><descr lang=\"en\">Help</descr></documentation>\n"
    "  </emailProvider>\n"
    "  <oAuth2><issuer>login.own.test</issuer><scope>mail</scope></oAuth2>\n"
    "</clientConfig>\n";

}  // namespace

class TestDiscoveryQt : public QObject {
  Q_OBJECT
  std::unique_ptr<DiscoveryWorld> world_;

  bool needWorld() {
    if (!world_) world_ = std::make_unique<DiscoveryWorld>();
    return world_->ok();
  }

 private slots:
  void readsClientConfig();
  void refusesHostileXml();
  void parsesResolve();
  void ownAutoconfig();
  void srvOnly();
  void mxAtProviderInIspdb();
  void nothingFound();
  void forgedSrvWarns();
  void plainHttpNeedsConsent();
  void discoverThenLogIn();
  void resolveAppliesToSmtp();
  void adapterStepsLiveAndCancel();
  void badAddressIsUsage();
};

void TestDiscoveryQt::readsClientConfig() {
  QString why;
  const auto config = qt::readClientConfig(kConfig, &why);
  QVERIFY2(config, qPrintable(why));
  QCOMPARE(config->providerId, std::string("own.test"));
  QCOMPARE(config->displayName, std::string("Own Test"));
  QCOMPARE(config->domains, std::vector<std::string>{"own.test"});
  QCOMPARE(config->outgoing.size(), std::size_t(2));  // the IMAP server is not one
  QCOMPARE(config->outgoing[0].hostname, std::string("smtp.own.test"));
  QCOMPARE(config->outgoing[0].port, std::string("465"));
  QCOMPARE(config->outgoing[0].socketType, std::string("SSL"));
  QCOMPARE(config->outgoing[0].username, std::string("%EMAILADDRESS%"));
  QCOMPARE(config->outgoing[0].authentication, (std::vector<std::string>{"password-cleartext", "OAuth2"}));
  QCOMPARE(config->outgoing[1].socketType, std::string("STARTTLS"));
}

void TestDiscoveryQt::refusesHostileXml() {
  QString why;
  // A billion laughs: refused at the DOCTYPE, before any entity could be expanded.
  const QByteArray laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
      "<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>&lol2;</hostname>"
      "</outgoingServer></emailProvider></clientConfig>";
  QVERIFY(!qt::readClientConfig(laughs, &why));
  QVERIFY2(why.contains("DOCTYPE"), qPrintable(why));
  // An external entity (XXE) the same way.
  QVERIFY(!qt::readClientConfig("<!DOCTYPE c [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><clientConfig>&x;</clientConfig>", &why));
  QVERIFY(why.contains("DOCTYPE"));
  // An entity never declared is an error, not text.
  QVERIFY(!qt::readClientConfig("<clientConfig><emailProvider>&x;</emailProvider></clientConfig>", &why));
  QVERIFY2(why.startsWith("not XML"), qPrintable(why));
  QVERIFY(!qt::readClientConfig("<clientConfig><emailProvider>", &why));
  QVERIFY(why.startsWith("not XML"));
  QVERIFY(!qt::readClientConfig("<html><body>Not found</body></html>", &why));
  QVERIFY(why.contains("<html>"));
  QVERIFY(!qt::readClientConfig("", &why));
}

void TestDiscoveryQt::parsesResolve() {
  QString why;
  auto r = qt::NetworkOptions::parseResolve("Mail.Example.org:465:127.0.0.2", &why);
  QVERIFY(r);
  QCOMPARE(r->host, QString("mail.example.org"));
  QCOMPARE(r->port, quint16(465));
  QCOMPARE(r->address, QHostAddress("127.0.0.2"));
  r = qt::NetworkOptions::parseResolve("mail.example.org:587:[::1]", &why);
  QVERIFY(r);
  QCOMPARE(r->address, QHostAddress("::1"));
  QVERIFY(!qt::NetworkOptions::parseResolve("mail.example.org:587", &why));
  QVERIFY(!qt::NetworkOptions::parseResolve("mail.example.org:0:127.0.0.1", &why));
  QVERIFY(!qt::NetworkOptions::parseResolve("mail.example.org:25:not-an-address", &why));
}

void TestDiscoveryQt::ownAutoconfig() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const CliRun run = cli(QStringList{"--discover", "alice@own.test", "--json"} + world_->cliOptions());
  QCOMPARE(run.status, 0);
  const QJsonObject json = run.json();
  const QJsonObject settings = json.value("settings").toObject();
  QCOMPARE(settings.value("host").toString(), QString("smtp.own.test"));
  QCOMPARE(settings.value("port").toInt(), world_->smtpPort("tls"));
  QCOMPARE(settings.value("security").toString(), QString("tls"));
  QCOMPARE(json.value("source").toString(), QString("autoconfig"));
  QCOMPARE(json.value("username").toString(), QString("alice@own.test"));
  QVERIFY(json.value("warnings").toArray().isEmpty());
  // Every step has its four fields; the probe and the decision are steps too.
  const QJsonArray steps = json.value("steps").toArray();
  QVERIFY(steps.size() >= 7);
  for (const auto& s : steps)
    for (const char* key : {"source", "query", "result", "ms"}) QVERIFY2(s.toObject().contains(key), key);
  QVERIFY(sources(json).contains("probe"));
  QCOMPARE(sources(json).last(), QString("decision"));
}

void TestDiscoveryQt::srvOnly() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const CliRun run = cli(QStringList{"--discover", "bob@srv.test", "--json"} + world_->cliOptions());
  QCOMPARE(run.status, 0);
  const QJsonObject json = run.json();
  QCOMPARE(json.value("settings").toObject().value("host").toString(), QString("mail.srv.test"));
  QCOMPARE(json.value("settings").toObject().value("security").toString(), QString("tls"));  // priority 0
  QCOMPARE(json.value("source").toString(), QString("srv"));
}

void TestDiscoveryQt::mxAtProviderInIspdb() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const CliRun run = cli(QStringList{"--discover", "carol@hosted.test", "--json"} + world_->cliOptions());
  QCOMPARE(run.status, 0);
  const QJsonObject json = run.json();
  QCOMPARE(json.value("settings").toObject().value("host").toString(), QString("smtp.mailhost.test"));
  QCOMPARE(json.value("source").toString(), QString("ispdb"));
  QVERIFY(json.value("tried").toArray().first().toObject().value("viaMx").toBool());
  QVERIFY(json.value("warnings").toArray().first().toString().contains("not in hosted.test's domain"));
}

void TestDiscoveryQt::nothingFound() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  CliRun run = cli(QStringList{"--discover", "dave@empty.test", "--json"} + world_->cliOptions());
  QCOMPARE(run.status, 2);
  const QJsonObject json = run.json();
  QVERIFY(!json.value("found").toBool());
  const QString failure = json.value("failure").toString();
  for (const char* part : {"Provider table", "autoconfig.empty.test", "_submissions._tcp.empty.test", "MX empty.test",
                           "ispdb.test/v1.1/empty.test", "smtp.empty.test port 465", "mail.empty.test port 587"})
    QVERIFY2(failure.contains(part), part);
  // The text form says it too.
  run = cli(QStringList{"--discover", "dave@empty.test"} + world_->cliOptions());
  QCOMPARE(run.status, 2);
  QVERIFY(run.out.contains("*** No settings found."));
  QVERIFY(run.out.contains("--- guess"));
}

void TestDiscoveryQt::forgedSrvWarns() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const CliRun run = cli(QStringList{"--discover", "eve@spoof.test"} + world_->cliOptions());
  QCOMPARE(run.status, 0);
  QVERIFY(run.out.contains("=== Found: smtp.elsewhere.test"));
  QVERIFY2(run.out.contains("*** Warning: smtp.elsewhere.test is not in spoof.test's domain"), qPrintable(run.out));
}

void TestDiscoveryQt::plainHttpNeedsConsent() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  // Not a terminal and not allowed: never fetched.
  CliRun run = cli(QStringList{"--discover", "x@plainhttp.test", "--json"} + world_->cliOptions());
  QCOMPARE(run.status, 2);
  bool refusedStep = false;
  for (const auto& s : run.json().value("steps").toArray())
    refusedStep |= s.toObject().value("query").toString().startsWith("http://") &&
                   s.toObject().value("result").toString().startsWith("not fetched");
  QVERIFY(refusedStep);
  run = cli(QStringList{"--discover", "x@plainhttp.test", "--json", "--allow-http-autoconfig"} + world_->cliOptions());
  QCOMPARE(run.status, 0);
  QCOMPARE(run.json().value("settings").toObject().value("host").toString(), QString("smtp.plainhttp.test"));
  QVERIFY(run.json().value("warnings").toArray().first().toString().contains("plain HTTP"));
}

void TestDiscoveryQt::discoverThenLogIn() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const CliRun run = cli(QStringList{"--discover", "demo@sandbox.test", "-u", "demo", "--password-env", "SMTPC_TEST_PW",
                                     "--json"} + world_->cliOptions(),
                         {{"SMTPC_TEST_PW", "demo"}});
  QCOMPARE(run.status, 0);
  const QJsonObject json = run.json();
  QVERIFY(json.value("ok").toBool());
  QCOMPARE(json.value("server").toString(), QString("smtp.sandbox.test"));
  QCOMPARE(json.value("stopped_after").toString(), QString("auth"));
  QCOMPARE(json.value("discovery").toObject().value("settings").toObject().value("host").toString(),
           QString("smtp.sandbox.test"));
  // The certificate was verified against the name, though the connection went to an address.
  QVERIFY(json.value("tls").toObject().value("verified").toBool());
  // The AUTH PLAIN string (base64 of NUL demo NUL demo) is masked in the transcript.
  QVERIFY(!run.out.contains("AGRlbW8AZGVtbw"));
  // A wrong password is the login's failure (4), after discovery found the server.
  const CliRun wrong = cli(QStringList{"--discover", "demo@sandbox.test", "-u", "demo", "--password-env",
                                       "SMTPC_TEST_PW"} + world_->cliOptions(),
                           {{"SMTPC_TEST_PW", "wrong"}});
  QCOMPARE(wrong.status, 4);
  QVERIFY(wrong.out.contains("=== Found: smtp.sandbox.test"));
}

void TestDiscoveryQt::resolveAppliesToSmtp() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  const QString p = QString::number(world_->smtpPort("tls"));
  // No DNS server: only --resolve knows where smtp.own.test is.
  CliRun run = cli({"--server", "smtp.own.test", "--port", p, "--security", "tls", "--quit-after", "ehlo", "--resolve",
                    "smtp.own.test:" + p + ":127.0.0.1", "--ca-file", world_->caFile(), "--json"});
  QCOMPARE(run.status, 0);
  QCOMPARE(run.json().value("server").toString(), QString("smtp.own.test"));
  QVERIFY(run.json().value("tls").toObject().value("verified").toBool());
  // Another port is not covered by the entry: the system resolver does not know the name.
  run = cli({"--server", "smtp.own.test", "--port", p, "--security", "tls", "--quit-after", "ehlo", "--resolve",
             "smtp.own.test:1:127.0.0.1", "--ca-file", world_->caFile(), "--json"});
  QCOMPARE(run.status, 2);
}

void TestDiscoveryQt::adapterStepsLiveAndCancel() {
  if (!needWorld()) QSKIP("the discovery world needs root (a DNS server on port 53)");
  qt::NetworkOptions network;
  network.dnsServer = QHostAddress(world_->dns());
  QFile ca(world_->caFile());
  QVERIFY(ca.open(QIODevice::ReadOnly));
  discovery::Settings settings;
  settings.address = "alice@own.test";
  settings.ispdbBase = world_->ispdb().toStdString();
  settings.tls.caCertificatesPem = ca.readAll().toStdString();

  qt::Discovery discovery(settings, network);
  QList<discovery::Step> steps;
  std::optional<discovery::Outcome> outcome;
  int stepsBeforeEnd = -1;
  connect(&discovery, &qt::Discovery::step, this, [&](const discovery::Step& s) { steps << s; });
  connect(&discovery, &qt::Discovery::finished, this, [&](const discovery::Outcome& o) {
    stepsBeforeEnd = static_cast<int>(steps.size());
    outcome = o;
  });
  discovery.start();
  QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), 30000);
  QVERIFY(outcome->found);
  QCOMPARE(outcome->chosen.host, std::string("smtp.own.test"));
  QVERIFY(stepsBeforeEnd >= 5);  // the steps came before the end, one by one
  QVERIFY(!discovery.isRunning());

  // Cancelled at once: it ends, says so, and nothing arrives afterwards.
  settings.address = "dave@empty.test";
  qt::Discovery second(settings, network);
  std::optional<discovery::Outcome> cancelled;
  connect(&second, &qt::Discovery::finished, this, [&](const discovery::Outcome& o) { cancelled = o; });
  second.start();
  second.cancel();
  QVERIFY(cancelled.has_value());
  QVERIFY(!cancelled->found);
  QCOMPARE(cancelled->failure, std::string("Discovery was cancelled."));
  QTest::qWait(300);
  QVERIFY(!second.isRunning());
}

void TestDiscoveryQt::badAddressIsUsage() {
  const CliRun run = cli({"--discover", "not-an-address", "--dns-server", "127.0.0.1", "--json"});
  QCOMPARE(run.status, 1);
  QVERIFY(run.json().value("failure").toString().contains("not an e-mail address"));
  QCOMPARE(cli({"--discover", "a@b.test", "--server", "x.test"}).status, 1);
  QCOMPARE(cli({"--discover", "a@b.test", "--dns-server", "nonsense"}).status, 1);
}

QTEST_GUILESS_MAIN(TestDiscoveryQt)
#include "tst_discovery_qt.moc"
