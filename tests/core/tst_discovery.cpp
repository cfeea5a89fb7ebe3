// Settings discovery (smtpc/discovery.h): the flow against scripted worlds — DNS answers,
// documents and servers keyed by what is asked, each answered after its own delay on a virtual
// clock — so every source alone, sources that disagree, timeouts and hostile answers are replayed
// exactly. The building blocks (suffixes, URLs, SRV order, clientConfig) are tst_discovery_parts.
#include <QTest>

#include <functional>
#include <map>
#include <set>

#include "smtpc/discovery.h"

using namespace smtpc;
using namespace smtpc::discovery;
using namespace std::chrono_literals;

namespace {

// A server as a probe meets it.
struct Server {
  enum Kind { Works, CertificateProblem, NoStartTls, Refused, Plain } kind = Works;
  std::vector<std::string> auth{"PLAIN", "LOGIN"};
};

Capabilities ehlo(const std::vector<std::string>& keywords) {
  Reply reply;
  reply.code = 250;
  reply.lines.push_back("mail.test greets you");
  for (const auto& k : keywords) reply.lines.push_back(k);
  return Capabilities::fromEhloReply(reply);
}

struct World {
  std::map<std::string, DnsAnswer> dns;          // "SRV _submissions._tcp.x.test", "MX x.test"
  std::map<std::string, DocumentAnswer> docs;    // by URL; missing: no answer (name not found)
  std::map<std::string, Server> servers;         // "host:port"; missing: the name does not resolve
  std::map<std::string, Duration> delays;        // by the same keys; missing: 10 ms
  std::optional<bool> confirm;                   // the person's answer to ConfirmPlainHttp; unset: never
  std::vector<std::string> asked;                // every request, in order
  std::vector<std::string> cancelled;
  std::vector<std::string> questions;
};

std::string keyOf(const DnsQuery& q) { return std::string(recordTypeName(q.type)) + " " + q.name; }
std::string keyOf(const Candidate& c) { return c.host + ":" + std::to_string(c.port); }

std::vector<Event> probeEvents(const World& w, const Probe& probe) {
  std::vector<Event> events;
  auto it = w.servers.find(keyOf(probe.candidate));
  if (it == w.servers.end()) {
    events.push_back(smtpc::Finished{Error(ErrorCode::HostNotFound, "The name does not resolve.")});
    return events;
  }
  const Server& s = it->second;
  TlsInfo good;
  good.protocol = "TLSv1.3";
  good.verified = true;
  std::vector<std::string> withAuth;
  if (!s.auth.empty()) {
    std::string line = "AUTH";
    for (const auto& m : s.auth) line += " " + m;
    withAuth.push_back(line);
  }
  const bool implicit = probe.params.security == SecurityMode::ImplicitTls;
  switch (s.kind) {
    case Server::Refused:
      events.push_back(smtpc::Finished{Error(ErrorCode::ConnectionRefused, "Nothing listens there.")});
      break;
    case Server::CertificateProblem: {
      TlsInfo bad;
      bad.protocol = "TLSv1.3";
      bad.verificationErrors = {"The certificate is self-signed"};
      if (!implicit) events.push_back(CapabilitiesReceived{ehlo({"STARTTLS"}), false});
      events.push_back(TlsReady{bad});
      events.push_back(smtpc::Finished{Error(ErrorCode::CertificateInvalid, "The certificate is not trusted.")});
      break;
    }
    case Server::NoStartTls:
      events.push_back(CapabilitiesReceived{ehlo(withAuth), false});
      events.push_back(smtpc::Finished{Error(ErrorCode::StartTlsNotOffered, "No STARTTLS.")});
      break;
    case Server::Plain:
      events.push_back(CapabilitiesReceived{ehlo(withAuth), false});
      events.push_back(smtpc::Finished{Error(), Phase::Ehlo});
      break;
    case Server::Works:
      if (!implicit) events.push_back(CapabilitiesReceived{ehlo({"STARTTLS"}), false});
      events.push_back(TlsReady{good});
      events.push_back(CapabilitiesReceived{ehlo(withAuth), true});
      events.push_back(smtpc::Finished{Error(), Phase::Ehlo});
      break;
  }
  return events;
}

// Runs a flow to its end on a virtual clock. Each request is answered after its delay.
struct Run {
  World& world;
  Settings settings;
  std::vector<discovery::Output> seen;
  std::vector<Probe> probes;
  Time now{0};

  Outcome go(std::string_view random = "0123456789abcdef") {
    Flow flow(settings, random, nullptr);
    return drive(flow);
  }

  Outcome drive(Flow& flow) {
    std::multimap<Time, std::function<void()>> agenda;
    std::set<int> cancelledIds;
    auto later = [&](const std::string& key, std::function<void()> f) {
      auto d = world.delays.count(key) ? world.delays.at(key) : Duration(10);
      agenda.emplace(now + d, std::move(f));
    };
    std::map<int, std::string> keys;
    flow.start(now);
    for (int guard = 0; guard < 10000; ++guard) {
      while (auto out = flow.poll()) {
        seen.push_back(*out);
        if (auto* q = std::get_if<DnsQuery>(&*out)) {
          const std::string key = keyOf(*q);
          world.asked.push_back(key);
          keys[q->id] = key;
          DnsAnswer a;
          a.status = DnsStatus::NotFound;
          if (world.dns.count(key)) a = world.dns.at(key);
          const int id = q->id;
          if (world.delays.count(key) && world.delays.at(key) >= 1h) continue;  // never answered
          later(key, [&flow, this, id, a, &cancelledIds] { if (!cancelledIds.count(id)) flow.onDnsAnswer(now, id, a); });
        } else if (auto* g = std::get_if<HttpGet>(&*out)) {
          world.asked.push_back(g->url);
          keys[g->id] = g->url;
          DocumentAnswer a;
          a.error = "the name does not resolve";
          a.nameNotFound = true;
          if (world.docs.count(g->url)) a = world.docs.at(g->url);
          const int id = g->id;
          if (world.delays.count(g->url) && world.delays.at(g->url) >= 1h) continue;
          later(g->url, [&flow, this, id, a, &cancelledIds] { if (!cancelledIds.count(id)) flow.onDocument(now, id, a); });
        } else if (auto* c = std::get_if<ConfirmPlainHttp>(&*out)) {
          world.questions.push_back(c->url);
          if (world.confirm) {
            const int id = c->id;
            const bool yes = *world.confirm;
            agenda.emplace(now + Duration(1), [&flow, this, id, yes] { flow.onConfirmed(now, id, yes); });
          }
        } else if (auto* p = std::get_if<Probe>(&*out)) {
          probes.push_back(*p);
          const std::string key = keyOf(p->candidate);
          world.asked.push_back("probe " + key);
          keys[p->id] = "probe " + key;
          const int id = p->id;
          if (world.delays.count(key) && world.delays.at(key) >= 1h) continue;
          for (const auto& e : probeEvents(world, *p))
            later(key, [&flow, this, id, e, &cancelledIds] { if (!cancelledIds.count(id)) flow.onProbeEvent(now, id, e); });
        } else if (auto* x = std::get_if<Cancel>(&*out)) {
          cancelledIds.insert(x->id);
          world.cancelled.push_back(keys[x->id]);
        }
      }
      if (flow.finished()) return *flow.outcome();
      std::optional<Time> next = flow.nextDeadline();
      if (!agenda.empty() && (!next || agenda.begin()->first <= *next)) {
        auto it = agenda.begin();
        now = std::max(now, it->first);
        auto f = std::move(it->second);
        agenda.erase(it);
        f();
      } else if (next) {
        now = std::max(now, *next);
        flow.onTimeout(now);
      } else {
        break;
      }
    }
    return flow.finished() ? *flow.outcome() : Outcome{};
  }
};

Settings settingsFor(std::string address) {
  Settings s;
  s.address = std::move(address);
  s.ispdbBase = "https://ispdb.test/v1.1/";
  s.plainHttp = PlainHttp::Refuse;
  return s;
}

DocumentAnswer config(std::vector<OutgoingServer> outgoing, std::string name = "Test mail") {
  DocumentAnswer a;
  a.status = 200;
  ClientConfig c;
  c.displayName = std::move(name);
  c.outgoing = std::move(outgoing);
  a.config = c;
  return a;
}

// The host is there but nothing answers on 443.
DocumentAnswer refused() {
  DocumentAnswer a;
  a.error = "connection refused";
  return a;
}

DocumentAnswer notFound() {
  DocumentAnswer a;
  a.status = 404;
  return a;
}

DnsAnswer srv(std::vector<SrvRecord> records) {
  DnsAnswer a;
  a.srv = std::move(records);
  return a;
}

DnsAnswer mx(std::string exchange) {
  DnsAnswer a;
  a.mx = {MxRecord{10, std::move(exchange)}};
  return a;
}

const std::string kAuto = "https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test";

bool hasStep(const std::vector<discovery::Output>& seen, Source source, std::string_view text) {
  for (const auto& o : seen)
    if (auto* s = std::get_if<StepEvent>(&o))
      if (s->step.source == source && (s->step.result.find(text) != std::string::npos ||
                                       s->step.query.find(text) != std::string::npos))
        return true;
  return false;
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += s + "\n";
  return out;
}

}  // namespace

class TestDiscovery : public QObject {
  Q_OBJECT
 private slots:
  void providerTable();
  void autoconfigAlone();
  void autoconfigPlaceholdersAndSeveralServers();
  void wellKnownAlone();
  void ispdbAlone();
  void srvAlone();
  void srvTargetDotMeansNotOffered();
  void mxAtKnownProvider();
  void mxInIspdbWarnsAboutTheOtherDomain();
  void sourcesDisagree();
  void betterSourceWaitedFor();
  void trustedSourceAdoptsAServerAlreadyNamed();
  void failedCandidateFallsThrough();
  void certificateProblemIsNeverChosen();
  void plainSourceUpgradedOrRefused();
  void plainHttpAskedFirst();
  void plainHttpRefusedAndAllowed();
  void nothingExplainsWhatWasTried();
  void lookupTimeouts();
  void probeTimeout();
  void malformedDocument();
  void probesCarryNoCredentials();
  void invalidAddress();
  void jsonShape();
};

void TestDiscovery::providerTable() {
  World w;
  w.servers["smtp.gmail.com:587"] = {};
  Run run{w, settingsFor("someone@googlemail.com")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.host, std::string("smtp.gmail.com"));
  QCOMPARE(o.chosen.source, Source::Provider);
  QCOMPARE(o.chosen.oauthProvider, std::string("google"));
  QVERIFY(o.chosen.authoritative);
  QVERIFY(o.warnings.empty());
  QVERIFY(joined(o.advice).find("app password") != std::string::npos);
  // Decided as soon as the table's server was verified: nothing slower was waited for.
  QVERIFY(run.now < Duration(50));
}

void TestDiscovery::autoconfigAlone() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "%EMAILADDRESS%", {"password-cleartext"}}});
  w.servers["smtp.own.test:465"] = {};
  // SRV is slow: the autoconfig answer does not wait for it.
  w.delays["SRV _submissions._tcp.own.test"] = 5s;
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY2(o.found, o.failure.c_str());
  QCOMPARE(o.chosen.host, std::string("smtp.own.test"));
  QCOMPARE(o.chosen.port, std::uint16_t(465));
  QCOMPARE(o.chosen.security, SecurityMode::ImplicitTls);
  QCOMPARE(o.chosen.source, Source::Autoconfig);
  QCOMPARE(o.chosen.username, std::string("alice@own.test"));
  QVERIFY(o.chosen.authoritative);
  QVERIFY2(o.warnings.empty(), joined(o.warnings).c_str());
  QVERIFY(run.now < 1s);
  QVERIFY(hasStep(run.seen, Source::Probe, "works"));
  QVERIFY(hasStep(run.seen, Source::Decision, "smtp.own.test"));
  // The SRV query still in flight was cancelled.
  QVERIFY(std::count(w.cancelled.begin(), w.cancelled.end(), "SRV _submissions._tcp.own.test") == 1);
}

void TestDiscovery::autoconfigPlaceholdersAndSeveralServers() {
  World w;
  w.docs[kAuto] = config({{"smtp.%EMAILDOMAIN%", "465", "SSL", "%EMAILLOCALPART%", {}},
                          {"smtp2.own.test", "587", "STARTTLS", "%EMAILADDRESS%", {}}});
  w.servers["smtp.own.test:465"] = {Server::Refused};
  w.servers["smtp2.own.test:587"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.host, std::string("smtp2.own.test"));
  QCOMPARE(o.chosen.security, SecurityMode::StartTls);
  QCOMPARE(o.chosen.username, std::string("alice@own.test"));
  QVERIFY2(joined(o.reasons).find("smtp.own.test port 465") != std::string::npos, joined(o.reasons).c_str());
  QCOMPARE(o.tried.front().candidate.host, std::string("smtp2.own.test"));
  QCOMPARE(o.tried[1].verdict, Verdict::Unreachable);
}

void TestDiscovery::wellKnownAlone() {
  World w;
  w.docs["https://own.test/.well-known/autoconfig/mail/config-v1.1.xml"] =
      config({{"mail.own.test", "587", "STARTTLS", "%EMAILADDRESS%", {}}});
  w.docs[kAuto] = notFound();
  w.servers["mail.own.test:587"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.source, Source::WellKnown);
  QVERIFY(o.chosen.authoritative);
}

void TestDiscovery::ispdbAlone() {
  World w;
  w.docs["https://ispdb.test/v1.1/own.test"] = config({{"smtp.own.test", "465", "SSL", "%EMAILADDRESS%", {"OAuth2"}}});
  w.servers["smtp.own.test:465"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.source, Source::Ispdb);
  QVERIFY(!o.chosen.authoritative);
  // Same domain: nothing to warn about, even from a third party.
  QVERIFY(o.warnings.empty());
  QVERIFY(joined(o.advice).find("OAuth 2") != std::string::npos);
}

void TestDiscovery::srvAlone() {
  World w;
  w.dns["SRV _submissions._tcp.srv.test"] = srv({{0, 1, 4650, "mail.srv.test."}});
  w.dns["SRV _submission._tcp.srv.test"] = srv({{10, 1, 5870, "mail.srv.test."}});
  w.servers["mail.srv.test:4650"] = {};
  w.servers["mail.srv.test:5870"] = {};
  Run run{w, settingsFor("bob@srv.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.port, std::uint16_t(4650));
  QCOMPARE(o.chosen.security, SecurityMode::ImplicitTls);
  QCOMPARE(o.chosen.source, Source::Srv);
  QVERIFY(hasStep(run.seen, Source::Srv, "0 1 4650 mail.srv.test"));

  // Priority decides, not the order the answers came in: STARTTLS at priority 0 wins over implicit
  // TLS at 10, however late its answer.
  World v;
  v.dns["SRV _submissions._tcp.srv.test"] = srv({{10, 1, 4650, "mail.srv.test."}});
  v.dns["SRV _submission._tcp.srv.test"] = srv({{0, 1, 5870, "mail.srv.test."}});
  v.delays["SRV _submission._tcp.srv.test"] = 200ms;
  v.servers["mail.srv.test:4650"] = {};
  v.servers["mail.srv.test:5870"] = {};
  Run second{v, settingsFor("bob@srv.test")};
  QCOMPARE(second.go().chosen.port, std::uint16_t(5870));
}

void TestDiscovery::srvTargetDotMeansNotOffered() {
  World w;
  w.dns["SRV _submissions._tcp.dot.test"] = srv({{0, 0, 0, "."}});
  w.dns["SRV _submission._tcp.dot.test"] = srv({{0, 0, 587, "mail.dot.test."}});
  w.servers["mail.dot.test:587"] = {Server::Refused};
  Run run{w, settingsFor("x@dot.test")};
  const Outcome o = run.go();
  QVERIFY(!o.found);
  QVERIFY(hasStep(run.seen, Source::Srv, "does not offer implicit TLS"));
  // The guesses skip what the domain said it does not offer.
  for (const auto& p : run.probes) QVERIFY2(p.candidate.port != 465, p.candidate.host.c_str());
  QVERIFY(std::find(w.asked.begin(), w.asked.end(), "probe smtp.dot.test:587") != w.asked.end());
}

void TestDiscovery::mxAtKnownProvider() {
  World w;
  w.dns["MX contoso.test"] = mx("contoso-test.mail.protection.outlook.com.");
  w.servers["smtp.office365.com:587"] = {};
  Run run{w, settingsFor("ceo@contoso.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.host, std::string("smtp.office365.com"));
  QVERIFY(o.chosen.viaMx);
  QCOMPARE(o.chosen.mxDomain, std::string("outlook.com"));
  QCOMPARE(o.chosen.oauthProvider, std::string("microsoft"));
  QVERIFY(hasStep(run.seen, Source::Mx, "outlook.com"));
  // From SMTPc's own table, so no spoofing warning for the host; the MX answer itself is DNS.
  QVERIFY(o.chosen.authoritative);
  QVERIFY(joined(o.advice).find("--oauth microsoft") != std::string::npos);
}

void TestDiscovery::mxInIspdbWarnsAboutTheOtherDomain() {
  World w;
  w.dns["MX hosted.test"] = mx("mx1.mailhost.test.");
  w.docs["https://ispdb.test/v1.1/mailhost.test"] =
      config({{"smtp.mailhost.test", "465", "SSL", "%EMAILADDRESS%", {"OAuth2"}}});
  w.servers["smtp.mailhost.test:465"] = {};
  Run run{w, settingsFor("carol@hosted.test")};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.host, std::string("smtp.mailhost.test"));
  QCOMPARE(o.chosen.source, Source::Ispdb);
  QVERIFY(o.chosen.viaMx);
  QCOMPARE(o.warnings.size(), std::size_t(1));
  QVERIFY(o.warnings[0].find("not in hosted.test's domain") != std::string::npos);
  // The MX host's own autoconfig was asked too.
  QVERIFY(std::find(w.asked.begin(), w.asked.end(),
                    "https://autoconfig.mailhost.test/mail/config-v1.1.xml?emailaddress=carol%40hosted.test") !=
          w.asked.end());
}

void TestDiscovery::sourcesDisagree() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "", {}}});
  w.dns["SRV _submissions._tcp.own.test"] = srv({{0, 1, 465, "evil.attacker.test."}});
  w.servers["smtp.own.test:465"] = {};
  w.servers["evil.attacker.test:465"] = {};
  w.delays[kAuto] = 300ms;  // the forged SRV answer comes first
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QCOMPARE(o.chosen.host, std::string("smtp.own.test"));
  QCOMPARE(o.disagreements.size(), std::size_t(1));
  QVERIFY2(o.disagreements[0].find("evil.attacker.test") != std::string::npos, o.disagreements[0].c_str());
  QVERIFY(o.warnings.empty());
}

void TestDiscovery::betterSourceWaitedFor() {
  // SRV's server works at once, but the autoconfig (a better source) is still out: wait for it.
  World w;
  w.dns["SRV _submissions._tcp.own.test"] = srv({{0, 1, 465, "mail.own.test."}});
  w.docs[kAuto] = config({{"smtp.own.test", "587", "STARTTLS", "", {}}});
  w.delays[kAuto] = 2s;
  w.servers["mail.own.test:465"] = {};
  w.servers["smtp.own.test:587"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QCOMPARE(o.chosen.host, std::string("smtp.own.test"));
  QVERIFY(run.now >= 2s);
}

void TestDiscovery::trustedSourceAdoptsAServerAlreadyNamed() {
  // SRV answers first and names both servers; the domain's autoconfig names the same two, in
  // another order, later. They count as the autoconfig's (its order, its user name, its trust),
  // are probed once each, and the same servers in another order are no disagreement.
  World w;
  w.dns["SRV _submissions._tcp.own.test"] = srv({{0, 1, 465, "smtp.own.test."}});
  w.dns["SRV _submission._tcp.own.test"] = srv({{10, 1, 587, "smtp.own.test."}});
  w.docs[kAuto] = config({{"smtp.own.test", "587", "STARTTLS", "%EMAILLOCALPART%", {}},
                          {"smtp.own.test", "465", "SSL", "%EMAILLOCALPART%", {}}});
  w.delays[kAuto] = 200ms;
  w.servers["smtp.own.test:465"] = {};
  w.servers["smtp.own.test:587"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QCOMPARE(o.chosen.source, Source::Autoconfig);
  QCOMPARE(o.chosen.port, std::uint16_t(587));
  QCOMPARE(o.chosen.username, std::string("alice"));
  QVERIFY(o.chosen.authoritative);
  QCOMPARE(o.chosen.alsoFrom, std::vector<std::string>{"DNS SRV"});
  QCOMPARE(run.probes.size(), std::size_t(2));
  QVERIFY2(o.disagreements.empty(), joined(o.disagreements).c_str());
}

void TestDiscovery::failedCandidateFallsThrough() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "587", "STARTTLS", "", {}}});
  w.servers["smtp.own.test:587"] = {Server::NoStartTls};
  w.dns["SRV _submissions._tcp.own.test"] = srv({{0, 1, 465, "mail.own.test."}});
  w.servers["mail.own.test:465"] = {};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QCOMPARE(o.chosen.host, std::string("mail.own.test"));
  QCOMPARE(o.tried[1].verdict, Verdict::NoStartTls);
  QVERIFY(joined(o.reasons).find("clear text") != std::string::npos);
}

void TestDiscovery::certificateProblemIsNeverChosen() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "", {}}});
  w.servers["smtp.own.test:465"] = {Server::CertificateProblem};
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY(!o.found);
  QVERIFY2(o.failure.find("self-signed") != std::string::npos, o.failure.c_str());
  QCOMPARE(o.tried.front().verdict, Verdict::CertificateProblem);
}

void TestDiscovery::plainSourceUpgradedOrRefused() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "587", "plain", "", {}}});
  w.servers["smtp.own.test:587"] = {Server::Plain};
  Run run{w, settingsFor("alice@own.test")};
  Outcome o = run.go();
  QVERIFY(!o.found);  // never a server where a login would be clear text
  QVERIFY(!run.probes.empty());
  QCOMPARE(run.probes[0].params.security, SecurityMode::StartTlsIfOffered);
  QCOMPARE(o.tried.front().verdict, Verdict::NoTls);

  World v;
  v.docs[kAuto] = config({{"smtp.own.test", "587", "plain", "", {}}});
  v.servers["smtp.own.test:587"] = {};  // offers STARTTLS after all
  Run second{v, settingsFor("alice@own.test")};
  o = second.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.security, SecurityMode::StartTls);
}

void TestDiscovery::plainHttpAskedFirst() {
  const std::string http = "http://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test";
  World w;
  w.docs[kAuto] = refused();
  w.docs[http] = config({{"smtp.own.test", "587", "STARTTLS", "", {}}});
  w.servers["smtp.own.test:587"] = {};
  w.confirm = true;
  Settings s = settingsFor("alice@own.test");
  s.plainHttp = PlainHttp::Ask;
  Run run{w, s};
  const Outcome o = run.go();
  QCOMPARE(w.questions.size(), std::size_t(1));
  QVERIFY(o.found);
  QVERIFY(!o.chosen.authoritative);
  QVERIFY(joined(o.warnings).find("plain HTTP") != std::string::npos);

  // Said no: never fetched, and the guesses come instead.
  World v;
  v.docs[kAuto] = refused();
  v.docs[http] = config({{"smtp.own.test", "587", "STARTTLS", "", {}}});
  v.confirm = false;
  Run second{v, s};
  QVERIFY(!second.go().found);
  QVERIFY(std::find(v.asked.begin(), v.asked.end(), http) == v.asked.end());

  // An HTTPS answer (even a 404) means the host is there: plain HTTP is not asked about.
  World x;
  x.docs[kAuto] = notFound();
  x.confirm = true;
  Run third{x, s};
  third.go();
  QVERIFY(x.questions.empty());

  // Nor when the name does not resolve: there is no server to ask over plain HTTP either.
  World y;
  y.confirm = true;
  Run fourth{y, s};
  fourth.go();
  QVERIFY(y.questions.empty());
}

void TestDiscovery::plainHttpRefusedAndAllowed() {
  const std::string http = "http://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=alice%40own.test";
  World w;
  w.docs[kAuto] = refused();
  w.docs[http] = config({{"relay.own.test", "587", "STARTTLS", "", {}}});
  w.servers["relay.own.test:587"] = {};
  Run run{w, settingsFor("alice@own.test")};  // Refuse
  QVERIFY(!run.go().found);
  QVERIFY(std::find(w.asked.begin(), w.asked.end(), http) == w.asked.end());
  QVERIFY(hasStep(run.seen, Source::Autoconfig, "not fetched"));

  Settings s = settingsFor("alice@own.test");
  s.plainHttp = PlainHttp::Allow;
  World v = w;
  v.asked.clear();
  Run second{v, s};
  QVERIFY(second.go().found);
  QVERIFY(v.questions.empty());
}

void TestDiscovery::nothingExplainsWhatWasTried() {
  World w;
  w.dns["MX empty.test"] = DnsAnswer{};  // NODATA
  Run run{w, settingsFor("dave@empty.test")};
  const Outcome o = run.go();
  QVERIFY(!o.found);
  for (const char* part : {"Provider table", "autoconfig.empty.test", ".well-known", "ispdb.test", "_submissions",
                           "MX empty.test", "smtp.empty.test port 465", "mail.empty.test port 587"})
    QVERIFY2(o.failure.find(part) != std::string::npos, (std::string(part) + " missing: " + o.failure).c_str());
  QVERIFY2(o.failure.find("..") == std::string::npos, o.failure.c_str());  // details ending in "." joined cleanly
  QCOMPARE(run.probes.size(), std::size_t(4));  // the four guesses
  QVERIFY(hasStep(run.seen, Source::Guess, "smtp.empty.test"));
}

void TestDiscovery::lookupTimeouts() {
  World w;
  w.delays[kAuto] = 2h;  // never answers
  w.dns["SRV _submissions._tcp.own.test"] = srv({{0, 1, 465, "mail.own.test."}});
  w.servers["mail.own.test:465"] = {};
  Settings s = settingsFor("alice@own.test");
  s.lookupTimeout = 3s;
  Run run{w, s};
  const Outcome o = run.go();
  QVERIFY(o.found);
  QCOMPARE(o.chosen.host, std::string("mail.own.test"));
  QVERIFY(run.now >= 3s && run.now < 4s);
  QVERIFY(hasStep(run.seen, Source::Autoconfig, "no answer within 3 s"));
  QVERIFY(std::count(w.cancelled.begin(), w.cancelled.end(), kAuto) == 1);
}

void TestDiscovery::probeTimeout() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "", {}}, {"smtp.own.test", "587", "STARTTLS", "", {}}});
  w.delays["smtp.own.test:465"] = 2h;  // a server that never answers
  w.servers["smtp.own.test:465"] = {};
  w.servers["smtp.own.test:587"] = {};
  Settings s = settingsFor("alice@own.test");
  s.probeTimeout = 5s;
  Run run{w, s};
  const Outcome o = run.go();
  QCOMPARE(o.chosen.port, std::uint16_t(587));
  QVERIFY(run.now >= 5s);
  QCOMPARE(o.tried[1].verdict, Verdict::Unreachable);
  QVERIFY(std::count(w.cancelled.begin(), w.cancelled.end(), "probe smtp.own.test:465") == 1);
}

void TestDiscovery::malformedDocument() {
  World w;
  DocumentAnswer broken;
  broken.status = 200;
  broken.error = "not XML: unexpected end of document";
  w.docs[kAuto] = broken;
  DocumentAnswer entity;
  entity.status = 200;
  entity.error = "a DOCTYPE (entities) is refused";
  w.docs["https://own.test/.well-known/autoconfig/mail/config-v1.1.xml"] = entity;
  w.docs["https://ispdb.test/v1.1/own.test"] = config({{"smtp .own.test", "x", "SSL", "", {}}});
  Run run{w, settingsFor("alice@own.test")};
  const Outcome o = run.go();
  QVERIFY(!o.found);
  QVERIFY(hasStep(run.seen, Source::Autoconfig, "not XML"));
  QVERIFY(hasStep(run.seen, Source::WellKnown, "DOCTYPE"));
  QVERIFY(hasStep(run.seen, Source::Ispdb, "no outgoing (SMTP) server"));
}

void TestDiscovery::probesCarryNoCredentials() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "", {}}});
  w.servers["smtp.own.test:465"] = {};
  Settings s = settingsFor("alice@own.test");
  s.tls.acceptInvalidCertificate = true;  // a switch discovery must not carry over
  s.tls.caCertificatesPem = "PEM";
  Run run{w, s};
  run.go();
  QVERIFY(!run.probes.empty());
  for (const auto& p : run.probes) {
    QVERIFY(p.params.credentials.username.empty());
    QCOMPARE(p.params.quitAfter, Phase::Ehlo);
    QVERIFY(p.params.tls.verifyPeer);
    QVERIFY(!p.params.tls.acceptInvalidCertificate);
    QCOMPARE(p.params.tls.caCertificatesPem, std::string("PEM"));
  }
}

void TestDiscovery::invalidAddress() {
  World w;
  Run run{w, settingsFor("not an address")};
  const Outcome o = run.go();
  QVERIFY(!o.found);
  QVERIFY(w.asked.empty());
  QVERIFY(!o.failure.empty());
}

void TestDiscovery::jsonShape() {
  World w;
  w.docs[kAuto] = config({{"smtp.own.test", "465", "SSL", "%EMAILADDRESS%", {}}});
  w.servers["smtp.own.test:465"] = {};
  Settings s = settingsFor("alice@own.test");
  Flow flow(s, "r", nullptr);
  Run run{w, s};
  const Outcome o = run.drive(flow);
  const std::string json = toJson("alice@own.test", o, flow.steps());
  QVERIFY2(json.find("\"settings\":{\"host\":\"smtp.own.test\",\"port\":465,\"security\":\"tls\"}") != std::string::npos,
           json.c_str());
  QVERIFY(json.find("\"steps\":[{\"source\":\"provider\",\"query\":\"own.test\"") != std::string::npos);
  QVERIFY(json.find("\"source\":\"probe\"") != std::string::npos);
  QVERIFY(json.find("\"ms\":") != std::string::npos);
}

QTEST_APPLESS_MAIN(TestDiscovery)
#include "tst_discovery.moc"
