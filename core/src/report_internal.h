// What the HTML and the SVG reports share (report.cpp): server text made safe for markup, the
// step each transcript line belongs to, and the words for the run's facts. Private to core.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/report.h"

namespace smtpc::report {

/// Text from anywhere (the server, an explanation) made printable: control characters, bytes that
/// are not UTF-8, the characters XML forbids (U+FFFE, U+FFFF) and the bidirectional overrides that
/// would let a reply reorder what a reader sees become visible escapes ("\x1b", "\u202e").
std::string printable(std::string_view text);
/// Printable text with &, <, >, " and ' as references: safe in an HTML or XML text or attribute.
std::string escape(std::string_view printableText);
/// escape(printable(text)): any text, safe in markup.
std::string markup(std::string_view text);
/// The number of characters (code points) in printable text.
std::size_t characters(std::string_view printableText);
/// Printable text cut to `limit` characters, "…" ending a cut one.
std::string shorten(std::string_view printableText, std::size_t limit);

/// The step of the bar each transcript line belongs to, read from the lines themselves: a command
/// by its verb, a reply by the command it answers (in order, so pipelined replies find theirs),
/// the TLS results to the handshake, notes to the step before them. nullopt: no step (RSET, NOOP).
std::vector<std::optional<Step>> stepsOfLines(const std::vector<TranscriptEntry>& lines);
/// How far `step` got in the record's step bar; Pending when the bar does not have it.
StepStatus statusOf(const RunRecord& record, Step step);

/// "mx.example.net port 587, STARTTLS (required)"
std::string connectionText(const RunRecord& record);
/// "STARTTLS (required)", "implicit TLS (SMTPS)", ...
std::string_view securityText(SecurityMode mode);
/// One line on how the run ended: "OK", "OK: stopped after auth, as asked", "Failed at AUTH: …".
std::string outcomeLine(const RunRecord& record);
/// The run failed (finished with an error).
bool failed(const RunRecord& record);
/// "SMTPc 0.4.0"
std::string_view producer();

}  // namespace smtpc::report
