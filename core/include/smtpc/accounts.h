// The CLI's accounts file (~/.config/smtpc/accounts), read from text: pure parsing, no I/O. The
// program reads the file, checks who may read it, runs the password command and asks the keychain;
// core only says what the text means, or which line is wrong and why.
//
// The format is msmtp's, trimmed to what SMTPc uses:
//
//     # Lines starting with # are comments; blank lines are ignored.
//     default work
//
//     account work
//     server smtp.example.com
//     port 587
//     security starttls
//     user me@example.com
//     from Me <me@example.com>
//     password-command pass show mail/work
//
// `account NAME` starts an account; every `key value` line after it belongs to it. A value is the
// rest of the line, blanks around it removed; in double quotes it keeps its blanks ("\"" and "\\"
// inside). `default NAME` names the account used when the command line names neither an account
// nor a server; without it, an account called "default" is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/result.h"
#include "smtpc/sasl.h"
#include "smtpc/secret.h"
#include "smtpc/session.h"

namespace smtpc::accounts {

/// One `account NAME` block. A value the file does not set is empty (or nullopt): the command line
/// or the program's default applies.
struct Account {
  std::string name;                       ///< The word after `account`.
  std::size_t line = 0;                   ///< The `account NAME` line, counted from 1.
  std::string server;                     ///< `server HOST[:PORT]` (also `host`), as --server takes it.
  std::optional<std::uint16_t> port;      ///< `port N`, 1 to 65535.
  std::optional<SecurityMode> security;   ///< `security tls|starttls|starttls-if-offered|none`.
  std::string user;                       ///< `user NAME`: the login.
  std::optional<AuthMechanism> auth;      ///< `auth auto|plain|login|cram-md5|xoauth2|oauthbearer`.
  std::string from;                       ///< `from ADDR` or `from Name <ADDR>`: the sender.
  std::string ehlo;                       ///< `ehlo NAME`: the name to send in EHLO.
  std::string caFile;                     ///< `ca-file FILE`: CA certificates (PEM) to trust too.
  std::string passwordCommand;            ///< `password-command CMD` (also `passwordeval`): run by /bin/sh.
  bool keychain = false;                  ///< `keychain yes`: the password kept in the system keychain.
  Secret password;                        ///< `password SECRET`, in the file itself.
  std::size_t passwordLine = 0;           ///< The `password` line, counted from 1; 0 when there is none.
};

/// Everything in one accounts file, in the file's order.
struct SMTPC_CORE_EXPORT AccountsFile {
  std::vector<Account> accounts;          ///< Each `account` block.
  std::string defaultName;                ///< `default NAME`; empty when the file has no such line.

  /// The account called `name`; null when there is none.
  const Account* find(std::string_view name) const;
  /// The account to use when none is named: the `default NAME` line's, else the one called
  /// "default"; null when there is neither.
  const Account* defaultAccount() const;
  /// The first `password` line in the file (counted from 1); 0 when no account holds a password,
  /// the case in which others may read the file.
  std::size_t firstPasswordLine() const;
  /// The accounts' names, in the file's order (for messages and shell completion).
  std::vector<std::string> names() const;
};

/// Reads an accounts file's text. An error names the line (counted from 1) and says what to write
/// instead ("Line 7: unknown key \"hots\"; ..."); its code is ErrorCode::InvalidArgument and its
/// line is also stored in `problemLine` when given. Unknown keys are errors, not ignored: a
/// mistyped `security` must not silently fall back to the default.
SMTPC_CORE_EXPORT Result<AccountsFile> parseAccounts(std::string_view text, std::size_t* problemLine = nullptr);

/// The example shown in `smtpc --help` and the documentation: a file parseAccounts() accepts.
SMTPC_CORE_EXPORT std::string_view exampleText();

}  // namespace smtpc::accounts
