// Runs the smtpc command-line tool (SMTPC_CLI) as a person or a script would, for the CLI's tests.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

struct CliRun {
  int status = -1;
  QString out, err;
  QString all() const { return out + err; }
};

// A CLI that hangs (even after printing "OK") or crashes must never pass: its status is one no
// test expects, not whatever exitCode() kept from before.
inline constexpr int kCliHung = -2;
inline constexpr int kCliCrashed = -3;

// smtpc with `arguments` and `environment`; standard input is `inputFile` when given, else
// `input`, then closed.
inline CliRun runCli(const QStringList& arguments, const QProcessEnvironment& environment, const QByteArray& input = {},
                     const QString& inputFile = {}) {
  QProcess p;
  p.setProcessEnvironment(environment);
  if (!inputFile.isEmpty()) p.setStandardInputFile(inputFile);
  p.start(QStringLiteral(SMTPC_CLI), arguments);
  if (inputFile.isEmpty()) {
    p.write(input);
    p.closeWriteChannel();
  }
  int status = kCliHung;
  if (p.waitForFinished(60000)) {
    status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : kCliCrashed;
  } else {
    p.kill();
    p.waitForFinished(5000);
  }
  return CliRun{status, QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}
