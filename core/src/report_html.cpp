// The run as one HTML5 page a learner takes home: the connection, the outcome and what to try, the
// step bar, the transcript with each line's explanation (a <details> per line, so it reads as a
// plain transcript and opens where the reader wants), the TLS details, and who made it. No script
// and no external resource: the file is a handout that opens anywhere, offline, years later.
//
// Everything that is not our own fixed markup goes through markup() (report.cpp): the server's
// words are hostile, and a reply holding "<script>" must show as that text.
#include <string>

#include "report_internal.h"
#include "smtpc/report.h"

namespace smtpc {

namespace {

using report::markup;

// The page's look. The step colours match the GUI's bar: done green, failed red, skipped grey.
// unicode-bidi: isolate keeps a line's right-to-left text from reordering its neighbours.
constexpr std::string_view kStyle = R"(
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --tls: #ddf4e4; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #1f2328; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .5em 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.outcome { border-left: 6px solid var(--ok); padding: .4em 1em; background: #f6f8fa; }
.outcome.failed { border-color: var(--bad); } .outcome .headline { font-weight: 700; font-size: 1.1em; margin: .2em 0; }
.warning { color: var(--bad); font-weight: 600; }
ol.steps { list-style: none; display: flex; flex-wrap: wrap; gap: .3em; padding: 0; }
ol.steps li { border: 1px solid #d0d7de; border-radius: 4px; padding: .2em .6em; background: #fff; }
ol.steps li .status { font-size: .8em; color: var(--muted); display: block; }
ol.steps li.done { border-color: var(--ok); background: #dafbe1; } ol.steps li.failed { border-color: var(--bad); background: #ffebe9; }
ol.steps li.skipped { color: var(--muted); border-style: dashed; } ol.steps li.active { border-color: #0969da; }
ol.transcript { list-style: none; padding: 0; font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
ol.transcript li { padding: .05em .4em; border-left: 4px solid transparent; }
ol.transcript li.encrypted { background: var(--tls); border-left-color: var(--ok); }
ol.transcript li.tls-start { border-top: 2px solid var(--ok); margin-top: .4em; }
ol.transcript .prefix { display: inline-block; width: 2.2em; color: var(--muted); font-weight: 700; }
ol.transcript .at { color: var(--muted); display: inline-block; min-width: 5em; text-align: right; margin-right: .6em; }
ol.transcript .text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
ol.transcript li.client .text { color: #0550ae; } ol.transcript li.info .text { color: var(--muted); font-style: italic; }
ol.transcript li.error { background: #ffebe9; } ol.transcript li.error .text, ol.transcript li.refused .text { color: var(--bad); font-weight: 600; }
ol.transcript li.tls .text { color: var(--ok); }
ol.transcript summary { cursor: pointer; } ol.transcript .explain { font: 14px/1.45 system-ui, sans-serif; white-space: pre-wrap;
  margin: .2em 0 .5em 8em; padding: .3em .7em; background: #fff8c5; border-radius: 4px; }
.step-mark { font: 600 11px system-ui, sans-serif; color: var(--muted); margin: .6em 0 .1em; text-transform: uppercase; }
.chain li { margin-bottom: .6em; } code { overflow-wrap: anywhere; }
footer { margin-top: 2.5em; font-size: .85em; color: var(--muted); border-top: 1px solid #d0d7de; padding-top: .5em; }
@media print { body { margin: 0; max-width: none; } ol.transcript li.encrypted { background: none; } }
)";

void fact(std::string& out, std::string_view term, std::string_view value) {
  out += "<dt>";
  out += markup(term);
  out += "</dt><dd>";
  out += markup(value);
  out += "</dd>\n";
}

// Text of several lines (an explanation's paragraphs): each line escaped, the line ends kept for
// the "pre-wrap" that shows them (printable() would show them as "\x0a").
std::string markupLines(std::string_view text) {
  std::string out;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (start > 0) out += '\n';
    out += markup(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void outcomeSection(std::string& out, const RunRecord& record) {
  const bool failed = report::failed(record) || !record.finished;
  out += "<section id=\"outcome\" class=\"outcome";
  out += failed ? " failed" : " ok";
  out += "\">\n<h2>Outcome</h2>\n<p class=\"headline\">" + markup(report::outcomeLine(record)) + "</p>\n";
  if (record.diagnosis) {
    const Diagnosis& d = *record.diagnosis;
    if (!d.warning.empty()) out += "<p class=\"warning\">" + markup(d.warning) + "</p>\n";
    if (!d.explanation.empty()) out += "<p>" + markup(d.explanation) + "</p>\n";
    if (!d.serverSaid.empty()) out += "<p>The server said: <code>" + markup(d.serverSaid) + "</code></p>\n";
    if (!d.suggestions.empty()) {
      out += "<p>What to try:</p>\n<ul class=\"suggestions\">\n";
      for (const std::string& suggestion : d.suggestions) out += "<li>" + markup(suggestion) + "</li>\n";
      out += "</ul>\n";
    }
  } else if (record.finished && record.finished->error) {
    out += "<p>" + markup(record.finished->error.explanation()) + "</p>\n";
    if (const auto& reply = record.finished->error.reply())
      out += "<p>The server said: <code>" + markup(reply->summary()) + "</code></p>\n";
  }
  out += "</section>\n";
}

void stepsSection(std::string& out, const RunRecord& record) {
  if (record.steps.empty()) return;
  out += "<section id=\"steps\">\n<h2>Steps</h2>\n<ol class=\"steps\">\n";
  for (const StepView& view : record.steps) {
    const std::string status(stepStatusName(view.status));
    out += "<li class=\"" + status + "\" title=\"" + markup(stepPurpose(view.step)) + "\">" + markup(stepLabel(view.step)) +
           "<span class=\"status\">" + status + "</span></li>\n";
  }
  out += "</ol>\n</section>\n";
}

std::string seconds(Time at) {
  const auto ms = at.count() < 0 ? 0 : at.count();
  std::string fraction = std::to_string(ms % 1000);
  fraction.insert(0, 3 - fraction.size(), '0');
  return std::to_string(ms / 1000) + "." + fraction + " s";
}

// A reply of class 4 or 5 (RFC 5321 §4.2.1): shown in red, as refusals are.
bool isRefusal(const TranscriptEntry& line) {
  return line.kind == TranscriptKind::Server && !line.text.empty() && (line.text[0] == '4' || line.text[0] == '5');
}

void transcriptSection(std::string& out, const RunRecord& record, const ReportOptions& options) {
  out += "<section id=\"transcript\">\n<h2>The conversation</h2>\n";
  out += "<p><code>-&gt;</code> we sent, <code>&lt;-</code> the server said, in clear text; <code>~&gt;</code> and "
         "<code>&lt;~</code> the same inside TLS (shaded green); <code>===</code> notes, <code>***</code> errors. "
         "Passwords and tokens are masked.";
  if (options.explain) out += " Open a line to read what it means.";
  out += "</p>\n";
  if (record.transcript.empty()) {
    out += "<p>Nothing was said.</p>\n</section>\n";
    return;
  }
  const std::vector<std::optional<Step>> steps = report::stepsOfLines(record.transcript);
  std::optional<Step> shownStep;
  bool wasEncrypted = false, open = false;
  for (std::size_t i = 0; i < record.transcript.size(); ++i) {
    const TranscriptEntry& line = record.transcript[i];
    // A heading where the conversation moves to another step of the bar.
    if (steps[i] && steps[i] != shownStep) {
      if (open) out += "</ol>\n";
      out += "<p class=\"step-mark\">" + markup(stepLabel(*steps[i])) + " \xe2\x80\x94 " + markup(stepPurpose(*steps[i])) +
             "</p>\n<ol class=\"transcript\">\n";
      open = true;
      shownStep = steps[i];
    } else if (!open) {
      out += "<ol class=\"transcript\">\n";
      open = true;
    }
    std::string classes(transcriptKindName(line.kind));
    if (line.encrypted) classes += " encrypted";
    if (line.encrypted && !wasEncrypted) classes += " tls-start";
    if (isRefusal(line)) classes += " refused";
    wasEncrypted = line.encrypted;
    const std::string body = "<span class=\"at\">" + seconds(line.at) + "</span><span class=\"prefix\">" +
                             markup(transcriptPrefix(line)) + "</span><span class=\"text\">" + markup(line.text) + "</span>";
    const std::string explanation = options.explain ? options.explain(line) : std::string();
    out += "<li class=\"" + classes + "\">";
    if (explanation.empty()) {
      out += body;
    } else {
      out += "<details><summary>" + body + "</summary><div class=\"explain\">" + markupLines(explanation) + "</div></details>";
    }
    out += "</li>\n";
  }
  if (open) out += "</ol>\n";
  out += "</section>\n";
}

void tlsSection(std::string& out, const RunRecord& record) {
  out += "<section id=\"tls\">\n<h2>TLS</h2>\n";
  if (!record.tls) {
    out += record.security == SecurityMode::None
               ? "<p class=\"warning\">No TLS: the security mode was none, so everything went in clear text.</p>\n"
               : "<p class=\"warning\">TLS never started: what was sent went in clear text.</p>\n";
    out += "</section>\n";
    return;
  }
  const TlsInfo& tls = *record.tls;
  out += "<dl class=\"facts\">\n";
  fact(out, "Protocol", tls.protocol);
  fact(out, "Cipher", tls.cipher);
  std::string verified = tls.verified ? "yes: the chain and the name checked out"
                         : tls.acceptedDespiteErrors ? "NO, accepted anyway because invalid certificates were allowed"
                                                     : "no";
  fact(out, "Certificate verified", verified);
  out += "</dl>\n";
  if (!tls.verificationErrors.empty()) {
    out += "<p class=\"warning\">Problems with the certificate:</p>\n<ul>\n";
    for (const std::string& problem : tls.verificationErrors) out += "<li>" + markup(problem) + "</li>\n";
    out += "</ul>\n";
  }
  if (!tls.chain.empty()) {
    out += "<h3>Certificate chain (the server's first)</h3>\n<ol class=\"chain\">\n";
    for (const CertificateInfo& certificate : tls.chain) {
      out += "<li><dl class=\"facts\">\n";
      fact(out, "Subject", certificate.subject);
      fact(out, "Issuer", certificate.issuer);
      fact(out, "Valid", certificate.notBefore + " to " + certificate.notAfter);
      std::string names;
      for (const std::string& name : certificate.subjectAlternativeNames) names += (names.empty() ? "" : ", ") + name;
      if (!names.empty()) fact(out, "Names", names);
      fact(out, "SHA-256", certificate.sha256Fingerprint);
      if (!certificate.publicKeySha256.empty()) fact(out, "Public key pin", "sha256//" + certificate.publicKeySha256);
      out += "</dl></li>\n";
    }
    out += "</ol>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string renderHtmlReport(const RunRecord& record, const ReportOptions& options) {
  std::string out;
  out.reserve(16 * 1024 + record.transcript.size() * 200);
  const std::string where = record.server + ":" + std::to_string(record.port);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"" + markup(report::producer()) + "\">\n";
  out += "<title>SMTP conversation with " + markup(where) + "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<header>\n<h1>SMTP conversation with " + markup(where) + "</h1>\n<dl class=\"facts\">\n";
  fact(out, "Server", record.server);
  fact(out, "Port", std::to_string(record.port));
  fact(out, "Security", report::securityText(record.security));
  if (!options.date.empty()) fact(out, "Date", options.date);
  out += "</dl>\n</header>\n<main>\n";
  outcomeSection(out, record);
  stepsSection(out, record);
  transcriptSection(out, record, options);
  tlsSection(out, record);
  out += "</main>\n<footer>Made with " + markup(report::producer()) +
         ", which explains SMTP connection set-up. Passwords and tokens never appear in this file.</footer>\n"
         "</body>\n</html>\n";
  return out;
}

}  // namespace smtpc
