// The Public Suffix List's algorithm (https://github.com/publicsuffix/list/wiki/Format):
// the longest matching rule wins, an exception rule beats every other, and "*" is the default.
#include "smtpc/public_suffix.h"

#include <vector>

#include "text.h"

namespace smtpc {

namespace {

std::string lowerHost(std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (char& c : out) c = text::toLower(c);
  return out;
}

// "a.b.c" → {"a.b.c", "b.c", "c"}: the name and each of its parents.
std::vector<std::string_view> suffixes(std::string_view name) {
  std::vector<std::string_view> out;
  for (std::size_t at = 0;;) {
    out.push_back(name.substr(at));
    const auto dot = name.find('.', at);
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  return out;
}

bool isAddressLiteral(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  for (char c : host)
    if (c != '.' && (c < '0' || c > '9')) return false;
  return !host.empty();
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    // A rule is the line's first word; the rest (and "//" lines) is comment.
    const auto space = line.find_first_of(" \t\r");
    line = line.substr(0, space);
    if (line.empty() || line.substr(0, 2) == "//") continue;
    if (line.front() == '!') {
      list.exceptions_.insert(lowerHost(line.substr(1)));
    } else if (line.substr(0, 2) == "*.") {
      list.wildcards_.insert(lowerHost(line.substr(2)));
    } else {
      list.rules_.insert(lowerHost(line));
    }
  }
  return list;
}

std::string PublicSuffixList::publicSuffix(std::string_view host) const {
  const std::string name = lowerHost(host);
  if (name.empty()) return {};
  const auto parts = suffixes(name);  // longest first
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string candidate(parts[i]);
    // "!www.ck": the rule is an exception; the suffix is the rule minus its first label.
    if (exceptions_.count(candidate)) return i + 1 < parts.size() ? std::string(parts[i + 1]) : candidate;
    if (rules_.count(candidate)) return candidate;
    // "*.ck" matches "anything.ck": the name at i is one label longer than the wildcard's base.
    if (i + 1 < parts.size() && wildcards_.count(std::string(parts[i + 1]))) return candidate;
  }
  return std::string(parts.back());  // "*": the last label
}

std::string PublicSuffixList::registrableDomain(std::string_view host) const {
  const std::string name = lowerHost(host);
  if (name.empty() || isAddressLiteral(name)) return name;
  const std::string suffix = publicSuffix(name);
  if (suffix.size() >= name.size()) return {};
  // One label more than the suffix.
  const std::string_view head = std::string_view(name).substr(0, name.size() - suffix.size() - 1);
  const auto dot = head.rfind('.');
  return std::string(dot == std::string_view::npos ? head : head.substr(dot + 1)) + "." + suffix;
}

}  // namespace smtpc
