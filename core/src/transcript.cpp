#include "smtpc/transcript.h"

namespace smtpc {

std::string_view transcriptKindName(TranscriptKind kind) {
  switch (kind) {
    case TranscriptKind::Client: return "client";
    case TranscriptKind::Server: return "server";
    case TranscriptKind::Info: return "info";
    case TranscriptKind::Tls: return "tls";
    case TranscriptKind::Error: return "error";
  }
  return "?";
}

std::string_view transcriptPrefix(const TranscriptEntry& entry) {
  switch (entry.kind) {
    case TranscriptKind::Client: return entry.encrypted ? " ~>" : " ->";
    case TranscriptKind::Server: return entry.encrypted ? "<~ " : "<- ";
    case TranscriptKind::Info: return "===";
    case TranscriptKind::Tls: return "===";
    case TranscriptKind::Error: return "***";
  }
  return "   ";
}

}  // namespace smtpc
