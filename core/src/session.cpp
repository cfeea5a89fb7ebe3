// The SMTP client engine. RFCs: 5321, 3207, 4954, 2920, 1870, 6152, 6531, 2034, 3463.
// This file holds the connection (greeting, EHLO, STARTTLS, QUIT) and the dispatch;
// session_auth.cpp the login (AUTH, RFC 4954); transaction.cpp the message transaction (MAIL,
// RCPT, DATA, RSET); session_names.cpp the tables.
//
// How it is organised (curl's pingpong shape, h11's sans-I/O rules):
// - `pending_` lists the commands sent whose replies have not come yet, oldest first, each by the
//   state that waits for its reply. A reply is handled by what it answers (the front of
//   `pending_`), never by its code alone; this is also what makes PIPELINING (RFC 2920) work: a
//   batch is several entries.
// - perform<Step>() sends a command; on<Step>Reply() handles its answer. The state says what we
//   wait for and changes only in setState(), which also arms that phase's timer.
// - Errors: the first one recorded is the one reported (record()). A fatal error sends QUIT when
//   the state allows it (the state list's QUIT column) and closes otherwise; replies still in
//   flight are only logged. A message-level error (sender, recipients, size, content) fails that
//   message, RSETs, and the session goes on with the next one.
#include "smtpc/session.h"

#include <algorithm>

#include "smtpc/advice.h"
#include "smtpc/base64.h"
#include "smtpc/command.h"
#include "smtpc/reply_code.h"
#include "smtpc/tls_policy.h"
#include "transaction.h"

namespace smtpc {

namespace {

std::string seconds(Duration duration) {
  const auto ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// The EHLO argument when none is configured: the local address as an address literal
// (RFC 5321 §4.1.4: a client with no meaningful domain name sends one).
std::string defaultEhloName(const ConnectionInfo& info) {
  std::string address = info.localAddress;
  if (const auto percent = address.find('%'); percent != std::string::npos) address.resize(percent);  // zone id
  if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos) address = address.substr(7);
  if (address.empty()) return "[127.0.0.1]";
  if (address.find(':') != std::string::npos) return "[IPv6:" + address + "]";
  return "[" + address + "]";
}

// "Username:" for a LOGIN prompt: shown to learners beside the base64 the server sent.
std::optional<std::string> printableBase64(std::string_view text) {
  auto decoded = base64::decode(text);
  if (!decoded || decoded->empty()) return std::nullopt;
  for (unsigned char c : *decoded)
    if (c < 32 || c > 126) return std::nullopt;
  return decoded;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Session::Session(ConnectParams params)
    : params_(std::move(params)), parser_(params_.replyLimits), stepping_(params_.stepThrough) {}
Session::~Session() = default;

void Session::setState(State next) {
  const State previous = state_;
  state_ = next;
  const Duration timeout = timeoutFor(params_.timeouts, next);
  if (timeout.count() > 0) deadline_ = now_ + timeout;
  else deadline_.reset();
  if (previous != next) post(StateChanged{previous, next});
}

void Session::rearm() {
  const Duration timeout = timeoutFor(params_.timeouts, state_);
  if (timeout.count() > 0) deadline_ = now_ + timeout;
}

void Session::post(Event event) { outputs_.emplace_back(std::move(event)); }

void Session::note(TranscriptKind kind, std::string text) {
  post(TranscriptEntry{kind, tlsActive_, now_, std::move(text)});
}

void Session::sendCommand(const std::string& line, State answers, std::size_t index) {
  if (stepping_) {
    hold(line, line.substr(0, line.size() - 2), answers, index);
    return;
  }
  note(TranscriptKind::Client, line.substr(0, line.size() - 2));
  writeBuffer_ += line;
  pending_.push_back(Pending{answers, index});
}

// For AUTH lines: the wire gets `line`, the transcript gets `shown` (DESIGN.md rule 6).
void Session::sendMasked(const std::string& line, std::string shown, State answers) {
  if (stepping_) {
    hold(line, std::move(shown), answers, 0);
    return;
  }
  note(TranscriptKind::Client, std::move(shown));
  writeBuffer_ += line;
  pending_.push_back(Pending{answers, 0});
}

void Session::flushWrites() {
  if (writeBuffer_.empty()) return;
  unflushed_ += writeBuffer_.size();
  outputs_.emplace_back(WriteAction{std::move(writeBuffer_)});
  writeBuffer_.clear();
}

std::optional<Output> Session::poll() {
  if (outputs_.empty()) openGate();  // step mode: a held command becomes a pause (or goes)
  if (outputs_.empty()) flushWrites();
  if (outputs_.empty() && state_ == State::Body && !bodyHeld_) streamBody();
  if (outputs_.empty() && state_ == State::Bdat && !bodyHeld_) streamChunks();
  if (outputs_.empty()) return std::nullopt;
  Output out = std::move(outputs_.front());
  outputs_.pop_front();
  return out;
}

void Session::record(const Error& error) {
  if (error.isError() && !firstError_.isError()) firstError_ = error;
}

// ---------------------------------------------------------------------------------------------
// Commands from the user

Error Session::start(Time now) {
  now_ = now;
  if (state_ != State::Idle) return Error(ErrorCode::InvalidState, "start() was already called");
  if (params_.host.empty()) return Error(ErrorCode::NullArgument, "No server name or address was given.");
  for (char c : params_.host)
    if (c == '\r' || c == '\n' || c == '\0' || c == ' ')
      return Error(ErrorCode::InvalidArgument, "The server name contains a space or a control character.");
  if (!params_.credentials.username.empty())
    for (char c : params_.credentials.username)
      if (c == '\0') return Error(ErrorCode::InvalidArgument, "The user name contains a NUL character.");
  // The name the certificate is checked against: refused before any byte is sent when it is
  // neither a host name nor an IP literal (a TLS library may then check no name at all).
  if (params_.security != SecurityMode::None)
    if (Error error = tls::checkVerifyName(params_.tls.verifyName.empty() ? params_.host : params_.tls.verifyName))
      return error;

  std::string mode;
  switch (params_.security) {
    case SecurityMode::None: mode = "no encryption"; break;
    case SecurityMode::StartTlsIfOffered: mode = "STARTTLS if the server offers it (unsafe: may stay unencrypted)"; break;
    case SecurityMode::StartTls: mode = "STARTTLS required"; break;
    case SecurityMode::ImplicitTls: mode = "implicit TLS from the first byte"; break;
  }
  note(TranscriptKind::Info, "Connecting to " + params_.host + " port " + std::to_string(params_.effectivePort()) +
                                 " (" + mode + ")");
  setState(State::Connecting);
  outputs_.emplace_back(ConnectAction{params_.host, params_.effectivePort()});
  return {};
}

Result<std::size_t> Session::send(Time now, OutgoingMessage message) {
  now_ = now;
  if (state_ == State::Closed || quitRequested_)
    return Error(ErrorCode::InvalidState, "The session is closed or closing; connect again to send.");
  if (!message.body) return Error(ErrorCode::NullArgument, "The message has no content.");
  if (message.envelope.recipients.empty()) return Error(ErrorCode::NullArgument, "The message has no recipients.");
  if (!message.envelope.from.empty())
    if (auto checked = checkAddress(message.envelope.from); !checked)
      return Error(checked.error().code(), "Sender: " + checked.error().explanation());
  for (const auto& recipient : message.envelope.recipients)
    if (auto checked = checkAddress(recipient); !checked)
      return Error(checked.error().code(), "Recipient: " + checked.error().explanation());

  const std::size_t index = nextMessageIndex_++;
  queue_.emplace_back(index, std::move(message));
  if (state_ == State::Ready) beginMessage();
  return index;
}

void Session::quit(Time now) {
  now_ = now;
  if (state_ == State::Closed || quitRequested_) return;
  quitRequested_ = true;  // before start(): QUIT once the queue is done (Client::sendMail)
  if (state_ == State::Ready) performQuit();
}

Error Session::noop(Time now) {
  now_ = now;
  if (state_ != State::Ready) return Error(ErrorCode::InvalidState, "NOOP is possible only while the session is ready.");
  sendCommand(command::noop(), State::Noop);
  setState(State::Noop);
  return {};
}

void Session::cancel(Time now) {
  now_ = now;
  if (state_ == State::Closed) return;
  const Error cancelled(ErrorCode::Cancelled, "Cancelled while " + std::string(stateDescription(state_)) + ".");
  record(cancelled);
  note(TranscriptKind::Error, cancelled.explanation());
  closeNow(state_ != State::Idle);
}

// ---------------------------------------------------------------------------------------------
// Inputs from the transport

void Session::onConnected(Time now, const ConnectionInfo& info) {
  now_ = now;
  if (state_ != State::Connecting) return;
  connection_ = info;
  note(TranscriptKind::Info, "Connected" + (info.peerAddress.empty() ? std::string() : " to " + info.peerAddress) +
                                 (params_.security == SecurityMode::ImplicitTls
                                      ? "; starting TLS before anything else is said"
                                      : "; waiting for the server's greeting (220)"));
  if (params_.security == SecurityMode::ImplicitTls) {
    setState(State::TlsHandshake);
    flushWrites();
    outputs_.emplace_back(StartTlsAction{});
    return;
  }
  setState(State::Greeting);
  pending_.push_back(Pending{State::Greeting, 0});
}

void Session::receive(Time now, std::string_view bytes) {
  now_ = now;
  if (state_ == State::Closed || state_ == State::Idle || state_ == State::Connecting || bytes.empty()) return;
  if (state_ == State::TlsHandshake) {
    note(TranscriptKind::Info, "Ignored " + std::to_string(bytes.size()) +
                                   " clear-text bytes received during the TLS handshake (RFC 3207 §4.2).");
    return;
  }
  parser_.feed(bytes);
  drainReplies();
}

// Reads the whole replies received, one by one; in step mode each may stop for the learner
// (replyHeld_), and what follows it stays in the parser until resume() reads on.
void Session::drainReplies() {
  while (!replyHeld_) {
    const auto status = parser_.next(reply_);
    if (status == ReplyParser::Status::NeedMore) break;
    if (status == ReplyParser::Status::Malformed) {
      fail(Error(ErrorCode::ProtocolViolation, "The server's reply is not valid SMTP: " + parser_.error() + "."), false);
      return;
    }
    heardSinceTls_ = true;
    noteReply(reply_);
    if (pauseAfterReply(reply_)) return;
    dispatchReply(reply_);
    if (state_ == State::Closed || state_ == State::TlsHandshake) return;
    rearm();
  }
}

void Session::onBytesFlushed(Time now, std::size_t count) {
  now_ = now;
  unflushed_ -= std::min<std::uint64_t>(unflushed_, count);
  // RFC 5321 §4.5.3.2.5: the data block timer restarts on progress
  if (state_ == State::Body || state_ == State::Bdat) rearm();
}

void Session::onTlsEstablished(Time now, const TlsInfo& info) {
  now_ = now;
  if (state_ != State::TlsHandshake) return;
  tlsActive_ = true;
  heardSinceTls_ = false;
  std::string summary = info.protocol + " with " + info.cipher + "; ";
  if (info.verified) {
    summary += "the certificate" + (info.chain.empty() ? std::string() : " for " + info.chain.front().subject) +
               " is valid and trusted";
  } else if (info.acceptedDespiteErrors) {
    summary += "the certificate is NOT valid, accepted only because invalid certificates are allowed";
    for (const auto& problem : info.verificationErrors) summary += "; " + problem;
  } else {
    summary += "the certificate was not verified";
  }
  post(TlsReady{info});
  note(TranscriptKind::Tls, summary);

  if (params_.security == SecurityMode::ImplicitTls && !startTlsAttempted_) {
    setState(State::Greeting);
    pending_.push_back(Pending{State::Greeting, 0});
    return;
  }
  if (stopIf(Phase::Tls)) return;
  capabilities_ = Capabilities();
  note(TranscriptKind::Info, "What the server offered before TLS is forgotten and asked for again (RFC 3207 §4.2).");
  performEhlo();
}

void Session::onTlsFailed(Time now, const Error& error) {
  now_ = now;
  if (state_ != State::TlsHandshake) return;
  record(error.isError() ? error : Error(ErrorCode::TlsHandshakeFailed));
  note(TranscriptKind::Error, firstError_.explanation());
  closeNow(true);
}

void Session::onClosed(Time now, const Error& cause) {
  now_ = now;
  if (state_ == State::Closed || state_ == State::Idle) return;
  if (state_ == State::Quit) {
    closeNow(false);
    return;
  }
  Error error;
  if (state_ == State::Connecting) {
    error = cause.isError() ? cause : Error(ErrorCode::ConnectFailed);
  } else if (tlsActive_ && !heardSinceTls_) {
    // With TLS 1.3 a server that demands a client certificate finishes the handshake, checks the
    // certificate afterwards and hangs up: the client sees a clean close before any reply.
    error = Error(ErrorCode::ClientCertificateRefused,
                  std::string("The server closed the connection right after the TLS handshake, before saying anything. "
                              "Servers do this when they require a client certificate (mutual TLS) and did not get "
                              "one they trust: ") +
                      (params_.tls.clientCertificatePem.empty()
                           ? "none was given; add the certificate and key the server's administrator issued."
                           : "the one given was not accepted; check that it is the one the server expects and "
                             "that it has not expired."));
  } else {
    std::string what = "The connection was closed while " + std::string(stateDescription(state_)) +
                       (state_ == State::Greeting || state_ == State::Ready ? "" : " was under way");
    if (cause.isError()) what += ": " + cause.explanation();
    what += ".";
    // In step mode the command may never have left: the server stopped waiting for it.
    if (gated())
      what += " SMTPc was paused in step mode, and the server did not wait that long (RFC 5321 §4.5.3.2.7 "
              "asks for at least 5 minutes).";
    if (state_ == State::Greeting) what += " " + std::string(advice::kImplicitTlsIfThePortExpectsIt);
    error = Error(cause.isError() ? cause.code() : ErrorCode::ConnectionLost, what);
  }
  record(error);
  note(TranscriptKind::Error, error.explanation());
  closeNow(false);
}

void Session::onTimeout(Time now) {
  now_ = now;
  if (!deadline_ || now < *deadline_ || state_ == State::Closed || gated()) return;
  const Duration waited = timeoutFor(params_.timeouts, state_);
  std::string what;
  switch (state_) {
    case State::Connecting:
      what = "Connecting to " + params_.host + " port " + std::to_string(params_.effectivePort()) + " took more than " +
             seconds(waited) + ". The host may be wrong, or a firewall drops the connection.";
      break;
    case State::Greeting:
      what = "The server sent no greeting within " + seconds(waited) + ". " +
             std::string(advice::kImplicitTlsIfThePortExpectsIt);
      break;
    case State::TlsHandshake:
      what = "The TLS handshake did not finish within " + seconds(waited) + ". " +
             std::string(advice::kStartTlsIfThePortExpectsIt);
      break;
    case State::Body:
    case State::Bdat:
      what = "The server accepted no data for " + seconds(waited) + " while the message was being sent.";
      break;
    default:
      what = "The server did not answer " + std::string(stateDescription(state_)) + " within " + seconds(waited) + ".";
      break;
  }
  const Error error(ErrorCode::Timeout, what);
  record(error);
  note(TranscriptKind::Error, what);
  closeNow(true);
}

// ---------------------------------------------------------------------------------------------
// Replies

void Session::noteReply(const Reply& reply) {
  const bool secretChallenge = !pending_.empty() && pending_.front().answers == State::Auth && reply.code == reply_code::AuthChallenge;
  if (quietChunkReply(reply)) return;  // BDAT: counted, summed up later (transaction_chunks.cpp)
  noteBeforeChunkReply();
  for (auto& line : reply.wireLines()) note(TranscriptKind::Server, std::move(line));
  if (secretChallenge && !reply.lines.empty())
    if (auto decoded = printableBase64(reply.lines.front()))
      note(TranscriptKind::Info, "(the server's challenge, decoded from base64: \"" + *decoded + "\")");
}

void Session::dispatchReply(const Reply& reply) {
  if (pending_.empty()) {
    if (reply.code == reply_code::ServiceNotAvailable) {
      fail(Error(ErrorCode::ServiceNotAvailable, "The server is closing the connection (421): " + reply.text(), reply), false);
    } else if (state_ == State::Body && reply.isPermanent()) {
      fail(Error(reply.code == reply_code::ExceededStorage ? ErrorCode::MessageTooLarge : ErrorCode::MessageRejected,
                 "The server refused the message while it was being sent: " + reply.text(), reply),
           false);
    } else {
      fail(Error(ErrorCode::ProtocolViolation, "The server sent a reply to no command: " + reply.summary(), reply), false);
    }
    return;
  }
  const Pending answered = pending_.front();
  pending_.pop_front();

  if (answered.answers == State::Quit) {
    closeNow(true);
    return;
  }
  if (failing_) return;  // a batch's replies after a fatal error: logged above, nothing more
  if (reply.code == reply_code::ServiceNotAvailable) {
    fail(Error(ErrorCode::ServiceNotAvailable, "The server is closing the connection (421): " + reply.text(), reply), false);
    return;
  }

  switch (answered.answers) {
    case State::Greeting: onGreetingReply(reply); break;
    case State::Ehlo: onEhloReply(reply); break;
    case State::Helo: onHeloReply(reply); break;
    case State::StartTls: onStartTlsReply(reply); break;
    case State::Auth: onAuthReply(reply); break;
    case State::Mail: onMailReply(reply); break;
    case State::Rcpt: onRcptReply(reply, answered.index); break;
    case State::Data: onDataReply(reply); break;
    case State::DataEnd: onDataEndReply(reply); break;
    case State::Bdat: onBdatReply(reply, answered.index); break;
    case State::Rset: onRsetReply(reply); break;
    case State::Noop: onNoopReply(reply); break;
    case State::Quit: break;  // handled above
    // No command is sent in these states, so no reply answers them.
    case State::Idle: case State::Connecting: case State::TlsHandshake: case State::Ready: case State::Body:
    case State::Closed:
      break;
  }
}

void Session::onGreetingReply(const Reply& reply) {
  if (reply.code == reply_code::ServiceReady) {
    afterGreeting();
    return;
  }
  if (reply.code == reply_code::NoServiceHere) {
    // RFC 5321 §3.1: the server will not talk to us; we should still send QUIT and wait.
    fail(Error(ErrorCode::ServerRefused, "The server refuses this connection (554): " + reply.text(), reply));
    return;
  }
  if (reply.isCompletion())
    fail(Error(ErrorCode::ProtocolViolation, "The greeting must be 220, not " + std::to_string(reply.code) + ".", reply));
  else
    fail(Error(ErrorCode::ServerReply, "The server's greeting is an error: " + reply.text(), reply));
}

void Session::afterGreeting() {
  if (stopIf(Phase::Connect)) return;
  if (tlsActive_ && stopIf(Phase::Tls)) return;  // implicit TLS: the handshake came before the greeting
  performEhlo();
}

void Session::performEhlo() {
  const std::string name = params_.ehloName.empty() ? defaultEhloName(connection_) : params_.ehloName;
  auto line = command::ehlo(name);
  if (!line) {
    fail(Error(line.error().code(), "EHLO name: " + line.error().explanation()));
    return;
  }
  sendCommand(*line, State::Ehlo);
  setState(State::Ehlo);
}

void Session::performHelo() {
  const std::string name = params_.ehloName.empty() ? defaultEhloName(connection_) : params_.ehloName;
  auto line = command::helo(name);
  if (!line) {
    fail(Error(line.error().code(), "HELO name: " + line.error().explanation()));
    return;
  }
  sendCommand(*line, State::Helo);
  setState(State::Helo);
}

void Session::onEhloReply(const Reply& reply) {
  if (reply.isCompletion()) {
    capabilities_ = Capabilities::fromEhloReply(reply);
    post(CapabilitiesReceived{capabilities_, tlsActive_});
    std::string offered;
    for (const auto& entry : capabilities_.entries()) {
      offered += offered.empty() ? "" : ", ";
      offered += entry.keyword;
      for (const auto& param : entry.params) offered += " " + param;
    }
    note(TranscriptKind::Info, "The server offers: " + (offered.empty() ? std::string("no extensions") : offered));
    afterEhlo();
    return;
  }
  if (reply.isPermanent() && !tlsActive_) {
    note(TranscriptKind::Info, "EHLO was refused; trying the older HELO, which offers no extensions (RFC 5321 §4.1.1.1).");
    performHelo();
    return;
  }
  fail(Error(ErrorCode::ServerReply, "The server refused EHLO: " + reply.text(), reply));
}

void Session::onHeloReply(const Reply& reply) {
  if (!reply.isCompletion()) {
    fail(Error(ErrorCode::ServerReply, "The server refused HELO too: " + reply.text(), reply));
    return;
  }
  capabilities_ = Capabilities();
  post(CapabilitiesReceived{capabilities_, tlsActive_});
  note(TranscriptKind::Info, "HELO accepted: this server offers no extensions (no STARTTLS, no AUTH, no SIZE).");
  afterEhlo();
}

void Session::afterEhlo() {
  const bool wantsTls = params_.security == SecurityMode::StartTls || params_.security == SecurityMode::StartTlsIfOffered;
  if (wantsTls && !tlsActive_ && !startTlsAttempted_) {
    if (capabilities_.supportsStartTls()) {
      performStartTls();
      return;
    }
    if (params_.security == SecurityMode::StartTls) {
      fail(Error(ErrorCode::StartTlsNotOffered,
                 "The server does not offer STARTTLS, so SMTPc stops before sending anything secret. " +
                     std::string(advice::kTryImplicitTlsOrAnotherPort) +
                     "; otherwise this server cannot encrypt the connection."));
      return;
    }
    note(TranscriptKind::Error, "The server does not offer STARTTLS: going on WITHOUT encryption, as the "
                                "if-offered mode allows. Anyone on the path can read what follows.");
  } else if (params_.security == SecurityMode::None && capabilities_.supportsStartTls()) {
    note(TranscriptKind::Info, "The server offers STARTTLS, but security is set to none: going on in clear text.");
  }
  if (stopIf(Phase::Tls) || stopIf(Phase::Ehlo)) return;
  if (!params_.credentials.username.empty()) {
    performAuth();
    return;
  }
  afterAuth();
}

void Session::performStartTls() {
  startTlsAttempted_ = true;
  sendCommand(command::startTls(), State::StartTls);
  setState(State::StartTls);
}

void Session::onStartTlsReply(const Reply& reply) {
  if (reply.code == reply_code::ServiceReady) {
    // RFC 3207 §4.2 / CVE-2011-0411: anything after the 220 arrived before TLS and may have
    // been injected by an attacker; it must not be read as if it came inside TLS.
    if (const std::size_t extra = parser_.bufferedBytes(); extra > 0)
      note(TranscriptKind::Error, "The server sent " + std::to_string(extra) +
                                      " more bytes right after its 220; they are discarded (RFC 3207 §4.2: "
                                      "they could be an injection attack).");
    parser_.discardBuffered();
    note(TranscriptKind::Info, "Starting the TLS handshake: from here on the conversation is encrypted.");
    setState(State::TlsHandshake);
    flushWrites();
    outputs_.emplace_back(StartTlsAction{});
    return;
  }
  if (params_.security == SecurityMode::StartTls) {
    fail(Error(ErrorCode::SecureNotAvailable, "The server offered STARTTLS but could not start it: " + reply.text(), reply));
    return;
  }
  note(TranscriptKind::Error, "STARTTLS failed (" + reply.summary() + "): going on WITHOUT encryption, as the "
                              "if-offered mode allows.");
  afterEhlo();
}

void Session::enterReady() {
  setState(State::Ready);
  if (!readyAnnounced_) {
    readyAnnounced_ = true;
    post(SessionReady{});
  }
  if (!queue_.empty()) {
    beginMessage();
  } else if (quitRequested_) {
    performQuit();
  }
}

void Session::onNoopReply(const Reply& reply) {
  if (!reply.isCompletion()) {
    fail(Error(ErrorCode::ServerReply, "The server answered NOOP with an error: " + reply.text(), reply));
    return;
  }
  enterReady();
}

// ---------------------------------------------------------------------------------------------
// Ending

bool Session::stopIf(Phase reached) {
  if (params_.quitAfter != reached) return false;
  stoppedAfter_ = reached;
  note(TranscriptKind::Info, "Stopping after " + std::string(phaseName(reached)) + ", as asked.");
  performQuit();
  return true;
}

void Session::performQuit() {
  quitRequested_ = true;
  sendCommand(command::quit(), State::Quit);
  setState(State::Quit);
}

void Session::fail(Error error, bool sendQuit) {
  record(error);
  note(TranscriptKind::Error, error.explanation() + (error.reply() && error.explanation().find(error.reply()->text()) ==
                                                                          std::string::npos
                                                         ? " [server: " + error.reply()->summary() + "]"
                                                         : ""));
  if (transaction_) abandonMessage(error);
  failing_ = true;
  if (sendQuit && quitPossible(state_)) {
    performQuit();
    return;
  }
  closeNow(true);
}

void Session::closeNow(bool closeTransport) {
  if (state_ == State::Closed) return;
  flushWrites();
  if (closeTransport) outputs_.emplace_back(CloseAction{});
  pending_.clear();
  held_.clear();  // step mode: what was never sent stays unsent
  bodyHeld_ = replyHeld_ = false;
  pause_.reset();
  skipStep_.reset();
  sasl_.reset();
  failRemainingMessages();
  setState(State::Closed);
  post(Finished{firstError_, firstError_.isError() ? Phase::None : stoppedAfter_});
}

}  // namespace smtpc
