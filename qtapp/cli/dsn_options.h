// smtpc --dsn-notify, --dsn-ret, --dsn-envid, --dsn-optional (issue 19): delivery reports (DSN,
// RFC 3461) asked on MAIL FROM and RCPT TO. Core's form model reads and checks the values
// (form::toDsnRequest); this is the options and their words.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>

#include "smtpc/dsn.h"

namespace smtpc::cli {

struct DsnOptions {
  QCommandLineOption notify, ret, envid, optional;
};

DsnOptions addDsnOptions(QCommandLineParser& parser);

// The options as the message's request; false with `why` (naming the option) when a value is wrong.
bool readDsnOptions(const QCommandLineParser& parser, const DsnOptions& options, DsnRequest& dsn, QString* why);

}  // namespace smtpc::cli
