// The form's fields as a table, remembered passwords' accounts, and a link's proposals
// (smtpc/form.h). The page's app.js only reads and writes DOM fields named by this table.
#include <cctype>

#include "smtpc/form.h"
#include "smtpc/oauth.h"
#include "smtpc/relay.h"
#include "smtpc/sasl.h"
#include "smtpc/step.h"

namespace smtpc::form {

namespace {

using K = FieldKind;

// Adding a field is one row here (and its widget in the desktop app and index.html).
const std::vector<Field> kFields = {
    // Settings discovery (smtpc/discovery.h) starts from it; a link may not propose it.
    {"emailAddress", "E-mail address", K::Text, true, ""},
    {"proxy", "Relay (smtpc-proxy)", K::Text, true, "proxy"},
    {"server", "Server", K::Text, true, "server"},
    {"port", "Port", K::Number, true, "port"},
    {"security", "Security", K::Choice, true, "security"},
    {"auth", "Login method", K::Choice, true, ""},
    {"username", "User name", K::Text, true, "user"},
    {"password", "Password", K::Secret, false, ""},
    {"token", "OAuth token", K::Secret, false, ""},
    // OAuth 2 sign-in (smtpc/oauth.h). A link may propose none of them: a link that chose the
    // issuer would choose the page a person types their password into.
    {"oauthProvider", "Sign in with", K::Choice, true, ""},
    {"clientId", "Client ID", K::Text, true, ""},
    {"oauthIssuer", "Issuer URL", K::Text, true, ""},
    {"tenant", "Tenant", K::Text, true, ""},
    {"caPem", "Extra CA (PEM)", K::Pem, false, "ca"},
    {"pin", "Pinned key", K::Text, true, "pin"},
    {"clientCert", "Client certificate", K::Pem, false, ""},
    {"clientKey", "Client key", K::Pem, false, ""},
    // Never remembered: "accept an invalid certificate" and "allow the password without TLS"
    // are chosen again each time.
    {"acceptInvalid", "Accept an invalid certificate", K::Check, false, "acceptInvalid"},
    {"allowPlaintext", "Allow sending the password without TLS", K::Check, false, ""},
    {"ehlo", "EHLO name", K::Text, true, ""},
    {"timeout", "Timeout per step (s)", K::Number, true, ""},
    {"noChunking", "Send with DATA even if the server offers CHUNKING (BDAT)", K::Check, false, ""},
    {"stopAfter", "Test stops after", K::Choice, true, ""},
    {"from", "From", K::Text, true, ""},
    {"to", "To", K::Text, true, ""},
    {"cc", "Cc", K::Text, false, ""},
    {"bcc", "Bcc", K::Text, false, ""},
    {"subject", "Subject", K::Text, false, ""},
    {"body", "Text", K::Text, false, ""},
    // Delivery reports (DSN, RFC 3461): the composer's advanced part, chosen per message.
    {"dsnNotify", "Delivery reports", K::Choice, false, ""},
    {"dsnRet", "Reports return", K::Choice, false, ""},
    {"dsnEnvid", "Envelope ID (ENVID)", K::Text, false, ""},
    {"dsnOptional", "Send without reports if the server cannot send them", K::Check, false, ""},
};

std::string trimmed(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string get(const Values& values, std::string_view id) {
  const auto it = values.find(id);
  return it == values.end() ? std::string() : it->second;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool linkSaysYes(std::string_view value) {
  const std::string v = lowered(value);
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

// How a value is shown in the link panel.
std::string shown(const Field& field, const std::string& value) {
  if (field.kind == K::Check) return value.empty() ? "off" : "on";
  if (field.kind == K::Choice)
    for (const auto& choice : choices(field.id))
      if (choice.value == value) return choice.text;
  return value.empty() ? "(empty)" : value;
}

std::string shortened(const std::string& text) {
  return text.size() > 60 ? text.substr(0, 57) + "…" : text;
}

}  // namespace

const std::vector<Field>& fields() { return kFields; }

const Field* findField(std::string_view id) {
  for (const auto& field : kFields)
    if (field.id == id) return &field;
  return nullptr;
}

std::vector<Choice> choices(std::string_view fieldId) {
  std::vector<Choice> out;
  if (fieldId == "security") {
    out = {{std::string(securityModeName(SecurityMode::StartTls)), "STARTTLS (required)"},
           {std::string(securityModeName(SecurityMode::ImplicitTls)), "Implicit TLS (SMTPS)"},
           {std::string(securityModeName(SecurityMode::StartTlsIfOffered)), "STARTTLS if offered — unsafe"},
           {std::string(securityModeName(SecurityMode::None)), "None — clear text, unsafe"}};
  } else if (fieldId == "auth") {
    out.push_back({std::string(mechanismName(AuthMechanism::Auto)), "Auto (best both sides know)"});
    for (auto m : allMechanisms()) out.push_back({std::string(mechanismName(m)), std::string(mechanismName(m))});
  } else if (fieldId == "oauthProvider") {
    for (auto kind : {oauth::ProviderKind::Microsoft, oauth::ProviderKind::Google, oauth::ProviderKind::Custom})
      out.push_back({std::string(oauth::provider(kind).name), std::string(oauth::provider(kind).label)});
  } else if (fieldId == "stopAfter") {
    // AUTH first: it is what "Test" stops after unless the person chooses otherwise.
    const std::pair<Phase, Step> stops[] = {{Phase::Auth, Step::Auth},         {Phase::Ehlo, Step::Ehlo},
                                            {Phase::Tls, Step::TlsHandshake}, {Phase::Connect, Step::Greeting},
                                            {Phase::Mail, Step::Mail},         {Phase::Rcpt, Step::Rcpt}};
    for (const auto& [phase, step] : stops) out.push_back({std::string(phaseName(phase)), std::string(stepLabel(step))});
    out.push_back({std::string(phaseName(Phase::None)), "Don't stop (QUIT when ready)"});
  } else if (fieldId == "dsnNotify") {
    // NOTIFY (RFC 3461 §4.1); the CLI takes any combination as text, DsnNotify::parse reads both.
    out = {{"", "Server's default (on failure)"},
           {"success,failure", "On delivery and on failure"},
           {"success,failure,delay", "On delivery, failure and delay"},
           {"success", "On delivery only"},
           {"failure", "On failure only"},
           {"failure,delay", "On failure and delay"},
           {"never", "Never, not even on failure"}};
  } else if (fieldId == "dsnRet") {
    out = {{"", "Server's default"}, {"hdrs", "The headers only"}, {"full", "The whole message"}};
  }
  return out;
}

std::string Account::key() const {
  std::string key = "smtp://" + relay::percentEncode(user) + "@" + lowered(server) + ":" + std::to_string(port);
  if (!relay.empty()) key += " via " + relay;
  return key;
}

Account accountOf(const Values& values) {
  Account account;
  account.relay = trimmed(get(values, "proxy"));
  account.server = trimmed(get(values, "server"));
  const std::string port = trimmed(get(values, "port"));
  unsigned long number = 0;
  for (char c : port) number = c >= '0' && c <= '9' && number <= 65535 ? number * 10 + static_cast<unsigned>(c - '0') : 65536;
  account.port = number <= 65535 ? static_cast<std::uint16_t>(number) : 0;
  account.user = trimmed(get(values, "username"));
  return account;
}

PasswordField rememberedPassword(const std::optional<Account>& savedFor, const Account& now, bool fieldEmpty,
                                 bool fieldHoldsFilled) {
  const bool matches = savedFor && savedFor->key() == now.key();
  if (matches && fieldEmpty) return PasswordField::Fill;
  if (!matches && fieldHoldsFilled) return PasswordField::Clear;
  return PasswordField::Keep;
}

LinkReview reviewLink(const std::vector<std::pair<std::string, std::string>>& query, const Values& current,
                      const LinkCa& ca) {
  LinkReview review;
  for (const Field& field : kFields) {
    if (field.linkKey.empty()) continue;
    const std::string label(field.label);
    const std::string* linked = nullptr;
    bool twice = false;
    for (const auto& [key, value] : query) {
      if (key != field.linkKey) continue;
      twice = twice || (linked && *linked != value);
      linked = &value;
    }
    if (!linked) continue;
    if (twice) {  // which one would a person think applies? Neither.
      review.refused.push_back(label + ": the link names it twice, with different values, so neither is offered.");
      continue;
    }
    const std::string now = get(current, field.id);
    LinkChange change{std::string(field.id), label, shown(field, now), {}, *linked};
    if (field.kind == K::Pem) {
      if (ca.pem.empty()) {
        review.refused.push_back(label + ": \"" + shortened(*linked) + "\" is not a file of this page's own site, so it is not offered.");
        continue;
      }
      change.value = ca.pem;
      change.from = now.empty() ? "(none)" : "the CA now set";
      change.to = "the certificate authority in " + ca.path + " (trusted for every server)";
    } else if (field.kind == K::Check) {
      change.value = linkSaysYes(*linked) ? "1" : "";
      change.to = shown(field, change.value);
    } else if (field.kind == K::Choice) {
      bool known = false;
      for (const auto& choice : choices(field.id)) known = known || choice.value == *linked;
      if (!known) {
        review.refused.push_back(label + ": \"" + shortened(*linked) + "\" is not a choice here.");
        continue;
      }
      change.to = shown(field, change.value);
    } else {
      change.to = shown(field, change.value);
    }
    if (change.value == now) continue;
    review.customServer = review.customServer || field.id == "server";
    review.portChosen = review.portChosen || field.id == "port";
    review.changes.push_back(std::move(change));
  }
  return review;
}

}  // namespace smtpc::form
