// smtpc's accounts file (-a NAME) and where a login's password comes from when the command line
// gives none: the account (its password command, the keychain or the file itself), the keychain
// (--keychain), or a prompt on the terminal. The file's text is core's (smtpc/accounts.h); reading
// it, who may read it, running the command and asking the keychain are here.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <cstdint>
#include <optional>
#include <string>

#include "smtpc/accounts.h"
#include "smtpc/secret.h"

namespace smtpc::cli {

struct AccountOptions {
  QCommandLineOption account, accountsFile, keychain, rememberPassword;
};
AccountOptions addAccountOptions(QCommandLineParser& parser);

// --accounts-file, else $XDG_CONFIG_HOME/smtpc/accounts, else ~/.config/smtpc/accounts.
QString accountsFilePath(const QCommandLineParser& parser, const AccountOptions& options);

// The account to use: -a NAME; else, when the command line names no server (`serverGiven`
// false), the file's default account if the file has one. nullopt when none is used; with
// `usage` set when the file cannot be used (unreadable, a line wrong, a password others can read)
// or -a names no account in it.
std::optional<accounts::Account> chooseAccount(const QCommandLineParser& parser, const AccountOptions& options,
                                               bool serverGiven, QString* usage);

// What a login needs to find its password.
struct PasswordQuestion {
  const accounts::Account* account = nullptr;  // the chosen account, if any
  bool keychainOption = false;                 // --keychain
  std::string server;                          // as given (before --resolve): the keychain's entry
  std::uint16_t port = 0;
  std::string user;
  bool standardInputTaken = false;  // --data - or --password-stdin: a command gets no standard input
};

struct FoundPassword {
  int status = 0;  // 0 found; else the exit status (1 no source or a source failed, 7 cancelled)
  QString why;     // for a status: what to do (never the password)
  Secret password;
  bool fromKeychain = false;
};

// The password for a login whose command line gave no --password-env, --password-stdin,
// --token-env or --oauth: --keychain, else the account's source (when its user is the login's),
// else a prompt when standard input is a terminal.
FoundPassword findPassword(const PasswordQuestion& question);

// --remember-password: keeps `password` in the keychain (the entry smtpc-gui fills too) for the
// server, port and user, and says where it went. Returns false when only the settings file took it.
bool rememberPassword(const PasswordQuestion& question, const Secret& password);

// What --help says about accounts and passwords, with an example file.
QString accountsHelp();

}  // namespace smtpc::cli
