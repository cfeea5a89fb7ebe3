// A run: a test or a test message started from the form, the engine's events as they come,
// and the buttons while it runs. How its end is shown is mainwindow_result.cpp. With --resolve or
// --dns-server (the demo's and the tests' private names), the server's name is resolved as they
// say first, and the certificate is still verified against the name.
#include "mainwindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QTreeWidget>

#include "guitext.h"
#include "smtpc/views.h"
#include "stepbar.h"
#include "transcriptview.h"

namespace smtpc::gui {

void MainWindow::runTest() { start(false); }
void MainWindow::runSend() { start(true); }

void MainWindow::cancelRun() {
  if (resolving_) {
    ++runs_;  // its name's answer, when it comes, is for nobody
    resolving_ = false;
    onEvent(Event(Finished{Error(ErrorCode::Cancelled, "Cancelled before connecting."), Phase::None}));
  } else if (isRunning()) {
    client_->cancel();
  }
  if (isSigningIn()) signIn_->cancel();
  if (isDiscovering()) {
    discoveryCancelled_ = true;
    discovery_->cancel();
  }
}

void MainWindow::start(bool sending) {
  if (isRunning() || isSigningIn() || isDiscovering()) return;
  if (password_->text().isEmpty() && rememberPassword_->isChecked()) loadRememberedPassword();
  auto params = paramsFromForm(sending);
  if (!params) {
    emit runFinished(false);  // nothing ran: the form says why
    return;
  }
  plan_ = runPlan(sending);
  const bool needsEnvelope = plan_.needsEnvelope;
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
  record_ = std::make_unique<RunRecord>(*params, needsEnvelope);
  connect(client_.get(), &qt::QtClient::sessionEvent, this, &MainWindow::onEvent);
  client_->setStepMode(stepMode_->isChecked());
  leavePause();
  pauseExplanation_->setVisible(false);

  const QString target = QStringLiteral("%1 port %2, %3").arg(qs(params->host)).arg(params->effectivePort())
                             .arg(security_->currentText());
  const QString title = sending ? tr("Sending a test message via %1").arg(target) : tr("Testing %1").arg(target);
  if (afterSignIn_) transcript_->addSection(title);  // the sign-in's steps stay above
  else transcript_->begin(title);
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

  // At once when nothing overrides the system's resolver; the explainer keeps the name.
  resolving_ = true;
  updateButtons();
  const int run = ++runs_;
  auto pending = std::make_shared<std::optional<OutgoingMessage>>(std::move(message));
  qt::resolveConnection(network_, *params, this, [this, run, pending](std::optional<ConnectParams> resolved, const QString& why) {
    if (run != runs_) return;  // cancelled meanwhile
    resolving_ = false;
    if (!resolved) {
      onEvent(Event(Finished{Error(ErrorCode::HostNotFound, why.toStdString() + "."), Phase::None}));
      return;
    }
    const Error error = *pending ? client_->sendMail(*resolved, std::move(**pending)) : client_->connectToServer(*resolved);
    if (error) {
      onFinished(Finished{error, Phase::None});
      return;
    }
    updateButtons();
  });
}

void MainWindow::onEvent(const Event& event) {
  if (explainer_ && explainer_->onEvent(event)) steps_->setSteps(explainer_->steps());
  if (record_) record_->onEvent(event);
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
          transcript_->addBoundary(qs(view::tlsBoundary(e.info)));
        } else if constexpr (std::is_same_v<T, MessageProgress>) {
          if (e.total && *e.total > 0) {
            progress_->setRange(0, 1000);
            progress_->setValue(static_cast<int>(1000.0 * static_cast<double>(e.sent) / static_cast<double>(*e.total)));
          }
        } else if constexpr (std::is_same_v<T, MessageResult>) {
          if (!e.error) progress_->setValue(progress_->maximum());
        } else if constexpr (std::is_same_v<T, SessionReady>) {
          // A test that stops nowhere ("Don't stop"): say goodbye once ready (core's plan).
          if (plan_.quitWhenReady && client_) client_->disconnectFromServer();
        } else if constexpr (std::is_same_v<T, Paused>) {
          onPaused(e.pause);
        } else if constexpr (std::is_same_v<T, Finished>) {
          leavePause();
          onFinished(e);
        }
      },
      event);
}

void MainWindow::updateButtons() {
  const bool discovering = isDiscovering();
  const bool running = isRunning() || isSigningIn() || discovering;
  testButton_->setEnabled(!running);
  sendButton_->setEnabled(!running);
  signInButton_->setEnabled(!running);
  cancelButton_->setEnabled(running);
  preset_->setEnabled(!running);
  // While it looks, Find settings is where the person's pointer is: it becomes Cancel there.
  discoverButton_->setEnabled(!running || discovering);
  discoverButton_->setText(discovering ? tr("Cancel") : tr("Find settings"));
  emailAddress_->setReadOnly(discovering);
  if (startLesson_) startLesson_->setEnabled(!running && lessons_->currentItem() && activeLesson_.isEmpty());
}

}  // namespace smtpc::gui
