// Helpers the flow's files share (private to core): reading an HttpResponse's fields, seconds as
// JSON gives them, and the provider's errors as problems.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtpc/oauth.h"
#include "text.h"

namespace smtpc::oauth::detail {

inline std::string field(const HttpResponse& response, const std::string& name) {
  const auto it = response.fields.find(name);
  return it == response.fields.end() ? std::string() : it->second;
}

inline bool hasField(const HttpResponse& response, const std::string& name) {
  return response.fields.find(name) != response.fields.end();
}

// A whole number of seconds as JSON gives it ("3600"); nullopt for anything else.
inline std::optional<std::int64_t> seconds(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > 10LL * 365 * 24 * 3600)
    return std::nullopt;
  return value;
}

inline std::string secondsText(Duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(duration).count()) + " s";
}

// "in 59 minutes", "in 45 s": how long a token or a code lasts, for a learner.
inline std::string lifetimeText(std::int64_t secondsLeft) {
  if (secondsLeft >= 120) return std::to_string(secondsLeft / 60) + " minutes";
  return std::to_string(secondsLeft) + " s";
}

inline bool containsWord(std::string_view list, std::string_view word) {
  for (const std::string& item : text::splitWords(list))
    if (item == word) return true;
  return false;
}

// The provider's error (RFC 6749 §5.2) as a problem: its code explained, its own words kept apart.
inline Problem providerError(ProblemKind kind, const HttpResponse& response, std::string_view context) {
  Problem problem;
  problem.kind = kind;
  problem.headline = std::string(problemHeadline(kind));
  problem.serverError = field(response, "error");
  problem.serverSaid = field(response, "error_description");
  const std::string_view known = explainErrorCode(problem.serverError);
  problem.explanation = std::string(context) + " answered \"" + problem.serverError + "\". " +
                        std::string(known.empty() ? problemExplanation(kind) : known);
  return problem;
}

inline std::string httpSummary(const HttpResponse& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  if (!response.json) text += response.contentType.empty() ? ", not JSON" : ", " + response.contentType + ", not JSON";
  return text;
}

}  // namespace smtpc::oauth::detail
