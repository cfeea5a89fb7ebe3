// smtpc-gui: test an SMTP server's setup and watch the conversation, explained.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "mainwindow.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("smtpc-gui"));
  QApplication::setOrganizationName(QStringLiteral("SMTPc"));
  QApplication::setApplicationVersion(QStringLiteral(SMTPC_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Test an SMTP server's setup and learn how SMTP, STARTTLS and AUTH work."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption server({"s", "server"}, "Prefill the server (the Local sandbox preset).", "HOST");
  const QCommandLineOption port({"p", "port"}, "Prefill the port.", "N");
  const QCommandLineOption security("security", "none | starttls | starttls-if-offered | tls", "MODE");
  const QCommandLineOption user({"u", "user"}, "Prefill the user name.", "NAME");
  const QCommandLineOption passwordEnv("password-env", "Prefill the password from environment variable VAR.", "VAR");
  const QCommandLineOption caFile("ca-file", "Prefill the CA file (PEM).", "FILE");
  const QCommandLineOption noSettings("no-settings", "Neither read nor write remembered settings.");
  const QCommandLineOption autoTest("test", "Press Test connection at once.");
  const QCommandLineOption exitAfter("exit-after-test", "With --test: quit when it ends (status 0 if it worked).");
  const QCommandLineOption screenshot("screenshot", "With --exit-after-test: save the window as a PNG first.", "FILE");
  // For private names (the demo's and the tests' .test domains): for Find settings and every run.
  const QCommandLineOption dnsServer("dns-server", "Ask this DNS server (port 53) instead of the system's, for every name.",
                                     "ADDR");
  const QCommandLineOption resolve("resolve", "Connect to ADDR for HOST:PORT, for every connection (like curl's; repeatable).",
                                   "HOST:PORT:ADDR");
  const QCommandLineOption ispdb("ispdb", "Find settings asks this ISPDB (default https://autoconfig.thunderbird.net/v1.1/).",
                                 "URL");
  const QCommandLineOption sandbox("sandbox", "The sandbox's JSON line (tests/servers/sandbox.py): its ports, for the lessons.",
                                   "FILE");
  parser.addOptions({server, port, security, user, passwordEnv, caFile, noSettings, autoTest, exitAfter, screenshot,
                     dnsServer, resolve, ispdb, sandbox});
  parser.process(app);

  smtpc::gui::StartupValues startup;
  startup.server = parser.value(server);
  startup.port = parser.value(port).toInt();
  startup.security = parser.value(security);
  startup.username = parser.value(user);
  if (parser.isSet(passwordEnv)) startup.password = qEnvironmentVariable(parser.value(passwordEnv).toLocal8Bit().constData());
  startup.caFile = parser.value(caFile);
  startup.useSettings = !parser.isSet(noSettings);
  QString usage;
  for (const QString& text : parser.values(resolve)) {
    const auto entry = smtpc::qt::NetworkOptions::parseResolve(text, &usage);
    if (!entry) return std::fprintf(stderr, "smtpc-gui: %s\n", qPrintable(usage)), 1;
    startup.network.resolve.append(*entry);
  }
  if (parser.isSet(dnsServer)) {
    startup.network.dnsServer = QHostAddress(parser.value(dnsServer));
    if (startup.network.dnsServer.isNull())
      return std::fprintf(stderr, "smtpc-gui: --dns-server wants an IP address, not \"%s\"\n", qPrintable(parser.value(dnsServer))), 1;
  }
  startup.ispdb = parser.value(ispdb);
  startup.sandboxJson = parser.value(sandbox);

  smtpc::gui::MainWindow window(startup);
  window.show();
  if (parser.isSet(autoTest)) QTimer::singleShot(0, &window, &smtpc::gui::MainWindow::runTest);
  if (parser.isSet(exitAfter)) {
    QObject::connect(&window, &smtpc::gui::MainWindow::runFinished, &app, [&](bool ok) {
      // A moment for the layout to settle (posted layout requests) before the picture.
      QTimer::singleShot(300, &app, [&, ok] {
        if (parser.isSet(screenshot)) window.grab().save(parser.value(screenshot));
        QCoreApplication::exit(ok ? 0 : 1);
      });
    });
  }
  return QApplication::exec();
}
