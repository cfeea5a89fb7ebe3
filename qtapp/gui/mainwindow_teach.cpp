// Teaching mode (issue 17) in the window: what a transcript line means (click it), step mode
// (Next / Continue / Run to end, with what comes next and why), the lessons against the sandbox,
// and the run taken home as an HTML page or an SVG sequence diagram. Every word comes from core
// (smtpc/line_explain.h, pause.h, lessons.h, report.h), the same as the CLI's and the page's.
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "guitext.h"
#include "mainwindow.h"
#include "smtpc/lessons.h"
#include "smtpc/line_explain.h"
#include "smtpc/report.h"
#include "transcriptview.h"

namespace smtpc::gui {

namespace {

QString escaped(std::string_view text) { return qs(text).toHtmlEscaped(); }

QString explanationHtml(const LineExplanation& x) {
  QString html = QStringLiteral("<b>%1</b>").arg(escaped(x.title));
  for (const QString& paragraph : qs(x.text).split(u'\n', Qt::SkipEmptyParts))
    html += QStringLiteral("<p>%1</p>").arg(paragraph.toHtmlEscaped());
  if (!x.references.empty()) {
    QStringList refs;
    for (const auto& r : x.references) refs << escaped(r);
    html += QStringLiteral("<p><i>%1 %2</i></p>").arg(QObject::tr("Read:"), refs.join(QStringLiteral(" · ")));
  }
  return html;
}

}  // namespace

QWidget* MainWindow::buildLineExplanation(QWidget* parent) {
  lineExplanation_ = new QLabel(tr("Click a line of the transcript to see what it means."), parent);
  lineExplanation_->setObjectName(QStringLiteral("lineExplanation"));
  lineExplanation_->setWordWrap(true);
  lineExplanation_->setTextFormat(Qt::RichText);  // built from escaped text only (explanationHtml)
  lineExplanation_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  lineExplanation_->setStyleSheet(QStringLiteral("background: #f5f7fa; padding: 6px; border-radius: 4px;"));
  connect(transcript_, &TranscriptView::entryChosen, this, &MainWindow::explainEntry);
  return lineExplanation_;
}

void MainWindow::explainEntry(const TranscriptEntry& entry) {
  lineExplanation_->setText(QStringLiteral("<code>%1 %2</code><br>%3")
                                .arg(escaped(transcriptPrefix(entry)), escaped(entry.text), explanationHtml(explainLine(entry))));
}

// --- step mode

QWidget* MainWindow::buildStepControls(QWidget* parent) {
  auto* box = new QWidget(parent);
  auto* column = new QVBoxLayout(box);
  column->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  stepMode_ = new QCheckBox(tr("Step t&hrough"), box);
  stepMode_->setObjectName(QStringLiteral("stepMode"));
  stepMode_->setToolTip(tr("Stop before each command and after each reply, and say what comes next and why."));
  nextButton_ = new QPushButton(tr("&Next"), box);
  nextButton_->setObjectName(QStringLiteral("nextButton"));
  nextButton_->setToolTip(tr("Send the next command, or act on the reply (one stop)."));
  continueButton_ = new QPushButton(tr("C&ontinue"), box);
  continueButton_->setObjectName(QStringLiteral("continueButton"));
  continueButton_->setToolTip(tr("Go on until the next step of the bar begins."));
  runToEndButton_ = new QPushButton(tr("Run to &end"), box);
  runToEndButton_->setObjectName(QStringLiteral("runToEndButton"));
  runToEndButton_->setToolTip(tr("Leave step mode: the rest of the conversation runs at once."));
  row->addWidget(stepMode_);
  row->addStretch(1);
  for (auto* b : {nextButton_, continueButton_, runToEndButton_}) {
    b->setEnabled(false);
    row->addWidget(b);
  }
  column->addLayout(row);
  pauseExplanation_ = new QLabel(box);
  pauseExplanation_->setObjectName(QStringLiteral("pauseExplanation"));
  pauseExplanation_->setWordWrap(true);
  pauseExplanation_->setTextFormat(Qt::RichText);  // escaped text only (onPaused)
  pauseExplanation_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  pauseExplanation_->setStyleSheet(QStringLiteral("background: #fff8e1; padding: 6px; border-radius: 4px;"));
  pauseExplanation_->setVisible(false);
  column->addWidget(pauseExplanation_);

  connect(stepMode_, &QCheckBox::toggled, this, [this](bool on) {
    if (client_ && client_->isRunning()) client_->setStepMode(on);
    if (!on) leavePause();
  });
  connect(nextButton_, &QPushButton::clicked, this, [this] {
    leavePause();
    if (client_) client_->next();
  });
  connect(continueButton_, &QPushButton::clicked, this, [this] {
    leavePause();
    if (client_) client_->continueToNextStep();
  });
  connect(runToEndButton_, &QPushButton::clicked, this, [this] {
    leavePause();
    stepMode_->setChecked(false);  // runs to the end (the toggled handler)
  });
  return box;
}

void MainWindow::onPaused(const Pause& pause) {
  paused_ = true;
  QString html;
  if (pause.where == PausePoint::BeforeCommand) {
    html = tr("<b>Stop %1 — next we send:</b> <code>%2</code>").arg(pause.number).arg(escaped(pause.command));
    html += QStringLiteral("<p>%1</p>").arg(escaped(pause.why));
    if (!pause.replies.empty()) {
      html += tr("<p>What will the server say? It may answer:</p><ul>");
      for (const auto& r : pause.replies)
        html += QStringLiteral("<li><code>%1</code> %2</li>").arg(r.code).arg(escaped(r.meaning));
      html += QStringLiteral("</ul>");
    }
  } else {
    html = tr("<b>Stop %1 — the server answered</b>%2: <code>%3</code>")
               .arg(pause.number)
               .arg(pause.command.empty() ? QString() : tr(" <code>%1</code>").arg(escaped(pause.command)))
               .arg(pause.reply ? escaped(pause.reply->summary()) : QString());
    html += QStringLiteral("<p>%1</p>").arg(escaped(pause.why));
  }
  if (!pause.note.empty()) html += QStringLiteral("<p><i>%1</i></p>").arg(escaped(pause.note));
  if (!pause.patience.empty()) html += QStringLiteral("<p><small>%1</small></p>").arg(escaped(pause.patience));
  pauseExplanation_->setText(html);
  pauseExplanation_->setVisible(true);
  for (auto* b : {nextButton_, continueButton_, runToEndButton_}) b->setEnabled(true);
  nextButton_->setFocus();
  setStatus(tr("Paused at stop %1: press Next").arg(pause.number), QStringLiteral("#8d6e00"));
}

void MainWindow::leavePause() {
  paused_ = false;
  for (auto* b : {nextButton_, continueButton_, runToEndButton_}) b->setEnabled(false);
}

// --- lessons

QWidget* MainWindow::buildLessons() {
  auto* page = new QWidget;
  auto* column = new QVBoxLayout(page);
  auto* intro = new QLabel(tr("Short runs against the local sandbox, each showing one thing SMTP does. "
                              "Choose one, read what to watch, then start it (with Step through on, it "
                              "stops at every command)."),
                           page);
  intro->setWordWrap(true);
  column->addWidget(intro);
  lessons_ = new QListWidget(page);
  lessons_->setObjectName(QStringLiteral("lessons"));
  for (const auto& lesson : lessons::all()) {
    auto* item = new QListWidgetItem(qs(lesson.title), lessons_);
    item->setData(Qt::UserRole, qs(lesson.id));
  }
  column->addWidget(lessons_, 1);
  lessonWatch_ = new QLabel(page);
  lessonWatch_->setObjectName(QStringLiteral("lessonWatch"));
  lessonWatch_->setWordWrap(true);
  lessonWatch_->setTextFormat(Qt::PlainText);
  column->addWidget(lessonWatch_);
  auto* row = new QHBoxLayout;
  startLesson_ = new QPushButton(tr("Start &lesson"), page);
  startLesson_->setObjectName(QStringLiteral("startLesson"));
  startLesson_->setEnabled(false);
  row->addWidget(startLesson_);
  row->addStretch(1);
  column->addLayout(row);
  lessonResult_ = new QLabel(page);
  lessonResult_->setObjectName(QStringLiteral("lessonResult"));
  lessonResult_->setWordWrap(true);
  lessonResult_->setTextFormat(Qt::PlainText);
  column->addWidget(lessonResult_);

  connect(lessons_, &QListWidget::currentRowChanged, this, [this](int chosen) {
    const lessons::Lesson* lesson = chosen >= 0 ? lessons::find(lessons_->item(chosen)->data(Qt::UserRole).toString().toStdString()) : nullptr;
    lessonWatch_->setText(lesson ? tr("What to watch: %1").arg(qs(lesson->watch)) : QString());
    lessonResult_->clear();
    lessonRuns_ = 0;
    QString missing;
    if (lesson && !sandbox_.port(lesson->port))
      missing = tr("This lesson needs the sandbox's \"%1\" port: start the window from scripts/demo (or with --sandbox FILE).")
                    .arg(qs(lessons::portKindName(lesson->port)));
    if (!missing.isEmpty()) lessonResult_->setText(missing);
    startLesson_->setEnabled(lesson && missing.isEmpty() && !isRunning());
  });
  connect(startLesson_, &QPushButton::clicked, this, &MainWindow::startLesson);
  connect(this, &MainWindow::runFinished, this, [this](bool) { showLessonResult(); });
  return page;
}

void MainWindow::setSandbox(const QString& jsonFile) {
  QFile file(jsonFile);
  if (!file.open(QIODevice::ReadOnly)) return;
  const QJsonObject o = QJsonDocument::fromJson(file.readLine()).object();
  sandbox_.host = o.value(QStringLiteral("host")).toString(QStringLiteral("127.0.0.1")).toStdString();
  sandbox_.plain = static_cast<std::uint16_t>(o.value(QStringLiteral("plain")).toInt());
  sandbox_.starttls = static_cast<std::uint16_t>(o.value(QStringLiteral("starttls")).toInt());
  sandbox_.tls = static_cast<std::uint16_t>(o.value(QStringLiteral("tls")).toInt());
  if (sandboxCaFile_.isEmpty()) sandboxCaFile_ = o.value(QStringLiteral("ca_file")).toString();
  if (sandboxHost_.isEmpty()) sandboxHost_ = qs(sandbox_.host);
  if (!sandboxPort_) sandboxPort_ = sandbox_.starttls;
}

void MainWindow::startLesson() {
  if (isRunning() || !lessons_->currentItem()) return;
  const lessons::Lesson* lesson = lessons::find(lessons_->currentItem()->data(Qt::UserRole).toString().toStdString());
  if (!lesson) return;
  // The lesson fills the form, so that the learner sees the settings it runs with.
  const form::ConnectionForm c = lessons::connectionForm(*lesson, sandbox_);
  setConnection(qs(c.server), c.security, c.port);
  auth_->setCurrentIndex(std::max(0, auth_->findData(qs(mechanismName(c.auth)))));
  username_->setText(qs(c.username));
  password_->setText(qs(c.password));
  allowPlaintext_->setChecked(c.allowPlaintext);
  caFile_->setText(sandboxCaFile_);
  const form::MessageForm m = lessons::messageForm(*lesson);
  from_->setText(qs(m.from));
  to_->setText(qs(m.to));
  cc_->setText(qs(m.cc));
  bcc_->setText(qs(m.bcc));
  subject_->setText(qs(m.subject));
  body_->setPlainText(qs(m.text));
  attachments_->clear();
  activeLesson_ = qs(lesson->id);
  ++lessonRuns_;
  lessonResult_->setText(tr("Running… %1").arg(qs(lesson->watch)));
  startLesson_->setEnabled(false);
  runSend();
}

void MainWindow::showLessonResult() {
  if (activeLesson_.isEmpty()) return;
  const lessons::Lesson* lesson = lessons::find(activeLesson_.toStdString());
  activeLesson_.clear();
  startLesson_->setEnabled(lessons_->currentItem() != nullptr);
  if (!lesson || !explainer_ || !explainer_->finished()) return;
  const Error& error = explainer_->finished()->error;
  // A lesson that is about running it again (greylisting) expects another ending the second time.
  const bool again = lessonRuns_ > 1 && lesson->retry;
  const lessons::Outcome& expected = again ? *lesson->retry : lesson->outcome;
  const bool asSaid = lessons::matches(expected, error, explainer_->failedStep());
  QString text = asSaid ? tr("✓ As the lesson says: %1.").arg(qs(lessons::describe(expected)))
                        : tr("✗ Not what the lesson expects (%1); see the transcript.").arg(qs(lessons::describe(expected)));
  if (asSaid && lesson->retry && !again) text += tr(" Now start it again: %1.").arg(qs(lessons::describe(*lesson->retry)));
  lessonResult_->setText(text);
}

// --- take it home

bool MainWindow::saveReport(const QString& path, QString* why) {
  const auto format = reportFormatForPath(path.toStdString());
  if (!format) return *why = tr("Choose a name ending in .html or .svg."), false;
  if (!record_) return *why = tr("Run a test first."), false;
  ReportOptions options;
  options.explain = explanationText;  // core's words, as --report and the page
  options.date = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")).toStdString();
  QFile file(path);
  const std::string text = renderReport(*format, *record_, options);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
      file.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()))
    return *why = tr("Could not write %1: %2").arg(path, file.errorString()), false;
  return true;
}

void MainWindow::saveReportAs() {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save the run"), QStringLiteral("smtp-run.html"),
      tr("Web page with explanations (*.html);;Sequence diagram (*.svg)"), &filter);
  if (path.isEmpty()) return;
  QString chosen = path;
  if (!reportFormatForPath(chosen.toStdString())) chosen += filter.contains(QStringLiteral("svg")) ? ".svg" : ".html";
  QString why;
  if (!saveReport(chosen, &why)) showProblem(tr("Not saved"), why);
}

}  // namespace smtpc::gui
