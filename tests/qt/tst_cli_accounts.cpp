// smtpc for daily use, against the sandbox: the accounts file (-a, the default account, the
// command line winning, the password command, the file's permissions), the keychain
// (--remember-password, --keychain; here the fallback settings file), --data - from standard
// input, and the "version" of every kind of JSON document.
#include <sys/stat.h>

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"

class TestCliAccounts : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;
  QTemporaryDir configHome_;

  QString accountsPath() const { return configHome_.filePath(QStringLiteral("smtpc/accounts")); }

  // Writes the accounts file (mode `mode`); %PORT%, %TLSPORT% and %CA% become the sandbox's.
  void writeAccounts(const QString& text, QFile::Permissions mode = QFile::ReadOwner | QFile::WriteOwner) {
    QDir().mkpath(configHome_.filePath(QStringLiteral("smtpc")));
    QFile file(accountsPath());
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(QString(text)
                   .replace(QStringLiteral("%PORT%"), QString::number(sandbox_->port("starttls")))
                   .replace(QStringLiteral("%TLSPORT%"), QString::number(sandbox_->port("tls")))
                   .replace(QStringLiteral("%CA%"), sandbox_->caFile())
                   .toUtf8());
    file.close();
    QVERIFY(file.setPermissions(mode));
  }
  QString sandboxAccount(const QString& passwordLine) const {
    return QStringLiteral("default sb\n\naccount sb\nserver 127.0.0.1:%PORT%\nuser demo\nfrom Demo <demo@example.org>\n"
                          "ca-file %CA%\n") +
           passwordLine + QLatin1Char('\n');
  }

  CliRun cli(const QStringList& arguments, const QByteArray& input = {}, const QString& inputFile = {}) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    // No Secret Service: the keychain's fallback file in configHome_, never the person's keychain.
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/smtpc-tst-cli-accounts"));
    env.insert(QStringLiteral("SMTPC_TEST_PASSWORD"), QStringLiteral("demo"));
    return runCli(arguments, env, input, inputFile);
  }
  QByteArray stored(int n) const {
    QFile f(sandbox_->maildir() + QStringLiteral("/%1.eml").arg(n));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }
  int storedCount() const { return QDir(sandbox_->maildir()).entryList({QStringLiteral("*.eml")}).size(); }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
  }
  void cleanup() { QFile::remove(accountsPath()); }

  void defaultAccountWithoutServer() {
    // The command's first line only: "second" is not part of the password.
    writeAccounts(sandboxAccount(QStringLiteral("password-command printf 'demo\\nsecond'")));
    auto r = cli({"--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("Connecting to 127.0.0.1 port %1").arg(sandbox_->port("starttls"))));
    QVERIFY(r.out.contains(QStringLiteral("~> AUTH PLAIN ********")));
    // Named, and sending with the account's sender.
    r = cli({"-a", "sb", "-t", "b@example.net", "--subject", "account", "--body", "hi"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("MAIL FROM:<demo@example.org>")));
    // A --server of one's own: no default account (nothing of it applies, so no login either).
    r = cli({"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file", sandbox_->caFile(),
             "--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY2(!r.out.contains(QStringLiteral("~> AUTH")) && !r.out.contains(QStringLiteral("Logging in")), qPrintable(r.out));
  }

  void commandLineWinsOverTheAccount() {
    writeAccounts(sandboxAccount(QStringLiteral("password-command echo demo")));
    auto r = cli({"-a", "sb", "-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("tls")), "--security", "tls",
                  "--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("Connecting to 127.0.0.1 port %1").arg(sandbox_->port("tls"))));
    // Another login is someone else's: the account's password does not go with it.
    r = cli({"-a", "sb", "-u", "other", "--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("--user other needs a password")), qPrintable(r.err));
    r = cli({"-a", "sb", "-u", "other", "--password-env", "SMTPC_TEST_PASSWORD", "--quit-after", "auth"});
    QCOMPARE(r.status, 4);  // the sandbox knows no "other"
  }

  void passwordCommandFailures_data() {
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("says");
    QTest::newRow("exit status") << "echo demo; echo pw-store locked >&2; exit 3"
                                 << "the password command of account sb failed (exit status 3)";
    QTest::newRow("no output") << "true" << "the password command of account sb printed no password";
  }
  void passwordCommandFailures() {
    QFETCH(QString, command);
    QFETCH(QString, says);
    writeAccounts(sandboxAccount("password-command " + command));
    const auto r = cli({"--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(says), qPrintable(r.err));
    if (command.contains(QStringLiteral(">&2"))) QVERIFY(r.err.contains(QStringLiteral("pw-store locked")));  // its stderr
    QVERIFY(!r.out.contains(QStringLiteral("Connecting")));
  }

  void passwordInTheFileOnlyWhenPrivate() {
    const QString text = sandboxAccount(QStringLiteral("password demo"));
    writeAccounts(text, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    auto r = cli({"--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(accountsPath() + " line 8 holds a password, and others can read the file (mode 0644): chmod 600"),
             qPrintable(r.err));
    writeAccounts(text, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup);  // the group alone is others too
    r = cli({"--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("others can read the file (mode 0640)")), qPrintable(r.err));
    QVERIFY(!r.all().contains(QStringLiteral("demo\n")) && !r.all().contains(QStringLiteral("password demo")));
    // Through a symbolic link, the file it points to is what counts.
    writeAccounts(text, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    const QString link = configHome_.filePath(QStringLiteral("link-to-accounts"));
    QFile::remove(link);
    QVERIFY(QFile::link(accountsPath(), link));
    r = cli({"--accounts-file", link, "--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("others can read the file (mode 0644)")), qPrintable(r.err));
    writeAccounts(text);  // 0600
    r = cli({"--accounts-file", link, "--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
  }

  void fileOthersCanChangeIsRefused() {
    // Whoever can write the file can make smtpc run a command of theirs: refused, password or not.
    writeAccounts(sandboxAccount(QStringLiteral("password-command echo demo")),
                  QFile::ReadOwner | QFile::WriteOwner | QFile::WriteGroup);
    const auto r = cli({"--quit-after", "auth"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("can be changed by others (mode 0620)")), qPrintable(r.err));
  }

  void mistakesInTheFile() {
    writeAccounts(QStringLiteral("account sb\nserver 127.0.0.1\nsecurity ssl\n"));
    auto r = cli({"-a", "sb"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(accountsPath() + ": Line 3: security \"ssl\" is not a mode"), qPrintable(r.err));
    writeAccounts(QStringLiteral("account sb\naccount home\n"));
    r = cli({"-a", "work"});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("no account work in %1 (it has sb, home)").arg(accountsPath())), qPrintable(r.err));
    r = cli({"-a", "sb", "--accounts-file", configHome_.filePath(QStringLiteral("missing"))});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("missing: No such file or directory")), qPrintable(r.err));
  }

  void keychainRememberAndUse() {
    const QStringList server{"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file",
                             sandbox_->caFile(), "-u", "demo", "--quit-after", "auth"};
    auto r = cli(server + QStringList{"--keychain"});
    QCOMPARE(r.status, 1);  // nothing kept yet, and no terminal to ask on
    QVERIFY2(r.err.contains(QStringLiteral("no password is kept in the keychain for smtp://demo@127.0.0.1:%1")
                                .arg(sandbox_->port("starttls"))),
             qPrintable(r.err));
    r = cli(server + QStringList{"--password-env", "SMTPC_TEST_PASSWORD", "--remember-password"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    const QString file = configHome_.filePath(QStringLiteral("SMTPc/smtpc-gui.conf"));
    QVERIFY2(r.err.contains(QStringLiteral("the password is kept in plain text in ") + file), qPrintable(r.err));
    QCOMPARE(QFile::permissions(file) & 0x0077, QFile::Permissions());  // no group or other bits
    r = cli(server + QStringList{"--keychain"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    // An account's "keychain yes" finds the same entry.
    writeAccounts(sandboxAccount(QStringLiteral("keychain yes")));
    r = cli({"--quit-after", "auth"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
  }

  void dataFromStandardInput() {
    const QByteArray message = "From: demo@example.org\r\nTo: b@example.net\r\nSubject: piped\r\n\r\n.leading dot\r\nGr\xc3\xbc\xc3\x9f" "e\r\n";
    const QStringList send{"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file",
                           sandbox_->caFile(), "-u", "demo", "--password-env", "SMTPC_TEST_PASSWORD",
                           "-f", "demo@example.org", "-t", "b@example.net", "--data", "-"};
    const int before = storedCount();
    // A pipe, sent twice over one connection (--count): the copy goes back to its start.
    auto r = cli(send + QStringList{"--count", "2"}, message);
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY(r.out.contains(QStringLiteral("MAIL FROM:<demo@example.org> SIZE=%1 BODY=8BITMIME").arg(message.size())));
    QCOMPARE(storedCount(), before + 2);
    QCOMPARE(stored(before + 1), message);
    QCOMPARE(stored(before + 2), message);
    // A file on standard input (smtpc --data - < message.eml) is read where it is.
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("message.eml")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(message);
    file.close();
    r = cli(send, {}, file.fileName());
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QCOMPARE(stored(before + 3), message);
    r = cli(send + QStringList{"--print-message"}, message);
    QCOMPARE(r.status, 0);
    QCOMPARE(r.out, QStringLiteral("%1 octets from standard input\n").arg(message.size()));
    // Standard input holds the message: not the password too.
    r = cli({"-s", "127.0.0.1", "-u", "demo", "--password-stdin", "-t", "b@example.net", "--data", "-"}, message);
    QCOMPARE(r.status, 1);
    QVERIFY2(r.err.contains(QStringLiteral("--data - and --password-stdin both read standard input")), qPrintable(r.err));
  }

  void passwordCommandLeavesTheMessageAlone() {
    // With --data -, the password command reads nothing of standard input (it gets /dev/null).
    writeAccounts(sandboxAccount(QStringLiteral("password-command if read line; then echo \"$line\"; else echo demo; fi")));
    const QByteArray message = "Subject: kept whole\r\n\r\nbody\r\n";
    const int before = storedCount();
    const auto r = cli({"-t", "b@example.net", "--data", "-"}, message);
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QCOMPARE(stored(before + 1), message);
  }

  void everyJsonDocumentHasVersion1() {
    auto version = [](const CliRun& r) {
      return QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("version")).toInt(-1);
    };
    // A run's result.
    auto r = cli({"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file", sandbox_->caFile(),
                  "--quit-after", "ehlo", "--json"});
    QCOMPARE(r.status, 0);
    QCOMPARE(version(r), 1);
    // --discover's outcome (an address without a domain: decided without the network).
    r = cli({"--discover", "not-an-address", "--json"});
    QCOMPARE(r.status, 1);
    QVERIFY2(QJsonDocument::fromJson(r.out.toUtf8()).object().contains(QStringLiteral("found")), qPrintable(r.out));
    QCOMPARE(version(r), 1);
    // A sign-in's failure (Google refuses the device flow: decided before any request).
    r = cli({"--oauth", "google", "--oauth-flow", "device", "--client-id", "x", "-s", "127.0.0.1", "-u", "demo", "--json"});
    QVERIFY2(QJsonDocument::fromJson(r.out.toUtf8()).object().contains(QStringLiteral("signIn")), qPrintable(r.all()));
    QCOMPARE(version(r), 1);
  }
};

QTEST_GUILESS_MAIN(TestCliAccounts)
#include "tst_cli_accounts.moc"
