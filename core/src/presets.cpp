// Provider presets: host, port and security mode for mail submission as each provider documents
// them, with its login rules (app passwords, OAuth2) for the diagnosis of a refused login.
#include "smtpc/presets.h"

#include "text.h"

namespace smtpc {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list{
      {"sandbox", "Local sandbox", "localhost", 0, SecurityMode::StartTls,
       "The test server scripts/demo starts: user demo, password demo; mail is kept, never delivered."},
      {"gmail", "Gmail", "smtp.gmail.com", 587, SecurityMode::StartTls,
       "Needs an app password (with 2-Step Verification on) or OAuth2 (XOAUTH2); the account password is refused.",
       "gmail.com googlemail.com", "google.com googlemail.com", "google"},
      {"outlook", "Outlook / Microsoft 365", "smtp.office365.com", 587, SecurityMode::StartTls,
       "Microsoft is switching SMTP AUTH to OAuth2 only: use XOAUTH2 with a token, or have an admin enable "
       "SMTP AUTH for the mailbox.",
       "outlook.com hotmail.com live.com msn.com outlook.de hotmail.de hotmail.co.uk", "outlook.com", "microsoft"},
      {"yahoo", "Yahoo", "smtp.mail.yahoo.com", 465, SecurityMode::ImplicitTls,
       "Needs an app password (Account security → Generate app password).",
       "yahoo.com ymail.com rocketmail.com", "yahoodns.net"},
      {"icloud", "iCloud", "smtp.mail.me.com", 587, SecurityMode::StartTls,
       "Needs an app-specific password from appleid.apple.com; the user name is the full iCloud address.",
       "icloud.com me.com mac.com", "icloud.com"},
      {"fastmail", "Fastmail", "smtp.fastmail.com", 465, SecurityMode::ImplicitTls,
       "Needs an app password (Settings → Privacy & Security → App passwords).",
       "fastmail.com fastmail.fm", "messagingengine.com"},
      {"zoho", "Zoho", "smtp.zoho.com", 465, SecurityMode::ImplicitTls,
       "With two-factor login, needs an application-specific password; EU accounts use smtp.zoho.eu.",
       "zoho.com zohomail.com", "zoho.com"},
      {"gmx", "GMX", "mail.gmx.net", 587, SecurityMode::StartTls,
       "SMTP access must first be allowed in the GMX settings (POP3/IMAP/SMTP).",
       "gmx.net gmx.de gmx.at gmx.ch", "gmx.net"},
  };
  return list;
}

const Preset* findPreset(std::string_view id) {
  for (const auto& p : presets())
    if (p.id == id) return &p;
  return nullptr;
}

namespace {
// "smtp.gmail.com" → "gmail.com"
std::string_view registrableDomain(std::string_view host) {
  const auto last = host.rfind('.');
  if (last == std::string_view::npos || last == 0) return host;
  const auto previous = host.rfind('.', last - 1);
  return previous == std::string_view::npos ? host : host.substr(previous + 1);
}
}  // namespace

const Preset* presetForHost(std::string_view host) {
  if (host.empty()) return nullptr;
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::string wanted = text::toUpper(registrableDomain(host));
  for (const auto& p : presets()) {
    if (p.host.empty() || p.id == "sandbox") continue;
    if (text::toUpper(registrableDomain(p.host)) == wanted) return &p;
  }
  return nullptr;
}

namespace {
bool listed(std::string_view list, std::string_view wanted) {
  for (const auto& word : text::splitWords(list))
    if (text::equalsIgnoreCase(word, wanted)) return true;
  return false;
}
}  // namespace

const Preset* presetForDomain(std::string_view domain) {
  for (const auto& p : presets())
    if (!domain.empty() && listed(p.domains, domain)) return &p;
  return nullptr;
}

const Preset* presetForMxDomain(std::string_view mxDomain) {
  for (const auto& p : presets())
    if (!mxDomain.empty() && listed(p.mxDomains, mxDomain)) return &p;
  return nullptr;
}

}  // namespace smtpc
