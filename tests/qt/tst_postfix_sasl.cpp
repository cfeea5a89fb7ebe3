// SCRAM against real implementations (issue 19): the private Postfix with --sasl (STARTTLS, AUTH
// checked by a private Dovecot whose passwd-file holds SCRAM credentials from `doveadm pw`).
// SCRAM-SHA-256 chosen by Auto over PLAIN and LOGIN, SCRAM-SHA-1 by name, a wrong password, and
// the message that follows the login delivered, with Postfix's log naming the mechanism.
#include <QFile>
#include <QTest>

#include "sandbox.h"
#include "secret_leaks.h"
#include "session_run.h"
#include "smtpc/message.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

// Not ASCII, so SASLprep's non-ASCII path (NFKC-stable text) meets Dovecot's own reading.
const std::string kPassword = "Leak-Check-Pa55wörd";

std::string readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

}  // namespace

class TestPostfixSasl : public QObject {
  Q_OBJECT
  std::unique_ptr<PostfixServer> postfix_;

  ConnectParams params(const char* user, const std::string& password) const {
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = static_cast<std::uint16_t>(postfix_->value("port").toInt());
    p.security = SecurityMode::StartTls;
    p.tls.caCertificatesPem = readAll(postfix_->caFile());
    p.tls.verifyName = postfix_->value("tls_name").toStdString();
    p.credentials.username = user;
    p.credentials.password = Secret(password);
    p.timeouts = Timeouts::uniform(std::chrono::seconds(30));
    return p;
  }

  static OutgoingMessage message(const std::string& subject) {
    Message m;
    m.from = *Mailbox::create("", "scram@example.org");
    m.to = {*Mailbox::create("", "scram@keep.test")};
    m.subject = subject;
    m.text = "Logged in without sending the password.\n";
    return *m.toOutgoing({});
  }

  // Postfix logs the login of each message's session: "sasl_method=SCRAM-SHA-256, sasl_username=scram256".
  bool postfixLogged(const std::string& method, const std::string& user) const {
    const std::string wanted = "sasl_method=" + method + ", sasl_username=" + user;
    return QTest::qWaitFor([&] { return readAll(postfix_->value("log")).find(wanted) != std::string::npos; }, 10000);
  }

 private slots:
  void initTestCase() {
    postfix_ = std::make_unique<PostfixServer>(
        QStringList{"--sasl", "--sasl-password", QString::fromStdString(kPassword)});
    QVERIFY2(postfix_->ok(), qPrintable(postfix_->error()));
  }

  void autoPicksScramSha256AndSends() {
    SessionRun r = runSession(params("scram256", kPassword), {message("after SCRAM-SHA-256")});
    QVERIFY2(!r.finished.error, (r.finished.error.toString() + "\n" + r.transcript).c_str());
    QVERIFY(r.mechanism.has_value());
    QCOMPARE(*r.mechanism, AuthMechanism::ScramSha256);  // offered: PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256
    QCOMPARE(r.messages.size(), std::size_t(1));
    QVERIFY(!r.messages[0].error);
    QVERIFY(r.transcript.find("The server's SCRAM signature is right") != std::string::npos);
    QVERIFY(r.transcript.find(",p=********") != std::string::npos);
    const std::string leak = smtpc::testing::findSecret(r.transcript, kPassword);
    QVERIFY2(leak.empty(), ("the transcript shows the password as " + leak).c_str());
    QVERIFY(postfixLogged("SCRAM-SHA-256", "scram256"));
  }

  void scramSha1ByName() {
    ConnectParams p = params("scram1", kPassword);
    p.authMechanism = AuthMechanism::ScramSha1;
    SessionRun r = runSession(p, {message("after SCRAM-SHA-1")});
    QVERIFY2(!r.finished.error, (r.finished.error.toString() + "\n" + r.transcript).c_str());
    QCOMPARE(*r.mechanism, AuthMechanism::ScramSha1);
    QVERIFY(r.transcript.find("The server's SCRAM signature is right") != std::string::npos);
    QVERIFY(postfixLogged("SCRAM-SHA-1", "scram1"));
  }

  void wrongPassword() {
    for (AuthMechanism mechanism : {AuthMechanism::ScramSha256, AuthMechanism::ScramSha1}) {
      ConnectParams p = params(mechanism == AuthMechanism::ScramSha1 ? "scram1" : "scram256", "not-the-password");
      p.authMechanism = mechanism;
      SessionRun r = runSession(p);
      QCOMPARE(r.finished.error.code(), ErrorCode::AuthFailed);
      QCOMPARE(r.finished.error.reply()->code, 535);  // Dovecot refuses the proof; Postfix says 535
      QVERIFY(r.finished.error.explanation().find("refused the user name or password") != std::string::npos);
      QVERIFY(r.transcript.find("SCRAM signature is right") == std::string::npos);
      QVERIFY(smtpc::testing::findSecret(r.transcript, "not-the-password").empty());
    }
  }
};

QTEST_GUILESS_MAIN(TestPostfixSasl)
#include "tst_postfix_sasl.moc"
