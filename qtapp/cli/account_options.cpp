// The accounts file is refused, as msmtp and ssh refuse theirs, when it is not safe to follow:
// owned by someone else or writable by others (they could make smtpc run a command of theirs),
// or holding a password that others can read.
#include "account_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSettings>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "password_prompt.h"
#include "smtpc/qt/secretstore.h"

namespace smtpc::cli {

namespace {

QString octal(mode_t mode) { return QStringLiteral("%1").arg(mode & 07777, 4, 8, QLatin1Char('0')); }

// The file's text, read through one descriptor so that the permissions checked are those of the
// file read (a symbolic link is followed: its target is what counts).
std::optional<std::string> readAccountsFile(const QString& path, struct stat* info, QString* why) {
  const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = path + ": " + QString::fromLocal8Bit(std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  bool ok = ::fstat(fd, info) == 0 && S_ISREG(info->st_mode);
  char buffer[16 * 1024];
  while (ok) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!ok) {
    *why = path + ": cannot be read as a file";
    return std::nullopt;
  }
  return text;
}

std::optional<accounts::AccountsFile> loadAccounts(const QString& path, QString* why) {
  struct stat info;
  auto text = readAccountsFile(path, &info, why);
  if (!text) return std::nullopt;
  if (info.st_uid != ::getuid() && info.st_uid != 0) {
    *why = path + QStringLiteral(" belongs to another user (uid %1): smtpc follows only your own accounts file, "
                                 "as it may run the commands written in it")
                      .arg(info.st_uid);
    return std::nullopt;
  }
  if (info.st_mode & (S_IWGRP | S_IWOTH)) {
    *why = path + " can be changed by others (mode " + octal(info.st_mode) +
           "), and with it the commands smtpc runs for a password: chmod go-w " + path;
    return std::nullopt;
  }
  std::size_t line = 0;
  auto file = accounts::parseAccounts(*text, &line);
  std::fill(text->begin(), text->end(), '\0');  // it may hold a password
  if (!file) {
    *why = path + ": " + QString::fromStdString(file.error().explanation());
    return std::nullopt;
  }
  if (const std::size_t passwordLine = file->firstPasswordLine(); passwordLine && (info.st_mode & (S_IRWXG | S_IRWXO))) {
    *why = path + QStringLiteral(" line %1 holds a password, and others can read the file (mode %2): chmod 600 %3, "
                                 "or use password-command or keychain instead")
                      .arg(passwordLine)
                      .arg(octal(info.st_mode), path);
    return std::nullopt;
  }
  return std::move(file).value();
}

// A password command's first line of output. Its standard error is the person's (gpg and pass
// say there why they failed); its standard input too, unless smtpc reads standard input itself.
std::optional<Secret> runPasswordCommand(const accounts::Account& account, bool standardInputTaken, QString* why) {
  QProcess command;
  command.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  if (standardInputTaken) command.setStandardInputFile(QProcess::nullDevice());
  else command.setInputChannelMode(QProcess::ForwardedInputChannel);
  command.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QString::fromStdString(account.passwordCommand)});
  const QString named = QStringLiteral("the password command of account %1").arg(QString::fromStdString(account.name));
  if (!command.waitForStarted(-1) || !command.waitForFinished(-1)) {
    *why = named + " could not be run: " + command.errorString();
    return std::nullopt;
  }
  QByteArray output = command.readAllStandardOutput();
  const qsizetype end = output.indexOf('\n');
  std::string password = output.left(end < 0 ? output.size() : end).toStdString();
  output.fill('\0');
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (command.exitStatus() != QProcess::NormalExit || command.exitCode() != 0) {
    *why = named + (command.exitStatus() == QProcess::NormalExit
                        ? QStringLiteral(" failed (exit status %1)").arg(command.exitCode())
                        : QStringLiteral(" was killed"));
    return std::nullopt;
  }
  if (password.empty()) {
    *why = named + " printed no password";
    return std::nullopt;
  }
  return Secret(std::move(password));
}

// The keychain entry smtpc-gui's "Remember password" fills: service SMTPc, "smtp://USER@SERVER:PORT"
// (core's form::Account::key), with the GUI's settings file as the fallback.
struct Keychain {
  QSettings settings{QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui")};
  qt::PasswordStore store{&settings};
  qt::Account account;
  explicit Keychain(const PasswordQuestion& q)
      : account{QString::fromStdString(q.server), q.port, QString::fromStdString(q.user)} {}
};

QString noSource(const PasswordQuestion& q) {
  return QStringLiteral("--user %1 needs a password: give --password-env VAR, --password-stdin, --keychain, or an "
                        "account (-a) with password-command or keychain; run smtpc on a terminal to be asked; "
                        "--token-env or --oauth for OAuth (never a password on the command line)")
      .arg(QString::fromStdString(q.user));
}

}  // namespace

AccountOptions addAccountOptions(QCommandLineParser& parser) {
  AccountOptions o{
      QCommandLineOption({"a", "account"}, "Use account NAME of the accounts file (see above).", "NAME"),
      QCommandLineOption("accounts-file", "Read the accounts from FILE instead of ~/.config/smtpc/accounts.", "FILE"),
      QCommandLineOption("keychain", "Log in with the password kept in the system keychain for this server, port and "
                                     "user (smtpc-gui's \"Remember password\", or --remember-password)."),
      QCommandLineOption("remember-password", "After a login that worked, keep its password in the system keychain "
                                              "for --keychain and smtpc-gui."),
  };
  for (const QCommandLineOption* each : {&o.account, &o.accountsFile, &o.keychain, &o.rememberPassword})
    parser.addOption(*each);
  return o;
}

QString accountsFilePath(const QCommandLineParser& parser, const AccountOptions& options) {
  if (parser.isSet(options.accountsFile)) return parser.value(options.accountsFile);
  QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
  if (config.isEmpty() || !QDir::isAbsolutePath(config)) config = QDir::homePath() + QStringLiteral("/.config");
  return config + QStringLiteral("/smtpc/accounts");
}

std::optional<accounts::Account> chooseAccount(const QCommandLineParser& parser, const AccountOptions& options,
                                               bool serverGiven, QString* usage) {
  const QString path = accountsFilePath(parser, options);
  const bool named = parser.isSet(options.account);
  // Without -a or --accounts-file, a missing file is no accounts; a named one must be there.
  if (!named && !parser.isSet(options.accountsFile) && (serverGiven || !QFileInfo::exists(path))) return std::nullopt;
  const auto file = loadAccounts(path, usage);
  if (!file) return std::nullopt;
  if (!named) {
    if (serverGiven || !file->defaultAccount()) return std::nullopt;
    return *file->defaultAccount();
  }
  const std::string name = parser.value(options.account).toStdString();
  if (const accounts::Account* account = file->find(name)) return *account;
  QStringList names;
  for (const std::string& each : file->names()) names << QString::fromStdString(each);
  *usage = QStringLiteral("no account %1 in %2 (%3)")
               .arg(QString::fromStdString(name), path,
                    names.isEmpty() ? QStringLiteral("it has none") : "it has " + names.join(QStringLiteral(", ")));
  return std::nullopt;
}

FoundPassword findPassword(const PasswordQuestion& q) {
  FoundPassword found;
  const accounts::Account* account = q.account;
  // The account's password goes with the account's login only: -u other is someone else.
  if (account && !account->user.empty() && account->user != q.user) account = nullptr;
  const bool fromKeychain = q.keychainOption || (account && account->keychain);
  QString keychainMiss;
  if (fromKeychain) {
    Keychain keychain(q);
    const QString password = keychain.store.load(keychain.account);
    if (!password.isEmpty()) {
      found.password = Secret(password.toStdString());
      found.fromKeychain = true;
      return found;
    }
    keychainMiss = QStringLiteral("no password is kept in the keychain for %1 (keep one with --remember-password)")
                       .arg(keychain.account.key());
  } else if (account && !account->password.empty()) {
    found.password = account->password;
    return found;
  } else if (account && !account->passwordCommand.empty()) {
    auto password = runPasswordCommand(*account, q.standardInputTaken, &found.why);
    if (!password) {
      found.status = 1;
      return found;
    }
    found.password = std::move(*password);
    return found;
  }

  if (!canPromptForPassword()) {
    found.status = 1;
    found.why = keychainMiss.isEmpty() ? noSource(q) : keychainMiss;
    return found;
  }
  if (!keychainMiss.isEmpty()) std::fprintf(stderr, "smtpc: %s\n", keychainMiss.toLocal8Bit().constData());
  auto prompted = promptForPassword("Password for " + q.user + "@" + q.server + ": ");
  switch (prompted.status) {
    case PromptedPassword::Status::Ok:
      found.password = std::move(prompted.password);
      break;
    case PromptedPassword::Status::Cancelled:
      found.status = 7;
      found.why = QStringLiteral("cancelled at the password prompt");
      break;
    case PromptedPassword::Status::Failed:
      found.status = 1;
      found.why = QString::fromStdString(prompted.why);
      break;
  }
  return found;
}

bool rememberPassword(const PasswordQuestion& q, const Secret& password) {
  Keychain keychain(q);
  qt::PasswordStore::restrictPermissions(keychain.settings.fileName());
  const auto where = keychain.store.save(
      keychain.account, QString::fromUtf8(password.reveal().data(), static_cast<qsizetype>(password.reveal().size())));
  if (where == qt::PasswordStore::Where::Keychain) {
    std::fprintf(stderr, "=== The password is kept in the system keychain for %s (--keychain).\n",
                keychain.account.key().toLocal8Bit().constData());
    return true;
  }
  const QString why = keychain.store.keychainProblem().isEmpty() ? QStringLiteral("no keychain answered")
                                                                 : keychain.store.keychainProblem();
  std::fprintf(stderr, "*** No system keychain (%s): the password is kept in plain text in %s, readable only by you.\n",
               why.toLocal8Bit().constData(), QDir::toNativeSeparators(keychain.settings.fileName()).toLocal8Bit().constData());
  return false;
}

QString accountsHelp() {
  // "> " before each line of the file: help2man keeps them as lines (a plain indented line is filled).
  QString example;
  for (const QString& line : QString::fromUtf8(accounts::exampleText().data(), static_cast<qsizetype>(accounts::exampleText().size()))
                                 .split(QLatin1Char('\n'), Qt::SkipEmptyParts))
    example += QStringLiteral("  > ") + line + QLatin1Char('\n');
  return QStringLiteral(
             "\n\nPasswords: with --user, the password comes from --password-env VAR, --password-stdin or --keychain;\n"
             "else from the account (-a); else smtpc asks for it on the terminal, without echo. Never on the\n"
             "command line (other users see it in ps).\n"
             "\n"
             "Accounts (-a NAME): ~/.config/smtpc/accounts ($XDG_CONFIG_HOME/smtpc/accounts; --accounts-file FILE),\n"
             "msmtp's format: \"account NAME\", then \"key value\" lines; # starts a comment line. Keys: server,\n"
             "port, security, user, auth, from, ehlo, ca-file, and one password source: password-command CMD\n"
             "(run by /bin/sh; its first line of output), keychain yes, or password SECRET (refused unless the\n"
             "file is chmod 600). Options on the command line win over the account's values. Without -a and\n"
             "without --server, the account named by a \"default NAME\" line (else one called default) is used.\n"
             "For example:\n"
             "\n") +
         example;
}

}  // namespace smtpc::cli
