// QtClient: the SMTP client for Qt programs. A QObject that owns the engine, the QSslSocket
// transport and the timer, and turns the engine's events into signals. Asynchronous: no call
// blocks and no nested event loop runs. BlockingClient below is for simple programs.
#pragma once

#include <QObject>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "smtpc/client.h"
#include "smtpc/qt/qt_export.h"
#include "smtpc/qt/transport.h"

namespace smtpc::qt {

// A whole file as bytes (a CA bundle, a client certificate or key, a body), or nullopt with
// `why` set to a sentence naming the file and the reason. For the CLI and the GUI alike.
SMTPC_QT_EXPORT std::optional<std::string> readFile(const QString& path, QString* why);

class SMTPC_QT_EXPORT QtClient : public QObject {
  Q_OBJECT
 public:
  explicit QtClient(QObject* parent = nullptr);
  ~QtClient() override;

  // µC/SMTPc's shape: connect, send messages, disconnect; or sendMail for all three.
  Error connectToServer(ConnectParams params);
  Result<std::size_t> sendMessage(OutgoingMessage message);
  void disconnectFromServer();
  Error sendMail(ConnectParams params, OutgoingMessage message);
  void cancel();

  bool isRunning() const { return client_.running(); }
  const Session* session() const { return client_.session(); }

 signals:
  // Every event of the engine, before the specific signal below (for smtpc::Explainer).
  void sessionEvent(const smtpc::Event& event);
  void stateChanged(smtpc::State from, smtpc::State to);
  void transcript(const smtpc::TranscriptEntry& entry);
  void capabilitiesReceived(const smtpc::Capabilities& capabilities, bool encrypted);
  void tlsEstablished(const smtpc::TlsInfo& info);
  void authenticated(smtpc::AuthMechanism mechanism);
  void ready();
  void recipientResult(const smtpc::RecipientResult& result);
  void progress(qulonglong message, qulonglong sent, qulonglong total);  // total 0: unknown
  void messageResult(const smtpc::MessageResult& result);
  void finished(const smtpc::Finished& result);

 private:
  void dispatch(const Event& event);

  QtTransport transport_;
  QtTimer timer_;
  Client client_;
};

// For programs without an event loop of their own (and the C API): each call runs the Qt event
// loop until its step is done. A QCoreApplication must exist.
class SMTPC_QT_EXPORT BlockingClient {
 public:
  BlockingClient();
  ~BlockingClient();
  void onTranscript(std::function<void(const TranscriptEntry&)> handler) { transcriptHandler_ = std::move(handler); }

  // Returns once the session is ready (connected, TLS and AUTH done) or has failed.
  Error connect(ConnectParams params);
  // Returns the message's result.
  MessageResult send(OutgoingMessage message);
  // QUIT; returns the session's first error (so a failed message is still reported).
  Error disconnect();
  // connect + send + disconnect.
  Finished sendMail(ConnectParams params, OutgoingMessage message);

  const Capabilities* capabilities() const;
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
