// smtpc::Client over a fake transport and timer: the driver loop, re-entrancy, timers, cancel.
#include <QTest>

#include "smtpc/client.h"

using namespace smtpc;

namespace {

// A transport whose server side is a list of canned replies, one per client line, answered
// synchronously from inside write(): the hardest case for a driver's re-entrancy.
class EchoServerTransport final : public Transport {
 public:
  std::vector<std::string> replies;  // answers, in order, to each line written
  std::string written;
  std::vector<std::string> writes;  // each write() call, as the transport got it
  std::string host;
  std::uint16_t port = 0;
  int tlsStarts = 0;
  int closes = 0;
  bool answerInline = true;
  bool connectFails = false;

  void connect(const std::string& h, std::uint16_t p, const TlsConfig&) override {
    host = h;
    port = p;
    if (connectFails) {
      handler_->onTransportClosed(Error(ErrorCode::ConnectionRefused));
      return;
    }
    handler_->onTransportConnected(ConnectionInfo{"127.0.0.1", "127.0.0.1"});
    handler_->onTransportData("220 fake ESMTP\r\n");
  }
  void write(std::string_view bytes) override {
    written.append(bytes);
    writes.emplace_back(bytes);
    handler_->onTransportBytesWritten(bytes.size());
    if (!answerInline) return;
    // One reply per complete line written (DATA content lines get none until ".").
    std::size_t lines = 0;
    for (char c : bytes) lines += c == '\n';
    for (std::size_t i = 0; i < lines && next < replies.size(); ++i) {
      const std::string reply = replies[next++];
      if (!reply.empty()) handler_->onTransportData(reply);
    }
  }
  // The server answers the next line written so far (after a stretch with answerInline off).
  void answerNext() { handler_->onTransportData(replies[next++]); }
  void startTls() override { ++tlsStarts; }
  void close() override { ++closes; }
  std::size_t next = 0;
};

class FakeTimer final : public Timer {
 public:
  Time clock{0};
  std::optional<Time> scheduled;
  Time now() const override { return clock; }
  void schedule(std::optional<Time> deadline) override { scheduled = deadline; }
  void fire() {
    clock = *scheduled;
    handler_->onTimerFired();
  }
};

}  // namespace

class TestClient : public QObject {
  Q_OBJECT
 private slots:
  void sendMailThroughReentrantTransport() {
    EchoServerTransport transport;
    // EHLO, MAIL, RCPT, DATA, (content line: none), ".", QUIT
    transport.replies = {"250-fake\r\n250 8BITMIME\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "",
                         "250 queued\r\n", "221 bye\r\n"};
    FakeTimer timer;
    Client client(transport, timer);
    std::vector<std::string> seen;
    client.setObserver([&](const Event& event) {
      if (auto* r = std::get_if<MessageResult>(&event)) seen.push_back(r->error ? "message failed" : "message ok");
      if (auto* f = std::get_if<Finished>(&event)) seen.push_back(f->error ? "finished " + f->error.toString() : "finished ok");
    });
    ConnectParams params;
    params.host = "mx.test";
    params.security = SecurityMode::None;
    params.ehloName = "client.test";
    OutgoingMessage message{{"a@example.org", {"b@example.net"}}, std::make_shared<StringBody>("hello\n")};
    QVERIFY(!client.sendMail(params, message).isError());
    QCOMPARE(transport.host, std::string("mx.test"));
    QCOMPARE(transport.port, std::uint16_t(25));
    QCOMPARE(transport.written, std::string("EHLO client.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
                                            "DATA\r\nhello\r\n.\r\nQUIT\r\n"));
    QCOMPARE(seen, (std::vector<std::string>{"message ok", "finished ok"}));
    QCOMPARE(transport.closes, 1);
    QVERIFY(!client.running());
    QVERIFY(!timer.scheduled);  // nothing left to wait for
  }

  void writesOfARoundGoOutTogether() {
    // One write per round trip: the pipelined batch; a message's content, its dot and the next
    // message's batch (RFC 2920 §3.1); the last content and dot. Each write is one segment and one
    // wake-up of the server, so the number of calls is what a run of messages costs.
    EchoServerTransport transport;
    transport.replies = {"250-fake\r\n250 PIPELINING\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "",
                         "250 queued\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "", "250 queued\r\n",
                         "221 bye\r\n"};
    FakeTimer timer;
    Client client(transport, timer);
    ConnectParams params;
    params.host = "mx.test";
    params.security = SecurityMode::None;
    params.ehloName = "client.test";
    transport.answerInline = false;  // both messages and the QUIT are queued before EHLO's answer
    QVERIFY(!client.connect(params).isError());
    QVERIFY(client.sendMsg({{"a@example.org", {"b@example.net"}}, std::make_shared<StringBody>("one\n")}));
    QVERIFY(client.sendMsg({{"a@example.org", {"c@example.net"}}, std::make_shared<StringBody>("two\n")}));
    client.disconnect();
    transport.answerInline = true;
    transport.answerNext();
    const std::vector<std::string> expected{
        "EHLO client.test\r\n",
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
        "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n",
        "two\r\n.\r\n",
        "QUIT\r\n",
    };
    QCOMPARE(transport.writes, expected);
    QVERIFY(!client.running());
  }

  void connectThenSendMsgThenDisconnect() {
    EchoServerTransport transport;
    transport.replies = {"250 fake\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "", "250 queued\r\n",
                         "221 bye\r\n"};
    FakeTimer timer;
    Client client(transport, timer);
    bool ready = false;
    std::optional<MessageResult> result;
    client.setObserver([&](const Event& event) {
      if (std::holds_alternative<SessionReady>(event)) ready = true;
      if (auto* r = std::get_if<MessageResult>(&event)) result = *r;
    });
    ConnectParams params;
    params.host = "mx.test";
    params.port = 2525;
    params.security = SecurityMode::None;
    QVERIFY(!client.connect(params).isError());
    QVERIFY(ready);
    QCOMPARE(transport.port, std::uint16_t(2525));
    QVERIFY(client.connect(params).isError());  // one session at a time
    auto index = client.sendMsg({{"a@example.org", {"b@example.net"}}, std::make_shared<StringBody>("x")});
    QVERIFY(index);
    QVERIFY(result && !result->error);
    QCOMPARE(result->reply->text(), std::string("queued"));
    client.disconnect();
    QVERIFY(!client.running());
  }

  void timerDrivesTimeout() {
    EchoServerTransport transport;
    transport.answerInline = false;  // the server never answers EHLO
    FakeTimer timer;
    Client client(transport, timer);
    std::optional<Finished> finished;
    client.setObserver([&](const Event& event) {
      if (auto* f = std::get_if<Finished>(&event)) finished = *f;
    });
    ConnectParams params;
    params.host = "mx.test";
    params.security = SecurityMode::None;
    params.timeouts.command = std::chrono::seconds(7);
    QVERIFY(!client.connect(params).isError());
    QVERIFY(timer.scheduled);
    QCOMPARE(*timer.scheduled, Time(7000));
    timer.fire();
    QVERIFY(finished);
    QCOMPARE(finished->error.code(), ErrorCode::Timeout);
    QCOMPARE(transport.closes, 1);
  }

  void connectFailureIsReported() {
    EchoServerTransport transport;
    transport.connectFails = true;
    FakeTimer timer;
    Client client(transport, timer);
    std::optional<Finished> finished;
    client.setObserver([&](const Event& event) {
      if (auto* f = std::get_if<Finished>(&event)) finished = *f;
    });
    ConnectParams params;
    params.host = "mx.test";
    QVERIFY(!client.connect(params).isError());
    QVERIFY(finished);
    QCOMPARE(finished->error.code(), ErrorCode::ConnectionRefused);
    QCOMPARE(transport.port, std::uint16_t(587));  // StartTls is the default mode
  }

  void cancelClosesTransport() {
    EchoServerTransport transport;
    transport.answerInline = false;
    FakeTimer timer;
    Client client(transport, timer);
    ConnectParams params;
    params.host = "mx.test";
    QVERIFY(!client.connect(params).isError());
    client.cancel();
    QCOMPARE(transport.closes, 1);
    QCOMPARE(client.session()->firstError().code(), ErrorCode::Cancelled);
  }

  void badParametersRefusedAtOnce() {
    EchoServerTransport transport;
    FakeTimer timer;
    Client client(transport, timer);
    ConnectParams params;
    QCOMPARE(client.connect(params).code(), ErrorCode::NullArgument);
    params.host = "bad host";
    QCOMPARE(client.connect(params).code(), ErrorCode::InvalidArgument);
    QVERIFY(transport.host.empty());  // nothing reached the network
  }
};

QTEST_APPLESS_MAIN(TestClient)
#include "tst_client.moc"
