#include "smtpc/qt/client.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>

namespace smtpc::qt {

std::optional<std::string> readFile(const QString& path, QString* why) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    *why = QCoreApplication::translate("smtpc", "Cannot read %1: %2").arg(path, file.errorString());
    return std::nullopt;
  }
  return file.readAll().toStdString();
}

QtClient::QtClient(QObject* parent) : QObject(parent), client_(transport_, timer_) {
  client_.setObserver([this](const Event& event) { dispatch(event); });
}

QtClient::~QtClient() { client_.setObserver(nullptr); }

Error QtClient::connectToServer(ConnectParams params) { return client_.connect(std::move(params)); }
Result<std::size_t> QtClient::sendMessage(OutgoingMessage message) { return client_.sendMsg(std::move(message)); }
void QtClient::disconnectFromServer() { client_.disconnect(); }
Error QtClient::sendMail(ConnectParams params, OutgoingMessage message) {
  return client_.sendMail(std::move(params), std::move(message));
}
void QtClient::cancel() { client_.cancel(); }

void QtClient::dispatch(const Event& event) {
  emit sessionEvent(event);
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, StateChanged>) emit stateChanged(e.from, e.to);
        else if constexpr (std::is_same_v<T, TranscriptEntry>) emit transcript(e);
        else if constexpr (std::is_same_v<T, CapabilitiesReceived>) emit capabilitiesReceived(e.capabilities, e.encrypted);
        else if constexpr (std::is_same_v<T, TlsReady>) emit tlsEstablished(e.info);
        else if constexpr (std::is_same_v<T, AuthSucceeded>) emit authenticated(e.mechanism);
        else if constexpr (std::is_same_v<T, SessionReady>) emit ready();
        else if constexpr (std::is_same_v<T, RecipientResult>) emit recipientResult(e);
        else if constexpr (std::is_same_v<T, MessageProgress>) emit progress(e.message, e.sent, e.total.value_or(0));
        else if constexpr (std::is_same_v<T, MessageResult>) emit messageResult(e);
        else if constexpr (std::is_same_v<T, Paused>) emit paused(e.pause);
        else if constexpr (std::is_same_v<T, Finished>) emit finished(e);
      },
      event);
}

BlockingClient::BlockingClient() : client_(std::make_unique<QtClient>()) {
  QObject::connect(client_.get(), &QtClient::transcript, [this](const TranscriptEntry& e) {
    if (transcriptHandler_) transcriptHandler_(e);
  });
  QObject::connect(client_.get(), &QtClient::tlsEstablished, [this](const TlsInfo& info) { tlsInfo_ = info; });
  QObject::connect(client_.get(), &QtClient::ready, [this] { ready_ = true; });
  QObject::connect(client_.get(), &QtClient::messageResult, [this](const MessageResult& r) { lastResult_ = r; });
  QObject::connect(client_.get(), &QtClient::finished, [this](const Finished& f) { finished_ = f; });
}

BlockingClient::~BlockingClient() = default;

void BlockingClient::wait(const std::function<bool()>& done) {
  QEventLoop loop;
  while (!done()) loop.processEvents(QEventLoop::WaitForMoreEvents);
}

Error BlockingClient::connect(ConnectParams params) {
  ready_ = false;
  finished_.reset();
  tlsInfo_.reset();
  if (Error error = client_->connectToServer(std::move(params))) return error;
  wait([this] { return ready_ || finished_.has_value(); });
  if (!ready_ && finished_) return finished_->error;
  return {};
}

MessageResult BlockingClient::send(OutgoingMessage message) {
  lastResult_.reset();
  auto index = client_->sendMessage(std::move(message));
  if (!index) return MessageResult{0, index.error(), {}, std::nullopt, false};
  wait([&] { return (lastResult_ && lastResult_->message == *index) || finished_.has_value(); });
  if (lastResult_ && lastResult_->message == *index) return *lastResult_;
  return MessageResult{*index, finished_->error, {}, std::nullopt, false};
}

Error BlockingClient::disconnect() {
  client_->disconnectFromServer();
  wait([this] { return finished_.has_value(); });
  return finished_->error;
}

Finished BlockingClient::sendMail(ConnectParams params, OutgoingMessage message) {
  finished_.reset();
  if (Error error = client_->sendMail(std::move(params), std::move(message))) return Finished{error, Phase::None};
  wait([this] { return finished_.has_value(); });
  return *finished_;
}

const Capabilities* BlockingClient::capabilities() const {
  return client_->session() ? &client_->session()->capabilities() : nullptr;
}

}  // namespace smtpc::qt
