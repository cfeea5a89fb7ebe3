#include "report_options.h"

#include <QDateTime>
#include <QSaveFile>

#include "smtpc/line_explain.h"

namespace smtpc::cli {

QCommandLineOption addReportOption(QCommandLineParser& parser) {
  QCommandLineOption report(QStringList{"report"},
                            "After the run, write it to FILE as a page (.html: the transcript explained, the "
                            "steps, TLS) or a sequence diagram (.svg). Passwords and tokens never appear in it.",
                            "FILE");
  parser.addOption(report);
  return report;
}

std::optional<RunReport> RunReport::fromOptions(const QCommandLineParser& parser, const QCommandLineOption& option,
                                                QString* usage) {
  if (!parser.isSet(option)) return std::nullopt;
  RunReport report;
  report.path_ = parser.value(option);
  const auto format = reportFormatForPath(report.path_.toStdString());
  if (!format) {
    *usage = "--report " + report.path_ + ": the file must end in .html (a page) or .svg (a sequence diagram)";
    return std::nullopt;
  }
  report.format_ = *format;
  return report;
}

void RunReport::begin(const ConnectParams& params, bool sendsMail) {
  record_ = RunRecord(params, sendsMail);
  // Core reads no clock: the date the handout shows is the CLI's, when the run began.
  date_ = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")).toStdString();
}

void RunReport::onEvent(const Event& event) { record_.onEvent(event); }

bool RunReport::write(const Finished& outcome, QString* why) {
  if (!record_.finished) record_.onEvent(outcome);
  ReportOptions options;
  options.date = date_;
  // Each line explained as --annotate and --explain explain it (core's tables, RFC references).
  options.explain = explanationText;
  const std::string bytes = renderReport(format_, record_, options);
  // QSaveFile: a failed write leaves an earlier report whole instead of half overwritten.
  QSaveFile file(path_);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes.data(), static_cast<qint64>(bytes.size())) !=
                                              static_cast<qint64>(bytes.size()) || !file.commit()) {
    *why = "--report " + path_ + ": " + file.errorString();
    return false;
  }
  return true;
}

}  // namespace smtpc::cli
