#include "smtpc/views.h"

#include "smtpc/tls_policy.h"

namespace smtpc::view {

Result result(const Diagnosis& d, form::RunKind kind, std::optional<Step> failedStep) {
  Result r;
  r.ok = d.ok;
  r.headline = d.ok && kind == form::RunKind::Send ? "The message was accepted" : d.headline;
  r.explanation = d.explanation;
  if (failedStep) {
    r.failedStepLabel = std::string(stepLabel(*failedStep));
    r.failedStepPurpose = std::string(stepPurpose(*failedStep));
  }
  r.serverSaid = d.serverSaid;
  if (!d.suggestions.empty()) r.suggestionsTitle = d.ok ? "Note:" : "What to try:";
  r.suggestions = d.suggestions;
  r.warning = d.warning;
  return r;
}

namespace {

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

Tls tls(const TlsInfo& info, bool relayed) {
  Tls t;
  t.good = info.verified && !info.acceptedDespiteErrors;
  t.note = t.good ? std::string(relayed ? "✓ Encrypted inside this page, and the certificate was verified."
                                        : "✓ Encrypted, and the certificate was verified.")
                  : "⚠ Encrypted, but the certificate was NOT verified: accepted only because you asked.";
  t.rows = {{"Protocol", info.protocol}, {"Cipher", info.cipher}, {"Verification", t.good ? "verified" : "FAILED"}};
  for (const auto& problem : info.verificationErrors) t.rows.push_back({"Problem", problem});
  for (std::size_t i = 0; i < info.chain.size(); ++i) {
    const CertificateInfo& c = info.chain[i];
    Certificate cert;
    cert.title = i == 0 ? "Server certificate" : "Issuer certificate " + std::to_string(i);
    cert.subject = c.subject;
    cert.rows = {{"Subject", c.subject}, {"Issuer", c.issuer}, {"Valid", c.notBefore + " to " + c.notAfter}};
    if (!c.subjectAlternativeNames.empty()) cert.rows.push_back({"Names (SANs)", joined(c.subjectAlternativeNames, ", ")});
    cert.rows.push_back({"SHA-256", c.sha256Fingerprint});
    cert.rows.push_back({"Key pin", tls::pinOf(c)});
    t.chain.push_back(std::move(cert));
  }
  return t;
}

Capabilities capabilities(const smtpc::Capabilities& offered, bool encrypted) {
  Capabilities c;
  c.note = offered.serverName() + (encrypted ? " offers, inside TLS:" : " offers, in clear text (before any TLS):");
  for (const auto& entry : offered.entries())
    c.offers.push_back({entry.keyword, joined(entry.params, " "), std::string(smtpc::Capabilities::describe(entry.keyword))});
  return c;
}

std::string tlsBoundary(const TlsInfo& info, bool relayed) {
  return std::string(relayed ? "TLS established inside this page (" : "TLS established (") + info.protocol + ", " +
         info.cipher + "): everything below is encrypted" + (relayed ? "; the relay sees ciphertext only" : "");
}

}  // namespace smtpc::view
