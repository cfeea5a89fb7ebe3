/// \file
/// Secrets kept between runs: the GUI's remembered passwords and the OAuth refresh tokens that the
/// CLI and the GUI share. Each is bound to what it was saved for (a password to its server, port and
/// user; a refresh token to its issuer, client ID and user) and given back only for exactly that.
///
/// Kept in the operating system's keychain through QtKeychain, service "SMTPc" (Secret Service on
/// Linux, Keychain on macOS, Credential Manager on Windows). Where no keychain answers (no secret
/// service, as on a headless machine), in a settings file instead, in plain text: the file is made
/// readable by its owner only, and the caller says so to the person (Where::SettingsFile and
/// keychainProblem()).
///
/// Library smtpc_keychain (smtpc::keychain), apart from smtpc_qt so that programs using only the
/// client do not link QtKeychain. Every call runs the keychain's job to its end in a local event
/// loop (at most kKeychainTimeoutMs): call it where a short wait is fine (before or after a run).
#pragma once

#include <QSettings>
#include <QString>
#include <memory>
#include <string>

#include "smtpc/form.h"
#include "smtpc/qt/keychain_export.h"
#include "smtpc/secret.h"

namespace smtpc::qt {

/// Any secret under a key: the keychain first, else group/KEY in `settings`.
class SMTPC_KEYCHAIN_EXPORT SecretStore {
 public:
  /// Where a secret was kept or found.
  enum class Where {
    Nowhere,      ///< not kept, or not found
    Keychain,     ///< the operating system's keychain
    SettingsFile  ///< the owner-only settings file
  };

  /// `settings` holds the fallback copies under `group`; it must outlive the store.
  SecretStore(QSettings* settings, QString group);

  /// Stores `secret` under `key`: in the keychain, else in the settings file.
  Where save(const QString& key, const QString& secret);
  /// The secret stored under exactly `key` (empty if none), and where it was found.
  QString load(const QString& key, Where* where = nullptr);
  /// Removes what is stored under `key`, in the keychain and in the settings file.
  void forget(const QString& key);

  /// Why the keychain was not used the last time it was asked ("" when it answered).
  const QString& keychainProblem() const { return keychainProblem_; }
  /// The settings file that holds the fallback copies.
  QString settingsFile() const { return settings_->fileName(); }

  /// Makes the settings file readable and writable by its owner only (creating it empty if it
  /// is missing, so it is never written with wider permissions first).
  static void restrictPermissions(const QString& file);

  /// How long to wait for a keychain before using the settings file.
  static constexpr int kKeychainTimeoutMs = 5000;

 private:
  QString settingsKey(const QString& key) const;

  QSettings* settings_;
  QString group_;
  QString keychainProblem_;
};

/// The account one of the GUI's remembered passwords belongs to.
struct SMTPC_KEYCHAIN_EXPORT Account {
  QString server;  ///< as typed
  int port = 0;    ///< the port in use
  QString user;    ///< the user name
  /// Core's account (smtpc/form.h), whose rules the page shares.
  form::Account toCore() const;
  /// "smtp://user@server:port": one keychain entry, one settings key per account.
  QString key() const { return QString::fromStdString(toCore().key()); }
  /// Same server, port and user.
  bool operator==(const Account&) const = default;
};

/// The GUI's remembered passwords, one per Account, in a SecretStore.
class PasswordStore {
 public:
  using Where = SecretStore::Where;  ///< where a password was kept or found

  /// `settings` holds the fallback copies (group rememberedPasswords); it must outlive the store.
  explicit PasswordStore(QSettings* settings) : store_(settings, QStringLiteral("rememberedPasswords")) {}

  /// Stores `password` for exactly `account`.
  Where save(const Account& account, const QString& password) { return store_.save(account.key(), password); }
  /// The password saved for exactly `account` (empty if none), and where it was found.
  QString load(const Account& account, Where* where = nullptr) { return store_.load(account.key(), where); }
  /// Removes the password saved for `account`.
  void forget(const Account& account) { store_.forget(account.key()); }

  /// Why the keychain was not used the last time it was asked ("" when it answered).
  const QString& keychainProblem() const { return store_.keychainProblem(); }
  /// The settings file that holds the fallback copies.
  QString settingsFile() const { return store_.settingsFile(); }
  /// SecretStore::restrictPermissions().
  static void restrictPermissions(const QString& file) { SecretStore::restrictPermissions(file); }
  /// SecretStore::kKeychainTimeoutMs.
  static constexpr int kKeychainTimeoutMs = SecretStore::kKeychainTimeoutMs;

 private:
  SecretStore store_;
};

/// OAuth refresh tokens (issue 14), shared by the CLI and the GUI: the keychain entry is the one
/// key core names (oauth::refreshTokenKey: "ISSUER CLIENT_ID USER"); the fallback is its own file,
/// SMTPc/refresh-tokens.ini in the user's configuration folder (XDG_CONFIG_HOME on Linux), so
/// that both programs find what the other stored.
class SMTPC_KEYCHAIN_EXPORT RefreshTokenStore {
 public:
  using Where = SecretStore::Where;  ///< where a token was kept or found

  RefreshTokenStore();
  ~RefreshTokenStore();

  /// Stores `refreshToken` under `key` (oauth::refreshTokenKey()).
  Where save(const std::string& key, const Secret& refreshToken);
  /// The refresh token stored under exactly `key` (empty if none), and where it was found.
  Secret load(const std::string& key, Where* where = nullptr);
  /// Removes the token stored under `key` (--oauth-forget).
  void forget(const std::string& key);

  /// Why the keychain was not used the last time it was asked ("" when it answered).
  const QString& keychainProblem() const { return store_->keychainProblem(); }
  /// The fallback file, SMTPc/refresh-tokens.ini.
  QString settingsFile() const { return settings_->fileName(); }
  /// A sentence for the person when a token went to (or came from) the settings file: which file,
  /// and why no keychain was used. Empty for the keychain.
  QString fallbackWarning(Where where) const;

 private:
  std::unique_ptr<QSettings> settings_;
  std::unique_ptr<SecretStore> store_;
};

}  // namespace smtpc::qt

/// The desktop app's names for qt::Account and qt::PasswordStore: the GUI knew these as its own
/// before the refresh tokens needed them too.
namespace smtpc::gui {
using qt::Account;
using qt::PasswordStore;
}  // namespace smtpc::gui
