// Every lesson (smtpc/lessons.h) against one sandbox started with --lessons, as the demo and the
// page run them: the run ends as the lesson's table says (error, failing step, the server's reply),
// greylisting is refused and then accepted, and nothing secret reaches the transcript.
// Label: integration.
#include <QDir>
#include <QFile>
#include <QTest>

#include "sandbox.h"
#include "secret_leaks.h"
#include "smtpc/explain.h"
#include "smtpc/lessons.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

struct LessonRun {
  Finished finished;
  std::optional<Step> failedStep;  // as the step bar shows it
  std::string transcript;
};

// One run of the lesson with QtClient, the way the front ends drive it: sendMail, the events fed
// to an Explainer for the step bar.
LessonRun run(const lessons::Lesson& lesson, const lessons::Sandbox& sandbox) {
  LessonRun result;
  form::Problem problem;
  auto prepared = lessons::prepare(lesson, sandbox, DateTime{1795911004, 60}, &problem);
  if (!prepared) {
    result.finished.error = Error(ErrorCode::InvalidArgument, problem.headline + ": " + problem.explanation);
    return result;
  }
  prepared->params.timeouts = Timeouts::uniform(std::chrono::seconds(20));
  Explainer explainer(prepared->params, true);
  qt::QtClient client;
  bool done = false;
  QObject::connect(&client, &qt::QtClient::sessionEvent, [&](const Event& e) { explainer.onEvent(e); });
  QObject::connect(&client, &qt::QtClient::transcript, [&](const TranscriptEntry& e) {
    // "C: " and "S: " whether inside TLS or not, so that the checks below read the same.
    const char* who = e.kind == TranscriptKind::Client ? "C: " : e.kind == TranscriptKind::Server ? "S: " : "   ";
    result.transcript += who + e.text + "\n";
  });
  QObject::connect(&client, &qt::QtClient::finished, [&](const Finished& f) {
    result.finished = f;
    done = true;
  });
  if (Error error = client.sendMail(prepared->params, prepared->message)) {
    result.finished.error = error;
    return result;
  }
  if (!QTest::qWaitFor([&] { return done; }, 60000)) {
    client.cancel();
    result.finished.error = Error(ErrorCode::Timeout, "the test gave up waiting for the lesson");
  }
  result.failedStep = explainer.failedStep();
  return result;
}

std::string readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

// What went wrong, for a failing check: expected and actual outcome, and the conversation.
std::string story(const lessons::Outcome& expected, const LessonRun& r) {
  const Error& e = r.finished.error;
  return "expected " + lessons::describe(expected) + ", got " + std::string(errorCodeName(e.code())) + " at " +
         (r.failedStep ? std::string(stepLabel(*r.failedStep)) : std::string("no step")) + " (" +
         (e.reply() ? e.reply()->summary() : std::string("no reply")) + ")\n" + r.transcript;
}

}  // namespace

class TestSandboxLessons : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> server_;
  lessons::Sandbox sandbox_;

  int stored() const { return QDir(server_->maildir()).entryList({"*.eml"}).size(); }

 private slots:
  void initTestCase() {
    server_ = std::make_unique<Sandbox>(QStringList{"--lessons"});
    QVERIFY2(server_->ok(), qPrintable(server_->error()));
    QCOMPARE(server_->value("lessons"), QStringLiteral("true"));
    sandbox_.host = server_->value("host").toStdString();
    sandbox_.plain = server_->port("plain");
    sandbox_.starttls = server_->port("starttls");
    sandbox_.tls = server_->port("tls");
    sandbox_.caPem = readAll(server_->caFile());
  }

  void eachLesson_data() {
    QTest::addColumn<QString>("id");
    for (const auto& lesson : lessons::all()) QTest::newRow(lesson.id.data()) << QString::fromLatin1(lesson.id.data());
  }
  void eachLesson() {
    QFETCH(QString, id);
    const lessons::Lesson& lesson = *lessons::find(id.toStdString());
    const int before = stored();
    LessonRun first = run(lesson, sandbox_);
    QVERIFY2(lessons::matches(lesson.outcome, first.finished.error, first.failedStep),
             story(lesson.outcome, first).c_str());
    QCOMPARE(stored(), before);  // every lesson's first run is refused: nothing is kept
    // The password (the right one or the wrong one) in none of the encodings SASL gives it
    // (demo's password is its user name, which the transcript shows).
    if (!lesson.password.empty() && lesson.password != lesson.username) {
      const std::string leak = smtpc::testing::findSecret(first.transcript, lesson.password);
      QVERIFY2(leak.empty(), ("the transcript shows the password as " + leak).c_str());
    }
    if (!lesson.retry) return;
    // Run again at once: the greylisted pair is accepted, and the message kept.
    LessonRun second = run(lesson, sandbox_);
    QVERIFY2(lessons::matches(*lesson.retry, second.finished.error, second.failedStep),
             story(*lesson.retry, second).c_str());
    QCOMPARE(stored(), before + 1);
    // And the lesson works again for the next learner: the sandbox forgot the pair.
    LessonRun third = run(lesson, sandbox_);
    QVERIFY2(lessons::matches(lesson.outcome, third.finished.error, third.failedStep),
             story(lesson.outcome, third).c_str());
  }

  // What the learner is told to watch happens on the wire, not only in the outcome.
  void whatToWatch() {
    LessonRun early = run(*lessons::find("starttls-before-auth"), sandbox_);
    QVERIFY2(early.transcript.find("C: STARTTLS") == std::string::npos, early.transcript.c_str());
    QVERIFY2(early.transcript.find("C: AUTH LOGIN") != std::string::npos, early.transcript.c_str());
    QVERIFY2(early.transcript.find("S: 530 5.7.0") != std::string::npos, early.transcript.c_str());
    QVERIFY(early.transcript.find("S: 334") == std::string::npos);  // nothing secret was asked for, or sent

    LessonRun large = run(*lessons::find("too-large"), sandbox_);
    QVERIFY2(large.transcript.find(" SIZE=") != std::string::npos, large.transcript.c_str());
    QVERIFY(large.transcript.find("C: DATA") == std::string::npos);  // refused before the content

    LessonRun crowd = run(*lessons::find("too-many-recipients"), sandbox_);
    QCOMPARE(QString::fromStdString(crowd.transcript).count("S: 250 2.1.5"), 3);
    QCOMPARE(QString::fromStdString(crowd.transcript).count("S: 452 4.5.3"), 2);
    QVERIFY2(crowd.transcript.find("C: RSET") != std::string::npos, crowd.transcript.c_str());  // nothing sent
    QVERIFY(crowd.transcript.find("C: DATA") == std::string::npos);

    LessonRun dropped = run(*lessons::find("dropped-after-data"), sandbox_);
    QVERIFY2(dropped.transcript.find("C: .\n") != std::string::npos, dropped.transcript.c_str());  // the final dot went
  }
};

QTEST_GUILESS_MAIN(TestSandboxLessons)
#include "tst_sandbox_lessons.moc"
