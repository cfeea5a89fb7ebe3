#include "transcriptview.h"

#include <QFontDatabase>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

namespace smtpc::gui {

namespace {
// The entry a line shows, kept with its block (and dropped with it when old lines are trimmed).
struct EntryData final : QTextBlockUserData {
  explicit EntryData(const TranscriptEntry& e) : entry(e) {}
  TranscriptEntry entry;
};

QTextCharFormat formatFor(TranscriptKind kind) {
  QTextCharFormat format;
  switch (kind) {
    case TranscriptKind::Client: format.setForeground(QColor(0x1a, 0x4f, 0xa8)); break;
    case TranscriptKind::Server: format.setForeground(QColor(0x1b, 0x6e, 0x2f)); break;
    case TranscriptKind::Info: format.setForeground(QColor(0x5f, 0x63, 0x68)); format.setFontItalic(true); break;
    case TranscriptKind::Tls: format.setForeground(QColor(0x6a, 0x1b, 0x9a)); break;
    case TranscriptKind::Error: format.setForeground(QColor(0xb7, 0x1c, 0x1c)); format.setFontWeight(QFont::Bold); break;
  }
  return format;
}
}  // namespace

TranscriptView::TranscriptView(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setLineWrapMode(QPlainTextEdit::WidgetWidth);
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  setMaximumBlockCount(20000);  // a long DATA progress stays bounded
  setPlaceholderText(tr("The conversation appears here: -> we send, <- the server answers, "
                        "~> and <~ inside TLS, === notes, *** errors."));
  setAccessibleName(tr("Transcript"));
  setToolTip(tr("Click a line to see what it means."));
  setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
}

// Only what the reader does chooses a line: the cursor also moves as lines are added.
void TranscriptView::mouseReleaseEvent(QMouseEvent* event) {
  QPlainTextEdit::mouseReleaseEvent(event);
  if (event->button() == Qt::LeftButton && !textCursor().hasSelection()) reportChosen();
}

void TranscriptView::keyPressEvent(QKeyEvent* event) {
  const int before = textCursor().blockNumber();
  QPlainTextEdit::keyPressEvent(event);
  if (textCursor().blockNumber() != before) reportChosen();
}

std::optional<TranscriptEntry> TranscriptView::entryAt(int blockNumber) const {
  const QTextBlock block = document()->findBlockByNumber(blockNumber);
  if (const auto* kept = dynamic_cast<const EntryData*>(block.userData())) return kept->entry;
  return std::nullopt;
}

void TranscriptView::reportChosen() {
  if (const auto entry = entryAt(textCursor().blockNumber())) emit entryChosen(*entry);
}

void TranscriptView::begin(const QString& title) {
  clear();
  start_.reset();
  QTextCharFormat format;
  format.setFontWeight(QFont::Bold);
  appendLine({}, {}, title, format);
}

void TranscriptView::appendLine(const QString& time, const QString& prefix, const QString& text,
                                const QTextCharFormat& format, const TranscriptEntry* entry) {
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  if (!document()->isEmpty()) cursor.insertBlock(QTextBlockFormat());
  QTextCharFormat timeFormat;
  timeFormat.setForeground(palette().color(QPalette::PlaceholderText));
  if (!time.isEmpty()) cursor.insertText(time + u' ', timeFormat);
  if (!prefix.isEmpty()) cursor.insertText(prefix + u' ', format);
  cursor.insertText(text, format);
  if (entry) cursor.block().setUserData(new EntryData(*entry));
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::addEntry(const TranscriptEntry& entry) {
  if (!start_) start_ = entry.at;
  const double seconds = static_cast<double>((entry.at - *start_).count()) / 1000.0;
  appendLine(QStringLiteral("%1").arg(seconds, 7, 'f', 3), QString::fromLatin1(transcriptPrefix(entry).data()),
             QString::fromStdString(entry.text), formatFor(entry.kind), &entry);
}

void TranscriptView::addLookup(Time at, const QString& source, const QString& query, const QString& result, bool found,
                               Duration took) {
  if (!start_) start_ = at;
  const double seconds = static_cast<double>((at - *start_).count()) / 1000.0;
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  if (!document()->isEmpty()) cursor.insertBlock(QTextBlockFormat());
  QTextCharFormat timeFormat;
  timeFormat.setForeground(palette().color(QPalette::PlaceholderText));
  cursor.insertText(QStringLiteral("%1 ").arg(seconds, 7, 'f', 3), timeFormat);
  QTextCharFormat sourceFormat;
  sourceFormat.setFontWeight(QFont::Bold);
  cursor.insertText(source + QStringLiteral(": "), sourceFormat);
  cursor.insertText(query, formatFor(TranscriptKind::Client));
  // The answer below the question, under it rather than under the time.
  cursor.insertBlock(QTextBlockFormat());
  const QString milliseconds = took.count() > 0 ? QStringLiteral(" (%1 ms)").arg(took.count()) : QString();
  cursor.insertText(QString(8, u' ') + QStringLiteral("→ ") + result + milliseconds,
                    formatFor(found ? TranscriptKind::Server : TranscriptKind::Info));
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::addBoundary(const QString& text) {
  QTextCharFormat format;
  format.setForeground(QColor(0x6a, 0x1b, 0x9a));
  format.setFontWeight(QFont::Bold);
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  QTextBlockFormat block;
  block.setBackground(QColor(0xf3, 0xe5, 0xf5));
  cursor.insertBlock(block);
  cursor.insertText(QStringLiteral("──── %1 ────").arg(text), format);
}

void TranscriptView::addSection(const QString& title) {
  addBoundary(title);
  start_.reset();
}

}  // namespace smtpc::gui
