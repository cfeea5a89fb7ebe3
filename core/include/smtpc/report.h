/// \file
/// "Take it home": a run exported as one self-contained HTML page (the transcript with each line's
/// explanation, the step bar, the TLS details, the outcome) or as an SVG sequence diagram (client
/// and server lanes, the part inside TLS shaded, failures in red). The GUI's *Save as…*, the page's
/// download and the CLI's `--report FILE` all write these, so a learner gets the same handout from
/// each front end.
///
/// Both are built from a RunRecord, which follows a session's events as the Explainer does. Every
/// text the server sent is hostile: it is escaped (markup, control characters, bytes that are not
/// UTF-8) so that a reply holding `<script>` shows as text and the file stays valid HTML5 and XML.
/// No secret reaches either file: the transcript is masked by the engine, and the record keeps
/// only the server, the port and the security mode of the parameters (never the password, the
/// token or a client key).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/diagnosis.h"
#include "smtpc/explain.h"
#include "smtpc/session.h"
#include "smtpc/tls.h"
#include "smtpc/transcript.h"

namespace smtpc {

/// What a report is made of: one run, gathered from its events (onEvent). The fields can also be
/// filled by hand (tests, a front end that kept its own transcript).
struct SMTPC_CORE_EXPORT RunRecord {
  /// An empty record; fill the fields yourself (onEvent then keeps only the transcript, TLS and
  /// the end: the step bar and the diagnosis need the parameters).
  RunRecord();
  /// A record of a run with `params`: its server, port and security are kept, and an Explainer
  /// (given the parameters with every secret replaced) keeps the step bar and the diagnosis.
  /// `sendsMail` as for Explainer.
  RunRecord(const ConnectParams& params, bool sendsMail);
  ~RunRecord();
  RunRecord(const RunRecord& other);             ///< a copy, with a copy of its step bar's state
  RunRecord& operator=(const RunRecord& other);  ///< as the copy constructor
  RunRecord(RunRecord&&) noexcept;               ///< takes the other's state
  RunRecord& operator=(RunRecord&&) noexcept;    ///< takes the other's state

  std::string server;       ///< the host as the user named it
  std::uint16_t port = 0;   ///< the port connected to
  SecurityMode security = SecurityMode::StartTls;  ///< the chosen mode
  std::vector<TranscriptEntry> transcript;  ///< the conversation, masked as the engine wrote it
  std::vector<StepView> steps;              ///< the step bar as it stood at the end
  std::optional<TlsInfo> tls;               ///< the handshake's result, once TLS was up
  std::optional<Finished> finished;         ///< the session's end
  std::optional<Diagnosis> diagnosis;       ///< what happened and what to try (set at the end)

  /// Follows one event: transcript lines, TLS, the step bar, the end and its diagnosis.
  void onEvent(const Event& event);

 private:
  std::unique_ptr<Explainer> explainer_;
};

/// How a report is written.
struct ReportOptions {
  /// Each transcript line's explanation (smtpc/line_explain.h gives one); empty or returning ""
  /// shows the line alone. What it returns is plain text: it is escaped like the server's words.
  std::function<std::string(const TranscriptEntry&)> explain;
  /// When the run happened, as the caller words it ("2026-12-02 09:14 UTC"); core reads no clock.
  /// Empty: no date is shown.
  std::string date;
};

/// The two kinds of report.
enum class ReportFormat {
  Html,  ///< one self-contained HTML5 page: no script, no external resource
  Svg    ///< a standalone SVG sequence diagram
};

/// The format a file name asks for, by its extension (case-insensitive): ".html" and ".htm" for
/// Html, ".svg" for Svg; nullopt for anything else.
SMTPC_CORE_EXPORT std::optional<ReportFormat> reportFormatForPath(std::string_view path);

/// The run as one HTML5 page.
SMTPC_CORE_EXPORT std::string renderHtmlReport(const RunRecord& record, const ReportOptions& options = {});
/// The run as an SVG sequence diagram (UTF-8 XML, sized to its content).
SMTPC_CORE_EXPORT std::string renderSvgReport(const RunRecord& record, const ReportOptions& options = {});
/// renderHtmlReport or renderSvgReport, as `format` says.
SMTPC_CORE_EXPORT std::string renderReport(ReportFormat format, const RunRecord& record,
                                           const ReportOptions& options = {});

}  // namespace smtpc
