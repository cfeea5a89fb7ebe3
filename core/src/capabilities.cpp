#include "smtpc/capabilities.h"

#include <charconv>

#include "text.h"

namespace smtpc {

namespace {

void addMechanisms(std::vector<std::string>& mechanisms, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    std::string upper = text::toUpper(name);
    bool known = false;
    for (const auto& existing : mechanisms) known = known || existing == upper;
    if (!known && !upper.empty()) mechanisms.push_back(std::move(upper));
  }
}

}  // namespace

Capabilities Capabilities::fromEhloReply(const Reply& reply) {
  Capabilities caps;
  if (reply.lines.empty()) return caps;
  // First line: "domain [greeting]".
  std::string_view first = reply.lines.front();
  caps.serverName_ = std::string(first.substr(0, first.find(' ')));

  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    std::vector<std::string> words = text::splitWords(reply.lines[i]);
    if (words.empty()) continue;
    std::string keyword = text::toUpper(words.front());
    words.erase(words.begin());

    // Pre-RFC 4954 servers (old Exchange, some appliances) advertise "AUTH=LOGIN PLAIN".
    if (keyword.rfind("AUTH=", 0) == 0) {
      std::vector<std::string> names{keyword.substr(5)};
      names.insert(names.end(), words.begin(), words.end());
      addMechanisms(caps.authMechanisms_, names);
      continue;
    }
    if (keyword == "AUTH") addMechanisms(caps.authMechanisms_, words);
    if (keyword == "SIZE" && !words.empty()) {
      std::uint64_t value = 0;
      const auto& digits = words.front();
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc() && end == digits.data() + digits.size()) caps.maxSize_ = value;
    }
    if (const Capability* existing = caps.find(keyword)) {
      (void)existing;  // a repeated keyword: keep the first, as servers mean it
      continue;
    }
    caps.entries_.push_back(Capability{std::move(keyword), std::move(words)});
  }
  return caps;
}

const Capability* Capabilities::find(std::string_view keyword) const {
  for (const auto& entry : entries_)
    if (text::equalsIgnoreCase(entry.keyword, keyword)) return &entry;
  return nullptr;
}

bool Capabilities::supportsAuthMechanism(std::string_view name) const {
  for (const auto& mechanism : authMechanisms_)
    if (text::equalsIgnoreCase(mechanism, name)) return true;
  return false;
}

std::string_view Capabilities::describe(std::string_view keyword) {
  struct Entry {
    std::string_view keyword, text;
  };
  static constexpr Entry table[] = {
      {"STARTTLS", "Can switch this connection to TLS (RFC 3207): everything after it is encrypted."},
      {"AUTH", "Accepts a login (RFC 4954); the words after it are the SASL mechanisms it knows."},
      {"SIZE", "Announces the largest message it accepts, in octets (RFC 1870); 0 means no fixed limit."},
      {"PIPELINING", "Lets the client send MAIL, RCPT and DATA without waiting for each reply (RFC 2920)."},
      {"8BITMIME", "Accepts message text with 8-bit bytes, such as UTF-8 without encoding (RFC 6152)."},
      {"SMTPUTF8", "Accepts non-ASCII addresses and headers (RFC 6531)."},
      {"ENHANCEDSTATUSCODES", "Adds codes like 5.1.1 to its replies that say exactly what happened (RFC 2034)."},
      {"DSN", "Can send delivery status notifications on request (RFC 3461)."},
      {"CHUNKING", "Accepts the message in BDAT chunks instead of DATA (RFC 3030)."},
      {"BINARYMIME", "Accepts binary message bodies with BDAT (RFC 3030)."},
      {"VRFY", "Answers questions about whether an address exists (RFC 5321 §3.5)."},
      {"ETRN", "Can be asked to flush its queue for a domain (RFC 1985)."},
      {"DELIVERBY", "Accepts a deadline for delivery (RFC 2852)."},
      {"REQUIRETLS", "Can require TLS for every hop of this message (RFC 8689)."},
      {"MT-PRIORITY", "Accepts a message priority (RFC 6710)."},
      {"HELP", "Answers the HELP command."},
  };
  for (const auto& entry : table)
    if (text::equalsIgnoreCase(entry.keyword, keyword)) return entry.text;
  return "An extension SMTPc does not use; shown as the server sent it.";
}

}  // namespace smtpc
