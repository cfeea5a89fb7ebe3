/// \file
/// The steps of an SMTP conversation as a learner sees them in the step bar:
/// ```
///   Connect → Greeting → EHLO → STARTTLS → TLS handshake → EHLO → AUTH → MAIL → RCPT → DATA → QUIT.
/// ```
/// BDAT takes DATA's place on the bar when the message goes in chunks (CHUNKING, RFC 3030).
/// The session's states (session.h) and the errors (error.h) name the step they belong to, so this
/// list stands on its own below both.
#pragma once

#include <string_view>

#include "smtpc/core_export.h"

namespace smtpc {

/// X-macro: step, label on the bar, one sentence for a learner on what the step is for.
#define SMTPC_STEPS(X)                                                                                   \
  X(Connect, "Connect", "Open a TCP connection to the server's port.")                                  \
  X(Greeting, "Greeting", "Wait for the server to introduce itself with a 220 reply.")                  \
  X(Ehlo, "EHLO", "Say hello (EHLO) and learn which extensions the server offers.")                     \
  X(StartTls, "STARTTLS", "Ask the server to switch this connection to TLS.")                           \
  X(TlsHandshake, "TLS handshake", "Agree on encryption keys and check the server's certificate.")      \
  X(EhloAgain, "EHLO", "Say hello again inside TLS: what the server offers may change.")                \
  X(Auth, "AUTH", "Log in with SASL; the password or token travels only inside TLS.")                   \
  X(Mail, "MAIL", "Name the sender (MAIL FROM), which also starts a new message.")                      \
  X(Rcpt, "RCPT", "Name each recipient (RCPT TO); the server accepts or refuses each one.")             \
  X(Data, "DATA", "Send the message itself, ending with a line holding a single dot.")                  \
  X(Bdat, "BDAT", "Send the message itself in counted chunks (BDAT); the last one says LAST.")         \
  X(Quit, "QUIT", "Say goodbye (QUIT) and close the connection.")

/// A step of the step bar; one value per row of #SMTPC_STEPS, whose columns give its label
/// (stepLabel()) and its purpose (stepPurpose()).
enum class Step {
#define SMTPC_X(name, label, purpose) name,
  SMTPC_STEPS(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view stepName(Step step);  ///< "EhloAgain"
SMTPC_CORE_EXPORT std::string_view stepLabel(Step step);  ///< "EHLO"
/// One sentence for a learner: what this step is for.
SMTPC_CORE_EXPORT std::string_view stepPurpose(Step step);

/// Where a step of the bar stands in a run.
enum class StepStatus {
  Pending,  ///< not reached yet
  Active,   ///< under way
  Done,     ///< finished as it should
  Failed,   ///< where the run went wrong
  Skipped   ///< not part of this run (no STARTTLS on an implicit-TLS port, no AUTH without a user, ...)
};
/// "pending", "active", "done", "failed", "skipped"
SMTPC_CORE_EXPORT std::string_view stepStatusName(StepStatus status);

}  // namespace smtpc
