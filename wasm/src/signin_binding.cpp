#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "js_values.h"
#include "smtpc/oauth.h"
#include "smtpc/tls/engine.h"

namespace smtpc::web {

// OAuth 2 sign-in for the page (smtpc/oauth.h): authorization code + PKCE, the page itself as
// the redirect URI (a popup comes back to it). The flow decides; the page only fetches, opens
// the popup and hands the popup's address back. Outputs reach the JS callback as
//   {type: "http", method, url, headers: [[name, value]], body, authorization, description}
//   {type: "browser", url}   {type: "step", step, label, text}   {type: "code", userCode, uri}
//   {type: "finished", ok, token, scope, problem: {field, headline, explanation, serverSaid}}
// The access token is in memory only: in the "finished" object and then in the token field.
class SignIn {
 public:
  ~SignIn() { clearTimer(); }

  // null when started, else the form's problem {field, headline, explanation}.
  val start(val values, const std::string& redirectUri, val callback) {
    if (flow_ && !flow_->finished()) return problemToJs(problem("", "Busy", "A sign-in is already running."));
    const form::Values v = valuesFromJs(values);
    form::Problem why;
    auto settings = form::toSignInSettings({value(v, "oauthProvider"), value(v, "clientId"), value(v, "oauthIssuer"),
                                            value(v, "tenant"), value(v, "username"), ""},
                                           oauth::FlowKind::Browser, &why);
    if (!settings) return problemToJs(why);
    settings->redirectUri = redirectUri;
    if (const auto bad = oauth::checkSettings(*settings)) return problemToJs(problem(bad->field, bad->headline, bad->explanation));
    std::string random(oauth::Flow::kRandomBytes, '\0');
    if (!tls::Engine::entropyOk() ||
        RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size())) != 1)
      return problemToJs(problem("", "No safe random numbers", "This browser gives no good random numbers: a sign-in cannot be made safe here."));
    callback_ = std::move(callback);
    flow_ = std::make_unique<oauth::Flow>(std::move(*settings), random);
    OPENSSL_cleanse(random.data(), random.size());
    flow_->start(now());
    drain();
    return val::null();
  }

  void onHttpResponse(int status, const std::string& contentType, bool json, val fields) {
    if (!flow_) return;
    oauth::HttpResponse response;
    response.status = status;
    response.contentType = contentType;
    response.json = json;
    if (json) {
      const val keys = val::global("Object").call<val>("keys", fields);
      const unsigned count = keys["length"].as<unsigned>();
      for (unsigned i = 0; i < count; ++i) {
        const std::string key = keys[i].as<std::string>();
        if (fields[key].isString()) response.fields[key] = fields[key].as<std::string>();
      }
    }
    flow_->onHttpResponse(now(), response);
    drain();
  }

  // fetch() rejected: the page cannot tell a refused CORS request from an unreachable or
  // untrusted address, so it names all three and the way around them.
  void onFetchFailed(const std::string& message) {
    if (!flow_) return;
    flow_->onHttpFailed(now(), "the browser gave this page no answer it may read (" + message +
                                   "): the address is unreachable, its certificate is not trusted by this browser, "
                                   "or the provider does not let web pages call it (no CORS). Microsoft allows it for "
                                   "apps registered as \"Single-page application\"; where a provider does not, sign "
                                   "in with the desktop app or the command-line tool, or paste a token");
    drain();
  }

  // The popup came back to this page: its address.
  void onRedirect(const std::string& url) {
    if (!flow_) return;
    flow_->onRedirect(now(), url);
    drain();
  }

  void cancel() {
    if (!flow_ || flow_->finished()) return;
    flow_->cancel(now());
    drain();
  }
  bool running() const { return flow_ && !flow_->finished(); }

 private:
  static Time now() { return Time(static_cast<std::int64_t>(emscripten_get_now())); }

  void emit(val o) {
    if (!callback_.isNull() && !callback_.isUndefined()) callback_(o);
  }

  void drain() {
    while (flow_) {
      auto out = flow_->poll();
      if (!out) break;
      val o = val::object();
      if (auto* r = std::get_if<oauth::HttpRequest>(&*out)) {
        o.set("type", std::string("http"));
        o.set("method", r->method);
        o.set("url", r->url);
        val headers = val::array();
        for (const auto& [name, header] : r->headers) headers.call<void>("push", stringArray({name, header}));
        o.set("headers", headers);
        o.set("body", std::string(r->body.reveal()));
        o.set("authorization", std::string(r->authorization.reveal()));
        o.set("description", r->description);
      } else if (auto* b = std::get_if<oauth::OpenBrowser>(&*out)) {
        o.set("type", std::string("browser"));
        o.set("url", b->url);
      } else if (auto* e = std::get_if<oauth::StepEvent>(&*out)) {
        o.set("type", std::string("step"));
        o.set("step", std::string(oauth::signInStepName(e->step)));
        o.set("label", std::string(oauth::signInStepLabel(e->step)));
        o.set("text", e->text);
      } else if (auto* u = std::get_if<oauth::ShowUserCode>(&*out)) {
        o.set("type", std::string("code"));
        o.set("userCode", u->userCode);
        o.set("uri", u->verificationUri);
      } else if (std::get_if<oauth::Wait>(&*out)) {
        continue;  // the timer follows nextDeadline(), below
      } else if (auto* f = std::get_if<oauth::Finished>(&*out)) {
        clearTimer();
        o.set("type", std::string("finished"));
        o.set("ok", f->ok());
        o.set("token", f->token ? std::string(f->token->accessToken.reveal()) : std::string());
        o.set("scope", f->token ? f->token->scope : std::string());
        if (f->problem) {
          val p = problemToJs(problem(f->problem->field, f->problem->headline, f->problem->explanation));
          p.set("serverSaid", f->problem->serverSaid);
          o.set("problem", p);
        } else {
          o.set("problem", val::null());
        }
      } else {
        continue;  // ListenForRedirect, BrowserPage, StopListening: the page has no port to listen on
      }
      emit(o);
    }
    // The flow's next deadline (a device poll, the browser's time limit), whatever set it.
    const auto deadline = flow_ ? flow_->nextDeadline() : std::nullopt;
    if (deadline) schedule(*deadline);
    else clearTimer();
  }

  void schedule(Time until) {
    clearTimer();
    const double delay = std::max<double>(0, static_cast<double>((until - now()).count()));
    timer_ = emscripten_set_timeout(&SignIn::fire, delay, this);
  }
  void clearTimer() {
    if (timer_) emscripten_clear_timeout(timer_);
    timer_ = 0;
  }
  static void fire(void* self) {
    auto* s = static_cast<SignIn*>(self);
    s->timer_ = 0;
    if (!s->flow_) return;
    s->flow_->onTimeout(now());
    s->drain();
  }

  std::unique_ptr<oauth::Flow> flow_;
  val callback_ = val::null();
  long timer_ = 0;
};

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc_signin) {
  using namespace smtpc::web;
  emscripten::class_<SignIn>("SignIn")
      .constructor<>()
      .function("start", &SignIn::start)
      .function("onHttpResponse", &SignIn::onHttpResponse)
      .function("onFetchFailed", &SignIn::onFetchFailed)
      .function("onRedirect", &SignIn::onRedirect)
      .function("cancel", &SignIn::cancel)
      .function("running", &SignIn::running);
}
