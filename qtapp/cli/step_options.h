// smtpc --step: walk through the conversation one command at a time (issue 17, step-through).
// Before each command smtpc prints what it will send, why, and the replies that may come, then
// waits for a line on standard input: Enter sends it, "c" goes on to the next step of the step
// bar, "r" runs to the end, "q" quits. From a terminal that is the Enter key; from a pipe or a
// file, one line per step, so that scripts and tests can drive it.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <memory>

#include "smtpc/qt/client.h"

namespace smtpc::cli {

// Adds --step to `parser`.
QCommandLineOption addStepOption(QCommandLineParser& parser);

// Why --step cannot run with the other choices, or an empty string: the steps are read from
// standard input, so nothing else may read it (--password-stdin, --data -).
QString stepConflict(bool passwordFromStandardInput, bool dataFromStandardInput);

class StepPrompt;

// Puts `client` in step mode and answers its pauses from standard input until the session ends.
// The explanations go to standard output, or to standard error when `toStandardError` (--json
// keeps standard output for its one object). The returned object must live as long as the run.
std::shared_ptr<StepPrompt> stepThrough(qt::QtClient& client, bool toStandardError);

}  // namespace smtpc::cli
