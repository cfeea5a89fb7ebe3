// The accounts file's text (smtpc/accounts.h): what each line means, and which line is wrong and
// why when one is. The file's permissions, the password command and the keychain are the CLI's
// (tests/qt/tst_cli_accounts.cpp).
#include <QtTest>

#include "smtpc/accounts.h"

using namespace smtpc;
using namespace smtpc::accounts;

class TestAccounts : public QObject {
  Q_OBJECT
 private slots:
  void everyKey() {
    const auto file = parseAccounts(
        "# a comment\n"
        "   # an indented comment\n"
        "\n"
        "account work\n"
        "server smtp.example.com:2525\n"
        "port 587\n"
        "security tls\n"
        "user me@example.com\n"
        "auth CRAM-MD5\n"
        "from Me <me@example.com>\n"
        "ehlo client.example.com\n"
        "ca-file /etc/ssl/private-ca.pem\n"
        "password-command pass show mail/work # not a comment\n"
        "\r\n"
        "account msmtp\r\n"
        "host smtp.example.net\r\n"
        "passwordeval gpg -d ~/.pw.gpg\r\n"
        "\taccount   home  \n"
        "keychain yes\n");
    QVERIFY2(file, file ? "" : file.error().explanation().c_str());
    QCOMPARE(file->accounts.size(), std::size_t{3});
    const Account& work = file->accounts[0];
    QCOMPARE(work.name, std::string("work"));
    QCOMPARE(work.line, std::size_t{4});
    QCOMPARE(work.server, std::string("smtp.example.com:2525"));
    QCOMPARE(work.port, std::optional<std::uint16_t>(587));
    QVERIFY(work.security == SecurityMode::ImplicitTls);
    QCOMPARE(work.user, std::string("me@example.com"));
    QVERIFY(work.auth == AuthMechanism::CramMd5);
    QCOMPARE(work.from, std::string("Me <me@example.com>"));
    QCOMPARE(work.ehlo, std::string("client.example.com"));
    QCOMPARE(work.caFile, std::string("/etc/ssl/private-ca.pem"));
    // A # inside a line is the value's: a command or a password may hold one.
    QCOMPARE(work.passwordCommand, std::string("pass show mail/work # not a comment"));
    QVERIFY(!work.keychain && work.password.empty() && work.passwordLine == 0);
    // msmtp's names for the same keys, and CRLF line ends.
    QCOMPARE(file->accounts[1].server, std::string("smtp.example.net"));
    QCOMPARE(file->accounts[1].passwordCommand, std::string("gpg -d ~/.pw.gpg"));
    QCOMPARE(file->accounts[2].name, std::string("home"));
    QVERIFY(file->accounts[2].keychain);
    QVERIFY(!file->accounts[2].port && !file->accounts[2].security && !file->accounts[2].auth);
    QCOMPARE(file->names(), (std::vector<std::string>{"work", "msmtp", "home"}));
    QCOMPARE(file->firstPasswordLine(), std::size_t{0});
  }

  void passwordInTheFile() {
    const auto file = parseAccounts("account a\nuser u\npassword \"  p#w \\\"q\\\" \\\\ \"\naccount b\npassword plain\n");
    QVERIFY(file);
    QCOMPARE(std::string(file->accounts[0].password.reveal()), std::string("  p#w \"q\" \\ "));
    QCOMPARE(file->accounts[0].passwordLine, std::size_t{3});
    QCOMPARE(std::string(file->accounts[1].password.reveal()), std::string("plain"));
    QCOMPARE(file->firstPasswordLine(), std::size_t{3});  // the CLI refuses the file if others can read it
  }

  void defaultAccount() {
    auto file = parseAccounts("account one\nserver a\naccount two\nserver b\ndefault two\n");
    QVERIFY(file);
    QCOMPARE(file->defaultAccount()->name, std::string("two"));
    file = parseAccounts("account one\naccount default\n");
    QVERIFY(file);
    QCOMPARE(file->defaultAccount()->name, std::string("default"));
    file = parseAccounts("account one\n");
    QVERIFY(file && !file->defaultAccount());
    QVERIFY(!file->find("two"));
    QVERIFY(parseAccounts("") && parseAccounts("")->accounts.empty());
  }

  void mistakes_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("says");
    QTest::newRow("unknown key") << "account a\nhots smtp.example.com\n" << 2 << "unknown key \"hots\"; an account takes server, port";
    QTest::newRow("key before account") << "# x\nserver a\n" << 2 << "\"server\" before any account";
    QTest::newRow("no value") << "account a\nuser   \n" << 2 << "user needs a value";
    QTest::newRow("bad port") << "account a\nport 70000\n" << 2 << "write 1 to 65535";
    QTest::newRow("port with text") << "account a\nport 587x\n" << 2 << "port \"587x\" is not a port number";
    QTest::newRow("bad security") << "account a\nsecurity ssl\n" << 2 << "write tls, starttls, starttls-if-offered or none";
    QTest::newRow("bad auth") << "account a\nauth digest-md5\n" << 2 << "auth \"digest-md5\" is not a method";
    QTest::newRow("bad keychain") << "account a\nkeychain maybe\n" << 2 << "neither yes nor no";
    QTest::newRow("key twice") << "account a\nport 25\n\nport 587\n" << 4 << "port is set twice in account \"a\" (first on line 2)";
    QTest::newRow("two password sources") << "account a\npassword-command x\nkeychain yes\n" << 3
                                          << "keep one of password, password-command and keychain";
    QTest::newRow("account twice") << "account a\naccount b\naccount a\n" << 3 << "a second account called \"a\" (the first is on line 1)";
    QTest::newRow("account twice in a row") << "account a\naccount a\n" << 2 << "(the first is on line 1)";
    QTest::newRow("account without name") << "account\n" << 1 << "write \"account NAME\"";
    QTest::newRow("account with blanks") << "account my work\n" << 1 << "NAME one word";
    QTest::newRow("msmtp inheritance") << "account a\naccount b : a\n" << 2 << "msmtp's inheritance";
    QTest::newRow("msmtp defaults") << "defaults\nport 587\n" << 1 << "\"defaults\" section is not supported";
    QTest::newRow("default twice") << "default a\ndefault b\naccount a\n" << 2 << "a second default line (the first is line 1)";
    QTest::newRow("default of nothing") << "default work\naccount home\n" << 1 << "default names \"work\", but there is no such account";
    QTest::newRow("open quote") << "account a\nfrom \"Me <me@example.com>\n" << 2 << "from: the closing quote is missing";
    QTest::newRow("text after quote") << "account a\nehlo \"x\" y\n" << 2 << "text after the closing quote";
  }
  void mistakes() {
    QFETCH(QString, text);
    QFETCH(int, line);
    QFETCH(QString, says);
    std::size_t problemLine = 0;
    const auto file = parseAccounts(text.toStdString(), &problemLine);
    QVERIFY(!file);
    QCOMPARE(file.error().code(), ErrorCode::InvalidArgument);
    QCOMPARE(int(problemLine), line);
    const QString explanation = QString::fromStdString(file.error().explanation());
    QVERIFY2(explanation.startsWith(QStringLiteral("Line %1: ").arg(line)), qPrintable(explanation));
    QVERIFY2(explanation.contains(says), qPrintable(explanation));
  }

  void aMistakeNeverQuotesThePassword() {
    for (const char* text : {"account a\npassword \"s3cret-Pw\n", "account a\npassword \"s3cret-Pw\" x\n",
                             "account a\npassword s3cret-Pw\npassword s3cret-Pw\n"}) {
      const auto file = parseAccounts(text);
      QVERIFY(!file);
      QVERIFY2(file.error().explanation().find("s3cret") == std::string::npos, file.error().explanation().c_str());
    }
  }

  void theDocumentedExampleParses() {
    // smtpc --help and docs show this text: it must stay a file the parser takes.
    const auto file = parseAccounts(exampleText());
    QVERIFY2(file, file ? "" : file.error().explanation().c_str());
    QCOMPARE(file->defaultAccount()->name, std::string("work"));
    QCOMPARE(file->names(), (std::vector<std::string>{"work", "home"}));
    QVERIFY(file->accounts[1].keychain);
  }
};

QTEST_APPLESS_MAIN(TestAccounts)
#include "tst_accounts.moc"
