// smtpc --explain LINE and --annotate (issue 17, part 2): what any line of an SMTP conversation
// means, from core's tables (smtpc/line_explain.h), with the RFC sections to read.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QJsonObject>
#include <QString>

#include "smtpc/line_explain.h"

namespace smtpc::cli {

struct ExplainOptions {
  QCommandLineOption explain, annotate;
};
ExplainOptions addExplainOptions(QCommandLineParser& parser);

// --explain: prints what `line` means (one JSON object with `json`); returns the exit status.
int printExplanation(const QString& line, bool json);

// --annotate: the explanation of a transcript line, printed indented beneath it.
void printAnnotation(const TranscriptEntry& entry);

// {"title", "text", "references"}: --explain --json, and each transcript entry's "explanation"
// with --annotate --json.
QJsonObject explanationJson(const LineExplanation& explanation);

}  // namespace smtpc::cli
