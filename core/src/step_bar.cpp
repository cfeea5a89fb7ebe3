// The step bar: the steps' names, and the Explainer, which follows one session's events and keeps
// the bar (which step is active, done, skipped or failed). The state list says each state's step
// (session.h) and the error list where each error fails (error.h); this file holds only the
// rules for moving along the bar.
#include <algorithm>

#include "smtpc/explain.h"

namespace smtpc {

namespace {
struct StepEntry {
  std::string_view name, label, purpose;
};
constexpr StepEntry kSteps[] = {
#define SMTPC_X(name, label, purpose) {#name, label, purpose},
    SMTPC_STEPS(SMTPC_X)
#undef SMTPC_X
};
}  // namespace

std::string_view stepName(Step step) { return kSteps[static_cast<int>(step)].name; }
std::string_view stepLabel(Step step) { return kSteps[static_cast<int>(step)].label; }
std::string_view stepPurpose(Step step) { return kSteps[static_cast<int>(step)].purpose; }

std::string_view stepStatusName(StepStatus status) {
  switch (status) {
    case StepStatus::Pending: return "pending";
    case StepStatus::Active: return "active";
    case StepStatus::Done: return "done";
    case StepStatus::Failed: return "failed";
    case StepStatus::Skipped: return "skipped";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------

Explainer::Explainer(const ConnectParams& params, bool sendsMail) : params_(params) {
  const bool tlsFirst = params.security == SecurityMode::ImplicitTls;
  const bool startTls = params.security == SecurityMode::StartTls || params.security == SecurityMode::StartTlsIfOffered;
  std::vector<Step> plan{Step::Connect};
  if (tlsFirst) plan.push_back(Step::TlsHandshake);
  plan.push_back(Step::Greeting);
  plan.push_back(Step::Ehlo);
  if (startTls) {
    plan.push_back(Step::StartTls);
    plan.push_back(Step::TlsHandshake);
    plan.push_back(Step::EhloAgain);
  }
  if (!params.credentials.username.empty()) plan.push_back(Step::Auth);
  if (sendsMail) {
    plan.push_back(Step::Mail);
    plan.push_back(Step::Rcpt);
    plan.push_back(Step::Data);
  }
  plan.push_back(Step::Quit);
  for (Step step : plan) steps_.push_back({step, StepStatus::Pending});
}

// DATA and BDAT are one slot of the bar: the message's content, sent one way or the other
// (the plan cannot know before EHLO whether the server offers CHUNKING).
int Explainer::indexOf(Step step) const {
  const auto content = [](Step s) { return s == Step::Data || s == Step::Bdat; };
  for (std::size_t i = 0; i < steps_.size(); ++i)
    if (steps_[i].step == step || (content(step) && content(steps_[i].step))) return static_cast<int>(i);
  return -1;
}

// Makes `step` the active one. Steps between the last active one and it were passed over: done
// if they had been active, skipped if they never happened (STARTTLS not offered, say). Going
// back (the next message's MAIL) starts that part of the bar again.
bool Explainer::activate(Step step) {
  const int target = indexOf(step);
  if (target < 0 || target == active_) return false;
  if (target < active_) {
    for (int i = target; i < static_cast<int>(steps_.size()) && steps_[static_cast<std::size_t>(i)].step != Step::Quit; ++i)
      steps_[static_cast<std::size_t>(i)].status = StepStatus::Pending;
  } else {
    for (int i = std::max(active_, 0); i < target; ++i) {
      auto& view = steps_[static_cast<std::size_t>(i)];
      if (view.status == StepStatus::Active) view.status = StepStatus::Done;
      // QUIT after a failure passes over steps that were never reached: they stay pending.
      else if (view.status == StepStatus::Pending && step != Step::Quit) view.status = StepStatus::Skipped;
    }
  }
  // BDAT, once seen, names the slot; the wait for the LAST chunk's answer (a DATA state) keeps it.
  if (step == Step::Bdat) steps_[static_cast<std::size_t>(target)].step = Step::Bdat;
  steps_[static_cast<std::size_t>(target)].status = StepStatus::Active;
  active_ = target;
  if (step != Step::Quit) lastWork_ = target;
  return true;
}

bool Explainer::onEvent(const Event& event) {
  if (const auto* change = std::get_if<StateChanged>(&event)) {
    if (change->to == State::Ready) {
      // Everything asked for before sending is done; what was planned and not reached
      // (STARTTLS when only offered, say) was skipped.
      if (active_ < 0) return false;
      auto& view = steps_[static_cast<std::size_t>(active_)];
      const bool changed = view.status == StepStatus::Active;
      view.status = StepStatus::Done;
      return changed;
    }
    const std::optional<Step> step = stepOf(change->to);
    if (!step) return false;
    if (*step == Step::Ehlo && handshakeDone_ && indexOf(Step::EhloAgain) >= 0) return activate(Step::EhloAgain);
    return activate(*step);
  }
  if (const auto* tls = std::get_if<TlsReady>(&event)) {
    tls_ = tls->info;
    handshakeDone_ = true;
    return false;
  }
  if (const auto* caps = std::get_if<CapabilitiesReceived>(&event)) {
    capabilities_ = caps->capabilities;
    return false;
  }
  if (const auto* rcpt = std::get_if<RecipientResult>(&event)) {
    if (!rcpt->accepted) lastRefusal_ = rcpt->reply;
    return false;
  }
  if (const auto* finished = std::get_if<Finished>(&event)) {
    finished_ = *finished;
    const bool failed = finished->error.isError();
    // An error that always belongs to one step (the error list's step column) fails there: a
    // message's refused command even when later messages went on; a connection that never got
    // past a step (never made, or hung up on after the TLS handshake) whatever was awaited when
    // it ended, and the steps after it never happened. Any other error belongs to the step that
    // was under way.
    int failedAt = lastWork_;
    if (const std::optional<Step> fixed = failedStepOf(finished->error.code())) {
      failedAt = indexOf(*fixed);
      const bool messageStep =
          *fixed == Step::Mail || *fixed == Step::Rcpt || *fixed == Step::Data || *fixed == Step::Bdat;
      if (failedAt >= 0 && !messageStep)
        for (auto i = static_cast<std::size_t>(failedAt) + 1; i < steps_.size(); ++i) steps_[i].status = StepStatus::Pending;
    }
    if (failedAt < 0) failedAt = lastWork_;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      auto& view = steps_[i];
      if (failed && static_cast<int>(i) == failedAt && view.step != Step::Quit) {
        view.status = StepStatus::Failed;
      } else if (view.status == StepStatus::Active) {
        view.status = StepStatus::Done;
      } else if (view.status == StepStatus::Pending && !failed) {
        view.status = StepStatus::Skipped;  // stopped on purpose before it (a connection test)
      }
    }
    // A failure before anything started (no step active yet) belongs to the first step.
    if (failed && failedAt < 0 && !steps_.empty()) steps_.front().status = StepStatus::Failed;
    active_ = -1;
    return true;
  }
  return false;
}

std::optional<Step> Explainer::failedStep() const {
  for (const auto& view : steps_)
    if (view.status == StepStatus::Failed) return view.step;
  return std::nullopt;
}

}  // namespace smtpc
