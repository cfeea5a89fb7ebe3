// The form's widgets: the connection and its advanced settings, the buttons, and the composer
// for a test message (Find settings, above them, is mainwindow_discover.cpp). What the form's
// values mean is mainwindow_formvalues.cpp.
#include "mainwindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include "guitext.h"

namespace smtpc::gui {

namespace {

QLineEdit* fileField(QWidget* parent, QHBoxLayout** row, const QString& filter) {
  auto* edit = new QLineEdit(parent);
  auto* browse = new QToolButton(parent);
  browse->setText(QStringLiteral("…"));
  browse->setToolTip(QObject::tr("Choose a file"));
  QObject::connect(browse, &QToolButton::clicked, edit, [edit, filter] {
    const QString path = QFileDialog::getOpenFileName(edit->window(), QObject::tr("Choose a file"), edit->text(), filter);
    if (!path.isEmpty()) edit->setText(path);
  });
  *row = new QHBoxLayout;
  (*row)->setContentsMargins(0, 0, 0, 0);
  (*row)->addWidget(edit, 1);
  (*row)->addWidget(browse);
  return edit;
}

}  // namespace

QWidget* MainWindow::buildForm() {
  auto* panel = new QWidget;
  auto* column = new QVBoxLayout(panel);
  column->addWidget(buildDiscovery(panel));  // first: where someone who knows only their address starts

  auto* presetRow = new QFormLayout;
  preset_ = new QComboBox(panel);
  preset_->setObjectName(QStringLiteral("preset"));
  for (const auto& p : presets()) preset_->addItem(qs(p.name), qs(p.id));
  preset_->addItem(tr("Other server"), QStringLiteral("custom"));
  presetRow->addRow(tr("&Preset:"), preset_);
  column->addLayout(presetRow);
  presetNote_ = new QLabel(panel);
  presetNote_->setWordWrap(true);
  presetNote_->setObjectName(QStringLiteral("presetNote"));
  presetNote_->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
  column->addWidget(presetNote_);

  auto* connection = new QGroupBox(tr("Connection"), panel);
  auto* form = new QFormLayout(connection);
  server_ = new QLineEdit(connection);
  server_->setObjectName(QStringLiteral("server"));
  server_->setPlaceholderText(QStringLiteral("smtp.example.com"));
  form->addRow(tr("&Server:"), server_);
  port_ = new QSpinBox(connection);
  port_->setObjectName(QStringLiteral("port"));
  port_->setRange(1, 65535);
  port_->setValue(587);
  port_->setToolTip(tr("Follows the security mode (587 STARTTLS, 465 implicit TLS, 25 none) until you change it."));
  form->addRow(tr("P&ort:"), port_);
  security_ = new QComboBox(connection);
  security_->setObjectName(QStringLiteral("security"));
  for (const auto& c : form::choices("security")) security_->addItem(qs(c.text), qs(c.value));
  form->addRow(tr("Se&curity:"), security_);
  securityWarning_ = new QLabel(connection);
  securityWarning_->setWordWrap(true);
  securityWarning_->setStyleSheet(QStringLiteral("color: #b71c1c;"));
  form->addRow(QString(), securityWarning_);
  auth_ = new QComboBox(connection);
  auth_->setObjectName(QStringLiteral("auth"));
  for (const auto& c : form::choices("auth")) auth_->addItem(qs(c.text), qs(c.value));
  form->addRow(tr("&Login method:"), auth_);
  form->addRow(buildSignIn(connection));  // shown when the method can use a token
  username_ = new QLineEdit(connection);
  username_->setObjectName(QStringLiteral("username"));
  username_->setPlaceholderText(tr("empty: no login"));
  form->addRow(tr("&User name:"), username_);
  password_ = new QLineEdit(connection);
  password_->setObjectName(QStringLiteral("password"));
  password_->setEchoMode(QLineEdit::Password);
  showPassword_ = new QToolButton(connection);
  showPassword_->setObjectName(QStringLiteral("showPassword"));
  showPassword_->setText(tr("Show"));
  showPassword_->setCheckable(true);
  showPassword_->setToolTip(tr("Show or hide the password"));
  auto* passwordRow = new QHBoxLayout;
  passwordRow->addWidget(password_, 1);
  passwordRow->addWidget(showPassword_);
  auto* passwordLabel = new QLabel(tr("Pass&word:"), connection);
  passwordLabel->setBuddy(password_);
  form->addRow(passwordLabel, passwordRow);
  rememberPassword_ = new QCheckBox(tr("Remember the password"), connection);
  rememberPassword_->setToolTip(tr("Kept in the system keychain, for this server, port and user only. Where no keychain "
                                   "answers, in this program's settings file, readable only by you."));
  rememberPassword_->setObjectName(QStringLiteral("rememberPassword"));
  form->addRow(QString(), rememberPassword_);
  passwordWarning_ = new QLabel(connection);
  passwordWarning_->setObjectName(QStringLiteral("passwordWarning"));
  passwordWarning_->setWordWrap(true);
  passwordWarning_->setTextFormat(Qt::PlainText);
  passwordWarning_->setStyleSheet(QStringLiteral("color: #b71c1c;"));
  passwordWarning_->setVisible(false);
  form->addRow(QString(), passwordWarning_);
  token_ = new QLineEdit(connection);
  token_->setObjectName(QStringLiteral("token"));
  token_->setEchoMode(QLineEdit::Password);
  token_->setPlaceholderText(tr("OAuth2 access token, for XOAUTH2 / OAUTHBEARER"));
  form->addRow(tr("OAut&h token:"), token_);
  column->addWidget(connection);

  advanced_ = new QToolButton(panel);
  advanced_->setObjectName(QStringLiteral("advanced"));
  advanced_->setText(tr("A&dvanced settings"));
  advanced_->setToolTip(tr("CA file, pinned key, client certificate, invalid certificates, EHLO name, timeout, "
                           "where a test stops"));
  advanced_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  advanced_->setArrowType(Qt::RightArrow);
  advanced_->setCheckable(true);
  advanced_->setAutoRaise(true);
  column->addWidget(advanced_);
  auto* advancedBody = new QGroupBox(panel);
  auto* more = new QFormLayout(advancedBody);
  QHBoxLayout* row = nullptr;
  const auto addFileRow = [&](const QString& label, QLineEdit* edit) {
    auto* text = new QLabel(label, advancedBody);
    text->setBuddy(edit);
    more->addRow(text, row);
  };
  caFile_ = fileField(advancedBody, &row, tr("PEM certificates (*.pem *.crt);;All files (*)"));
  caFile_->setObjectName(QStringLiteral("caFile"));
  caFile_->setToolTip(tr("Extra CA certificates (PEM) to trust, for a server with a private CA."));
  addFileRow(tr("CA &file:"), caFile_);
  pin_ = new QLineEdit(advancedBody);
  pin_->setObjectName(QStringLiteral("pin"));
  pin_->setPlaceholderText(QStringLiteral("sha256//BASE64"));
  pin_->setToolTip(tr("Accept only this public key (shown in the TLS tab after a test)."));
  more->addRow(tr("Pi&nned key:"), pin_);
  clientCert_ = fileField(advancedBody, &row, tr("PEM (*.pem *.crt);;All files (*)"));
  clientCert_->setObjectName(QStringLiteral("clientCert"));
  addFileRow(tr("Client ce&rtificate:"), clientCert_);
  clientKey_ = fileField(advancedBody, &row, tr("PEM (*.pem *.key);;All files (*)"));
  clientKey_->setObjectName(QStringLiteral("clientKey"));
  addFileRow(tr("Client &key:"), clientKey_);
  acceptInvalid_ = new QCheckBox(tr("Accept an invalid certificate"), advancedBody);
  acceptInvalid_->setObjectName(QStringLiteral("acceptInvalid"));
  more->addRow(QString(), acceptInvalid_);
  insecureWarning_ = new QLabel(tr("⚠ Anyone between you and the server could read and change everything, "
                                   "including the password. For test servers only."),
                                advancedBody);
  insecureWarning_->setWordWrap(true);
  insecureWarning_->setStyleSheet(QStringLiteral("color: white; background: #c62828; padding: 4px; border-radius: 3px;"));
  insecureWarning_->setVisible(false);
  more->addRow(QString(), insecureWarning_);
  allowPlaintext_ = new QCheckBox(tr("Allow sending the password without TLS"), advancedBody);
  allowPlaintext_->setObjectName(QStringLiteral("allowPlaintext"));
  more->addRow(QString(), allowPlaintext_);
  ehlo_ = new QLineEdit(advancedBody);
  ehlo_->setObjectName(QStringLiteral("ehlo"));
  ehlo_->setPlaceholderText(tr("default: this computer's address, as [192.0.2.1]"));
  more->addRow(tr("&EHLO name:"), ehlo_);
  timeout_ = new QSpinBox(advancedBody);
  timeout_->setObjectName(QStringLiteral("timeout"));
  timeout_->setRange(1, 600);
  timeout_->setValue(30);
  timeout_->setSuffix(tr(" s"));
  more->addRow(tr("T&imeout per step:"), timeout_);
  noChunking_ = new QCheckBox(tr("Send with DATA even if the server offers CHUNKING (BDAT)"), advancedBody);
  noChunking_->setObjectName(QStringLiteral("noChunking"));
  noChunking_->setToolTip(tr("By default a server that offers CHUNKING gets the message in BDAT chunks "
                             "(RFC 3030): no dot-stuffing, and binary content when it offers BINARYMIME too."));
  more->addRow(QString(), noChunking_);
  stopAfter_ = new QComboBox(advancedBody);
  stopAfter_->setObjectName(QStringLiteral("stopAfter"));
  for (const auto& c : form::choices("stopAfter")) stopAfter_->addItem(qs(c.text), qs(c.value));
  stopAfter_->setToolTip(tr("Where Test connection stops. MAIL and RCPT use the composer's addresses; "
                            "no message is sent."));
  more->addRow(tr("Test stops after:"), stopAfter_);
  advancedBody->setVisible(false);
  connect(advanced_, &QToolButton::toggled, advancedBody, [this, advancedBody](bool open) {
    advancedBody->setVisible(open);
    advanced_->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
  });
  column->addWidget(advancedBody);

  auto* buttons = new QHBoxLayout;
  testButton_ = new QPushButton(tr("&Test connection"), panel);
  testButton_->setObjectName(QStringLiteral("testButton"));
  testButton_->setDefault(true);
  testButton_->setToolTip(tr("Connect, secure, log in, then stop: no mail is sent (Ctrl+Return)."));
  sendButton_ = new QPushButton(tr("Send test &message"), panel);
  sendButton_->setObjectName(QStringLiteral("sendButton"));
  cancelButton_ = new QPushButton(tr("Cancel"), panel);
  cancelButton_->setObjectName(QStringLiteral("cancelButton"));
  cancelButton_->setToolTip(tr("Stop now (Esc)"));
  buttons->addWidget(testButton_);
  buttons->addWidget(sendButton_);
  buttons->addWidget(cancelButton_);
  column->addLayout(buttons);
  progress_ = new QProgressBar(panel);
  progress_->setObjectName(QStringLiteral("progress"));
  progress_->setVisible(false);
  progress_->setFormat(tr("Sending the message: %p%"));
  column->addWidget(progress_);
  column->addStretch(1);
  return panel;
}

QWidget* MainWindow::buildComposer() {
  auto* page = new QWidget;
  auto* form = new QFormLayout(page);
  from_ = new QLineEdit(page);
  from_->setObjectName(QStringLiteral("from"));
  from_->setPlaceholderText(QStringLiteral("Ada <ada@example.org>"));
  form->addRow(tr("&From:"), from_);
  to_ = new QLineEdit(page);
  to_->setObjectName(QStringLiteral("to"));
  to_->setPlaceholderText(tr("one or more, separated by commas"));
  form->addRow(tr("T&o:"), to_);
  cc_ = new QLineEdit(page);
  cc_->setObjectName(QStringLiteral("cc"));
  form->addRow(tr("&Cc:"), cc_);
  bcc_ = new QLineEdit(page);
  bcc_->setObjectName(QStringLiteral("bcc"));
  bcc_->setToolTip(tr("Receives the message, but appears in no header."));
  form->addRow(tr("&Bcc:"), bcc_);
  subject_ = new QLineEdit(page);
  subject_->setObjectName(QStringLiteral("subject"));
  subject_->setText(tr("SMTPc test message"));
  form->addRow(tr("S&ubject:"), subject_);
  body_ = new QPlainTextEdit(page);
  body_->setObjectName(QStringLiteral("body"));
  body_->setPlainText(tr("Hello,\n\nthis is a test message sent with SMTPc.\n"));
  body_->setTabChangesFocus(true);
  form->addRow(tr("Te&xt:"), body_);
  attachments_ = new QListWidget(page);
  attachments_->setObjectName(QStringLiteral("attachments"));
  attachments_->setMaximumHeight(90);
  auto* add = new QPushButton(tr("&Add files…"), page);
  auto* remove = new QPushButton(tr("&Remove"), page);
  connect(add, &QPushButton::clicked, this, &MainWindow::addAttachments);
  connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(attachments_->selectedItems()); });
  auto* attachmentButtons = new QVBoxLayout;
  attachmentButtons->addWidget(add);
  attachmentButtons->addWidget(remove);
  attachmentButtons->addStretch(1);
  auto* attachmentRow = new QHBoxLayout;
  attachmentRow->addWidget(attachments_, 1);
  attachmentRow->addLayout(attachmentButtons);
  form->addRow(tr("Attachments:"), attachmentRow);
  buildDsnFields(page, form);
  return page;
}

// Delivery reports (DSN, RFC 3461): the composer's advanced part, folded away like the
// connection's. The choices and every check are core's form model's (form::choices, toMessage).
void MainWindow::buildDsnFields(QWidget* page, QFormLayout* form) {
  auto* toggle = new QToolButton(page);
  toggle->setObjectName(QStringLiteral("dsnAdvanced"));
  toggle->setText(tr("Deli&very reports (DSN)"));
  toggle->setToolTip(tr("Ask the servers on the way to report delivery, failure or delay (RFC 3461)."));
  toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toggle->setArrowType(Qt::RightArrow);
  toggle->setCheckable(true);
  toggle->setAutoRaise(true);
  form->addRow(toggle);
  auto* box = new QGroupBox(page);
  auto* rows = new QFormLayout(box);
  dsnNotify_ = new QComboBox(box);
  dsnNotify_->setObjectName(QStringLiteral("dsnNotify"));
  for (const auto& c : form::choices("dsnNotify")) dsnNotify_->addItem(qs(c.text), qs(c.value));
  rows->addRow(tr("Report:"), dsnNotify_);
  dsnRet_ = new QComboBox(box);
  dsnRet_->setObjectName(QStringLiteral("dsnRet"));
  for (const auto& c : form::choices("dsnRet")) dsnRet_->addItem(qs(c.text), qs(c.value));
  dsnRet_->setToolTip(tr("What a failure report returns of the message (RET)."));
  rows->addRow(tr("Report returns:"), dsnRet_);
  dsnEnvid_ = new QLineEdit(box);
  dsnEnvid_->setObjectName(QStringLiteral("dsnEnvid"));
  dsnEnvid_->setMaxLength(100);
  dsnEnvid_->setPlaceholderText(tr("your own label, returned in every report"));
  dsnEnvid_->setToolTip(tr("ENVID: printable ASCII, at most 100 characters."));
  rows->addRow(tr("Envelope ID:"), dsnEnvid_);
  dsnOptional_ = new QCheckBox(tr("Send without reports if the server cannot send them"), box);
  dsnOptional_->setObjectName(QStringLiteral("dsnOptional"));
  dsnOptional_->setToolTip(tr("Otherwise a server that does not offer DSN gets no message: SMTPc stops before MAIL."));
  rows->addRow(dsnOptional_);
  box->setVisible(false);
  connect(toggle, &QToolButton::toggled, box, [toggle, box](bool open) {
    box->setVisible(open);
    toggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
  });
  form->addRow(box);
}

void MainWindow::addAttachments() {
  for (const QString& path : QFileDialog::getOpenFileNames(this, tr("Attach files"))) addAttachment(path);
}

void MainWindow::addAttachment(const QString& path) {
  {
    auto* item = new QListWidgetItem(QStringLiteral("%1 (%2 KB)").arg(QFileInfo(path).fileName()).arg(QFileInfo(path).size() / 1024),
                                     attachments_);
    item->setData(Qt::UserRole, path);
    item->setToolTip(plainToolTip(path));
  }
}

}  // namespace smtpc::gui
