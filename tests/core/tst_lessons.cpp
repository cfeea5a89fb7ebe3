// The lessons against the sandbox (smtpc/lessons.h): the table is complete and each row is a run the
// engine takes, whose expected outcome the step bar can show. tests/qt/tst_lessons.cpp runs them.
#include <QtTest>

#include <set>

#include "smtpc/explain.h"
#include "smtpc/lessons.h"

using namespace smtpc;
using namespace smtpc::lessons;

namespace {

Sandbox sandbox() {
  Sandbox s;
  s.plain = 2500;
  s.starttls = 2587;
  s.tls = 2465;
  s.caPem = "-----BEGIN CERTIFICATE-----\n(the sandbox's CA)\n-----END CERTIFICATE-----\n";
  return s;
}

Reply reply(int code, EnhancedStatus enhanced) { return Reply{code, enhanced, {"text"}}; }

}  // namespace

class TestLessons : public QObject {
  Q_OBJECT
 private slots:
  void tableIsComplete() {
    std::vector<std::string_view> ids;
    for (const Lesson& lesson : all()) ids.push_back(lesson.id);
    // Issue 17's list, in its order; the sandbox serves exactly these (sandbox_lessons.py).
    const std::vector<std::string_view> expected{"starttls-before-auth", "wrong-password",      "greylisting",
                                                 "too-large",            "relay-denied",        "too-many-recipients",
                                                 "dropped-after-data"};
    QCOMPARE(ids, expected);
    QCOMPARE(std::set<std::string_view>(ids.begin(), ids.end()).size(), ids.size());
    for (const Lesson& lesson : all()) {
      QCOMPARE(find(lesson.id), &lesson);
      QVERIFY2(lesson.title.substr(0, 18) == "What happens when " && lesson.title.back() == '?', lesson.title.data());
      // What to watch names the reply the learner will see ("535 5.7.8").
      if (lesson.outcome.replyCode) {
        const std::string reply = std::to_string(lesson.outcome.replyCode) + " " + std::string(lesson.outcome.enhancedCode);
        QVERIFY2(lesson.watch.find(reply) != std::string_view::npos, lesson.id.data());
      }
      QVERIFY2(lesson.watch.find("RFC ") != std::string_view::npos, lesson.id.data());
    }
    QVERIFY(find("no-such-lesson") == nullptr);
  }

  void everyLessonRuns() {
    for (const Lesson& lesson : all()) {
      const char* id = lesson.id.data();
      form::Problem problem;
      auto run = prepare(lesson, sandbox(), DateTime{1795911004, 60}, &problem);
      QVERIFY2(run, (std::string(id) + ": " + problem.headline + ": " + problem.explanation).c_str());
      const ConnectParams& p = run->params;
      QCOMPARE(p.host, std::string("127.0.0.1"));
      QCOMPARE(p.port, sandbox().port(lesson.port));
      QCOMPARE(p.security, lesson.security);
      QCOMPARE(p.authMechanism, lesson.auth);
      QCOMPARE(p.allowPlaintextAuth, lesson.allowPlaintext);
      QCOMPARE(p.credentials.username, std::string(lesson.username));
      QCOMPARE(p.credentials.password.reveal(), lesson.password);
      QCOMPARE(p.tls.caCertificatesPem, sandbox().caPem);
      QCOMPARE(p.quitAfter, Phase::None);  // a lesson sends its message
      QVERIFY(!p.tls.acceptInvalidCertificate);
      // Implicit TLS only on the tls port, STARTTLS only where it is offered.
      QCOMPARE(lesson.security == SecurityMode::ImplicitTls, lesson.port == PortKind::Tls);
      if (lesson.security == SecurityMode::StartTls) QCOMPARE(lesson.port, PortKind::StartTls);
      // A password in clear only where the lesson allows it, and only with LOGIN, which sends
      // nothing secret before the server's first challenge.
      if (lesson.security == SecurityMode::None && !lesson.username.empty())
        QVERIFY2(lesson.allowPlaintext && lesson.auth == AuthMechanism::Login, id);

      const Envelope& envelope = run->message.envelope;
      QCOMPARE(envelope.from, (*Mailbox::parse(lesson.from)).address());
      std::vector<std::string> recipients;
      for (auto a : lesson.to) recipients.emplace_back(a);
      for (auto a : lesson.cc) recipients.emplace_back(a);
      QCOMPARE(envelope.recipients, recipients);

      // The outcome is one the step bar can show: its step is in this run's plan, and an error
      // tied to one step is expected there.
      const Outcome& o = lesson.outcome;
      QVERIFY2(o.error != ErrorCode::None && o.failedStep, id);
      Explainer explainer(p, true);
      bool planned = false;
      for (const StepView& view : explainer.steps()) planned = planned || view.step == *o.failedStep;
      QVERIFY2(planned, id);
      if (auto fixed = failedStepOf(o.error)) QCOMPARE(*fixed, *o.failedStep);
      QCOMPARE(o.replyCode == 0, o.enhancedCode.empty());
      if (o.replyCode) QCOMPARE(o.enhancedCode.front(), char('0' + o.replyCode / 100));
      if (lesson.retry) QCOMPARE(o.replyCode / 100, 4);  // only a temporary refusal is worth a retry
    }
  }

  void outcomesAsTheLessonsSay() {
    QCOMPARE(find("wrong-password")->outcome.exitClass(), ExitClass::Auth);
    QCOMPARE(find("starttls-before-auth")->outcome.exitClass(), ExitClass::Auth);
    QCOMPARE(find("too-large")->outcome.exitClass(), ExitClass::MessageRefused);
    QCOMPARE(find("dropped-after-data")->outcome.exitClass(), ExitClass::Network);
    const Lesson* greylisting = find("greylisting");
    QVERIFY(greylisting->retry && greylisting->retry->error == ErrorCode::None);
    for (const Lesson& lesson : all())
      if (lesson.id != "greylisting") QVERIFY2(!lesson.retry, lesson.id.data());
    // The wrong password is wrong, and the others are the sandbox's demo:demo.
    QCOMPARE(find("wrong-password")->password, std::string_view("not-the-password"));
    QVERIFY(find("relay-denied")->username.empty());  // relaying is denied to who did not log in
  }

  void generatedBody() {
    const Lesson* big = find("too-large");
    const form::MessageForm m = messageForm(*big);
    QCOMPARE(m.text.size(), big->bodySize);
    QVERIFY(m.text.back() == '\n');
    std::size_t longest = 0, start = 0;
    for (std::size_t end; (end = m.text.find('\n', start)) != std::string::npos; start = end + 1)
      longest = std::max(longest, end - start);
    QVERIFY(longest < 78);  // RFC 5322 §2.1.1: no line needs folding or encoding
    QCOMPARE(messageForm(*find("too-many-recipients")).cc, std::string("dan@lesson.test, eve@lesson.test"));
  }

  void matching() {
    const Outcome& wrong = find("wrong-password")->outcome;
    const Error refused(ErrorCode::AuthFailed, "", reply(535, {5, 7, 8}));
    QVERIFY(matches(wrong, refused, Step::Auth));
    QVERIFY(!matches(wrong, refused, Step::EhloAgain));
    QVERIFY(!matches(wrong, Error(ErrorCode::AuthFailed, "", reply(535, {5, 7, 0})), Step::Auth));
    QVERIFY(!matches(wrong, Error(ErrorCode::AuthFailed, "", reply(530, {5, 7, 8})), Step::Auth));
    QVERIFY(!matches(wrong, Error(ErrorCode::AuthFailed), Step::Auth));
    QVERIFY(!matches(wrong, Error(), std::nullopt));
    const Outcome& dropped = find("dropped-after-data")->outcome;
    QVERIFY(matches(dropped, Error(ErrorCode::ConnectionLost), Step::Data));
    QVERIFY(!matches(dropped, Error(ErrorCode::ConnectionLost, "", reply(421, {4, 4, 2})), Step::Data));
    QVERIFY(matches(*find("greylisting")->retry, Error(), std::nullopt));
    QVERIFY(!matches(*find("greylisting")->retry, Error(ErrorCode::RecipientsRejected), Step::Rcpt));
  }

  void descriptions() {
    QCOMPARE(describe(find("wrong-password")->outcome), std::string("AuthFailed at AUTH (535 5.7.8)"));
    QCOMPARE(describe(find("dropped-after-data")->outcome), std::string("ConnectionLost at DATA (no reply)"));
    QCOMPARE(describe(*find("greylisting")->retry), std::string("accepted"));
    QCOMPARE(portKindName(PortKind::StartTls), std::string_view("starttls"));
    QCOMPARE(portKindName(PortKind::Plain), std::string_view("plain"));
    QCOMPARE(portKindName(PortKind::Tls), std::string_view("tls"));
    QCOMPARE(sandbox().port(PortKind::Plain), std::uint16_t(2500));
    QCOMPARE(sandbox().port(PortKind::StartTls), std::uint16_t(2587));
    QCOMPARE(sandbox().port(PortKind::Tls), std::uint16_t(2465));
  }
};

QTEST_APPLESS_MAIN(TestLessons)
#include "tst_lessons.moc"
