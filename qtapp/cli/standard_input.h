// smtpc --data - (--data-file -): the message from standard input, as curl's -T - and swaks'
// --data - take it.
#pragma once

#include <memory>

#include "smtpc/message.h"
#include "smtpc/result.h"

namespace smtpc::cli {

// The whole of standard input as a message's content, read as it is sent. A regular file
// (smtpc --data - < message.eml) is read in place; a pipe or a terminal is first copied, to its end,
// into an unnamed temporary file (in $TMPDIR, else /tmp): the message's size must be known for
// SIZE= and whether it is 8-bit before MAIL FROM, and --count sends it more than once. Memory
// stays constant whatever the size.
Result<std::shared_ptr<ContentSource>> messageFromStandardInput();

}  // namespace smtpc::cli
