/// \file
/// Text from a server, made safe to show. A reply is the peer's text: a greeting with
/// "ESC]0;title BEL", "ESC[2J" or "ESC[1A" would retitle, clear or overwrite a terminal (a server
/// could print a fake "=== OK" over a failure). Every front end that prints server text to a
/// terminal passes it through here; widgets show it as plain text instead.
#pragma once

#include <string>
#include <string_view>

#include "smtpc/core_export.h"

namespace smtpc {

/// Control characters (C0 but TAB, DEL, C1 — U+0080..U+009F) and bytes that are not valid UTF-8
/// become visible escapes: "\x1b", "\u009b"; a backslash becomes "\\" so the result is
/// unambiguous. Valid printable UTF-8 passes unchanged.
SMTPC_CORE_EXPORT std::string escapeForTerminal(std::string_view text);

}  // namespace smtpc
