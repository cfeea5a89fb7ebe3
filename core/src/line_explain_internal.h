// The tables behind smtpc/line_explain.h, shared by its sources (private header):
//   line_explain_replies.cpp   reply codes (RFC 5321 §4.2, RFC 4954 §6) and enhanced status codes
//                              (RFC 3463, the IANA registry of RFC 5248)
//   line_explain_commands.cpp  commands and their parameters, EHLO keywords
//   line_explain.cpp           reading a line, the SASL exchange, notes, TLS facts
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/line_explain.h"
#include "smtpc/reply.h"

namespace smtpc::line_explain {

// One row of a table: what it is found by, a title, the explanation, and where to read more
// ("RFC 5321 §4.2.3; RFC 4954 §6": separated by "; ").
struct Row {
  std::string_view key, title, text, references;
};

// The row whose key is `key` (any case), or null.
const Row* findRow(std::span<const Row> table, std::string_view key);
// Appends each of "A; B" to `out`, leaving out one already there.
void addReferences(std::string_view list, LineExplanation& out);
// Appends a paragraph to out.text.
void addParagraph(std::string_view paragraph, LineExplanation& out);

// The sentence the fallbacks start with, so tests can tell an entry from the absence of one.
inline constexpr std::string_view kNoReplyEntry = "SMTPc has no entry of its own for reply code ";
inline constexpr std::string_view kNoEnhancedEntry = "SMTPc has no entry of its own for the enhanced status code ";
inline constexpr std::string_view kNoCommandEntry = "SMTPc has no entry for the command ";

// A reply, explained: its code (entry or class), enhanced status code, the server's words.
// `continuation`: the line was "250-..." (more lines follow).
LineExplanation explainReply(const Reply& reply, bool continuation);
// The row of a reply code (key "535"), or null.
const Row* findReplyCode(int code);
// The title part for an enhanced status code ("Authentication credentials invalid"), or empty.
std::string_view enhancedStatusTitle(const EnhancedStatus& status);

// A command line as the client sent or a person typed it.
LineExplanation explainCommand(std::string_view line);
// An EHLO reply line ("PIPELINING", "SIZE 35882577", "AUTH PLAIN LOGIN"); false when its first
// word is not a keyword SMTPc knows.
bool explainKeyword(std::string_view line, LineExplanation& out);
// Does the command's verb appear in the table (EHLO, MAIL, ...)?
bool isKnownCommand(std::string_view verb);

}  // namespace smtpc::line_explain
