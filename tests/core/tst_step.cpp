// Step mode (smtpc/pause.h): the gate before each command and after each reply. Every script of
// tests/core/scripts is played again with the session stopping at each pause (the player goes on
// at once): the same conversation must happen, and the pauses must name the script's commands in
// order. Then, on a Session and a Client driven by hand: what a pause says, cancel and time-outs
// while paused, continueToNextStep() and runToEnd().
#include <QDir>
#include <QFile>
#include <QTest>

#include "script_player.h"
#include "smtpc/client.h"

using namespace smtpc;

namespace {

// A script that pipelines (two commands without a reply between them, outside the message
// content) cannot be replayed in step mode, which sends one command at a time.
bool pipelines(const QByteArray& script) {
  bool lastWasCommand = false;
  bool inBody = false;
  for (const QByteArray& raw : script.split('\n')) {
    const QByteArray line = raw.trimmed();
    if (line.startsWith("S: 354")) inBody = true;
    if (line.startsWith("S:") || line.startsWith("S~") || line.startsWith("T:")) lastWasCommand = false;
    if (!line.startsWith("C:") && !line.startsWith("C~")) continue;
    if (inBody) {
      inBody = line != "C: .";
      continue;
    }
    if (lastWasCommand) return true;
    lastWasCommand = true;
  }
  return false;
}

// The script's client commands as step mode must announce them: each C: line, except that the
// message content (the lines after a 354, up to the final ".") is one pause.
std::vector<std::string> commandsOf(const QByteArray& script) {
  std::vector<std::string> commands;
  bool inBody = false;
  bool afterData = false;
  bool inChunks = false;  // BDAT (RFC 3030): the chunks and their octets are one pause, "(content)"
  for (const QByteArray& raw : script.split('\n')) {
    const std::string line = raw.trimmed().toStdString();
    if (line.rfind("C: BDAT ", 0) == 0) {
      if (!inChunks) commands.push_back("(content)");
      inChunks = true;
      continue;
    }
    if (inChunks && line.rfind("C~", 0) == 0) continue;
    if (line.rfind("C:", 0) == 0) inChunks = false;
    if (line.rfind("S: 354", 0) == 0 && afterData) {
      inBody = true;
      commands.push_back("(content)");
      continue;
    }
    if (line.rfind("C:", 0) != 0 && line.rfind("C~", 0) != 0) continue;
    std::string command = line.size() > 3 ? line.substr(3) : std::string();
    if (line[1] == '~' && command.size() >= 4 && command.compare(command.size() - 4, 4, "\\r\\n") == 0)
      command.resize(command.size() - 4);
    if (inBody) {
      inBody = command != ".";
      continue;
    }
    afterData = command == "DATA";
    commands.push_back(command);
  }
  return commands;
}

// A pause's command against the script's: secrets are masked in the pause ("AUTH PLAIN ********"),
// so only what comes before the mask must match; the message content is described, not shown.
bool sameCommand(const std::string& paused, const std::string& scripted) {
  if (scripted == "(content)") return paused.rfind("(the message content", 0) == 0 || paused.rfind("BDAT ", 0) == 0;
  const std::size_t mask = paused.find(Secret::redacted());
  if (mask == std::string::npos) return paused == scripted;
  return scripted.compare(0, mask, paused, 0, mask) == 0;
}

// Step mode, in clear text: the fake servers here have no TLS.
ConnectParams plainParams() {
  ConnectParams params;
  params.host = "mx.example.net";
  params.security = SecurityMode::None;
  params.ehloName = "client.example";
  params.stepThrough = true;
  return params;
}

// A login in clear text (the fake server has no TLS), with `mechanism`.
ConnectParams loginParams(AuthMechanism mechanism, const char* password) {
  ConnectParams params = plainParams();
  params.credentials.username = "demo";
  params.credentials.password = Secret(password);
  params.allowPlaintextAuth = true;
  params.authMechanism = mechanism;
  return params;
}

OutgoingMessage message() {
  return OutgoingMessage{Envelope{"alice@example.org", {"bob@example.net", "carol@example.net"}, {}},
                         std::make_shared<StringBody>("Subject: hi\n\nhello\n")};
}

// A session driven by hand with a virtual clock: what it writes, and its events.
struct Driver {
  explicit Driver(ConnectParams params) : session(std::move(params)) {}
  Session session;
  Time clock{0};
  std::string written;
  std::vector<Pause> pauses;
  std::optional<Finished> finished;
  bool closed = false;
  bool tlsAsked = false;

  void pump() {
    while (auto out = session.poll()) {
      if (auto* w = std::get_if<WriteAction>(&*out)) written += w->bytes;
      else if (std::holds_alternative<CloseAction>(*out)) closed = true;
      else if (std::holds_alternative<StartTlsAction>(*out)) tlsAsked = true;
      else if (auto* e = std::get_if<Event>(&*out)) {
        if (auto* p = std::get_if<Paused>(e)) pauses.push_back(p->pause);
        if (auto* f = std::get_if<Finished>(e)) finished = *f;
      }
    }
  }
  void start() {
    QVERIFY(!session.start(clock).isError());
    pump();
    session.onConnected(clock, ConnectionInfo{"192.0.2.10", "198.51.100.25"});
    pump();
  }
  void serve(std::string_view bytes) {
    session.receive(clock, bytes);
    pump();
  }
  void next() {
    session.next(clock);
    pump();
  }
  // Connected, with message() queued and QUIT after it, as sendMail does.
  void startSending() {
    start();
    QVERIFY(!session.send(clock, message()).error());
    session.quit(clock);
    pump();
  }
  // Greeted, and paused before EHLO.
  void toFirstCommand() {
    start();
    serve("220 mx ESMTP\r\n");
    next();
    QVERIFY(session.pause());
  }
  // Takes what the client wrote so far.
  std::string take() { return std::exchange(written, std::string()); }
};

// For Client: a transport that records writes and lets the test answer, and a timer that only
// remembers what it was asked to schedule.
class RecordingTransport final : public Transport {
 public:
  std::string written;
  void connect(const std::string&, std::uint16_t, const TlsConfig&) override {
    handler_->onTransportConnected(ConnectionInfo{"192.0.2.10", "198.51.100.25"});
  }
  void write(std::string_view bytes) override { written.append(bytes); }
  void startTls() override {}
  void close() override {}
  void answer(std::string_view bytes) { handler_->onTransportData(bytes); }
};
class ManualTimer final : public Timer {
 public:
  std::optional<Time> scheduled;
  Time now() const override { return Time{0}; }
  void schedule(std::optional<Time> deadline) override { scheduled = deadline; }
};


}  // namespace

class TestStep : public QObject {
  Q_OBJECT
 private slots:
  void scripts_data() {
    QTest::addColumn<QString>("path");
    const QDir dir(QStringLiteral(SMTPC_SCRIPTS_DIR));
    for (const QString& file : dir.entryList({QStringLiteral("*.smtp")}, QDir::Files, QDir::Name))
      QTest::newRow(qPrintable(file)) << dir.filePath(file);
  }
  void scripts() {
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray script = file.readAll();
    if (pipelines(script)) QSKIP("the script pipelines; step mode sends one command at a time");
    const auto result = testing::runScript(std::string_view(script.constData(), script.size()), false, true);
    if (!result.passed) qWarning().noquote() << "transcript:\n" << QString::fromStdString(result.transcript);
    QVERIFY2(result.passed, result.failure.c_str());
    std::vector<std::string> announced;
    for (const auto& pause : result.pauses)
      if (pause.rfind("> ", 0) == 0) announced.push_back(pause.substr(2));
    const std::vector<std::string> scripted = commandsOf(script);
    QCOMPARE(announced.size(), scripted.size());
    for (std::size_t i = 0; i < scripted.size(); ++i)
      QVERIFY2(sameCommand(announced[i], scripted[i]), (announced[i] + " / " + scripted[i]).c_str());
  }

  // The first pause: after the greeting, before anything is sent; it says why commands go one by
  // one. The server offers PIPELINING, and MAIL still goes alone.
  void pausesSayWhatComes() {
    Driver d(plainParams());
    d.startSending();
    d.serve("220 mx.example.net ESMTP\r\n");
    QCOMPARE(d.pauses.size(), std::size_t(1));
    const Pause& greeting = d.pauses.back();
    QCOMPARE(greeting.where, PausePoint::AfterReply);
    QCOMPARE(greeting.step, std::optional<Step>(Step::Greeting));
    QCOMPARE(greeting.reply->code, 220);
    QVERIFY(greeting.note.find("PIPELINING") != std::string::npos);
    QVERIFY(greeting.patience.find("5 minutes") != std::string::npos);
    QVERIFY(d.written.empty());

    d.next();
    QCOMPARE(d.pauses.size(), std::size_t(2));
    const Pause& ehlo = d.pauses.back();
    QCOMPARE(ehlo.where, PausePoint::BeforeCommand);
    QCOMPARE(ehlo.command, std::string("EHLO client.example"));
    QCOMPARE(ehlo.step, std::optional<Step>(Step::Ehlo));
    QVERIFY(ehlo.why.find("RFC 5321 §4.1.1.1") != std::string::npos);
    QVERIFY(ehlo.note.empty());
    bool has250 = false;
    for (const auto& r : ehlo.replies) has250 = has250 || (r.code == 250 && !r.meaning.empty());
    QVERIFY(has250);
    QVERIFY(d.written.empty());  // announced, not yet sent

    d.next();
    QCOMPARE(d.take(), std::string("EHLO client.example\r\n"));
    d.serve("250-mx.example.net\r\n250 PIPELINING\r\n");
    QCOMPARE(d.pauses.back().where, PausePoint::AfterReply);
    QCOMPARE(d.pauses.back().command, std::string("EHLO client.example"));
    d.next();
    QCOMPARE(d.pauses.back().command, std::string("MAIL FROM:<alice@example.org>"));
    d.next();
    QCOMPARE(d.take(), std::string("MAIL FROM:<alice@example.org>\r\n"));
    QVERIFY(!d.session.pause());  // its reply comes before any RCPT is even announced: no batch
    d.serve("250 ok\r\n");
    d.next();
    QCOMPARE(d.pauses.back().command, std::string("RCPT TO:<bob@example.net>"));
  }

  // AUTH is announced masked, as the transcript shows it; no pause holds the password.
  void authIsMasked() {
    Driver d(loginParams(AuthMechanism::Plain, "demo-password"));
    d.start();
    d.serve("220 mx ESMTP\r\n");
    d.next();
    d.next();
    d.serve("250-mx\r\n250 AUTH PLAIN\r\n");
    d.next();
    const Pause& auth = d.pauses.back();
    QCOMPARE(auth.command, std::string("AUTH PLAIN ********"));
    QCOMPARE(auth.step, std::optional<Step>(Step::Auth));
    QVERIFY(auth.why.find("RFC 4954") != std::string::npos);
    for (const Pause& p : d.pauses)
      QVERIFY(p.command.find("ZGVtby1wYXNzd29yZA") == std::string::npos && p.why.find("demo-password") == std::string::npos);
    d.next();
    QCOMPARE(d.take(), std::string("EHLO client.example\r\nAUTH PLAIN AGRlbW8AZGVtby1wYXNzd29yZA==\r\n"));
  }

  // Cancel while paused: nothing more is written, the connection closes, Finished says Cancelled.
  void cancelWhilePaused() {
    Driver d(plainParams());
    d.toFirstCommand();
    d.session.cancel(d.clock);
    d.pump();
    QVERIFY(d.written.empty());
    QVERIFY(d.closed);
    QVERIFY(d.finished);
    QCOMPARE(d.finished->error.code(), ErrorCode::Cancelled);
    QVERIFY(!d.session.pause());
  }

  // The server hangs up on a learner who paused too long: the error says so.
  void serverGivesUpWhilePaused() {
    Driver d(plainParams());
    d.toFirstCommand();
    d.session.onClosed(d.clock);
    d.pump();
    QVERIFY(d.finished);
    QCOMPARE(d.finished->error.code(), ErrorCode::ConnectionLost);
    QVERIFY(d.finished->error.explanation().find("paused in step mode") != std::string::npos);
    QVERIFY(!d.session.pause());
  }

  // No time-out while paused, however long; after going on, the wait starts again and a silent
  // server times out as usual.
  void timeoutSuspendedWhilePaused() {
    ConnectParams params = plainParams();
    params.timeouts = Timeouts::uniform(std::chrono::seconds(10));
    Driver d(params);
    d.start();
    QVERIFY(d.session.nextDeadline());  // waiting for the greeting: not paused
    d.serve("220 mx ESMTP\r\n");
    QVERIFY(d.session.pause());
    QVERIFY(!d.session.nextDeadline());
    d.clock += std::chrono::hours(1);
    d.session.onTimeout(d.clock);
    d.pump();
    QVERIFY(!d.finished);
    d.next();  // now before EHLO
    QVERIFY(!d.session.nextDeadline());
    d.clock += std::chrono::hours(1);
    d.next();  // EHLO leaves: its wait starts now
    QCOMPARE(d.take(), std::string("EHLO client.example\r\n"));
    QCOMPARE(d.session.nextDeadline(), std::optional<Time>(d.clock + std::chrono::seconds(10)));
    d.clock = *d.session.nextDeadline();
    d.session.onTimeout(d.clock);
    d.pump();
    QVERIFY(d.finished);
    QCOMPARE(d.finished->error.code(), ErrorCode::Timeout);
  }

  // continueToNextStep(): the step's other commands and replies pass; the next step's first
  // command stops it. AUTH LOGIN's three exchanges are one step; the RCPTs are one step.
  void continueToNextStep() {
    Driver d(loginParams(AuthMechanism::Login, "pw"));
    d.startSending();
    d.serve("220 mx ESMTP\r\n");
    auto go = [&] {
      d.session.continueToNextStep(d.clock);
      d.pump();
    };
    go();
    QCOMPARE(d.pauses.back().command, std::string("EHLO client.example"));
    go();
    d.serve("250-mx\r\n250 AUTH LOGIN\r\n");
    QCOMPARE(d.pauses.back().command, std::string("AUTH LOGIN"));
    QCOMPARE(d.pauses.back().where, PausePoint::BeforeCommand);
    const std::size_t before = d.pauses.size();
    go();
    d.serve("334 VXNlcm5hbWU6\r\n");
    d.serve("334 UGFzc3dvcmQ6\r\n");
    d.serve("235 ok\r\n");
    QCOMPARE(d.pauses.size(), before + 1);
    QCOMPARE(d.pauses.back().command, std::string("MAIL FROM:<alice@example.org>"));
    go();
    d.serve("250 ok\r\n");
    QCOMPARE(d.pauses.back().command, std::string("RCPT TO:<bob@example.net>"));
    go();
    d.serve("250 ok\r\n");
    d.serve("250 ok\r\n");
    QCOMPARE(d.pauses.back().command, std::string("DATA"));
    QCOMPARE(d.take(), std::string("EHLO client.example\r\nAUTH LOGIN\r\nZGVtbw==\r\ncHc=\r\n"
                                   "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\n"
                                   "RCPT TO:<carol@example.net>\r\n"));
  }

  // Client: step mode asked for before connect(), the observer's Paused events, no timer while
  // paused, next() and runToEnd() driving the transport.
  void clientDrivesTheGate() {
    RecordingTransport transport;
    ManualTimer timer;
    Client client(transport, timer);
    std::vector<Pause> pauses;
    bool finished = false;
    client.setObserver([&](const Event& e) {
      if (auto* p = std::get_if<Paused>(&e)) pauses.push_back(p->pause);
      finished = finished || std::holds_alternative<Finished>(e);
    });
    client.setStepMode(true);
    ConnectParams params = plainParams();
    params.stepThrough = false;  // the client's step mode is enough
    QVERIFY(!client.connect(params).isError());
    QVERIFY(timer.scheduled);  // the greeting's wait
    transport.answer("220 mx ESMTP\r\n");
    QCOMPARE(pauses.size(), std::size_t(1));
    QVERIFY(client.pause());
    QVERIFY(!timer.scheduled);
    client.next();
    QCOMPARE(client.pause()->command, std::string("EHLO client.example"));
    QVERIFY(transport.written.empty());
    client.next();
    QCOMPARE(transport.written, std::string("EHLO client.example\r\n"));
    QVERIFY(timer.scheduled);
    QVERIFY(!client.pause());
    transport.answer("250 mx\r\n");
    QVERIFY(client.pause());
    client.runToEnd();
    QVERIFY(!client.stepMode());
    QVERIFY(!client.pause());
    client.disconnect();
    QCOMPARE(transport.written, std::string("EHLO client.example\r\nQUIT\r\n"));
    transport.answer("221 bye\r\n");
    QVERIFY(finished);
    QCOMPARE(pauses.size(), std::size_t(3));
  }

  // runToEnd(): no pause after it; the run finishes as without step mode.
  void runToEnd() {
    Driver d(plainParams());
    d.startSending();
    d.serve("220 mx ESMTP\r\n");
    d.next();
    const std::size_t before = d.pauses.size();
    d.session.runToEnd(d.clock);
    d.pump();
    QVERIFY(!d.session.stepMode());
    d.serve("250 mx\r\n");
    d.serve("250 ok\r\n");
    d.serve("250 ok\r\n250 ok\r\n");
    d.serve("354 go\r\n");
    d.serve("250 queued\r\n");
    d.serve("221 bye\r\n");
    QCOMPARE(d.pauses.size(), before);
    QVERIFY(d.finished);
    QVERIFY(!d.finished->error.isError());
  }
};

QTEST_APPLESS_MAIN(TestStep)
#include "tst_step.moc"
