// Settings discovery's building blocks (smtpc/discovery.h): names, the address's domain,
// Thunderbird's placeholders, document URLs, RFC 2782's SRV order, a clientConfig's servers and
// the JSON of `smtpc --discover --json`.
#include <algorithm>
#include <cstdio>

#include "smtpc/discovery.h"
#include "smtpc/form.h"
#include "smtpc/relay.h"
#include "text.h"

namespace smtpc::discovery {

namespace {
struct SourceRow {
  std::string_view name, label, what;
};
constexpr SourceRow kSources[] = {
#define SMTPC_X(kind, name, label, what) {name, label, what},
    SMTPC_DISCOVERY_SOURCES(SMTPC_X)
#undef SMTPC_X
};
const SourceRow& row(Source source) { return kSources[static_cast<int>(source)]; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = text::toLower(c);
  return out;
}

void replaceAll(std::string& s, std::string_view what, std::string_view with) {
  for (std::size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += with.size())
    s.replace(at, what.size(), with);
}

void jsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void jsonStrings(std::string& out, const std::vector<std::string>& list) {
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    jsonString(out, list[i]);
  }
  out += ']';
}
}  // namespace

std::string_view sourceName(Source source) { return row(source).name; }
std::string_view sourceLabel(Source source) { return row(source).label; }
std::string_view sourceWhat(Source source) { return row(source).what; }

std::string_view securityJsonName(SecurityMode mode) {
  switch (mode) {
    case SecurityMode::ImplicitTls: return "tls";
    case SecurityMode::StartTls: return "starttls";
    case SecurityMode::StartTlsIfOffered:
    case SecurityMode::None: return "none";
  }
  return "none";
}

std::string_view recordTypeName(RecordType type) { return type == RecordType::Srv ? "SRV" : "MX"; }

std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::Works: return "works";
    case Verdict::NotTried: return "not-tried";
    case Verdict::Unreachable: return "unreachable";
    case Verdict::CertificateProblem: return "certificate-problem";
    case Verdict::NoStartTls: return "no-starttls";
    case Verdict::NoTls: return "no-tls";
    case Verdict::Failed: return "failed";
  }
  return "failed";
}

std::optional<std::string> addressDomain(std::string_view address, std::string* why) {
  auto fail = [&](std::string text) -> std::optional<std::string> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  while (!address.empty() && (address.front() == ' ' || address.front() == '\t')) address.remove_prefix(1);
  while (!address.empty() && (address.back() == ' ' || address.back() == '\t')) address.remove_suffix(1);
  if (address.empty()) return fail("Enter an e-mail address, for example alice@example.org.");
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0)
    return fail("\"" + std::string(address) + "\" is not an e-mail address: it needs a name, an @ and a domain.");
  for (unsigned char c : address)
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == 0x7f)
      return fail("Enter the address alone (alice@example.org), without a name, spaces or angle brackets.");
  std::string domain = lower(address.substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty() || domain.find('.') == std::string::npos || domain.front() == '[')
    return fail("\"" + std::string(address.substr(at + 1)) +
                "\" is not a domain discovery can look up: it needs a name with a dot, like example.org.");
  if (auto problem = form::checkServer(domain))
    return fail("\"" + domain + "\" is not a domain name: " + problem->explanation);
  return domain;
}

std::string substitute(std::string_view text, std::string_view address) {
  const auto at = address.rfind('@');
  const std::string_view local = at == std::string_view::npos ? address : address.substr(0, at);
  const std::string domain = at == std::string_view::npos ? std::string() : lower(address.substr(at + 1));
  std::string out(text);
  replaceAll(out, "%EMAILADDRESS%", address);
  replaceAll(out, "%EMAILLOCALPART%", local);
  replaceAll(out, "%EMAILDOMAIN%", domain);
  return out;
}

std::string documentUrl(DocumentKind kind, std::string_view domain, std::string_view address,
                        std::string_view ispdbBase, bool plainHttp) {
  const std::string scheme = plainHttp ? "http://" : "https://";
  switch (kind) {
    case DocumentKind::Autoconfig:
      return scheme + "autoconfig." + std::string(domain) + "/mail/config-v1.1.xml?emailaddress=" +
             relay::percentEncode(address);
    case DocumentKind::WellKnown:
      return scheme + std::string(domain) + "/.well-known/autoconfig/mail/config-v1.1.xml";
    case DocumentKind::Ispdb: {
      std::string base(ispdbBase);
      if (!base.empty() && base.back() != '/') base += '/';
      return base + std::string(domain);
    }
  }
  return {};
}

std::vector<SrvRecord> orderSrv(std::vector<SrvRecord> records, const std::function<std::uint32_t()>& random) {
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  std::vector<SrvRecord> ordered;
  ordered.reserve(records.size());
  for (std::size_t begin = 0; begin < records.size();) {
    std::size_t end = begin;
    while (end < records.size() && records[end].priority == records[begin].priority) ++end;
    // RFC 2782: the weight-0 records first, then pick with probability weight / total.
    std::vector<SrvRecord> group(records.begin() + static_cast<long>(begin), records.begin() + static_cast<long>(end));
    std::stable_partition(group.begin(), group.end(), [](const SrvRecord& r) { return r.weight == 0; });
    while (!group.empty()) {
      std::uint64_t total = 0;
      for (const auto& r : group) total += r.weight;
      const std::uint64_t pick = total == 0 ? 0 : (random ? random() : 0) % (total + 1);
      std::uint64_t running = 0;
      std::size_t chosen = 0;
      for (std::size_t i = 0; i < group.size(); ++i) {
        running += group[i].weight;
        if (running >= pick) {
          chosen = i;
          break;
        }
      }
      ordered.push_back(group[chosen]);
      group.erase(group.begin() + static_cast<long>(chosen));
    }
    begin = end;
  }
  return ordered;
}

std::vector<Candidate> candidatesFrom(const ClientConfig& config, std::string_view address,
                                      std::vector<std::string>* problems) {
  std::vector<Candidate> out;
  auto problem = [&](std::string text) {
    if (problems) problems->push_back(std::move(text));
  };
  for (const auto& server : config.outgoing) {
    Candidate c;
    c.host = lower(substitute(server.hostname, address));
    while (!c.host.empty() && c.host.back() == '.') c.host.pop_back();
    if (auto bad = form::checkServer(c.host)) {
      problem("An outgoing server's hostname \"" + server.hostname + "\" is not usable: " + bad->explanation);
      continue;
    }
    unsigned long port = 0;
    bool digits = !server.port.empty() && server.port.size() <= 5;
    for (char ch : server.port) {
      if (ch < '0' || ch > '9') digits = false;
      else port = port * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (!digits || port == 0 || port > 65535) {
      problem("The outgoing server " + c.host + " has no usable port (\"" + server.port + "\").");
      continue;
    }
    c.port = static_cast<std::uint16_t>(port);
    if (text::equalsIgnoreCase(server.socketType, "SSL") || text::equalsIgnoreCase(server.socketType, "TLS")) {
      c.security = SecurityMode::ImplicitTls;
    } else if (text::equalsIgnoreCase(server.socketType, "STARTTLS")) {
      c.security = SecurityMode::StartTls;
    } else if (text::equalsIgnoreCase(server.socketType, "plain")) {
      c.security = SecurityMode::None;
    } else {
      problem("The outgoing server " + c.host + " has an unknown socketType \"" + server.socketType +
              "\" (SSL, STARTTLS or plain).");
      continue;
    }
    // No <username>: the address, as every other source suggests (Thunderbird does the same).
    c.username = server.username.empty() ? std::string(address) : substitute(server.username, address);
    c.authentication = server.authentication;
    out.push_back(std::move(c));
  }
  return out;
}

std::string describe(const Candidate& c) {
  std::string mode = c.security == SecurityMode::ImplicitTls ? "implicit TLS"
                     : c.security == SecurityMode::StartTls  ? "STARTTLS"
                                                             : "no TLS";
  return c.host + " port " + std::to_string(c.port) + " (" + mode + ")";
}

std::string toJson(std::string_view address, const Outcome& o, const std::vector<Step>& steps) {
  std::string out = "{\"address\":";
  jsonString(out, address);
  out += ",\"found\":";
  out += o.found ? "true" : "false";
  if (o.found) {
    out += ",\"settings\":{\"host\":";
    jsonString(out, o.chosen.host);
    out += ",\"port\":" + std::to_string(o.chosen.port) + ",\"security\":";
    jsonString(out, securityJsonName(o.chosen.security));
    out += "},\"source\":";
    jsonString(out, sourceName(o.chosen.source));
    out += ",\"username\":";
    jsonString(out, o.chosen.username);
    if (!o.chosen.oauthProvider.empty()) {
      out += ",\"oauthProvider\":";
      jsonString(out, o.chosen.oauthProvider);
    }
    out += ",\"decidedBy\":";
    jsonString(out, o.decidedBy);
  } else {
    out += ",\"failure\":";
    jsonString(out, o.failure);
  }
  out += ",\"reasons\":";
  jsonStrings(out, o.reasons);
  out += ",\"warnings\":";
  jsonStrings(out, o.warnings);
  out += ",\"advice\":";
  jsonStrings(out, o.advice);
  out += ",\"disagreements\":";
  jsonStrings(out, o.disagreements);
  out += ",\"tried\":[";
  for (std::size_t i = 0; i < o.tried.size(); ++i) {
    const Tried& t = o.tried[i];
    if (i) out += ',';
    out += "{\"host\":";
    jsonString(out, t.candidate.host);
    out += ",\"port\":" + std::to_string(t.candidate.port) + ",\"security\":";
    jsonString(out, securityJsonName(t.candidate.security));
    out += ",\"source\":";
    jsonString(out, sourceName(t.candidate.source));
    out += ",\"viaMx\":";
    out += t.candidate.viaMx ? "true" : "false";
    out += ",\"verdict\":";
    jsonString(out, verdictName(t.verdict));
    out += ",\"detail\":";
    jsonString(out, t.detail);
    out += ",\"auth\":";
    jsonStrings(out, t.authMechanisms);
    out += ",\"ms\":" + std::to_string(t.took.count()) + "}";
  }
  out += "],\"steps\":[";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (i) out += ',';
    out += "{\"source\":";
    jsonString(out, sourceName(s.source));
    out += ",\"query\":";
    jsonString(out, s.query);
    out += ",\"result\":";
    jsonString(out, s.result);
    out += ",\"found\":";
    out += s.found ? "true" : "false";
    out += ",\"ms\":" + std::to_string(s.took.count()) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace smtpc::discovery
