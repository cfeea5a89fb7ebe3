// The JavaScript face of the module (embind), mirroring QtClient: one SmtpClient per page runs
// a connection test or sends a test message and reports every event to a JS callback as a
// plain object. The form's rules, the step bar, the diagnosis and the result views all come
// from core (smtpc/form.h, smtpc/explain.h, smtpc/views.h), as in the desktop app; the page
// only reads its fields into an object keyed by core's field ids and shows what comes back.
//
//   const smtpc = await createSmtpc();
//   smtpc.setCaBundle(pemText);                    // the page's trusted roots
//   const fields = smtpc.fields();                 // [{id, label, kind, remembered, linkKey, choices}]
//   const client = new smtpc.SmtpClient();
//   client.test(values, event => ...);             // values: {fieldId: text or bool, ...,
//   client.send(values, event => ...);             //   relayToken, attachments, nowSeconds, utcOffsetMinutes}
//                                                  // -> null, or {field, headline, explanation}
//   client.cancel();
//   client.setStepMode(on); client.next(); client.continueToNextStep(); client.runToEnd();
//   client.report("html"|"svg", date) -> the last run as a file's text ("" before any run)
//   client.lessonResult(id, again)    -> {asSaid, expected, text} for the run that ended, or null
//   smtpc.formHints(values), smtpc.account(values), smtpc.passwordAction(saved, values, holdsFilled),
//   smtpc.reviewLink([[key, value], ...], values, {named, path, pem})
// The form's model is form_binding.cpp, the OAuth sign-in signin_binding.cpp, settings discovery
// discovery_binding.cpp; the helpers they share to read and write JS values, js_values.h, and the
// clock and trusted roots, web_runtime.h.
// Event objects: {type: "transcript"|"state"|"steps"|"capabilities"|"tls"|"auth"|"ready"|
// "recipient"|"progress"|"message"|"paused"|"finished", ...}; see onEvent below. Teaching mode
// (step mode, the report, lessons, explainLine): teach_binding.cpp.
// The console, where the learner types the commands (SmtpConsole): console_binding.cpp.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include <emscripten/val.h>

#include <memory>

#include "smtpc/client.h"
#include "smtpc/explain.h"
#include "smtpc/form.h"
#include "smtpc/line_explain.h"
#include "smtpc/message.h"
#include "smtpc/report.h"
#include "smtpc/tls/engine.h"
#include "smtpc/tls_policy.h"
#include "smtpc/views.h"
#include "bindings.h"
#include "js_values.h"
#include "teach.h"
#include "web_runtime.h"
#include "websocket_transport.h"

using emscripten::val;

namespace smtpc::web {

std::shared_ptr<const tls::TrustedRoots>& trustedRoots() {
  static std::shared_ptr<const tls::TrustedRoots> roots;
  return roots;
}

namespace {

val replyToJs(const std::optional<Reply>& reply) {
  if (!reply) return val::null();
  val o = val::object();
  o.set("code", reply->code);
  o.set("enhanced", reply->enhanced ? reply->enhanced->toString() : std::string());
  o.set("lines", stringArray(reply->lines));
  o.set("summary", reply->summary());
  return o;
}

val errorToJs(const Error& error) {
  if (!error) return val::null();
  val o = val::object();
  o.set("code", std::string(errorCodeName(error.code())));
  o.set("fault", std::string(faultName(error.fault())));
  o.set("explanation", error.explanation());
  o.set("reply", replyToJs(error.reply()));
  return o;
}

val rowsToJs(const std::vector<view::Row>& rows) {
  val array = val::array();
  for (const auto& row : rows) {
    val o = val::object();
    o.set("label", row.label);
    o.set("value", row.value);
    array.call<void>("push", o);
  }
  return array;
}

}  // namespace

val tlsToJs(const TlsInfo& info) {
  const view::Tls v = view::tls(info, true);
  val o = val::object();
  o.set("good", v.good);
  o.set("note", v.note);
  o.set("boundary", view::tlsBoundary(info, true));
  o.set("rows", rowsToJs(v.rows));
  val chain = val::array();
  for (const auto& c : v.chain) {
    val cert = val::object();
    cert.set("title", c.title);
    cert.set("rows", rowsToJs(c.rows));
    chain.call<void>("push", cert);
  }
  o.set("chain", chain);
  return o;
}

void setTranscriptEntry(val& o, const TranscriptEntry& e) {
  o.set("kind", std::string(transcriptKindName(e.kind)));
  o.set("prefix", std::string(transcriptPrefix(e)));
  o.set("encrypted", e.encrypted);
  o.set("at", static_cast<double>(e.at.count()));
  o.set("text", e.text);
}

namespace {

val capabilitiesToJs(const Capabilities& offered, bool encrypted) {
  const view::Capabilities v = view::capabilities(offered, encrypted);
  val o = val::object();
  o.set("note", v.note);
  val offers = val::array();
  for (const auto& offer : v.offers) offers.call<void>("push", stringArray({offer.keyword, offer.params, offer.meaning}));
  o.set("offers", offers);
  return o;
}

val stepsToJs(const std::vector<StepView>& steps) {
  val array = val::array();
  for (const auto& view : steps) {
    val s = val::object();
    s.set("name", std::string(stepName(view.step)));
    s.set("label", std::string(stepLabel(view.step)));
    s.set("status", std::string(stepStatusName(view.status)));
    s.set("purpose", std::string(stepPurpose(view.step)));
    array.call<void>("push", s);
  }
  return array;
}

val resultToJs(const view::Result& r) {
  val o = val::object();
  o.set("ok", r.ok);
  o.set("headline", r.headline);
  o.set("explanation", r.explanation);
  o.set("failedStepLabel", r.failedStepLabel);
  o.set("failedStepPurpose", r.failedStepPurpose);
  o.set("serverSaid", r.serverSaid);
  o.set("suggestionsTitle", r.suggestionsTitle);
  o.set("suggestions", stringArray(r.suggestions));
  o.set("warning", r.warning);
  return o;
}

}  // namespace

std::optional<ConnectParams> paramsFrom(const form::Values& v, const form::RunPlan& plan, form::Problem* out) {
  form::ConnectionForm f;
  f.server = value(v, "server");
  const std::string portText = value(v, "port");
  const int port = portText.empty() ? 0 : integer(portText, -1);  // empty: the mode's default
  if (port < 0 || port > 65535) return *out = problem("port", "Port not understood", "Give the port as a number, for example 587."), std::nullopt;
  f.port = static_cast<std::uint16_t>(port);
  const auto mode = securityModeFromName(value(v, "security"));
  if (!mode) return *out = problem("security", "Unknown security mode", "\"" + value(v, "security") + "\" is not one."), std::nullopt;
  f.security = *mode;
  if (const std::string auth = value(v, "auth"); !auth.empty()) {
    const auto mechanism = mechanismFromName(auth);
    if (!mechanism) return *out = problem("auth", "Unknown login method", "\"" + auth + "\" is not one."), std::nullopt;
    f.auth = *mechanism;
  }
  f.username = value(v, "username");
  f.password = value(v, "password");
  f.token = value(v, "token");
  f.allowPlaintext = !value(v, "allowPlaintext").empty();
  f.caPem = value(v, "caPem");
  f.pins = value(v, "pin");
  f.acceptInvalid = !value(v, "acceptInvalid").empty();
  f.clientCertificatePem = value(v, "clientCert");
  f.clientKeyPem = value(v, "clientKey");
  f.ehloName = value(v, "ehlo");
  f.timeoutSeconds = value(v, "timeout").empty() ? 30 : integer(value(v, "timeout"), 0);
  f.noChunking = !value(v, "noChunking").empty();
  return form::toConnectParams(f, plan, out);
}

namespace {

std::optional<OutgoingMessage> messageFrom(const form::Values& v, const val& o, form::Problem* out) {
  form::MessageForm f;
  f.from = value(v, "from");
  f.to = value(v, "to");
  f.cc = value(v, "cc");
  f.bcc = value(v, "bcc");
  f.subject = value(v, "subject");
  f.text = value(v, "body");
  f.dsnNotify = value(v, "dsnNotify");  // delivery reports (DSN, RFC 3461): checked by toMessage
  f.dsnRet = value(v, "dsnRet");
  f.dsnEnvelopeId = value(v, "dsnEnvid");
  f.dsnOptional = !value(v, "dsnOptional").empty();
  auto m = form::toMessage(f, out);
  if (!m) return std::nullopt;
  m->headers.emplace_back("X-Mailer", "SMTPc (browser)");
  const val attachments = o["attachments"];
  if (attachments.isArray()) {
    const unsigned count = attachments["length"].as<unsigned>();
    for (unsigned i = 0; i < count; ++i) {
      const val a = attachments[i];
      const val bytes = a["data"];
      const unsigned length = bytes["length"].as<unsigned>();
      std::string data(length, '\0');
      val(emscripten::typed_memory_view(length, reinterpret_cast<unsigned char*>(data.data()))).call<void>("set", bytes);
      m->attachments.push_back(Attachment::fromMemory(str(a, "name"), std::move(data), str(a, "type")));
    }
  }
  const DateTime now{static_cast<std::int64_t>(number(o, "nowSeconds", 0)),
                     static_cast<int>(number(o, "utcOffsetMinutes", 0))};
  auto outgoing = m->toOutgoing(now);
  if (!outgoing) return *out = problem("to", "The message is not ready", outgoing.error().explanation()), std::nullopt;
  return *outgoing;
}

// "auth" or another phase name, "none" for "don't stop"; empty: the run kind's default.
std::optional<std::optional<Phase>> chosenStop(const std::string& name) {
  if (name.empty()) return std::optional<Phase>();
  const auto phase = phaseFromName(name);
  if (!phase) return std::nullopt;
  return std::optional<Phase>(*phase);
}

}  // namespace

class SmtpClient {
 public:
  SmtpClient() : client_(transport_, timer_) {
    client_.setObserver([this](const Event& event) { onEvent(event); });
  }
  ~SmtpClient() { client_.setObserver(nullptr); }

  // Returns null when started, else why not: {field, headline, explanation} (the form's mistake).
  val test(val values, val callback) { return start(std::move(values), std::move(callback), form::RunKind::Test); }
  val send(val values, val callback) { return start(std::move(values), std::move(callback), form::RunKind::Send); }
  void cancel() { client_.cancel(); }
  bool running() const { return client_.running(); }

  // Step mode (smtpc/pause.h): before connecting it applies to the next run.
  void setStepMode(bool on) { client_.setStepMode(on); }
  void next() { client_.next(); }
  void continueToNextStep() { client_.continueToNextStep(); }
  void runToEnd() { client_.runToEnd(); }

  // The last run as an HTML page or an SVG diagram, each line explained; `date` as the page words
  // it (core reads no clock). "" before any run or for another format.
  std::string report(const std::string& format, const std::string& date) const {
    if (!record_ || (format != "html" && format != "svg")) return {};
    ReportOptions options;
    options.explain = explanationText;  // core's words, as the desktop app and --report
    options.date = date;
    return renderReport(format == "svg" ? ReportFormat::Svg : ReportFormat::Html, *record_, options);
  }

  // Whether the run that ended went as lesson `id` says (null while running or before any run).
  val lessonResult(const std::string& id, bool again) const {
    if (!explainer_ || !explainer_->finished()) return val::null();
    return lessonResultToJs(id, again, explainer_->finished()->error, explainer_->failedStep());
  }

 private:
  val start(val values, val callback, form::RunKind kind) {
    if (client_.running()) return problemToJs(problem("", "Busy", "A conversation is already running."));
    const form::Values v = valuesFromJs(values);
    // Send stops nowhere early; Test where the person chose (AUTH by default).
    const std::optional<std::optional<Phase>> stop =
        kind == form::RunKind::Send ? std::optional<Phase>() : chosenStop(value(v, "stopAfter"));
    if (!stop) return problemToJs(problem("stopAfter", "Unknown phase", "\"" + value(v, "stopAfter") + "\" is not one."));
    plan_ = form::planRun(kind, *stop);
    kind_ = kind;
    form::Problem why;
    auto params = paramsFrom(v, plan_, &why);
    if (!params) return problemToJs(why);
    std::optional<OutgoingMessage> outgoing;
    if (plan_.needsEnvelope) {
      outgoing = messageFrom(v, values, &why);
      if (!outgoing) return problemToJs(why);
    }
    if (params->security != SecurityMode::None && !tls::Engine::entropyOk())
      return problemToJs(problem("", "Not started", "The browser gives no good random numbers: TLS cannot be made safe here."));
    transport_.setProxyUrl(value(v, "proxy"));
    transport_.setProxyToken(str(values, "relayToken"));
    transport_.setTrustedRoots(trustedRoots());
    callback_ = std::move(callback);
    explainer_ = std::make_unique<Explainer>(*params, plan_.needsEnvelope);
    record_ = std::make_unique<RunRecord>(*params, plan_.needsEnvelope);
    emitJs("steps", [&](val& o) { o.set("steps", stepsToJs(explainer_->steps())); });
    const Error error = plan_.needsEnvelope ? client_.sendMail(*params, std::move(*outgoing)) : client_.connect(*params);
    if (error) return problemToJs(problem("", "Not started", error.explanation()));
    return val::null();
  }

  template <typename Fill>
  void emitJs(const char* type, Fill fill) {
    emitEvent(callback_, type, fill);
  }

  void onEvent(const Event& event) {
    const bool stepsChanged = explainer_ && explainer_->onEvent(event);
    if (record_) record_->onEvent(event);
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TranscriptEntry>) {
            emitJs("transcript", [&](val& o) { setTranscriptEntry(o, e); });
          } else if constexpr (std::is_same_v<T, StateChanged>) {
            emitJs("state", [&](val& o) {
              o.set("from", std::string(stateName(e.from)));
              o.set("to", std::string(stateName(e.to)));
              o.set("description", std::string(stateDescription(e.to)));
            });
          } else if constexpr (std::is_same_v<T, CapabilitiesReceived>) {
            emitJs("capabilities", [&](val& o) { o.set("view", capabilitiesToJs(e.capabilities, e.encrypted)); });
          } else if constexpr (std::is_same_v<T, TlsReady>) {
            emitJs("tls", [&](val& o) { o.set("view", tlsToJs(e.info)); });
          } else if constexpr (std::is_same_v<T, AuthSucceeded>) {
            emitJs("auth", [&](val& o) { o.set("mechanism", std::string(mechanismName(e.mechanism))); });
          } else if constexpr (std::is_same_v<T, SessionReady>) {
            emitJs("ready", [](val&) {});
            if (plan_.quitWhenReady) client_.disconnect();  // a test that stops nowhere: QUIT once ready
          } else if constexpr (std::is_same_v<T, RecipientResult>) {
            emitJs("recipient", [&](val& o) {
              o.set("address", e.address);
              o.set("accepted", e.accepted);
              o.set("reply", replyToJs(e.reply));
            });
          } else if constexpr (std::is_same_v<T, MessageProgress>) {
            emitJs("progress", [&](val& o) {
              o.set("sent", static_cast<double>(e.sent));
              o.set("total", e.total ? val(static_cast<double>(*e.total)) : val::null());
            });
          } else if constexpr (std::is_same_v<T, MessageResult>) {
            emitJs("message", [&](val& o) {
              o.set("error", errorToJs(e.error));
              o.set("reply", replyToJs(e.reply));
            });
          } else if constexpr (std::is_same_v<T, Paused>) {
            emitJs("paused", [&](val& o) { o.set("pause", pauseToJs(e.pause)); });
          } else if constexpr (std::is_same_v<T, Finished>) {
            // emitted below, after the final step bar
          }
        },
        event);
    if (stepsChanged) emitJs("steps", [&](val& o) { o.set("steps", stepsToJs(explainer_->steps())); });
    if (const auto* finished = std::get_if<Finished>(&event)) {
      const Diagnosis d = explainer_ ? explainer_->diagnosis() : Diagnosis{};
      emitJs("finished", [&](val& o) {
        o.set("ok", !finished->error.isError());
        o.set("error", errorToJs(finished->error));
        o.set("stoppedAfter", std::string(phaseName(finished->stoppedAfter)));
        o.set("failedStep", explainer_ && explainer_->failedStep() ? val(std::string(stepName(*explainer_->failedStep())))
                                                                  : val::null());
        o.set("view", resultToJs(view::result(d, kind_, explainer_ ? explainer_->failedStep() : std::nullopt)));
      });
    }
  }

  WebSocketTransport transport_;
  WebTimer timer_;
  Client client_;
  std::unique_ptr<Explainer> explainer_;
  std::unique_ptr<RunRecord> record_;  // for the report
  form::RunPlan plan_;
  form::RunKind kind_ = form::RunKind::Test;
  val callback_ = val::null();
};

// Returns how many certificates the bundle held (0: not PEM).
int setCaBundle(const std::string& pem) {
  trustedRoots() = std::make_shared<const tls::TrustedRoots>(pem);
  return static_cast<int>(trustedRoots()->size());
}
bool entropyOk() { return tls::Engine::entropyOk(); }

val presetsJs() {
  val array = val::array();
  for (const auto& p : presets()) {
    val o = val::object();
    o.set("id", std::string(p.id));
    o.set("name", std::string(p.name));
    o.set("host", std::string(p.host));
    o.set("port", p.port ? p.port : defaultPort(p.security));
    o.set("security", std::string(securityModeName(p.security)));
    o.set("note", std::string(p.note));
    array.call<void>("push", o);
  }
  return array;
}

// The step bar before anything ran, for the page's first paint.
val plannedSteps(val values, bool sending) {
  const form::Values v = valuesFromJs(values);
  ConnectParams p;
  if (const auto mode = securityModeFromName(value(v, "security"))) p.security = *mode;
  p.credentials.username = value(v, "username");
  return stepsToJs(Explainer(p, sending).steps());
}

int defaultPortFor(const std::string& mode) {
  const auto m = securityModeFromName(mode);
  return m ? defaultPort(*m) : 0;
}

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc) {
  using namespace smtpc::web;
  emscripten::class_<SmtpClient>("SmtpClient")
      .constructor<>()
      .function("test", &SmtpClient::test)
      .function("send", &SmtpClient::send)
      .function("cancel", &SmtpClient::cancel)
      .function("running", &SmtpClient::running)
      .function("setStepMode", &SmtpClient::setStepMode)
      .function("next", &SmtpClient::next)
      .function("continueToNextStep", &SmtpClient::continueToNextStep)
      .function("runToEnd", &SmtpClient::runToEnd)
      .function("report", &SmtpClient::report)
      .function("lessonResult", &SmtpClient::lessonResult);
  emscripten::function("setCaBundle", &setCaBundle);
  emscripten::function("entropyOk", &entropyOk);
  emscripten::function("presets", &presetsJs);
  emscripten::function("plannedSteps", &plannedSteps);
  emscripten::function("defaultPort", &defaultPortFor);
}
