/// \file
/// Step-through: where the engine stops when a learner walks through a conversation, and what it
/// says there. In step mode (ConnectParams::stepThrough, Client::setStepMode) the session stops
/// before each command it sends and after each reply it reads, and hands out a Pause (the Paused
/// event): the next command as it will be sent, why, the replies that may come. Nothing is written
/// and no time-out runs while it is paused; Session::next(), continueToNextStep() and runToEnd()
/// go on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/reply.h"
#include "smtpc/step.h"

namespace smtpc {

/// Where a pause stops the conversation.
enum class PausePoint {
  BeforeCommand,  ///< a command (or the message content) is ready and not yet sent
  AfterReply,     ///< a reply was read and not yet acted on
};
/// "before-command", "after-reply"
SMTPC_CORE_EXPORT std::string_view pausePointName(PausePoint point);

/// A reply the server may give to the command about to be sent.
struct ExpectedReply {
  int code = 0;         ///< 250
  std::string meaning;  ///< one line: "accepted: the extensions follow, one per line"
};

/// One stop of step mode: what a teacher says at the whiteboard before pressing Next.
struct Pause {
  PausePoint where = PausePoint::BeforeCommand;  ///< before a command, or after a reply
  /// The step of the step bar it belongs to; nullopt for RSET and NOOP, which have none.
  std::optional<Step> step;
  std::size_t number = 0;  ///< 1 for the session's first pause, then 2, 3, ...
  /// BeforeCommand: the next command as it will be sent, without CRLF, AUTH secrets masked as the
  /// transcript masks them ("AUTH PLAIN ********"); for the message content a description of it.
  /// AfterReply: the command the reply answers (empty for the greeting).
  std::string command;
  /// AfterReply: the reply read.
  std::optional<Reply> reply;
  /// BeforeCommand: why it is sent, in plain words with its RFC section. AfterReply: what the
  /// reply means.
  std::string why;
  /// BeforeCommand: the replies that may come, each with its meaning. Empty after a reply.
  std::vector<ExpectedReply> replies;
  /// How long the server is likely to wait while the learner thinks (RFC 5321 §4.5.3.2).
  std::string patience;
  /// Said once, at the first pause: step mode sends commands one by one (no PIPELINING).
  std::string note;
};

/// Event: the session stopped in step mode; go on with Session/Client next(),
/// continueToNextStep() or runToEnd(), or cancel().
struct Paused {
  Pause pause;  ///< where it stopped and what comes next
};

}  // namespace smtpc
