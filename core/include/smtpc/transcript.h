/// \file
/// The conversation as a person reads it: what we sent, what the server said, and notes.
/// AUTH payloads and answers to 334 challenges are masked before an entry is made, so a
/// transcript can be shown, saved or pasted into a bug report.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"

namespace smtpc {

/// A moment on the driver's monotonic clock (milliseconds from an origin the driver picks).
/// Core never reads a clock: every input that needs the time is given `now`.
using Time = std::chrono::milliseconds;
/// A span of time on the driver's clock (timeouts, how long a step took).
using Duration = std::chrono::milliseconds;

/// What a transcript line is.
enum class TranscriptKind {
  Client,  ///< a line we sent
  Server,  ///< a line the server sent
  Info,    ///< an explanation of what is happening
  Tls,     ///< TLS handshake results
  Error,   ///< what went wrong
};

/// The kind's name: "client", "server", "info", "tls", "error".
SMTPC_CORE_EXPORT std::string_view transcriptKindName(TranscriptKind kind);

/// One line of the transcript.
struct TranscriptEntry {
  TranscriptKind kind = TranscriptKind::Info;  ///< what it is
  bool encrypted = false;  ///< sent or received inside TLS
  Time at{0};  ///< when it happened, on the driver's clock
  std::string text;  ///< the line without CRLF; AUTH payloads and answers to 334 already masked
};

/// swaks-style prefix: "->" / "<-" in clear text, "~>" / "<~" inside TLS, "===" info, "***" errors.
SMTPC_CORE_EXPORT std::string_view transcriptPrefix(const TranscriptEntry& entry);

}  // namespace smtpc
