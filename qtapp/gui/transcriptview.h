// The live transcript: what we sent, what the server said, notes, TLS and errors, each in its own
// colour, with the time since the start, and a visible line where TLS begins. The core has
// already masked AUTH payloads; this view only shows what it is given. Each line keeps the entry
// it shows: clicking a line (or moving to it with the keyboard) reports that entry, so the window
// can explain it.
#pragma once

#include <QPlainTextEdit>
#include <optional>

#include "smtpc/transcript.h"

namespace smtpc::gui {

class TranscriptView : public QPlainTextEdit {
  Q_OBJECT
 public:
  explicit TranscriptView(QWidget* parent = nullptr);
  // Starts a new conversation: clears the view; times count from the next entry.
  void begin(const QString& title);
  void addEntry(const TranscriptEntry& entry);
  // A full-width marker, e.g. "TLS established: everything below is encrypted".
  void addBoundary(const QString& text);
  // The next part of the same story (the test after a sign-in): a boundary, and times count
  // again from the next entry (it runs on another clock).
  void addSection(const QString& title);
  // One step of a flow that asks around (settings discovery): which source, what was asked,
  // and — on the line below — what came back and how long it took. `found`: the answer named
  // something (shown in the server's colour; otherwise as a note).
  void addLookup(Time at, const QString& source, const QString& query, const QString& result, bool found,
                 Duration took);
  // The entry shown on the line of block `blockNumber`; nullopt for titles, boundaries, lookups.
  std::optional<TranscriptEntry> entryAt(int blockNumber) const;

 signals:
  // The reader chose a transcript line (a click, or the cursor moved onto it).
  void entryChosen(const smtpc::TranscriptEntry& entry);

 protected:
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void appendLine(const QString& time, const QString& prefix, const QString& text, const QTextCharFormat& format,
                  const TranscriptEntry* entry = nullptr);
  void reportChosen();

  std::optional<Time> start_;
};

}  // namespace smtpc::gui
