/// \file
/// smtpc::Client: drives a Session over a Transport and a Timer, with µC/SMTPc's shape made
/// asynchronous: connect(params), sendMsg(message), disconnect(), sendMail(params, message).
/// Results arrive as events (MessageResult per message, Finished at the end).
#pragma once

#include <functional>
#include <memory>

#include "smtpc/core_export.h"
#include "smtpc/session.h"
#include "smtpc/transport.h"

namespace smtpc {

/// The engine (Session) over a Transport and a Timer: µC/SMTPc's calls, asynchronous. Each call
/// returns at once; what happens next arrives as events through the observer. Single-threaded: call
/// it, and let the transport and the timer call back, on one thread. See docs/embedding.md.
class SMTPC_CORE_EXPORT Client final : private TransportHandler, private TimerHandler {
 public:
  /// Receives every event of the session (transcript lines, state changes, results).
  using Observer = std::function<void(const Event&)>;

  /// Drives sessions over `transport` and `timer`, which must outlive the client; it becomes their handler.
  Client(Transport& transport, Timer& timer);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Where events go; set before connect().
  void setObserver(Observer observer) { observer_ = std::move(observer); }

  /// SMTPc_Connect: opens the session (TLS and AUTH as the params say). Events report progress;
  /// SessionReady when messages can be sent, Finished if it ends. A new connect() replaces a
  /// finished session; while one is running it is refused.
  Error connect(ConnectParams params);
  /// SMTPc_SendMsg: queues a message on the open session; its MessageResult reports the outcome.
  Result<std::size_t> sendMsg(OutgoingMessage message);
  /// SMTPc_Disconnect: QUIT after the queued messages.
  void disconnect();
  /// SMTPc_SendMail: connect, send one message, disconnect.
  Error sendMail(ConnectParams params, OutgoingMessage message);
  /// NOOP when the session is ready: keeps the connection alive and checks that it still works.
  Error noop();
  /// Stops now: closes the connection (no QUIT in the middle of DATA). Finished carries Cancelled
  /// unless an error came first.
  void cancel();

  /// Step mode (smtpc/pause.h): the session stops before each command and after each reply, and
  /// the observer gets a Paused event each time. Callable before connect() (the next session
  /// starts in step mode) and during a run; off goes on as runToEnd().
  void setStepMode(bool on);
  /// Step mode is on (for the running session, or the next one).
  bool stepMode() const { return stepMode_; }
  /// Paused: go on to the next pause.
  void next();
  /// Paused: go on until the next step of the step bar begins (its commands and replies pass).
  void continueToNextStep();
  /// Leaves step mode and runs to the end without pausing.
  void runToEnd();
  /// The pause the session stands at, or null.
  const Pause* pause() const { return session_ && session_->pause() ? &*session_->pause() : nullptr; }

  /// The current (or last) session, or null before the first connect().
  const Session* session() const { return session_.get(); }
  /// A session is under way (connect() was called and Finished has not come).
  bool running() const { return session_ && !session_->finished(); }

 private:
  void onTransportConnected(const ConnectionInfo& info) override;
  void onTransportData(std::string_view bytes) override;
  void onTransportBytesWritten(std::size_t count) override;
  void onTransportTlsEstablished(const TlsInfo& info) override;
  void onTransportTlsFailed(const Error& error) override;
  void onTransportClosed(const Error& cause) override;
  void onTimerFired() override;

  // Carries out the session's outputs until there are none, then sets the timer.
  // Re-entrant calls (a transport or observer callback inside) only ask for another round.
  void drive();

  Transport& transport_;
  Timer& timer_;
  Observer observer_;
  std::unique_ptr<Session> session_;
  bool stepMode_ = false;
  bool driving_ = false;
  bool again_ = false;
};

}  // namespace smtpc
