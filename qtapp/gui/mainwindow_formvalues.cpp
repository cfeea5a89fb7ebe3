// What the form says and how it is read: a preset filling it in, the security hints beside it,
// and its values turned into ConnectParams and a message. The rules are core's front-end model
// (smtpc/form.h), shared with the CLI and the page; this file only reads and fills widgets.
#include "mainwindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QToolButton>

#include "guitext.h"
#include "smtpc/form.h"
#include "smtpc/message.h"
#include "smtpc/qt/attachment.h"

namespace smtpc::gui {

void MainWindow::applyPreset(int index) {
  const QString id = preset_->itemData(index).toString();
  const Preset* preset = findPreset(id.toStdString());
  if (!preset) {
    presetNote_->setText(tr("Enter your provider's SMTP server: its help pages name the host, the port and the "
                            "security mode for \"sending mail from other programs\"."));
    return;
  }
  const bool sandbox = id == QStringLiteral("sandbox");
  setConnection(sandbox && !sandboxHost_.isEmpty() ? sandboxHost_ : qs(preset->host), preset->security,
                sandbox && sandboxPort_ ? sandboxPort_ : (preset->port ? preset->port : defaultPort(preset->security)));
  if (sandbox && !sandboxCaFile_.isEmpty()) caFile_->setText(sandboxCaFile_);
  presetNote_->setText(qs(preset->note));
}

void MainWindow::setConnection(const QString& server, SecurityMode security, int port) {
  server_->setText(server);
  security_->setCurrentIndex(security_->findData(qs(securityModeName(security))));
  settingPort_ = true;  // not the person editing it
  port_->setValue(port);
  settingPort_ = false;
  portEdited_ = false;
  updateSecurityHints();
}

void MainWindow::updateSecurityHints() {
  // The hints are core's (smtpc/form.h), the same as the page's.
  const auto mode = securityModeFromName(security_->currentData().toString().toStdString()).value_or(SecurityMode::StartTls);
  const QString warning = qs(form::securityHint(mode, static_cast<std::uint16_t>(port_->value())));
  securityWarning_->setText(warning);
  securityWarning_->setVisible(!warning.isEmpty());
  insecureWarning_->setVisible(form::insecureSwitches(acceptInvalid_->isChecked(), allowPlaintext_->isChecked()));
  const auto fields =
      form::credentialFields(mechanismFromName(auth_->currentData().toString().toStdString()).value_or(AuthMechanism::Auto));
  password_->setEnabled(fields.password);
  showPassword_->setEnabled(fields.password);
  token_->setEnabled(fields.token);
  signInBox_->setVisible(fields.token);  // "Sign in…" gets a token: only where one can be used
}

form::RunPlan MainWindow::runPlan(bool sending) const {
  if (sending) return form::planRun(form::RunKind::Send, std::nullopt);
  return form::planRun(form::RunKind::Test, phaseFromName(stopAfter_->currentData().toString().toStdString()));
}

void MainWindow::showFormProblem(const form::Problem& problem) {
  showProblem(qs(problem.headline), qs(problem.explanation));
  if (auto* field = findChild<QWidget*>(qs(problem.field))) field->setFocus();
}

std::optional<ConnectParams> MainWindow::paramsFromForm(bool sending) {
  // Only reading the widgets (and the files they name) is the GUI's; every rule is core's.
  if (const auto bad = form::checkServer(server_->text().toStdString())) return showFormProblem(*bad), std::nullopt;
  form::ConnectionForm f;
  f.server = server_->text().toStdString();
  f.port = static_cast<std::uint16_t>(port_->value());
  f.security = *securityModeFromName(security_->currentData().toString().toStdString());
  f.auth = *mechanismFromName(auth_->currentData().toString().toStdString());
  f.username = username_->text().toStdString();
  f.password = password_->text().toStdString();
  f.token = token_->text().toStdString();
  f.allowPlaintext = allowPlaintext_->isChecked();
  QString why;
  if (!caFile_->text().trimmed().isEmpty()) {
    auto pem = qt::readFile(caFile_->text().trimmed(), &why);
    if (!pem) return showProblem(tr("CA file unreadable"), why), std::nullopt;
    f.caPem = *pem;
  }
  f.pins = pin_->text().toStdString();
  for (auto [edit, into] : {std::pair{clientCert_, &f.clientCertificatePem}, std::pair{clientKey_, &f.clientKeyPem}}) {
    if (edit->text().isEmpty()) continue;
    auto pem = qt::readFile(edit->text(), &why);
    if (!pem) return showProblem(tr("Client certificate unreadable"), why), std::nullopt;
    *into = *pem;
  }
  f.acceptInvalid = acceptInvalid_->isChecked();
  f.ehloName = ehlo_->text().toStdString();
  f.timeoutSeconds = timeout_->value();
  f.noChunking = noChunking_->isChecked();
  form::Problem problem;
  auto params = form::toConnectParams(f, runPlan(sending), &problem);
  if (!params) return showFormProblem(problem), std::nullopt;
  return params;
}

std::optional<OutgoingMessage> MainWindow::messageFromForm(QString* why) {
  form::MessageForm f;
  f.from = from_->text().toStdString();
  f.to = to_->text().toStdString();
  f.cc = cc_->text().toStdString();
  f.bcc = bcc_->text().toStdString();
  f.subject = subject_->text().toStdString();
  f.text = body_->toPlainText().toStdString();
  f.dsnNotify = dsnNotify_->currentData().toString().toStdString();
  f.dsnRet = dsnRet_->currentData().toString().toStdString();
  f.dsnEnvelopeId = dsnEnvid_->text().toStdString();
  f.dsnOptional = dsnOptional_->isChecked();
  form::Problem problem;
  auto m = form::toMessage(f, &problem);
  if (!m) {
    *why = qs(problem.explanation);
    return std::nullopt;
  }
  m->headers.emplace_back("X-Mailer", "SMTPc " SMTPC_VERSION);
  for (int i = 0; i < attachments_->count(); ++i) {
    const QString path = attachments_->item(i)->data(Qt::UserRole).toString();
    auto attachment = qt::attachFile(path);
    if (!attachment) {
      *why = tr("Attachment %1: %2").arg(path, qs(attachment.error().explanation()));
      return std::nullopt;
    }
    m->attachments.push_back(*attachment);
  }
  const QDateTime now = QDateTime::currentDateTime();
  auto outgoing = m->toOutgoing(DateTime{now.toSecsSinceEpoch(), now.offsetFromUtc() / 60});
  if (!outgoing) {
    *why = qs(outgoing.error().explanation());
    return std::nullopt;
  }
  return *outgoing;
}

}  // namespace smtpc::gui
