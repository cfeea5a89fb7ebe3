/// \file
/// QtClient: the SMTP client for Qt programs. A QObject that owns the engine, the QSslSocket
/// transport and the timer, and turns the engine's events into signals. Asynchronous: no call
/// blocks and no nested event loop runs. BlockingClient below is for simple programs.
#pragma once

#include <QObject>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "smtpc/client.h"
#include "smtpc/qt/qt_export.h"
#include "smtpc/qt/transport.h"

/// SMTPc for Qt programs: the engine over QSslSocket (QtClient, BlockingClient), the OAuth
/// sign-in and settings discovery driven with Qt, and the keychain stores.
namespace smtpc::qt {

/// A whole file as bytes (a CA bundle, a client certificate or key, a body), or nullopt with
/// `why` set to a sentence naming the file and the reason. For the CLI and the GUI alike.
SMTPC_QT_EXPORT std::optional<std::string> readFile(const QString& path, QString* why);

/// The SMTP client for Qt programs: smtpc::Client over QtTransport and QtTimer, its events as
/// signals. Every call returns at once; run the Qt event loop.
class SMTPC_QT_EXPORT QtClient : public QObject {
  Q_OBJECT
 public:
  /// A client with no session yet.
  explicit QtClient(QObject* parent = nullptr);
  ~QtClient() override;

  /// µC/SMTPc's shape: connect, send messages, disconnect; or sendMail for all three.
  /// connectToServer opens the session (TLS and AUTH as `params` say): ready() when messages can be
  /// sent, finished() if it ends. Refused while a session runs.
  Error connectToServer(ConnectParams params);
  /// Queues a message on the open session; returns its index, and messageResult() with that index
  /// reports the outcome.
  Result<std::size_t> sendMessage(OutgoingMessage message);
  /// QUIT once the queued messages are done; finished() follows.
  void disconnectFromServer();
  /// Connect, send one message, QUIT: messageResult() then finished().
  Error sendMail(ConnectParams params, OutgoingMessage message);
  /// Stops now (Client::cancel()): finished() with Cancelled unless an error came first.
  void cancel();

  /// A session is under way.
  bool isRunning() const { return client_.running(); }
  /// Step mode is on (for the running session, or the next one).
  bool stepMode() const { return client_.stepMode(); }
  /// The pause the session stands at, or null.
  const Pause* currentPause() const { return client_.pause(); }
  /// The current (or last) session, or null before the first connect.
  const Session* session() const { return client_.session(); }

 signals:
  /// Every event of the engine, before the specific signal below (for smtpc::Explainer).
  void sessionEvent(const smtpc::Event& event);
  /// The engine went from one state to another (StateChanged).
  void stateChanged(smtpc::State from, smtpc::State to);
  /// A line of the conversation, secrets already masked.
  void transcript(const smtpc::TranscriptEntry& entry);
  /// The server's EHLO reply, read; `encrypted` when it came inside TLS.
  void capabilitiesReceived(const smtpc::Capabilities& capabilities, bool encrypted);
  /// The TLS handshake is done and its result accepted.
  void tlsEstablished(const smtpc::TlsInfo& info);
  /// AUTH succeeded with `mechanism`.
  void authenticated(smtpc::AuthMechanism mechanism);
  /// Connected, greeted, TLS and AUTH done as asked: messages can be sent (SessionReady).
  void ready();
  /// The server accepted or refused one recipient.
  void recipientResult(const smtpc::RecipientResult& result);
  /// Octets of message `message` sent so far, of `total` (0: unknown).
  void progress(qulonglong message, qulonglong sent, qulonglong total);
  /// A message's outcome: accepted (no error), or why not.
  void messageResult(const smtpc::MessageResult& result);
  /// The session is over; the last signal of a session.
  void finished(const smtpc::Finished& result);
  /// Step mode stopped before a command or after a reply; go on with next(), continueToNextStep()
  /// or runToEnd() (or cancel()). Nothing is sent and no time-out runs until then.
  void paused(const smtpc::Pause& pause);

 public slots:
  /// Step mode (smtpc/pause.h) on or off: before connecting, or during a run (off = runToEnd()).
  void setStepMode(bool on) { client_.setStepMode(on); }
  /// Paused: go on to the next pause.
  void next() { client_.next(); }
  /// Paused: go on until the next step of the step bar begins.
  void continueToNextStep() { client_.continueToNextStep(); }
  /// Leave step mode and run to the end.
  void runToEnd() { client_.runToEnd(); }

 private:
  void dispatch(const Event& event);

  QtTransport transport_;
  QtTimer timer_;
  Client client_;
};

/// For programs without an event loop of their own: each call runs the Qt event loop until its
/// step is done. A QCoreApplication must exist. (The C API has its own, without Qt: smtp-c.h.)
class SMTPC_QT_EXPORT BlockingClient {
 public:
  /// A client with no session yet.
  BlockingClient();
  ~BlockingClient();
  /// Called with every transcript line (secrets masked) during the calls below.
  void onTranscript(std::function<void(const TranscriptEntry&)> handler) { transcriptHandler_ = std::move(handler); }

  /// Returns once the session is ready (connected, TLS and AUTH done) or has failed.
  Error connect(ConnectParams params);
  /// Returns the message's result.
  MessageResult send(OutgoingMessage message);
  /// QUIT; returns the session's first error (so a failed message is still reported).
  Error disconnect();
  /// connect + send + disconnect.
  Finished sendMail(ConnectParams params, OutgoingMessage message);

  /// What the server offered, or null before a session.
  const Capabilities* capabilities() const;
  /// The last session's TLS result, if TLS came up.
  const std::optional<TlsInfo>& tlsInfo() const { return tlsInfo_; }

 private:
  void wait(const std::function<bool()>& done);

  std::unique_ptr<QtClient> client_;
  std::function<void(const TranscriptEntry&)> transcriptHandler_;
  std::optional<TlsInfo> tlsInfo_;
  std::optional<Finished> finished_;
  std::optional<MessageResult> lastResult_;
  bool ready_ = false;
};

}  // namespace smtpc::qt

Q_DECLARE_METATYPE(smtpc::State)
Q_DECLARE_METATYPE(smtpc::TranscriptEntry)
Q_DECLARE_METATYPE(smtpc::Pause)
