/// \file
/// qt::QtConsole: smtpc::ConsoleClient ("type it yourself", smtpc/console.h) over QtTransport and
/// QtTimer, with Qt signals for its events and slots for typing and the AUTH helper's answer: what
/// the GUI's console tab and `smtpc --interactive` use.
#pragma once

#include <QObject>
#include <QString>
#include <optional>

#include "smtpc/console.h"
#include "smtpc/qt/qt_export.h"
#include "smtpc/qt/transport.h"

namespace smtpc::qt {

/// The console over QSslSocket. Single-threaded: use it on the thread that created it.
class SMTPC_QT_EXPORT QtConsole : public QObject {
  Q_OBJECT
 public:
  /// A console with its own transport and timer; registers its signal types with Qt.
  explicit QtConsole(QObject* parent = nullptr);
  ~QtConsole() override;

  /// Connects (the transcript, TLS and the greeting follow as signals); an error if one runs.
  Error connectToServer(ConsoleParams params);
  /// Console::type(): nullopt when sent; otherwise the warning (also emitted as warning()).
  std::optional<ConsoleWarning> typeLine(const QString& line, bool confirmed = false);
  /// What typing `line` now would warn about, without sending (for a GUI that marks the line).
  std::optional<ConsoleWarning> check(const QString& line) const;
  /// A console is under way.
  bool isRunning() const { return client_.running(); }
  /// The current (or last) console, or null: its state, capabilities, whether TLS is up.
  const Console* console() const { return client_.console(); }

 signals:
  /// Every event, as core gives it.
  void consoleEvent(const smtpc::ConsoleEvent& event);
  /// One transcript line (the same entries as the engine's; explainLine() explains them).
  void transcript(const smtpc::TranscriptEntry& entry);
  /// A typed line was not sent: why. Ask the learner, then type(line, true) sends it anyway.
  void warning(const smtpc::ConsoleWarning& warning);
  /// The AUTH helper needs a user name and a password: answer with provideCredentials().
  void credentialsRequested(const smtpc::CredentialRequest& request);
  /// The console's state changed.
  void stateChanged(smtpc::ConsoleState from, smtpc::ConsoleState to);
  /// TLS is up.
  void tlsEstablished(const smtpc::TlsInfo& info);
  /// The console is over (last signal).
  void finished(const smtpc::ConsoleFinished& result);

 public slots:
  /// Types a line (see typeLine()).
  void type(const QString& line, bool confirmed = false) { typeLine(line, confirmed); }
  /// The AUTH helper's answer; the password is wiped from `password` once copied.
  void provideCredentials(const QString& user, QString password);
  /// The learner gave up the AUTH helper.
  void cancelCredentials() { client_.cancelCredentials(); }
  /// Closes the connection now (without QUIT unless it was typed).
  void closeConnection() { client_.close(); }

 private:
  void dispatch(const ConsoleEvent& event);

  QtTransport transport_;
  QtTimer timer_;
  ConsoleClient client_;
};

}  // namespace smtpc::qt

Q_DECLARE_METATYPE(smtpc::ConsoleEvent)
Q_DECLARE_METATYPE(smtpc::ConsoleWarning)
Q_DECLARE_METATYPE(smtpc::CredentialRequest)
Q_DECLARE_METATYPE(smtpc::ConsoleState)
Q_DECLARE_METATYPE(smtpc::ConsoleFinished)
