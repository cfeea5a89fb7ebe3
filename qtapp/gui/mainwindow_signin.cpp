// "Sign in…": OAuth 2 sign-in (issue 14) beside the login method, shown whenever the method can
// use a token (core's credentialFields). The fields and their rules are core's front-end model
// (form::choices("oauthProvider"), form::signInFields, form::toSignInSettings); the flow is core's
// (smtpc/oauth.h), carried out by the Qt adapter (smtpc/qt/oauth.h). This file binds widgets:
//   - the provider's fields (issuer for a custom provider, tenant for Microsoft), the flow choice;
//   - the stored refresh token (RefreshTokenStore, key oauth::refreshTokenKey) tried first;
//   - each step of the flow as an explained line in the transcript; the device flow's code in
//     the window with a Copy button; Cancel stops the flow;
//   - the access token into the token field (memory only, never in the settings), a new refresh
//     token into the store, a refused one forgotten; then the connection test, as if Test were
//     pressed. A failure is shown like any other: headline, explanation, what the provider said
//     (as text, never markup), and the AUTH step failed on the step bar (no token, no login).
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

#include "guitext.h"
#include "mainwindow.h"
#include "stepbar.h"
#include "transcriptview.h"

namespace smtpc::gui {

namespace {

QLabel* noteLabel(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setWordWrap(true);
  label->setTextFormat(Qt::PlainText);  // may quote addresses from the provider
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return label;
}

}  // namespace

QWidget* MainWindow::buildSignIn(QWidget* parent) {
  signInBox_ = new QWidget(parent);
  signInBox_->setObjectName(QStringLiteral("signIn"));
  signInForm_ = new QFormLayout(signInBox_);
  signInForm_->setContentsMargins(0, 0, 0, 0);
  oauthProvider_ = new QComboBox(signInBox_);
  oauthProvider_->setObjectName(QStringLiteral("oauthProvider"));
  for (const auto& c : form::choices("oauthProvider")) oauthProvider_->addItem(qs(c.text), qs(c.value));
  signInForm_->addRow(tr("Sign &in with:"), oauthProvider_);
  clientId_ = new QLineEdit(signInBox_);
  clientId_->setObjectName(QStringLiteral("clientId"));
  clientId_->setPlaceholderText(tr("from the application's registration"));
  clientId_->setToolTip(tr("Register SMTPc as a desktop (\"public client\") application with the provider; the "
                           "redirect URI to enter is http://127.0.0.1 (any port)."));
  signInForm_->addRow(tr("Client I&D:"), clientId_);
  oauthIssuer_ = new QLineEdit(signInBox_);
  oauthIssuer_->setObjectName(QStringLiteral("oauthIssuer"));
  oauthIssuer_->setPlaceholderText(QStringLiteral("https://login.example.com"));
  signInForm_->addRow(tr("Issuer URL:"), oauthIssuer_);
  tenant_ = new QLineEdit(signInBox_);
  tenant_->setObjectName(QStringLiteral("tenant"));
  tenant_->setPlaceholderText(QStringLiteral("common"));
  tenant_->setToolTip(tr("common, organizations, consumers, your tenant's ID or its domain"));
  signInForm_->addRow(tr("Tenant:"), tenant_);
  clientSecret_ = new QLineEdit(signInBox_);
  clientSecret_->setObjectName(QStringLiteral("clientSecret"));
  clientSecret_->setEchoMode(QLineEdit::Password);
  clientSecret_->setPlaceholderText(tr("only where the provider gives one (Google)"));
  signInForm_->addRow(tr("Client secret:"), clientSecret_);
  oauthFlow_ = new QComboBox(signInBox_);
  oauthFlow_->setObjectName(QStringLiteral("oauthFlow"));
  oauthFlow_->addItem(tr("In the browser on this computer"), qs(oauth::flowKindName(oauth::FlowKind::Browser)));
  oauthFlow_->addItem(tr("With a code, on any device"), qs(oauth::flowKindName(oauth::FlowKind::Device)));
  signInForm_->addRow(tr("Sign-in &flow:"), oauthFlow_);
  signInButton_ = new QPushButton(tr("Sign in…"), signInBox_);
  signInButton_->setObjectName(QStringLiteral("signInButton"));
  signInButton_->setToolTip(tr("Sign in with the provider for an access token, then test the connection with it. "
                               "A refresh token kept from last time is tried first."));
  signInNote_ = noteLabel(signInBox_);
  signInNote_->setObjectName(QStringLiteral("signInNote"));
  signInNote_->setVisible(false);
  signInForm_->addRow(QString(), signInButton_);
  signInForm_->addRow(QString(), signInNote_);

  // The device flow: the code to type in, where, and a button to copy it.
  deviceCode_ = new QWidget(signInBox_);
  deviceCode_->setObjectName(QStringLiteral("deviceCode"));
  auto* device = new QVBoxLayout(deviceCode_);
  device->setContentsMargins(0, 0, 0, 0);
  verificationUri_ = noteLabel(deviceCode_);
  verificationUri_->setObjectName(QStringLiteral("verificationUri"));
  userCode_ = noteLabel(deviceCode_);
  userCode_->setObjectName(QStringLiteral("userCode"));
  QFont big = userCode_->font();
  big.setFamily(QStringLiteral("monospace"));
  big.setPointSizeF(big.pointSizeF() * 1.6);
  big.setBold(true);
  userCode_->setFont(big);
  auto* copy = new QPushButton(tr("&Copy code"), deviceCode_);
  copy->setObjectName(QStringLiteral("copyUserCode"));
  connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(userCode_->text()); });
  auto* codeRow = new QHBoxLayout;
  codeRow->addWidget(userCode_, 1);
  codeRow->addWidget(copy);
  device->addWidget(verificationUri_);
  device->addLayout(codeRow);
  deviceCode_->setVisible(false);
  signInForm_->addRow(QString(), deviceCode_);
  return signInBox_;
}

void MainWindow::connectSignIn() {
  connect(signInButton_, &QPushButton::clicked, this, &MainWindow::signIn);
  connect(oauthProvider_, qOverload<int>(&QComboBox::currentIndexChanged), this, &MainWindow::updateSignInFields);
  updateSignInFields();
}

bool MainWindow::isSigningIn() const { return signIn_ && signIn_->isRunning(); }

// Which rows a provider uses is core's (form::signInFields).
void MainWindow::updateSignInFields() {
  const auto fields = form::signInFields(oauthProvider_->currentData().toString().toStdString());
  signInForm_->setRowVisible(oauthIssuer_, fields.issuer);
  signInForm_->setRowVisible(tenant_, fields.tenant);
}

// The step bar before the SMTP conversation: nothing has happened yet but the sign-in, which
// stands for what AUTH needs (the token).
void MainWindow::showSignInSteps(StepStatus authStatus) {
  ConnectParams params;
  params.security = securityModeFromName(security_->currentData().toString().toStdString()).value_or(SecurityMode::StartTls);
  params.credentials.username = username_->text().toStdString();
  std::vector<StepView> steps = Explainer(params, false).steps();
  for (auto& view : steps)
    if (view.step == Step::Auth) view.status = authStatus;
  steps_->setSteps(std::move(steps));
}

void MainWindow::signIn() {
  if (isRunning() || isSigningIn() || isDiscovering()) return;
  form::SignInForm f;
  f.provider = oauthProvider_->currentData().toString().toStdString();
  f.clientId = clientId_->text().toStdString();
  f.issuer = oauthIssuer_->text().toStdString();
  f.tenant = tenant_->text().toStdString();
  f.user = username_->text().toStdString();
  f.clientSecret = clientSecret_->text().toStdString();
  const auto flowKind = oauth::flowKindFromName(oauthFlow_->currentData().toString().toStdString()).value_or(oauth::FlowKind::Browser);
  form::Problem problem;
  auto settings = form::toSignInSettings(f, flowKind, &problem);
  if (!settings) {
    showFormProblem(problem);
    emit signInFinished(false);
    return;
  }
  if (!signIn_) {
    signIn_ = std::make_unique<qt::OAuthSignIn>();
    signIn_->setBrowserOpener([](const QString& url, QString*) { return QDesktopServices::openUrl(QUrl(url)); });
    connect(signIn_.get(), &qt::OAuthSignIn::step, this, &MainWindow::onSignInStep);
    connect(signIn_.get(), &qt::OAuthSignIn::userCode, this, &MainWindow::onUserCode);
    connect(signIn_.get(), &qt::OAuthSignIn::finished, this, &MainWindow::onSignInFinished);
    connect(signIn_.get(), &qt::OAuthSignIn::requestSent, this, [this](const QString& description) {
      transcript_->addEntry(TranscriptEntry{TranscriptKind::Client, true, signIn_->now(), description.toStdString()});
    });
    connect(signIn_.get(), &qt::OAuthSignIn::openingBrowser, this, [this](const QString& url) {
      signInNote_->setText(tr("Sign in in your browser. If none opened, open this address: %1").arg(url));
      signInNote_->setVisible(true);
    });
    connect(signIn_.get(), &qt::OAuthSignIn::browserFailed, this, [this](const QString& url, const QString& why) {
      signInNote_->setText(tr("No browser could be opened (%1). Open this address yourself: %2").arg(why, url));
      signInNote_->setVisible(true);
    });
    connect(signIn_.get(), &qt::OAuthSignIn::waiting, this, [this](const QString& reason) {
      setStatus(tr("Signing in: %1…").arg(reason), QStringLiteral("#2f6fd0"));
    });
  }
  // The sign-in's HTTPS trusts the same extra CA as the SMTP connection (the CLI's --ca-file).
  QString why;
  if (!caFile_->text().trimmed().isEmpty()) {
    const auto pem = qt::readFile(caFile_->text().trimmed(), &why);
    if (!pem || !signIn_->setExtraCaCertificates(*pem, &why)) {
      showProblem(tr("CA file unreadable"), why);
      emit signInFinished(false);
      return;
    }
  }
  signInKey_ = oauth::refreshTokenKey(*settings);
  if (refreshTokens_) settings->refreshToken = refreshTokens_->load(signInKey_);

  transcript_->begin(tr("Signing in with %1").arg(oauthProvider_->currentText()));
  tabs_->setCurrentIndex(0);
  setExplanation(QString());
  resultWarning_->setVisible(false);
  deviceCode_->setVisible(false);
  signInNote_->setVisible(false);
  showSignInSteps(StepStatus::Active);
  setStatus(settings->refreshToken.empty() ? tr("Signing in…") : tr("Signing in with the stored refresh token…"),
            QStringLiteral("#2f6fd0"));
  updateButtons();
  signIn_->start(std::move(*settings));  // may finish at once (onSignInFinished)
  updateButtons();
}

void MainWindow::onSignInStep(const oauth::StepEvent& step) {
  transcript_->addEntry(TranscriptEntry{TranscriptKind::Info, false, step.at,
                                        "Sign-in, " + std::string(oauth::signInStepLabel(step.step)) + ": " + step.text});
  setStatus(tr("Signing in: %1…").arg(qs(oauth::signInStepLabel(step.step))), QStringLiteral("#2f6fd0"));
}

void MainWindow::onUserCode(const oauth::ShowUserCode& code) {
  const QString uri = qs(code.verificationUri);
  verificationUri_->setText(tr("On any device, open %1 and enter this code:").arg(uri));
  userCode_->setText(qs(code.userCode));
  deviceCode_->setVisible(true);  // the transcript has it too: the flow's Device code step says it
}

void MainWindow::onSignInFinished(const oauth::Finished& result) {
  deviceCode_->setVisible(false);
  signInNote_->setVisible(false);
  if (result.refreshTokenRejected && refreshTokens_) refreshTokens_->forget(signInKey_);
  if (!result.ok()) {
    const oauth::Problem problem = result.problem.value_or(oauth::Problem{});
    transcript_->addEntry(TranscriptEntry{TranscriptKind::Error, false, signIn_->now(), "Sign-in failed: " + problem.headline});
    showSignInSteps(StepStatus::Failed);
    setStatus(QStringLiteral("✗ ") + tr("Sign-in failed: %1").arg(qs(problem.headline)), QStringLiteral("#b71c1c"));
    // Everything the provider said is escaped into the rich text: it is the network's text.
    QString html = QStringLiteral("<p>%1</p>").arg(qs(problem.explanation).toHtmlEscaped());
    if (!problem.serverError.empty() || !problem.serverSaid.empty()) {
      const std::string said = problem.serverError + (problem.serverError.empty() || problem.serverSaid.empty() ? "" : ": ") +
                               problem.serverSaid;
      html += tr("<p>The provider said: <code>%1</code></p>").arg(qs(said).toHtmlEscaped());
    }
    html += tr("<p>No token, so no login was tried: the sign-in comes before AUTH.</p>");
    setExplanation(html);
    updateButtons();
    emit signInFinished(false);
    return;
  }
  const oauth::Token& token = *result.token;
  token_->setText(qs(token.accessToken.reveal()));  // memory only: saveSettings never writes it
  if (refreshTokens_ && token.refreshTokenChanged && !token.refreshToken.empty()) {
    const QString warning = refreshTokens_->fallbackWarning(refreshTokens_->save(token.storageKey, token.refreshToken));
    signInNote_->setText(warning.isEmpty() ? QString() : QStringLiteral("⚠ ") + warning);
    signInNote_->setVisible(!warning.isEmpty());
  }
  transcript_->addEntry(TranscriptEntry{TranscriptKind::Info, false, signIn_->now(),
                                        "Signed in: the access token is in the token field; testing the connection with it."});
  emit signInFinished(true);
  afterSignIn_ = true;
  runTest();
  afterSignIn_ = false;
}

}  // namespace smtpc::gui
