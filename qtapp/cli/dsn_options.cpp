#include "dsn_options.h"

#include "smtpc/form.h"

namespace smtpc::cli {

DsnOptions addDsnOptions(QCommandLineParser& parser) {
  DsnOptions o{
      QCommandLineOption(QStringList{"dsn-notify"},
                         "Ask for delivery reports (DSN, RFC 3461): success, failure and/or delay (comma-separated), "
                         "or never.",
                         "WHEN"),
      QCommandLineOption(QStringList{"dsn-ret"}, "What a failure report returns of the message: full or hdrs.", "WHAT"),
      QCommandLineOption(QStringList{"dsn-envid"},
                         "Label the reports with ID (ENVID: printable ASCII, at most 100 characters).", "ID"),
      QCommandLineOption(QStringList{"dsn-optional"},
                         "If the server does not offer DSN, send without the report requests (and say so) instead of "
                         "refusing the message."),
  };
  for (const auto* option : {&o.notify, &o.ret, &o.envid, &o.optional}) parser.addOption(*option);
  return o;
}

bool readDsnOptions(const QCommandLineParser& parser, const DsnOptions& options, DsnRequest& dsn, QString* why) {
  form::MessageForm fields;
  fields.dsnNotify = parser.value(options.notify).toStdString();
  fields.dsnRet = parser.value(options.ret).toStdString();
  fields.dsnEnvelopeId = parser.value(options.envid).toStdString();
  fields.dsnOptional = parser.isSet(options.optional);
  // An option given empty ("--dsn-notify ''") is a mistake, not "none asked".
  for (const auto* option : {&options.notify, &options.ret, &options.envid})
    if (parser.isSet(*option) && parser.value(*option).trimmed().isEmpty()) {
      *why = "--" + option->names().first() + " needs a value";
      return false;
    }
  form::Problem problem;
  auto request = form::toDsnRequest(fields, &problem);
  if (!request) {
    const QString option = problem.field == "dsnNotify" ? "--dsn-notify" : problem.field == "dsnRet" ? "--dsn-ret" : "--dsn-envid";
    *why = option + ": " + QString::fromStdString(problem.explanation);
    return false;
  }
  if (fields.dsnOptional && !request->requested()) {
    *why = "--dsn-optional says what to do when delivery reports are asked: give --dsn-notify, --dsn-ret or --dsn-envid too";
    return false;
  }
  dsn = std::move(*request);
  return true;
}

}  // namespace smtpc::cli
