// What the GUIs show beside the transcript, computed once in core so the desktop app, the web
// page and the CLI tell the same story:
//   - the step bar (Connect → Greeting → EHLO → STARTTLS → TLS handshake → EHLO → AUTH → MAIL →
//     RCPT → DATA → QUIT), built from the session's own state changes;
//   - the diagnosis after a failure: what happened in plain words and what to try, from the
//     error model, the step it failed at, the chosen settings and what the server offered;
//   - the provider presets (host, port, mode, and the provider's login rules).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/session.h"

namespace smtpc {

#define SMTPC_STEPS(X)                         \
  X(Connect, "Connect")                        \
  X(Greeting, "Greeting")                      \
  X(Ehlo, "EHLO")                              \
  X(StartTls, "STARTTLS")                      \
  X(TlsHandshake, "TLS handshake")             \
  X(EhloAgain, "EHLO")                         \
  X(Auth, "AUTH")                              \
  X(Mail, "MAIL")                              \
  X(Rcpt, "RCPT")                              \
  X(Data, "DATA")                              \
  X(Quit, "QUIT")

enum class Step {
#define SMTPC_X(name, label) name,
  SMTPC_STEPS(SMTPC_X)
#undef SMTPC_X
};
std::string_view stepName(Step step);   // "EhloAgain"
std::string_view stepLabel(Step step);  // "EHLO"
// One sentence for a learner: what this step is for.
std::string_view stepPurpose(Step step);

enum class StepStatus { Pending, Active, Done, Failed, Skipped };
std::string_view stepStatusName(StepStatus status);  // "pending", "active", "done", "failed", "skipped"

struct StepView {
  Step step;
  StepStatus status = StepStatus::Pending;
};

struct Diagnosis {
  bool ok = false;
  std::string headline;                 // "Login refused"
  std::string explanation;              // what happened, in plain words
  std::vector<std::string> suggestions;  // what to try, most likely first
  std::string serverSaid;               // the server's reply that decided it, if any
  // Whether the conversation ran inside TLS. When it did not, `warning` says so in words a front
  // end shows beside the headline (never only in the suggestions): a run that "works" in clear
  // text is the result a man in the middle who strips STARTTLS produces.
  bool encrypted = false;
  std::string warning;
};

// Follows one session's events and keeps what the GUIs show. Feed every Event; read the views.
class Explainer {
 public:
  // `sendsMail`: the session will send a message (MAIL, RCPT, DATA are part of the plan).
  Explainer(const ConnectParams& params, bool sendsMail);

  // Returns true when the step bar changed.
  bool onEvent(const Event& event);

  const std::vector<StepView>& steps() const { return steps_; }
  // Where it failed; nullopt before the end and after success.
  std::optional<Step> failedStep() const;
  const std::optional<Capabilities>& capabilities() const { return capabilities_; }
  const std::optional<TlsInfo>& tls() const { return tls_; }
  const std::optional<Finished>& finished() const { return finished_; }
  // Meaningful once finished() is set.
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

// The diagnosis on its own (Explainer::diagnosis calls this).
Diagnosis diagnose(const Finished& finished, const ConnectParams& params, std::optional<Step> failedAt,
                   const Capabilities* capabilities, const std::optional<TlsInfo>& tls);

// ---------------------------------------------------------------------------------------------
// Provider presets: settings for mail submission as each provider documents them.

struct Preset {
  std::string_view id;    // "gmail"
  std::string_view name;  // "Gmail"
  std::string_view host;  // empty for the local sandbox (the caller fills it in)
  std::uint16_t port;
  SecurityMode security;
  std::string_view note;  // the provider's login rules (app password, OAuth2), or empty
};
const std::vector<Preset>& presets();
const Preset* findPreset(std::string_view id);
// The preset whose host is `host` or a name under the same provider domain, if any.
const Preset* presetForHost(std::string_view host);

}  // namespace smtpc
