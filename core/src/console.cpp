// The console's inputs, replies and outputs (smtpc/console.h). What it warns about is
// console_check.cpp; the driver is console_client.cpp.
#include "smtpc/console.h"

#include "smtpc/base64.h"
#include "smtpc/command.h"
#include "smtpc/reply_code.h"
#include "smtpc/sasl.h"
#include "text.h"

namespace smtpc {

using text::splitWords;
using text::toUpper;

namespace {

std::string seconds(Duration d) { return std::to_string(d.count() / 1000) + " s"; }

// A 334 challenge as a learner reads it ("Username:"), when it decodes to printable text.
std::optional<std::string> printableChallenge(std::string_view text) {
  auto decoded = base64::decode(text);
  if (!decoded || decoded->empty()) return std::nullopt;
  for (unsigned char c : *decoded)
    if (c < 32 || c > 126) return std::nullopt;
  return decoded;
}

}  // namespace

std::string_view consoleStateName(ConsoleState state) {
  switch (state) {
    case ConsoleState::Idle: return "idle";
    case ConsoleState::Connecting: return "connecting";
    case ConsoleState::TlsHandshake: return "tls-handshake";
    case ConsoleState::Waiting: return "waiting";
    case ConsoleState::Command: return "command";
    case ConsoleState::Credentials: return "credentials";
    case ConsoleState::Content: return "content";
    case ConsoleState::Closed: return "closed";
  }
  return "closed";
}

Console::Console(ConsoleParams params) : params_(std::move(params)), parser_(params_.replyLimits) {}
Console::~Console() = default;

void Console::note(TranscriptKind kind, std::string text) {
  post(TranscriptEntry{kind, tlsActive_, now_, std::move(text)});
}

// The wire gets `wire` (with CRLF), the transcript `shown` (AUTH payloads masked, DESIGN.md rule 6).
void Console::send(const std::string& wire, std::string shown, std::optional<Verb> awaits) {
  note(TranscriptKind::Client, std::move(shown));
  outputs_.emplace_back(WriteAction{wire});
  if (awaits) pending_.push_back(*awaits);
  lastActivity_ = now_;
}

Error Console::start(Time now) {
  now_ = now;
  if (started_) return Error(ErrorCode::InvalidState, "The console has already started.");
  if (params_.host.empty()) return Error(ErrorCode::InvalidArgument, "Give the server's name or address.");
  started_ = true;
  lastActivity_ = now;
  outputs_.emplace_back(ConnectAction{params_.host, params_.effectivePort()});
  settle();
  return {};
}

void Console::onConnected(Time now, const ConnectionInfo& info) {
  now_ = now;
  if (!started_ || connected_ || over_) return;
  connected_ = true;
  lastActivity_ = now;
  note(TranscriptKind::Info, "Connected" + (info.peerAddress.empty() ? std::string() : " to " + info.peerAddress) +
                                 (params_.implicitTls ? "; starting TLS before anything is said (RFC 8314)"
                                                      : "; waiting for the server's greeting (220)"));
  if (params_.implicitTls) {
    handshaking_ = true;
    outputs_.emplace_back(StartTlsAction{});
  } else {
    pending_.push_back(Verb::Greeting);
  }
  settle();
}

void Console::receive(Time now, std::string_view bytes) {
  now_ = now;
  if (!connected_ || over_ || bytes.empty()) return;
  if (handshaking_) {
    note(TranscriptKind::Info, "Ignored " + std::to_string(bytes.size()) +
                                   " clear-text bytes received during the TLS handshake (RFC 3207 §4.2).");
    return;
  }
  parser_.feed(bytes);
  while (!over_ && !handshaking_) {
    const auto status = parser_.next(reply_);
    if (status == ReplyParser::Status::NeedMore) break;
    if (status == ReplyParser::Status::Malformed) {
      note(TranscriptKind::Error, "The server's reply is not valid SMTP: " + parser_.error() + ".");
      finish(Error(ErrorCode::ProtocolViolation, "The server's reply is not valid SMTP: " + parser_.error() + "."), true);
      break;
    }
    lastActivity_ = now;
    onReply(reply_);
  }
  settle();
}

void Console::onReply(const Reply& reply) {
  for (auto& line : reply.wireLines()) note(TranscriptKind::Server, std::move(line));
  if (pending_.empty()) {
    note(TranscriptKind::Info, "This reply answers no command that was sent.");
    return;
  }
  const Verb answered = pending_.front();
  pending_.pop_front();
  if (reply.code == reply_code::ServiceNotAvailable)
    note(TranscriptKind::Info, "421: the server is closing the connection (RFC 5321 §3.8).");
  const auto resetTransaction = [this] {
    mailAccepted_ = false;
    acceptedRecipients_ = 0;
  };
  switch (answered) {
    case Verb::Greeting:
      greeted_ = reply.code == reply_code::ServiceReady;
      break;
    case Verb::Ehlo:
    case Verb::Helo:
      if (!reply.isCompletion()) break;
      capabilities_ = answered == Verb::Ehlo ? Capabilities::fromEhloReply(reply) : Capabilities();
      ehloDone_ = true;
      resetTransaction();  // RFC 5321 §4.1.4: EHLO also clears the transaction
      break;
    case Verb::StartTls:
      if (reply.code != reply_code::ServiceReady) break;
      // RFC 3207 §4.2 / CVE-2011-0411: bytes after the 220 came before TLS and may be injected.
      if (const std::size_t extra = parser_.bufferedBytes(); extra > 0)
        note(TranscriptKind::Error, "The server sent " + std::to_string(extra) +
                                        " more bytes right after its 220; they are discarded (RFC 3207 §4.2: they "
                                        "could be an injection attack).");
      parser_.discardBuffered();
      note(TranscriptKind::Info, "SMTPc starts the TLS handshake for you (no one can type it): from here on the "
                                 "conversation is encrypted (RFC 3207 §4).");
      handshaking_ = true;
      lastActivity_ = now_;
      outputs_.emplace_back(StartTlsAction{});
      break;
    case Verb::Auth:
      challengeOpen_ = false;
      if (reply.code == reply_code::AuthChallenge) {
        onAuthChallenge(reply);
        break;
      }
      if (reply.code == reply_code::AuthSucceeded) {
        authenticated_ = true;
        note(TranscriptKind::Info, "Logged in.");
      }
      helper_ = Helper::None;
      loginUser_.clear();
      loginPassword_ = Secret();
      break;
    case Verb::Mail:
      mailAccepted_ = reply.isCompletion();
      break;
    case Verb::Rcpt:
      if (reply.isCompletion()) ++acceptedRecipients_;
      break;
    case Verb::Data:
      if (reply.code != reply_code::StartMailInput) break;
      content_ = true;
      note(TranscriptKind::Info, "Now type the message: headers (From:, To:, Subject:), an empty line, the text. "
                                 "A line with only \".\" ends it (RFC 5321 §4.1.1.4).");
      break;
    case Verb::DataEnd:
    case Verb::Rset:
      resetTransaction();
      break;
    case Verb::Quit:
      if (reply.code != reply_code::ServiceClosing) break;
      // RFC 5321 §4.1.1.10: after the 221 the client closes its side; the conversation is over.
      note(TranscriptKind::Info, "The server said goodbye: closing the connection.");
      finish({}, true);
      break;
    case Verb::Noop:
    case Verb::Other:
      break;
  }
}

void Console::onAuthChallenge(const Reply& reply) {
  challengeOpen_ = true;
  const std::string challenge = reply.lines.empty() ? std::string() : reply.lines.front();
  if (auto decoded = printableChallenge(challenge))
    note(TranscriptKind::Info, "(the server's challenge, decoded from base64: \"" + *decoded + "\")");
  if (helper_ != Helper::Login) {
    note(TranscriptKind::Info, "Type the answer in base64 (it is masked here), or * to cancel (RFC 4954 §4).");
    return;
  }
  // The LOGIN helper: the user name to the first challenge, the password to the second.
  const std::string answer = base64::encode(loginStep_ == 0 ? std::string_view(loginUser_) : loginPassword_.reveal());
  if (loginStep_ == 1) loginPassword_ = Secret();
  ++loginStep_;
  challengeOpen_ = false;
  send(answer + "\r\n", std::string(Secret::redacted()), Verb::Auth);
}

std::optional<ConsoleWarning> Console::type(Time now, std::string_view line, bool confirmed) {
  now_ = now;
  auto warning = check(line);
  if (warning && (!confirmed || !warning->canSend)) {
    post(*warning);
    settle();
    return warning;
  }
  if (content_) {
    sendContent(line);
  } else if (challengeOpen_) {
    challengeOpen_ = false;
    send(std::string(line) + "\r\n", std::string(Secret::redacted()), Verb::Auth);
  } else {
    const auto words = splitWords(line);
    const std::string verb = words.empty() ? std::string() : toUpper(words[0]);
    const std::string mechanism = words.size() > 1 ? toUpper(words[1]) : std::string();
    if (verb == "AUTH" && words.size() == 2 && (mechanism == "PLAIN" || mechanism == "LOGIN")) {
      helper_ = mechanism == "PLAIN" ? Helper::Plain : Helper::Login;
      helperWaiting_ = true;
      post(CredentialRequest{mechanism, mechanism == "PLAIN"
                                            ? "AUTH PLAIN sends the user name and the password in one base64 "
                                              "string; the helper builds it (RFC 4616 §2)."
                                            : "AUTH LOGIN asks for the user name, then the password, each in "
                                              "base64; the helper answers both challenges (RFC 4954 §4)."});
    } else if (verb == "AUTH") {
      std::string shown = "AUTH";
      if (words.size() > 1) shown += " " + words[1];
      if (words.size() > 2) shown += " " + std::string(Secret::redacted());
      send(std::string(line) + "\r\n", std::move(shown), Verb::Auth);
    } else {
      static constexpr std::pair<std::string_view, Verb> kVerbs[] = {
          {"EHLO", Verb::Ehlo}, {"HELO", Verb::Helo}, {"STARTTLS", Verb::StartTls}, {"MAIL", Verb::Mail},
          {"RCPT", Verb::Rcpt}, {"DATA", Verb::Data}, {"RSET", Verb::Rset},         {"NOOP", Verb::Noop},
          {"QUIT", Verb::Quit}};
      Verb kind = Verb::Other;
      for (const auto& [name, v] : kVerbs)
        if (verb == name) kind = v;
      if (kind == Verb::Quit) quitSent_ = true;
      send(std::string(line) + "\r\n", std::string(line), kind);
    }
  }
  settle();
  return std::nullopt;
}

void Console::sendContent(std::string_view line) {
  if (line == ".") {
    content_ = false;
    send(".\r\n", ".", Verb::DataEnd);
    return;
  }
  std::string wire(line);
  if (!wire.empty() && wire.front() == '.') {
    wire.insert(wire.begin(), '.');
    if (!dotStuffExplained_)
      note(TranscriptKind::Info, "This line starts with \".\", so SMTPc sends it with one more dot (\"" +
                                     wire.substr(0, 8) + "…\"), and the server removes it: dot-stuffing, RFC 5321 "
                                     "§4.5.2. Otherwise a lone \".\" in the text would end the message.");
    dotStuffExplained_ = true;
  }
  send(wire + "\r\n", wire, std::nullopt);
}

void Console::provideCredentials(Time now, std::string user, Secret password) {
  now_ = now;
  if (!helperWaiting_ || over_) return;
  helperWaiting_ = false;
  if (helper_ == Helper::Login) {
    note(TranscriptKind::Info, "The AUTH helper answers the server's two challenges (\"Username:\", \"Password:\") "
                               "with the user name and the password, each in base64 (RFC 4648 §4). Base64 is not "
                               "encryption: anyone who sees the answers can decode them" +
                                   std::string(tlsActive_ ? "; TLS hides them here." : ", and this connection is NOT "
                                                                                        "encrypted.") +
                                   " They are masked in this transcript.");
    loginUser_ = std::move(user);
    loginPassword_ = std::move(password);
    loginStep_ = 0;
    send("AUTH LOGIN\r\n", "AUTH LOGIN", Verb::Auth);
    settle();
    return;
  }
  const std::string payload = sasl::plain({}, user, password.reveal());
  // Only the base64 characters that depend on "\0user\0" alone: whole 3-octet groups before the
  // password's first octet.
  const std::string visible = payload.substr(0, (user.size() + 2) / 3 * 4);
  note(TranscriptKind::Info,
       "The AUTH helper builds PLAIN's answer (RFC 4616 §2): the authorization identity (empty: act as the user), a "
       "NUL octet, the user name \"" + user + "\", a NUL octet, the password: <NUL>" + user + "<NUL>" +
           std::string(Secret::redacted()) +
           ". Base64 (RFC 4648 §4) turns these octets into letters a command line can carry. It is not encryption: "
           "anyone who sees " + (visible.empty() ? std::string("the line") : visible + "…") +
           " can decode it, password included" +
           (tlsActive_ ? "; here TLS hides it from everyone but the server." : ", and this connection is NOT encrypted.") +
           " The password is masked in this transcript.");
  auto line = command::auth("PLAIN", payload);
  if (!line) {
    note(TranscriptKind::Error, "AUTH: " + line.error().explanation());
    helper_ = Helper::None;
  } else {
    send(*line, "AUTH PLAIN " + std::string(Secret::redacted()), Verb::Auth);
  }
  settle();
}

void Console::cancelCredentials(Time now) {
  now_ = now;
  if (!helperWaiting_ || over_) return;
  helperWaiting_ = false;
  helper_ = Helper::None;
  note(TranscriptKind::Info, "AUTH not sent: no user name and password were given.");
  settle();
}

void Console::onTlsEstablished(Time now, const TlsInfo& info) {
  now_ = now;
  if (!handshaking_ || over_) return;
  handshaking_ = false;
  tlsActive_ = true;
  lastActivity_ = now;
  std::string summary = info.protocol + " with " + info.cipher + "; ";
  if (info.verified) summary += "the certificate" + (info.chain.empty() ? std::string() : " for " + info.chain.front().subject) +
                                " is valid and trusted";
  else if (info.acceptedDespiteErrors) summary += "the certificate is NOT valid, accepted only because invalid certificates are allowed";
  else summary += "the certificate was not verified";
  post(TlsReady{info});
  note(TranscriptKind::Tls, summary);
  if (!greeted_ && params_.implicitTls) {
    pending_.push_back(Verb::Greeting);
  } else {
    capabilities_ = Capabilities();
    ehloDone_ = false;
    mailAccepted_ = false;
    acceptedRecipients_ = 0;
    note(TranscriptKind::Info, "What the server offered before TLS is forgotten (RFC 3207 §4.2): type EHLO again.");
  }
  settle();
}

void Console::onTlsFailed(Time now, const Error& error) {
  now_ = now;
  if (!handshaking_ || over_) return;
  const Error e = error.isError() ? error : Error(ErrorCode::TlsHandshakeFailed);
  note(TranscriptKind::Error, e.explanation());
  finish(e, true);
  settle();
}

void Console::onClosed(Time now, const Error& cause) {
  now_ = now;
  if (!started_ || over_) return;
  if (quitSent_ && !cause.isError()) {
    note(TranscriptKind::Info, "The server closed the connection.");
    finish({}, false);
  } else {
    std::string what = connected_ ? "The server closed the connection" : "Could not connect";
    if (cause.isError()) what += ": " + cause.explanation();
    what += ".";
    note(TranscriptKind::Error, what);
    finish(Error(cause.isError() ? cause.code() : ErrorCode::ConnectionLost, what), false);
  }
  settle();
}

void Console::onTimeout(Time now) {
  now_ = now;
  if (!deadline_ || now < *deadline_ || over_) return;
  std::string what;
  if (!connected_) what = "Connecting took more than " + seconds(params_.connectTimeout) + ".";
  else if (handshaking_) what = "The TLS handshake did not finish within " + seconds(params_.tlsTimeout) + ".";
  else what = "The server did not answer within " + seconds(params_.replyTimeout) + " (RFC 5321 §4.5.3.2).";
  note(TranscriptKind::Error, what);
  finish(Error(ErrorCode::Timeout, what), true);
  settle();
}

void Console::close(Time now) {
  now_ = now;
  if (!started_ || over_) return;
  note(TranscriptKind::Info, "Closing the connection" + std::string(quitSent_ ? "." : " without QUIT."));
  finish(quitSent_ ? Error() : Error(ErrorCode::Cancelled, "Closed without QUIT."), true);
  settle();
}

void Console::finish(Error error, bool closeTransport) {
  over_ = true;
  pending_.clear();
  if (closeTransport) outputs_.emplace_back(CloseAction{});
  post(ConsoleFinished{std::move(error)});
}

void Console::settle() {
  ConsoleState next = ConsoleState::Command;
  Duration timeout{0};
  if (over_) next = ConsoleState::Closed;
  else if (!started_) next = ConsoleState::Idle;
  else if (!connected_) next = ConsoleState::Connecting, timeout = params_.connectTimeout;
  else if (handshaking_) next = ConsoleState::TlsHandshake, timeout = params_.tlsTimeout;
  else if (helperWaiting_) next = ConsoleState::Credentials;
  else if (!pending_.empty()) next = ConsoleState::Waiting, timeout = params_.replyTimeout;
  else if (content_) next = ConsoleState::Content;
  if (timeout.count() > 0) deadline_ = lastActivity_ + timeout;
  else deadline_.reset();
  if (next == state_) return;
  const ConsoleState from = state_;
  state_ = next;
  // The event goes before Finished, so that Finished stays last.
  const ConsoleEvent changed = ConsoleStateChanged{from, next};
  if (next == ConsoleState::Closed && !outputs_.empty()) outputs_.insert(outputs_.end() - 1, changed);
  else post(changed);
}

std::optional<ConsoleOutput> Console::poll() {
  if (outputs_.empty()) return std::nullopt;
  ConsoleOutput out = std::move(outputs_.front());
  outputs_.pop_front();
  return out;
}

}  // namespace smtpc
