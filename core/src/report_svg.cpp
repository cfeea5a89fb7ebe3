// The run as an SVG sequence diagram, the picture a teacher draws on the whiteboard: the client's
// lane on the left, the server's on the right, an arrow per command and per reply (a multi-line
// reply is one arrow with its further lines under it), the notes between them, the part inside
// TLS shaded and labelled, refusals and errors in red, the step bar's steps down the left side,
// and the outcome in a box at the bottom.
//
// Standalone (its own xmlns, no external resource, no script) and sized to its content. Every
// text is the server's or derived from it and goes through markup() after shorten(): escaped for
// XML, never cut inside a character or an entity.
#include <algorithm>
#include <string>
#include <vector>

#include "report_internal.h"
#include "smtpc/report.h"

namespace smtpc {

namespace {

using report::escape;
using report::markup;
using report::printable;
using report::shorten;

// Geometry, in pixels. Labels are monospace 12 px: about 7.2 px a character.
constexpr int kStepColumn = 12;         // where the step names are written
constexpr int kClientX = 210;           // the client's lifeline
constexpr int kLaneBox = 150;           // width of a lane's header box
constexpr int kMinSpan = 440, kMaxSpan = 700;  // distance between the lifelines
constexpr double kCharWidth = 7.2;
constexpr int kArrowRow = 28, kMoreLine = 14, kNoteRow = 19;
constexpr std::size_t kMoreLines = 4;    // further lines of a reply shown under its arrow
constexpr int kTop = 100;               // the first row

constexpr std::string_view kStyle =
    "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;font-size:12px;fill:#1f2328}"
    ".m{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;white-space:pre}"
    ".title{font-size:16px;font-weight:bold}.sub{fill:#57606a}"
    ".more{font-size:11px;fill:#57606a}.info{font-size:11px;font-style:italic;fill:#57606a}"
    ".tlsnote{font-size:11px;fill:#1a7f37}.err{font-size:12px;font-weight:bold;fill:#cf222e}"
    ".bad{fill:#cf222e}.step{font-size:11px;font-weight:bold;fill:#57606a}.step.failed{fill:#cf222e}"
    ".step.done{fill:#1a7f37}.lane{font-weight:bold}.tlslabel{font-size:11px;font-weight:bold;fill:#1a7f37}";

// One row of the diagram.
struct Row {
  enum Kind { Command, Reply, Note } kind = Note;
  const TranscriptEntry* line = nullptr;  // the command, the reply's first line, or the note
  std::vector<const TranscriptEntry*> more;  // a reply's further lines
  std::optional<Step> step;
  bool encrypted = false;
  bool refused = false;  // a 4xx or 5xx reply, or an error note
  int top = 0, height = 0;
};

std::vector<Row> rowsOf(const RunRecord& record) {
  const std::vector<std::optional<Step>> steps = report::stepsOfLines(record.transcript);
  std::vector<Row> rows;
  bool inReply = false;
  for (std::size_t i = 0; i < record.transcript.size(); ++i) {
    const TranscriptEntry& line = record.transcript[i];
    if (line.kind == TranscriptKind::Server && inReply && !rows.empty() && rows.back().kind == Row::Reply) {
      rows.back().more.push_back(&line);
    } else {
      Row row;
      row.kind = line.kind == TranscriptKind::Client ? Row::Command
                 : line.kind == TranscriptKind::Server ? Row::Reply
                                                        : Row::Note;
      row.line = &line;
      row.step = steps[i];
      row.encrypted = line.encrypted;
      row.refused = line.kind == TranscriptKind::Error ||
                    (line.kind == TranscriptKind::Server && !line.text.empty() && (line.text[0] == '4' || line.text[0] == '5'));
      rows.push_back(std::move(row));
    }
    if (line.kind == TranscriptKind::Server) inReply = line.text.size() > 3 && line.text[3] == '-';
  }
  return rows;
}

std::string number(double value) { return std::to_string(static_cast<long>(value + (value < 0 ? -0.5 : 0.5))); }

// `content` is printable text already (cut by shorten()), so it is only escaped here.
void text(std::string& out, double x, double y, std::string_view cls, std::string_view content,
          std::string_view anchor = {}) {
  out += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\"";
  if (!cls.empty()) out += " class=\"" + std::string(cls) + "\"";
  if (!anchor.empty()) out += " text-anchor=\"" + std::string(anchor) + "\"";
  out += ">" + escape(content) + "</text>\n";
}

void line(std::string& out, double x1, double y1, double x2, double y2, std::string_view style) {
  out += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" + number(y2) +
         "\" " + std::string(style) + "/>\n";
}

void rect(std::string& out, double x, double y, double width, double height, std::string_view style) {
  out += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(width) + "\" height=\"" +
         number(height) + "\" " + std::string(style) + "/>\n";
}

// Words wrapped into lines of at most `width` characters (a word longer than that is cut).
std::vector<std::string> wrap(std::string_view words, std::size_t width, std::size_t maxLines) {
  std::vector<std::string> lines;
  std::string current;
  const std::string safe = printable(words);
  std::size_t start = 0;
  while (start <= safe.size()) {
    std::size_t end = safe.find(' ', start);
    if (end == std::string::npos) end = safe.size();
    const std::string word = safe.substr(start, end - start);
    if (!current.empty() && report::characters(current) + 1 + report::characters(word) > width) {
      lines.push_back(current);
      current.clear();
    }
    if (!word.empty()) current += (current.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!current.empty()) lines.push_back(current);
  for (auto& l : lines) l = shorten(l, width);
  if (lines.size() > maxLines) {
    lines.resize(maxLines);
    lines.back() = shorten(lines.back() + " \xe2\x80\xa6", width);
  }
  return lines;
}

}  // namespace

std::string renderSvgReport(const RunRecord& record, const ReportOptions& options) {
  std::vector<Row> rows = rowsOf(record);

  // The span between the lifelines fits the longest label, within limits; longer ones are cut.
  std::size_t longest = 0;
  for (const Row& row : rows)
    if (row.kind != Row::Note) longest = std::max(longest, report::characters(printable(row.line->text)));
  const int span = std::clamp(static_cast<int>(static_cast<double>(longest) * kCharWidth) + 40, kMinSpan, kMaxSpan);
  const std::size_t labelChars = static_cast<std::size_t>((span - 30) / kCharWidth);
  const std::size_t noteChars = static_cast<std::size_t>((span + 40) / 6.0);  // notes may pass the lifelines
  const std::size_t errorChars = static_cast<std::size_t>((span + 10) / 7.4);  // bold, from the client's cross
  const int serverX = kClientX + span;
  const int width = serverX + kLaneBox / 2 + 20;

  // Rows top to bottom; the first encrypted row is preceded by the TLS region's label.
  int y = kTop, tlsTop = -1, tlsBottom = -1;
  for (Row& row : rows) {
    if (row.encrypted && tlsTop < 0) {
      tlsTop = y;
      y += kNoteRow;
    }
    row.top = y;
    const std::size_t more = std::min(row.more.size(), kMoreLines + 1);
    row.height = row.kind == Row::Note ? kNoteRow : kArrowRow + static_cast<int>(more) * kMoreLine;
    y += row.height;
    if (row.encrypted) tlsBottom = y;
  }
  const int lifelineEnd = y + 10;

  const bool failed = report::failed(record) || !record.finished;
  std::vector<std::string> outcome{shorten(printable(report::outcomeLine(record)), static_cast<std::size_t>(width / 7.5))};
  const std::size_t outcomeChars = static_cast<std::size_t>((width - 40) / 6.6);
  if (record.diagnosis && !record.diagnosis->warning.empty())
    for (auto& l : wrap(record.diagnosis->warning, outcomeChars, 2)) outcome.push_back(l);
  if (record.diagnosis && !record.diagnosis->explanation.empty())
    for (auto& l : wrap(record.diagnosis->explanation, outcomeChars, 4)) outcome.push_back(l);
  else if (record.finished && record.finished->error)
    for (auto& l : wrap(record.finished->error.explanation(), outcomeChars, 4)) outcome.push_back(l);
  if (record.diagnosis && !record.diagnosis->serverSaid.empty())
    outcome.push_back(shorten(printable("The server said: " + record.diagnosis->serverSaid), outcomeChars));
  const int outcomeTop = lifelineEnd + 16;
  const int outcomeHeight = 14 + static_cast<int>(outcome.size()) * 17;
  const int height = outcomeTop + outcomeHeight + 34;

  std::string out;
  out.reserve(8 * 1024 + rows.size() * 400);
  const std::string where = record.server + ":" + std::to_string(record.port);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + number(width) + "\" height=\"" +
         number(height) + "\" viewBox=\"0 0 " + number(width) + " " + number(height) + "\">\n";
  out += "<title>SMTP conversation with " + markup(where) + "</title>\n";
  out += "<desc>A sequence diagram of an SMTP run made by " + markup(report::producer()) +
         ": client and server lanes, the part inside TLS shaded. Passwords and tokens are masked.</desc>\n";
  out += "<style>";
  out += kStyle;
  out += "</style>\n<defs>\n"
         "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" "
         "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f2328\"/></marker>\n"
         "<marker id=\"arrow-bad\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" "
         "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#cf222e\"/></marker>\n</defs>\n";
  rect(out, 0, 0, width, height, "fill=\"#ffffff\"");

  // Title, the facts, the lanes.
  text(out, 16, 26, "title", shorten(printable("SMTP conversation with " + where), static_cast<std::size_t>((width - 32) / 9.5)));
  std::string facts = report::connectionText(record);
  if (!options.date.empty()) facts += " \xc2\xb7 " + options.date;
  text(out, 16, 46, "sub", shorten(printable(facts), static_cast<std::size_t>((width - 32) / 6.6)));
  for (const auto& [x, label] : {std::pair<int, std::string>{kClientX, "SMTPc (client)"},
                                 std::pair<int, std::string>{serverX, "server " + record.server}}) {
    rect(out, x - kLaneBox / 2, 58, kLaneBox, 28, "rx=\"4\" fill=\"#f6f8fa\" stroke=\"#57606a\"");
    text(out, x, 77, "lane", shorten(printable(label), 19), "middle");
  }

  if (tlsTop >= 0) {
    rect(out, kClientX - 40, tlsTop, span + 80, tlsBottom - tlsTop + 4,
         "fill=\"#ddf4e4\" stroke=\"#1a7f37\" stroke-dasharray=\"4 3\"");
    std::string label = "inside TLS";
    if (record.tls) label += ": " + record.tls->protocol + ", " + record.tls->cipher;
    text(out, kClientX - 34, tlsTop + 14, "tlslabel", shorten(printable(label), noteChars));
  }
  for (int x : {kClientX, serverX}) line(out, x, 86, x, lifelineEnd, "stroke=\"#8c959f\" stroke-dasharray=\"6 4\"");

  // Rows, and a step's name where the conversation moves to it.
  std::optional<Step> shownStep;
  for (const Row& row : rows) {
    if (row.step && row.step != shownStep) {
      shownStep = row.step;
      const StepStatus status = report::statusOf(record, *row.step);
      line(out, kStepColumn - 4, row.top + 1, width - 8, row.top + 1, "stroke=\"#d0d7de\"");
      text(out, kStepColumn, row.top + 14, "step " + std::string(stepStatusName(status)), stepLabel(*row.step));
      if (status == StepStatus::Failed) text(out, kStepColumn, row.top + 27, "step failed", "failed");
    }
    const std::string arrowStyle = row.refused ? "stroke=\"#cf222e\" stroke-width=\"1.6\" marker-end=\"url(#arrow-bad)\""
                                               : "stroke=\"#1f2328\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"";
    const std::string labelClass = row.refused ? "m bad" : "m";
    if (row.kind == Row::Command) {
      text(out, kClientX + 8, row.top + 14, labelClass, shorten(printable(row.line->text), labelChars));
      line(out, kClientX, row.top + 20, serverX - 2, row.top + 20, arrowStyle);
    } else if (row.kind == Row::Reply) {
      text(out, serverX - 8, row.top + 14, labelClass, shorten(printable(row.line->text), labelChars), "end");
      line(out, serverX, row.top + 20, kClientX + 2, row.top + 20, arrowStyle);
      for (std::size_t k = 0; k < row.more.size() && k <= kMoreLines; ++k) {
        const int lineY = row.top + 20 + kMoreLine * static_cast<int>(k + 1);
        if (k == kMoreLines && row.more.size() > kMoreLines + 1) {
          text(out, serverX - 8, lineY, "more", "(" + std::to_string(row.more.size() - kMoreLines) + " more lines)", "end");
        } else {
          text(out, serverX - 8, lineY, "m more", shorten(printable(row.more[k]->text), labelChars), "end");
        }
      }
    } else {
      const TranscriptKind kind = row.line->kind;
      const std::string cls = kind == TranscriptKind::Error ? "err" : kind == TranscriptKind::Tls ? "tlsnote" : "info";
      if (kind == TranscriptKind::Error) {  // a red cross on the client's lifeline, the error beside it
        line(out, kClientX - 6, row.top + 4, kClientX + 6, row.top + 16, "stroke=\"#cf222e\" stroke-width=\"2\"");
        line(out, kClientX + 6, row.top + 4, kClientX - 6, row.top + 16, "stroke=\"#cf222e\" stroke-width=\"2\"");
        text(out, kClientX + 12, row.top + 14, cls, shorten(printable(row.line->text), errorChars));
      } else {
        text(out, kClientX + span / 2.0, row.top + 13, cls, shorten(printable(row.line->text), noteChars), "middle");
      }
    }
  }

  // The outcome.
  rect(out, 16, outcomeTop, width - 32, outcomeHeight,
       failed ? "rx=\"4\" fill=\"#ffebe9\" stroke=\"#cf222e\" stroke-width=\"2\""
              : "rx=\"4\" fill=\"#dafbe1\" stroke=\"#1a7f37\" stroke-width=\"2\"");
  for (std::size_t k = 0; k < outcome.size(); ++k)
    text(out, 28, outcomeTop + 20 + 17 * static_cast<double>(k), k == 0 ? (failed ? "err" : "lane") : "", outcome[k]);
  text(out, 16, height - 12, "more", "Made with " + std::string(report::producer()) + ". Passwords and tokens never appear here.");
  out += "</svg>\n";
  return out;
}

}  // namespace smtpc
