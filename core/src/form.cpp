#include "smtpc/form.h"

#include "smtpc/advice.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace smtpc::form {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string trimmed(std::string_view s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && isSpace(s[begin])) ++begin;
  while (end > begin && isSpace(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

std::optional<Problem> problem(std::string field, std::string headline, std::string explanation) {
  return Problem{std::move(field), std::move(headline), std::move(explanation)};
}

// Adds the mailboxes of one address field to `into`; false (and `out`) on the first bad one.
bool addMailboxes(std::string_view field, std::string_view label, std::string_view text, std::vector<Mailbox>& into,
                  Problem* out) {
  for (const std::string& part : splitAddresses(text)) {
    auto mailbox = Mailbox::parse(part);
    if (!mailbox) {
      *out = Problem{std::string(field), std::string(label) + " is not valid",
                     std::string(label) + " \"" + part + "\": " + mailbox.error().explanation()};
      return false;
    }
    into.push_back(*mailbox);
  }
  return true;
}

}  // namespace

std::optional<ServerText> splitServer(std::string_view text) {
  // The whole rest must be the number, as "587x" is no port (it is then 0, as if none were given).
  const auto number = [](std::string_view digits) {
    int value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return error == std::errc() && end == digits.data() + digits.size() ? value : 0;
  };
  ServerText out;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') out.port = number(rest.substr(1));
    out.host = std::string(text.substr(1, close - 1));
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const std::size_t colon = text.find(':');
    out.port = number(text.substr(colon + 1));
    out.host = std::string(text.substr(0, colon));
  } else {
    out.host = std::string(text);
  }
  return out;
}

std::optional<Problem> checkServer(std::string_view server) {
  const std::string host = trimmed(server);
  if (host.empty()) return problem("server", "No server", "Enter the server's name, for example smtp.example.com.");
  for (char c : host)
    if (isSpace(c) || c == '/' || c == '@')
      return problem("server", "That is not a server name",
                     "Enter only the host name, like smtp.example.com: no spaces, no \"smtp://\", no e-mail address.");
  return std::nullopt;
}

std::vector<std::string> splitAddresses(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  auto flush = [&] {
    std::string part = trimmed(current);
    if (!part.empty()) out.push_back(std::move(part));
    current.clear();
  };
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == ',' || c == ';' || c == '\n')) flush();
    else current += c;
  }
  flush();
  return out;
}

std::optional<std::vector<std::string>> parsePins(std::string_view text, Problem* out) {
  std::vector<std::string> pins;
  std::string current;
  auto flush = [&]() -> bool {
    if (current.empty()) return true;
    if (current.rfind("sha256//", 0) != 0 || current.size() == 8) {
      *out = Problem{"pin", "Pin not understood", "A pinned key looks like sha256//BASE64; copy it from the TLS tab."};
      return false;
    }
    pins.push_back(std::move(current));
    current.clear();
    return true;
  };
  for (char c : text) {
    if (c == ',' || isSpace(c)) {
      if (!flush()) return std::nullopt;
    } else {
      current += c;
    }
  }
  if (!flush()) return std::nullopt;
  return pins;
}

std::string securityHint(SecurityMode mode, std::uint16_t port) {
  if (mode == SecurityMode::ImplicitTls && (port == 25 || port == 587))
    return "Port " + std::to_string(port) + " usually starts in clear text: choose STARTTLS, or port 465.";
  if (mode != SecurityMode::ImplicitTls && port == 465)
    return std::string(advice::kPort465ExpectsTls);
  if (mode == SecurityMode::None) return "Nothing is encrypted: the whole conversation can be read on the way.";
  if (mode == SecurityMode::StartTlsIfOffered)
    return "Unsafe: if STARTTLS is missing (or removed by an attacker), SMTPc goes on in clear text.";
  return {};
}

bool insecureSwitches(bool acceptInvalid, bool allowPlaintext) { return acceptInvalid || allowPlaintext; }

CredentialFields credentialFields(AuthMechanism mechanism) {
  const bool oauth = mechanism == AuthMechanism::XOAuth2 || mechanism == AuthMechanism::OAuthBearer;
  return CredentialFields{!oauth, oauth || mechanism == AuthMechanism::Auto};
}

RunPlan planRun(RunKind kind, std::optional<Phase> chosenStop) {
  RunPlan plan;
  plan.stopAfter = chosenStop.value_or(kind == RunKind::Test ? Phase::Auth : Phase::None);
  plan.needsEnvelope = kind == RunKind::Send || plan.stopAfter == Phase::Mail || plan.stopAfter == Phase::Rcpt;
  plan.quitWhenReady = kind == RunKind::Test && plan.stopAfter == Phase::None;
  return plan;
}

std::optional<ConnectParams> toConnectParams(const ConnectionForm& form, const RunPlan& plan, Problem* out) {
  if (auto bad = checkServer(form.server)) return *out = *bad, std::nullopt;
  ConnectParams params;
  params.host = trimmed(form.server);
  params.port = form.port;
  params.security = form.security;
  params.authMechanism = form.auth;
  params.credentials.username = trimmed(form.username);
  const CredentialFields fields = credentialFields(form.auth);
  if (fields.password && !form.password.empty()) params.credentials.password = Secret(form.password);
  if (fields.token && !form.token.empty()) params.credentials.oauthToken = Secret(form.token);
  if (!params.credentials.username.empty() && params.credentials.password.empty() &&
      params.credentials.oauthToken.empty())
    return *out = Problem{fields.password ? "password" : "token", "No password",
                          "A user name was given but no password (or token). Leave the user name empty to test "
                          "without logging in."},
           std::nullopt;
  params.allowPlaintextAuth = form.allowPlaintext;
  params.useChunking = !form.noChunking;
  params.tls.caCertificatesPem = form.caPem;
  auto pins = parsePins(form.pins, out);
  if (!pins) return std::nullopt;
  params.tls.pinnedSha256 = std::move(*pins);
  params.tls.acceptInvalidCertificate = form.acceptInvalid;
  params.tls.verifyName = trimmed(form.verifyName);
  if (form.clientCertificatePem.empty() != form.clientKeyPem.empty())
    return *out = Problem{"clientCert", "Client certificate incomplete", "Give both the client certificate and its key."},
           std::nullopt;
  params.tls.clientCertificatePem = form.clientCertificatePem;
  params.tls.clientKeyPem = form.clientKeyPem;
  params.ehloName = trimmed(form.ehloName);
  if (form.timeoutSeconds <= 0)
    return *out = Problem{"timeout", "Timeout not understood", "Give the timeout as a number of seconds, for example 30."},
           std::nullopt;
  params.timeouts = Timeouts::uniform(std::chrono::seconds(form.timeoutSeconds));
  params.quitAfter = plan.stopAfter;
  return params;
}

std::optional<DsnRequest> toDsnRequest(const MessageForm& form, Problem* out) {
  DsnRequest dsn;
  const std::string notify = trimmed(form.dsnNotify);
  if (!notify.empty()) {
    auto parsed = DsnNotify::parse(notify);
    if (!parsed)
      return *out = Problem{"dsnNotify", "Delivery reports: not a valid choice", parsed.error().explanation() + "."},
             std::nullopt;
    dsn.notify = *parsed;
  }
  const std::string ret = trimmed(form.dsnRet);
  if (!ret.empty()) {
    auto parsed = parseDsnReturn(ret);
    if (!parsed)
      return *out = Problem{"dsnRet", "Report contents: not a valid choice", parsed.error().explanation() + "."},
             std::nullopt;
    dsn.ret = *parsed;
  }
  dsn.envelopeId = trimmed(form.dsnEnvelopeId);
  dsn.ifNotOffered = form.dsnOptional ? IfDsnNotOffered::SendWithout : IfDsnNotOffered::Refuse;
  if (Error bad = dsn.check(); bad.isError()) {
    std::string why = bad.explanation();
    if (!why.empty()) why[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(why[0])));
    return *out = Problem{"dsnEnvid", "The envelope ID is not valid", why + "."}, std::nullopt;
  }
  return dsn;
}

std::optional<Message> toMessage(const MessageForm& form, Problem* out) {
  Message m;
  auto from = Mailbox::parse(trimmed(form.from));
  if (!from) return *out = Problem{"from", "From is not valid", "From: " + from.error().explanation()}, std::nullopt;
  m.from = *from;
  if (!addMailboxes("to", "To", form.to, m.to, out) || !addMailboxes("cc", "Cc", form.cc, m.cc, out) ||
      !addMailboxes("bcc", "Bcc", form.bcc, m.bcc, out))
    return std::nullopt;
  if (m.to.empty() && m.cc.empty() && m.bcc.empty())
    return *out = Problem{"to", "No recipient", "Give at least one recipient (To, Cc or Bcc)."}, std::nullopt;
  m.subject = form.subject;
  m.text = form.text;
  auto dsn = toDsnRequest(form, out);
  if (!dsn) return std::nullopt;
  m.dsn = std::move(*dsn);
  return m;
}

}  // namespace smtpc::form
