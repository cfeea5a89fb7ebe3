// Teaching mode for the page (issue 17), from core as in the desktop window
// (qtapp/gui/mainwindow_teach.cpp): any transcript line explained (smtpc/line_explain.h), the
// pauses of step mode (smtpc/pause.h), the lessons against the sandbox (smtpc/lessons.h) and the
// words of a lesson's result. SmtpClient (bindings.cpp) keeps the run's record for the report.
//
//   smtpc.explainLine(kind, text)     -> {title, text, references}   kind: "client", "server", ...
//                                                                     or "" (a line as typed)
//   smtpc.lessons()                   -> [{id, title, watch, port}]
//   smtpc.lessonValues(id, sandbox)   -> the form's values by core's field ids, or null;
//                                        sandbox: {host, plain, starttls, tls, caPem}
#include <emscripten/bind.h>

#include "js_values.h"
#include "smtpc/lessons.h"
#include "smtpc/line_explain.h"
#include "teach.h"

namespace smtpc::web {

namespace {

std::optional<TranscriptKind> kindFromName(const std::string& name) {
  for (auto kind : {TranscriptKind::Client, TranscriptKind::Server, TranscriptKind::Info, TranscriptKind::Tls,
                    TranscriptKind::Error})
    if (transcriptKindName(kind) == name) return kind;
  return std::nullopt;
}

val explainLineJs(const std::string& kind, const std::string& text) {
  const auto known = kindFromName(kind);
  const LineExplanation x = known ? explainLine(TranscriptEntry{*known, false, {}, text}) : explainLine(text);
  val o = val::object();
  o.set("title", x.title);
  o.set("text", x.text);
  o.set("references", stringArray(x.references));
  return o;
}

val lessonsJs() {
  val array = val::array();
  for (const auto& lesson : lessons::all()) {
    val o = val::object();
    o.set("id", std::string(lesson.id));
    o.set("title", std::string(lesson.title));
    o.set("watch", std::string(lesson.watch));
    o.set("port", std::string(lessons::portKindName(lesson.port)));
    array.call<void>("push", o);
  }
  return array;
}

std::uint16_t portOf(const val& sandbox, const char* key) {
  const double n = number(sandbox, key, 0);
  return n > 0 && n < 65536 ? static_cast<std::uint16_t>(n) : 0;
}

// The lesson as the page's form fills it (the learner sees the settings it runs with).
val lessonValuesJs(const std::string& id, val sandbox) {
  const lessons::Lesson* lesson = lessons::find(id);
  if (!lesson || sandbox.isNull() || sandbox.isUndefined()) return val::null();
  lessons::Sandbox where;
  if (const std::string host = str(sandbox, "host"); !host.empty()) where.host = host;
  where.plain = portOf(sandbox, "plain");
  where.starttls = portOf(sandbox, "starttls");
  where.tls = portOf(sandbox, "tls");
  where.caPem = str(sandbox, "caPem");
  if (!where.port(lesson->port)) return val::null();
  const form::ConnectionForm c = lessons::connectionForm(*lesson, where);
  const form::MessageForm m = lessons::messageForm(*lesson);
  val o = val::object();
  o.set("server", c.server);
  o.set("port", std::to_string(c.port));
  o.set("security", std::string(securityModeName(c.security)));
  o.set("auth", std::string(mechanismName(c.auth)));
  o.set("username", c.username);
  o.set("password", c.password);
  o.set("allowPlaintext", c.allowPlaintext);
  o.set("caPem", c.caPem);
  o.set("from", m.from);
  o.set("to", m.to);
  o.set("cc", m.cc);
  o.set("bcc", m.bcc);
  o.set("subject", m.subject);
  o.set("body", m.text);
  return o;
}

}  // namespace

val pauseToJs(const Pause& pause) {
  val o = val::object();
  o.set("where", std::string(pausePointName(pause.where)));
  o.set("number", static_cast<double>(pause.number));
  o.set("step", pause.step ? val(std::string(stepName(*pause.step))) : val::null());
  o.set("command", pause.command);
  o.set("why", pause.why);
  val replies = val::array();
  for (const auto& r : pause.replies) {
    val reply = val::object();
    reply.set("code", r.code);
    reply.set("meaning", r.meaning);
    replies.call<void>("push", reply);
  }
  o.set("replies", replies);
  o.set("patience", pause.patience);
  o.set("note", pause.note);
  o.set("reply", pause.reply ? val(pause.reply->summary()) : val::null());
  return o;
}

val lessonResultToJs(const std::string& id, bool again, const Error& error, std::optional<Step> failedStep) {
  const lessons::Lesson* lesson = lessons::find(id);
  if (!lesson) return val::null();
  again = again && lesson->retry;
  const lessons::Outcome& expected = again ? *lesson->retry : lesson->outcome;
  const bool asSaid = lessons::matches(expected, error, failedStep);
  const std::string said = lessons::describe(expected);
  std::string text = asSaid ? "✓ As the lesson says: " + said + "."
                            : "✗ Not what the lesson expects (" + said + "); see the transcript.";
  if (asSaid && lesson->retry && !again) text += " Now start it again: " + lessons::describe(*lesson->retry) + ".";
  val o = val::object();
  o.set("asSaid", asSaid);
  o.set("expected", said);
  o.set("text", text);
  return o;
}

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc_teach) {
  using namespace smtpc::web;
  emscripten::function("explainLine", &explainLineJs);
  emscripten::function("lessons", &lessonsJs);
  emscripten::function("lessonValues", &lessonValuesJs);
}
