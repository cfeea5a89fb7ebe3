#include "smtpc/accounts.h"

#include <charconv>
#include <map>

#include "text.h"

namespace smtpc::accounts {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (isBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A key whose value is checked and converted: false with `why` when the value is not one the key
// takes. `why` never quotes a secret's value.
using Setter = bool (*)(Account& account, std::string value, std::string* why);

struct Key {
  std::string_view name;
  std::string_view alias;     // msmtp's name for the same thing, so that its lines can be kept
  bool passwordSource;        // password, password-command, keychain: one per account
  std::string Account::*text;  // a value kept as written; or
  Setter set;                 // a value checked and converted
};

bool setPort(Account& a, std::string v, std::string* why) {
  unsigned number = 0;
  const auto [end, problem] = std::from_chars(v.data(), v.data() + v.size(), number);
  if (problem != std::errc() || end != v.data() + v.size() || number < 1 || number > 65535) {
    *why = "port " + quoted(v) + " is not a port number: write 1 to 65535 (587 for STARTTLS, 465 for TLS)";
    return false;
  }
  a.port = static_cast<std::uint16_t>(number);
  return true;
}
bool setSecurity(Account& a, std::string v, std::string* why) {
  a.security = securityModeFromName(v);
  if (!a.security) *why = "security " + quoted(v) + " is not a mode: write tls, starttls, starttls-if-offered or none";
  return a.security.has_value();
}
bool setAuth(Account& a, std::string v, std::string* why) {
  a.auth = mechanismFromName(v);
  if (!a.auth) *why = "auth " + quoted(v) + " is not a method: write auto, scram-sha-256, scram-sha-1, plain, login, cram-md5, xoauth2 or oauthbearer";
  return a.auth.has_value();
}
bool setKeychain(Account& a, std::string v, std::string* why) {
  for (std::string_view yes : {"yes", "on", "true"}) {
    if (text::equalsIgnoreCase(v, yes)) {
      a.keychain = true;
      return true;
    }
  }
  for (std::string_view no : {"no", "off", "false"})
    if (text::equalsIgnoreCase(v, no)) return true;
  *why = "keychain " + quoted(v) + " is neither yes nor no";
  return false;
}
bool setPassword(Account& a, std::string v, std::string*) {
  a.password = Secret(std::move(v));
  return true;
}

// The keys an account takes, one row each; a key missing here is an error, never ignored.
constexpr Key kKeys[] = {
    {"server", "host", false, &Account::server, nullptr},
    {"port", "", false, nullptr, setPort},
    {"security", "", false, nullptr, setSecurity},
    {"user", "", false, &Account::user, nullptr},
    {"auth", "", false, nullptr, setAuth},
    {"from", "", false, &Account::from, nullptr},
    {"ehlo", "", false, &Account::ehlo, nullptr},
    {"ca-file", "", false, &Account::caFile, nullptr},
    {"password-command", "passwordeval", true, &Account::passwordCommand, nullptr},
    {"keychain", "", true, nullptr, setKeychain},
    {"password", "", true, nullptr, setPassword},
};

const Key* findKey(std::string_view word) {
  for (const Key& key : kKeys)
    if (word == key.name || (!key.alias.empty() && word == key.alias)) return &key;
  return nullptr;
}

std::string keyList() {
  std::string list;
  for (const Key& key : kKeys) list += (list.empty() ? "" : ", ") + std::string(key.name);
  return list;
}

// The value as written: the rest of the line, or the text between double quotes with the escapes
// \" and \\ undone. nullopt with `why` when a quote is left open or followed by more text.
std::optional<std::string> unquote(std::string_view raw, std::string* why) {
  if (raw.empty() || raw.front() != '"') return std::string(raw);
  std::string value;
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) {
      value += raw[++i];
    } else if (raw[i] == '"') {
      if (i + 1 != raw.size()) {
        *why = "text after the closing quote: put the whole value in the quotes";
        return std::nullopt;
      }
      return value;
    } else {
      value += raw[i];
    }
  }
  *why = "the closing quote is missing";
  return std::nullopt;
}

// An account being read: its keys' lines, to name the first when one comes twice.
struct Open {
  Account account;
  std::map<std::string_view, std::size_t> keyLines;
  std::size_t passwordSourceLine = 0;
};

}  // namespace

const Account* AccountsFile::find(std::string_view name) const {
  for (const Account& account : accounts)
    if (account.name == name) return &account;
  return nullptr;
}

const Account* AccountsFile::defaultAccount() const { return find(defaultName.empty() ? "default" : defaultName); }

std::size_t AccountsFile::firstPasswordLine() const {
  std::size_t first = 0;
  for (const Account& account : accounts)
    if (account.passwordLine && (!first || account.passwordLine < first)) first = account.passwordLine;
  return first;
}

std::vector<std::string> AccountsFile::names() const {
  std::vector<std::string> out;
  for (const Account& account : accounts) out.push_back(account.name);
  return out;
}

Result<AccountsFile> parseAccounts(std::string_view input, std::size_t* problemLine) {
  AccountsFile file;
  std::optional<Open> open;
  std::size_t defaultLine = 0;
  std::size_t number = 0;
  auto fail = [&](const std::string& why) -> Result<AccountsFile> {
    if (problemLine) *problemLine = number;
    return Error(ErrorCode::InvalidArgument, "Line " + std::to_string(number) + ": " + why + ".");
  };
  auto close = [&] {
    if (open) file.accounts.push_back(std::move(open->account));
    open.reset();
  };

  while (!input.empty() || number == 0) {
    const std::size_t end = input.find('\n');
    const std::string_view line = trimmed(input.substr(0, end));
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;

    std::size_t split = 0;
    while (split < line.size() && !isBlank(line[split])) ++split;
    const std::string_view word = line.substr(0, split);
    const std::string_view raw = trimmed(line.substr(split));

    if (word == "account") {
      if (raw.empty() || raw.find_first_of(" \t:") != std::string_view::npos)
        return fail(raw.find(':') != std::string_view::npos
                        ? "\"account NAME : OTHER\" (msmtp's inheritance) is not supported: give each account its own values"
                        : "write \"account NAME\", NAME one word without blanks");
      if (const Account* earlier = file.find(raw); earlier || (open && open->account.name == raw))
        return fail("a second account called " + quoted(raw) + " (the first is on line " +
                    std::to_string(earlier ? earlier->line : open->account.line) + "): give each a name of its own");
      close();
      open.emplace();
      open->account.name = std::string(raw);
      open->account.line = number;
      continue;
    }
    if (word == "default") {
      if (raw.empty() || raw.find_first_of(" \t") != std::string_view::npos)
        return fail("write \"default NAME\", NAME the account to use when none is named");
      if (defaultLine) return fail("a second default line (the first is line " + std::to_string(defaultLine) + ")");
      file.defaultName = std::string(raw);
      defaultLine = number;
      continue;
    }
    if (word == "defaults")
      return fail("msmtp's \"defaults\" section is not supported: write the values in each account");

    const Key* key = findKey(word);
    if (!key) return fail("unknown key " + quoted(word) + "; an account takes " + keyList());
    if (!open) return fail(quoted(word) + " before any account: start the account with \"account NAME\" first");
    if (raw.empty()) return fail(std::string(key->name) + " needs a value");
    if (const auto first = open->keyLines.find(key->name); first != open->keyLines.end())
      return fail(std::string(key->name) + " is set twice in account " + quoted(open->account.name) + " (first on line " +
                  std::to_string(first->second) + ")");
    if (key->passwordSource && open->passwordSourceLine)
      return fail("account " + quoted(open->account.name) + " already says where its password comes from (line " +
                  std::to_string(open->passwordSourceLine) + "): keep one of password, password-command and keychain");
    std::string why;
    auto value = unquote(raw, &why);
    if (!value) return fail(std::string(key->name) + ": " + why);
    if (key->text) open->account.*(key->text) = std::move(*value);
    else if (!key->set(open->account, std::move(*value), &why)) return fail(why);
    open->keyLines.emplace(key->name, number);
    if (key->passwordSource) open->passwordSourceLine = number;
    if (key->set == setPassword) open->account.passwordLine = number;
  }
  close();

  if (defaultLine && !file.find(file.defaultName)) {
    number = defaultLine;
    return fail("default names " + quoted(file.defaultName) + ", but there is no such account");
  }
  return file;
}

std::string_view exampleText() {
  return "# ~/.config/smtpc/accounts\n"
         "default work\n"
         "\n"
         "account work\n"
         "server smtp.example.com\n"
         "security starttls\n"
         "user me@example.com\n"
         "from Me <me@example.com>\n"
         "password-command pass show mail/work\n"
         "\n"
         "account home\n"
         "server mail.example.net:465\n"
         "security tls\n"
         "user me\n"
         "keychain yes\n";
}

}  // namespace smtpc::accounts
