/// \file
/// smtpc::Session — the SMTP client protocol engine, sans I/O (DESIGN.md rule 1).
///
/// Implements RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920 (PIPELINING),
/// RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 2034/3463 (enhanced codes).
///
/// The session never touches a socket, a thread or a clock. The driver (smtpc::Client, the Qt and
/// wasm adapters, the test harness) feeds it:
/// ```
///   start(now)                  → it asks for a connection (ConnectAction)
///   onConnected(now, info)      the TCP connection is up
///   receive(now, bytes)         bytes from the server, split anywhere
///   onBytesFlushed(now, n)      n bytes we asked to write have left (flow control for DATA)
///   onTlsEstablished(now, info) / onTlsFailed(now, error)   after a StartTlsAction
///   onClosed(now, cause)        the connection ended (cause empty when the peer closed it)
///   onTimeout(now)              the time from nextDeadline() has come
/// ```
/// and after every input drains poll() until it returns nothing, carrying out each action
/// (connect, write, start TLS, close) in order and passing on each event. nextDeadline() then says
/// when to call onTimeout.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smtpc/body.h"
#include "smtpc/capabilities.h"
#include "smtpc/core_export.h"
#include "smtpc/dsn.h"
#include "smtpc/error.h"
#include "smtpc/pause.h"
#include "smtpc/reply.h"
#include "smtpc/sasl.h"
#include "smtpc/step.h"
#include "smtpc/tls.h"
#include "smtpc/transcript.h"

/// SMTPc: the SMTP engine (Session), its driver (Client), and everything that needs no I/O:
/// replies, capabilities, SASL, message composition, errors, TLS policy and the front-end model.
namespace smtpc {

// ---------------------------------------------------------------------------------------------
// What a user chooses

/// How the connection is protected (ConnectParams::security).
enum class SecurityMode {
  None,               ///< clear text throughout
  StartTlsIfOffered,  ///< opportunistic: TLS if the server offers it, else clear text (unsafe)
  StartTls,           ///< STARTTLS required (RFC 3207); default port 587
  ImplicitTls,        ///< TLS from the first byte (RFC 8314 "SMTPS"); default port 465
};
/// "none", "starttls-if-offered", "starttls", "tls"
SMTPC_CORE_EXPORT std::string_view securityModeName(SecurityMode mode);
/// The mode named as securityModeName() names it, or nullopt.
SMTPC_CORE_EXPORT std::optional<SecurityMode> securityModeFromName(std::string_view name);
SMTPC_CORE_EXPORT std::uint16_t defaultPort(SecurityMode mode);  ///< 25 / 587 / 587 / 465

/// Where to stop on purpose (swaks' --quit-after): a connection *test* stops before sending mail.
enum class Phase {
  None,     ///< do not stop: the whole conversation
  Connect,  ///< after the greeting
  Tls,      ///< after the TLS handshake
  Ehlo,     ///< after EHLO (the second one, after STARTTLS)
  Auth,     ///< after AUTH
  Mail,     ///< after MAIL FROM
  Rcpt      ///< after RCPT TO
};
/// "none", "connect", "tls", "ehlo", "auth", "mail", "rcpt"
SMTPC_CORE_EXPORT std::string_view phaseName(Phase phase);
/// The phase named as phaseName() names it, or nullopt.
SMTPC_CORE_EXPORT std::optional<Phase> phaseFromName(std::string_view name);

/// What to do when the server refuses some of a message's recipients.
enum class RecipientPolicy {
  AbortIfAnyRejected,  ///< send nothing unless every recipient is accepted (the default)
  SendToAccepted,      ///< deliver to those accepted, report the others
};

/// RFC 5321 §4.5.3.2 defaults, per phase. `uniform()` sets them all (the CLI's --timeout).
struct SMTPC_CORE_EXPORT Timeouts {
  Duration connect = std::chrono::seconds(30);          ///< TCP connect
  Duration tlsHandshake = std::chrono::seconds(60);     ///< the TLS handshake
  Duration greeting = std::chrono::minutes(5);          ///< §4.5.3.2.1
  Duration command = std::chrono::minutes(5);           ///< EHLO, STARTTLS, AUTH, RSET, NOOP
  Duration mail = std::chrono::minutes(5);              ///< §4.5.3.2.2
  Duration rcpt = std::chrono::minutes(5);              ///< §4.5.3.2.3
  Duration dataInitiation = std::chrono::minutes(2);    ///< §4.5.3.2.4
  Duration dataBlock = std::chrono::minutes(3);         ///< §4.5.3.2.5
  Duration dataTermination = std::chrono::minutes(10);  ///< §4.5.3.2.6
  Duration quit = std::chrono::seconds(30);             ///< the answer to QUIT
  /// Every wait set to `each`.
  static Timeouts uniform(Duration each);
};

/// Everything a session needs to know before it starts: the server, the security mode and TLS
/// settings, the login, and the limits. Secure by default: STARTTLS required, certificates verified,
/// no password without TLS.
struct ConnectParams {
  std::string host;  ///< the server's name or address
  std::uint16_t port = 0;  ///< 0: the security mode's default
  SecurityMode security = SecurityMode::StartTls;  ///< how the connection is protected
  TlsConfig tls;  ///< verification, pins, client certificate
  Credentials credentials;  ///< AUTH happens only when credentials.username is not empty
  AuthMechanism authMechanism = AuthMechanism::Auto;  ///< how to log in
  bool allowPlaintextAuth = false;  ///< allow a login without TLS (it exposes the secret: off by default)
  std::string ehloName;  ///< empty: the local address as an address literal (RFC 5321 §4.1.4)
  Phase quitAfter = Phase::None;  ///< stop on purpose after this phase (a connection test)
  RecipientPolicy recipientPolicy = RecipientPolicy::AbortIfAnyRejected;  ///< when some recipients are refused
  bool usePipelining = true;  ///< pipeline MAIL, RCPT and DATA when the server offers PIPELINING
  /// Send the content in BDAT chunks when the server offers CHUNKING (RFC 3030), and a binary
  /// content unchanged when it offers BINARYMIME too; false: always DATA.
  bool useChunking = true;
  /// Step mode (smtpc/pause.h): stop before each command and after each reply, and never pipeline,
  /// so that a learner can watch each command. Session::setStepMode changes it during a run.
  bool stepThrough = false;
  Timeouts timeouts;  ///< how long each wait may take
  ReplyLimits replyLimits;  ///< how much the server may send in one reply
  /// Flow control: how many body octets may be written but not yet flushed.
  std::size_t bodyWindow = 256 * 1024;

  /// The port connected to: `port`, or the mode's default.
  std::uint16_t effectivePort() const { return port ? port : defaultPort(security); }
};

/// The SMTP envelope (RFC 5321 §2.3.1): who sends, who receives. The headers (From:, To:) are
/// the message's business and may differ.
struct Envelope {
  std::string from;                     ///< bare address; empty = the null reverse path "<>"
  std::vector<std::string> recipients;  ///< bare addresses, at least one
  DsnRequest dsn;                       ///< delivery reports asked (RFC 3461); default: none
};

/// A message as the engine sends it: an envelope and a body.
struct OutgoingMessage {
  Envelope envelope;                 ///< MAIL FROM and RCPT TO
  std::shared_ptr<BodySource> body;  ///< the content after DATA
};

// ---------------------------------------------------------------------------------------------
/// The engine's states: what we are waiting for. One row per state; columns:
/// ```
///   state        the State
///   description  what a person reads ("waiting for the greeting")
///   timer        the Timeouts member that limits the wait (RFC 5321 §4.5.3.2); nullptr: no timer
///   quit         whether QUIT may still be sent when a fatal error happens here: not before the
///                greeting can come, not during TLS's handshake, not in the middle of the message
///                (the server would read QUIT as content; closing drops the message, §3.8), and not
///                once QUIT was sent or the connection is gone
///   step         the step bar's step while in this state; std::nullopt: the bar does not move
///                (EHLO after STARTTLS shows as EhloAgain)
/// ```
/// The name table, the timers, the QUIT rule and the step bar all come from this list. A reply is
/// handled by the state it answers (the command sent in that state), so commands have no list of
/// their own. Adding a state is one row here and, if it sends a command, its on<Step>Reply.
#define SMTPC_SESSION_STATES(X)                                                                                      \
  X(Idle,         "not started",                            nullptr,                    false, std::nullopt)         \
  X(Connecting,   "connecting",                             &Timeouts::connect,         false, Step::Connect)        \
  X(TlsHandshake, "TLS handshake",                          &Timeouts::tlsHandshake,    false, Step::TlsHandshake)   \
  X(Greeting,     "waiting for the greeting",               &Timeouts::greeting,        true,  Step::Greeting)       \
  X(Ehlo,         "EHLO",                                   &Timeouts::command,         true,  Step::Ehlo)           \
  X(Helo,         "HELO",                                   &Timeouts::command,         true,  Step::Ehlo)           \
  X(StartTls,     "STARTTLS",                               &Timeouts::command,         true,  Step::StartTls)       \
  X(Auth,         "AUTH",                                   &Timeouts::command,         true,  Step::Auth)           \
  X(Ready,        "ready",                                  nullptr,                    true,  std::nullopt)         \
  X(Mail,         "MAIL FROM",                              &Timeouts::mail,            true,  Step::Mail)           \
  X(Rcpt,         "RCPT TO",                                &Timeouts::rcpt,            true,  Step::Rcpt)           \
  X(Data,         "DATA",                                   &Timeouts::dataInitiation,  true,  Step::Data)           \
  X(Body,         "sending the message",                    &Timeouts::dataBlock,       false, Step::Data)           \
  X(Bdat,         "sending the message in BDAT chunks",     &Timeouts::dataBlock,       true,  Step::Bdat)           \
  X(DataEnd,      "waiting for the message to be accepted", &Timeouts::dataTermination, true,  Step::Data)           \
  X(Rset,         "RSET",                                   &Timeouts::command,         true,  std::nullopt)         \
  X(Noop,         "NOOP",                                   &Timeouts::command,         true,  std::nullopt)         \
  X(Quit,         "QUIT",                                   &Timeouts::quit,            false, Step::Quit)           \
  X(Closed,       "closed",                                 nullptr,                    false, std::nullopt)

/// What the engine waits for: one value per row of #SMTPC_SESSION_STATES, where the row's
/// description column says it in words (stateDescription()).
enum class State {
#define SMTPC_X(name, text, timer, quit, step) name,
  SMTPC_SESSION_STATES(SMTPC_X)
#undef SMTPC_X
};
SMTPC_CORE_EXPORT std::string_view stateName(State state);         ///< "Ehlo"
SMTPC_CORE_EXPORT std::string_view stateDescription(State state);  ///< "EHLO"
/// How long the session waits in `state` (zero: no timer).
SMTPC_CORE_EXPORT Duration timeoutFor(const Timeouts& timeouts, State state);
/// Whether a fatal error in `state` still lets the session say QUIT before it closes.
SMTPC_CORE_EXPORT bool quitPossible(State state);
/// The step bar's step for `state`, if it has one.
SMTPC_CORE_EXPORT std::optional<Step> stepOf(State state);

/// The two ends of the TCP connection, as the transport saw them.
struct ConnectionInfo {
  std::string localAddress;  ///< "192.0.2.1" or "2001:db8::1"; used for the default EHLO name
  std::string peerAddress;   ///< the server's address
};

// ---------------------------------------------------------------------------------------------
// Outputs: actions for the driver, and events for whoever watches.

/// Action: open a TCP connection; answer with onConnected() or onClosed().
struct ConnectAction {
  std::string host;        ///< the server's name or address
  std::uint16_t port = 0;  ///< the port
};
/// Action: send these bytes, in order; report them with onBytesFlushed() as they leave.
struct WriteAction {
  std::string bytes;  ///< exactly these, nothing added
};
/// Action: start the TLS handshake on the open connection; answer with onTlsEstablished() or
/// onTlsFailed().
struct StartTlsAction {};
/// Action: close the connection. The session is over; no answer is needed.
struct CloseAction {};

/// Event: the engine moved from one state to another.
struct StateChanged {
  State from;  ///< the state it left
  State to;    ///< the state it is in now
};
/// Event: the server's EHLO reply, read.
struct CapabilitiesReceived {
  Capabilities capabilities;  ///< what the server offers
  bool encrypted = false;     ///< the reply came inside TLS
};
/// Event: TLS is up, and what the handshake found.
struct TlsReady {
  TlsInfo info;  ///< what was negotiated and verified
};
/// Event: the login worked.
struct AuthSucceeded {
  AuthMechanism mechanism;  ///< the mechanism used
};
/// Event: connected, greeted, TLS and AUTH done as asked: messages can be sent.
struct SessionReady {};
/// Event: the server's answer to one RCPT TO.
struct RecipientResult {
  std::size_t message = 0;  ///< the message's index (Session::send())
  std::string address;      ///< the recipient
  Reply reply;              ///< the server's answer
  bool accepted = false;    ///< a 2xx answer
};
/// Event: how much of a message's content has been sent.
struct MessageProgress {
  std::size_t message = 0;             ///< the message's index
  std::uint64_t sent = 0;              ///< octets of content read and written so far
  std::optional<std::uint64_t> total;  ///< the content's size, when known
};
/// Event: a message's outcome.
struct MessageResult {
  std::size_t message = 0;                  ///< the message's index
  Error error;                              ///< None: the server accepted the message
  std::vector<RecipientResult> recipients;  ///< each recipient's answer
  std::optional<Reply> reply;               ///< the final reply to the message (its queue id, often)
  /// Delivery reports were asked, but the server does not offer DSN: the message went without
  /// them, as DsnRequest::ifNotOffered allowed.
  bool dsnOmitted = false;
};
/// The session is over. `error` is the first error of the whole session; cleanup never replaces it.
struct Finished {
  Error error;                       ///< none: everything asked for was done
  Phase stoppedAfter = Phase::None;  ///< set when quitAfter ended the session as asked
};

/// What the session tells whoever watches: progress, the transcript, results. Finished is last.
using Event = std::variant<StateChanged, TranscriptEntry, CapabilitiesReceived, TlsReady, AuthSucceeded,
                           SessionReady, RecipientResult, MessageProgress, MessageResult, Paused, Finished>;
/// What poll() hands out: an action for the driver to carry out, or an Event to pass on.
using Output = std::variant<ConnectAction, WriteAction, StartTlsAction, CloseAction, Event>;

// ---------------------------------------------------------------------------------------------

/// The SMTP client engine: one session with one server, from connecting to QUIT, sans I/O. Inputs
/// are method calls with the driver's time; outputs come from poll(). See the file's description for
/// the order, and docs/embedding.md for a driver.
class SMTPC_CORE_EXPORT Session {
 public:
  /// A session that will connect as `params` say; nothing happens before start().
  explicit Session(ConnectParams params);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // --- commands from the user

  /// Begins: the first output is a ConnectAction to params().host on effectivePort(). An error,
  /// and nothing begins, when the params cannot work (no host, a bad name to verify) or it was
  /// started before.
  Error start(Time now);
  /// Queues a message; checked at once (addresses, a body, at least one recipient). Its result
  /// comes as a MessageResult event. Returns the message's index.
  Result<std::size_t> send(Time now, OutgoingMessage message);
  /// QUIT once every queued message is done.
  void quit(Time now);
  /// NOOP when ready (keeps a connection alive; checks it still works).
  Error noop(Time now);
  /// Stops now: closes the connection (no QUIT in the middle of DATA: the server then drops the
  /// unfinished message, RFC 5321 §3.8). Finished carries Cancelled unless an error came first.
  void cancel(Time now);

  // --- step mode (smtpc/pause.h): while paused nothing is written and no time-out runs; each of
  // these goes on, and the wait for the server's answer starts again from `now`.

  /// Turns step mode on (the next command or reply pauses) or off (as runToEnd()), during a run.
  void setStepMode(Time now, bool on);
  /// Step mode is on.
  bool stepMode() const { return stepping_; }
  /// Goes on to the next pause.
  void next(Time now);
  /// Goes on until a pause of another step of the step bar (a step's commands and replies pass).
  void continueToNextStep(Time now);
  /// Leaves step mode and goes on to the end without pausing.
  void runToEnd(Time now);
  /// The pause the session stands at, or nullopt.
  const std::optional<Pause>& pause() const { return pause_; }

  // --- inputs from the transport (each takes the driver's clock, `now`)

  /// The TCP connection is up.
  void onConnected(Time now, const ConnectionInfo& info);
  /// Bytes from the server (decrypted when TLS is up), split anywhere.
  void receive(Time now, std::string_view bytes);
  /// `count` bytes of the WriteActions have left: the flow control that keeps the body streaming
  /// within ConnectParams::bodyWindow.
  void onBytesFlushed(Time now, std::size_t count);
  /// The handshake after a StartTlsAction finished and the certificate was accepted (tls::decide()).
  void onTlsEstablished(Time now, const TlsInfo& info);
  /// The handshake failed or the certificate was refused: `error` says which.
  void onTlsFailed(Time now, const Error& error);
  /// The connection ended or could not be made; `cause` is empty when the peer closed it cleanly.
  void onClosed(Time now, const Error& cause = {});
  /// The time nextDeadline() named has come (an earlier call does nothing).
  void onTimeout(Time now);

  // --- outputs

  /// The next thing to do or to pass on, or nullopt when there is nothing more. Drain it after every
  /// call above, carrying out the actions in order.
  std::optional<Output> poll();
  /// When to call onTimeout(), or nullopt: no timer (idle, ready, or over).
  /// Nothing while paused (RFC 5321's client time-outs are suspended while a learner reads).
  std::optional<Time> nextDeadline() const { return gated() ? std::nullopt : deadline_; }

  // --- what it knows

  /// What it waits for now.
  State state() const { return state_; }
  /// The parameters it runs with.
  const ConnectParams& params() const { return params_; }
  /// What the server offers now (forgotten and asked again after STARTTLS).
  const Capabilities& capabilities() const { return capabilities_; }
  /// The connection is encrypted.
  bool tlsActive() const { return tlsActive_; }
  /// The first error of the session, or none: what Finished will carry.
  const Error& firstError() const { return firstError_; }
  /// Closed: Finished has been handed out (or is waiting in poll()).
  bool finished() const { return state_ == State::Closed; }
  /// Bytes received but not yet read as a whole reply (a partial line, or what came after the
  /// reply that ended the session). Drivers and tests use it to notice a peer's unread words.
  std::size_t unreadBytes() const { return parser_.bufferedBytes(); }

 private:
  // A command sent whose reply has not come yet: the state that waits for that reply (what was
  // sent) and, for RCPT, which recipient it names.
  struct Pending {
    State answers;
    std::size_t index = 0;
  };
  // The message under way (core/src/transaction.h): an internal, not exported from a shared core.
  struct SMTPC_CORE_NO_EXPORT Transaction;

  // The only way to change state: records it, emits StateChanged, arms the phase's timer.
  void setState(State next);

  void post(Event event);
  void note(TranscriptKind kind, std::string text);
  void sendCommand(const std::string& line, State answers, std::size_t index = 0);
  void sendMasked(const std::string& line, std::string shown, State answers);
  void flushWrites();

  // Step mode (session_step.cpp): a command held until the learner goes on; the gate that turns
  // held commands and the message content into pauses, and the pause after a reply.
  struct Held {
    std::string line;   // as written, with CRLF
    std::string shown;  // as the transcript shows it
    State answers;
    std::size_t index = 0;
  };
  bool gated() const { return pause_.has_value() || !held_.empty() || bodyHeld_ || replyHeld_; }
  void hold(std::string line, std::string shown, State answers, std::size_t index);
  void release();
  void openGate();
  bool pauseAfterReply(const Reply& reply);
  void resume();
  bool showPause(Pause pause);
  Pause commandPause(const Held& held) const;
  Pause bodyPause() const;
  Pause replyPause(const Reply& reply, State answers) const;
  std::optional<Step> stepOfCommand(State answers) const;
  void drainReplies();
  void noteReply(const Reply& reply);     // the transcript's lines for a reply
  void dispatchReply(const Reply& reply);  // the one dispatch: by the state the reply answers

  // perform<Step>: send a command and set the state; on<Step>Reply: handle its answer.
  // The connection (session.cpp): greeting, EHLO/HELO, STARTTLS, AUTH, NOOP, QUIT.
  void performEhlo();
  void performHelo();
  void performStartTls();
  void performAuth();
  void performQuit();
  void rearm();
  void onGreetingReply(const Reply& reply);
  void onEhloReply(const Reply& reply);
  void onHeloReply(const Reply& reply);
  void onStartTlsReply(const Reply& reply);
  void onAuthReply(const Reply& reply);
  void onNoopReply(const Reply& reply);
  void afterGreeting();
  void afterEhlo();
  void afterAuth();
  void enterReady();
  bool stopIf(Phase reached);

  // The message transaction (transaction.cpp): MAIL, RCPT, DATA, the content, RSET.
  void beginMessage();
  void rejectLocally(Error error);
  void onMailReply(const Reply& reply);
  void onRcptReply(const Reply& reply, std::size_t index);
  void afterRecipients();
  void onDataReply(const Reply& reply);
  void streamBody();
  // CHUNKING (RFC 3030), in transaction_chunks.cpp: BDAT in place of DATA and the final dot.
  void startChunks();
  void streamChunks();
  void onBdatReply(const Reply& reply, std::size_t chunk);
  void noteChunks(bool withLast);
  bool quietChunkReply(const Reply& reply) const;
  void noteBeforeChunkReply();
  void onDataEndReply(const Reply& reply);
  void onRsetReply(const Reply& reply);
  void failMessage(Error error);
  void finishMessage(std::optional<Reply> reply);
  // A fatal error during the transaction: the message's result, with that error unless it had one.
  void abandonMessage(const Error& error);
  void failRemainingMessages();

  // Connection-level failure: record (first error wins), then QUIT if the connection is still
  // usable and we are not inside DATA, else close.
  void fail(Error error, bool sendQuit = true);
  void closeNow(bool closeTransport = true);
  void record(const Error& error);

  ConnectParams params_;
  State state_ = State::Idle;
  Time now_{0};
  std::optional<Time> deadline_;
  std::deque<Output> outputs_;
  std::string writeBuffer_;  // commands are gathered here, so a pipelined batch is one write
  std::deque<Pending> pending_;
  ReplyParser parser_;
  Reply reply_;
  Capabilities capabilities_;
  ConnectionInfo connection_;
  bool tlsActive_ = false;
  bool heardSinceTls_ = false;  // a reply arrived after the handshake (see onClosed)
  bool startTlsAttempted_ = false;
  bool failing_ = false;  // a fatal error was recorded; replies still in flight are only logged
  bool readyAnnounced_ = false;
  bool quitRequested_ = false;
  Phase stoppedAfter_ = Phase::None;
  Error firstError_;
  std::unique_ptr<sasl::Exchange> sasl_;
  bool authCancelled_ = false;
  Error authError_;

  std::deque<std::pair<std::size_t, OutgoingMessage>> queue_;
  std::size_t nextMessageIndex_ = 0;
  std::unique_ptr<Transaction> transaction_;
  std::uint64_t unflushed_ = 0;

  bool stepping_ = false;
  std::optional<Pause> pause_;
  std::deque<Held> held_;        // commands not yet sent, oldest first
  bool bodyHeld_ = false;        // the message content waits for the learner
  bool replyHeld_ = false;       // reply_ was read and waits for the learner before it is acted on
  std::string answeredShown_;    // the last command sent, as shown: what an AfterReply pause names
  std::optional<Step> skipStep_;  // continueToNextStep(): pauses of this step pass
  std::size_t pauses_ = 0;
};

}  // namespace smtpc
