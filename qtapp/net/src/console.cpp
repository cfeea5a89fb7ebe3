#include "smtpc/qt/console.h"

#include "smtpc/qt/client.h"  // the TranscriptEntry metatype

namespace smtpc::qt {

QtConsole::QtConsole(QObject* parent) : QObject(parent), client_(transport_, timer_) {
  // Queued connections (and QSignalSpy) need the types registered.
  qRegisterMetaType<smtpc::ConsoleEvent>();
  qRegisterMetaType<smtpc::ConsoleWarning>();
  qRegisterMetaType<smtpc::CredentialRequest>();
  qRegisterMetaType<smtpc::ConsoleState>();
  qRegisterMetaType<smtpc::ConsoleFinished>();
  qRegisterMetaType<smtpc::TranscriptEntry>();
  client_.setObserver([this](const ConsoleEvent& event) { dispatch(event); });
}

QtConsole::~QtConsole() { client_.setObserver(nullptr); }

Error QtConsole::connectToServer(ConsoleParams params) { return client_.connect(std::move(params)); }

std::optional<ConsoleWarning> QtConsole::typeLine(const QString& line, bool confirmed) {
  return client_.type(line.toStdString(), confirmed);
}

std::optional<ConsoleWarning> QtConsole::check(const QString& line) const {
  if (!client_.console()) return ConsoleWarning{line.toStdString(), "Not connected (RFC 5321 §3.1)", "RFC 5321 §3.1", false};
  return client_.console()->check(line.toStdString());
}

void QtConsole::provideCredentials(const QString& user, QString password) {
  std::string value = password.toStdString();
  password.fill(QChar(u'\0'));
  client_.provideCredentials(user.toStdString(), Secret(std::move(value)));
}

void QtConsole::dispatch(const ConsoleEvent& event) {
  emit consoleEvent(event);
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TranscriptEntry>) emit transcript(e);
        else if constexpr (std::is_same_v<T, ConsoleWarning>) emit warning(e);
        else if constexpr (std::is_same_v<T, CredentialRequest>) emit credentialsRequested(e);
        else if constexpr (std::is_same_v<T, ConsoleStateChanged>) emit stateChanged(e.from, e.to);
        else if constexpr (std::is_same_v<T, TlsReady>) emit tlsEstablished(e.info);
        else if constexpr (std::is_same_v<T, ConsoleFinished>) emit finished(e);
      },
      event);
}

}  // namespace smtpc::qt
