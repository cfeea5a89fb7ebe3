// smtpc --report FILE (issue 17, "take it home"): the run written as one HTML page or an SVG
// sequence diagram, chosen by the file's extension, after the run, whether it worked or not.
// Core renders it (smtpc/report.h); this is the option and the file.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <optional>

#include "smtpc/report.h"

namespace smtpc::cli {

QCommandLineOption addReportOption(QCommandLineParser& parser);

// The report a run writes: follows the session's events and writes the file at the end.
class RunReport {
 public:
  // nullopt without --report; nullopt with `usage` set when FILE is neither .html, .htm nor .svg
  // (checked before connecting: a typo must not cost a whole run).
  static std::optional<RunReport> fromOptions(const QCommandLineParser& parser, const QCommandLineOption& option,
                                              QString* usage);

  // The run begins: its parameters (the record keeps no secret of them) and whether it sends mail.
  void begin(const ConnectParams& params, bool sendsMail);
  void onEvent(const Event& event);
  // Writes the file; `outcome` is the run's end when the session did not report one (interrupted).
  // False with `why` when the file cannot be written.
  bool write(const Finished& outcome, QString* why);

  const QString& path() const { return path_; }

 private:
  QString path_;
  ReportFormat format_ = ReportFormat::Html;
  RunRecord record_;
  std::string date_;
};

}  // namespace smtpc::cli
