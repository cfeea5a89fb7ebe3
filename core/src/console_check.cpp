// What the console warns about before it sends a typed line (smtpc/console.h): a command that
// cannot work in the current state, with the reason and the RFC section. Each rule reads only the
// console's state, so the GUI and the page can ask check() while the learner types.
#include <algorithm>

#include "smtpc/command.h"
#include "smtpc/console.h"
#include "text.h"

namespace smtpc {

using text::isAscii;
using text::splitWords;
using text::toUpper;

namespace {

ConsoleWarning warn(std::string_view line, std::string why, std::string reference, bool canSend = true) {
  return ConsoleWarning{std::string(line), std::move(why) + " (" + reference + ")", std::move(reference), canSend};
}

}  // namespace

std::optional<ConsoleWarning> Console::check(std::string_view typed) const {
  // An AUTH payload is a secret: a warning shows the line masked as the transcript would.
  const auto words = splitWords(typed);
  const std::string verb = words.empty() ? std::string() : toUpper(words[0]);
  std::string line(typed);
  if (challengeOpen_ && !content_) line = std::string(Secret::redacted());
  else if (verb == "AUTH" && words.size() > 2) line = "AUTH " + words[1] + " " + std::string(Secret::redacted());

  if (over_ || !connected_)
    return warn(line, over_ ? "The connection is closed." : "Not connected yet: wait for the connection.",
                "RFC 5321 §3.1", false);
  if (handshaking_) return warn(line, "The TLS handshake is under way: wait until it ends.", "RFC 3207 §4", false);
  if (helperWaiting_)
    return warn(line, "The AUTH helper waits for a user name and a password first.", "RFC 4954 §4", false);
  if (typed.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return warn(line, "A line cannot hold CR, LF or NUL: they would end it early or smuggle in another command.",
                "RFC 5321 §2.3.8", false);

  if (content_) {
    if (typed.size() + 2 > 1000)
      return warn(line, "A line of the message may be at most 1000 octets with its CRLF; servers may cut or refuse it.",
                  "RFC 5321 §4.5.3.1.6");
    if (!isAscii(typed) && !capabilities_.supports8BitMime() && !capabilities_.supportsSmtpUtf8())
      return warn(line, "This line holds 8-bit characters and the server did not offer 8BITMIME: without it a "
                        "message must be 7-bit US-ASCII (encode it, e.g. quoted-printable).",
                  "RFC 6152 §3, RFC 5321 §2.4");
    return std::nullopt;
  }
  if (challengeOpen_) return std::nullopt;  // the answer to a 334: base64, anything goes

  if (verb != "AUTH" && typed.size() + 2 > command::kMaxCommandLine)
    return warn(line, "A command line may be at most 512 octets with its CRLF; the server may refuse it (500).",
                "RFC 5321 §4.5.3.1.4");
  if (!isAscii(typed) && !capabilities_.supportsSmtpUtf8())
    return warn(line, "This line holds non-ASCII characters and the server did not offer SMTPUTF8: commands are "
                      "US-ASCII unless it does.",
                "RFC 6531 §3.2, RFC 5321 §2.4");
  const bool harmless = verb == "QUIT" || verb == "RSET" || verb == "NOOP";
  if (!pending_.empty() && !harmless && !capabilities_.supportsPipelining()) {
    if (pending_.front() == Verb::Greeting)
      return warn(line, "The server has not greeted you yet: wait for its 220.", "RFC 5321 §3.1");
    return warn(line, "A reply is still awaited and the server did not offer PIPELINING: wait for it before the "
                      "next command.",
                "RFC 2920 §3, RFC 5321 §4.3.1");
  }
  return checkCommand(line, verb);
}

std::optional<ConsoleWarning> Console::checkCommand(std::string_view line, std::string_view verb) const {
  const auto words = splitWords(line);
  // With PIPELINING a command may follow one whose reply is still awaited (RFC 2920 §3.1).
  const auto awaits = [this](Verb v) { return std::find(pending_.begin(), pending_.end(), v) != pending_.end(); };
  if (verb == "MAIL" && !ehloDone_)
    return warn(line, tlsActive_ ? "After STARTTLS the session starts over: say EHLO again before MAIL."
                                 : "Say EHLO (or HELO) before MAIL: the server must know who speaks first.",
                tlsActive_ ? "RFC 3207 §4.2" : "RFC 5321 §4.1.4");
  if (verb == "RCPT" && !mailAccepted_ && !awaits(Verb::Mail))
    return warn(line, "RCPT comes after an accepted MAIL FROM: there is no transaction to add a recipient to.",
                "RFC 5321 §4.1.1.3, §3.3");
  if (verb == "DATA" && acceptedRecipients_ == 0 && !awaits(Verb::Rcpt))
    return warn(line, "DATA needs at least one accepted RCPT TO: the server would answer 503 or 554.",
                "RFC 5321 §4.1.1.4, §3.3");
  if (verb == "STARTTLS") {
    if (tlsActive_)
      return warn(line, "The connection is already encrypted: STARTTLS cannot be repeated.", "RFC 3207 §4.2");
    if (!capabilities_.supportsStartTls())
      return warn(line, ehloDone_ ? "The server did not offer STARTTLS in its EHLO reply."
                                  : "Say EHLO first: only its reply says whether the server offers STARTTLS.",
                  "RFC 3207 §4");
  }
  if (verb == "AUTH") {
    if (authenticated_)
      return warn(line, "You are already logged in: a second AUTH is refused (503).", "RFC 4954 §4");
    if (!tlsActive_ && capabilities_.supportsStartTls())
      return warn(line, "The server offers STARTTLS: without it the password travels in clear. Type STARTTLS first.",
                  "RFC 3207 §4, RFC 4954 §14");
    if (!capabilities_.supportsAuth())
      return warn(line, ehloDone_ ? "The server did not offer AUTH in its EHLO reply."
                                  : "Say EHLO first: only its reply says which AUTH mechanisms the server offers.",
                  "RFC 4954 §3");
    if (words.size() > 1 && !capabilities_.supportsAuthMechanism(words[1]))
      return warn(line, "The server did not offer the mechanism " + toUpper(words[1]) + " (it would answer 504).",
                  "RFC 4954 §4");
    if (!tlsActive_)
      return warn(line, "The connection is not encrypted: the user name and password would travel in clear.",
                  "RFC 4954 §14, RFC 8314 §3");
  }
  return std::nullopt;
}

}  // namespace smtpc
