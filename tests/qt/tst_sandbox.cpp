// The native client against a real server (aiosmtpd sandbox) on loopback: every security mode
// and login, certificate failures, misbehaving servers, byte-identical delivery. Label: integration.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QTest>
#include <algorithm>

#include "sandbox.h"
#include "secret_leaks.h"
#include "session_run.h"
#include "smtpc/message.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

std::string readAll(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll().toStdString();
}

Message testMessage() {
  Message m;
  m.from = *Mailbox::create("Sandbox Test", "sender@example.org");
  m.to = {*Mailbox::create("Jörg", "rcpt@example.net")};
  m.bcc = {*Mailbox::create("", "hidden@example.net")};  // in the envelope only, never in the headers
  m.subject = "Grüße from the integration test";
  m.text = "Line one\n.\n..\n.leading dot\nUTF-8: naïve café — 你好\nno final newline";
  m.attachments = {Attachment::fromMemory("data.bin", std::string("\x00\x01\xff\r\n.\r\n", 8)),
                   Attachment::fromMemory("empty.txt", "")};
  return m;
}

}  // namespace

// A password long enough that every base64 alignment of it is searched for (see secret_leaks.h),
// and unlike the user name, so the name shown in the transcript is not mistaken for a leak.
constexpr char kLongPassword[] = "Leak-Check-Pa55word";

class TestSandbox : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;

  ConnectParams params(SecurityMode mode, const char* listener) const {
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = sandbox_->port(listener);
    p.security = mode;
    p.tls.caCertificatesPem = readAll(sandbox_->caFile());
    p.timeouts = Timeouts::uniform(std::chrono::seconds(20));
    return p;
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>(
        QStringList{"--reject-rcpt", "nobody", "--user", "demo:demo", "--user", "learner:" + QString::fromLatin1(kLongPassword)});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
  }

  void modesAndMechanisms_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("listener");
    QTest::addColumn<int>("mechanism");
    QTest::addColumn<bool>("encrypted");
    for (auto mech : {AuthMechanism::Plain, AuthMechanism::Login}) {
      const QString name = QString::fromStdString(std::string(mechanismName(mech)));
      QTest::newRow(qPrintable("starttls " + name)) << int(SecurityMode::StartTls) << "starttls" << int(mech) << true;
      QTest::newRow(qPrintable("if-offered " + name)) << int(SecurityMode::StartTlsIfOffered) << "starttls" << int(mech) << true;
      QTest::newRow(qPrintable("implicit tls " + name)) << int(SecurityMode::ImplicitTls) << "tls" << int(mech) << true;
      QTest::newRow(qPrintable("none, allowed " + name)) << int(SecurityMode::None) << "plain" << int(mech) << false;
    }
  }
  void modesAndMechanisms() {
    QFETCH(int, mode);
    QFETCH(QString, listener);
    QFETCH(int, mechanism);
    QFETCH(bool, encrypted);
    ConnectParams p = params(SecurityMode(mode), qPrintable(listener));
    p.credentials.username = "learner";
    p.credentials.password = Secret(kLongPassword);
    p.authMechanism = AuthMechanism(mechanism);
    p.allowPlaintextAuth = !encrypted;
    Message m = testMessage();
    auto outgoing = m.toOutgoing(DateTime{1795911004, 0});
    QVERIFY(outgoing);
    auto body = std::static_pointer_cast<MimeBody>(outgoing->body);
    SessionRun r = runSession(p, {*outgoing});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QCOMPARE(r.mechanism.value(), AuthMechanism(mechanism));
    QCOMPARE(r.tls.has_value(), encrypted);
    QCOMPARE(r.messages.size(), std::size_t(1));
    QVERIFY(!r.messages[0].error);
    // Byte for byte what was composed (for a server that offers 8BITMIME, as the sandbox does).
    Reply ehlo;
    ehlo.code = 250;
    ehlo.lines = {"x", "8BITMIME"};
    const std::string expected = *body->toString(Capabilities::fromEhloReply(ehlo));
    const QString id = QString::fromStdString(r.messages[0].reply->text()).section(QLatin1Char(' '), -1);
    QCOMPARE(readAll(sandbox_->maildir() + "/" + id + ".eml"), expected);
    // What the server recorded of the envelope: every recipient (the Bcc one too, which the
    // headers must not name), whether TLS was up, and that the login took.
    const QJsonObject envelope = QJsonDocument::fromJson(QByteArray::fromStdString(
                                                             readAll(sandbox_->maildir() + "/" + id + ".json"))).object();
    QCOMPARE(envelope.value("from").toString(), QStringLiteral("sender@example.org"));
    QCOMPARE(envelope.value("to").toArray(), (QJsonArray{"rcpt@example.net", "hidden@example.net"}));
    QCOMPARE(envelope.value("tls").toBool(), encrypted);
    QCOMPARE(envelope.value("authenticated").toBool(), true);
    QVERIFY(expected.find("hidden@example.net") == std::string::npos);
    // The password in none of the encodings its mechanism gives it.
    const std::string leak = smtpc::testing::findSecret(r.transcript, kLongPassword);
    QVERIFY2(leak.empty(), ("the transcript shows the password as " + leak).c_str());
  }

  void wrongPassword() {
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    p.credentials.username = "demo";
    p.credentials.password = Secret("not-the-password");
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::AuthFailed);
    QCOMPARE(r.finished.error.reply()->code, 535);
    QVERIFY(smtpc::testing::findSecret(r.transcript, "not-the-password").empty());
  }

  void startTlsRequiredButNotOffered() {
    ConnectParams p = params(SecurityMode::StartTls, "plain");
    p.credentials.username = "demo";
    p.credentials.password = Secret("demo");
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::StartTlsNotOffered);
    QVERIFY(r.transcript.find("-> AUTH") == std::string::npos);
  }

  void plaintextAuthRefusedUnlessAllowed() {
    ConnectParams p = params(SecurityMode::None, "plain");
    p.credentials.username = "demo";
    p.credentials.password = Secret("demo");
    p.quitAfter = Phase::Auth;
    QCOMPARE(runSession(p).finished.error.code(), ErrorCode::PlaintextAuthRefused);
    p.allowPlaintextAuth = true;
    QVERIFY(!runSession(p).finished.error);
  }

  void untrustedCertificate() {
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    p.tls.caCertificatesPem.clear();
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::CertificateInvalid);
    QVERIFY2(r.finished.error.explanation().find("does not trust") != std::string::npos, r.transcript.c_str());
  }

  void acceptInvalidIsVisible() {
    ConnectParams p = params(SecurityMode::ImplicitTls, "tls");
    p.tls.caCertificatesPem.clear();
    p.tls.acceptInvalidCertificate = true;
    p.quitAfter = Phase::Ehlo;
    SessionRun r = runSession(p);
    QVERIFY(!r.finished.error);
    QVERIFY(r.tls && !r.tls->verified && r.tls->acceptedDespiteErrors);
    QVERIFY(r.transcript.find("NOT valid") != std::string::npos);
  }

  void brokenCertificates_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("why");
    QTest::newRow("expired") << "expired" << "expired on";
    QTest::newRow("wrong host") << "wronghost" << "not for 127.0.0.1";
    QTest::newRow("self-signed") << "selfsigned" << "self-signed";
  }
  void brokenCertificates() {
    QFETCH(QString, kind);
    QFETCH(QString, why);
    Sandbox broken({"--cert", kind});
    QVERIFY(broken.ok());
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = broken.port("tls");
    p.security = SecurityMode::ImplicitTls;
    p.tls.caCertificatesPem = readAll(broken.caFile());
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::CertificateInvalid);
    QVERIFY2(QString::fromStdString(r.finished.error.explanation()).contains(why), r.finished.error.explanation().c_str());
  }

  void pins() {
    ConnectParams p = params(SecurityMode::ImplicitTls, "tls");
    p.quitAfter = Phase::Tls;
    SessionRun first = runSession(p);
    QVERIFY(first.tls && !first.tls->chain.empty());
    p.tls.pinnedSha256 = {"sha256//" + first.tls->chain.front().publicKeySha256};
    QVERIFY(!runSession(p).finished.error);
    p.tls.pinnedSha256 = {"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="};
    SessionRun mismatch = runSession(p);
    QCOMPARE(mismatch.finished.error.code(), ErrorCode::CertificateInvalid);
    QVERIFY(mismatch.finished.error.explanation().find("pinned") != std::string::npos);
  }

  void greeting554() {
    Sandbox refusing({"--greeting-554"});
    QVERIFY(refusing.ok());
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = refusing.port("plain");
    p.security = SecurityMode::None;
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::ServerRefused);
    QVERIFY(r.transcript.find("-> QUIT") != std::string::npos);  // RFC 5321 §3.1
  }

  void closedPort() {
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    p.port = Sandbox::closedPort();
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::ConnectionRefused);
    QVERIFY(r.finished.error.explanation().find("check the port") != std::string::npos);
  }

  void clientCertificates() {
    // A server that demands a client certificate from its CA (mutual TLS), both TLS modes.
    Sandbox mutual({"--require-client-cert"});
    QVERIFY2(mutual.ok(), qPrintable(mutual.error()));
    for (const auto& [mode, listener] : {std::pair{SecurityMode::StartTls, "starttls"}, std::pair{SecurityMode::ImplicitTls, "tls"}}) {
      ConnectParams p;
      p.host = "127.0.0.1";
      p.port = mutual.port(listener);
      p.security = mode;
      p.tls.caCertificatesPem = readAll(mutual.caFile());
      p.timeouts = Timeouts::uniform(std::chrono::seconds(20));
      p.credentials.username = "demo";
      p.credentials.password = Secret("demo");
      p.quitAfter = Phase::Auth;
      // Without one: TLS 1.3 finishes the handshake and the server hangs up; said plainly.
      SessionRun without = runSession(p);
      QCOMPARE(without.finished.error.code(), ErrorCode::ClientCertificateRefused);
      QVERIFY2(without.finished.error.explanation().find("none was given") != std::string::npos, without.transcript.c_str());
      // With the certificate and key the server's CA issued: the login goes through.
      p.tls.clientCertificatePem = readAll(mutual.value("client_cert"));
      p.tls.clientKeyPem = readAll(mutual.value("client_key"));
      SessionRun with = runSession(p);
      QVERIFY2(!with.finished.error, with.transcript.c_str());
      QCOMPARE(with.mechanism.value(), AuthMechanism::Plain);
      QVERIFY(with.transcript.find("BEGIN") == std::string::npos);  // no key material in the transcript
    }
  }

  void wrongModeForPort() {
    // Implicit TLS against the STARTTLS port: the server answers in clear text.
    ConnectParams a = params(SecurityMode::ImplicitTls, "starttls");
    SessionRun tlsOnPlain = runSession(a);
    QCOMPARE(tlsOnPlain.finished.error.code(), ErrorCode::TlsHandshakeFailed);
    QVERIFY(tlsOnPlain.finished.error.explanation().find("STARTTLS") != std::string::npos);
    // STARTTLS against the implicit-TLS port: no greeting comes; the timeout fires and explains.
    ConnectParams b = params(SecurityMode::StartTls, "tls");
    b.timeouts.greeting = std::chrono::seconds(2);
    QElapsedTimer clock;
    clock.start();
    SessionRun plainOnTls = runSession(b);
    QCOMPARE(plainOnTls.finished.error.code(), ErrorCode::Timeout);
    QVERIFY(plainOnTls.finished.error.explanation().find("implicit TLS") != std::string::npos);
    QVERIFY(clock.elapsed() < 15000);  // the timer fired (generous bound: not a speed test)
  }

  void slowServerTimesOut() {
    Sandbox slow({"--slow", "5"});
    QVERIFY(slow.ok());
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = slow.port("plain");
    p.security = SecurityMode::None;
    p.timeouts = Timeouts::uniform(std::chrono::seconds(1));
    QElapsedTimer clock;
    clock.start();
    SessionRun r = runSession(p);
    QCOMPARE(r.finished.error.code(), ErrorCode::Timeout);
    QVERIFY(clock.elapsed() < 4500);  // before the server's first reply would have come
  }

  void refusedRecipientAndDroppedConnection() {
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    p.credentials.username = "demo";
    p.credentials.password = Secret("demo");
    Message m = testMessage();
    m.to.push_back(*Mailbox::create("", "nobody@example.net"));
    SessionRun r = runSession(p, {*m.toOutgoing(DateTime{})});
    QCOMPARE(r.messages.at(0).error.code(), ErrorCode::RecipientsRejected);
    QCOMPARE(r.messages.at(0).recipients.size(), std::size_t(3));  // the two To addresses, then the Bcc
    QCOMPARE(r.messages.at(0).recipients[1].address, std::string("nobody@example.net"));
    QVERIFY(!r.messages.at(0).recipients[1].accepted);

    Sandbox dropping({"--drop-at", "mail"});
    QVERIFY(dropping.ok());
    ConnectParams d;
    d.host = "127.0.0.1";
    d.port = dropping.port("plain");
    d.security = SecurityMode::None;
    SessionRun lost = runSession(d, {*testMessage().toOutgoing(DateTime{})});
    QCOMPARE(lost.finished.error.code(), ErrorCode::ConnectionLost);
    QCOMPARE(lost.messages.at(0).error.code(), ErrorCode::ConnectionLost);
  }

  void ipv6AndTlsDetails() {
    Sandbox v6({"--host", "::1"});
    if (!v6.ok()) QSKIP("no IPv6 loopback on this machine");
    ConnectParams p;
    p.host = "::1";
    p.port = v6.port("starttls");
    p.security = SecurityMode::StartTls;
    p.tls.caCertificatesPem = readAll(v6.caFile());
    p.tls.minimumVersion = TlsVersion::Tls1_3;
    p.quitAfter = Phase::Ehlo;
    SessionRun r = runSession(p);
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QVERIFY(r.transcript.find("EHLO [IPv6:::1]") != std::string::npos);  // address literal (RFC 5321 §4.1.3)
    QCOMPARE(r.tls->protocol, std::string("TLSv1.3"));
    QVERIFY(r.tls->verified);
    const CertificateInfo& leaf = r.tls->chain.at(0);
    QCOMPARE(leaf.subject, std::string("CN=localhost"));
    QVERIFY(leaf.issuer.find("SMTPc Sandbox Test CA") != std::string::npos);
    QVERIFY(std::find(leaf.subjectAlternativeNames.begin(), leaf.subjectAlternativeNames.end(), "::1") !=
            leaf.subjectAlternativeNames.end());
    QCOMPARE(leaf.sha256Fingerprint.size(), std::size_t(95));  // 32 bytes as XX:XX:...
    QVERIFY(!leaf.notAfter.empty() && leaf.notBefore < leaf.notAfter);
  }

  void progressAndCancel() {
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    Message m = testMessage();
    m.attachments = {Attachment::fromMemory("big.bin", std::string(8 * 1024 * 1024, 'z'))};
    auto outgoing = *m.toOutgoing(DateTime{});
    QVERIFY(!outgoing.body->size());  // unknown until the server's capabilities choose encodings
    qulonglong total = 0;

    qt::QtClient client;
    std::vector<qulonglong> progress;
    std::optional<Finished> finished;
    QObject::connect(&client, &qt::QtClient::progress, [&](qulonglong, qulonglong sent, qulonglong all) {
      if (!total) total = all;
      QCOMPARE(all, total);  // announced before the first byte, never changing
      progress.push_back(sent);
    });
    QObject::connect(&client, &qt::QtClient::ready, [&] {
      (void)client.sendMessage(outgoing);
      client.disconnectFromServer();
    });
    QObject::connect(&client, &qt::QtClient::finished, [&](const Finished& f) { finished = f; });
    QVERIFY(!client.connectToServer(p));
    QVERIFY(QTest::qWaitFor([&] { return finished.has_value(); }, 60000));
    QVERIFY(!finished->error);
    QVERIFY(progress.size() > 10);
    QVERIFY(std::is_sorted(progress.begin(), progress.end()));
    QVERIFY(total > 8u * 1024 * 1024);
    QCOMPARE(progress.back(), total);

    // Cancel as soon as the content starts: the server must not keep a partial message.
    const int stored = QDir(sandbox_->maildir()).entryList({"*.eml"}).size();
    qt::QtClient cancelling;
    finished.reset();
    QObject::connect(&cancelling, &qt::QtClient::ready, [&] { (void)cancelling.sendMessage(outgoing); });
    QObject::connect(&cancelling, &qt::QtClient::progress, [&](qulonglong, qulonglong, qulonglong) { cancelling.cancel(); });
    QObject::connect(&cancelling, &qt::QtClient::finished, [&](const Finished& f) { finished = f; });
    QVERIFY(!cancelling.connectToServer(p));
    QVERIFY(QTest::qWaitFor([&] { return finished.has_value(); }, 60000));
    QCOMPARE(finished->error.code(), ErrorCode::Cancelled);
    QTest::qWait(300);
    QCOMPARE(QDir(sandbox_->maildir()).entryList({"*.eml"}).size(), stored);
  }

  void blockingFacade() {
    qt::BlockingClient client;
    std::string transcript;
    client.onTranscript([&](const TranscriptEntry& e) { transcript += e.text + "\n"; });
    ConnectParams p = params(SecurityMode::StartTls, "starttls");
    p.credentials.username = "demo";
    p.credentials.password = Secret("demo");
    QVERIFY(!client.connect(p));
    QVERIFY(client.tlsInfo().has_value());
    QVERIFY(client.capabilities()->supportsAuth());
    for (int i = 0; i < 3; ++i) QVERIFY(!client.send(*testMessage().toOutgoing(DateTime{})).error);
    QVERIFY(!client.disconnect());
    QVERIFY(transcript.find("Message 3 accepted") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestSandbox)
#include "tst_sandbox.moc"
