/// \file
/// The relay protocol between the page's transport (wasm/src/websocket_transport.cpp) and
/// smtpc-proxy (proxy/): where the page connects, what it names in the query, and every close
/// code the proxy answers with: its name, its meaning and the words a person is shown.
/// DESIGN.md, "Browser path". Adding a close code is one row of SMTPC_RELAY_CLOSE_CODES.
///
/// ```
///   ws(s)://<relay>/smtp?host=<server>&port=<port>[&token=<secret>]
/// ```
///
/// Binary frames only; the relay passes bytes as they are. RFC 6455 §7.4.1 registers 1000-1015
/// (used here with their registered meanings); §7.4.2 leaves 4000-4999 to applications: ours.
///
/// Header-only data and small inline functions, standard library only: smtpc-proxy includes it
/// without linking core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtpc/error.h"

/// The relay protocol between the page's transport and smtpc-proxy: paths, query names, the
/// lookup endpoint and the close codes.
namespace smtpc::relay {

/// The WebSocket endpoint: ws(s)://RELAY/smtp?host=SERVER&port=PORT.
inline constexpr std::string_view kPath = "/smtp";
inline constexpr std::string_view kHostParameter = "host";    ///< the SMTP server's name or address
inline constexpr std::string_view kPortParameter = "port";    ///< its port
inline constexpr std::string_view kTokenParameter = "token";  ///< smtpc-proxy --token-file

/// The lookup endpoint (smtpc-proxy --lookup; off by default, and then a 404): the DNS answers and
/// autoconfig documents settings discovery needs (smtpc/discovery.h), for a page, which can make no
/// DNS query and cannot read most autoconfig hosts (they send no CORS headers). A plain GET:
///
/// ```
///   http(s)://<relay>/lookup?type=srv&name=_submissions._tcp.DOMAIN      (or _submission._tcp.)
///   http(s)://<relay>/lookup?type=mx&name=DOMAIN
///   http(s)://<relay>/lookup?type=autoconfig&domain=DOMAIN&address=ADDRESS[&scheme=http]
///       GET https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS
///   http(s)://<relay>/lookup?type=well-known&domain=DOMAIN[&scheme=http]
///       GET https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml
///   http(s)://<relay>/lookup?type=ispdb&domain=DOMAIN
///       GET <the relay's --ispdb base>DOMAIN
///   each with &token=SECRET when the relay asks for one, as for kPath.
/// ```
///
/// DOMAIN: letters, digits and hyphens (xn-- for an IDN), two labels or more, never an IP address.
/// The relay builds every URL from these patterns only, and fetches from public addresses only
/// (unless its operator allowed the host with --allow-private). The answer is JSON with a "status":
/// ```
///   200 {"status":"ok","srv":[{"priority":0,"weight":1,"port":465,"target":"mail.example"}]}
///         (target "." : the service is not offered, RFC 2782)
///   200 {"status":"ok","mx":[{"preference":10,"exchange":"mx1.example"}]}    (NODATA: [])
///   200 {"status":"ok","http":200,"url":"https://…","body":"<?xml …"}
///         (another HTTP status: "body":""; a 3xx is not followed, its Location is in "error")
///   200 {"status":"nxdomain"|"failed"|"timeout"|"too-large"|"refused","error":"…"[,"url":"…"]}
///   400 bad-request, 403 refused (Origin or token), 429 rate-limited ("retryAfter": seconds), 503 busy
/// ```
/// "error" is one sentence a person can be shown. A page from an origin the relay does not allow
/// gets no Access-Control-Allow-Origin, so it cannot read any of it.
inline constexpr std::string_view kLookupPath = "/lookup";
inline constexpr std::string_view kLookupTypeParameter = "type";        ///< what to look up (kLookupSrv, ...)
inline constexpr std::string_view kLookupNameParameter = "name";        ///< srv, mx
inline constexpr std::string_view kLookupDomainParameter = "domain";    ///< autoconfig, well-known, ispdb
inline constexpr std::string_view kLookupAddressParameter = "address";  ///< autoconfig
inline constexpr std::string_view kLookupSchemeParameter = "scheme";    ///< autoconfig, well-known
inline constexpr std::string_view kLookupPlainHttp = "http";            ///< the only value of scheme=

// The values of type=.
inline constexpr std::string_view kLookupSrv = "srv";                ///< DNS SRV records of name=
inline constexpr std::string_view kLookupMx = "mx";                  ///< DNS MX records of name=
inline constexpr std::string_view kLookupAutoconfig = "autoconfig";  ///< the domain's autoconfig document
inline constexpr std::string_view kLookupWellKnown = "well-known";   ///< the domain's well-known autoconfig
inline constexpr std::string_view kLookupIspdb = "ispdb";            ///< the ISPDB's document for the domain
/// The only SRV names asked for (RFC 8314 §5.1, RFC 6186 §3.1): each followed by DOMAIN.
inline constexpr std::string_view kSrvSubmissions = "_submissions._tcp.";  ///< implicit TLS (RFC 8314)
inline constexpr std::string_view kSrvSubmission = "_submission._tcp.";    ///< STARTTLS (RFC 6186)

// The values of "status" in the answer.
inline constexpr std::string_view kLookupOk = "ok";                     ///< an answer (records, or a document)
inline constexpr std::string_view kLookupNxDomain = "nxdomain";         ///< the name does not exist
inline constexpr std::string_view kLookupFailed = "failed";             ///< no usable answer; "error" says why
inline constexpr std::string_view kLookupTimeout = "timeout";           ///< no answer in time
inline constexpr std::string_view kLookupTooLarge = "too-large";        ///< over kLookupMaxDocumentBytes
inline constexpr std::string_view kLookupRefused = "refused";           ///< refused: private address, Origin, token
inline constexpr std::string_view kLookupBadRequest = "bad-request";    ///< the query is not one of the patterns (400)
inline constexpr std::string_view kLookupRateLimited = "rate-limited";  ///< too many lookups (429)
inline constexpr std::string_view kLookupBusy = "busy";                 ///< too many at once (503)
/// The largest document the relay passes on; a larger one is "too-large".
inline constexpr std::size_t kLookupMaxDocumentBytes = 64 * 1024;

/// X(name, code, pageError, reason, meaning, words)
/// ```
///   pageError  the smtpc::ErrorCode the page reports; None: not an error of its own (the
///              engine judges a server's hang-up by where the conversation stood)
///   reason     what the proxy writes in the close frame when it has nothing more precise
///   meaning    one line for --help and the docs
///   words      what a person is shown; {server} is "HOST port N", {host} the server's name, and
///              {said} " (the proxy said: REASON)" or nothing when the frame had no reason
/// ```
#define SMTPC_RELAY_CLOSE_CODES(X)                                                                          \
  X(ServerClosed, 1000, None, "server closed the connection", "the SMTP server closed the TCP connection", \
    "The server closed the connection{said}.")                                                            \
  X(ShuttingDown, 1001, ConnectionLost, "proxy shutting down", "the proxy is shutting down",               \
    "The proxy is shutting down{said}.")                                                                  \
  X(TextFrame, 1003, ConnectionLost, "binary frames only", "a text frame arrived (binary frames only)",     \
    "The proxy accepts binary frames only{said}.")                                                        \
  X(NotAllowed, 1008, ConnectFailed, "not allowed",                                                       \
    "destination not on the allowlist, Origin refused, token missing or wrong, or not /smtp",             \
    "The proxy refused to connect to {server}{said}: only servers on its allowlist (and pages from "      \
    "allowed origins) may use it. Ask its operator, or run your own smtpc-proxy.")                        \
  X(TooBig, 1009, ConnectionLost, "over the size limit", "a frame or a buffer over the limit",            \
    "The proxy's buffer limit was exceeded{said}.")                                                       \
  X(ConnectFailed, 1011, ConnectFailed, "could not connect to the destination",                           \
    "could not connect to the destination", "The proxy could not connect to {server}{said}.")             \
  X(OverCapacity, 1013, ConnectFailed, "over capacity", "over capacity (in total or for this client)",    \
    "The proxy is over capacity (too many connections){said}; try again in a moment.")                    \
  X(DnsFailed, 4001, HostNotFound, "DNS lookup failed", "the destination's name did not resolve",         \
    "The proxy could not resolve \"{host}\"{said}: check the spelling of the server name.")               \
  X(Refused, 4002, ConnectionRefused, "connection refused", "the destination refused the connection",     \
    "Nothing accepts connections on {server}{said}: check the port number and that the server runs.")     \
  X(ConnectTimeout, 4003, ConnectFailed, "connect timeout", "no answer from the destination in time",     \
    "No answer from {server} within the proxy's connect timeout{said}: something drops the packets on "   \
    "the way (port 25 is often blocked).")                                                                \
  X(IdleTimeout, 4004, Timeout, "idle timeout", "no traffic either way for too long",                     \
    "The proxy closed the connection after it was idle too long{said}.")

/// Unscoped on purpose: a close code is a number on the wire, and the proxy passes it as one.
enum CloseCode : std::uint16_t {
#define SMTPC_X(name, code, pageError, reason, meaning, words) name = code,
  SMTPC_RELAY_CLOSE_CODES(SMTPC_X)
#undef SMTPC_X
};

/// RFC 6455 §7.4.1: 1000 is "normal closure"; the page closes with it when it is done.
inline constexpr CloseCode kNormalClosure = ServerClosed;

/// A row of #SMTPC_RELAY_CLOSE_CODES (see the columns there).
struct CloseCodeInfo {
  CloseCode code;            ///< the number on the wire
  std::string_view name;     ///< "DnsFailed"
  ErrorCode pageError;       ///< what the page reports
  std::string_view reason;   ///< the close frame's default reason
  std::string_view meaning;  ///< one line for --help and the docs
  std::string_view words;    ///< what a person is shown, with {placeholders}
};

/// Every row of #SMTPC_RELAY_CLOSE_CODES.
inline constexpr CloseCodeInfo kCloseCodes[] = {
#define SMTPC_X(name, code, pageError, reason, meaning, words) {name, #name, ErrorCode::pageError, reason, meaning, words},
    SMTPC_RELAY_CLOSE_CODES(SMTPC_X)
#undef SMTPC_X
};

/// The row for `code`, or null for a code the relay does not send (1006 comes from the browser).
constexpr const CloseCodeInfo* closeCodeInfo(int code) {
  for (const CloseCodeInfo& info : kCloseCodes)
    if (info.code == code) return &info;
  return nullptr;
}

/// What the page says when the WebSocket closes without a code of the relay's: before it opened
/// (the relay is not there), or after (the connection broke). {relay} is the relay's address,
/// {code} the WebSocket close code.
inline constexpr std::string_view kUnreachableWords =
    "The proxy at {relay} could not be reached: check its address and that smtpc-proxy runs.";
/// What the page says when the connection to the relay broke after it opened.
inline constexpr std::string_view kLostWords = "The connection to the proxy was lost (WebSocket code {code}){said}.";

/// RFC 3986 §2.3's unreserved characters stay, and `keep` (":[]" for an IPv6 host); the rest is %XX.
inline std::string percentEncode(std::string_view text, std::string_view keep = {}) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

/// The request target the page asks for: /smtp?host=…&port=…, and &token=… when there is one.
inline std::string requestTarget(std::string_view host, std::uint16_t port, std::string_view token = {}) {
  std::string target(kPath);
  target += '?';
  target += kHostParameter;
  target += '=' + percentEncode(host, ":[]") + '&';
  target += kPortParameter;
  target += '=' + std::to_string(port);
  if (!token.empty()) {
    target += '&';
    target += kTokenParameter;
    target += '=' + percentEncode(token);
  }
  return target;
}

/// Where the page stood when the WebSocket closed.
struct CloseContext {
  std::string_view host;      ///< the SMTP server the page asked the relay for
  std::uint16_t port = 0;     ///< its port
  std::string_view relayUrl;  ///< the relay's address as the person gave it
  bool opened = false;        ///< the WebSocket had opened
};

/// `words` with its {placeholders} filled in; an unknown one stays as written.
inline std::string fillWords(std::string_view words, const CloseContext& context, int code, std::string_view reason) {
  std::string out;
  while (!words.empty()) {
    const std::size_t start = words.find('{');
    const std::size_t end = start == std::string_view::npos ? start : words.find('}', start);
    if (end == std::string_view::npos) break;
    out += words.substr(0, start);
    const std::string_view key = words.substr(start + 1, end - start - 1);
    if (key == "server") out += std::string(context.host) + " port " + std::to_string(context.port);
    else if (key == "host") out += context.host;
    else if (key == "said") out += reason.empty() ? std::string() : " (the proxy said: " + std::string(reason) + ")";
    else if (key == "relay") out += context.relayUrl;
    else if (key == "code") out += std::to_string(code);
    else out += words.substr(start, end - start + 1);
    words.remove_prefix(end + 1);
  }
  out += words;
  return out;
}

/// What the page reports for a close with `code` and the frame's `reason`: no error for a
/// server's hang-up (ServerClosed), the row's words for the relay's codes, and otherwise the
/// relay unreachable (never opened) or the connection lost.
inline Error closeError(int code, std::string_view reason, const CloseContext& context) {
  if (const CloseCodeInfo* info = closeCodeInfo(code)) {
    if (info->pageError == ErrorCode::None) return {};
    return Error(info->pageError, fillWords(info->words, context, code, reason));
  }
  if (!context.opened) return Error(ErrorCode::ConnectFailed, fillWords(kUnreachableWords, context, code, reason));
  return Error(ErrorCode::ConnectionLost, fillWords(kLostWords, context, code, reason));
}

}  // namespace smtpc::relay
