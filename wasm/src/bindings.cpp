// The JavaScript face of the module (embind), mirroring QtClient: one SmtpClient per page runs
// a connection test or sends a test message and reports every event to a JS callback as a
// plain object. The step bar and the diagnosis come from core's Explainer, as in the desktop app.
//
//   const smtpc = await createSmtpc();
//   smtpc.setCaBundle(pemText);                       // the page's trusted roots
//   const client = new smtpc.SmtpClient();
//   client.test(options, null, event => ...);         // stops after options.stopAfter (AUTH);
//                                                     // null, or {field, headline, explanation}
//                                                     // options.proxy, options.relayToken: the relay
//   client.send(options, message, event => ...);      // a test message
//   client.cancel();
// Event objects: {type: "transcript"|"state"|"steps"|"capabilities"|"tls"|"auth"|"ready"|
// "recipient"|"progress"|"message"|"finished", ...}; see toJs below.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include <emscripten/val.h>

#include <memory>

#include "smtpc/client.h"
#include "smtpc/explain.h"
#include "smtpc/form.h"
#include "smtpc/message.h"
#include "smtpc/tls_policy.h"
#include "tls_engine.h"
#include "websocket_transport.h"

using emscripten::val;

namespace smtpc::web {

namespace {

std::shared_ptr<const TrustedRoots>& trustedRoots() {
  static std::shared_ptr<const TrustedRoots> roots;
  return roots;
}

class WebTimer final : public Timer {
 public:
  ~WebTimer() override { schedule(std::nullopt); }
  Time now() const override { return Time(static_cast<std::int64_t>(emscripten_get_now())); }
  void schedule(std::optional<Time> deadline) override {
    if (id_) emscripten_clear_timeout(id_);
    id_ = 0;
    if (!deadline) return;
    const double delay = std::max<double>(0, static_cast<double>((*deadline - now()).count()));
    id_ = emscripten_set_timeout(&WebTimer::fire, delay, this);
  }

 private:
  static void fire(void* self) {
    auto* t = static_cast<WebTimer*>(self);
    t->id_ = 0;
    if (t->handler_) t->handler_->onTimerFired();
  }
  long id_ = 0;
};

std::string str(const val& object, const char* key) {
  const val v = object[key];
  return v.isString() ? v.as<std::string>() : std::string();
}
bool flag(const val& object, const char* key) {
  const val v = object[key];
  return !v.isUndefined() && !v.isNull() && v.as<bool>();
}
double number(const val& object, const char* key, double otherwise) {
  const val v = object[key];
  return v.isNumber() ? v.as<double>() : otherwise;
}

val stringArray(const std::vector<std::string>& items) {
  val array = val::array();
  for (const auto& s : items) array.call<void>("push", s);
  return array;
}

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

val tlsToJs(const TlsInfo& info) {
  val o = val::object();
  o.set("protocol", info.protocol);
  o.set("cipher", info.cipher);
  o.set("verified", info.verified);
  o.set("acceptedDespiteErrors", info.acceptedDespiteErrors);
  o.set("problems", stringArray(info.verificationErrors));
  val chain = val::array();
  for (const auto& c : info.chain) {
    val cert = val::object();
    cert.set("subject", c.subject);
    cert.set("issuer", c.issuer);
    cert.set("notBefore", c.notBefore);
    cert.set("notAfter", c.notAfter);
    cert.set("names", stringArray(c.subjectAlternativeNames));
    cert.set("sha256", c.sha256Fingerprint);
    cert.set("pin", tls::pinOf(c));
    chain.call<void>("push", cert);
  }
  o.set("chain", chain);
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

val diagnosisToJs(const Diagnosis& d) {
  val o = val::object();
  o.set("ok", d.ok);
  o.set("headline", d.headline);
  o.set("explanation", d.explanation);
  o.set("suggestions", stringArray(d.suggestions));
  o.set("serverSaid", d.serverSaid);
  o.set("encrypted", d.encrypted);
  o.set("warning", d.warning);
  return o;
}

val problemToJs(const form::Problem& problem) {
  val o = val::object();
  o.set("field", problem.field);
  o.set("headline", problem.headline);
  o.set("explanation", problem.explanation);
  return o;
}

form::Problem problem(std::string field, std::string headline, std::string explanation) {
  return form::Problem{std::move(field), std::move(headline), std::move(explanation)};
}

// The page's options, read into core's form model; the rules are core's (smtpc/form.h).
std::optional<ConnectParams> paramsFromJs(const val& o, const form::RunPlan& plan, form::Problem* out) {
  form::ConnectionForm f;
  f.server = str(o, "host");
  f.port = static_cast<std::uint16_t>(number(o, "port", 0));
  const auto mode = securityModeFromName(str(o, "security"));
  if (!mode) return *out = problem("security", "Unknown security mode", "\"" + str(o, "security") + "\" is not one."), std::nullopt;
  f.security = *mode;
  const std::string auth = str(o, "auth");
  if (!auth.empty()) {
    const auto mechanism = mechanismFromName(auth);
    if (!mechanism) return *out = problem("auth", "Unknown login method", "\"" + auth + "\" is not one."), std::nullopt;
    f.auth = *mechanism;
  }
  f.username = str(o, "username");
  f.password = str(o, "password");
  f.token = str(o, "token");
  f.allowPlaintext = flag(o, "allowPlaintext");
  f.caPem = str(o, "caPem");
  f.pins = str(o, "pins");
  f.acceptInvalid = flag(o, "acceptInvalid");
  f.verifyName = str(o, "verifyName");
  f.clientCertificatePem = str(o, "clientCertPem");
  f.clientKeyPem = str(o, "clientKeyPem");
  f.ehloName = str(o, "ehlo");
  f.timeoutSeconds = static_cast<int>(number(o, "timeoutSeconds", 30));
  return form::toConnectParams(f, plan, out);
}

std::optional<OutgoingMessage> messageFromJs(const val& o, form::Problem* out) {
  form::MessageForm f;
  f.from = str(o, "from");
  f.to = str(o, "to");
  f.cc = str(o, "cc");
  f.bcc = str(o, "bcc");
  f.subject = str(o, "subject");
  f.text = str(o, "text");
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
  // `message` may be null unless the plan needs an envelope (planRun says).
  val test(val options, val message, val callback) {
    return start(std::move(options), std::move(message), std::move(callback), form::RunKind::Test);
  }
  val send(val options, val message, val callback) {
    return start(std::move(options), std::move(message), std::move(callback), form::RunKind::Send);
  }
  void cancel() { client_.cancel(); }
  bool running() const { return client_.running(); }

 private:
  val start(val options, val message, val callback, form::RunKind kind) {
    if (client_.running()) return problemToJs(problem("", "Busy", "A conversation is already running."));
    // Send stops nowhere early; Test where the person chose (AUTH by default).
    const std::optional<std::optional<Phase>> stop =
        kind == form::RunKind::Send ? std::optional<Phase>() : chosenStop(str(options, "stopAfter"));
    if (!stop) return problemToJs(problem("stopAfter", "Unknown phase", "\"" + str(options, "stopAfter") + "\" is not one."));
    const form::RunPlan plan = form::planRun(kind, *stop);
    form::Problem why;
    auto params = paramsFromJs(options, plan, &why);
    if (!params) return problemToJs(why);
    std::optional<OutgoingMessage> outgoing;
    if (plan.needsEnvelope) {
      if (message.isNull() || message.isUndefined())
        return problemToJs(problem("to", "The test message is not ready", "MAIL and RCPT need the test message's addresses."));
      outgoing = messageFromJs(message, &why);
      if (!outgoing) return problemToJs(why);
    }
    if (params->security != SecurityMode::None && !TlsEngine::entropyOk())
      return problemToJs(problem("", "Not started", "The browser gives no good random numbers: TLS cannot be made safe here."));
    transport_.setProxyUrl(str(options, "proxy"));
    transport_.setProxyToken(str(options, "relayToken"));
    transport_.setTrustedRoots(trustedRoots());
    callback_ = std::move(callback);
    explainer_ = std::make_unique<Explainer>(*params, plan.needsEnvelope);
    emitJs("steps", [&](val& o) { o.set("steps", stepsToJs(explainer_->steps())); });
    const Error error = plan.needsEnvelope ? client_.sendMail(*params, std::move(*outgoing)) : client_.connect(*params);
    if (error) return problemToJs(problem("", "Not started", error.explanation()));
    return val::null();
  }

  template <typename Fill>
  void emitJs(const char* type, Fill fill) {
    if (callback_.isNull() || callback_.isUndefined()) return;
    val o = val::object();
    o.set("type", std::string(type));
    fill(o);
    callback_(o);
  }

  void onEvent(const Event& event) {
    const bool stepsChanged = explainer_ && explainer_->onEvent(event);
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TranscriptEntry>) {
            emitJs("transcript", [&](val& o) {
              o.set("kind", std::string(transcriptKindName(e.kind)));
              o.set("prefix", std::string(transcriptPrefix(e)));
              o.set("encrypted", e.encrypted);
              o.set("at", static_cast<double>(e.at.count()));
              o.set("text", e.text);
            });
          } else if constexpr (std::is_same_v<T, StateChanged>) {
            emitJs("state", [&](val& o) {
              o.set("from", std::string(stateName(e.from)));
              o.set("to", std::string(stateName(e.to)));
              o.set("description", std::string(stateDescription(e.to)));
            });
          } else if constexpr (std::is_same_v<T, CapabilitiesReceived>) {
            emitJs("capabilities", [&](val& o) {
              o.set("serverName", e.capabilities.serverName());
              o.set("encrypted", e.encrypted);
              val entries = val::array();
              for (const auto& c : e.capabilities.entries()) {
                val entry = val::object();
                entry.set("keyword", c.keyword);
                entry.set("params", stringArray(c.params));
                entry.set("meaning", std::string(Capabilities::describe(c.keyword)));
                entries.call<void>("push", entry);
              }
              o.set("entries", entries);
            });
          } else if constexpr (std::is_same_v<T, TlsReady>) {
            emitJs("tls", [&](val& o) { o.set("info", tlsToJs(e.info)); });
          } else if constexpr (std::is_same_v<T, AuthSucceeded>) {
            emitJs("auth", [&](val& o) { o.set("mechanism", std::string(mechanismName(e.mechanism))); });
          } else if constexpr (std::is_same_v<T, SessionReady>) {
            emitJs("ready", [](val&) {});
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
        o.set("diagnosis", diagnosisToJs(d));
      });
    }
  }

  WebSocketTransport transport_;
  WebTimer timer_;
  Client client_;
  std::unique_ptr<Explainer> explainer_;
  val callback_ = val::null();
};

// Returns how many certificates the bundle held (0: not PEM).
int setCaBundle(const std::string& pem) {
  trustedRoots() = std::make_shared<const TrustedRoots>(pem);
  return static_cast<int>(trustedRoots()->size());
}
bool entropyOk() { return TlsEngine::entropyOk(); }

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
val plannedSteps(val options, bool sending) {
  ConnectParams p;
  if (const auto mode = securityModeFromName(str(options, "security"))) p.security = *mode;
  p.credentials.username = str(options, "username");
  return stepsToJs(Explainer(p, sending).steps());
}

// The form's rules for the page (smtpc/form.h): the same as the desktop app's.
std::string securityHintFor(const std::string& mode, int port) {
  const auto m = securityModeFromName(mode);
  return m ? form::securityHint(*m, static_cast<std::uint16_t>(port)) : std::string();
}
val credentialFieldsFor(const std::string& auth) {
  const auto fields = form::credentialFields(mechanismFromName(auth).value_or(AuthMechanism::Auto));
  val o = val::object();
  o.set("password", fields.password);
  o.set("token", fields.token);
  return o;
}
// null when the server field is fine, else {field, headline, explanation}.
val checkServerFor(const std::string& server) {
  const auto problem = form::checkServer(server);
  return problem ? problemToJs(*problem) : val::null();
}
bool insecureSwitches(bool acceptInvalid, bool allowPlaintext) { return form::insecureSwitches(acceptInvalid, allowPlaintext); }
// {stopAfter, needsEnvelope} for Test (send false) with the chosen phase, or Send.
val planRunFor(bool send, const std::string& stopAfter) {
  const auto stop = chosenStop(stopAfter);
  std::optional<Phase> chosen;
  if (!send && stop) chosen = *stop;
  const form::RunPlan plan = form::planRun(send ? form::RunKind::Send : form::RunKind::Test, chosen);
  val o = val::object();
  o.set("stopAfter", std::string(phaseName(plan.stopAfter)));
  o.set("needsEnvelope", plan.needsEnvelope);
  return o;
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
      .function("running", &SmtpClient::running);
  emscripten::function("setCaBundle", &setCaBundle);
  emscripten::function("entropyOk", &entropyOk);
  emscripten::function("presets", &presetsJs);
  emscripten::function("plannedSteps", &plannedSteps);
  emscripten::function("defaultPort", &defaultPortFor);
  emscripten::function("securityHint", &securityHintFor);
  emscripten::function("checkServer", &checkServerFor);
  emscripten::function("credentialFields", &credentialFieldsFor);
  emscripten::function("insecureSwitches", &insecureSwitches);
  emscripten::function("planRun", &planRunFor);
}
