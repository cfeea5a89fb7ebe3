/// \file
/// What the GUIs show beside the transcript, computed once in core so the desktop app, the web
/// page and the CLI tell the same story. This header gathers the three parts:
/// ```
///   - the step bar (smtpc/step.h for the steps; the Explainer below follows a session's events
///     and keeps the bar, step_bar.cpp);
///   - the diagnosis after a failure (smtpc/diagnosis.h, diagnosis.cpp);
///   - the provider presets (smtpc/presets.h, presets.cpp).
/// ```
#pragma once

#include <optional>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/diagnosis.h"
#include "smtpc/presets.h"
#include "smtpc/session.h"
#include "smtpc/step.h"

namespace smtpc {

/// One step of the bar and how far it got.
struct StepView {
  Step step;  ///< which step
  StepStatus status = StepStatus::Pending;  ///< how far it got
};

/// Follows one session's events and keeps what the GUIs show. Feed every Event; read the views.
class SMTPC_CORE_EXPORT Explainer {
 public:
  /// `sendsMail`: the session will send a message (MAIL, RCPT, DATA are part of the plan).
  Explainer(const ConnectParams& params, bool sendsMail);

  /// Returns true when the step bar changed.
  bool onEvent(const Event& event);

  /// The step bar: the steps of this run's plan, in order.
  const std::vector<StepView>& steps() const { return steps_; }
  /// Where it failed; nullopt before the end and after success.
  std::optional<Step> failedStep() const;
  /// What the server offered (the last EHLO reply), once known.
  const std::optional<Capabilities>& capabilities() const { return capabilities_; }
  /// The TLS handshake's result, once TLS is up.
  const std::optional<TlsInfo>& tls() const { return tls_; }
  /// The session's end, once it came.
  const std::optional<Finished>& finished() const { return finished_; }
  /// Meaningful once finished() is set.
  Diagnosis diagnosis() const;

 private:
  int indexOf(Step step) const;
  bool activate(Step step);

  ConnectParams params_;
  std::vector<StepView> steps_;
  int active_ = -1;    // index into steps_
  int lastWork_ = -1;  // the step before QUIT began (where a failure belongs)
  bool handshakeDone_ = false;
  std::optional<Capabilities> capabilities_;
  std::optional<TlsInfo> tls_;
  std::optional<Finished> finished_;
  std::optional<Reply> lastRefusal_;  // a refused recipient, for the diagnosis
};

}  // namespace smtpc
