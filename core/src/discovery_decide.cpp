// The discovery flow's decisions (smtpc/discovery.h): what to probe next, when the answer is
// known, and the outcome with its reasons, warnings and advice.
#include <algorithm>
#include <set>

#include "discovery_internal.h"
#include "text.h"

namespace smtpc::discovery::detail {

namespace {

bool before(const Entry& a, const Entry& b) {
  return a.slot != b.slot ? a.slot < b.slot : a.order < b.order;
}

std::string sourceOf(const Candidate& c) {
  std::string out(sourceLabel(c.source));
  if (c.viaMx) out += " for the MX host's domain " + c.mxDomain;
  return out;
}

bool mentions(const std::vector<std::string>& list, std::string_view word) {
  for (const auto& item : list)
    if (text::equalsIgnoreCase(item, word)) return true;
  return false;
}

}  // namespace

int rank(const Entry& e) {
  if (e.tried.verdict != Verdict::Works) return 3;
  if (e.tried.candidate.port == 25) return 2;
  return e.tried.authMechanisms.empty() ? 1 : 0;
}

void State::advance(Time now) {
  if (outcome || !started) return;

  // The best working server so far, and whether anything still unknown could beat it.
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (rank(entries[i]) == 3) continue;
    if (!best || rank(entries[i]) < rank(entries[*best]) ||
        (rank(entries[i]) == rank(entries[*best]) && before(entries[i], entries[*best])))
      best = i;
  }

  // Probe what could still matter, best-ranked source first, a few at a time.
  if (settings.probe) {
    std::vector<std::size_t> queued;
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (entries[i].probing == Entry::Probing::Queued && (!best || before(entries[i], entries[*best])))
        queued.push_back(i);
    std::sort(queued.begin(), queued.end(), [this](std::size_t a, std::size_t b) { return before(entries[a], entries[b]); });
    int inFlight = 0;
    for (const auto& e : entries) inFlight += e.probing == Entry::Probing::InFlight ? 1 : 0;
    for (std::size_t i : queued) {
      if (inFlight >= std::max(1, settings.parallelProbes)) break;
      startProbe(now, i);
      ++inFlight;
    }
  }

  auto slotsAnsweredBefore = [this](Slot slot) {
    for (int s = 0; s < static_cast<int>(slot); ++s)
      if (!slots[s].answered) return false;
    return true;
  };
  auto settledBefore = [this](const Entry& e) {
    for (const auto& other : entries)
      if (before(other, e) && other.probing != Entry::Probing::Done) return false;
    return true;
  };

  if (!settings.probe) {
    if (!slotsAnsweredBefore(Slot::Guess)) return;
    std::optional<std::size_t> first;
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (!first || before(entries[i], entries[*first])) first = i;
    if (first) choose(now, *first);
    else giveUp(now);
    return;
  }

  // A server that works and offers a login, with nothing better still possible: done.
  if (best && rank(entries[*best]) == 0 && slotsAnsweredBefore(entries[*best].slot) && settledBefore(entries[*best])) {
    choose(now, *best);
    return;
  }
  // Otherwise wait until every lookup is answered and every probe done.
  for (int s = 0; s < static_cast<int>(Slot::Guess); ++s)
    if (!slots[s].answered) return;
  for (const auto& e : entries)
    if (e.probing != Entry::Probing::Done) return;
  if (best) {
    choose(now, *best);
  } else if (!guessed) {
    makeGuesses(now);
    advance(now);
  } else {
    giveUp(now);
  }
}

void State::startProbe(Time now, std::size_t index) {
  Entry& e = entries[index];
  e.probing = Entry::Probing::InFlight;
  const Candidate& c = e.tried.candidate;
  Pending p;
  p.kind = Pending::Kind::Probe;
  p.slot = e.slot;
  p.entry = index;
  p.asked = now;
  p.deadline = now + settings.probeTimeout;
  Probe probe;
  probe.candidate = c;
  ConnectParams& params = probe.params;
  params.host = c.host;
  params.port = c.port;
  // A server the source calls plain is asked whether it offers STARTTLS after all.
  params.security = c.security == SecurityMode::None ? SecurityMode::StartTlsIfOffered : c.security;
  params.tls = settings.tls;
  params.tls.verifyPeer = true;
  params.tls.acceptInvalidCertificate = false;
  params.tls.trustCallback = nullptr;
  params.ehloName = settings.ehloName;
  params.quitAfter = Phase::Ehlo;
  params.credentials = {};  // discovery never sends a credential
  params.timeouts.connect = settings.probeTimeout;
  params.timeouts.tlsHandshake = settings.probeTimeout;
  params.timeouts.greeting = settings.probeTimeout;
  params.timeouts.command = settings.probeTimeout;
  params.timeouts.quit = std::min<Duration>(settings.probeTimeout, std::chrono::seconds(5));
  probe.id = open(std::move(p));
  queue(std::move(probe));
}

void State::makeGuesses(Time now) {
  guessed = true;
  std::vector<Candidate> list;
  std::vector<std::string> shown;
  for (const char* prefix : {"smtp.", "mail."}) {
    for (const bool implicit : {true, false}) {
      if (srvNotOffered[implicit ? 1 : 0]) continue;
      Candidate c;
      c.host = prefix + domain;
      c.port = implicit ? 465 : 587;
      c.security = implicit ? SecurityMode::ImplicitTls : SecurityMode::StartTls;
      c.source = Source::Guess;
      c.from = "a guess";
      c.username = address;
      shown.push_back(describe(c));
      list.push_back(std::move(c));
    }
  }
  note(now, Source::Guess, domain,
       list.empty() ? "nothing to guess: the domain's SRV records say it offers no submission"
                    : "no source named a server that works; trying " +
                          [&] {
                            std::string all;
                            for (const auto& s : shown) all += (all.empty() ? "" : ", ") + s;
                            return all;
                          }(),
       !list.empty());
  addCandidates(Slot::Guess, std::move(list));
  slots[static_cast<int>(Slot::Guess)].answered = true;
}

void State::choose(Time now, std::size_t index) {
  Outcome o;
  o.found = true;
  const Entry& chosen = entries[index];
  o.chosen = chosen.tried.candidate;
  const Candidate& c = o.chosen;
  const bool verified = chosen.tried.verdict == Verdict::Works;

  o.decidedBy = sourceOf(c) + " (" + c.from + ") named " + describe(c) +
                (verified ? ", and a probe verified it." : "; it was not probed.");
  if (verified) {
    o.reasons.push_back(c.security == SecurityMode::ImplicitTls
                            ? "Implicit TLS (RFC 8314): encrypted from the first byte, with a verified certificate (" +
                                  chosen.tried.tlsProtocol + ")."
                            : "STARTTLS, required (RFC 3207): the connection is upgraded before anything secret is "
                              "sent, with a verified certificate (" + chosen.tried.tlsProtocol + ").");
    o.reasons.push_back(chosen.tried.authMechanisms.empty()
                            ? std::string("It offers no login (AUTH) after TLS.")
                            : "It offers a login after TLS: AUTH " + [&] {
                                std::string all;
                                for (const auto& m : chosen.tried.authMechanisms) all += (all.empty() ? "" : " ") + m;
                                return all;
                              }() + ".");
  }
  if (!c.alsoFrom.empty()) {
    std::string others;
    for (const auto& s : c.alsoFrom) others += (others.empty() ? "" : ", ") + s;
    o.reasons.push_back("Also named by: " + others + ".");
  }
  for (const auto& e : entries) {
    if (!before(e, chosen) || e.tried.verdict == Verdict::Works) continue;
    o.reasons.push_back(describe(e.tried.candidate) + ", from " + sourceOf(e.tried.candidate) +
                        ", came first but did not work: " + e.tried.detail);
  }

  // Where a DNS spoofer would send a login: another domain, from an answer anyone could forge.
  const std::string ownDomain = suffixes->registrableDomain(domain);
  const std::string hostDomain = suffixes->registrableDomain(c.host);
  if (!c.authoritative && hostDomain != ownDomain) {
    o.warnings.push_back(c.host + " is not in " + domain + "'s domain, and it came from " + sourceOf(c) +
                         ", not over HTTPS from " + domain + " itself. Anyone who can forge DNS answers (or, for the "
                         "ISPDB, its maintainers) could have chosen it to collect your login: check that " +
                         (hostDomain.empty() ? c.host : hostDomain) + " really handles " + domain +
                         "'s mail before you log in.");
  }
  if (c.source == Source::Autoconfig && c.from.rfind("http://", 0) == 0)
    o.warnings.push_back("These settings came over plain HTTP, which anyone on the network path could have changed.");
  if (c.port == 25)
    o.warnings.push_back("Port 25 is for relaying between mail servers; many networks block it, and providers "
                         "expect people to submit mail on 465 or 587.");
  if (verified && chosen.tried.authMechanisms.empty())
    o.warnings.push_back("The server offered no login (AUTH): it may accept mail only from its own network.");

  if (!c.username.empty()) o.advice.push_back("Log in as " + c.username + ".");
  if (!c.providerNote.empty()) o.advice.push_back(c.providerNote);
  if (!c.oauthProvider.empty())
    o.advice.push_back("This provider signs in with OAuth 2: use \"Sign in…\" (smtpc --oauth " + c.oauthProvider + ").");
  else if (mentions(c.authentication, "OAuth2"))
    o.advice.push_back("The source says this server accepts OAuth 2 sign-in (XOAUTH2 / OAUTHBEARER).");
  if (mentions(c.authentication, "password-cleartext"))
    o.advice.push_back("It takes your password as it is (AUTH PLAIN or LOGIN): TLS is what protects it.");

  // Sources that named different servers (the same ones in another order is no disagreement).
  std::vector<std::string> lists;
  std::vector<std::string> firstSet;
  bool differ = false;
  for (int s = 0; s < kSlots; ++s) {
    if (named[s].empty()) continue;
    std::vector<std::string> set = named[s];
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    if (lists.empty()) firstSet = set;
    else if (set != firstSet) differ = true;
    std::string all;
    for (const auto& n : named[s]) all += (all.empty() ? "" : ", ") + n;
    lists.push_back(slotLabel[s] + " names " + all);
  }
  if (differ) {
    std::string all;
    for (const auto& l : lists) all += (all.empty() ? "" : "; ") + l;
    o.disagreements.push_back("The sources disagree: " + all + ".");
  }

  std::vector<const Entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return rank(*a) != rank(*b) ? rank(*a) < rank(*b) : before(*a, *b);
  });
  for (const Entry* e : order) {
    Tried t = e->tried;
    if (t.verdict == Verdict::NotTried && t.detail.empty())
      t.detail = settings.probe ? "not needed: a better server was found first" : "probing is off";
    o.tried.push_back(std::move(t));
  }
  note(now, Source::Decision, describe(c), o.decidedBy, true);
  finish(now, std::move(o));
}

void State::giveUp(Time now) {
  Outcome o;
  std::string asked;
  for (const auto& s : steps) {
    if (s.source == Source::Probe || s.source == Source::Decision) continue;
    std::string result = s.result;
    while (!result.empty() && result.back() == '.') result.pop_back();
    asked += (asked.empty() ? "" : "; ") + std::string(sourceLabel(s.source)) + " " + s.query + ": " + result;
  }
  std::string probes;
  for (const auto& e : entries) {
    std::string detail = e.tried.detail;
    while (!detail.empty() && detail.back() == '.') detail.pop_back();
    probes += (probes.empty() ? "" : "; ") + describe(e.tried.candidate) + ": " + detail;
  }
  o.failure = "SMTPc found no working submission server for " + domain + ". Asked: " + asked + "." +
              (probes.empty() ? std::string() : " Tried: " + probes + ".") +
              " Ask the provider for the server's name, port and security mode (its help pages usually say), "
              "then enter them yourself.";
  for (const auto& e : entries) o.tried.push_back(e.tried);
  note(now, Source::Decision, domain, "nothing found", false);
  finish(now, std::move(o));
}

void State::finish(Time now, Outcome result) {
  (void)now;
  for (const auto& [id, p] : pending) queue(Cancel{id});
  pending.clear();
  outcome = result;
  queue(Finished{std::move(result)});
}

}  // namespace smtpc::discovery::detail
