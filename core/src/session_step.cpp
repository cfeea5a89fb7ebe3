// Step mode of the SMTP engine (smtpc/pause.h): the gate a learner walks through. Session's code,
// in a file of its own like transaction.cpp.
//
// How it works: in step mode sendCommand() does not write; it holds the command (held_), and
// poll() turns the oldest held command into a pause (openGate). A reply is written to the
// transcript when read, then the session stops before acting on it (replyHeld_). The message
// content after 354 waits the same way (bodyHeld_). While anything is held no time-out runs
// (nextDeadline() is empty); going on re-arms the state's timer from the driver's `now`, so the
// wait for the server's answer starts when the command really leaves. Step mode never pipelines
// (transaction.cpp), so at most one command waits and each reply answers the command just shown.
#include <utility>

#include "smtpc/session.h"
#include "transaction.h"

namespace smtpc {

namespace {

constexpr std::string_view kOneByOne =
    "Step mode sends the commands one by one, each after the previous reply, so that each can be "
    "watched: PIPELINING (RFC 2920) is not used even when the server offers it.";
constexpr std::string_view kPatience =
    "While paused nothing is sent and SMTPc's own time limits wait. The server's do not: RFC 5321 "
    "§4.5.3.2.7 asks a server to wait at least 5 minutes for the next command; pausing longer may "
    "make it close the connection (421, or without a word).";
constexpr std::string_view kAfterGoodbye =
    "The server has said goodbye and closes the connection whatever the pause.";

const ExpectedReply kClosing{421, "the server is closing the connection; it may say so in answer to anything (§3.8)"};

std::vector<ExpectedReply> expectedFor(State answers, bool authFirst) {
  switch (answers) {
    case State::Ehlo:
      return {{250, "accepted: the server's name, then one extension per line"},
              {500, "EHLO unknown: an old server; SMTPc then tries HELO"},
              {502, "EHLO not implemented: SMTPc then tries HELO"},
              {501, "the name after EHLO is not acceptable"},
              {550, "the server will not talk to this client"},
              kClosing};
    case State::Helo:
      return {{250, "accepted, with no extensions"}, {501, "the name after HELO is not acceptable"},
              {550, "the server will not talk to this client"}, kClosing};
    case State::StartTls:
      return {{220, "ready to start TLS: the handshake comes next (RFC 3207 §4)"},
              {454, "TLS is not available just now (RFC 3207 §4)"},
              {501, "syntax error (STARTTLS takes no parameter)"},
              kClosing};
    case State::Auth: {
      std::vector<ExpectedReply> r{{235, "logged in (RFC 4954 §6)"},
                                   {334, "a challenge: the server asks for the next piece, in base64 (RFC 4954 §4)"},
                                   {535, "the user name, password or token is wrong (RFC 4954 §6)"},
                                   {534, "this kind of login is too weak here: an app password or OAuth2 may be needed"},
                                   {538, "this login needs an encrypted connection (RFC 4954 §6)"},
                                   {454, "the login cannot be checked just now: try later (RFC 4954 §6)"}};
      if (authFirst) {
        r.push_back({504, "the server does not support this mechanism (RFC 4954 §4)"});
        r.push_back({503, "already logged in, or AUTH is not allowed now"});
      } else {
        r.push_back({501, "the answer was cancelled or is not valid base64 (RFC 4954 §4)"});
      }
      r.push_back(kClosing);
      return r;
    }
    case State::Mail:
      return {{250, "the sender is accepted; a new message begins"},
              {550, "the sender is refused (policy, or the address is not allowed)"},
              {553, "the sender's address is not acceptable"},
              {552, "the declared SIZE is more than the server accepts (RFC 1870)"},
              {530, "a login is required first (RFC 4954 §6)"},
              {451, "a local error on the server: try later"},
              {452, "the server is short of storage: try later"},
              {503, "bad sequence: a message is already under way"},
              kClosing};
    case State::Rcpt:
      return {{250, "this recipient is accepted"},
              {251, "not local, but the server will forward it"},
              {550, "no such mailbox, or relaying is denied"},
              {551, "not local: the server names where to send"},
              {553, "the address is not acceptable"},
              {450, "mailbox unavailable just now (greylisting, busy): try later"},
              {451, "a local error on the server: try later"},
              {452, "too many recipients, or short of storage: try later"},
              {503, "bad sequence: MAIL FROM must come first"},
              kClosing};
    case State::Data:
      return {{354, "go ahead: send the message and end it with a line holding a single dot"},
              {554, "no valid recipients, or the transaction failed"},
              {503, "bad sequence: no recipient was accepted"},
              {451, "a local error on the server: try later"},
              kClosing};
    case State::DataEnd:
      return {{250, "the message is accepted, often with its queue id"},
              {552, "the message is too big for the server"},
              {554, "the message is refused (spam, policy, content)"},
              {550, "the message is refused by policy"},
              {451, "a local error on the server: the message was not taken, try later"},
              {452, "the server is short of storage: try later"},
              kClosing};
    case State::Bdat:
      return {{250, "the chunk is taken; after the LAST one, the message is accepted, often with its queue id"},
              {552, "the message is too big for the server"},
              {554, "the message is refused (spam, policy, content)"},
              {503, "bad sequence: no recipient was accepted, or a chunk before this one failed"},
              {451, "a local error on the server: the message was not taken, try later"},
              kClosing};
    case State::Rset:
      return {{250, "the half-finished message is forgotten"}, kClosing};
    case State::Noop:
      return {{250, "the connection works"}, kClosing};
    case State::Quit:
      return {{221, "goodbye: the server closes the connection"}};
    case State::Greeting:
      return {{220, "the server is ready and introduces itself (RFC 5321 §4.2)"},
              {554, "no SMTP service here for this client (RFC 5321 §3.1)"},
              kClosing};
    default:
      return {};
  }
}

std::string classMeaning(const Reply& reply) {
  if (reply.isCompletion()) return "done: the command succeeded";
  if (reply.isIntermediate()) return "go on: the server waits for more";
  if (reply.isTransient()) return "a temporary failure: the same may work later";
  if (reply.isPermanent()) return "a permanent failure: repeating it will not help";
  return "not a reply code RFC 5321 §4.2.1 defines";
}

}  // namespace

std::string_view pausePointName(PausePoint point) {
  return point == PausePoint::BeforeCommand ? "before-command" : "after-reply";
}

// ---------------------------------------------------------------------------------------------
// Going on

void Session::setStepMode(Time now, bool on) {
  if (on) {
    now_ = now;
    stepping_ = true;
    return;
  }
  runToEnd(now);
}

void Session::next(Time now) {
  now_ = now;
  resume();
}

void Session::continueToNextStep(Time now) {
  now_ = now;
  if (pause_ && pause_->step) skipStep_ = pause_->step;
  resume();
}

void Session::runToEnd(Time now) {
  now_ = now;
  stepping_ = false;  // held commands are released by the next poll() (openGate)
  skipStep_.reset();
  resume();
}

void Session::resume() {
  if (!pause_) return;
  const PausePoint where = pause_->where;
  pause_.reset();
  if (where == PausePoint::BeforeCommand) {
    release();
    return;
  }
  replyHeld_ = false;
  dispatchReply(reply_);
  if (state_ == State::Closed || state_ == State::TlsHandshake) return;
  rearm();
  drainReplies();  // what came behind the reply
}

// ---------------------------------------------------------------------------------------------
// The gate

void Session::hold(std::string line, std::string shown, State answers, std::size_t index) {
  held_.push_back(Held{std::move(line), std::move(shown), answers, index});
}

// The oldest held command (or the message content) leaves; its wait starts now.
void Session::release() {
  if (!held_.empty()) {
    Held held = std::move(held_.front());
    held_.pop_front();
    note(TranscriptKind::Client, held.shown);
    answeredShown_ = std::move(held.shown);
    writeBuffer_ += held.line;
    pending_.push_back(Pending{held.answers, held.index});
  } else if (bodyHeld_) {
    bodyHeld_ = false;
    answeredShown_ = transaction_ && transaction_->chunking ? "BDAT … LAST (the message content in chunks)"
                                                            : "(the message content and the final \".\")";
  }
  rearm();
}

void Session::openGate() {
  while (!pause_ && (!held_.empty() || (bodyHeld_ && (state_ == State::Body || state_ == State::Bdat)))) {
    if (showPause(held_.empty() ? bodyPause() : commandPause(held_.front()))) return;
    release();
  }
}

bool Session::pauseAfterReply(const Reply& reply) {
  if (!stepping_ || pause_ || pending_.empty()) return false;
  if (quietChunkReply(reply)) return false;  // a 250 to a chunk before LAST: the content goes on
  if (!showPause(replyPause(reply, pending_.front().answers))) return false;
  replyHeld_ = true;
  return true;
}

// Posts the pause, unless step mode is off or continueToNextStep() passes over it (a pause of the
// same step, or of none: RSET and NOOP are on no step of the bar).
bool Session::showPause(Pause pause) {
  if (!stepping_) return false;
  if (skipStep_ && (!pause.step || *pause.step == *skipStep_)) return false;
  skipStep_.reset();
  pause.number = ++pauses_;
  if (pause.number == 1) pause.note = std::string(kOneByOne);
  if (pause.patience.empty()) pause.patience = std::string(kPatience);
  pause_ = pause;
  post(Paused{std::move(pause)});
  return true;
}

std::optional<Step> Session::stepOfCommand(State answers) const {
  if ((answers == State::Ehlo || answers == State::Helo) && tlsActive_ && startTlsAttempted_) return Step::EhloAgain;
  return stepOf(answers);
}

// ---------------------------------------------------------------------------------------------
// What a pause says

Pause Session::commandPause(const Held& held) const {
  Pause p;
  p.where = PausePoint::BeforeCommand;
  p.step = stepOfCommand(held.answers);
  p.command = held.shown;
  const bool authFirst = held.shown.rfind("AUTH ", 0) == 0;
  p.replies = expectedFor(held.answers, authFirst);
  switch (held.answers) {
    case State::Ehlo:
      p.why = tlsActive_ && startTlsAttempted_
                  ? "EHLO again: what the server offered before TLS is forgotten, since a man in the middle could "
                    "have changed it, and asked for again inside TLS — RFC 3207 §4.2"
                  : "EHLO: SMTPc introduces itself and asks which extensions (STARTTLS, AUTH, SIZE, ...) the server "
                    "offers — RFC 5321 §4.1.1.1";
      break;
    case State::Helo:
      p.why = "HELO: the server refused EHLO, so SMTPc falls back to the older greeting, which offers no "
              "extensions — RFC 5321 §4.1.1.1";
      break;
    case State::StartTls:
      p.why = params_.security == SecurityMode::StartTls
                  ? "STARTTLS: the server offered it and the settings require TLS — RFC 3207 §4"
                  : "STARTTLS: the server offered it and the settings use TLS whenever it is offered — RFC 3207 §4";
      break;
    case State::Auth:
      if (authFirst)
        p.why = "AUTH: log in as \"" + params_.credentials.username + "\" with " +
                std::string(held.shown.substr(5, held.shown.find(' ', 5) - 5)) +
                ", a mechanism the server offered; the credentials are hidden here — RFC 4954 §4";
      else if (held.shown == "*")
        p.why = "*: SMTPc cannot answer the server's challenge and cancels the login — RFC 4954 §4";
      else if (sasl_ && sasl::isScram(sasl_->mechanism()))
        p.why = "The answer to the server's SCRAM challenge: first the proof that SMTPc knows the password (never "
                "the password itself), then, once the server's signature proved that it knows it too, an empty "
                "line — RFC 5802 §5";
      else
        p.why = "The answer to the server's 334 challenge, in base64 (hidden here: it carries the credentials; "
                "base64 is not encryption) — RFC 4954 §4";
      break;
    case State::Mail:
      p.why = "MAIL FROM: names the sender and starts a new message" +
              std::string(held.shown.find(" SIZE=") != std::string::npos
                              ? "; SIZE declares its size so the server can refuse it before it is sent (RFC 1870)"
                              : "") +
              " — RFC 5321 §4.1.1.2";
      break;
    case State::Rcpt:
      p.why = "RCPT TO: names recipient " + std::to_string(held.index + 1) +
              (transaction_ ? " of " + std::to_string(transaction_->message.envelope.recipients.size()) : "") +
              "; the server accepts or refuses each one — RFC 5321 §4.1.1.3";
      break;
    case State::Data:
      p.why = "DATA: the recipients are named; ask to send the message itself — RFC 5321 §4.1.1.4";
      break;
    case State::Rset:
      p.why = "RSET: the message was refused; RSET clears the server's half-finished message so the session can "
              "go on — RFC 5321 §4.1.1.5";
      break;
    case State::Noop:
      p.why = "NOOP: checks that the connection still works and keeps it alive — RFC 5321 §4.1.1.9";
      break;
    case State::Quit:
      if (firstError_.isError())
        p.why = "QUIT: something failed (see above); SMTPc says goodbye before closing — RFC 5321 §4.1.1.10";
      else if (stoppedAfter_ != Phase::None)
        p.why = "QUIT: the run stops after " + std::string(phaseName(stoppedAfter_)) +
                ", as asked; say goodbye and close — RFC 5321 §4.1.1.10";
      else
        p.why = "QUIT: everything asked for is done; say goodbye and close — RFC 5321 §4.1.1.10";
      break;
    default:
      p.why = "A command for the state " + std::string(stateName(held.answers));
      break;
  }
  return p;
}

Pause Session::bodyPause() const {
  Pause p;
  p.where = PausePoint::BeforeCommand;
  p.step = Step::Data;
  const std::optional<std::uint64_t> total = transaction_ ? transaction_->total : std::nullopt;
  if (transaction_ && transaction_->chunking) {
    const Transaction& t = *transaction_;
    p.step = Step::Bdat;
    // The sizes are known only as the chunks are cut (line ends made CRLF may add octets).
    p.command = (total && *total < t.chunkSize ? std::string("BDAT n LAST")
                                               : "BDAT " + std::to_string(t.chunkSize) + " … BDAT n LAST") +
                " (the message content" + (total ? ", " + std::to_string(*total) + " octets" : std::string()) + ")";
    p.why = "BDAT: the message itself, in chunks whose size is said before them, so nothing in it is changed and the "
            "server looks for no end line (no dot-stuffing); the last chunk says LAST, and each gets a reply" +
            std::string(t.binary ? "; BODY=BINARYMIME let its binary content go as it is" : "") + " — RFC 3030 §2";
    p.replies = expectedFor(State::Bdat, false);
    return p;
  }
  p.command = "(the message content" + (total ? ", " + std::to_string(*total) + " octets" : std::string()) +
              ", then a line holding a single \".\")";
  p.why = "The message itself, as it is: a line that starts with a dot gets one more (dot-stuffing), and a line "
          "holding a single dot ends it — RFC 5321 §4.1.1.4, §4.5.2";
  p.replies = expectedFor(State::DataEnd, false);
  return p;
}

Pause Session::replyPause(const Reply& reply, State answers) const {
  Pause p;
  p.where = PausePoint::AfterReply;
  p.step = answers == State::Greeting ? std::optional<Step>(Step::Greeting) : stepOfCommand(answers);
  p.command = answers == State::Greeting ? std::string() : answeredShown_;
  p.reply = reply;
  std::string meaning;
  for (const auto& expected : expectedFor(answers, answeredShown_.rfind("AUTH ", 0) == 0))
    if (expected.code == reply.code) meaning = expected.meaning;
  if (meaning.empty()) meaning = classMeaning(reply);
  p.why = std::to_string(reply.code) + ": " + meaning;
  if (answers == State::Quit) p.patience = std::string(kAfterGoodbye);
  return p;
}

}  // namespace smtpc
