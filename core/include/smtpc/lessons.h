/// \file
/// Lessons against the sandbox (issue 17): short runs that each make a learner meet one thing SMTP
/// does ("What happens when the password is wrong?"), with what to watch and what should happen.
///
/// One sandbox serves every lesson at once (tests/servers/sandbox.py --lessons): each lesson
/// triggers its behaviour by the addresses or the choices in its row, which the sandbox keys on
/// (tests/servers/sandbox_lessons.py names the same addresses). The front ends list lessons(),
/// show a lesson's title and what to watch, then run it: either fill their form from
/// connectionForm() and messageForm(), so that the learner sees the settings, or take prepare()'s
/// ConnectParams and OutgoingMessage. matches() says whether the run went as the lesson says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/form.h"
#include "smtpc/session.h"
#include "smtpc/step.h"

/// The lessons against the sandbox, and how to run them.
namespace smtpc::lessons {

/// The sandbox's listener a lesson connects to; the names are the keys of the sandbox's JSON line.
enum class PortKind {
  Plain,     ///< "plain": no TLS
  StartTls,  ///< "starttls": STARTTLS offered and required before MAIL (like 587)
  Tls        ///< "tls": implicit TLS (like 465)
};
/// "plain", "starttls", "tls"
SMTPC_CORE_EXPORT std::string_view portKindName(PortKind kind);

/// How a run of a lesson ends.
struct Outcome {
  ErrorCode error = ErrorCode::None;  ///< the run's error (Finished::error); None: the message was accepted
  std::optional<Step> failedStep;     ///< where the step bar marks the failure (Explainer::failedStep())
  int replyCode = 0;                  ///< the server's reply the error carries; 0: none (no reply came)
  std::string_view enhancedCode;      ///< that reply's RFC 3463 code ("5.7.8"); empty: none
  /// The CLI's exit status for it (smtpc(1)).
  ExitClass exitClass() const { return exitClassOf(error); }
};

/// One lesson: what it shows, and how to run it against the sandbox.
struct Lesson {
  std::string_view id;     ///< "wrong-password": stable, for links, tests and the CLI
  std::string_view title;  ///< "What happens when the password is wrong?"
  /// For the learner, before the run: which line to look at, which code comes, what the client
  /// does, and why. Plain words, RFC sections in parentheses.
  std::string_view watch;

  PortKind port = PortKind::StartTls;              ///< which listener
  SecurityMode security = SecurityMode::StartTls;  ///< the security mode chosen
  AuthMechanism auth = AuthMechanism::Auto;        ///< the login method chosen
  bool allowPlaintext = false;                     ///< "allow plaintext login"
  std::string_view username;                       ///< empty: no login
  /// The sandbox's password, or the wrong one the lesson is about. A secret like any other:
  /// it goes into ConnectParams as a Secret and never into a transcript or a log.
  std::string_view password;
  std::string_view from;             ///< the sender, "Name <address>"
  std::vector<std::string_view> to;  ///< To addresses
  std::vector<std::string_view> cc;  ///< Cc addresses
  std::size_t bodySize = 0;          ///< octets of text to generate for the body; 0: a few lines

  Outcome outcome;               ///< what the run should end with
  std::optional<Outcome> retry;  ///< what running it again right after should end with (greylisting)
};

/// Every lesson, in the order a front end lists them.
SMTPC_CORE_EXPORT const std::vector<Lesson>& all();
/// The lesson with this id, or null.
SMTPC_CORE_EXPORT const Lesson* find(std::string_view id);

/// Where the sandbox listens, from its JSON line.
struct Sandbox {
  std::string host = "127.0.0.1";  ///< "host"
  std::uint16_t plain = 0;         ///< "plain"
  std::uint16_t starttls = 0;      ///< "starttls"
  std::uint16_t tls = 0;           ///< "tls"
  std::string caPem;               ///< the certificate in "ca_file", read
  /// The port of that listener.
  std::uint16_t port(PortKind kind) const { return kind == PortKind::Plain ? plain : kind == PortKind::Tls ? tls : starttls; }
};

/// The lesson as the form's connection fields (server, port, mode, login, the sandbox's CA).
SMTPC_CORE_EXPORT form::ConnectionForm connectionForm(const Lesson& lesson, const Sandbox& sandbox);
/// The lesson as the form's message fields; the text is bodySize octets when that is set.
SMTPC_CORE_EXPORT form::MessageForm messageForm(const Lesson& lesson);

/// What the engine takes for one run of a lesson.
struct Run {
  ConnectParams params;     ///< the connection (a Send run: no stop on purpose)
  OutgoingMessage message;  ///< the message, composed at `now`
};
/// The lesson's forms checked by the form's rules and turned into a run; the first problem
/// otherwise. `now` dates the message (core has no clock).
SMTPC_CORE_EXPORT std::optional<Run> prepare(const Lesson& lesson, const Sandbox& sandbox, DateTime now,
                                             form::Problem* problem);

/// Whether a run ended as `expected` says: the error's code and, when one is expected, its
/// reply's code and enhanced code; `failedStep` is the Explainer's. A success expects no error.
SMTPC_CORE_EXPORT bool matches(const Outcome& expected, const Error& error, std::optional<Step> failedStep);
/// The outcome in a line: "AuthFailed at AUTH (535 5.7.8)", "ConnectionLost at DATA (no reply)",
/// "accepted".
SMTPC_CORE_EXPORT std::string describe(const Outcome& outcome);

}  // namespace smtpc::lessons
