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
#include "smtpc/views.h"
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
  column->addWidget(buildStepControls(panel));

  tabs_ = new QTabWidget(panel);
  auto* transcriptPage = new QWidget;
  auto* transcriptBox = new QVBoxLayout(transcriptPage);
  transcript_ = new TranscriptView(transcriptPage);
  transcript_->setObjectName(QStringLiteral("transcript"));
  transcriptBox->addWidget(transcript_, 1);
  transcriptBox->addWidget(buildLineExplanation(transcriptPage));
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
  auto* report = new QPushButton(tr("Save as &report…"), transcriptPage);
  report->setObjectName(QStringLiteral("saveReport"));
  report->setToolTip(tr("The run as one web page with each line explained, or as a sequence diagram (SVG)."));
  connect(report, &QPushButton::clicked, this, &MainWindow::saveReportAs);
  transcriptButtons->addWidget(copy);
  transcriptButtons->addWidget(save);
  transcriptButtons->addWidget(report);
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
  tabs_->addTab(buildLessons(), tr("Less&ons"));
  tabs_->addTab(buildConsole(), tr("Con&sole"));
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
  // The words are core's view (smtpc/views.h), the same as the page's; everything in it may
  // quote the server, so all of it is escaped into the rich text.
  const view::Result r = view::result(d, sending_ ? form::RunKind::Send : form::RunKind::Test,
                                      explainer_ ? explainer_->failedStep() : std::nullopt);
  setStatus((r.ok ? QStringLiteral("✓ ") : QStringLiteral("✗ ")) + qs(r.headline),
            r.ok ? QStringLiteral("#2e7d32") : QStringLiteral("#b71c1c"));
  resultWarning_->setText(r.warning.empty() ? QString() : QStringLiteral("⚠ ") + qs(r.warning));
  resultWarning_->setVisible(!r.warning.empty());
  const auto escaped = [](const std::string& text) { return qs(text).toHtmlEscaped(); };
  QString html = QStringLiteral("<p>%1</p>").arg(escaped(r.explanation));
  if (!r.failedStepLabel.empty())
    html += tr("<p>It failed at <b>%1</b>: %2</p>").arg(escaped(r.failedStepLabel), escaped(r.failedStepPurpose));
  if (!r.serverSaid.empty()) html += tr("<p>The server said: <code>%1</code></p>").arg(escaped(r.serverSaid));
  if (!r.suggestions.empty()) {
    html += QStringLiteral("<p><b>%1</b></p><ul>").arg(escaped(r.suggestionsTitle));
    for (const auto& s : r.suggestions) html += QStringLiteral("<li>%1</li>").arg(escaped(s));
    html += QStringLiteral("</ul>");
  }
  setExplanation(html);
  updateButtons();
  emit runFinished(r.ok);
}

void MainWindow::showCapabilities(const Capabilities& capabilities, bool encrypted) {
  capabilities_->clear();
  const view::Capabilities v = view::capabilities(capabilities, encrypted);
  capabilitiesNote_->setText(qs(v.note));
  for (const auto& offer : v.offers) {
    auto* item = new QTreeWidgetItem(capabilities_, {qs(offer.keyword), qs(offer.params), qs(offer.meaning)});
    // Item text is always plain; a tooltip is not (Qt guesses), so it is escaped.
    for (int column : {1, 2})
      if (!item->text(column).isEmpty()) item->setToolTip(column, plainToolTip(item->text(column)));
  }
  capabilities_->resizeColumnToContents(0);
  capabilities_->resizeColumnToContents(1);
}

void MainWindow::showTls(const TlsInfo& info) {
  tls_->clear();
  const view::Tls v = view::tls(info);
  tlsNote_->setText(qs(v.note));
  tlsNote_->setStyleSheet(v.good ? QStringLiteral("color: #2e7d32;") : QStringLiteral("color: #b71c1c; font-weight: bold;"));
  // Protocol and cipher at the top; the verification row holds its problems.
  QTreeWidgetItem* verification = nullptr;
  for (const auto& row : v.rows) {
    if (row.label == "Problem" && verification) new QTreeWidgetItem(verification, {QString(), qs(row.value)});
    else if (auto* item = new QTreeWidgetItem(tls_, {qs(row.label), qs(row.value)}); row.label == "Verification")
      verification = item;
  }
  bool first = true;
  for (const auto& c : v.chain) {
    auto* cert = new QTreeWidgetItem(tls_, {qs(c.title), qs(c.subject)});
    for (const auto& row : c.rows) new QTreeWidgetItem(cert, {qs(row.label), qs(row.value)});
    cert->setExpanded(first);
    first = false;
  }
  if (verification) verification->setExpanded(true);
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
