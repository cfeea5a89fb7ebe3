// What the window remembers between sessions: the form's values in QSettings (never "accept an
// invalid certificate" or "allow a password without TLS", never a token), and a remembered
// password in the PasswordStore, bound to its server, port and user.
#include "mainwindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

namespace smtpc::gui {

void MainWindow::loadSettings(const StartupValues& startup) {
  int presetIndex = 0;
  if (settings_) {
    QSettings& s = *settings_;
    presetIndex = std::max(0, preset_->findData(s.value(QStringLiteral("preset"), QStringLiteral("sandbox")).toString()));
    emailAddress_->setText(s.value(QStringLiteral("emailAddress")).toString());  // discovery starts from it
  }
  preset_->setCurrentIndex(presetIndex);
  applyPreset(presetIndex);
  if (settings_ && settings_->contains(QStringLiteral("server"))) {
    QSettings& s = *settings_;
    server_->setText(s.value(QStringLiteral("server")).toString());
    security_->setCurrentIndex(std::max(0, security_->findData(s.value(QStringLiteral("security")).toString())));
    settingPort_ = true;
    port_->setValue(s.value(QStringLiteral("port"), port_->value()).toInt());
    settingPort_ = false;
    portEdited_ = s.value(QStringLiteral("portEdited"), false).toBool();
    auth_->setCurrentIndex(std::max(0, auth_->findData(s.value(QStringLiteral("auth")).toString())));
    username_->setText(s.value(QStringLiteral("username")).toString());
    {
      const QSignalBlocker quiet(rememberPassword_);  // loading is not the person unticking it
      rememberPassword_->setChecked(s.value(QStringLiteral("rememberPassword"), false).toBool());
    }
    // The sign-in's choices (core's remembered fields); its tokens never: the access token lives
    // in memory, the refresh token in the RefreshTokenStore.
    oauthProvider_->setCurrentIndex(std::max(0, oauthProvider_->findData(s.value(QStringLiteral("oauthProvider")).toString())));
    clientId_->setText(s.value(QStringLiteral("clientId")).toString());
    oauthIssuer_->setText(s.value(QStringLiteral("oauthIssuer")).toString());
    tenant_->setText(s.value(QStringLiteral("tenant")).toString());
    oauthFlow_->setCurrentIndex(std::max(0, oauthFlow_->findData(s.value(QStringLiteral("oauthFlow")).toString())));
    caFile_->setText(s.value(QStringLiteral("caFile")).toString());
    pin_->setText(s.value(QStringLiteral("pin")).toString());
    clientCert_->setText(s.value(QStringLiteral("clientCert")).toString());
    clientKey_->setText(s.value(QStringLiteral("clientKey")).toString());
    ehlo_->setText(s.value(QStringLiteral("ehlo")).toString());
    timeout_->setValue(s.value(QStringLiteral("timeout"), 30).toInt());
    stopAfter_->setCurrentIndex(std::max(0, stopAfter_->findData(s.value(QStringLiteral("stopAfter")).toString())));
    from_->setText(s.value(QStringLiteral("from")).toString());
    to_->setText(s.value(QStringLiteral("to")).toString());
    // Not remembered on purpose: "accept an invalid certificate" and "allow a password without
    // TLS" must be chosen again each time.
  }
  // The command line (the demo) wins over remembered settings.
  if (!startup.server.isEmpty()) {
    preset_->setCurrentIndex(preset_->findData(QStringLiteral("sandbox")));
    applyPreset(preset_->currentIndex());
  }
  if (!startup.security.isEmpty()) {
    const int index = security_->findData(startup.security);
    if (index >= 0) security_->setCurrentIndex(index);
  }
  if (startup.port) {
    settingPort_ = true;
    port_->setValue(startup.port);
    settingPort_ = false;
    portEdited_ = true;
  }
  if (!startup.username.isEmpty()) username_->setText(startup.username);
  if (!startup.password.isEmpty()) password_->setText(startup.password);
  if (!startup.caFile.isEmpty()) caFile_->setText(startup.caFile);
  if (settings_) {
    // Before 0.1, one unbound password sat in plain text under "password": it belonged to the
    // account saved beside it, so it moves to the store for that account only.
    if (settings_->contains(QStringLiteral("password"))) {
      const QString legacy = settings_->value(QStringLiteral("password")).toString();
      settings_->remove(QStringLiteral("password"));
      if (rememberPassword_->isChecked() && !legacy.isEmpty() && startup.server.isEmpty() && !startup.port &&
          startup.username.isEmpty())
        passwords_->save(currentAccount(), legacy);
      settings_->sync();
    }
    if (rememberPassword_->isChecked() && startup.password.isEmpty()) loadRememberedPassword();
  }
}

void MainWindow::saveSettings() {
  if (!settings_) return;
  QSettings& s = *settings_;
  s.setValue(QStringLiteral("preset"), preset_->currentData());
  s.setValue(QStringLiteral("emailAddress"), emailAddress_->text().trimmed());
  s.setValue(QStringLiteral("server"), server_->text());
  s.setValue(QStringLiteral("port"), port_->value());
  s.setValue(QStringLiteral("portEdited"), portEdited_);
  s.setValue(QStringLiteral("security"), security_->currentData());
  s.setValue(QStringLiteral("auth"), auth_->currentData());
  s.setValue(QStringLiteral("username"), username_->text());
  s.setValue(QStringLiteral("rememberPassword"), rememberPassword_->isChecked());
  saveRememberedPassword();
  s.setValue(QStringLiteral("oauthProvider"), oauthProvider_->currentData());
  s.setValue(QStringLiteral("clientId"), clientId_->text().trimmed());
  s.setValue(QStringLiteral("oauthIssuer"), oauthIssuer_->text().trimmed());
  s.setValue(QStringLiteral("tenant"), tenant_->text().trimmed());
  s.setValue(QStringLiteral("oauthFlow"), oauthFlow_->currentData());
  s.setValue(QStringLiteral("caFile"), caFile_->text());
  s.setValue(QStringLiteral("pin"), pin_->text());
  s.setValue(QStringLiteral("clientCert"), clientCert_->text());
  s.setValue(QStringLiteral("clientKey"), clientKey_->text());
  s.setValue(QStringLiteral("ehlo"), ehlo_->text());
  s.setValue(QStringLiteral("timeout"), timeout_->value());
  s.setValue(QStringLiteral("stopAfter"), stopAfter_->currentData());
  s.setValue(QStringLiteral("from"), from_->text());
  s.setValue(QStringLiteral("to"), to_->text());
  s.sync();
  PasswordStore::restrictPermissions(s.fileName());
}

Account MainWindow::currentAccount() const {
  return Account{server_->text().trimmed(), port_->value(), username_->text().trimmed()};
}

void MainWindow::loadRememberedPassword() {
  const Account account = currentAccount();
  if (!passwords_ || account.server.isEmpty() || account.user.isEmpty()) return;
  PasswordStore::Where where = PasswordStore::Where::Nowhere;
  const QString password = passwords_->load(account, &where);
  if (password.isEmpty()) return;
  password_->setText(password);
  storedFor_ = account;
  storedPassword_ = password;
  showPasswordStorage(where);
}

void MainWindow::saveRememberedPassword() {
  const Account account = currentAccount();
  if (!passwords_ || !rememberPassword_->isChecked() || account.server.isEmpty() || account.user.isEmpty() ||
      password_->text().isEmpty())
    return;
  if (storedFor_ == account && storedPassword_ == password_->text()) return;  // already there
  showPasswordStorage(passwords_->save(account, password_->text()));
  storedFor_ = account;
  storedPassword_ = password_->text();
}

void MainWindow::forgetRememberedPassword() {
  if (!passwords_) return;
  passwords_->forget(currentAccount());
  if (storedFor_ && !(*storedFor_ == currentAccount())) passwords_->forget(*storedFor_);
  storedFor_.reset();
  storedPassword_.clear();
  showPasswordStorage(PasswordStore::Where::Nowhere);
}

// A password the store filled in belongs to its account: when the server, port or user changes
// under it, it goes (it would otherwise be sent to another server).
void MainWindow::onAccountEdited() {
  const auto savedFor = storedFor_ ? std::optional(storedFor_->toCore()) : std::nullopt;
  if (form::rememberedPassword(savedFor, currentAccount().toCore(), password_->text().isEmpty(),
                               storedFor_ && password_->text() == storedPassword_) != form::PasswordField::Clear)
    return;
  password_->clear();
  storedFor_.reset();
  storedPassword_.clear();
  showPasswordStorage(PasswordStore::Where::Nowhere);
}

void MainWindow::showPasswordStorage(PasswordStore::Where where) {
  if (where != PasswordStore::Where::SettingsFile || !passwords_) {
    passwordWarning_->setVisible(false);
    passwordWarning_->clear();
    return;
  }
  const QString why = passwords_->keychainProblem().isEmpty() ? tr("no keychain answered") : passwords_->keychainProblem();
  passwordWarning_->setText(tr("⚠ No system keychain (%1): the password is kept in plain text in %2, readable only "
                               "by you.")
                                .arg(why, QDir::toNativeSeparators(passwords_->settingsFile())));
  passwordWarning_->setVisible(true);
}

}  // namespace smtpc::gui
