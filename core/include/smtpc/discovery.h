/// \file
/// smtpc::discovery — from an e-mail address to verified submission settings, with the reasoning
/// shown (DESIGN.md "Beyond SMTP", issue 15). A sans-I/O flow like the SMTP engine and the OAuth
/// sign-in: it never opens a socket, resolves a name, reads a clock or parses XML.
///
/// Consulted in this order, each recorded as a Step (source, query, result, time taken):
/// ```
///   1. the built-in provider table (smtpc/presets.h), by the address's domain;
///   2. the domain's own autoconfig (Thunderbird's format, "config-v1.1.xml"):
///        https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS
///        https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml
///      and, only after the person agrees, the first of them over plain HTTP;
///   3. the ISPDB (https://autoconfig.thunderbird.net/v1.1/DOMAIN; the base is a setting);
///   4. DNS SRV (RFC 6186 §3.1, RFC 8314 §5.1): _submissions._tcp.DOMAIN (implicit TLS) and
///      _submission._tcp.DOMAIN (STARTTLS); priority and weight as RFC 2782 says; target "." means
///      the service is deliberately not offered;
///   5. MX: the registrable domain of the MX host (Public Suffix List) looked up in the provider
///      table, its autoconfig and the ISPDB — how a domain hosted by Microsoft 365 or Google
///      Workspace is recognised;
///   6. guesses, only when nothing above named a server that works: smtp.DOMAIN and mail.DOMAIN
///      on 465 (implicit TLS) and 587 (STARTTLS).
/// ```
/// The lookups of 1-5 run side by side; then every server named is *probed*, a few at a time, up
/// to EHLO with no credentials (TLS verified, STARTTLS offered, AUTH mechanisms), and the best is
/// chosen: verified TLS (implicit, or required STARTTLS) from the most trusted source first; port 25
/// only for relaying; never a server where a login would go in clear text.
///
/// ```
///   discovery::Flow flow(settings, randomBytes, &publicSuffixes);
///   flow.start(now);
///   loop: while (auto out = flow.poll()) carry out *out:
///     DnsQuery         look the name up (this DNS server, or the system's); answer onDnsAnswer
///     HttpGet          GET the URL (no redirects followed, at most maxBytes, no cookies); parse the
///                      XML into a ClientConfig with the platform's parser, refusing a DOCTYPE
///                      (entities) outright; answer onDocument
///     ConfirmPlainHttp ask the person; answer onConfirmed
///     Probe            run an SMTP session with `params` (the adapter may connect to an address
///                      it resolved, with params.tls.verifyName kept as the host); give every event
///                      of it to onProbeEvent, the last being smtpc::Finished
///     Cancel           stop that lookup or probe; no answer is expected any more
///     StepEvent        show it: one line of the discovery transcript
///     Finished         the Outcome
///   call onTimeout(now) when nextDeadline() has come. cancel(now) ends it at any time.
/// ```
///
/// Discovery never sends a credential: probes stop after EHLO and carry no Credentials.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/public_suffix.h"
#include "smtpc/session.h"
#include "smtpc/transcript.h"

/// Settings discovery: from an e-mail address to verified submission settings, as a sans-I/O
/// flow (Flow) with its reasoning shown.
namespace smtpc::discovery {

// ---------------------------------------------------------------------------------------------
/// Sources, in the order consulted. X(kind, name, label, what it is)
/// ```
///   name   the "source" of a step in `smtpc --discover --json`
/// ```
#define SMTPC_DISCOVERY_SOURCES(X)                                                                               \
  X(Provider, "provider", "Provider table",                                                                      \
    "SMTPc's own table of the settings the big providers document.")                                            \
  X(Autoconfig, "autoconfig", "Autoconfig",                                                                     \
    "The domain's own answer, from https://autoconfig.DOMAIN/ (Thunderbird's config-v1.1.xml format).")          \
  X(WellKnown, "well-known", "Autoconfig (well-known)",                                                         \
    "The domain's own answer, from https://DOMAIN/.well-known/autoconfig/.")                                      \
  X(Ispdb, "ispdb", "ISPDB",                                                                                    \
    "Thunderbird's database of providers' settings, kept by Mozilla: a third party, over HTTPS.")                \
  X(Srv, "srv", "DNS SRV",                                                                                      \
    "Service records (RFC 6186, RFC 8314): _submissions._tcp for implicit TLS, _submission._tcp for STARTTLS.") \
  X(Mx, "mx", "DNS MX",                                                                                         \
    "Who receives the domain's mail: a domain hosted by a big provider names that provider's servers.")         \
  X(Guess, "guess", "Guess", "Common names (smtp.DOMAIN, mail.DOMAIN) on the submission ports 465 and 587.")    \
  X(Probe, "probe", "Probe", "A connection up to EHLO, without credentials: TLS verified? STARTTLS? AUTH?")     \
  X(Decision, "decision", "Decision", "Which server is best, and why.")

/// Where a server's name came from: one value per row of #SMTPC_DISCOVERY_SOURCES.
enum class Source {
#define SMTPC_X(kind, name, label, what) kind,
  SMTPC_DISCOVERY_SOURCES(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view sourceName(Source source);   ///< "well-known"
SMTPC_CORE_EXPORT std::string_view sourceLabel(Source source);  ///< "Autoconfig (well-known)"
SMTPC_CORE_EXPORT std::string_view sourceWhat(Source source);   ///< one sentence

/// The security mode as `--json` names it: "tls", "starttls" or "none".
SMTPC_CORE_EXPORT std::string_view securityJsonName(SecurityMode mode);

// ---------------------------------------------------------------------------------------------
// Settings

/// Whether the autoconfig may be fetched over plain HTTP.
enum class PlainHttp {
  Ask,     ///< ConfirmPlainHttp when the HTTPS autoconfig could not be fetched
  Refuse,  ///< never (a step says it was not tried)
  Allow,   ///< the person said so beforehand (--allow-http-autoconfig)
};

/// What discovery looks for, and how.
struct Settings {
  std::string address;  ///< "alice@example.org"
  /// The ISPDB's base: DOMAIN is appended. Must be https:// (a test may use its own mirror).
  std::string ispdbBase = "https://autoconfig.thunderbird.net/v1.1/";
  PlainHttp plainHttp = PlainHttp::Ask;  ///< whether plain HTTP may be tried
  /// For the probes: extra trusted CAs (--ca-file), the EHLO name. verifyPeer stays on.
  TlsConfig tls;
  std::string ehloName;  ///< empty: the default
  bool probe = true;       ///< false: only look up and rank by source (nothing is connected to)
  int parallelProbes = 3;  ///< probes in flight at once
  Duration lookupTimeout = std::chrono::seconds(10);  ///< each DNS query and HTTP GET
  Duration probeTimeout = std::chrono::seconds(15);   ///< each probe, connect to EHLO
  std::size_t maxDocumentBytes = 64 * 1024;           ///< an autoconfig document larger is refused
};

// ---------------------------------------------------------------------------------------------
// Requests and answers

/// The DNS record types discovery asks for.
enum class RecordType {
  Srv,  ///< SRV (RFC 2782)
  Mx    ///< MX (RFC 5321 §5.1)
};
SMTPC_CORE_EXPORT std::string_view recordTypeName(RecordType type);  ///< "SRV", "MX"

/// Request: look up a name; answer with Flow::onDnsAnswer().
struct DnsQuery {
  int id = 0;                         ///< names the answer
  RecordType type = RecordType::Srv;  ///< SRV or MX
  std::string name;                   ///< "_submissions._tcp.example.org", "example.org"
};

/// One SRV record (RFC 2782).
struct SrvRecord {
  std::uint16_t priority = 0;  ///< lower first
  std::uint16_t weight = 0;    ///< share within a priority
  std::uint16_t port = 0;      ///< the service's port
  std::string target;          ///< "." : the service is not offered (RFC 2782)
};
/// One MX record.
struct MxRecord {
  std::uint16_t preference = 0;  ///< lower first
  std::string exchange;          ///< the mail host
};

/// How a DNS query went.
enum class DnsStatus {
  Ok,        ///< records (possibly none of the type asked: NODATA)
  NotFound,  ///< NXDOMAIN: the name does not exist
  Failed,    ///< no usable answer (SERVFAIL, refused, unreachable, malformed)
};
/// The adapter's answer to a DnsQuery.
struct DnsAnswer {
  DnsStatus status = DnsStatus::Ok;  ///< how it went
  std::vector<SrvRecord> srv;        ///< for an SRV query
  std::vector<MxRecord> mx;          ///< for an MX query
  std::string error;                 ///< Failed: why, in the adapter's words
};

/// Which autoconfig document an HttpGet fetches.
enum class DocumentKind {
  Autoconfig,  ///< https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS
  WellKnown,   ///< https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml
  Ispdb        ///< the ISPDB's document for DOMAIN
};

/// Request: GET an autoconfig document; answer with Flow::onDocument().
struct HttpGet {
  int id = 0;  ///< names the answer
  DocumentKind kind = DocumentKind::Autoconfig;  ///< which document
  std::string domain;   ///< whose document (the address's domain, or the MX host's)
  std::string address;  ///< the address (Autoconfig's emailaddress=)
  std::string url;      ///< what to GET; the page's relay builds the same URL from kind + domain
  bool plainHttp = false;  ///< http:// (only after the person agreed)
  std::size_t maxBytes = 0;  ///< a larger document is refused
};

/// An `<outgoingServer type="smtp">` of a clientConfig document, as text (the adapter's parser
/// reads the elements; core checks and substitutes them).
struct OutgoingServer {
  std::string hostname;                     ///< `<hostname>`
  std::string port;                         ///< `<port>`, as written
  std::string socketType;                   ///< "SSL", "STARTTLS", "plain"
  std::string username;                     ///< "%EMAILADDRESS%", "%EMAILLOCALPART%", …
  std::vector<std::string> authentication;  ///< "password-cleartext", "OAuth2", …
};
/// A clientConfig document (Thunderbird's config-v1.1.xml), as far as discovery reads it.
struct ClientConfig {
  std::string providerId;                ///< `<emailProvider id="…">`
  std::string displayName;               ///< `<displayName>`
  std::vector<std::string> domains;      ///< the `<domain>`s it covers
  std::vector<OutgoingServer> outgoing;  ///< in document order
};

/// The adapter's answer to an HttpGet.
struct DocumentAnswer {
  /// 0: no HTTP answer at all (name not found, refused, TLS failed, timed out): see `error`.
  int status = 0;
  /// Set when status is 200 and the body parsed as a clientConfig document.
  std::optional<ClientConfig> config;
  /// The host's name did not resolve: there is no server to ask, over HTTPS or plain HTTP.
  bool nameNotFound = false;
  /// Why there is no config: "connection refused", "the certificate is not trusted: …",
  /// "larger than 65536 bytes", "not XML: …", "a DOCTYPE (entities) is refused", "redirected to …".
  std::string error;
};

/// Request: ask the person whether to fetch the autoconfig over plain HTTP; answer with
/// Flow::onConfirmed().
struct ConfirmPlainHttp {
  int id = 0;            ///< names the answer
  std::string url;       ///< the http:// address it would fetch
  std::string question;  ///< one paragraph: what plain HTTP means here
};

/// A server some source named.
struct Candidate {
  std::string host;                                ///< the server
  std::uint16_t port = 0;                          ///< its port
  SecurityMode security = SecurityMode::StartTls;  ///< ImplicitTls, StartTls or None
  Source source = Source::Guess;                   ///< who named it
  bool viaMx = false;                              ///< found through the domain's MX host
  std::string mxDomain;                            ///< that MX host's registrable domain
  std::string from;                                ///< where exactly: the URL, the SRV name, the table row
  /// Came over HTTPS from the address's own domain, or from SMTPc's table: a DNS spoofer could
  /// not have chosen it.
  bool authoritative = false;
  std::string username;                     ///< the login name the source suggests (placeholders substituted)
  std::vector<std::string> authentication;  ///< the source's words ("password-cleartext", "OAuth2")
  std::string providerNote;                 ///< the provider's login rules (app password, OAuth 2)
  std::string oauthProvider;                ///< "microsoft", "google" or empty
  std::vector<std::string> alsoFrom;        ///< other sources that named the same server
};
SMTPC_CORE_EXPORT std::string describe(const Candidate& candidate);  ///< "smtp.example.org port 465 (implicit TLS)"

/// Request: run an SMTP session up to EHLO, without credentials; give its events to
/// Flow::onProbeEvent().
struct Probe {
  int id = 0;            ///< names the events
  Candidate candidate;   ///< what is probed
  ConnectParams params;  ///< no credentials; quitAfter Ehlo; timeouts from Settings
};

/// Request: stop the lookup or probe `id`; no answer is expected any more.
struct Cancel {
  int id = 0;  ///< the request to stop
};

/// One line of the discovery transcript.
struct Step {
  Source source = Source::Provider;  ///< who was asked
  std::string query;                 ///< what was asked, where: "SRV _submissions._tcp.example.org", a URL
  std::string result;                ///< what came back, in words
  bool found = false;                ///< it named a server (or, for a probe: the server works)
  Duration took{0};                  ///< from asking to the answer
  Time at{0};                        ///< when the answer came
};
/// Event: a line of the discovery transcript.
struct StepEvent {
  Step step;  ///< the line
};

/// What a probe found out.
enum class Verdict {
  Works,               ///< TLS verified (implicit, or STARTTLS), EHLO answered
  NotTried,            ///< a better server was already found, or probing is off
  Unreachable,         ///< the name did not resolve, nothing listens, no answer in time
  CertificateProblem,  ///< TLS, but the certificate did not verify (the reasons are in `detail`)
  NoStartTls,          ///< a STARTTLS server that does not offer STARTTLS: a login would be clear text
  NoTls,               ///< the source said "plain": a login would be clear text
  Failed,              ///< any other failure (greeting refused, TLS handshake failed, …)
};
SMTPC_CORE_EXPORT std::string_view verdictName(Verdict verdict);  ///< "works", "not-tried", …

/// A candidate, and what its probe found.
struct Tried {
  Candidate candidate;                      ///< the server
  Verdict verdict = Verdict::NotTried;      ///< what the probe found
  std::string detail;                       ///< in words
  std::vector<std::string> authMechanisms;  ///< AUTH offered after TLS
  std::string tlsProtocol;                  ///< "TLSv1.3"
  Duration took{0};                         ///< how long the probe took
};

/// Discovery's result, with its reasoning.
struct Outcome {
  bool found = false;                      ///< a server was chosen
  Candidate chosen;                        ///< the server, when found
  std::string decidedBy;                   ///< "The domain's autoconfig (https://…) named it, and it works."
  std::vector<std::string> reasons;        ///< why this one: rank, what was better or worse
  std::vector<std::string> warnings;       ///< another domain from an unauthenticated source, port 25, …
  std::vector<std::string> advice;         ///< what the provider wants: app password, OAuth 2
  std::vector<std::string> disagreements;  ///< sources that named different servers
  std::vector<Tried> tried;                ///< every candidate, best first
  std::string failure;                     ///< not found: what was tried, in a paragraph
};

/// Event: discovery is over.
struct Finished {
  Outcome outcome;  ///< the result
};

/// What Flow::poll() hands out: a request for the adapter, or an event to show.
using Output = std::variant<DnsQuery, HttpGet, ConfirmPlainHttp, Probe, Cancel, StepEvent, Finished>;

// ---------------------------------------------------------------------------------------------
// Building blocks, public so tests (and learners) can check them.

/// The domain of an address ("Alice <alice@Example.ORG>" is not an address: "alice@Example.ORG"
/// → "example.org"), or nullopt with `why` when the address is not one.
SMTPC_CORE_EXPORT std::optional<std::string> addressDomain(std::string_view address, std::string* why);

/// Thunderbird's placeholders: %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%.
SMTPC_CORE_EXPORT std::string substitute(std::string_view text, std::string_view address);

/// The URL of a document (Settings for the ISPDB base).
SMTPC_CORE_EXPORT std::string documentUrl(DocumentKind kind, std::string_view domain, std::string_view address,
                                          std::string_view ispdbBase, bool plainHttp = false);

/// RFC 2782's order: by priority, then weighted random selection within a priority (weight-0
/// records first among their priority, as the RFC says). `random` gives one value per pick.
SMTPC_CORE_EXPORT std::vector<SrvRecord> orderSrv(std::vector<SrvRecord> records,
                                                  const std::function<std::uint32_t()>& random);

/// The candidates a clientConfig names (SMTP servers only, placeholders substituted), or the
/// problems found in it (a bad port, an unknown socketType), one sentence each.
SMTPC_CORE_EXPORT std::vector<Candidate> candidatesFrom(const ClientConfig& config, std::string_view address,
                                                        std::vector<std::string>* problems);

// ---------------------------------------------------------------------------------------------

namespace detail {
struct State;
}

/// Settings discovery, sans I/O: hands out requests as data (poll()) and takes the answers back.
/// See the file's description for the loop an adapter runs; smtpc::qt::Discovery is one.
class SMTPC_CORE_EXPORT Flow {
 public:
  /// `randomBytes` (from the OS's CSPRNG) spread SRV records of equal priority by weight; 64 is
  /// plenty. `suffixes` may be empty (every name's last label is then its suffix) and must outlive
  /// the flow.
  Flow(Settings settings, std::string_view randomBytes, const PublicSuffixList* suffixes);
  ~Flow();
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  /// Begins: the lookups go out at once. An address that is not one ends the flow at once.
  void start(Time now);
  /// Stops: Finished with nothing found ("Discovery was cancelled."), unless it is over.
  void cancel(Time now);

  /// The answer to the DnsQuery `id`.
  void onDnsAnswer(Time now, int id, const DnsAnswer& answer);
  /// The answer to the HttpGet `id`.
  void onDocument(Time now, int id, const DocumentAnswer& answer);
  /// The person's answer to the ConfirmPlainHttp `id`.
  void onConfirmed(Time now, int id, bool yes);
  /// An event of the probe `id`'s session; the last one is smtpc::Finished.
  void onProbeEvent(Time now, int id, const Event& event);
  /// The time nextDeadline() named has come: lookups and probes past their time are given up
  /// (a Cancel for each).
  void onTimeout(Time now);

  /// The next request or event, or nullopt when there is nothing more. Drain it after every call.
  std::optional<Output> poll();
  /// When to call onTimeout(): the earliest deadline of a lookup or probe in flight; nullopt: none.
  std::optional<Time> nextDeadline() const;

  /// Discovery is over: outcome() is set.
  bool finished() const;
  /// The result, once finished.
  const std::optional<Outcome>& outcome() const;
  /// Every step so far: the discovery transcript.
  const std::vector<Step>& steps() const;
  /// The address's domain, lower-cased (empty when the address is not one).
  const std::string& domain() const;

 private:
  std::unique_ptr<detail::State> state_;
};

/// JSON for `smtpc --discover --json` and the page:
/// ```
///   {"address": …, "found": true, "settings": {"host", "port", "security"}, "username": …,
///    "decidedBy": …, "reasons": […], "warnings": […], "advice": […], "disagreements": […],
///    "tried": [{"host","port","security","source","verdict","detail","auth":[…],"ms"}],
///    "steps": [{"source", "query", "result", "ms"}], "failure": …}
/// ```
SMTPC_CORE_EXPORT std::string toJson(std::string_view address, const Outcome& outcome, const std::vector<Step>& steps);

}  // namespace smtpc::discovery
