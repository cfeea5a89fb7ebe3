/// \file
/// smtpc::Console — "type it yourself" (issue 17, part 3): a learner types the SMTP commands, as
/// with telnet, and the console sends them as typed; it does only what a person cannot do by hand
/// (the TLS handshake after STARTTLS's 220, base64 for AUTH, dot-stuffing in DATA), and warns
/// before a command that cannot work in the current state. Sans I/O, like smtpc::Session:
/// ```
///   start(now)                       → ConnectAction
///   onConnected / receive / onTlsEstablished / onTlsFailed / onClosed / onTimeout   (the driver)
///   type(now, line [, confirmed])    a typed line: sent, or a ConsoleWarning back (not sent)
///   provideCredentials(now, user, password) / cancelCredentials(now)   after a CredentialRequest
///   poll()                           actions (connect, write, start TLS, close) and ConsoleEvents
/// ```
/// The transcript is the engine's (TranscriptEntry: Client/Server/Info/Tls/Error, encrypted), with
/// AUTH payloads and answers to 334 masked as the engine masks them, so explainLine() works on it
/// and it can be shown or saved. ConsoleClient drives it over a Transport and a Timer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "smtpc/capabilities.h"
#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/reply.h"
#include "smtpc/secret.h"
#include "smtpc/session.h"
#include "smtpc/tls.h"
#include "smtpc/transcript.h"
#include "smtpc/transport.h"

namespace smtpc {

/// Where to connect the console, and how long to wait.
struct ConsoleParams {
  std::string host;          ///< the server's name or address
  std::uint16_t port = 0;    ///< 0: 465 with implicit TLS, else 587
  bool implicitTls = false;  ///< TLS from the first byte (RFC 8314), else clear text until STARTTLS
  TlsConfig tls;             ///< verification, pins, client certificate (core's policy, via the transport)
  Duration connectTimeout = std::chrono::seconds(30);  ///< TCP connect
  Duration tlsTimeout = std::chrono::seconds(60);      ///< the TLS handshake
  /// How long a typed command's reply may take (RFC 5321 §4.5.3.2: at least 5 minutes).
  Duration replyTimeout = std::chrono::minutes(5);
  ReplyLimits replyLimits;  ///< how much the server may send in one reply
  /// The port connected to.
  std::uint16_t effectivePort() const { return port ? port : (implicitTls ? 465 : 587); }
};

/// What the console waits for; ConsoleStateChanged reports each change.
enum class ConsoleState {
  Idle,         ///< not started
  Connecting,   ///< TCP connect
  TlsHandshake, ///< TLS handshake (implicit, or after STARTTLS's 220)
  Waiting,      ///< a reply is awaited (the greeting, or a typed command's)
  Command,      ///< nothing awaited: type a command
  Credentials,  ///< the AUTH helper waits for provideCredentials()
  Content,      ///< after 354: typed lines are the message, "." ends it
  Closed,       ///< over
};
/// "idle", "connecting", "tls-handshake", "waiting", "command", "credentials", "content", "closed"
SMTPC_CORE_EXPORT std::string_view consoleStateName(ConsoleState state);

/// Event and type()'s answer: a typed line that cannot work now, not sent. type(line, true) sends
/// it anyway, unless `canSend` is false (CR/LF/NUL in the line, no connection).
struct ConsoleWarning {
  std::string line;       ///< the line as typed (an AUTH payload masked)
  std::string why;        ///< a sentence or two a learner reads, ending with the reference
  std::string reference;  ///< "RFC 5321 §4.1.4"
  bool canSend = true;    ///< false: refused, confirming does not help
};
/// Event: the AUTH helper needs a user name and a password: answer with provideCredentials() or
/// cancelCredentials().
struct CredentialRequest {
  std::string mechanism;  ///< "PLAIN" or "LOGIN"
  std::string why;        ///< what the helper will do with them
};
/// Event: the console's state changed.
struct ConsoleStateChanged {
  ConsoleState from;  ///< the state it left
  ConsoleState to;    ///< the state it is in now
};
/// Event: the console is over (last event). `error` is empty after QUIT and a clean close.
struct ConsoleFinished {
  Error error;  ///< none: ended as asked
};

/// What the console tells whoever watches.
using ConsoleEvent = std::variant<TranscriptEntry, ConsoleWarning, CredentialRequest, ConsoleStateChanged, TlsReady,
                                  ConsoleFinished>;
/// What Console::poll() hands out: an action for the driver, or an event to pass on.
using ConsoleOutput = std::variant<ConnectAction, WriteAction, StartTlsAction, CloseAction, ConsoleEvent>;

/// The console, sans I/O: typed lines and server bytes in, actions and events out.
class SMTPC_CORE_EXPORT Console {
 public:
  /// A console for `params`; start() connects.
  explicit Console(ConsoleParams params);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  /// Asks for the connection (ConnectAction); refused once started or without a host.
  Error start(Time now);
  /// The TCP connection is up.
  void onConnected(Time now, const ConnectionInfo& info);
  /// Bytes from the server, split anywhere.
  void receive(Time now, std::string_view bytes);
  /// The TLS handshake asked for by a StartTlsAction succeeded.
  void onTlsEstablished(Time now, const TlsInfo& info);
  /// The TLS handshake failed: the console ends.
  void onTlsFailed(Time now, const Error& error);
  /// The connection ended (`cause` empty: the peer closed it).
  void onClosed(Time now, const Error& cause = {});
  /// nextDeadline() has come: the reply (or connect, or handshake) took too long; the console ends.
  void onTimeout(Time now);

  /// A typed line (without CRLF). Sent as typed (in Content state: as message content, dot-stuffed)
  /// unless check() finds a problem: then nothing is sent and the warning is returned (and posted).
  /// `confirmed`: the learner saw the warning and sends anyway (unless the warning's canSend is false).
  /// "AUTH PLAIN" or "AUTH LOGIN" without an argument starts the AUTH helper (CredentialRequest).
  std::optional<ConsoleWarning> type(Time now, std::string_view line, bool confirmed = false);
  /// What type(line) would warn about now, without sending.
  std::optional<ConsoleWarning> check(std::string_view line) const;
  /// The AUTH helper's answer: builds and sends the base64 payload, explains it; the password never
  /// reaches the transcript. Ignored unless state() is Credentials.
  void provideCredentials(Time now, std::string user, Secret password);
  /// The learner gave up the AUTH helper: nothing is sent (or, mid-LOGIN, "*" cancels, RFC 4954 §4).
  void cancelCredentials(Time now);
  /// Closes the connection now (the learner's Ctrl-D without QUIT): Finished with Cancelled.
  void close(Time now);

  /// The next action or event, or nullopt. Drain it after every call above.
  std::optional<ConsoleOutput> poll();
  /// When to call onTimeout(), or nullopt.
  std::optional<Time> nextDeadline() const { return deadline_; }

  ConsoleState state() const { return state_; }                    ///< what it waits for
  const ConsoleParams& params() const { return params_; }          ///< as given
  const Capabilities& capabilities() const { return capabilities_; } ///< the last EHLO's (forgotten on TLS)
  bool tlsActive() const { return tlsActive_; }                    ///< the connection is encrypted
  bool finished() const { return state_ == ConsoleState::Closed; } ///< over

 private:
  enum class Verb { Greeting, Ehlo, Helo, StartTls, Auth, Mail, Rcpt, Data, DataEnd, Rset, Noop, Quit, Other };
  enum class Helper { None, Plain, Login };

  void post(ConsoleEvent event) { outputs_.emplace_back(std::move(event)); }
  void note(TranscriptKind kind, std::string text);
  void send(const std::string& wire, std::string shown, std::optional<Verb> awaits);
  void sendContent(std::string_view line);
  void onReply(const Reply& reply);
  void onAuthChallenge(const Reply& reply);
  void finish(Error error, bool closeTransport);
  void settle();  // the state and the deadline after every input
  std::optional<ConsoleWarning> checkCommand(std::string_view line, std::string_view verb) const;

  ConsoleParams params_;
  Time now_{0};
  Time lastActivity_{0};  // the last send, reply, connect or handshake start: the deadline's origin
  bool started_ = false;
  bool over_ = false;
  ConsoleState state_ = ConsoleState::Idle;
  std::optional<Time> deadline_;
  std::deque<ConsoleOutput> outputs_;
  std::deque<Verb> pending_;
  ReplyParser parser_;
  Reply reply_;
  Capabilities capabilities_;
  bool connected_ = false;
  bool handshaking_ = false;
  bool tlsActive_ = false;
  bool greeted_ = false;
  bool ehloDone_ = false;
  bool authenticated_ = false;
  bool mailAccepted_ = false;
  int acceptedRecipients_ = 0;
  bool content_ = false;          // after 354, until "."
  bool dotStuffExplained_ = false;
  bool challengeOpen_ = false;    // a 334 awaits an answer (typed, or the LOGIN helper's)
  bool quitSent_ = false;
  Helper helper_ = Helper::None;
  bool helperWaiting_ = false;    // CredentialRequest posted, no answer yet
  std::string loginUser_;         // the LOGIN helper's answers, until their challenges come
  Secret loginPassword_;
  int loginStep_ = 0;
};

/// The console over a Transport and a Timer, as smtpc::Client drives a Session. Single-threaded.
class SMTPC_CORE_EXPORT ConsoleClient final : private TransportHandler, private TimerHandler {
 public:
  /// Receives every event of the console.
  using Observer = std::function<void(const ConsoleEvent&)>;
  /// Drives consoles over `transport` and `timer`, which must outlive it.
  ConsoleClient(Transport& transport, Timer& timer);
  ~ConsoleClient() override;
  ConsoleClient(const ConsoleClient&) = delete;
  ConsoleClient& operator=(const ConsoleClient&) = delete;

  /// Where events go; set before connect().
  void setObserver(Observer observer) { observer_ = std::move(observer); }
  /// Connects a new console (refused while one runs).
  Error connect(ConsoleParams params);
  /// Console::type(); nullopt when sent (or nothing runs: then a warning with canSend false).
  std::optional<ConsoleWarning> type(std::string_view line, bool confirmed = false);
  /// Console::provideCredentials().
  void provideCredentials(std::string user, Secret password);
  /// Console::cancelCredentials().
  void cancelCredentials();
  /// Console::close().
  void close();
  /// The current (or last) console, or null.
  const Console* console() const { return console_.get(); }
  /// A console is under way.
  bool running() const { return console_ && !console_->finished(); }

 private:
  void onTransportConnected(const ConnectionInfo& info) override;
  void onTransportData(std::string_view bytes) override;
  void onTransportBytesWritten(std::size_t) override {}
  void onTransportTlsEstablished(const TlsInfo& info) override;
  void onTransportTlsFailed(const Error& error) override;
  void onTransportClosed(const Error& cause) override;
  void onTimerFired() override;
  void drive();

  Transport& transport_;
  Timer& timer_;
  Observer observer_;
  std::unique_ptr<Console> console_;
  bool driving_ = false;
  bool again_ = false;
};

}  // namespace smtpc
