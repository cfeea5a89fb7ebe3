// Type it yourself in the page (issue 17, part 3), as the desktop's Console tab
// (qtapp/gui/mainwindow_console.cpp) and `smtpc --interactive`: the learner types the SMTP
// commands to the form's server, and core's smtpc::Console sends them as typed, doing only what a
// person cannot (the TLS handshake after STARTTLS's 220, base64 for AUTH, dot-stuffing in DATA)
// and warning before a command that cannot work now. This file only carries it to JavaScript.
//
//   const console = new smtpc.SmtpConsole();
//   console.connect(values, event => ...)   values: the form's, by core's field ids, + relayToken
//                                           -> null, or {field, headline, explanation}
//   console.type(line, confirmed)           -> null when sent, else {line, why, reference, canSend}
//   console.provideCredentials(user, password); console.cancelCredentials();
//   console.close(); console.running()
// Events: {type: "transcript", kind, prefix, encrypted, at, text}, {type: "warning", line, why,
// reference, canSend}, {type: "credentials", mechanism, why}, {type: "state", from, to},
// {type: "tls", view}, {type: "finished", ok, error}. The password goes into a Secret at once and
// never comes back out: the transcript masks the AUTH payloads (core).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "bindings.h"
#include "js_values.h"
#include "smtpc/console.h"
#include "smtpc/tls/engine.h"
#include "web_runtime.h"
#include "websocket_transport.h"

namespace smtpc::web {

namespace {

void setWarning(val& o, const ConsoleWarning& w) {
  o.set("line", w.line);
  o.set("why", w.why);
  o.set("reference", w.reference);
  o.set("canSend", w.canSend);
}

// The form's connection settings for the console: its login is not used (the AUTH helper asks
// when the learner types AUTH), so a user name without a password is no mistake here.
std::optional<ConsoleParams> consoleParamsFrom(form::Values v, form::Problem* out) {
  for (const char* login : {"auth", "username", "password", "token"}) v.erase(login);
  const auto connect = paramsFrom(v, form::planRun(form::RunKind::Test, std::nullopt), out);
  if (!connect) return std::nullopt;
  ConsoleParams p;
  p.host = connect->host;
  p.port = connect->effectivePort();
  p.implicitTls = connect->security == SecurityMode::ImplicitTls;
  p.tls = connect->tls;
  return p;
}

}  // namespace

class SmtpConsole {
 public:
  SmtpConsole() : client_(transport_, timer_) {
    client_.setObserver([this](const ConsoleEvent& event) { onEvent(event); });
  }
  ~SmtpConsole() { client_.setObserver(nullptr); }

  val connect(val values, val callback) {
    if (client_.running()) return problemToJs(problem("", "Busy", "The console is already connected."));
    const form::Values v = valuesFromJs(values);
    form::Problem why;
    const auto params = consoleParamsFrom(v, &why);
    if (!params) return problemToJs(why);
    // STARTTLS may be typed on any connection: without good random numbers no TLS is safe.
    if (!tls::Engine::entropyOk())
      return problemToJs(problem("", "Not started", "The browser gives no good random numbers: TLS cannot be made safe here."));
    transport_.setProxyUrl(value(v, "proxy"));
    transport_.setProxyToken(str(values, "relayToken"));
    transport_.setTrustedRoots(trustedRoots());
    callback_ = std::move(callback);
    if (const Error error = client_.connect(*params)) return problemToJs(problem("", "Not started", error.explanation()));
    return val::null();
  }

  // Null when sent; else the warning (also posted as an event), nothing sent.
  val type(const std::string& line, bool confirmed) {
    const auto warning = client_.type(line, confirmed);
    if (!warning) return val::null();
    val o = val::object();
    setWarning(o, *warning);
    return o;
  }
  void provideCredentials(const std::string& user, const std::string& password) {
    client_.provideCredentials(user, Secret(password));
  }
  void cancelCredentials() { client_.cancelCredentials(); }
  void close() { client_.close(); }
  bool running() const { return client_.running(); }

 private:
  template <typename Fill>
  void emitJs(const char* type, Fill fill) {
    emitEvent(callback_, type, fill);
  }

  void onEvent(const ConsoleEvent& event) {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TranscriptEntry>) {
            emitJs("transcript", [&](val& o) { setTranscriptEntry(o, e); });
          } else if constexpr (std::is_same_v<T, ConsoleWarning>) {
            emitJs("warning", [&](val& o) { setWarning(o, e); });
          } else if constexpr (std::is_same_v<T, CredentialRequest>) {
            emitJs("credentials", [&](val& o) {
              o.set("mechanism", e.mechanism);
              o.set("why", e.why);
            });
          } else if constexpr (std::is_same_v<T, ConsoleStateChanged>) {
            emitJs("state", [&](val& o) {
              o.set("from", std::string(consoleStateName(e.from)));
              o.set("to", std::string(consoleStateName(e.to)));
            });
          } else if constexpr (std::is_same_v<T, TlsReady>) {
            emitJs("tls", [&](val& o) { o.set("view", tlsToJs(e.info)); });
          } else if constexpr (std::is_same_v<T, ConsoleFinished>) {
            emitJs("finished", [&](val& o) {
              o.set("ok", !e.error.isError());
              o.set("error", e.error ? val(e.error.explanation()) : val::null());
            });
          }
        },
        event);
  }

  WebSocketTransport transport_;
  WebTimer timer_;
  ConsoleClient client_;
  val callback_ = val::null();
};

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc_console) {
  using namespace smtpc::web;
  emscripten::class_<SmtpConsole>("SmtpConsole")
      .constructor<>()
      .function("connect", &SmtpConsole::connect)
      .function("type", &SmtpConsole::type)
      .function("provideCredentials", &SmtpConsole::provideCredentials)
      .function("cancelCredentials", &SmtpConsole::cancelCredentials)
      .function("close", &SmtpConsole::close)
      .function("running", &SmtpConsole::running);
}
