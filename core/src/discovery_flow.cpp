// The discovery flow (smtpc/discovery.h): lookups side by side, candidates probed as soon as they
// are known, and a decision as soon as no source still unanswered could name a better server.
//
// Candidates are ranked by slot (how much the source is trusted), then by their order within the
// source. A working candidate is chosen once every slot before its own has answered and every
// candidate before it has been probed; guesses are made only when no slot named a working server.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>

#include "discovery_internal.h"
#include "smtpc/presets.h"
#include "text.h"

namespace smtpc::discovery {

using namespace detail;

Flow::Flow(Settings settings, std::string_view randomBytes, const PublicSuffixList* suffixes)
    : state_(std::make_unique<detail::State>()) {
  State& s = *state_;
  s.settings = std::move(settings);
  s.random.assign(randomBytes.begin(), randomBytes.end());
  s.suffixes = suffixes ? suffixes : &s.noSuffixes;
}

Flow::~Flow() = default;

bool Flow::finished() const { return state_->outcome.has_value(); }
const std::optional<Outcome>& Flow::outcome() const { return state_->outcome; }
const std::vector<Step>& Flow::steps() const { return state_->steps; }
const std::string& Flow::domain() const { return state_->domain; }

std::optional<Output> Flow::poll() {
  if (state_->out.empty()) return std::nullopt;
  Output next = std::move(state_->out.front());
  state_->out.pop_front();
  return next;
}

std::optional<Time> Flow::nextDeadline() const {
  std::optional<Time> soonest;
  for (const auto& [id, p] : state_->pending)
    if (p.deadline && (!soonest || *p.deadline < *soonest)) soonest = p.deadline;
  return soonest;
}

void Flow::start(Time now) {
  State& s = *state_;
  if (s.started) return;
  s.started = true;
  s.began = now;
  std::string why;
  auto domain = addressDomain(s.settings.address, &why);
  if (!domain) {
    Outcome o;
    o.failure = why;
    s.finish(now, std::move(o));
    return;
  }
  s.domain = *domain;
  s.address = s.settings.address;
  while (!s.address.empty() && s.address.front() == ' ') s.address.erase(0, 1);
  while (!s.address.empty() && s.address.back() == ' ') s.address.pop_back();

  // 1. The provider table: no question to ask anyone.
  s.consultTable(now, Slot::Provider, s.domain, false);
  // 2-5, side by side.
  s.askDocument(now, DocumentKind::Autoconfig, s.domain, Slot::Autoconfig, false);
  s.askDocument(now, DocumentKind::WellKnown, s.domain, Slot::WellKnown, false);
  s.askDocument(now, DocumentKind::Ispdb, s.domain, Slot::Ispdb, false);
  s.askDns(now, RecordType::Srv, "_submissions._tcp." + s.domain, Slot::Srv);
  s.askDns(now, RecordType::Srv, "_submission._tcp." + s.domain, Slot::Srv);
  s.askDns(now, RecordType::Mx, s.domain, Slot::MxProvider);
  s.advance(now);
}

void Flow::cancel(Time now) {
  State& s = *state_;
  if (s.outcome) return;
  Outcome o;
  o.failure = "Discovery was cancelled.";
  s.finish(now, std::move(o));
}

void Flow::onDnsAnswer(Time now, int id, const DnsAnswer& answer) {
  State& s = *state_;
  auto taken = s.take(id, Pending::Kind::Dns);
  if (!taken) return;
  Pending& p = *taken;
  if (p.dnsType == RecordType::Srv) {
    s.onSrv(now, p, answer);
  } else {
    s.onMx(now, p, answer);
  }
  s.advance(now);
}

void Flow::onDocument(Time now, int id, const DocumentAnswer& answer) {
  State& s = *state_;
  auto taken = s.take(id, Pending::Kind::Document);
  if (!taken) return;
  s.onDocument(now, *taken, answer);
  s.advance(now);
}

void Flow::onConfirmed(Time now, int id, bool yes) {
  State& s = *state_;
  auto taken = s.take(id, Pending::Kind::Confirm);
  if (!taken) return;
  Pending& p = *taken;
  if (yes) {
    s.askDocument(now, DocumentKind::Autoconfig, p.domain, Slot::AutoconfigHttp, true);
  } else {
    s.record(now, p, Source::Autoconfig, p.url, "not fetched: you chose not to trust settings sent over plain HTTP",
             false);
  }
  s.closeSlot(p.slot);
  s.advance(now);
}

void Flow::onProbeEvent(Time now, int id, const Event& event) {
  State& s = *state_;
  auto it = s.pending.find(id);
  if (s.outcome || it == s.pending.end() || it->second.kind != Pending::Kind::Probe) return;
  Pending& p = it->second;
  if (const auto* tls = std::get_if<TlsReady>(&event)) {
    p.tls = tls->info;
  } else if (const auto* caps = std::get_if<CapabilitiesReceived>(&event)) {
    p.startTlsOffered = p.startTlsOffered || caps->capabilities.supportsStartTls();
    p.auth = caps->capabilities.authMechanisms();
    p.ehlo = true;
  } else if (const auto* done = std::get_if<smtpc::Finished>(&event)) {
    Pending finished = std::move(p);
    s.pending.erase(it);
    s.onProbeFinished(now, finished, done->error);
    s.advance(now);
  }
}

void Flow::onTimeout(Time now) {
  State& s = *state_;
  if (s.outcome) return;
  std::vector<int> expired;
  for (const auto& [id, p] : s.pending)
    if (p.deadline && *p.deadline <= now) expired.push_back(id);
  for (int id : expired) {
    Pending p = std::move(s.pending[id]);
    s.pending.erase(id);
    s.queue(Cancel{id});
    const std::string waited = std::to_string((now - p.asked).count() / 1000) + " s";
    switch (p.kind) {
      case Pending::Kind::Dns: {
        DnsAnswer none;
        none.status = DnsStatus::Failed;
        none.error = "no answer within " + waited;
        if (p.dnsType == RecordType::Srv) s.onSrv(now, p, none);
        else s.onMx(now, p, none);
        break;
      }
      case Pending::Kind::Document: {
        DocumentAnswer none;
        none.error = "no answer within " + waited;
        s.onDocument(now, p, none);
        break;
      }
      case Pending::Kind::Probe:
        s.onProbeFinished(now, p, Error(ErrorCode::Timeout, "No answer up to EHLO within " + waited + "."));
        break;
      case Pending::Kind::Confirm:
        break;
    }
  }
  s.advance(now);
}

// ---------------------------------------------------------------------------------------------
// State: asking

namespace detail {

void State::queue(Output output) { out.push_back(std::move(output)); }

std::optional<Pending> State::take(int id, Pending::Kind kind) {
  auto it = pending.find(id);
  // An answer after the end, to a request never made or already cancelled, or of another kind.
  if (outcome || it == pending.end() || it->second.kind != kind) return std::nullopt;
  Pending p = std::move(it->second);
  pending.erase(it);
  return p;
}

std::uint32_t State::nextRandom() {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const unsigned char byte = random.empty() ? 0 : static_cast<unsigned char>(random[randomAt++ % random.size()]);
    value = (value << 8) | byte;
  }
  return value;
}

void State::record(Time now, const Pending& p, Source source, std::string query, std::string result, bool found) {
  Step step;
  step.source = source;
  step.query = std::move(query);
  step.result = std::move(result);
  step.found = found;
  step.took = now - p.asked;
  step.at = now;
  steps.push_back(step);
  queue(StepEvent{std::move(step)});
}

void State::note(Time now, Source source, std::string query, std::string result, bool found) {
  Pending none;
  none.asked = now;
  record(now, none, source, std::move(query), std::move(result), found);
}

int State::open(Pending p) {
  const int id = nextId++;
  p.id = id;
  if (p.kind != Pending::Kind::Probe) ++slots[static_cast<int>(p.slot)].open;
  pending.emplace(id, std::move(p));
  return id;
}

void State::consultTable(Time now, Slot slot, const std::string& name, bool viaMx) {
  const Preset* preset = viaMx ? presetForMxDomain(name) : presetForDomain(name);
  const std::string query = viaMx ? "the MX host's domain " + name : name;
  if (!preset) {
    note(now, Source::Provider, query, "not a provider SMTPc knows", false);
    slots[static_cast<int>(slot)].answered = true;
    return;
  }
  Candidate c;
  c.host = std::string(preset->host);
  c.port = preset->port;
  c.security = preset->security;
  c.source = Source::Provider;
  c.viaMx = viaMx;
  c.mxDomain = viaMx ? name : std::string();
  c.from = "SMTPc's table: " + std::string(preset->name);
  c.authoritative = true;
  c.username = address;
  c.providerNote = std::string(preset->note);
  c.oauthProvider = std::string(preset->oauthProvider);
  note(now, Source::Provider, query,
       std::string(preset->name) + (viaMx ? " hosts this domain's mail: " : ": ") + describe(c), true);
  addCandidates(slot, {c});
  slots[static_cast<int>(slot)].answered = true;
}

void State::askDocument(Time now, DocumentKind kind, const std::string& forDomain, Slot slot, bool plainHttp) {
  Pending p;
  p.kind = Pending::Kind::Document;
  p.slot = slot;
  p.docKind = kind;
  p.domain = forDomain;
  p.plainHttp = plainHttp;
  p.viaMx = forDomain != domain;
  p.asked = now;
  p.deadline = now + settings.lookupTimeout;
  p.url = documentUrl(kind, forDomain, address, settings.ispdbBase, plainHttp);
  HttpGet get;
  get.kind = kind;
  get.domain = forDomain;
  get.address = address;
  get.url = p.url;
  get.plainHttp = plainHttp;
  get.maxBytes = settings.maxDocumentBytes;
  get.id = open(std::move(p));
  queue(std::move(get));
}

void State::askDns(Time now, RecordType type, const std::string& name, Slot slot) {
  Pending p;
  p.kind = Pending::Kind::Dns;
  p.slot = slot;
  p.dnsType = type;
  p.domain = name;
  p.asked = now;
  p.deadline = now + settings.lookupTimeout;
  DnsQuery q;
  q.type = type;
  q.name = name;
  q.id = open(std::move(p));
  queue(std::move(q));
}

void State::closeSlot(Slot slot) {
  SlotState& st = slots[static_cast<int>(slot)];
  if (st.open > 0) --st.open;
  if (st.open == 0) st.answered = true;
}

void State::addCandidates(Slot slot, std::vector<Candidate> list) {
  for (auto& c : list) {
    const std::string label = std::string(sourceLabel(c.source)) + (c.viaMx ? " for the MX host's domain " + c.mxDomain : "");
    if (slotLabel[static_cast<int>(slot)].empty()) slotLabel[static_cast<int>(slot)] = label;
    named[static_cast<int>(slot)].push_back(describe(c));
    // The same server named twice (by two sources, or twice by one): probed once, every source noted.
    Entry* same = nullptr;
    for (auto& e : entries)
      if (e.tried.candidate.host == c.host && e.tried.candidate.port == c.port && e.tried.candidate.security == c.security)
        same = &e;
    if (!same) {
      Entry e;
      e.slot = slot;
      e.order = nextOrder++;
      e.tried.candidate = std::move(c);
      e.tried.verdict = Verdict::NotTried;
      entries.push_back(std::move(e));
      continue;
    }
    Candidate& known = same->tried.candidate;
    if (slot < same->slot) {
      // A more trusted source names it too (the domain's own autoconfig after a DNS answer): it
      // now stands where that source puts it, with that source's name, user and trust.
      const std::string before = std::string(sourceLabel(known.source)) +
                                 (known.viaMx ? " for the MX host's domain " + known.mxDomain : "");
      std::vector<std::string> also = std::move(known.alsoFrom);
      also.push_back(before);
      const SecurityMode probedAs = known.security;
      known = std::move(c);
      known.security = probedAs;
      known.alsoFrom = std::move(also);
      same->slot = slot;
      same->order = nextOrder++;
    } else if (std::find(known.alsoFrom.begin(), known.alsoFrom.end(), label) == known.alsoFrom.end() &&
               (known.source != c.source || known.viaMx != c.viaMx)) {
      known.alsoFrom.push_back(label);
    }
  }
}

}  // namespace detail
}  // namespace smtpc::discovery
