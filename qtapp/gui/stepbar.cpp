#include "stepbar.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

namespace smtpc::gui {

namespace {
QColor fillFor(StepStatus status, const QPalette& palette) {
  switch (status) {
    case StepStatus::Pending: return palette.color(QPalette::Button);
    case StepStatus::Active: return QColor(0x2f, 0x6f, 0xd0);
    case StepStatus::Done: return QColor(0x2e, 0x8b, 0x57);
    case StepStatus::Failed: return QColor(0xc6, 0x28, 0x28);
    case StepStatus::Skipped: return palette.color(QPalette::Window);
  }
  return palette.color(QPalette::Button);
}
QString markFor(StepStatus status) {
  switch (status) {
    case StepStatus::Done: return QStringLiteral("✓ ");
    case StepStatus::Failed: return QStringLiteral("✗ ");
    case StepStatus::Active: return QStringLiteral("… ");
    default: return {};
  }
}
}  // namespace

StepBar::StepBar(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  setAccessibleName(tr("Steps of the SMTP conversation"));
}

void StepBar::setSteps(std::vector<StepView> steps) {
  steps_ = std::move(steps);
  setAccessibleDescription(summary());
  update();
}

QString StepBar::summary() const {
  QStringList parts;
  for (const auto& view : steps_)
    parts << QString::fromLatin1(stepName(view.step).data()) + u':' + QString::fromLatin1(stepStatusName(view.status).data());
  return parts.join(u' ');
}

QSize StepBar::sizeHint() const {
  const int height = fontMetrics().height() * 2 + 8;
  int width = 0;
  for (const auto& view : steps_) width += fontMetrics().horizontalAdvance(QString::fromUtf8(stepLabel(view.step).data())) + 40;
  return {std::max(width, 400), height};
}

QSize StepBar::minimumSizeHint() const { return {200, fontMetrics().height() * 2 + 8}; }

QRectF StepBar::stepRect(int index) const {
  const int count = std::max<int>(1, static_cast<int>(steps_.size()));
  const qreal gap = 6;
  const qreal width = (rect().width() - gap * (count - 1)) / count;
  return QRectF(index * (width + gap), 2, width, rect().height() - 4);
}

int StepBar::stepAt(QPoint point) const {
  for (int i = 0; i < static_cast<int>(steps_.size()); ++i)
    if (stepRect(i).contains(point)) return i;
  return -1;
}

void StepBar::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  QFont font = painter.font();
  // On a narrow window the labels shrink (down to 70 %) rather than being cut off.
  if (!steps_.empty()) {
    QFont bold = font;
    bold.setBold(true);
    const QFontMetricsF metrics(bold);
    qreal widest = 0;
    for (const auto& view : steps_)
      widest = std::max(widest, metrics.horizontalAdvance(QStringLiteral("✓ ") + QString::fromUtf8(stepLabel(view.step).data())) / 2 + 8);
    const qreal room = stepRect(0).width();
    if (widest > room) font.setPointSizeF(std::max(font.pointSizeF() * 0.7, font.pointSizeF() * room / widest));
  }
  for (int i = 0; i < static_cast<int>(steps_.size()); ++i) {
    const auto& view = steps_[static_cast<std::size_t>(i)];
    const QRectF box = stepRect(i);
    const QColor fill = fillFor(view.status, palette());
    const bool strong = view.status == StepStatus::Active || view.status == StepStatus::Done ||
                        view.status == StepStatus::Failed;
    QPainterPath path;
    path.addRoundedRect(box, 6, 6);
    painter.fillPath(path, fill);
    QPen pen(strong ? fill.darker(130) : palette().color(QPalette::Mid));
    if (view.status == StepStatus::Skipped) pen.setStyle(Qt::DashLine);
    painter.setPen(pen);
    painter.drawPath(path);
    font.setBold(view.status == StepStatus::Active || view.status == StepStatus::Failed);
    font.setStrikeOut(view.status == StepStatus::Skipped);
    painter.setFont(font);
    painter.setPen(strong ? QColor(Qt::white) : palette().color(view.status == StepStatus::Skipped ? QPalette::PlaceholderText : QPalette::ButtonText));
    const QString label = markFor(view.status) + QString::fromUtf8(stepLabel(view.step).data());
    painter.drawText(box.adjusted(2, 0, -2, 0), Qt::AlignCenter | Qt::TextWordWrap, label);
  }
}

bool StepBar::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int index = stepAt(help->pos());
    if (index >= 0) {
      const auto& view = steps_[static_cast<std::size_t>(index)];
      QToolTip::showText(help->globalPos(), QStringLiteral("<b>%1</b> (%2)<br>%3")
                                                .arg(QString::fromUtf8(stepLabel(view.step).data()),
                                                     QString::fromLatin1(stepStatusName(view.status).data()),
                                                     QString::fromUtf8(stepPurpose(view.step).data())),
                         this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace smtpc::gui
