// smtpc::Console ("type it yourself", issue 17 part 3), sans I/O: each warning fires in its state
// and not otherwise, a confirmed line goes anyway, STARTTLS's 220 starts TLS, DATA dot-stuffs and
// ends on ".", the AUTH helpers send the right base64 and never show the password, the reply
// timeout fires, and QUIT ends cleanly. The server is played by hand, a reply at a time.
#include <QTest>

#include "secret_leaks.h"
#include "smtpc/base64.h"
#include "smtpc/console.h"
#include "smtpc/line_explain.h"

using namespace smtpc;

namespace {

constexpr char kPassword[] = "s3cr3t-pass";

// The console with a hand-played server: what it wrote, what it said, what it asked.
struct Harness {
  Console console;
  Time now{1000};
  std::string written;
  std::vector<TranscriptEntry> transcript;
  std::vector<ConsoleWarning> warnings;
  std::vector<CredentialRequest> requests;
  std::vector<ConsoleState> states;
  int tlsStarts = 0;
  int closes = 0;
  std::optional<ConsoleFinished> finished;

  explicit Harness(ConsoleParams params = defaults()) : console(std::move(params)) {
    console.start(now);
    drain();
  }
  static ConsoleParams defaults() {
    ConsoleParams p;
    p.host = "mail.example.org";
    return p;
  }
  void drain() {
    while (auto out = console.poll()) {
      if (auto* w = std::get_if<WriteAction>(&*out)) written += w->bytes;
      else if (std::holds_alternative<StartTlsAction>(*out)) ++tlsStarts;
      else if (std::holds_alternative<CloseAction>(*out)) ++closes;
      else if (auto* e = std::get_if<ConsoleEvent>(&*out)) {
        if (auto* t = std::get_if<TranscriptEntry>(e)) transcript.push_back(*t);
        else if (auto* w2 = std::get_if<ConsoleWarning>(e)) warnings.push_back(*w2);
        else if (auto* r = std::get_if<CredentialRequest>(e)) requests.push_back(*r);
        else if (auto* s = std::get_if<ConsoleStateChanged>(e)) states.push_back(s->to);
        else if (auto* f = std::get_if<ConsoleFinished>(e)) finished = *f;
      }
    }
  }
  void connect() {
    console.onConnected(now, ConnectionInfo{"127.0.0.1", "127.0.0.1"});
    drain();
  }
  void server(std::string_view lines) {
    console.receive(now, lines);
    drain();
  }
  // Types `line`; returns what went on the wire because of it.
  std::string type(std::string_view line, bool confirmed = false) {
    const std::size_t before = written.size();
    console.type(now, line, confirmed);
    drain();
    return written.substr(before);
  }
  static ConsoleParams implicitTls() {
    ConsoleParams p = defaults();
    p.implicitTls = true;
    return p;
  }
  // With implicitTls(): connected, TLS up, greeted, EHLO answered with `keywords`.
  void greetInTls(const std::vector<std::string>& keywords) {
    connect();
    tls();
    server("220 hi\r\n");
    ready(keywords);
  }
  void tls() {
    console.onTlsEstablished(now, TlsInfo{});
    drain();
  }
  // Greeted, and EHLO answered with `keywords` ("STARTTLS", "AUTH PLAIN LOGIN", ...).
  void ready(const std::vector<std::string>& keywords) {
    if (!console.tlsActive()) {
      connect();
      server("220 mail.example.org ESMTP\r\n");
    }
    type("EHLO client.example");
    std::string reply = "250" + std::string(keywords.empty() ? " " : "-") + "mail.example.org\r\n";
    for (std::size_t i = 0; i < keywords.size(); ++i)
      reply += "250" + std::string(i + 1 == keywords.size() ? " " : "-") + keywords[i] + "\r\n";
    server(reply);
  }
  std::string text() const {
    std::string all;
    for (const auto& e : transcript) all += std::string(transcriptPrefix(e)) + " " + e.text + "\n";
    for (const auto& w : warnings) all += w.line + " " + w.why + "\n";
    for (const auto& e : transcript) {
      const LineExplanation x = explainLine(e);
      all += x.title + "\n" + x.text + "\n";
    }
    return all;
  }
  std::optional<ConsoleWarning> check(std::string_view line) const { return console.check(line); }
  // The warning's RFC reference, or "(none)" when `line` would be sent without one.
  std::string reference(std::string_view line) const {
    const auto w = console.check(line);
    return w ? w->reference : std::string("(none)");
  }
};

}  // namespace

class TestConsole : public QObject {
  Q_OBJECT

 private slots:
  void greetingFirst() {
    Harness h;
    QVERIFY(h.check("EHLO x").has_value());
    QVERIFY(!h.check("EHLO x")->canSend);  // not connected: refused
    h.connect();
    QCOMPARE(h.console.state(), ConsoleState::Waiting);
    QVERIFY(h.type("EHLO x").empty());
    QVERIFY(h.warnings.back().why.find("greeted") != std::string::npos);
    h.server("220 hi\r\n");
    QVERIFY(!h.check("EHLO x"));
    QCOMPARE(h.type("EHLO x"), std::string("EHLO x\r\n"));
  }

  void mailBeforeEhlo() {
    Harness h;
    h.connect();
    h.server("220 hi\r\n");
    QCOMPARE(h.reference("MAIL FROM:<a@example.org>"), std::string("RFC 5321 §4.1.4"));
    QVERIFY(h.check("MAIL FROM:<a@example.org>")->canSend);
    QVERIFY(h.type("MAIL FROM:<a@example.org>").empty());
    QCOMPARE(h.warnings.size(), std::size_t(1));
    // Confirmed: sent anyway.
    QCOMPARE(h.type("MAIL FROM:<a@example.org>", true), std::string("MAIL FROM:<a@example.org>\r\n"));
    h.server("503 5.5.1 EHLO first\r\n");
    h.ready({});
    QVERIFY(!h.check("MAIL FROM:<a@example.org>"));
  }

  void transactionOrder() {
    Harness h;
    h.ready({"PIPELINING"});
    QVERIFY(h.check("RCPT TO:<b@example.org>"));
    QVERIFY(h.check("DATA"));
    h.type("MAIL FROM:<a@example.org>");
    QVERIFY(!h.check("RCPT TO:<b@example.org>"));  // pipelined behind MAIL
    h.server("250 ok\r\n");
    QVERIFY(!h.check("RCPT TO:<b@example.org>"));
    QVERIFY(h.check("DATA"));
    h.type("RCPT TO:<b@example.org>");
    h.server("550 5.1.1 no such user\r\n");
    QVERIFY(h.check("DATA"));  // refused recipients do not count
    h.type("RCPT TO:<c@example.org>");
    QVERIFY(!h.check("DATA"));  // pipelined behind RCPT
    h.server("250 ok\r\n");
    QVERIFY(!h.check("DATA"));
    h.type("RSET");
    h.server("250 ok\r\n");
    QVERIFY(h.check("RCPT TO:<b@example.org>"));
  }

  void waitingWithoutPipelining() {
    Harness h;
    h.ready({"SIZE 1000"});
    h.type("MAIL FROM:<a@example.org>");
    QCOMPARE(h.reference("RCPT TO:<b@example.org>"), std::string("RFC 2920 §3, RFC 5321 §4.3.1"));
    QVERIFY(!h.check("NOOP"));
    QVERIFY(!h.check("QUIT"));
    QVERIFY(!h.check("RSET"));
    h.server("250 ok\r\n");
    QVERIFY(!h.check("RCPT TO:<b@example.org>"));
  }

  void startTlsWarnings() {
    Harness h;
    h.connect();
    h.server("220 hi\r\n");
    QVERIFY(h.check("STARTTLS"));  // before EHLO
    h.ready({"PIPELINING"});
    QCOMPARE(h.reference("STARTTLS"), std::string("RFC 3207 §4"));
    Harness t;
    t.ready({"STARTTLS"});
    QVERIFY(!t.check("STARTTLS"));
    QCOMPARE(t.type("STARTTLS"), std::string("STARTTLS\r\n"));
    t.server("220 2.0.0 go ahead\r\n");
    QCOMPARE(t.tlsStarts, 1);
    QCOMPARE(t.console.state(), ConsoleState::TlsHandshake);
    QVERIFY(t.check("EHLO x"));
    QVERIFY(!t.check("EHLO x")->canSend);
    t.tls();
    QVERIFY(t.console.tlsActive());
    QVERIFY(t.console.capabilities().empty());  // RFC 3207 §4.2: forgotten
    QVERIFY(t.check("MAIL FROM:<a@example.org>"));
    QCOMPARE(t.reference("MAIL FROM:<a@example.org>"), std::string("RFC 3207 §4.2"));
    t.ready({"STARTTLS", "AUTH PLAIN"});
    QCOMPARE(t.reference("STARTTLS"), std::string("RFC 3207 §4.2"));
    QVERIFY(t.transcript.back().encrypted);
  }

  void authWarnings() {
    {
      Harness h;  // STARTTLS offered, not used
      h.ready({"STARTTLS", "AUTH PLAIN"});
      QCOMPARE(h.reference("AUTH PLAIN"), std::string("RFC 3207 §4, RFC 4954 §14"));
    }
    {
      Harness h;  // no AUTH at all
      h.ready({"PIPELINING"});
      QCOMPARE(h.reference("AUTH PLAIN"), std::string("RFC 4954 §3"));
    }
    {
      Harness h;  // clear text, no STARTTLS to use
      h.ready({"AUTH PLAIN"});
      QCOMPARE(h.reference("AUTH PLAIN"), std::string("RFC 4954 §14, RFC 8314 §3"));
    }
    {
      // In TLS: a mechanism not offered warns, an offered one does not.
      Harness t(Harness::implicitTls());
      t.greetInTls({"AUTH PLAIN"});
      QCOMPARE(t.tlsStarts, 1);
      QCOMPARE(t.reference("AUTH CRAM-MD5"), std::string("RFC 4954 §4"));
      QVERIFY(!t.check("AUTH PLAIN"));
      QVERIFY(!t.check("AUTH plain AGRlbW8AZGVtbw=="));
      t.type("AUTH PLAIN AGRlbW8AZGVtbw==");
      QCOMPARE(t.transcript.back().text, std::string("AUTH PLAIN ********"));
      t.server("235 ok\r\n");
      QCOMPARE(t.reference("AUTH PLAIN"), std::string("RFC 4954 §4"));  // already logged in
    }
  }

  void lineWarnings() {
    Harness h;
    h.ready({"PIPELINING"});
    QVERIFY(!h.check("NOOP " + std::string(500, 'x')));
    QCOMPARE(h.reference("NOOP " + std::string(506, 'x')), std::string("RFC 5321 §4.5.3.1.4"));
    QVERIFY(h.check("MAIL FROM:<jürgen@example.org>"));
    QVERIFY(h.reference("MAIL FROM:<jürgen@example.org>").find("RFC 6531") == 0);
    const auto refused = h.check("NOOP\r\nQUIT");
    QVERIFY(refused && !refused->canSend);
    QVERIFY(h.type("NOOP\r\nQUIT", true).empty());  // confirming does not help
    Harness u;
    u.ready({"SMTPUTF8"});
    QVERIFY(!u.check("MAIL FROM:<jürgen@example.org>"));
  }

  void dataDotStuffs() {
    Harness h;
    h.ready({"PIPELINING"});
    h.type("MAIL FROM:<a@example.org>");
    h.type("RCPT TO:<b@example.org>");
    h.type("DATA");
    h.server("250 ok\r\n250 ok\r\n354 go ahead\r\n");
    QCOMPARE(h.console.state(), ConsoleState::Content);
    QCOMPARE(h.type("Subject: hi"), std::string("Subject: hi\r\n"));
    QCOMPARE(h.type("QUIT"), std::string("QUIT\r\n"));  // content, not a command
    QCOMPARE(h.reference("Grüße"), std::string("RFC 6152 §3, RFC 5321 §2.4"));  // no 8BITMIME offered
    QCOMPARE(h.type(".hidden"), std::string("..hidden\r\n"));
    const auto infos = [&h] {
      int n = 0;
      for (const auto& e : h.transcript) n += e.text.find("dot-stuffing") != std::string::npos;
      return n;
    };
    QCOMPARE(infos(), 1);
    QCOMPARE(h.type("..twice"), std::string("...twice\r\n"));
    QCOMPARE(infos(), 1);  // said once
    QCOMPARE(h.type("."), std::string(".\r\n"));
    QCOMPARE(h.console.state(), ConsoleState::Waiting);
    h.server("250 2.0.0 queued\r\n");
    QCOMPARE(h.console.state(), ConsoleState::Command);
    QVERIFY(h.check("RCPT TO:<b@example.org>"));  // the transaction is over
  }

  void eightBitContentWithEightBitMime() {
    Harness h;
    h.ready({"8BITMIME"});
    h.type("MAIL FROM:<a@example.org> BODY=8BITMIME");
    h.server("250 ok\r\n");
    h.type("RCPT TO:<b@example.org>");
    h.server("250 ok\r\n");
    h.type("DATA");
    h.server("354 go ahead\r\n");
    QCOMPARE(h.reference("Grüße"), std::string("(none)"));
  }

  void authPlainHelper() {
    Harness h;
    h.ready({"STARTTLS"});
    h.type("STARTTLS");
    h.server("220 go\r\n");
    h.tls();
    h.ready({"AUTH PLAIN LOGIN"});
    QVERIFY(h.type("AUTH PLAIN").empty());
    QCOMPARE(h.requests.size(), std::size_t(1));
    QCOMPARE(h.requests.back().mechanism, std::string("PLAIN"));
    QCOMPARE(h.console.state(), ConsoleState::Credentials);
    QVERIFY(h.check("NOOP") && !h.check("NOOP")->canSend);
    const std::size_t before = h.written.size();
    h.console.provideCredentials(h.now, "demo", Secret(kPassword));
    h.drain();
    QCOMPARE(h.written.substr(before),
             "AUTH PLAIN " + base64::encode(std::string("\0demo\0", 6) + kPassword) + "\r\n");
    QCOMPARE(h.transcript.back().text, std::string("AUTH PLAIN ********"));
    h.server("235 2.7.0 ok\r\n");
    const std::string all = h.text();
    QVERIFY(all.find("anyone who sees AGRlbW8A…") != std::string::npos);
    QVERIFY(all.find("not encryption") != std::string::npos);
    QCOMPARE(testing::findSecret(all, kPassword), std::string());
  }

  void authLoginHelper() {
    Harness h(Harness::implicitTls());
    h.greetInTls({"AUTH LOGIN"});
    h.type("AUTH LOGIN");
    QCOMPARE(h.requests.size(), std::size_t(1));
    h.console.provideCredentials(h.now, "demo", Secret(kPassword));
    h.drain();
    QVERIFY(h.written.ends_with("AUTH LOGIN\r\n"));
    h.server("334 VXNlcm5hbWU6\r\n");
    QVERIFY(h.written.ends_with(base64::encode("demo") + "\r\n"));
    h.server("334 UGFzc3dvcmQ6\r\n");
    QVERIFY(h.written.ends_with(base64::encode(kPassword) + "\r\n"));
    h.server("235 ok\r\n");
    QCOMPARE(testing::findSecret(h.text(), kPassword), std::string());
    QVERIFY(h.text().find("\"Password:\"") != std::string::npos);
  }

  void typedChallengeAnswerIsMasked() {
    Harness h(Harness::implicitTls());
    h.greetInTls({"AUTH LOGIN"});
    h.type("AUTH LOGIN ZGVtbw==");
    h.server("334 UGFzc3dvcmQ6\r\n");
    const std::string answer = base64::encode(kPassword);
    QCOMPARE(h.type(answer), answer + "\r\n");
    QCOMPARE(h.transcript.back().text, std::string("********"));
    QCOMPARE(testing::findSecret(h.text(), kPassword), std::string());
  }

  void timeoutFires() {
    ConsoleParams p = Harness::defaults();
    p.replyTimeout = std::chrono::seconds(7);
    Harness h(p);
    h.connect();
    h.server("220 hi\r\n");
    QVERIFY(!h.console.nextDeadline());  // nothing awaited: no timer
    h.type("EHLO x");
    QCOMPARE(*h.console.nextDeadline(), h.now + std::chrono::seconds(7));
    h.console.onTimeout(h.now + std::chrono::seconds(6));
    h.drain();
    QVERIFY(!h.finished);
    h.console.onTimeout(h.now + std::chrono::seconds(7));
    h.drain();
    QVERIFY(h.finished && h.finished->error.code() == ErrorCode::Timeout);
    QCOMPARE(h.closes, 1);
    QCOMPARE(h.console.state(), ConsoleState::Closed);
  }

  void quitEndsCleanly() {
    Harness h;
    h.ready({});
    h.type("QUIT");
    h.server("221 bye\r\n");  // RFC 5321 §4.1.1.10: the client closes after the 221
    QVERIFY(h.finished && !h.finished->error.isError());
    QCOMPARE(h.closes, 1);
    QCOMPARE(h.states.back(), ConsoleState::Closed);
    Harness q;  // QUIT, and the server closes without a 221: as asked too
    q.ready({});
    q.type("QUIT");
    q.console.onClosed(q.now);
    q.drain();
    QVERIFY(q.finished && !q.finished->error.isError());
    Harness d;  // the server drops without QUIT: an error
    d.ready({});
    d.console.onClosed(d.now);
    d.drain();
    QVERIFY(d.finished && d.finished->error.code() == ErrorCode::ConnectionLost);
  }
};

QTEST_APPLESS_MAIN(TestConsole)
#include "tst_console.moc"
