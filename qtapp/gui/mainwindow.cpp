// The window as a whole: its parts put together, the signals between them, and its life.
// The parts: the form's widgets (mainwindow_form.cpp), what the form says and how it is read
// (mainwindow_formvalues.cpp), a run (mainwindow_run.cpp), the result view
// (mainwindow_result.cpp), what is remembered between sessions (mainwindow_settings.cpp), the OAuth 2
// sign-in (mainwindow_signin.cpp) and settings discovery (mainwindow_discover.cpp).
#include "mainwindow.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QLineEdit>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QToolButton>

#include "stepbar.h"

namespace smtpc::gui {

MainWindow::MainWindow(const StartupValues& startup, QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("SMTPc — test and learn SMTP connection setup"));
  sandboxHost_ = startup.server;
  sandboxPort_ = startup.port;
  sandboxCaFile_ = startup.caFile;
  if (!startup.server.isEmpty()) sandbox_.host = startup.server.toStdString();
  sandbox_.starttls = static_cast<std::uint16_t>(startup.port);
  if (!startup.sandboxJson.isEmpty()) setSandbox(startup.sandboxJson);
  network_ = startup.network;
  ispdb_ = startup.ispdb;
  if (startup.useSettings) {
    settings_ = std::make_unique<QSettings>(QStringLiteral("SMTPc"), QStringLiteral("smtpc-gui"));
    // Owner-only before anything is written: the file may hold a password (PasswordStore).
    PasswordStore::restrictPermissions(settings_->fileName());
    passwords_ = std::make_unique<PasswordStore>(settings_.get());
    refreshTokens_ = std::make_unique<qt::RefreshTokenStore>();
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
  if (signIn_) signIn_->disconnect(this);
  if (discovery_) discovery_->disconnect(this);
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
  connectSignIn();
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
    if (!isRunning() && !isDiscovering()) runTest();
  });
  auto* cancel = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  connect(cancel, &QShortcut::activated, this, &MainWindow::cancelRun);
}

void MainWindow::resizeEvent(QResizeEvent* event) {
  QMainWindow::resizeEvent(event);
  fitExplanation();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (isRunning()) client_->cancel();
  if (isSigningIn()) signIn_->cancel();
  if (isDiscovering()) discovery_->cancel();
  saveSettings();
  event->accept();
}

}  // namespace smtpc::gui
