// Settings discovery for the page (smtpc/discovery.h, issue 15): core's flow runs here, inside
// the module. Its probes are real SMTP sessions up to EHLO through the page's relay — the same
// Client, WebSocketTransport and in-module TLS as the Test button, with the page's trusted roots —
// and its DNS queries and documents go to JavaScript (discover.js), which asks the relay's lookup
// endpoint (smtpc/relay.h, kLookupPath) and answers back. Every decision is the flow's.
//
//   const d = new smtpc.Discovery();
//   d.start({address, proxy, relayToken, caPem, ehlo, ispdbBase}, out => ...)  -> null or a form problem
//   out: {type: "dns", id, recordType: "SRV"|"MX", name, lookupUrl}
//        {type: "document", id, kind: "autoconfig"|"well-known"|"ispdb", url, domain, plainHttp, maxBytes, lookupUrl}
//        {type: "confirm", id, url, question}       {type: "cancel", id}
//        {type: "step", source, label, what, query, result, found, ms}
//        {type: "finished", outcome: {found, settings: {server, port, security, username}, decidedBy,
//                                     reasons, warnings, advice, disagreements, failure, tried, json}}
//   d.onDnsAnswer(id, {status: "ok"|"nxdomain"|"failed", srv: [{priority, weight, port, target}],
//                      mx: [{preference, exchange}], error})
//   d.onDocument(id, {status: HTTP status or 0, config: {providerId, displayName, domains,
//                     outgoing: [{hostname, port, socketType, username, authentication}]} or null,
//                     nameNotFound, error})
//   d.onConfirmed(id, yes)   d.cancel()   d.running()
// lookupUrl is built here, once, from the relay address the Test button uses (ws → http, wss →
// https) and relay.h's names: the page holds no copy of the endpoint's query syntax.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <map>
#include <memory>
#include <vector>

#include "js_values.h"
#include "smtpc/client.h"
#include "smtpc/discovery.h"
#include "smtpc/relay.h"
#include "smtpc/tls/engine.h"
#include "web_runtime.h"
#include "websocket_transport.h"

namespace smtpc::web {

namespace {

PublicSuffixList& publicSuffixes() {
  static PublicSuffixList list;
  return list;
}

std::vector<std::string> strings(const val& array) {
  std::vector<std::string> out;
  if (!array.isArray()) return out;
  const unsigned count = array["length"].as<unsigned>();
  for (unsigned i = 0; i < count; ++i)
    if (array[i].isString()) out.push_back(array[i].as<std::string>());
  return out;
}

std::uint16_t port16(const val& object, const char* key) {
  const double n = number(object, key, 0);
  return n >= 0 && n <= 65535 ? static_cast<std::uint16_t>(n) : 0;
}

std::string_view documentLookupType(discovery::DocumentKind kind) {
  switch (kind) {
    case discovery::DocumentKind::Autoconfig: return relay::kLookupAutoconfig;
    case discovery::DocumentKind::WellKnown: return relay::kLookupWellKnown;
    case discovery::DocumentKind::Ispdb: return relay::kLookupIspdb;
  }
  return relay::kLookupAutoconfig;
}

// "ws://relay:8025/" → "http://relay:8025", "wss://…" → "https://…"; empty when not a relay address.
std::string lookupBase(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("ws://", 0) == 0) return "http://" + url.substr(5);
  if (url.rfind("wss://", 0) == 0) return "https://" + url.substr(6);
  return {};
}

void addParameter(std::string& url, std::string_view name, std::string_view value) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += name;
  url += '=' + relay::percentEncode(value);
}

val stepToJs(const discovery::Step& step) {
  val o = val::object();
  o.set("type", std::string("step"));
  o.set("source", std::string(discovery::sourceName(step.source)));
  o.set("label", std::string(discovery::sourceLabel(step.source)));
  o.set("what", std::string(discovery::sourceWhat(step.source)));
  o.set("query", step.query);
  o.set("result", step.result);
  o.set("found", step.found);
  o.set("ms", static_cast<double>(step.took.count()));
  return o;
}

val outcomeToJs(const std::string& address, const discovery::Outcome& o, const std::vector<discovery::Step>& steps) {
  val out = val::object();
  out.set("found", o.found);
  if (o.found) {
    const discovery::Candidate& c = o.chosen;
    val settings = val::object();  // keyed by the form's field ids (smtpc/form.h)
    settings.set("server", c.host);
    settings.set("port", std::to_string(c.port));
    settings.set("security", std::string(securityModeName(c.security)));
    settings.set("username", c.username);
    out.set("settings", settings);
    out.set("chosen", discovery::describe(c));
    out.set("source", std::string(discovery::sourceName(c.source)));
    out.set("oauthProvider", c.oauthProvider);
  } else {
    out.set("settings", val::null());
  }
  out.set("decidedBy", o.decidedBy);
  out.set("reasons", stringArray(o.reasons));
  out.set("warnings", stringArray(o.warnings));
  out.set("advice", stringArray(o.advice));
  out.set("disagreements", stringArray(o.disagreements));
  out.set("failure", o.failure);
  val tried = val::array();
  for (const auto& t : o.tried) {
    val x = val::object();
    x.set("candidate", discovery::describe(t.candidate));
    x.set("source", std::string(discovery::sourceLabel(t.candidate.source)) + (t.candidate.viaMx ? " (via MX)" : ""));
    x.set("verdict", std::string(discovery::verdictName(t.verdict)));
    x.set("detail", t.detail);
    x.set("ms", static_cast<double>(t.took.count()));
    tried.call<void>("push", x);
  }
  out.set("tried", tried);
  out.set("json", discovery::toJson(address, o, steps));  // what `smtpc --discover --json` prints
  return out;
}

}  // namespace

int setPublicSuffixList(const std::string& text) {
  publicSuffixes() = PublicSuffixList::parse(text);
  return static_cast<int>(publicSuffixes().size());
}

class Discovery {
 public:
  Discovery() = default;
  ~Discovery() {
    clearTimer();
    clearRetired();
    for (auto& [id, probe] : probes_) probe->client.setObserver(nullptr);
  }
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  val start(val options, val callback) {
    if (running()) return problemToJs(problem("", "Busy", "Settings discovery is already running."));
    discovery::Settings settings;
    settings.address = str(options, "address");
    std::string why;
    if (!discovery::addressDomain(settings.address, &why))
      return problemToJs(problem("emailAddress", "Not an e-mail address", why));
    proxy_ = str(options, "proxy");
    while (!proxy_.empty() && proxy_.back() == ' ') proxy_.pop_back();
    lookupBase_ = lookupBase(proxy_);
    if (lookupBase_.empty())
      return problemToJs(problem("proxy", "Relay address not understood",
                                 "The relay's address must start with ws:// or wss:// (it is \"" + proxy_ +
                                     "\"): discovery asks the relay's lookup endpoint, and probes through it."));
    token_ = str(options, "relayToken");
    settings.tls.caCertificatesPem = str(options, "caPem");
    settings.ehloName = str(options, "ehlo");
    if (const std::string base = str(options, "ispdbBase"); !base.empty()) settings.ispdbBase = base;
    std::string random(64, '\0');
    if (!tls::Engine::entropyOk() ||
        RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size())) != 1)
      return problemToJs(problem("", "No safe random numbers",
                                 "This browser gives no good random numbers: the probes' TLS cannot be made safe here."));
    address_ = settings.address;
    callback_ = std::move(callback);
    flow_ = std::make_unique<discovery::Flow>(std::move(settings), random, &publicSuffixes());
    OPENSSL_cleanse(random.data(), random.size());
    flow_->start(browserNow());
    drain();
    return val::null();
  }

  void onDnsAnswer(int id, val answer) {
    if (!flow_) return;
    discovery::DnsAnswer a;
    const std::string status = str(answer, "status");
    a.status = status == relay::kLookupOk         ? discovery::DnsStatus::Ok
               : status == relay::kLookupNxDomain ? discovery::DnsStatus::NotFound
                                                  : discovery::DnsStatus::Failed;
    a.error = str(answer, "error");
    const val srv = answer["srv"];
    for (unsigned i = 0, n = srv.isArray() ? srv["length"].as<unsigned>() : 0; i < n; ++i)
      a.srv.push_back({port16(srv[i], "priority"), port16(srv[i], "weight"), port16(srv[i], "port"), str(srv[i], "target")});
    const val mx = answer["mx"];
    for (unsigned i = 0, n = mx.isArray() ? mx["length"].as<unsigned>() : 0; i < n; ++i)
      a.mx.push_back({port16(mx[i], "preference"), str(mx[i], "exchange")});
    flow_->onDnsAnswer(browserNow(), id, a);
    drain();
  }

  void onDocument(int id, val answer) {
    if (!flow_) return;
    discovery::DocumentAnswer a;
    a.status = static_cast<int>(number(answer, "status", 0));
    a.nameNotFound = answer["nameNotFound"].isTrue();
    a.error = str(answer, "error");
    const val config = answer["config"];
    if (config.isNull() == false && config.isUndefined() == false) {
      discovery::ClientConfig c;
      c.providerId = str(config, "providerId");
      c.displayName = str(config, "displayName");
      c.domains = strings(config["domains"]);
      const val outgoing = config["outgoing"];
      for (unsigned i = 0, n = outgoing.isArray() ? outgoing["length"].as<unsigned>() : 0; i < n; ++i) {
        const val s = outgoing[i];
        c.outgoing.push_back({str(s, "hostname"), str(s, "port"), str(s, "socketType"), str(s, "username"),
                              strings(s["authentication"])});
      }
      a.config = std::move(c);
    }
    flow_->onDocument(browserNow(), id, a);
    drain();
  }

  void onConfirmed(int id, bool yes) {
    if (!flow_) return;
    flow_->onConfirmed(browserNow(), id, yes);
    drain();
  }

  void cancel() {
    if (!running()) return;
    flow_->cancel(browserNow());
    drain();
  }

  bool running() const { return flow_ && !flow_->finished(); }

 private:
  // One probe: an SMTP session up to EHLO, through the relay, as the Test button runs one.
  struct ProbeRun {
    WebSocketTransport transport;
    WebTimer timer;
    Client client{transport, timer};
  };

  void emit(val o) {
    if (!callback_.isNull() && !callback_.isUndefined()) callback_(o);
  }

  std::string lookupUrl(std::string_view type) const {
    std::string url = lookupBase_ + std::string(relay::kLookupPath);
    addParameter(url, relay::kLookupTypeParameter, type);
    return url;
  }
  std::string withToken(std::string url) const {
    if (!token_.empty()) addParameter(url, relay::kTokenParameter, token_);
    return url;
  }

  // Carries out the flow's outputs. An answer given from inside (a synchronous confirm, a probe
  // that fails at once) only asks for another round.
  void drain() {
    if (draining_) {
      again_ = true;
      return;
    }
    draining_ = true;
    do {
      again_ = false;
      while (flow_) {
        auto out = flow_->poll();
        if (!out) break;
        std::visit([this](auto& o) { handle(o); }, *out);
      }
    } while (again_);
    draining_ = false;
    const auto deadline = flow_ ? flow_->nextDeadline() : std::nullopt;
    if (deadline) schedule(*deadline);
    else clearTimer();
  }

  void handle(discovery::DnsQuery& q) {
    std::string url = lookupUrl(q.type == discovery::RecordType::Srv ? relay::kLookupSrv : relay::kLookupMx);
    addParameter(url, relay::kLookupNameParameter, q.name);
    val o = val::object();
    o.set("type", std::string("dns"));
    o.set("id", q.id);
    o.set("recordType", std::string(discovery::recordTypeName(q.type)));
    o.set("name", q.name);
    o.set("lookupUrl", withToken(url));
    emit(o);
  }

  void handle(discovery::HttpGet& g) {
    std::string url = lookupUrl(documentLookupType(g.kind));
    addParameter(url, relay::kLookupDomainParameter, g.domain);
    if (g.kind == discovery::DocumentKind::Autoconfig) addParameter(url, relay::kLookupAddressParameter, g.address);
    if (g.plainHttp) addParameter(url, relay::kLookupSchemeParameter, relay::kLookupPlainHttp);
    val o = val::object();
    o.set("type", std::string("document"));
    o.set("id", g.id);
    o.set("kind", std::string(discovery::sourceName(g.kind == discovery::DocumentKind::Autoconfig ? discovery::Source::Autoconfig
                                                    : g.kind == discovery::DocumentKind::WellKnown ? discovery::Source::WellKnown
                                                                                                   : discovery::Source::Ispdb)));
    o.set("url", g.url);
    o.set("domain", g.domain);
    o.set("plainHttp", g.plainHttp);
    o.set("maxBytes", static_cast<double>(g.maxBytes));
    o.set("lookupUrl", withToken(url));
    emit(o);
  }

  void handle(discovery::ConfirmPlainHttp& c) {
    val o = val::object();
    o.set("type", std::string("confirm"));
    o.set("id", c.id);
    o.set("url", c.url);
    o.set("question", c.question);
    emit(o);
  }

  void handle(discovery::Probe& p) {
    auto run = std::make_unique<ProbeRun>();
    ProbeRun& r = *run;
    r.transport.setProxyUrl(proxy_);
    r.transport.setProxyToken(token_);
    r.transport.setTrustedRoots(trustedRoots());
    const int id = p.id;
    r.client.setObserver([this, id](const Event& event) { onProbeEvent(id, event); });
    probes_[id] = std::move(run);
    const Error error = r.client.connect(std::move(p.params));
    if (error) onProbeEvent(id, smtpc::Finished{error});
  }

  void handle(discovery::Cancel& c) {
    if (probes_.count(c.id)) return retire(c.id);
    val o = val::object();
    o.set("type", std::string("cancel"));
    o.set("id", c.id);
    emit(o);
  }

  void handle(discovery::StepEvent& e) { emit(stepToJs(e.step)); }

  void handle(discovery::Finished& f) {
    for (auto it = probes_.begin(); it != probes_.end();) retire((it++)->first);
    val o = val::object();
    o.set("type", std::string("finished"));
    o.set("outcome", outcomeToJs(address_, f.outcome, flow_->steps()));
    emit(o);
  }

  void onProbeEvent(int id, const Event& event) {
    if (!flow_ || !probes_.count(id)) return;
    flow_->onProbeEvent(browserNow(), id, event);
    if (std::holds_alternative<smtpc::Finished>(event)) retire(id);
    drain();
  }

  // A probe ends here; it is destroyed on a later turn of the event loop, never inside its own
  // callback.
  void retire(int id) {
    auto it = probes_.find(id);
    if (it == probes_.end()) return;
    std::unique_ptr<ProbeRun> run = std::move(it->second);
    probes_.erase(it);
    run->client.setObserver(nullptr);
    if (run->client.running()) run->client.cancel();
    retired_.push_back(std::move(run));
    if (!retireTimer_) retireTimer_ = emscripten_set_timeout(&Discovery::onRetire, 0, this);
  }
  static void onRetire(void* self) {
    auto* d = static_cast<Discovery*>(self);
    d->retireTimer_ = 0;
    d->retired_.clear();
  }
  void clearRetired() {
    if (retireTimer_) emscripten_clear_timeout(retireTimer_);
    retireTimer_ = 0;
    for (auto& run : retired_) run->client.setObserver(nullptr);
    retired_.clear();
  }

  void schedule(Time until) {
    clearTimer();
    const double delay = std::max<double>(0, static_cast<double>((until - browserNow()).count()));
    timer_ = emscripten_set_timeout(&Discovery::fire, delay, this);
  }
  void clearTimer() {
    if (timer_) emscripten_clear_timeout(timer_);
    timer_ = 0;
  }
  static void fire(void* self) {
    auto* d = static_cast<Discovery*>(self);
    d->timer_ = 0;
    if (!d->flow_) return;
    d->flow_->onTimeout(browserNow());
    d->drain();
  }

  std::unique_ptr<discovery::Flow> flow_;
  std::map<int, std::unique_ptr<ProbeRun>> probes_;
  std::vector<std::unique_ptr<ProbeRun>> retired_;
  std::string address_, proxy_, token_, lookupBase_;
  val callback_ = val::null();
  long timer_ = 0;
  long retireTimer_ = 0;
  bool draining_ = false;
  bool again_ = false;
};

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc_discovery) {
  using namespace smtpc::web;
  emscripten::class_<Discovery>("Discovery")
      .constructor<>()
      .function("start", &Discovery::start)
      .function("onDnsAnswer", &Discovery::onDnsAnswer)
      .function("onDocument", &Discovery::onDocument)
      .function("onConfirmed", &Discovery::onConfirmed)
      .function("cancel", &Discovery::cancel)
      .function("running", &Discovery::running);
  emscripten::function("setPublicSuffixList", &setPublicSuffixList);
}
