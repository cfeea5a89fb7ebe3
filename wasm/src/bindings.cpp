// The JavaScript face of the module (embind), mirroring QtClient: one SmtpClient per page runs
// a connection test or sends a test message and reports every event to a JS callback as a
// plain object. The step bar and the diagnosis come from core's Explainer, as in the desktop app.
//
//   const smtpc = await createSmtpc();
//   smtpc.setCaBundle(pemText);                       // the page's trusted roots
//   const client = new smtpc.SmtpClient();
//   client.test(options, null, event => ...);         // stops after options.stopAfter (AUTH)
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
#include "smtpc/message.h"
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

std::vector<std::string> strings(const val& object, const char* key) {
  std::vector<std::string> out;
  const val v = object[key];
  if (!v.isArray()) return out;
  const unsigned length = v["length"].as<unsigned>();
  for (unsigned i = 0; i < length; ++i) out.push_back(v[i].as<std::string>());
  return out;
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
    cert.set("pin", "sha256//" + c.publicKeySha256);
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

std::optional<ConnectParams> paramsFromJs(const val& o, bool sending, std::string* why) {
  ConnectParams p;
  p.host = str(o, "host");
  if (p.host.empty()) return *why = "Enter the server's name, for example smtp.example.com.", std::nullopt;
  p.port = static_cast<std::uint16_t>(number(o, "port", 0));
  if (const auto mode = securityModeFromName(str(o, "security"))) p.security = *mode;
  else return *why = "Unknown security mode \"" + str(o, "security") + "\".", std::nullopt;
  const std::string auth = str(o, "auth");
  if (!auth.empty()) {
    const auto mechanism = mechanismFromName(auth);
    if (!mechanism) return *why = "Unknown login method \"" + auth + "\".", std::nullopt;
    p.authMechanism = *mechanism;
  }
  p.credentials.username = str(o, "username");
  if (const std::string password = str(o, "password"); !password.empty()) p.credentials.password = Secret(password);
  if (const std::string token = str(o, "token"); !token.empty()) p.credentials.oauthToken = Secret(token);
  if (!p.credentials.username.empty() && p.credentials.password.empty() && p.credentials.oauthToken.empty())
    return *why = "A user name was given but no password (or token).", std::nullopt;
  p.allowPlaintextAuth = flag(o, "allowPlaintext");
  p.tls.caCertificatesPem = str(o, "caPem");
  for (const auto& pin : strings(o, "pins")) {
    if (pin.rfind("sha256//", 0) != 0) return *why = "A pinned key looks like sha256//BASE64.", std::nullopt;
    p.tls.pinnedSha256.push_back(pin);
  }
  p.tls.acceptInvalidCertificate = flag(o, "acceptInvalid");
  p.tls.verifyName = str(o, "verifyName");
  p.tls.clientCertificatePem = str(o, "clientCertPem");
  p.tls.clientKeyPem = str(o, "clientKeyPem");
  p.ehloName = str(o, "ehlo");
  p.timeouts = Timeouts::uniform(std::chrono::seconds(static_cast<int>(number(o, "timeoutSeconds", 30))));
  if (!sending) {
    const auto phase = phaseFromName(str(o, "stopAfter").empty() ? "auth" : str(o, "stopAfter"));
    if (!phase) return *why = "Unknown phase \"" + str(o, "stopAfter") + "\".", std::nullopt;
    p.quitAfter = *phase;
  }
  return p;
}

std::optional<OutgoingMessage> messageFromJs(const val& o, std::string* why) {
  Message m;
  auto from = Mailbox::parse(str(o, "from"));
  if (!from) return *why = "From: " + from.error().explanation(), std::nullopt;
  m.from = *from;
  for (auto [key, into] : {std::pair{"to", &m.to}, std::pair{"cc", &m.cc}, std::pair{"bcc", &m.bcc}}) {
    for (const auto& text : strings(o, key)) {
      auto mailbox = Mailbox::parse(text);
      if (!mailbox) return *why = std::string(key) + " \"" + text + "\": " + mailbox.error().explanation(), std::nullopt;
      into->push_back(*mailbox);
    }
  }
  if (m.to.empty() && m.cc.empty() && m.bcc.empty()) return *why = "Give at least one recipient.", std::nullopt;
  m.subject = str(o, "subject");
  m.text = str(o, "text");
  m.headers.emplace_back("X-Mailer", "SMTPc (browser)");
  const val attachments = o["attachments"];
  if (attachments.isArray()) {
    const unsigned count = attachments["length"].as<unsigned>();
    for (unsigned i = 0; i < count; ++i) {
      const val a = attachments[i];
      const val bytes = a["data"];
      const unsigned length = bytes["length"].as<unsigned>();
      std::string data(length, '\0');
      val(emscripten::typed_memory_view(length, reinterpret_cast<unsigned char*>(data.data()))).call<void>("set", bytes);
      m.attachments.push_back(Attachment::fromMemory(str(a, "name"), std::move(data), str(a, "type")));
    }
  }
  const DateTime now{static_cast<std::int64_t>(number(o, "nowSeconds", 0)),
                     static_cast<int>(number(o, "utcOffsetMinutes", 0))};
  auto outgoing = m.toOutgoing(now);
  if (!outgoing) return *why = outgoing.error().explanation(), std::nullopt;
  return *outgoing;
}

}  // namespace

class SmtpClient {
 public:
  SmtpClient() : client_(transport_, timer_) {
    client_.setObserver([this](const Event& event) { onEvent(event); });
  }
  ~SmtpClient() { client_.setObserver(nullptr); }

  // Returns "" when started, else why not (the form's mistake, in words).
  // `message` may be null; MAIL and RCPT stop phases take their addresses from it.
  std::string test(val options, val message, val callback) {
    return start(std::move(options), std::move(message), std::move(callback), false);
  }
  std::string send(val options, val message, val callback) {
    return start(std::move(options), std::move(message), std::move(callback), true);
  }
  void cancel() { client_.cancel(); }
  bool running() const { return client_.running(); }

 private:
  std::string start(val options, val message, val callback, bool sending) {
    if (client_.running()) return "A conversation is already running.";
    std::string why;
    auto params = paramsFromJs(options, sending, &why);
    if (!params) return why;
    const bool needsEnvelope = sending || params->quitAfter == Phase::Mail || params->quitAfter == Phase::Rcpt;
    std::optional<OutgoingMessage> outgoing;
    if (needsEnvelope) {
      if (message.isNull() || message.isUndefined()) return "MAIL and RCPT need the test message's addresses.";
      outgoing = messageFromJs(message, &why);
      if (!outgoing) return why;
    }
    if (params->security != SecurityMode::None && !TlsEngine::entropyOk())
      return "The browser gives no good random numbers: TLS cannot be made safe here.";
    transport_.setProxyUrl(str(options, "proxy"));
    transport_.setProxyToken(str(options, "relayToken"));
    transport_.setTrustedRoots(trustedRoots());
    callback_ = std::move(callback);
    explainer_ = std::make_unique<Explainer>(*params, needsEnvelope);
    emitJs("steps", [&](val& o) { o.set("steps", stepsToJs(explainer_->steps())); });
    const Error error = needsEnvelope ? client_.sendMail(*params, std::move(*outgoing)) : client_.connect(*params);
    if (error) return error.explanation();
    return {};
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
}
