#include "smtpc/qt/secretstore.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTimer>
#include <QUrl>
#include <qt6keychain/keychain.h>

namespace smtpc::qt {

namespace {

const QString kService = QStringLiteral("SMTPc");

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
  QTimer::singleShot(SecretStore::kKeychainTimeoutMs, &loop, &QEventLoop::quit);
  job.setAutoDelete(false);
  job.start();
  if (!done) loop.exec(QEventLoop::ExcludeUserInputEvents);
  if (!done) {
    *problem = QObject::tr("the keychain did not answer within %1 s").arg(SecretStore::kKeychainTimeoutMs / 1000);
    return QKeychain::OtherError;
  }
  if (job.error() != QKeychain::NoError && job.error() != QKeychain::EntryNotFound) *problem = job.errorString();
  return job.error();
}

}  // namespace

form::Account Account::toCore() const {
  return form::Account{{}, server.toStdString(), static_cast<std::uint16_t>(port), user.toStdString()};
}

SecretStore::SecretStore(QSettings* settings, QString group) : settings_(settings), group_(std::move(group)) {}

QString SecretStore::settingsKey(const QString& key) const {
  // QSettings treats '/' and '\' in a key as groups: percent-encode the whole key.
  return group_ + u'/' + QString::fromLatin1(QUrl::toPercentEncoding(key));
}

SecretStore::Where SecretStore::save(const QString& key, const QString& secret) {
  keychainProblem_.clear();
  QKeychain::WritePasswordJob job(kService);
  job.setKey(key);
  job.setTextData(secret);
  if (run(job, &keychainProblem_) == QKeychain::NoError) {
    settings_->remove(settingsKey(key));  // no stale plain-text copy
    settings_->sync();
    return Where::Keychain;
  }
  restrictPermissions(settings_->fileName());
  settings_->setValue(settingsKey(key), secret);
  settings_->sync();
  restrictPermissions(settings_->fileName());
  return Where::SettingsFile;
}

QString SecretStore::load(const QString& key, Where* where) {
  keychainProblem_.clear();
  QKeychain::ReadPasswordJob job(kService);
  job.setKey(key);
  if (run(job, &keychainProblem_) == QKeychain::NoError) {
    if (where) *where = Where::Keychain;
    return job.textData();
  }
  const QString inSettings = settingsKey(key);
  if (settings_->contains(inSettings)) {
    if (where) *where = Where::SettingsFile;
    return settings_->value(inSettings).toString();
  }
  if (where) *where = Where::Nowhere;
  return {};
}

void SecretStore::forget(const QString& key) {
  QKeychain::DeletePasswordJob job(kService);
  job.setKey(key);
  QString ignored;
  run(job, &ignored);
  settings_->remove(settingsKey(key));
  settings_->sync();
}

void SecretStore::restrictPermissions(const QString& file) {
  if (file.isEmpty()) return;
  QFile settingsFile(file);
  if (!settingsFile.exists()) {
    QDir().mkpath(QFileInfo(file).absolutePath());
    if (settingsFile.open(QIODevice::WriteOnly)) settingsFile.close();
  }
  settingsFile.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
}

// ---------------------------------------------------------------------------------------------

RefreshTokenStore::RefreshTokenStore()
    // An INI file on every platform (not the Windows registry), so that its permissions mean something.
    : settings_(std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("SMTPc"),
                                            QStringLiteral("refresh-tokens"))),
      store_(std::make_unique<SecretStore>(settings_.get(), QStringLiteral("refreshTokens"))) {
  // Owner-only before anything is written (the file may hold tokens).
  if (QFileInfo::exists(settings_->fileName())) SecretStore::restrictPermissions(settings_->fileName());
}

RefreshTokenStore::~RefreshTokenStore() = default;

RefreshTokenStore::Where RefreshTokenStore::save(const std::string& key, const Secret& refreshToken) {
  return store_->save(QString::fromStdString(key), QString::fromUtf8(refreshToken.reveal().data(),
                                                                      static_cast<qsizetype>(refreshToken.reveal().size())));
}

Secret RefreshTokenStore::load(const std::string& key, Where* where) {
  return Secret(store_->load(QString::fromStdString(key), where).toStdString());
}

void RefreshTokenStore::forget(const std::string& key) { store_->forget(QString::fromStdString(key)); }

QString RefreshTokenStore::fallbackWarning(Where where) const {
  if (where != Where::SettingsFile) return {};
  const QString why = keychainProblem().isEmpty() ? QObject::tr("no keychain answered") : keychainProblem();
  return QObject::tr("No system keychain (%1): the refresh token is kept in plain text in %2, readable only by you.")
      .arg(why, QDir::toNativeSeparators(settingsFile()));
}

}  // namespace smtpc::qt
