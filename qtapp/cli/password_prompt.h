// smtpc's password prompt: asked on the terminal with echo off, when a login needs a password and
// no option or account gave one (as swaks and curl do). POSIX terminals only.
#pragma once

#include <string>

#include "smtpc/secret.h"

namespace smtpc::cli {

// Whether a person can be asked: standard input is a terminal. Not merely "a terminal can be
// opened": a script piped into smtpc (or a test under a terminal's session) must get an error,
// never a prompt that waits forever.
bool canPromptForPassword();

struct PromptedPassword {
  enum class Status { Ok, Cancelled, Failed };
  Status status = Status::Failed;
  Secret password;
  std::string why;  // for Failed: what went wrong (never the password)
};

// Writes `prompt` ("Password for demo@mail.example.com: ") to /dev/tty (standard error if there is
// none), reads one line with echo off, and puts the terminal back as it was: after the line, and
// from the signal handler on Ctrl-C, Ctrl-\, a hang-up or SIGTERM (then Status::Cancelled).
// Ctrl-Z is ignored while the prompt is up, so a stopped smtpc never leaves a shell without echo.
PromptedPassword promptForPassword(const std::string& prompt);

}  // namespace smtpc::cli
