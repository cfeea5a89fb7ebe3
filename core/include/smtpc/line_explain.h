/// \file
/// Explain any line of a conversation, as a teacher would at the whiteboard (issue 17, part 2):
/// what a reply code and its enhanced status code mean, what a command and its parameters ask,
/// what an EHLO keyword offers, what a SASL challenge says once decoded, what the TLS facts are;
/// each with the RFC sections to read. The tables are data in core (line_explain_*.cpp), so the
/// desktop app, the page and `smtpc --explain` tell the same story.
///
/// Secrets stay secret: a masked answer is explained as masked, and a typed AUTH payload is
/// explained by its structure, never by its password or token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/transcript.h"

namespace smtpc {

/// What one line means.
struct LineExplanation {
  std::string title;  ///< one line: "535 Authentication credentials invalid"
  std::string text;  ///< sentences a learner reads; paragraphs separated by "\n"
  std::vector<std::string> references;  ///< where to read more: "RFC 5321 §4.2.2", "RFC 4954 §6"
};

/// A transcript line as the session recorded it (the kind says who wrote it; the text has no prefix).
SMTPC_CORE_EXPORT LineExplanation explainLine(const TranscriptEntry& entry);

/// A line typed by a person: "535 5.7.8 Authentication credentials invalid", "EHLO x",
/// "250-PIPELINING", "334 VXNlcm5hbWU6". A swaks-style prefix ("<- ", "-> ", "<~ ", "~> ", "===",
/// "***") is accepted and says who wrote it; without one, a line that starts with three digits is
/// the server's and anything else the client's.
SMTPC_CORE_EXPORT LineExplanation explainLine(std::string_view line);

/// A transcript line's explanation as plain text for a report (ReportOptions::explain): the title,
/// the text, then "See RFC …, RFC …". The same in the desktop app, the page and `--report`.
SMTPC_CORE_EXPORT std::string explanationText(const TranscriptEntry& entry);

}  // namespace smtpc
