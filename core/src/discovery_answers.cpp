// The discovery flow's answers (smtpc/discovery.h): DNS SRV and MX, autoconfig documents and
// probes, each turned into candidates and one line of the transcript.
#include <algorithm>

#include "discovery_internal.h"
#include "text.h"

namespace smtpc::discovery::detail {

namespace {

std::string hostOf(std::string_view name) {
  std::string out(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) c = text::toLower(c);
  return out;
}

std::string joined(const std::vector<std::string>& list, std::string_view separator) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string dnsFailure(const DnsAnswer& answer) {
  switch (answer.status) {
    case DnsStatus::NotFound: return "no such name (NXDOMAIN)";
    case DnsStatus::Failed: return "no answer: " + (answer.error.empty() ? std::string("the lookup failed") : answer.error);
    case DnsStatus::Ok: break;
  }
  return "no records";
}

}  // namespace

void State::onSrv(Time now, const Pending& p, const DnsAnswer& answer) {
  const bool implicit = p.domain.rfind("_submissions.", 0) == 0;
  const std::string query = "SRV " + p.domain;
  if (answer.status != DnsStatus::Ok || answer.srv.empty()) {
    record(now, p, Source::Srv, query, dnsFailure(answer), false);
  } else if (answer.srv.size() == 1 && hostOf(answer.srv.front().target).empty()) {
    srvNotOffered[implicit ? 1 : 0] = true;
    record(now, p, Source::Srv, query,
           std::string("target \".\": the domain says it does not offer ") +
               (implicit ? "implicit TLS submission (RFC 2782)" : "STARTTLS submission (RFC 2782)"),
           false);
  } else {
    std::vector<std::string> shown;
    for (const auto& r : answer.srv) {
      if (hostOf(r.target).empty() || r.port == 0) continue;
      srv.emplace_back(r, implicit);
      shown.push_back(std::to_string(r.priority) + " " + std::to_string(r.weight) + " " + std::to_string(r.port) + " " +
                      hostOf(r.target));
    }
    record(now, p, Source::Srv, query, shown.empty() ? "no usable record" : joined(shown, ", "), !shown.empty());
  }
  closeSlot(p.slot);
  if (!slots[static_cast<int>(Slot::Srv)].answered || srv.empty()) return;

  // Both answered: RFC 2782's order within each service, then by priority across the two, implicit
  // TLS first on a tie (RFC 8314 §5.1 prefers it).
  std::vector<SrvRecord> lists[2];
  for (const auto& [record, isImplicit] : srv) lists[isImplicit ? 1 : 0].push_back(record);
  std::vector<std::pair<SrvRecord, bool>> ordered;
  for (int which : {1, 0})
    for (auto& r : orderSrv(lists[which], [this] { return nextRandom(); })) ordered.emplace_back(r, which == 1);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first.priority < b.first.priority; });
  std::vector<Candidate> list;
  for (const auto& [r, isImplicit] : ordered) {
    Candidate c;
    c.host = hostOf(r.target);
    c.port = r.port;
    c.security = isImplicit ? SecurityMode::ImplicitTls : SecurityMode::StartTls;
    c.source = Source::Srv;
    c.from = "SRV " + std::string(isImplicit ? "_submissions._tcp." : "_submission._tcp.") + domain;
    c.username = address;
    list.push_back(std::move(c));
  }
  srv.clear();
  addCandidates(Slot::Srv, std::move(list));
}

void State::onMx(Time now, const Pending& p, const DnsAnswer& answer) {
  const std::string query = "MX " + p.domain;
  closeSlot(p.slot);
  auto nothingMore = [&] {
    slots[static_cast<int>(Slot::MxProvider)].answered = true;
    slots[static_cast<int>(Slot::MxAutoconfig)].answered = true;
    slots[static_cast<int>(Slot::MxIspdb)].answered = true;
  };
  if (answer.status != DnsStatus::Ok || answer.mx.empty()) {
    record(now, p, Source::Mx, query, dnsFailure(answer), false);
    nothingMore();
    return;
  }
  std::vector<MxRecord> records = answer.mx;
  std::stable_sort(records.begin(), records.end(),
                   [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  const std::string host = hostOf(records.front().exchange);
  if (host.empty()) {
    record(now, p, Source::Mx, query, "a null MX (RFC 7505): the domain accepts no mail at all", false);
    nothingMore();
    return;
  }
  const std::string mxDomain = suffixes->registrableDomain(host);
  const std::string ownDomain = suffixes->registrableDomain(domain);
  if (mxDomain.empty() || mxDomain == ownDomain) {
    record(now, p, Source::Mx, query,
           std::to_string(records.front().preference) + " " + host + ": the domain receives its own mail, so its MX "
                                                                    "names no provider",
           false);
    nothingMore();
    return;
  }
  record(now, p, Source::Mx, query,
         std::to_string(records.front().preference) + " " + host + ", in " + mxDomain +
             ": asking about " + mxDomain + " as the domain's mail host",
         true);
  consultTable(now, Slot::MxProvider, mxDomain, true);
  askDocument(now, DocumentKind::Autoconfig, mxDomain, Slot::MxAutoconfig, false);
  askDocument(now, DocumentKind::Ispdb, mxDomain, Slot::MxIspdb, false);
}

void State::onDocument(Time now, const Pending& p, const DocumentAnswer& answer) {
  const Source source = p.docKind == DocumentKind::Ispdb       ? Source::Ispdb
                        : p.docKind == DocumentKind::WellKnown ? Source::WellKnown
                                                               : Source::Autoconfig;
  const std::string query = (p.viaMx ? "(the MX host's domain) " : "") + p.url;
  if (answer.config) {
    std::vector<std::string> problems;
    std::vector<Candidate> list = candidatesFrom(*answer.config, address, &problems);
    std::vector<std::string> shown;
    for (auto& c : list) {
      c.source = source;
      c.from = p.url;
      c.viaMx = p.viaMx;
      c.mxDomain = p.viaMx ? p.domain : std::string();
      // Over HTTPS, from the address's own domain: only its owner (or its certificate's) chose it.
      c.authoritative = source != Source::Ispdb && !p.plainHttp && !p.viaMx;
      shown.push_back(describe(c));
    }
    std::string result = shown.empty() ? "a clientConfig document, but no outgoing (SMTP) server in it"
                                       : "names " + joined(shown, ", ");
    if (!answer.config->displayName.empty()) result = answer.config->displayName + ": " + result;
    if (!problems.empty()) result += " (ignored: " + joined(problems, " ") + ")";
    if (p.plainHttp) result += " — over plain HTTP";
    record(now, p, source, query, result, !list.empty());
    addCandidates(p.slot, std::move(list));
  } else if (answer.status == 404 || answer.status == 410) {
    record(now, p, source, query, "no document (HTTP " + std::to_string(answer.status) + ")", false);
  } else if (answer.status != 0) {
    record(now, p, source, query,
           "HTTP " + std::to_string(answer.status) + (answer.error.empty() ? "" : ": " + answer.error), false);
  } else {
    record(now, p, source, query, answer.error.empty() ? "no answer" : answer.error, false);
  }

  // The domain's own autoconfig host did not answer over HTTPS at all: Thunderbird would try plain
  // HTTP next. Its answer could come from anyone on the path, so only with the person's consent.
  if (p.docKind == DocumentKind::Autoconfig && !p.viaMx && !p.plainHttp && answer.status == 0 && !answer.nameNotFound &&
      !answer.config) {
    const std::string url = documentUrl(DocumentKind::Autoconfig, p.domain, address, settings.ispdbBase, true);
    switch (settings.plainHttp) {
      case PlainHttp::Allow:
        askDocument(now, DocumentKind::Autoconfig, p.domain, Slot::AutoconfigHttp, true);
        break;
      case PlainHttp::Ask: {
        Pending ask;
        ask.kind = Pending::Kind::Confirm;
        ask.slot = Slot::AutoconfigHttp;
        ask.domain = p.domain;
        ask.url = url;
        ask.asked = now;
        ConfirmPlainHttp question;
        question.url = url;
        question.question = "autoconfig." + p.domain +
                            " did not answer over HTTPS. Its settings may be offered over plain HTTP, where anyone "
                            "on the network path could change them and send your login to their own server. "
                            "Fetch " + url + " anyway?";
        question.id = open(std::move(ask));
        queue(std::move(question));
        break;
      }
      case PlainHttp::Refuse:
        note(now, Source::Autoconfig, url, "not fetched: settings over plain HTTP are not used unless you allow it", false);
        break;
    }
  }
  if (p.docKind == DocumentKind::Autoconfig && !p.viaMx && !p.plainHttp)
    slots[static_cast<int>(Slot::AutoconfigHttp)].answered = slots[static_cast<int>(Slot::AutoconfigHttp)].open == 0;
  closeSlot(p.slot);
}

void State::onProbeFinished(Time now, const Pending& p, const Error& error) {
  Entry& e = entries[p.entry];
  e.probing = Entry::Probing::Done;
  Tried& t = e.tried;
  Candidate& c = t.candidate;
  t.took = now - p.asked;
  t.authMechanisms = p.auth;
  const bool tls = p.tls.has_value();
  if (tls) t.tlsProtocol = p.tls->protocol;
  const bool verified = tls && p.tls->verified && !p.tls->acceptedDespiteErrors;
  const std::string auth = p.auth.empty() ? "no AUTH offered" : "AUTH " + joined(p.auth, " ");
  if (!error.isError()) {
    if (verified) {
      t.verdict = Verdict::Works;
      if (c.security == SecurityMode::None) {
        c.security = SecurityMode::StartTls;
        t.detail = "the source said plain, but the server offers STARTTLS: use it; ";
      }
      t.detail += t.tlsProtocol + ", certificate verified; " + auth;
    } else if (c.security == SecurityMode::None) {
      t.verdict = Verdict::NoTls;
      t.detail = "the server offers no STARTTLS: a login would cross the network in clear text; " + auth;
    } else {
      t.verdict = Verdict::Failed;
      t.detail = "the session ended before TLS was verified";
    }
  } else {
    switch (error.code()) {
      case ErrorCode::HostNotFound:
      case ErrorCode::ConnectionRefused:
      case ErrorCode::ConnectFailed:
      case ErrorCode::Timeout:
        t.verdict = Verdict::Unreachable;
        break;
      case ErrorCode::CertificateInvalid:
        t.verdict = Verdict::CertificateProblem;
        break;
      case ErrorCode::StartTlsNotOffered:
        t.verdict = Verdict::NoStartTls;
        break;
      default:
        t.verdict = Verdict::Failed;
    }
    t.detail = t.verdict == Verdict::CertificateProblem && tls && !p.tls->verificationErrors.empty()
                   ? "the certificate is not trusted: " + joined(p.tls->verificationErrors, "; ")
               : t.verdict == Verdict::NoStartTls
                   ? "the server does not offer STARTTLS: a login would cross the network in clear text"
                   : error.explanation();
  }
  record(now, p, Source::Probe, describe(c), std::string(verdictName(t.verdict)) + ": " + t.detail,
         t.verdict == Verdict::Works);
}

}  // namespace smtpc::discovery::detail
