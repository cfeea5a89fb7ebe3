// The result view: the step bar, the headline with its diagnosis, and the tabs for the
// transcript, what the server offers and the TLS details. Server text is shown as text.
#include "mainwindow.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "guitext.h"
#include "smtpc/tls_policy.h"
#include "stepbar.h"
#include "transcriptview.h"

namespace smtpc::gui {

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

void MainWindow::setStatus(const QString& text, const QString& colour) {
  status_->setText(text);
  status_->setStyleSheet(colour.isEmpty() ? QString() : QStringLiteral("color: %1;").arg(colour));
}

void MainWindow::showProblem(const QString& headline, const QString& explanation) {
  setStatus(QStringLiteral("✗ ") + headline, QStringLiteral("#b71c1c"));
  setExplanation(explanation.toHtmlEscaped());
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
    new QTreeWidgetItem(cert, {tr("Key pin"), qs(tls::pinOf(c))});
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

}  // namespace smtpc::gui
