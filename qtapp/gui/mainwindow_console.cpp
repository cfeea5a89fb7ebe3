// Type it yourself (issue 17): the Console tab, where the learner writes the SMTP commands to the
// server of the form, as with telnet — and SMTPc does what no person can by hand: the TLS
// handshake after STARTTLS's 220, base64 for AUTH (its helper asks for the user and password and
// shows how the PLAIN string is built), dot-stuffing in DATA. A command that cannot work now is
// held with a warning until the learner sends it anyway. Core's smtpc::Console decides all of it
// (qt::QtConsole carries it out); this file only lays it out.
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "guitext.h"
#include "mainwindow.h"
#include "smtpc/line_explain.h"
#include "smtpc/views.h"
#include "transcriptview.h"

namespace smtpc::gui {

QWidget* MainWindow::buildConsole() {
  auto* page = new QWidget;
  auto* column = new QVBoxLayout(page);
  auto* intro = new QLabel(tr("Type the commands yourself (EHLO, STARTTLS, AUTH PLAIN, MAIL FROM:&lt;…&gt;, RCPT TO:&lt;…&gt;, "
                              "DATA, QUIT) to the server of the form. SMTPc does what a person cannot: the TLS "
                              "handshake, base64 for AUTH, dot-stuffing. Click a line to see what it means."),
                           page);
  intro->setWordWrap(true);
  column->addWidget(intro);
  auto* top = new QHBoxLayout;
  consoleConnect_ = new QPushButton(tr("Co&nnect"), page);
  consoleConnect_->setObjectName(QStringLiteral("consoleConnect"));
  consoleClose_ = new QPushButton(tr("Clos&e"), page);
  consoleClose_->setObjectName(QStringLiteral("consoleClose"));
  consoleState_ = new QLabel(tr("Not connected."), page);
  consoleState_->setObjectName(QStringLiteral("consoleState"));
  consoleState_->setTextFormat(Qt::PlainText);
  top->addWidget(consoleConnect_);
  top->addWidget(consoleClose_);
  top->addWidget(consoleState_, 1);
  column->addLayout(top);

  consoleTranscript_ = new TranscriptView(page);
  consoleTranscript_->setObjectName(QStringLiteral("consoleTranscript"));
  column->addWidget(consoleTranscript_, 1);
  consoleExplanation_ = new QLabel(page);
  consoleExplanation_->setObjectName(QStringLiteral("consoleExplanation"));
  consoleExplanation_->setWordWrap(true);
  consoleExplanation_->setTextFormat(Qt::PlainText);
  consoleExplanation_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(consoleExplanation_);

  // A command held back: why, and whether it may be sent anyway.
  consoleWarning_ = new QWidget(page);
  consoleWarning_->setObjectName(QStringLiteral("consoleWarning"));
  auto* warningRow = new QHBoxLayout(consoleWarning_);
  warningRow->setContentsMargins(0, 0, 0, 0);
  consoleWarningText_ = new QLabel(consoleWarning_);
  consoleWarningText_->setObjectName(QStringLiteral("consoleWarningText"));
  consoleWarningText_->setWordWrap(true);
  consoleWarningText_->setTextFormat(Qt::PlainText);
  consoleWarningText_->setStyleSheet(QStringLiteral("color: #8d4e00;"));
  auto* sendAnyway = new QPushButton(tr("Send it &anyway"), consoleWarning_);
  sendAnyway->setObjectName(QStringLiteral("consoleSendAnyway"));
  auto* dont = new QPushButton(tr("Do&n't send"), consoleWarning_);
  dont->setObjectName(QStringLiteral("consoleDontSend"));
  warningRow->addWidget(consoleWarningText_, 1);
  warningRow->addWidget(sendAnyway);
  warningRow->addWidget(dont);
  consoleWarning_->setVisible(false);
  column->addWidget(consoleWarning_);

  // The AUTH helper's questions: the password field masks as the form's does.
  consoleCredentials_ = new QWidget(page);
  consoleCredentials_->setObjectName(QStringLiteral("consoleCredentials"));
  auto* credentials = new QFormLayout(consoleCredentials_);
  consoleCredentialsWhy_ = new QLabel(consoleCredentials_);
  consoleCredentialsWhy_->setWordWrap(true);
  consoleCredentialsWhy_->setTextFormat(Qt::PlainText);
  credentials->addRow(consoleCredentialsWhy_);
  consoleUser_ = new QLineEdit(consoleCredentials_);
  consoleUser_->setObjectName(QStringLiteral("consoleUser"));
  consolePassword_ = new QLineEdit(consoleCredentials_);
  consolePassword_->setObjectName(QStringLiteral("consolePassword"));
  consolePassword_->setEchoMode(QLineEdit::Password);
  credentials->addRow(tr("User name:"), consoleUser_);
  credentials->addRow(tr("Password:"), consolePassword_);
  auto* credentialsOk = new QPushButton(tr("Log &in"), consoleCredentials_);
  credentialsOk->setObjectName(QStringLiteral("consoleCredentialsOk"));
  credentials->addRow(credentialsOk);
  consoleCredentials_->setVisible(false);
  column->addWidget(consoleCredentials_);

  auto* input = new QHBoxLayout;
  consoleInput_ = new QLineEdit(page);
  consoleInput_->setObjectName(QStringLiteral("consoleInput"));
  consoleInput_->setPlaceholderText(tr("Connect first, then type a command and press Enter"));
  consoleInput_->setFont(consoleTranscript_->font());
  auto* send = new QPushButton(tr("Sen&d"), page);
  send->setObjectName(QStringLiteral("consoleSend"));
  input->addWidget(consoleInput_, 1);
  input->addWidget(send);
  column->addLayout(input);

  connect(consoleConnect_, &QPushButton::clicked, this, &MainWindow::connectConsole);
  connect(consoleClose_, &QPushButton::clicked, this, [this] {
    if (console_) console_->closeConnection();
  });
  connect(consoleInput_, &QLineEdit::returnPressed, this, [this] { typeInConsole(false); });
  connect(send, &QPushButton::clicked, this, [this] { typeInConsole(false); });
  connect(sendAnyway, &QPushButton::clicked, this, [this] { typeInConsole(true); });
  connect(dont, &QPushButton::clicked, this, [this] {
    consoleWarning_->setVisible(false);
    consoleInput_->setFocus();
  });
  connect(credentialsOk, &QPushButton::clicked, this, [this] {
    consoleCredentials_->setVisible(false);
    if (console_) console_->provideCredentials(consoleUser_->text(), consolePassword_->text());
    consolePassword_->clear();
    consoleInput_->setFocus();
  });
  connect(consoleTranscript_, &TranscriptView::entryChosen, this, [this](const TranscriptEntry& entry) {
    const LineExplanation x = explainLine(entry);
    QString text = qs(x.title) + QStringLiteral("\n") + qs(x.text);
    if (!x.references.empty()) {
      QStringList refs;
      for (const auto& r : x.references) refs << qs(r);
      text += tr("\nRead: %1").arg(refs.join(QStringLiteral(" · ")));
    }
    consoleExplanation_->setText(text);
  });
  updateConsoleButtons();
  return page;
}

void MainWindow::connectConsole() {
  if (console_ && console_->isRunning()) return;
  auto params = paramsFromForm(false);  // the form's server, port, security and TLS settings
  if (!params) return;
  if (params->security == SecurityMode::None || params->security == SecurityMode::StartTlsIfOffered)
    consoleTranscript_->begin(tr("Console: %1 port %2, clear text until you type STARTTLS")
                                  .arg(qs(params->host)).arg(params->effectivePort()));
  else
    consoleTranscript_->begin(tr("Console: %1 port %2, %3").arg(qs(params->host)).arg(params->effectivePort())
                                  .arg(security_->currentText()));
  consoleWarning_->setVisible(false);
  consoleCredentials_->setVisible(false);
  consoleExplanation_->clear();
  console_ = std::make_unique<qt::QtConsole>();
  connect(console_.get(), &qt::QtConsole::transcript, consoleTranscript_, &TranscriptView::addEntry);
  connect(console_.get(), &qt::QtConsole::tlsEstablished, this,
          [this](const TlsInfo& info) { consoleTranscript_->addBoundary(qs(view::tlsBoundary(info))); });
  connect(console_.get(), &qt::QtConsole::stateChanged, this, [this](ConsoleState, ConsoleState to) {
    consoleState_->setText(tr("State: %1").arg(qs(consoleStateName(to))));
    updateConsoleButtons();
  });
  connect(console_.get(), &qt::QtConsole::credentialsRequested, this, [this](const CredentialRequest& request) {
    consoleCredentialsWhy_->setText(qs(request.why));
    if (consoleUser_->text().isEmpty()) consoleUser_->setText(username_->text());
    consoleCredentials_->setVisible(true);
    consolePassword_->setFocus();
  });
  connect(console_.get(), &qt::QtConsole::finished, this, [this](const ConsoleFinished& end) {
    consoleState_->setText(end.error ? tr("Closed: %1").arg(qs(end.error.explanation())) : tr("Closed."));
    consoleCredentials_->setVisible(false);
    consoleWarning_->setVisible(false);
    updateConsoleButtons();
  });
  const int run = ++consoleRuns_;
  qt::resolveConnection(network_, *params, this, [this, run](std::optional<ConnectParams> resolved, const QString& why) {
    if (run != consoleRuns_ || !console_) return;
    if (!resolved) {
      consoleState_->setText(tr("Not connected: %1.").arg(why));
      return;
    }
    ConsoleParams p;
    p.host = resolved->host;
    p.port = resolved->effectivePort();
    p.implicitTls = resolved->security == SecurityMode::ImplicitTls;
    p.tls = resolved->tls;
    if (const Error error = console_->connectToServer(p)) consoleState_->setText(qs(error.explanation()));
    updateConsoleButtons();
    consoleInput_->setFocus();
  });
}

void MainWindow::typeInConsole(bool confirmed) {
  if (!console_ || !console_->isRunning()) return;
  const QString line = consoleInput_->text();
  consoleWarning_->setVisible(false);
  if (const auto warning = console_->typeLine(line, confirmed)) {
    // Held back: the learner reads why, then sends it anyway or not. The line stays in the box.
    consoleWarningText_->setText(qs(warning->why));
    consoleWarning_->findChild<QPushButton*>(QStringLiteral("consoleSendAnyway"))->setVisible(warning->canSend);
    consoleWarning_->setVisible(true);
    return;
  }
  consoleInput_->clear();
}

void MainWindow::updateConsoleButtons() {
  const bool open = console_ && console_->isRunning();
  consoleConnect_->setEnabled(!open);
  consoleClose_->setEnabled(open);
}

}  // namespace smtpc::gui
