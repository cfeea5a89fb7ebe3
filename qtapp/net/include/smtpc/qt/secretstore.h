// Remembered passwords (and, later, OAuth refresh tokens), each bound to the server, port and
// user it was saved for: a password is given back only for exactly that account.
//
// Kept in the operating system's keychain through QtKeychain (Secret Service on Linux, Keychain
// on macOS, Credential Manager on Windows). Where no keychain answers (no secret service, as on
// a headless machine), in the settings file instead, in plain text: the file is made readable by
// its owner only and the window says so (usedFallback, fallbackReason).
#pragma once

#include <QSettings>
#include <QString>

#include "smtpc/form.h"

namespace smtpc::gui {

struct Account {
  QString server;
  int port = 0;
  QString user;
  // Core's account (smtpc/form.h), whose rules the page shares.
  form::Account toCore() const;
  // "smtp://user@server:port": one keychain entry, one settings key per account.
  QString key() const { return QString::fromStdString(toCore().key()); }
  bool operator==(const Account&) const = default;
};

class PasswordStore {
 public:
  enum class Where { Nowhere, Keychain, SettingsFile };

  // `settings` holds the fallback copies; it must outlive the store.
  explicit PasswordStore(QSettings* settings);

  // Stores `password` for `account`: in the keychain, else in the settings file.
  Where save(const Account& account, const QString& password);
  // The password saved for exactly `account` (empty if none), and where it was found.
  QString load(const Account& account, Where* where = nullptr);
  // Removes what is stored for `account`, in the keychain and in the settings file.
  void forget(const Account& account);

  // Why the keychain was not used the last time it was asked ("" when it answered).
  const QString& keychainProblem() const { return keychainProblem_; }
  QString settingsFile() const { return settings_->fileName(); }

  // Makes the settings file readable and writable by its owner only (creating it empty if it
  // is missing, so it is never written with wider permissions first).
  static void restrictPermissions(const QString& file);

  // How long to wait for a keychain before using the settings file.
  static constexpr int kKeychainTimeoutMs = 5000;

 private:
  QString settingsKey(const Account& account) const;

  QSettings* settings_;
  QString keychainProblem_;
};

}  // namespace smtpc::gui
