// Mailbox: RFC 5322 §3.4 name-addr, with RFC 2047 §5(3) encoded words for non-ASCII names.
#include "smtpc/command.h"
#include "smtpc/encoding.h"
#include "smtpc/message.h"
#include "../text.h"

namespace smtpc {

namespace {

bool isAtextOrSpace(unsigned char c) { return c == ' ' || text::isAtext(c); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Mailbox> Mailbox::create(std::string displayName, std::string address) {
  for (char c : displayName)
    if (c == '\r' || c == '\n' || c == '\0')
      return Error(ErrorCode::InvalidArgument, "The display name \"" + displayName + "\" contains a line break or NUL.");
  auto checked = checkAddress(address);
  if (!checked) return checked.error();
  Mailbox mailbox;
  mailbox.displayName_ = std::move(displayName);
  mailbox.address_ = std::move(address);
  mailbox.needsSmtpUtf8_ = checked->needsSmtpUtf8;
  return mailbox;
}

Result<Mailbox> Mailbox::parse(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.back() != '>') return create({}, std::string(text));
  const std::size_t open = text.rfind('<');
  if (open == std::string_view::npos) {
    std::string why = "The address \"";
    why.append(text).append("\" has '>' but no '<'.");
    return Error(ErrorCode::InvalidArgument, std::move(why));
  }
  std::string_view name = trim(text.substr(0, open));
  std::string unquoted;
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    for (std::size_t i = 1; i + 1 < name.size(); ++i) {
      if (name[i] == '\\' && i + 2 < name.size()) ++i;
      unquoted += name[i];
    }
  } else {
    unquoted = std::string(name);
  }
  return create(std::move(unquoted), std::string(text.substr(open + 1, text.size() - open - 2)));
}

std::string Mailbox::toHeader() const {
  if (displayName_.empty()) return address_;
  if (encoding::needsHeaderEncoding(displayName_)) return encoding::encodedWords(displayName_, 4) + " <" + address_ + ">";
  bool plainPhrase = trim(displayName_).size() == displayName_.size();
  for (unsigned char c : displayName_) plainPhrase = plainPhrase && isAtextOrSpace(c);
  if (plainPhrase) return displayName_ + " <" + address_ + ">";
  std::string quoted = "\"";
  for (char c : displayName_) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + address_ + ">";
}

}  // namespace smtpc
