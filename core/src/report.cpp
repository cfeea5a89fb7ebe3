// The run record behind both reports, and what the HTML page (report_html.cpp) and the SVG
// diagram (report_svg.cpp) share: making hostile text safe for markup, finding each line's step,
// and the words for the run's facts.
#include "smtpc/report.h"

#include <deque>

#include "report_internal.h"
#include "smtpc/display.h"
#include "smtpc/version.h"
#include "text.h"

namespace smtpc {

namespace {

// The parameters an Explainer needs, with every secret replaced by a stand-in that is as empty or
// not as the original: the diagnosis asks whether there is a token or a client certificate, never
// what it is, and a record that holds no secret cannot leak one into a report.
ConnectParams withoutSecrets(const ConnectParams& params) {
  ConnectParams safe = params;
  const auto standIn = [](const Secret& secret) { return secret.empty() ? Secret() : Secret("x"); };
  safe.credentials.password = standIn(params.credentials.password);
  safe.credentials.oauthToken = standIn(params.credentials.oauthToken);
  if (!safe.tls.clientKeyPem.empty()) safe.tls.clientKeyPem = "x";
  safe.tls.trustCallback = nullptr;
  return safe;
}

}  // namespace

RunRecord::RunRecord() = default;
RunRecord::RunRecord(const ConnectParams& params, bool sendsMail)
    : server(params.host),
      port(params.effectivePort()),
      security(params.security),
      explainer_(std::make_unique<Explainer>(withoutSecrets(params), sendsMail)) {
  steps = explainer_->steps();
}
RunRecord::~RunRecord() = default;
RunRecord::RunRecord(const RunRecord& other)
    : server(other.server),
      port(other.port),
      security(other.security),
      transcript(other.transcript),
      steps(other.steps),
      tls(other.tls),
      finished(other.finished),
      diagnosis(other.diagnosis),
      explainer_(other.explainer_ ? std::make_unique<Explainer>(*other.explainer_) : nullptr) {}
RunRecord& RunRecord::operator=(const RunRecord& other) {
  if (this != &other) *this = RunRecord(other);
  return *this;
}
RunRecord::RunRecord(RunRecord&&) noexcept = default;
RunRecord& RunRecord::operator=(RunRecord&&) noexcept = default;

void RunRecord::onEvent(const Event& event) {
  if (explainer_) {
    explainer_->onEvent(event);
    steps = explainer_->steps();
  }
  if (const auto* entry = std::get_if<TranscriptEntry>(&event)) {
    transcript.push_back(*entry);
  } else if (const auto* ready = std::get_if<TlsReady>(&event)) {
    tls = ready->info;
  } else if (const auto* end = std::get_if<Finished>(&event)) {
    finished = *end;
    if (explainer_) diagnosis = explainer_->diagnosis();
  }
}

std::optional<ReportFormat> reportFormatForPath(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto slash = path.find_last_of("/\\");
  if (dot == std::string_view::npos || (slash != std::string_view::npos && slash > dot)) return std::nullopt;
  const std::string_view extension = path.substr(dot + 1);
  if (text::equalsIgnoreCase(extension, "html") || text::equalsIgnoreCase(extension, "htm")) return ReportFormat::Html;
  if (text::equalsIgnoreCase(extension, "svg")) return ReportFormat::Svg;
  return std::nullopt;
}

std::string renderReport(ReportFormat format, const RunRecord& record, const ReportOptions& options) {
  return format == ReportFormat::Svg ? renderSvgReport(record, options) : renderHtmlReport(record, options);
}

namespace report {

namespace {
constexpr char kHex[] = "0123456789abcdef";

// U+FFFE and U+FFFF are not XML characters; U+202A..U+202E and U+2066..U+2069 are the bidirectional
// embeddings, overrides and isolates (Unicode TR 9) a server could use to show "250" for "550".
bool mustEscape(unsigned char first, unsigned char second, unsigned char third) {
  if (first == 0xef && second == 0xbf) return third == 0xbe || third == 0xbf;
  if (first == 0xe2 && second == 0x80) return third >= 0xaa && third <= 0xae;
  if (first == 0xe2 && second == 0x81) return third >= 0xa6 && third <= 0xa9;
  return false;
}
}  // namespace

std::string printable(std::string_view text) {
  // escapeForTerminal leaves only valid, printable UTF-8 (and TAB, shown as a space here); what it
  // lets through that markup must not carry is escaped the same way.
  const std::string terminal = escapeForTerminal(text);
  std::string out;
  out.reserve(terminal.size());
  for (std::size_t i = 0; i < terminal.size(); ++i) {
    const auto c = static_cast<unsigned char>(terminal[i]);
    if (c == '\t') {
      out += ' ';
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < terminal.size() &&
               mustEscape(c, static_cast<unsigned char>(terminal[i + 1]), static_cast<unsigned char>(terminal[i + 2]))) {
      const std::uint32_t codePoint = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(terminal[i + 1]) & 0x3fu) << 6) |
                                      (static_cast<unsigned char>(terminal[i + 2]) & 0x3fu);
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(codePoint >> shift) & 0xf];
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string markup(std::string_view text) { return escape(printable(text)); }

std::string escape(std::string_view safe) {
  std::string out;
  out.reserve(safe.size() + safe.size() / 8);
  for (char c : safe) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::size_t characters(std::string_view printableText) {
  std::size_t count = 0;
  for (char c : printableText)
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
  return count;
}

std::string shorten(std::string_view printableText, std::size_t limit) {
  if (characters(printableText) <= limit) return std::string(printableText);
  const std::size_t keep = limit > 0 ? limit - 1 : 0;  // room for the ellipsis
  std::size_t count = 0, end = 0;
  for (; end < printableText.size(); ++end) {
    if ((static_cast<unsigned char>(printableText[end]) & 0xc0) == 0x80) continue;
    if (count == keep) break;
    ++count;
  }
  return std::string(printableText.substr(0, end)) + "\xe2\x80\xa6";  // …
}

std::vector<std::optional<Step>> stepsOfLines(const std::vector<TranscriptEntry>& lines) {
  std::vector<std::optional<Step>> steps;
  steps.reserve(lines.size());
  std::deque<std::optional<Step>> awaiting;  // the steps of the commands whose replies are due
  std::optional<Step> current = Step::Connect, replyStep;
  bool inReply = false, greeted = false, startTlsSent = false;
  for (const TranscriptEntry& line : lines) {
    switch (line.kind) {
      case TranscriptKind::Client: {
        const std::vector<std::string> words = text::splitWords(line.text);
        const std::string verb = words.empty() ? std::string() : text::toUpper(words.front());
        std::optional<Step> step = current;  // a SASL response belongs to AUTH, as the command before it
        if (verb == "EHLO" || verb == "HELO") step = startTlsSent ? Step::EhloAgain : Step::Ehlo;
        else if (verb == "STARTTLS") step = Step::StartTls, startTlsSent = true;
        else if (verb == "AUTH") step = Step::Auth;
        else if (verb == "MAIL") step = Step::Mail;
        else if (verb == "RCPT") step = Step::Rcpt;
        else if (verb == "DATA" || verb == ".") step = Step::Data;
        else if (verb == "BDAT") step = Step::Bdat;  // the chunks, summed up in one line
        else if (verb == "QUIT") step = Step::Quit;
        else if (verb == "RSET" || verb == "NOOP") step = std::nullopt;
        awaiting.push_back(step);
        current = step;
        break;
      }
      case TranscriptKind::Server:
        if (!inReply) {
          if (!awaiting.empty()) {
            replyStep = awaiting.front();
            awaiting.pop_front();
          } else {
            replyStep = greeted ? current : std::optional<Step>(Step::Greeting);
          }
          greeted = true;
        }
        inReply = line.text.size() > 3 && line.text[3] == '-';
        current = replyStep;
        break;
      case TranscriptKind::Tls:
        current = Step::TlsHandshake;
        break;
      case TranscriptKind::Info:
      case TranscriptKind::Error:
        break;
    }
    steps.push_back(current);
  }
  return steps;
}

StepStatus statusOf(const RunRecord& record, Step step) {
  for (const StepView& view : record.steps)
    if (view.step == step) return view.status;
  return StepStatus::Pending;
}

std::string_view securityText(SecurityMode mode) {
  switch (mode) {
    case SecurityMode::None: return "none (clear text throughout)";
    case SecurityMode::StartTlsIfOffered: return "STARTTLS if offered (unsafe: clear text when it is not)";
    case SecurityMode::StartTls: return "STARTTLS (required)";
    case SecurityMode::ImplicitTls: return "implicit TLS (SMTPS)";
  }
  return "?";
}

std::string connectionText(const RunRecord& record) {
  return record.server + " port " + std::to_string(record.port) + ", " + std::string(securityText(record.security));
}

bool failed(const RunRecord& record) { return record.finished && record.finished->error.isError(); }

std::string outcomeLine(const RunRecord& record) {
  if (!record.finished) return "The run did not finish.";
  const Diagnosis* diagnosis = record.diagnosis ? &*record.diagnosis : nullptr;
  if (failed(record)) {
    std::string line = "Failed";
    for (const StepView& view : record.steps)
      if (view.status == StepStatus::Failed) {
        line += " at " + std::string(stepLabel(view.step));
        break;
      }
    const std::string headline = diagnosis && !diagnosis->headline.empty() ? diagnosis->headline
                                                                           : record.finished->error.explanation();
    return line + ": " + headline;
  }
  std::string line = "OK";
  if (record.finished->stoppedAfter != Phase::None)
    line += ": stopped after " + std::string(phaseName(record.finished->stoppedAfter)) + ", as asked";
  else if (diagnosis && !diagnosis->headline.empty())
    line += ": " + diagnosis->headline;
  return line;
}

std::string_view producer() { return "SMTPc " SMTPC_VERSION_STRING; }

}  // namespace report
}  // namespace smtpc
