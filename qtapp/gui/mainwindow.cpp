#include "mainwindow.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTextDocument>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "smtpc/message.h"
#include "stepbar.h"
#include "transcriptview.h"

namespace smtpc::gui {

namespace {

QString qs(std::string_view text) { return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())); }

struct ModeChoice {
  SecurityMode mode;
  const char* label;
};
constexpr ModeChoice kModes[] = {
    {SecurityMode::StartTls, "STARTTLS (required)"},
    {SecurityMode::ImplicitTls, "Implicit TLS (SMTPS)"},
    {SecurityMode::StartTlsIfOffered, "STARTTLS if offered — unsafe"},
    {SecurityMode::None, "None — clear text, unsafe"},
};

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


// A tooltip that shows `text` as written: Qt renders a tooltip as rich text when it looks like
// HTML (Qt::mightBeRichText), and server text may look like anything.
QString plainToolTip(const QString& text) { return Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal); }

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

MainWindow::MainWindow(const StartupValues& startup, QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("SMTPc — test and learn SMTP connection setup"));
  sandboxHost_ = startup.server;
  sandboxPort_ = startup.port;
  sandboxCaFile_ = startup.caFile;
  if (startup.useSettings) {
    settings_ = std::make_unique<QSettings>(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    // Owner-only before anything is written: the file may hold a password (PasswordStore).
    PasswordStore::restrictPermissions(settings_->fileName());
    passwords_ = std::make_unique<PasswordStore>(settings_.get());
  }
  buildUi();
  connectSignals();
  loadSettings(startup);
  updateSecurityHints();
  updateButtons();
  steps_->setSteps(Explainer(ConnectParams{}, false).steps());
  setStatus(tr("Fill in the server, then press Test connection."), QString());
}

MainWindow::~MainWindow() {
  if (client_) client_->disconnect(this);
}

void MainWindow::buildUi() {
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  auto* scroll = new QScrollArea(splitter);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setWidget(buildForm());
  scroll->setMinimumWidth(std::min(scroll->widget()->minimumSizeHint().width() + 20, 360));
  splitter->addWidget(scroll);
  splitter->addWidget(buildResults());
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setChildrenCollapsible(false);
  splitter->setSizes({420, 780});  // the results get the room; the form scrolls if it must
  setCentralWidget(splitter);
  // Roomy on a desktop, but never larger than a small laptop screen (the form scrolls).
  const QRect available = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 800);
  resize(std::min(1200, available.width() * 19 / 20), std::min(780, available.height() * 19 / 20));
}

QWidget* MainWindow::buildForm() {
  auto* panel = new QWidget;
  auto* column = new QVBoxLayout(panel);

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
  for (const auto& m : kModes) security_->addItem(tr(m.label), qs(securityModeName(m.mode)));
  form->addRow(tr("Se&curity:"), security_);
  securityWarning_ = new QLabel(connection);
  securityWarning_->setWordWrap(true);
  securityWarning_->setStyleSheet(QStringLiteral("color: #b71c1c;"));
  form->addRow(QString(), securityWarning_);
  auth_ = new QComboBox(connection);
  auth_->setObjectName(QStringLiteral("auth"));
  for (auto m : {AuthMechanism::Auto, AuthMechanism::Plain, AuthMechanism::Login, AuthMechanism::CramMd5,
                 AuthMechanism::XOAuth2, AuthMechanism::OAuthBearer})
    auth_->addItem(m == AuthMechanism::Auto ? tr("Auto (best both sides know)") : qs(mechanismName(m)), qs(mechanismName(m)));
  form->addRow(tr("&Login method:"), auth_);
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
  stopAfter_ = new QComboBox(advancedBody);
  stopAfter_->setObjectName(QStringLiteral("stopAfter"));
  for (auto phase : {Phase::Auth, Phase::Ehlo, Phase::Tls, Phase::Connect, Phase::Mail, Phase::Rcpt})
    stopAfter_->addItem(qs(stepLabel(phase == Phase::Auth ? Step::Auth
                                     : phase == Phase::Ehlo ? Step::Ehlo
                                     : phase == Phase::Tls ? Step::TlsHandshake
                                     : phase == Phase::Connect ? Step::Greeting
                                     : phase == Phase::Mail ? Step::Mail
                                                            : Step::Rcpt)),
                        qs(phaseName(phase)));
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
  return page;
}

QWidget* MainWindow::buildResults() {
  auto* panel = new QWidget;
  auto* column = new QVBoxLayout(panel);
  steps_ = new StepBar(panel);
  steps_->setObjectName(QStringLiteral("steps"));
  column->addWidget(steps_);
  status_ = new QLabel(panel);
  status_->setObjectName(QStringLiteral("status"));
  QFont big = status_->font();
  big.setPointSizeF(big.pointSizeF() * 1.35);
  big.setBold(true);
  status_->setFont(big);
  status_->setWordWrap(true);
  status_->setTextFormat(Qt::PlainText);  // the headline can quote the server
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(status_);
  // A run that ended in clear text says so beside the headline, not among the notes below.
  resultWarning_ = new QLabel(panel);
  resultWarning_->setObjectName(QStringLiteral("resultWarning"));
  resultWarning_->setWordWrap(true);
  resultWarning_->setTextFormat(Qt::PlainText);
  resultWarning_->setStyleSheet(QStringLiteral("color: #b71c1c; font-weight: bold;"));
  resultWarning_->setVisible(false);
  column->addWidget(resultWarning_);
  explanation_ = new QLabel(panel);
  explanation_->setObjectName(QStringLiteral("explanation"));
  explanation_->setWordWrap(true);
  // Rich text for paragraphs and lists; everything from the server in it is escaped (onFinished).
  explanation_->setTextFormat(Qt::RichText);
  explanation_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  explanation_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  explanation_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
  column->addWidget(explanation_);

  tabs_ = new QTabWidget(panel);
  auto* transcriptPage = new QWidget;
  auto* transcriptBox = new QVBoxLayout(transcriptPage);
  transcript_ = new TranscriptView(transcriptPage);
  transcript_->setObjectName(QStringLiteral("transcript"));
  transcriptBox->addWidget(transcript_, 1);
  auto* transcriptButtons = new QHBoxLayout;
  auto* legend = new QLabel(tr("<span style='color:#1a4fa8'>-&gt; we send</span> · "
                               "<span style='color:#1b6e2f'>&lt;- server</span> · "
                               "~&gt; &lt;~ inside TLS · "
                               "<span style='color:#5f6368'>=== note</span> · "
                               "<span style='color:#6a1b9a'>TLS</span> · "
                               "<span style='color:#b71c1c'>*** error</span> · passwords are masked"),
                            transcriptPage);
  legend->setWordWrap(true);
  transcriptButtons->addWidget(legend, 1);
  auto* copy = new QPushButton(tr("Cop&y"), transcriptPage);
  copy->setObjectName(QStringLiteral("copyTranscript"));
  auto* save = new QPushButton(tr("Sa&ve…"), transcriptPage);
  save->setObjectName(QStringLiteral("saveTranscript"));
  connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(transcriptText()); });
  connect(save, &QPushButton::clicked, this, &MainWindow::saveTranscript);
  transcriptButtons->addWidget(copy);
  transcriptButtons->addWidget(save);
  transcriptBox->addLayout(transcriptButtons);
  tabs_->addTab(transcriptPage, tr("Tr&anscript"));

  auto* serverPage = new QWidget;
  auto* serverBox = new QVBoxLayout(serverPage);
  capabilitiesNote_ = new QLabel(tr("What the server offers appears here after EHLO."), serverPage);
  capabilitiesNote_->setWordWrap(true);
  capabilitiesNote_->setTextFormat(Qt::PlainText);  // names the server as its EHLO reply did
  serverBox->addWidget(capabilitiesNote_);
  capabilities_ = new QTreeWidget(serverPage);
  capabilities_->setObjectName(QStringLiteral("capabilities"));
  capabilities_->setHeaderLabels({tr("Extension"), tr("Parameters"), tr("What it means")});
  capabilities_->setRootIsDecorated(false);
  capabilities_->setWordWrap(true);
  capabilities_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
  serverBox->addWidget(capabilities_, 1);
  tabs_->addTab(serverPage, tr("Ser&ver"));

  auto* tlsPage = new QWidget;
  auto* tlsBox = new QVBoxLayout(tlsPage);
  tlsNote_ = new QLabel(tr("The TLS details appear here once the connection is encrypted."), tlsPage);
  tlsNote_->setWordWrap(true);
  tlsNote_->setTextFormat(Qt::PlainText);
  tlsBox->addWidget(tlsNote_);
  tls_ = new QTreeWidget(tlsPage);
  tls_->setObjectName(QStringLiteral("tls"));
  tls_->setHeaderLabels({tr("Field"), tr("Value")});
  tls_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  tlsBox->addWidget(tls_, 1);
  tabs_->addTab(tlsPage, tr("T&LS"));

  tabs_->addTab(buildComposer(), tr("Test &message"));
  column->addWidget(tabs_, 1);
  return panel;
}

void MainWindow::connectSignals() {
  connect(testButton_, &QPushButton::clicked, this, &MainWindow::runTest);
  connect(sendButton_, &QPushButton::clicked, this, &MainWindow::runSend);
  connect(cancelButton_, &QPushButton::clicked, this, &MainWindow::cancelRun);
  connect(preset_, qOverload<int>(&QComboBox::activated), this, &MainWindow::applyPreset);
  connect(port_, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
    if (!settingPort_) portEdited_ = true;
    updateSecurityHints();
  });
  connect(security_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    if (!portEdited_) {
      settingPort_ = true;
      port_->setValue(defaultPort(*securityModeFromName(security_->currentData().toString().toStdString())));
      settingPort_ = false;
    }
    updateSecurityHints();
  });
  connect(auth_, qOverload<int>(&QComboBox::currentIndexChanged), this, &MainWindow::updateSecurityHints);
  connect(acceptInvalid_, &QCheckBox::toggled, this, &MainWindow::updateSecurityHints);
  connect(allowPlaintext_, &QCheckBox::toggled, this, &MainWindow::updateSecurityHints);
  connect(showPassword_, &QToolButton::toggled, this, [this](bool shown) {
    password_->setEchoMode(shown ? QLineEdit::Normal : QLineEdit::Password);
    showPassword_->setText(shown ? tr("Hide") : tr("Show"));
  });
  connect(rememberPassword_, &QCheckBox::toggled, this, [this](bool on) {
    if (!on) forgetRememberedPassword();
  });
  connect(server_, &QLineEdit::textChanged, this, &MainWindow::onAccountEdited);
  connect(username_, &QLineEdit::textChanged, this, &MainWindow::onAccountEdited);
  connect(port_, qOverload<int>(&QSpinBox::valueChanged), this, &MainWindow::onAccountEdited);
  auto* test = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
  connect(test, &QShortcut::activated, this, [this] {
    if (!isRunning()) runTest();
  });
  auto* cancel = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  connect(cancel, &QShortcut::activated, this, &MainWindow::cancelRun);
}

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

void MainWindow::loadSettings(const StartupValues& startup) {
  int presetIndex = 0;
  if (settings_) {
    QSettings& s = *settings_;
    presetIndex = std::max(0, preset_->findData(s.value(QStringLiteral("preset"), QStringLiteral("sandbox")).toString()));
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
  if (!storedFor_ || *storedFor_ == currentAccount() || password_->text() != storedPassword_) return;
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

void MainWindow::saveSettings() {
  if (!settings_) return;
  QSettings& s = *settings_;
  s.setValue(QStringLiteral("preset"), preset_->currentData());
  s.setValue(QStringLiteral("server"), server_->text());
  s.setValue(QStringLiteral("port"), port_->value());
  s.setValue(QStringLiteral("portEdited"), portEdited_);
  s.setValue(QStringLiteral("security"), security_->currentData());
  s.setValue(QStringLiteral("auth"), auth_->currentData());
  s.setValue(QStringLiteral("username"), username_->text());
  s.setValue(QStringLiteral("rememberPassword"), rememberPassword_->isChecked());
  saveRememberedPassword();
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

// A word-wrapped label in a splitter is not given the height of its wrapped text (QSplitter
// does not pass height-for-width on), so the explanation says how tall it must be.
void MainWindow::setExplanation(const QString& html) {
  explanation_->setText(html);
  fitExplanation();
}

void MainWindow::fitExplanation() {
  const int width = explanation_->width() > 50 ? explanation_->width() : explanation_->sizeHint().width();
  explanation_->setMinimumHeight(explanation_->text().isEmpty() ? 0 : explanation_->heightForWidth(width));
}

void MainWindow::resizeEvent(QResizeEvent* event) {
  QMainWindow::resizeEvent(event);
  fitExplanation();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (isRunning()) client_->cancel();
  saveSettings();
  event->accept();
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

void MainWindow::updateButtons() {
  const bool running = isRunning();
  testButton_->setEnabled(!running);
  sendButton_->setEnabled(!running);
  cancelButton_->setEnabled(running);
  preset_->setEnabled(!running);
}

void MainWindow::setStatus(const QString& text, const QString& colour) {
  status_->setText(text);
  status_->setStyleSheet(colour.isEmpty() ? QString() : QStringLiteral("color: %1;").arg(colour));
}

void MainWindow::showProblem(const QString& headline, const QString& explanation) {
  setStatus(QStringLiteral("✗ ") + headline, QStringLiteral("#b71c1c"));
  setExplanation(explanation.toHtmlEscaped());
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

void MainWindow::runTest() { start(false); }
void MainWindow::runSend() { start(true); }

void MainWindow::cancelRun() {
  if (isRunning()) client_->cancel();
}

void MainWindow::start(bool sending) {
  if (isRunning()) return;
  if (password_->text().isEmpty() && rememberPassword_->isChecked()) loadRememberedPassword();
  auto params = paramsFromForm(sending);
  if (!params) {
    emit runFinished(false);  // nothing ran: the form says why
    return;
  }
  const bool needsEnvelope = sending || params->quitAfter == Phase::Mail || params->quitAfter == Phase::Rcpt;
  std::optional<OutgoingMessage> message;
  if (needsEnvelope) {
    QString why;
    message = messageFromForm(&why);
    if (!message) {
      tabs_->setCurrentIndex(3);
      showProblem(tr("The test message is not ready"), why);
      emit runFinished(false);
      return;
    }
  }
  saveSettings();
  sending_ = sending;

  if (client_) client_->disconnect(this);
  client_ = std::make_unique<qt::QtClient>();
  explainer_ = std::make_unique<Explainer>(*params, needsEnvelope);
  connect(client_.get(), &qt::QtClient::sessionEvent, this, &MainWindow::onEvent);

  const QString target = QStringLiteral("%1 port %2, %3").arg(qs(params->host)).arg(params->effectivePort())
                             .arg(security_->currentText());
  transcript_->begin(sending ? tr("Sending a test message via %1").arg(target) : tr("Testing %1").arg(target));
  tabs_->setCurrentIndex(0);
  capabilities_->clear();
  capabilitiesNote_->setText(tr("What the server offers appears here after EHLO."));
  tls_->clear();
  tlsNote_->setText(params->security == SecurityMode::None ? tr("No TLS: security mode None.")
                                                           : tr("The TLS details appear here once the connection is encrypted."));
  setExplanation(QString());
  resultWarning_->clear();
  resultWarning_->setVisible(false);
  steps_->setSteps(explainer_->steps());
  progress_->setVisible(sending);
  progress_->setRange(0, 0);
  setStatus(tr("Connecting to %1…").arg(target), QStringLiteral("#2f6fd0"));

  const Error error = needsEnvelope ? client_->sendMail(*params, std::move(*message)) : client_->connectToServer(*params);
  if (error) {
    onFinished(Finished{error, Phase::None});
    return;
  }
  updateButtons();
}

void MainWindow::onEvent(const Event& event) {
  if (explainer_ && explainer_->onEvent(event)) steps_->setSteps(explainer_->steps());
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TranscriptEntry>) {
          transcript_->addEntry(e);
        } else if constexpr (std::is_same_v<T, StateChanged>) {
          if (e.to != State::Closed && e.to != State::Idle)
            setStatus(tr("Working: %1…").arg(qs(stateDescription(e.to))), QStringLiteral("#2f6fd0"));
        } else if constexpr (std::is_same_v<T, CapabilitiesReceived>) {
          showCapabilities(e.capabilities, e.encrypted);
        } else if constexpr (std::is_same_v<T, TlsReady>) {
          showTls(e.info);
          transcript_->addBoundary(tr("TLS established (%1, %2): everything below is encrypted")
                                       .arg(qs(e.info.protocol), qs(e.info.cipher)));
        } else if constexpr (std::is_same_v<T, MessageProgress>) {
          if (e.total && *e.total > 0) {
            progress_->setRange(0, 1000);
            progress_->setValue(static_cast<int>(1000.0 * static_cast<double>(e.sent) / static_cast<double>(*e.total)));
          }
        } else if constexpr (std::is_same_v<T, MessageResult>) {
          if (!e.error) progress_->setValue(progress_->maximum());
        } else if constexpr (std::is_same_v<T, SessionReady>) {
          // A plain connection test without a stop phase: say goodbye once ready.
          if (!sending_ && client_ && client_->session() && client_->session()->params().quitAfter == Phase::None)
            client_->disconnectFromServer();
        } else if constexpr (std::is_same_v<T, Finished>) {
          onFinished(e);
        }
      },
      event);
}

void MainWindow::onFinished(const Finished& finished) {
  Diagnosis d;
  if (explainer_ && explainer_->finished()) {
    d = explainer_->diagnosis();
  } else {
    d = diagnose(finished, ConnectParams{}, std::nullopt, nullptr, std::nullopt);
  }
  steps_->setSteps(explainer_ ? explainer_->steps() : steps_->steps());
  progress_->setVisible(false);
  if (d.ok) {
    QString headline = qs(d.headline);
    if (sending_) headline = tr("The message was accepted");
    setStatus(QStringLiteral("✓ ") + headline, QStringLiteral("#2e7d32"));
  } else {
    setStatus(QStringLiteral("✗ ") + qs(d.headline), QStringLiteral("#b71c1c"));
  }
  resultWarning_->setText(d.warning.empty() ? QString() : QStringLiteral("⚠ ") + qs(d.warning));
  resultWarning_->setVisible(!d.warning.empty());
  QString html = QStringLiteral("<p>%1</p>").arg(qs(d.explanation).toHtmlEscaped());
  if (explainer_ && explainer_->failedStep())
    html += tr("<p>It failed at <b>%1</b>: %2</p>")
                .arg(qs(stepLabel(*explainer_->failedStep())), qs(stepPurpose(*explainer_->failedStep())).toHtmlEscaped());
  if (!d.serverSaid.empty()) html += tr("<p>The server said: <code>%1</code></p>").arg(qs(d.serverSaid).toHtmlEscaped());
  if (!d.suggestions.empty()) {
    html += d.ok ? tr("<p><b>Note:</b></p><ul>") : tr("<p><b>What to try:</b></p><ul>");
    for (const auto& s : d.suggestions) html += QStringLiteral("<li>%1</li>").arg(qs(s).toHtmlEscaped());
    html += QStringLiteral("</ul>");
  }
  setExplanation(html);
  updateButtons();
  emit runFinished(d.ok);
}

void MainWindow::showCapabilities(const Capabilities& capabilities, bool encrypted) {
  capabilities_->clear();
  capabilitiesNote_->setText(encrypted ? tr("%1 offers, inside TLS:").arg(qs(capabilities.serverName()))
                                       : tr("%1 offers, in clear text (before any TLS):").arg(qs(capabilities.serverName())));
  for (const auto& c : capabilities.entries()) {
    QStringList params;
    for (const auto& p : c.params) params << qs(p);
    auto* item = new QTreeWidgetItem(capabilities_, {qs(c.keyword), params.join(u' '), qs(Capabilities::describe(c.keyword))});
    // Item text is always plain; a tooltip is not (Qt guesses), so it is escaped.
    for (int column : {1, 2})
      if (!item->text(column).isEmpty()) item->setToolTip(column, plainToolTip(item->text(column)));
  }
  capabilities_->resizeColumnToContents(0);
  capabilities_->resizeColumnToContents(1);
}

void MainWindow::showTls(const TlsInfo& info) {
  tls_->clear();
  const bool good = info.verified && !info.acceptedDespiteErrors;
  tlsNote_->setText(good ? tr("✓ Encrypted, and the certificate was verified.")
                         : tr("⚠ Encrypted, but the certificate was NOT verified: accepted only because you asked."));
  tlsNote_->setStyleSheet(good ? QStringLiteral("color: #2e7d32;") : QStringLiteral("color: #b71c1c; font-weight: bold;"));
  new QTreeWidgetItem(tls_, {tr("Protocol"), qs(info.protocol)});
  new QTreeWidgetItem(tls_, {tr("Cipher"), qs(info.cipher)});
  auto* verification = new QTreeWidgetItem(tls_, {tr("Verification"), good ? tr("verified") : tr("FAILED")});
  for (const auto& problem : info.verificationErrors) new QTreeWidgetItem(verification, {QString(), qs(problem)});
  int index = 0;
  for (const auto& c : info.chain) {
    auto* cert = new QTreeWidgetItem(tls_, {index == 0 ? tr("Server certificate") : tr("Issuer certificate %1").arg(index),
                                            qs(c.subject)});
    new QTreeWidgetItem(cert, {tr("Subject"), qs(c.subject)});
    new QTreeWidgetItem(cert, {tr("Issuer"), qs(c.issuer)});
    new QTreeWidgetItem(cert, {tr("Valid"), tr("%1 to %2").arg(qs(c.notBefore), qs(c.notAfter))});
    QStringList sans;
    for (const auto& s : c.subjectAlternativeNames) sans << qs(s);
    if (!sans.isEmpty()) new QTreeWidgetItem(cert, {tr("Names (SANs)"), sans.join(QStringLiteral(", "))});
    new QTreeWidgetItem(cert, {tr("SHA-256"), qs(c.sha256Fingerprint)});
    new QTreeWidgetItem(cert, {tr("Key pin"), QStringLiteral("sha256//") + qs(c.publicKeySha256)});
    cert->setExpanded(index == 0);
    ++index;
  }
  verification->setExpanded(true);
}

QString MainWindow::transcriptText() const { return transcript_->toPlainText(); }

void MainWindow::saveTranscript() {
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save the transcript"),
      QStringLiteral("smtpc-%1.txt").arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))),
      tr("Text (*.txt)"));
  if (path.isEmpty()) return;
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(transcriptText().toUtf8()) < 0)
    QMessageBox::warning(this, tr("Not saved"), tr("Could not write %1: %2").arg(path, file.errorString()));
  else
    statusBar()->showMessage(tr("Saved to %1").arg(path), 5000);
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
