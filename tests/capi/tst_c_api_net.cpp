// The C API's network side on its POSIX transport: IPv6, names, refused and silent ports, time
// limits, certificates (refused, or accepted by the trust callback) and the CA file.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <string>

#include "loopback.h"
#include "sandbox.h"
#include "smtpc/smtp-c.h"

namespace {

struct TestMessage {
  SMTPc_MBOX from{};
  SMTPc_MBOX to{};
  SMTPc_MBOX* toArray[1] = {&to};
  SMTPc_MSG msg{};
  TestMessage() {
    SMTPc_ERR err;
    SMTPc_SetMbox(&from, "Net", "net@example.org", &err);
    SMTPc_SetMbox(&to, "", "rcpt@example.net", &err);
    SMTPc_SetMsg(&msg, &err);
    msg.From = &from;
    msg.ToArray = toArray;
    msg.ToCount = 1;
    msg.Subject = "C API network test";
    msg.ContentBodyMsg = "Hello.";
    msg.ContentBodyMsgLen = 6;
  }
};

int delivered(const Sandbox& sandbox) {
  return static_cast<int>(QDir(sandbox.maildir()).entryList({QStringLiteral("*.eml")}).size());
}

// SMTPc_CfgTimeout for one test: process-wide, so put back to the default after it.
class TimeoutForThisTest {
 public:
  explicit TimeoutForThisTest(unsigned long ms) { SMTPc_CfgTimeout(ms); }
  ~TimeoutForThisTest() { SMTPc_CfgTimeout(0); }
};

struct TrustLog {
  int calls = 0;
  int answer = 0;
  std::string subject;
  std::string problem;
};

int trust(void* context, const char* subject, const char* problem) {
  auto* log = static_cast<TrustLog*>(context);
  ++log->calls;
  log->subject = subject;
  log->problem = problem;
  return log->answer;
}

}  // namespace

class TestCApiNet : public QObject {
  Q_OBJECT
 private slots:
  // ::1, as a literal: STARTTLS, with the certificate's IP address checked.
  void ipv6Loopback() {
    if (!hasIpv6Loopback()) QSKIP("this machine has no IPv6 loopback (::1)");
    Sandbox sandbox({QStringLiteral("--host"), QStringLiteral("::1")});
    QVERIFY2(sandbox.ok(), qPrintable(sandbox.error()));
    const QByteArray ca = sandbox.caFile().toLocal8Bit();
    SMTPc_SECURE_CFG secure = {SMTPc_SECURE_STARTTLS, nullptr, ca.constData(), nullptr, nullptr};
    TestMessage message;
    SMTPc_ERR err = SMTPc_ERR_REP;
    SMTPc_SendMail("::1", sandbox.port("starttls"), "demo", "demo", &secure, &message.msg, &err);
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    QCOMPARE(delivered(sandbox), 1);
  }

  // A name, looked up (in the lookup's thread): localhost.
  void hostName() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    TestMessage message;
    SMTPc_ERR err = SMTPc_ERR_REP;
    SMTPc_SendMail("localhost", sandbox.port("plain"), nullptr, nullptr, nullptr, &message.msg, &err);
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    QCOMPARE(delivered(sandbox), 1);
  }

  void closedPortIsRefused() {
    SMTPc_ERR err = SMTPc_ERR_NONE;
    const std::uint16_t port = ServerProcess::closedPort();
    QCOMPARE(SMTPc_Connect("127.0.0.1", port, nullptr, nullptr, nullptr, &err), -1);
    QCOMPARE(err, SMTPc_ERR_SOCK_CONN_FAILED);
    const std::string explanation = SMTPc_ErrExplanation();
    QVERIFY2(explanation.find("Nothing accepts connections on 127.0.0.1 port " + std::to_string(port)) !=
                 std::string::npos,
             explanation.c_str());
  }

  // A server that takes the connection and never greets: the wait for the greeting runs out.
  void silentServerTimesOut() {
    MisbehavingListener silent(AF_INET, MisbehavingListener::Kind::Silent);
    QVERIFY(silent.ok());
    TimeoutForThisTest limit(300);
    SMTPc_ERR err = SMTPc_ERR_NONE;
    QCOMPARE(SMTPc_Connect("127.0.0.1", silent.port(), nullptr, nullptr, nullptr, &err), -1);
    QCOMPARE(err, SMTPc_ERR_TIMEOUT);
    QVERIFY2(std::string(SMTPc_ErrExplanation()).find("greeting") != std::string::npos, SMTPc_ErrExplanation());
  }

  // An address that never answers the connection: the connect's wait runs out.
  void blackHoleTimesOut() {
    MisbehavingListener hole(AF_INET, MisbehavingListener::Kind::BlackHole);
    QVERIFY(hole.ok());
    TimeoutForThisTest limit(300);
    SMTPc_ERR err = SMTPc_ERR_NONE;
    TestMessage message;
    SMTPc_SendMail("127.0.0.1", hole.port(), nullptr, nullptr, nullptr, &message.msg, &err);
    QCOMPARE(err, SMTPc_ERR_TIMEOUT);
  }

  // The sandbox's CA is not the system's: refused, unless the trust callback says go on.
  void untrustedCertificateAndTheTrustCallback() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    TrustLog refuse;
    SMTPc_SECURE_CFG secure = {SMTPc_SECURE_IMPLICIT, nullptr, nullptr, trust, &refuse};
    TestMessage message;
    SMTPc_ERR err = SMTPc_ERR_NONE;
    SMTPc_SendMail("127.0.0.1", sandbox.port("tls"), "demo", "demo", &secure, &message.msg, &err);
    QCOMPARE(err, SMTPc_ERR_CERT_INVALID);
    QCOMPARE(refuse.calls, 1);
    QVERIFY2(refuse.subject.find("CN=") != std::string::npos, refuse.subject.c_str());
    QVERIFY2(!refuse.problem.empty(), "the callback is told the problem");
    QCOMPARE(delivered(sandbox), 0);

    TrustLog accept;
    accept.answer = 1;
    secure.TrustContext = &accept;
    SMTPc_SendMail("127.0.0.1", sandbox.port("tls"), "demo", "demo", &secure, &message.msg, &err);
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    QCOMPARE(accept.calls, 1);
    QCOMPARE(delivered(sandbox), 1);
  }

  // An expired certificate, its CA trusted: refused with the reason, without a trust callback.
  void expiredCertificateIsRefused() {
    Sandbox sandbox({QStringLiteral("--cert"), QStringLiteral("expired")});
    QVERIFY(sandbox.ok());
    const QByteArray ca = sandbox.caFile().toLocal8Bit();
    SMTPc_SECURE_CFG secure = {SMTPc_SECURE_STARTTLS, nullptr, ca.constData(), nullptr, nullptr};
    SMTPc_ERR err = SMTPc_ERR_NONE;
    QCOMPARE(SMTPc_Connect("127.0.0.1", sandbox.port("starttls"), "demo", "demo", &secure, &err), -1);
    QCOMPARE(err, SMTPc_ERR_CERT_INVALID);
    QVERIFY2(std::string(SMTPc_ErrExplanation()).find("expired") != std::string::npos, SMTPc_ErrExplanation());
  }

  // CaFile: trusted beside the system's roots. A file that cannot be read is refused before any
  // connection; one that holds no certificate, when TLS starts.
  void caFile() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    const QByteArray ca = sandbox.caFile().toLocal8Bit();
    SMTPc_SECURE_CFG secure = {SMTPc_SECURE_STARTTLS, "localhost", ca.constData(), nullptr, nullptr};
    SMTPc_ERR err = SMTPc_ERR_REP;
    const int handle = SMTPc_Connect("127.0.0.1", sandbox.port("starttls"), "demo", "demo", &secure, &err);
    QVERIFY2(handle >= 0 && err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    SMTPc_Disconnect(handle, &err);
    QCOMPARE(err, SMTPc_ERR_NONE);

    QTemporaryDir dir;
    const QByteArray missing = (dir.path() + QStringLiteral("/missing.pem")).toLocal8Bit();
    secure.CaFile = missing.constData();
    QCOMPARE(SMTPc_Connect("127.0.0.1", sandbox.port("starttls"), "demo", "demo", &secure, &err), -1);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
    QVERIFY2(std::string(SMTPc_ErrExplanation()).find("cannot be read") != std::string::npos, SMTPc_ErrExplanation());

    QFile notPem(dir.path() + QStringLiteral("/not.pem"));
    QVERIFY(notPem.open(QIODevice::WriteOnly));
    notPem.write("not a certificate\n");
    notPem.close();
    const QByteArray notPemPath = notPem.fileName().toLocal8Bit();
    secure.CaFile = notPemPath.constData();
    QCOMPARE(SMTPc_Connect("127.0.0.1", sandbox.port("starttls"), "demo", "demo", &secure, &err), -1);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
    QVERIFY2(std::string(SMTPc_ErrExplanation()).find("PEM") != std::string::npos, SMTPc_ErrExplanation());
  }
};

QTEST_GUILESS_MAIN(TestCApiNet)
#include "tst_c_api_net.moc"
