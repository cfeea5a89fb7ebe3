// smtpc --interactive (issue 17, "type it yourself"): the learner types the SMTP commands, as with
// telnet, and smtpc (core's smtpc::Console) sends them as typed; it starts TLS after STARTTLS's
// 220, builds AUTH PLAIN/LOGIN's base64 from a user name and a password it asks for, dot-stuffs
// the message after DATA, and warns before a command that cannot work now ("send it anyway?").
// Lines come from standard input: a terminal, or a pipe (then each line waits for the reply to
// the one before, and the password is the line after the user name).
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>

namespace smtpc::cli {

// Adds --interactive to `parser`.
QCommandLineOption addInteractiveOption(QCommandLineParser& parser);

// Runs the console with --server, --port, --security, --ca-file, --insecure, --tls-name, --tls-min
// and --timeout from `parser`, until the connection ends; returns the exit status.
int runInteractive(const QCommandLineParser& parser);

}  // namespace smtpc::cli
