// Delivery reports (DSN, RFC 3461) end to end, issue 19: NOTIFY=SUCCESS sent to the tests' private
// Postfix brings a real report back (Postfix keeps mail for keep.test as files, and the sender is at
// keep.test), read by Python's email package (check_dsn.py): multipart/report with
// report-type=delivery-status, the ENVID and ORCPT we sent as Original-Envelope-Id and
// Original-Recipient, RET=HDRS as headers only. The same through the smtpc CLI's options; and the
// CLI against a server without DSN (the sandbox): refused before MAIL, or sent without when chosen.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include "cli_run.h"
#include "sandbox.h"
#include "session_run.h"
#include "smtpc/message.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

const QStringList kSuccess{QStringLiteral("delivered"), QStringLiteral("relayed")};

// check_dsn.py's reading of one kept file.
QJsonObject readReport(const QString& path) {
  QProcess p;
  p.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(SMTPC_CHECK_DSN), path});
  if (!p.waitForFinished(30000) || p.exitCode() != 0) return {{"error", QString::fromUtf8(p.readAllStandardError())}};
  return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

// Waits for a delivery report among the files Postfix kept whose report names `envelopeId`
// (each test its own, so one test's report is never taken for another's).
QJsonObject waitForReport(const QString& maildir, const QString& envelopeId) {
  QJsonObject found;
  (void)QTest::qWaitFor(  // an empty result says it timed out
      [&] {
        for (const QString& name : QDir(maildir).entryList({QStringLiteral("*.eml")}, QDir::Files)) {
          const QString path = maildir + "/" + name;
          QFile f(path);
          if (!f.open(QIODevice::ReadOnly) || !f.readAll().contains("multipart/report")) continue;
          QTest::qWait(200);  // tee may still be writing the end
          QJsonObject report = readReport(path);
          if (report.value("envelope_id").toString() == envelopeId) {
            found = report;
            return true;
          }
        }
        return false;
      },
      60000);
  return found;
}

}  // namespace

class TestPostfixDsn : public QObject {
  Q_OBJECT
  std::unique_ptr<PostfixServer> postfix_;
  std::unique_ptr<Sandbox> sandbox_;

  ConnectParams params() const {
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = static_cast<std::uint16_t>(postfix_->value("port").toInt());
    p.security = SecurityMode::None;  // a loopback relay without TLS: no login is attempted
    p.timeouts = Timeouts::uniform(std::chrono::seconds(30));
    return p;
  }
  CliRun cli(const QStringList& arguments) const {
    return runCli(arguments, QProcessEnvironment::systemEnvironment());
  }

 private slots:
  void initTestCase() {
    postfix_ = std::make_unique<PostfixServer>();
    QVERIFY2(postfix_->ok(), qPrintable(postfix_->error()));
    sandbox_ = std::make_unique<Sandbox>();
    QVERIFY(sandbox_->ok());
  }

  // The engine: NOTIFY=SUCCESS, RET=HDRS and an ENVID needing xtext; Postfix offers DSN, delivers
  // through its pipe transport and reports the success to the sender.
  void successReportFromPostfix() {
    Message m;
    m.from = *Mailbox::create("", "sender@keep.test");
    m.to = {*Mailbox::create("", "rcpt+tag@keep.test")};
    m.subject = "DSN test";
    m.text = "Report back, please.\n";
    m.dsn.notify.success = true;
    m.dsn.ret = DsnReturn::Headers;
    m.dsn.envelopeId = "engine run+1=2";
    auto outgoing = m.toOutgoing(DateTime{1795911004, 0});
    QVERIFY(outgoing);
    SessionRun r = runSession(params(), {*outgoing});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QVERIFY2(r.transcript.find("MAIL FROM:<sender@keep.test> SIZE=") != std::string::npos, r.transcript.c_str());
    QVERIFY2(r.transcript.find(" RET=HDRS ENVID=engine+20run+2B1+3D2\n") != std::string::npos, r.transcript.c_str());
    QVERIFY2(r.transcript.find("RCPT TO:<rcpt+tag@keep.test> NOTIFY=SUCCESS ORCPT=rfc822;rcpt+2Btag@keep.test") !=
                 std::string::npos,
             r.transcript.c_str());
    QVERIFY(!r.messages.at(0).dsnOmitted);

    const QJsonObject report = waitForReport(postfix_->maildir(), QStringLiteral("engine run+1=2"));
    QVERIFY2(!report.isEmpty(), "no delivery report naming the ENVID came back");
    QCOMPARE(report.value("content_type").toString(), QStringLiteral("multipart/report"));
    QCOMPARE(report.value("report_type").toString(), QStringLiteral("delivery-status"));
    const QJsonArray recipients = report.value("recipients").toArray();
    QCOMPARE(recipients.size(), 1);
    const QJsonObject recipient = recipients.at(0).toObject();
    QCOMPARE(recipient.value("original_recipient").toString(), QStringLiteral("rfc822;rcpt+tag@keep.test"));
    // Postfix writes "rfc822; ADDRESS" (RFC 3464 §2.3.2 allows the space); ORCPT comes back as sent.
    QCOMPARE(recipient.value("final_recipient").toString().remove(QLatin1Char(' ')), QStringLiteral("rfc822;rcpt+tag@keep.test"));
    // A success (RFC 3464 §2.3.3): Postfix says "relayed" for its pipe transport, as the program
    // it hands the message to is not known to send reports on; "delivered" for a mailbox.
    QVERIFY2(kSuccess.contains(recipient.value("action").toString()), qPrintable(recipient.value("action").toString()));
    QVERIFY2(recipient.value("status").toString().startsWith("2."), qPrintable(recipient.value("status").toString()));
    QCOMPARE(report.value("returned").toString(), QStringLiteral("text/rfc822-headers"));  // RET=HDRS, and a success
  }

  // The CLI's options, to the same Postfix: the same report comes back.
  void cliOptionsReportFromPostfix() {
    const auto r = cli({"-s", QStringLiteral("127.0.0.1:%1").arg(postfix_->value("port")), "--security", "none", "-f",
                        "sender@keep.test", "-t", "cli@keep.test", "--subject", "DSN from the CLI", "--body", "x",
                        "--dsn-notify", "success,failure", "--dsn-ret", "full", "--dsn-envid", "cli-1"});
    QVERIFY2(r.status == 0, qPrintable(r.all()));
    QVERIFY2(r.all().contains("RET=FULL ENVID=cli-1"), qPrintable(r.all()));
    QVERIFY2(r.all().contains("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;cli@keep.test"), qPrintable(r.all()));
    const QJsonObject report = waitForReport(postfix_->maildir(), QStringLiteral("cli-1"));
    QVERIFY2(!report.isEmpty(), "no delivery report naming the ENVID came back");
    QVERIFY(kSuccess.contains(report.value("recipients").toArray().at(0).toObject().value("action").toString()));
    // RET=FULL asks for the whole message in a failure report; a success report returns the
    // headers only whatever RET says (RFC 3461 §4.3, and Postfix does so).
    QCOMPARE(report.value("returned").toString(), QStringLiteral("text/rfc822-headers"));
  }

  // The sandbox (aiosmtpd) does not offer DSN: the CLI refuses before MAIL and says how to go on;
  // with --dsn-optional it sends without the parameters and says so (text and JSON).
  void cliWithoutDsn() {
    const QStringList base{"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("plain")), "--security", "none",
                           "-f", "a@example.org", "-t", "b@example.net", "--body", "x", "--dsn-notify", "success"};
    auto refused = cli(base);
    QCOMPARE(refused.status, 5);  // message refused
    QVERIFY2(refused.all().contains("does not offer DSN (RFC 3461)"), qPrintable(refused.all()));
    QVERIFY2(refused.all().contains("--dsn-optional"), qPrintable(refused.all()));
    QVERIFY2(!refused.all().contains("MAIL FROM"), qPrintable(refused.all()));

    auto sent = cli(base + QStringList{"--dsn-optional", "--json"});
    QVERIFY2(sent.status == 0, qPrintable(sent.all()));
    const QJsonObject json = QJsonDocument::fromJson(sent.out.toUtf8()).object();
    const QJsonObject message = json.value("messages").toArray().at(0).toObject();
    QCOMPARE(message.value("ok").toBool(), true);
    QCOMPARE(message.value("dsnOmitted").toBool(), true);
    QVERIFY2(sent.out.contains("goes without its delivery-report requests"), qPrintable(sent.out));
    QVERIFY2(!sent.out.contains("NOTIFY="), qPrintable(sent.out));
  }

  // Option mistakes are usage errors (exit 1) naming the option, before any connection.
  void cliOptionMistakes_data() {
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("says");
    QTest::newRow("never with success") << QStringList{"--dsn-notify", "never,success"} << "--dsn-notify: \"never\"";
    QTest::newRow("unknown condition") << QStringList{"--dsn-notify", "sometimes"} << "--dsn-notify: \"sometimes\"";
    QTest::newRow("bad ret") << QStringList{"--dsn-ret", "body"} << "--dsn-ret: \"body\"";
    QTest::newRow("envid too long") << QStringList{"--dsn-envid", QString(101, QLatin1Char('x'))} << "--dsn-envid:";
    QTest::newRow("envid not ascii") << QStringList{"--dsn-envid", QStringLiteral("r\u00e9sum\u00e9")} << "--dsn-envid:";
    QTest::newRow("optional alone") << QStringList{"--dsn-optional"} << "--dsn-optional says";
  }
  void cliOptionMistakes() {
    QFETCH(QStringList, options);
    QFETCH(QString, says);
    const auto r = cli(QStringList{"-s", QStringLiteral("127.0.0.1:%1").arg(Sandbox::closedPort()), "--security", "none",
                                   "-f", "a@example.org", "-t", "b@example.net", "--body", "x"} +
                       options);
    QCOMPARE(r.status, 1);
    QVERIFY2(r.all().contains(says), qPrintable(r.all()));
  }
};

QTEST_GUILESS_MAIN(TestPostfixDsn)
#include "tst_postfix_dsn.moc"
