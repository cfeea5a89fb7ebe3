// What the form says and how it is read: a preset filling it in, the security hints beside it,
// and its values checked and turned into ConnectParams and a message. Every rule about the
// form's values is here, in one place, so that core's front-end model (smtpc/form.h) can take
// them over by replacing this file's insides; the widgets stay as they are.
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
#include "smtpc/message.h"

namespace smtpc::gui {

namespace {

QStringList splitAddresses(const QString& text) {
  QStringList out;
  // Commas and semicolons separate addresses, except inside a quoted display name.
  QString current;
  bool quoted = false;
  for (QChar c : text) {
    if (c == u'"') quoted = !quoted;
    if (!quoted && (c == u',' || c == u';' || c == u'\n')) {
      if (!current.trimmed().isEmpty()) out << current.trimmed();
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.trimmed().isEmpty()) out << current.trimmed();
  return out;
}

}  // namespace

void MainWindow::applyPreset(int index) {
  const QString id = preset_->itemData(index).toString();
  const Preset* preset = findPreset(id.toStdString());
  if (!preset) {
    presetNote_->setText(tr("Enter your provider's SMTP server: its help pages name the host, the port and the "
                            "security mode for \"sending mail from other programs\"."));
    return;
  }
  const bool sandbox = id == QStringLiteral("sandbox");
  server_->setText(sandbox && !sandboxHost_.isEmpty() ? sandboxHost_ : qs(preset->host));
  security_->setCurrentIndex(security_->findData(qs(securityModeName(preset->security))));
  settingPort_ = true;
  port_->setValue(sandbox && sandboxPort_ ? sandboxPort_ : (preset->port ? preset->port : defaultPort(preset->security)));
  settingPort_ = false;
  portEdited_ = false;
  if (sandbox && !sandboxCaFile_.isEmpty()) caFile_->setText(sandboxCaFile_);
  presetNote_->setText(qs(preset->note));
  updateSecurityHints();
}

void MainWindow::updateSecurityHints() {
  const auto mode = securityModeFromName(security_->currentData().toString().toStdString()).value_or(SecurityMode::StartTls);
  QString warning;
  if (mode == SecurityMode::None)
    warning = tr("Nothing is encrypted: the whole conversation can be read on the way.");
  else if (mode == SecurityMode::StartTlsIfOffered)
    warning = tr("Unsafe: if STARTTLS is missing (or removed by an attacker), SMTPc goes on in clear text.");
  const int port = port_->value();
  if (mode == SecurityMode::ImplicitTls && (port == 25 || port == 587))
    warning = tr("Port %1 usually starts in clear text: choose STARTTLS, or port 465.").arg(port);
  else if (mode != SecurityMode::ImplicitTls && port == 465)
    warning = tr("Port 465 usually expects TLS from the first byte: choose Implicit TLS.");
  securityWarning_->setText(warning);
  securityWarning_->setVisible(!warning.isEmpty());
  insecureWarning_->setVisible(acceptInvalid_->isChecked() || allowPlaintext_->isChecked());
  const QString mech = auth_->currentData().toString();
  const bool oauth = mech == QStringLiteral("XOAUTH2") || mech == QStringLiteral("OAUTHBEARER");
  password_->setEnabled(!oauth);
  showPassword_->setEnabled(!oauth);
  token_->setEnabled(oauth || mech == QStringLiteral("AUTO"));
}

std::optional<ConnectParams> MainWindow::paramsFromForm(bool sending) {
  ConnectParams params;
  const QString host = server_->text().trimmed();
  if (host.isEmpty()) {
    showProblem(tr("No server"), tr("Enter the server's name, for example smtp.example.com."));
    server_->setFocus();
    return std::nullopt;
  }
  if (host.contains(u' ') || host.contains(u'/') || host.contains(u'@')) {
    showProblem(tr("That is not a server name"),
                tr("Enter only the host name, like smtp.example.com: no spaces, no \"smtp://\", no e-mail address."));
    server_->setFocus();
    return std::nullopt;
  }
  params.host = host.toStdString();
  params.port = static_cast<std::uint16_t>(port_->value());
  params.security = *securityModeFromName(security_->currentData().toString().toStdString());
  params.authMechanism = *mechanismFromName(auth_->currentData().toString().toStdString());
  params.credentials.username = username_->text().trimmed().toStdString();
  if (password_->isEnabled() && !password_->text().isEmpty()) params.credentials.password = Secret(password_->text().toStdString());
  if (token_->isEnabled() && !token_->text().isEmpty()) params.credentials.oauthToken = Secret(token_->text().toStdString());
  if (!params.credentials.username.empty() && params.credentials.password.empty() && params.credentials.oauthToken.empty()) {
    showProblem(tr("No password"), tr("A user name was given but no password (or token). Leave the user name empty "
                                      "to test without logging in."));
    password_->setFocus();
    return std::nullopt;
  }
  params.allowPlaintextAuth = allowPlaintext_->isChecked();
  QString why;
  if (!caFile_->text().trimmed().isEmpty()) {
    auto pem = qt::readFile(caFile_->text().trimmed(), &why);
    if (!pem) return showProblem(tr("CA file unreadable"), why), std::nullopt;
    params.tls.caCertificatesPem = *pem;
  }
  for (const QString& pin : pin_->text().split(u',', Qt::SkipEmptyParts)) {
    if (!pin.trimmed().startsWith(QStringLiteral("sha256//")))
      return showProblem(tr("Pin not understood"), tr("A pinned key looks like sha256//BASE64; copy it from the TLS tab.")),
             std::nullopt;
    params.tls.pinnedSha256.push_back(pin.trimmed().toStdString());
  }
  if (clientCert_->text().isEmpty() != clientKey_->text().isEmpty())
    return showProblem(tr("Client certificate incomplete"), tr("Give both the client certificate and its key.")), std::nullopt;
  if (!clientCert_->text().isEmpty()) {
    auto cert = qt::readFile(clientCert_->text(), &why);
    auto key = cert ? qt::readFile(clientKey_->text(), &why) : std::nullopt;
    if (!cert || !key) return showProblem(tr("Client certificate unreadable"), why), std::nullopt;
    params.tls.clientCertificatePem = *cert;
    params.tls.clientKeyPem = *key;
  }
  params.tls.acceptInvalidCertificate = acceptInvalid_->isChecked();
  params.ehloName = ehlo_->text().trimmed().toStdString();
  params.timeouts = Timeouts::uniform(std::chrono::seconds(timeout_->value()));
  params.quitAfter = sending ? Phase::None : *phaseFromName(stopAfter_->currentData().toString().toStdString());
  return params;
}

std::optional<OutgoingMessage> MainWindow::messageFromForm(QString* why) {
  Message m;
  auto from = Mailbox::parse(from_->text().trimmed().toStdString());
  if (!from) {
    *why = tr("From: %1").arg(qs(from.error().explanation()));
    return std::nullopt;
  }
  m.from = *from;
  auto fill = [why](const QString& label, const QString& text, std::vector<Mailbox>& into) {
    for (const QString& part : splitAddresses(text)) {
      auto mailbox = Mailbox::parse(part.toStdString());
      if (!mailbox) {
        *why = QStringLiteral("%1 \"%2\": %3").arg(label, part, qs(mailbox.error().explanation()));
        return false;
      }
      into.push_back(*mailbox);
    }
    return true;
  };
  if (!fill(tr("To"), to_->text(), m.to) || !fill(tr("Cc"), cc_->text(), m.cc) || !fill(tr("Bcc"), bcc_->text(), m.bcc))
    return std::nullopt;
  if (m.to.empty() && m.cc.empty() && m.bcc.empty()) {
    *why = tr("Give at least one recipient (To, Cc or Bcc).");
    return std::nullopt;
  }
  m.subject = subject_->text().toStdString();
  m.text = body_->toPlainText().toStdString();
  m.headers.emplace_back("X-Mailer", "SMTPc " SMTPC_VERSION);
  for (int i = 0; i < attachments_->count(); ++i) {
    const QString path = attachments_->item(i)->data(Qt::UserRole).toString();
    auto attachment = Attachment::fromFile(path.toStdString());
    if (!attachment) {
      *why = tr("Attachment %1: %2").arg(path, qs(attachment.error().explanation()));
      return std::nullopt;
    }
    m.attachments.push_back(*attachment);
  }
  const QDateTime now = QDateTime::currentDateTime();
  auto outgoing = m.toOutgoing(DateTime{now.toSecsSinceEpoch(), now.offsetFromUtc() / 60});
  if (!outgoing) {
    *why = qs(outgoing.error().explanation());
    return std::nullopt;
  }
  return *outgoing;
}

}  // namespace smtpc::gui
