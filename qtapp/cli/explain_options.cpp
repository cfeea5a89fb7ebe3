// smtpc --explain and --annotate: core explains, this file only lays the explanation out.
#include "explain_options.h"

#include <QJsonArray>
#include <cstdio>
#include <string>

#include "json_output.h"
#include "smtpc/display.h"

namespace smtpc::cli {
namespace {

// Columns of text before a line is folded (not counting the indent), for a terminal of 100.
constexpr int kWidth = 88;

// Folds `paragraph` at spaces into lines of at most kWidth characters, each after `indent`.
void printFolded(const QString& paragraph, const char* indent) {
  QString line;
  for (const QString& word : paragraph.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
    if (!line.isEmpty() && line.size() + 1 + word.size() > kWidth) {
      std::printf("%s%s\n", indent, line.toStdString().c_str());
      line.clear();
    }
    line += (line.isEmpty() ? QString() : QStringLiteral(" ")) + word;
  }
  if (!line.isEmpty()) std::printf("%s%s\n", indent, line.toStdString().c_str());
}

// The server's words are in the text: shown as text, never as terminal control sequences.
QString safe(const std::string& text) { return QString::fromStdString(escapeForTerminal(text)); }

void print(const LineExplanation& explanation, const char* indent, const char* bodyIndent) {
  std::printf("%s%s\n", indent, safe(explanation.title).toStdString().c_str());
  for (const QString& paragraph : QString::fromStdString(explanation.text).split(QLatin1Char('\n')))
    printFolded(safe(paragraph.toStdString()), bodyIndent);
  QStringList references;
  for (const auto& reference : explanation.references) references << QString::fromStdString(reference);
  if (!references.isEmpty()) printFolded(QStringLiteral("See: ") + references.join(QStringLiteral(", ")), bodyIndent);
}

}  // namespace

ExplainOptions addExplainOptions(QCommandLineParser& parser) {
  ExplainOptions options{
      QCommandLineOption(QStringList{"explain"},
                         "Explain one line of an SMTP conversation and exit, e.g. '535 5.7.8 Authentication "
                         "credentials invalid', 'EHLO x', '250-PIPELINING', '334 VXNlcm5hbWU6' (a prefix such as "
                         "'<- ' may stay). With --json, as one JSON object.",
                         "LINE"),
      QCommandLineOption(QStringList{"annotate"},
                         "Print each transcript line with its explanation and RFC references beneath it (with "
                         "--json: an \"explanation\" in each transcript entry)."),
  };
  parser.addOption(options.explain);
  parser.addOption(options.annotate);
  return options;
}

QJsonObject explanationJson(const LineExplanation& explanation) {
  QJsonArray references;
  for (const auto& reference : explanation.references) references.append(QString::fromStdString(reference));
  return QJsonObject{{"title", QString::fromStdString(explanation.title)},
                     {"text", QString::fromStdString(explanation.text)},
                     {"references", references}};
}

int printExplanation(const QString& line, bool json) {
  const LineExplanation explanation = explainLine(line.toStdString());
  if (json) {
    QJsonObject document = explanationJson(explanation);
    document.insert(QStringLiteral("line"), line);
    printJson(document);
  } else {
    print(explanation, "", "  ");
  }
  return 0;
}

void printAnnotation(const TranscriptEntry& entry) {
  print(explainLine(entry), "      ", "        ");
}

}  // namespace smtpc::cli
