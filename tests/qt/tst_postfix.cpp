// The native client against Postfix (a private instance on a free loopback port): PIPELINING,
// 8BITMIME, SMTPUTF8, SIZE, a refused recipient, and 1,000 messages over one connection.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "sandbox.h"
#include "session_run.h"
#include "smtpc/message.h"
#include "smtpc/qt/attachment.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

// What Postfix's pipe transport kept, without the Received: header it added, with CRLF line
// ends again (Postfix stores lines; pipe writes LF).
std::string kept(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QByteArray data = f.readAll();
  while (data.startsWith("Received:")) {  // the header and its folded continuation lines
    do {
      data.remove(0, data.indexOf('\n') + 1);
    } while (data.startsWith(' ') || data.startsWith('\t'));
  }
  data.replace("\n", "\r\n");
  return data.toStdString();
}

Capabilities eightBit() {
  Reply r;
  r.code = 250;
  r.lines = {"x", "8BITMIME", "SMTPUTF8"};
  return Capabilities::fromEhloReply(r);
}

}  // namespace

class TestPostfix : public QObject {
  Q_OBJECT
  std::unique_ptr<PostfixServer> postfix_;

  ConnectParams params() const {
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = static_cast<std::uint16_t>(postfix_->value("port").toInt());
    p.security = SecurityMode::None;  // a loopback relay without TLS: no login is attempted
    p.timeouts = Timeouts::uniform(std::chrono::seconds(30));
    return p;
  }

 private slots:
  void initTestCase() {
    postfix_ = std::make_unique<PostfixServer>(QStringList{"--size-limit", "1000000"});
    QVERIFY2(postfix_->ok(), qPrintable(postfix_->error()));
  }

  void pipeliningEightBitUtf8ByteIdentical() {
    Message m;
    m.from = *Mailbox::create("Jörg", "jörg@bücher.example");  // needs SMTPUTF8
    m.to = {*Mailbox::create("Keep", "first@keep.test"), *Mailbox::create("", "second@keep.test")};
    m.subject = "Postfix: 8-bit, SMTPUTF8, pipelined";
    m.text = "Grüße — 你好\n.\n..\nA line that starts with a dot above.\n";
    m.attachments = {Attachment::fromMemory("bytes.bin", std::string("\x00\xff\r\n.\r\n", 6))};
    auto outgoing = m.toOutgoing(DateTime{1795911004, 0});
    QVERIFY(outgoing);
    ConnectParams p = params();
    p.recipientPolicy = RecipientPolicy::SendToAccepted;  // lets DATA join the pipelined batch
    SessionRun r = runSession(p, {*outgoing});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QVERIFY(r.transcript.find("commands pipelined") != std::string::npos);
    QVERIFY(r.transcript.find("BODY=8BITMIME SMTPUTF8") != std::string::npos);
    const std::string expected = *std::static_pointer_cast<MimeBody>(outgoing->body)->toString(eightBit());
    const QString queueId = QString::fromStdString(r.messages.at(0).reply->text()).section(QLatin1Char(' '), -1);
    const QString file = postfix_->maildir() + "/" + queueId + ".eml";
    QVERIFY(QTest::qWaitFor([&] { return QFile::exists(file) && QFile(file).size() > 0; }, 30000));
    QTest::qWait(200);  // tee may still be writing the end
    QCOMPARE(kept(file), expected);
  }

  // Issue 19: a forwarded .eml arrives as a message part (7bit, not base64), byte for byte, and
  // Python's email package, as a reader, finds the message inside.
  void attachedMessageArrivesAsMessage() {
    QTemporaryDir dir;
    const QString eml = dir.filePath("forwarded.eml");
    {
      QFile f(eml);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("From: Old <old@example.org>\nTo: someone@example.net\nSubject: The original\n\nFirst line\n.\nBye\n");
    }
    auto attachment = qt::attachFile(eml);
    QVERIFY(attachment);
    Message m;
    m.from = *Mailbox::create("", "a@example.org");
    m.to = {*Mailbox::create("", "forward@keep.test")};
    m.subject = "Fwd: The original";
    m.text = "See the attached message.";
    m.attachments = {*attachment};
    auto outgoing = m.toOutgoing(DateTime{1795911004, 0});
    QVERIFY(outgoing);
    SessionRun r = runSession(params(), {*outgoing});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    const std::string expected = *std::static_pointer_cast<MimeBody>(outgoing->body)->toString(eightBit());
    const QString queueId = QString::fromStdString(r.messages.at(0).reply->text()).section(QLatin1Char(' '), -1);
    const QString file = postfix_->maildir() + "/" + queueId + ".eml";
    QVERIFY(QTest::qWaitFor([&] { return QFile::exists(file) && QFile(file).size() > 0; }, 30000));
    QTest::qWait(200);  // tee may still be writing the end
    QCOMPARE(kept(file), expected);
    QProcess reader;
    reader.start(QStringLiteral("/usr/bin/python3"),
                 {QStringLiteral("-c"), QStringLiteral(
                      "import email, email.policy, sys\n"
                      "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n"
                      "part = [p for p in m.iter_parts() if p.get_content_type() == 'message/rfc822'][0]\n"
                      "inner = part.get_payload(0)\n"
                      "print(part['Content-Transfer-Encoding'], part.get_filename(), inner['Subject'],\n"
                      "      repr(inner.get_content()), sep='|')\n"),
                  file});
    QVERIFY(reader.waitForFinished(30000));
    // The last CRLF before the boundary belongs to the boundary (RFC 2046 §5.1.1): "Bye" ends the text.
    QCOMPARE(reader.readAllStandardOutput().trimmed(),
             QByteArray("7bit|forwarded.eml|The original|'First line\\n.\\nBye'"));
  }

  void sizeLimitAndRefusedRecipient() {
    Message big;
    big.from = *Mailbox::create("", "a@example.org");
    big.to = {*Mailbox::create("", "big@keep.test")};
    big.attachments = {Attachment::fromMemory("big.bin", std::string(800000, 'x'))};  // > 1,000,000 once base64
    Message refused;
    refused.from = *Mailbox::create("", "a@example.org");
    refused.to = {*Mailbox::create("", "reject@keep.test")};
    refused.text = "x";
    Message fine;
    fine.from = *Mailbox::create("", "a@example.org");
    fine.to = {*Mailbox::create("", "fine@keep.test")};
    fine.text = "still works";
    SessionRun r = runSession(params(), {*big.toOutgoing({}), *refused.toOutgoing({}), *fine.toOutgoing({})});
    QCOMPARE(r.messages.size(), std::size_t(3));
    QCOMPARE(r.messages[0].error.code(), ErrorCode::MessageTooLarge);  // refused before MAIL, from SIZE
    QVERIFY(r.transcript.find("SIZE=1") == std::string::npos);
    QCOMPARE(r.messages[1].error.code(), ErrorCode::RecipientsRejected);
    QVERIFY(r.messages[1].error.reply()->text().find("no such user") != std::string::npos);
    QVERIFY(!r.messages[2].error);
  }

  void thousandMessagesOneConnection() {
    Message m;
    m.from = *Mailbox::create("", "load@example.org");
    m.to = {*Mailbox::create("", "sink@discard.test")};
    m.subject = "load";
    m.text = std::string(4000, 'a');
    auto outgoing = *m.toOutgoing({});
    std::vector<OutgoingMessage> messages(1000, outgoing);  // one body, rewound for each
    SessionRun r = runSession(params(), messages);
    QVERIFY2(!r.finished.error, r.finished.error.toString().c_str());
    QCOMPARE(r.messages.size(), std::size_t(1000));
    for (const auto& result : r.messages) QVERIFY(!result.error);
    // Postfix delivered (discarded) every one of them.
    const QString log = postfix_->value("log");
    auto delivered = [&] {
      QFile f(log);
      if (!f.open(QIODevice::ReadOnly)) return 0;
      return static_cast<int>(f.readAll().count("to=<sink@discard.test>, relay=none"));
    };
    QVERIFY(QTest::qWaitFor([&] { return delivered() >= 1000; }, 120000));
    QCOMPARE(delivered(), 1000);
  }
};

QTEST_GUILESS_MAIN(TestPostfix)
#include "tst_postfix.moc"
