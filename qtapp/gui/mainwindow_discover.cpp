// "Find settings" (issue 15): from an e-mail address to the form filled in, with the reasoning
// shown. The flow is core's (smtpc/discovery.h), carried out by the Qt adapter
// (smtpc/qt/discovery.h) with the window's --dns-server / --resolve / --ispdb; every decision and
// every sentence shown is the flow's. This file binds widgets:
//   - the address field and its button at the top of the form (Return in the field presses it);
//   - each step, as it comes, as a question and its answer in the transcript;
//   - autoconfig over plain HTTP asked in a message box, "No" the default;
//   - while it runs the button is Cancel (so are the Cancel button and Esc) and nothing else runs;
//   - at the end: server, port, security mode and user name filled in as a preset fills them (the
//     preset becomes "Other server"), the sign-in provider preselected when the source names one,
//     and the result: which source decided, warnings beside the headline, why, what the provider
//     wants, where sources disagree, every server tried — or the flow's failure, with the form
//     left as it was.
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "guitext.h"
#include "mainwindow.h"
#include "stepbar.h"
#include "transcriptview.h"

namespace smtpc::gui {

namespace {

QString escaped(const std::string& text) { return qs(text).toHtmlEscaped(); }

// A titled list for the result's rich text; nothing when there is nothing to list.
QString htmlList(const QString& title, const std::vector<std::string>& items) {
  if (items.empty()) return {};
  QString html = QStringLiteral("<p><b>%1</b></p><ul>").arg(title.toHtmlEscaped());
  for (const auto& item : items) html += QStringLiteral("<li>%1</li>").arg(escaped(item));
  return html + QStringLiteral("</ul>");
}

// "smtp.own.test port 465 (implicit TLS), from Autoconfig: works — TLSv1.3, …"
std::vector<std::string> triedLines(const discovery::Outcome& outcome) {
  std::vector<std::string> lines;
  for (const auto& t : outcome.tried) {
    std::string verdict(discovery::verdictName(t.verdict));
    for (char& c : verdict)
      if (c == '-') c = ' ';
    lines.push_back(discovery::describe(t.candidate) + ", from " + std::string(discovery::sourceLabel(t.candidate.source)) +
                    (t.candidate.viaMx ? " (via MX)" : "") + ": " + verdict + (t.detail.empty() ? "" : " — " + t.detail));
  }
  return lines;
}

}  // namespace

QWidget* MainWindow::buildDiscovery(QWidget* parent) {
  auto* box = new QGroupBox(tr("Find the settings"), parent);
  auto* column = new QVBoxLayout(box);
  auto* row = new QHBoxLayout;
  const form::Field* field = form::findField("emailAddress");
  auto* label = new QLabel(qs(field ? field->label : "E-mail address") + u':', box);
  emailAddress_ = new QLineEdit(box);
  emailAddress_->setObjectName(QStringLiteral("emailAddress"));
  emailAddress_->setPlaceholderText(QStringLiteral("alice@example.org"));
  label->setBuddy(emailAddress_);
  discoverButton_ = new QPushButton(tr("Find settings"), box);
  discoverButton_->setObjectName(QStringLiteral("discoverButton"));
  discoverButton_->setToolTip(tr("Look the settings up (autoconfig, ISPDB, DNS SRV and MX) and try them, without "
                                 "logging in"));
  row->addWidget(label);
  row->addWidget(emailAddress_, 1);
  row->addWidget(discoverButton_);
  column->addLayout(row);
  auto* note = new QLabel(tr("Don't know the server? Enter your address: SMTPc asks where its mail settings are "
                             "published, tries what it finds, fills in the form and explains its choice."),
                          box);
  note->setWordWrap(true);
  note->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
  column->addWidget(note);
  connect(discoverButton_, &QPushButton::clicked, this, &MainWindow::discoverSettings);
  connect(emailAddress_, &QLineEdit::returnPressed, this, [this] {
    if (!isDiscovering()) discoverSettings();
  });
  return box;
}

bool MainWindow::isDiscovering() const { return discovery_ && discovery_->isRunning(); }

void MainWindow::discoverSettings() {
  if (isDiscovering()) {  // the button is Cancel while it looks
    discoveryCancelled_ = true;
    discovery_->cancel();
    return;
  }
  if (isRunning() || isSigningIn()) return;
  const QString address = emailAddress_->text().trimmed();
  std::string why;
  if (address.isEmpty()) {
    showFormProblem({"emailAddress", "No e-mail address",
                     "Enter the address whose settings you want, for example alice@example.org: SMTPc looks its "
                     "domain up."});
    emit discoveryFinished(false);
    return;
  }
  if (!discovery::addressDomain(address.toStdString(), &why)) {
    showFormProblem({"emailAddress", "Not an e-mail address", why});
    emit discoveryFinished(false);
    return;
  }
  discovery::Settings settings;
  settings.address = address.toStdString();
  if (!ispdb_.isEmpty()) settings.ispdbBase = ispdb_.toStdString();
  settings.plainHttp = discovery::PlainHttp::Ask;
  // The CA file is trusted for the HTTPS lookups and the probes, as for a run (the CLI's --ca-file).
  if (!caFile_->text().trimmed().isEmpty()) {
    QString unreadable;
    const auto pem = qt::readFile(caFile_->text().trimmed(), &unreadable);
    if (!pem) {
      showProblem(tr("CA file unreadable"), unreadable);
      emit discoveryFinished(false);
      return;
    }
    settings.tls.caCertificatesPem = *pem;
  }
  settings.ehloName = ehlo_->text().trimmed().toStdString();
  saveSettings();  // the address is remembered, as a run remembers its form

  if (discovery_) {
    discovery_->disconnect(this);
    discovery_->deleteLater();
  }
  discovery_ = new qt::Discovery(std::move(settings), network_, this);
  discovery_->setObjectName(QStringLiteral("discovery"));
  discovery_->setConfirmHandler([this](const discovery::ConfirmPlainHttp& question, std::function<void(bool)> answer) {
    askPlainHttp(question, std::move(answer));
  });
  connect(discovery_, &qt::Discovery::step, this, &MainWindow::onDiscoveryStep);
  connect(discovery_, &qt::Discovery::finished, this, &MainWindow::onDiscoveryFinished);
  discoveryCancelled_ = false;

  transcript_->begin(tr("Finding the settings for %1").arg(address));
  tabs_->setCurrentIndex(0);
  // The other tabs described the last run's server: not this one's (the probes fill none of them).
  capabilities_->clear();
  capabilitiesNote_->setText(tr("What the server offers appears here after EHLO."));
  tls_->clear();
  tlsNote_->setText(tr("The TLS details appear here once the connection is encrypted."));
  setExplanation(QString());
  resultWarning_->clear();
  resultWarning_->setVisible(false);
  showPlannedSteps();  // no SMTP step yet: only lookups, and probes of their own
  setStatus(tr("Finding the settings for %1…").arg(address), QStringLiteral("#2f6fd0"));
  updateButtons();
  discovery_->start();  // may finish at once (onDiscoveryFinished)
  updateButtons();
}

void MainWindow::onDiscoveryStep(const discovery::Step& step) {
  updateButtons();  // the first step comes from inside start(): the buttons say "running" from it on
  transcript_->addLookup(step.at, qs(discovery::sourceLabel(step.source)), qs(step.query), qs(step.result), step.found,
                         step.took);
  const auto count = discovery_ ? discovery_->flow().steps().size() : 0;
  setStatus(tr("Finding the settings for %1… (%n answer(s) so far)", nullptr, static_cast<int>(count))
                .arg(emailAddress_->text().trimmed()),
            QStringLiteral("#2f6fd0"));
}

// From the flow's pump: the box opens without blocking it (window-modal), and the answer goes back
// when the person clicks. A discovery that ends meanwhile (Cancel) closes the box.
void MainWindow::askPlainHttp(const discovery::ConfirmPlainHttp& question, std::function<void(bool)> answer) {
  auto* box = new QMessageBox(QMessageBox::Question, tr("Use settings sent over plain HTTP?"), qs(question.question),
                              QMessageBox::Yes | QMessageBox::No, this);
  box->setObjectName(QStringLiteral("plainHttpQuestion"));
  box->setTextFormat(Qt::PlainText);  // it names the domain's URL
  box->setDefaultButton(QMessageBox::No);
  box->setEscapeButton(QMessageBox::No);
  box->setAttribute(Qt::WA_DeleteOnClose);
  connect(box, &QMessageBox::finished, this, [box, answer = std::move(answer)] {
    answer(box->clickedButton() == box->button(QMessageBox::Yes));
  });
  connect(discovery_, &qt::Discovery::finished, box, &QMessageBox::reject);
  const auto& steps = discovery_->flow().steps();
  transcript_->addEntry(TranscriptEntry{TranscriptKind::Info, false, steps.empty() ? Time{0} : steps.back().at,
                                        "Asking you whether to fetch " + question.url + " over plain HTTP."});
  box->open();
}

void MainWindow::onDiscoveryFinished(const discovery::Outcome& outcome) {
  const QString address = emailAddress_->text().trimmed();
  const Time at = discovery_ && !discovery_->flow().steps().empty() ? discovery_->flow().steps().back().at : Time{0};
  if (outcome.found) {
    fillFromDiscovery(outcome.chosen, address);
    const discovery::Candidate& c = outcome.chosen;
    transcript_->addEntry(TranscriptEntry{
        TranscriptKind::Info, false, at,
        "Filled in: " + discovery::describe(c) + ", user " + username_->text().toStdString() +
            ". Enter the password and press Test connection to log in."});
  } else {
    transcript_->addEntry(TranscriptEntry{TranscriptKind::Error, false, at,
                                          discoveryCancelled_ ? "Cancelled: the form is as it was."
                                                              : "No settings found: the form is as it was."});
  }
  showDiscoveryOutcome(outcome);
  updateButtons();
  emit discoveryFinished(outcome.found);
}

void MainWindow::fillFromDiscovery(const discovery::Candidate& chosen, const QString& address) {
  preset_->setCurrentIndex(preset_->findData(QStringLiteral("custom")));
  presetNote_->setText(tr("Filled in by Find settings for %1: the result on the right says why.").arg(address));
  setConnection(qs(chosen.host), chosen.security, chosen.port ? chosen.port : defaultPort(chosen.security));
  // The login the source suggests (core's rule: the address itself when the source names none).
  username_->setText(qs(chosen.username));
  if (!chosen.oauthProvider.empty()) {
    const int index = oauthProvider_->findData(qs(chosen.oauthProvider));
    if (index >= 0) oauthProvider_->setCurrentIndex(index);
  }
  showPlannedSteps();
  saveSettings();
}

// The step bar as Test will now walk it.
void MainWindow::showPlannedSteps() {
  ConnectParams params;
  params.security = securityModeFromName(security_->currentData().toString().toStdString()).value_or(SecurityMode::StartTls);
  params.credentials.username = username_->text().toStdString();
  steps_->setSteps(Explainer(params, false).steps());
}

void MainWindow::showDiscoveryOutcome(const discovery::Outcome& o) {
  // Every sentence is the flow's; all of it may quote the network, so all of it is escaped.
  if (!o.found) {
    setStatus(QStringLiteral("✗ ") + (discoveryCancelled_ ? tr("Find settings cancelled") : tr("No settings found")),
              QStringLiteral("#b71c1c"));
    // The flow's paragraph already names every server tried; the transcript has each answer.
    QString html = QStringLiteral("<p>%1</p>").arg(escaped(o.failure));
    html += tr("<p>The form is as it was. Each question and its answer is in the transcript below.</p>");
    setExplanation(html);
    return;
  }
  setStatus(QStringLiteral("✓ ") + tr("Found: %1").arg(qs(discovery::describe(o.chosen))), QStringLiteral("#2e7d32"));
  // Warnings beside the headline, in red, before anything else: read before logging in.
  QStringList warnings;
  for (const auto& w : o.warnings) warnings << QStringLiteral("⚠ ") + qs(w);
  resultWarning_->setText(warnings.join(u'\n'));
  resultWarning_->setVisible(!warnings.isEmpty());
  QString html = QStringLiteral("<p>%1</p>").arg(escaped(o.decidedBy));
  html += htmlList(tr("Why this one:"), o.reasons);
  html += htmlList(tr("What the provider wants:"), o.advice);
  html += htmlList(tr("Where the sources disagree:"), o.disagreements);
  html += htmlList(tr("Servers, best first:"), triedLines(o));
  html += tr("<p>The form is filled in with it. Next: the password, then <b>Test connection</b>.</p>");
  setExplanation(html);
}

}  // namespace smtpc::gui
