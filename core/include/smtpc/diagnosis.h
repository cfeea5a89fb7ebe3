/// \file
/// The diagnosis after a run: what happened in plain words and what to try, from the error model,
/// the step it failed at, the chosen settings and what the server offered. Computed once in core
/// so the desktop app, the web page and the CLI tell the same story.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/session.h"
#include "smtpc/step.h"

namespace smtpc {

/// What happened in a run and what to try, in plain words (see diagnose()).
struct Diagnosis {
  bool ok = false;  ///< the run did what was asked
  std::string headline;                 ///< "Login refused"
  std::string explanation;              ///< what happened, in plain words
  std::vector<std::string> suggestions;  ///< what to try, most likely first
  std::string serverSaid;               ///< the server's reply that decided it, if any
  /// Whether the conversation ran inside TLS. When it did not, `warning` says so in words a front
  /// end shows beside the headline (never only in the suggestions): a run that "works" in clear
  /// text is the result a man in the middle who strips STARTTLS produces.
  bool encrypted = false;
  /// Set when the conversation ran in clear text: shown beside the headline.
  std::string warning;
};

/// The diagnosis on its own (Explainer::diagnosis calls this).
SMTPC_CORE_EXPORT Diagnosis diagnose(const Finished& finished, const ConnectParams& params,
                                     std::optional<Step> failedAt, const Capabilities* capabilities,
                                     const std::optional<TlsInfo>& tls);

}  // namespace smtpc
