#include "passwordstore.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTimer>
#include <QUrl>
#include <memory>
#include <qt6keychain/keychain.h>

namespace smtpc::gui {

namespace {

const QString kService = QStringLiteral("SMTPc");
const QString kGroup = QStringLiteral("rememberedPasswords");

// Runs a keychain job to its end, or gives up after the timeout (a keychain that never answers
// is no keychain). The event loop ignores the person's input meanwhile, so nothing re-enters.
// Returns the job's error, or OtherError with `problem` set.
QKeychain::Error run(QKeychain::Job& job, QString* problem) {
  QEventLoop loop;
  bool done = false;
  QObject::connect(&job, &QKeychain::Job::finished, &loop, [&] {
    done = true;
    loop.quit();
  });
  QTimer::singleShot(PasswordStore::kKeychainTimeoutMs, &loop, &QEventLoop::quit);
  job.setAutoDelete(false);
  job.start();
  if (!done) loop.exec(QEventLoop::ExcludeUserInputEvents);
  if (!done) {
    *problem = QObject::tr("the keychain did not answer within %1 s").arg(PasswordStore::kKeychainTimeoutMs / 1000);
    return QKeychain::OtherError;
  }
  if (job.error() != QKeychain::NoError && job.error() != QKeychain::EntryNotFound) *problem = job.errorString();
  return job.error();
}

}  // namespace

form::Account Account::toCore() const {
  return form::Account{{}, server.toStdString(), static_cast<std::uint16_t>(port), user.toStdString()};
}

PasswordStore::PasswordStore(QSettings* settings) : settings_(settings) {}

QString PasswordStore::settingsKey(const Account& account) const {
  // QSettings treats '/' and '\' in a key as groups: percent-encode the whole key.
  return kGroup + u'/' + QString::fromLatin1(QUrl::toPercentEncoding(account.key()));
}

PasswordStore::Where PasswordStore::save(const Account& account, const QString& password) {
  keychainProblem_.clear();
  QKeychain::WritePasswordJob job(kService);
  job.setKey(account.key());
  job.setTextData(password);
  if (run(job, &keychainProblem_) == QKeychain::NoError) {
    settings_->remove(settingsKey(account));  // no stale plain-text copy
    settings_->sync();
    return Where::Keychain;
  }
  restrictPermissions(settings_->fileName());
  settings_->setValue(settingsKey(account), password);
  settings_->sync();
  restrictPermissions(settings_->fileName());
  return Where::SettingsFile;
}

QString PasswordStore::load(const Account& account, Where* where) {
  keychainProblem_.clear();
  QKeychain::ReadPasswordJob job(kService);
  job.setKey(account.key());
  if (run(job, &keychainProblem_) == QKeychain::NoError) {
    if (where) *where = Where::Keychain;
    return job.textData();
  }
  const QString key = settingsKey(account);
  if (settings_->contains(key)) {
    if (where) *where = Where::SettingsFile;
    return settings_->value(key).toString();
  }
  if (where) *where = Where::Nowhere;
  return {};
}

void PasswordStore::forget(const Account& account) {
  QKeychain::DeletePasswordJob job(kService);
  job.setKey(account.key());
  QString ignored;
  run(job, &ignored);
  settings_->remove(settingsKey(account));
  settings_->sync();
}

void PasswordStore::restrictPermissions(const QString& file) {
  if (file.isEmpty()) return;
  QFile settingsFile(file);
  if (!settingsFile.exists()) {
    QDir().mkpath(QFileInfo(file).absolutePath());
    if (settingsFile.open(QIODevice::WriteOnly)) settingsFile.close();
  }
  settingsFile.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
}

}  // namespace smtpc::gui
