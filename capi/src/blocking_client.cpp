#include "blocking_client.h"

#include <type_traits>
#include <variant>

namespace smtpc::posix {

BlockingClient::BlockingClient() : client_(transport_, timer_) {
  loop_.add(&transport_);  // before the timer: see EventLoop::add
  loop_.add(&timer_);
  client_.setObserver([this](const Event& event) {
    if (std::holds_alternative<SessionReady>(event)) ready_ = true;
    else if (const auto* result = std::get_if<MessageResult>(&event)) lastResult_ = *result;
    else if (const auto* finished = std::get_if<Finished>(&event)) finished_ = *finished;
  });
}

BlockingClient::~BlockingClient() { client_.setObserver(nullptr); }

void BlockingClient::wait(const std::function<bool()>& done) {
  if (loop_.runUntil(done)) return;
  // Nothing left to wait for and still not done: end the session rather than block for ever.
  client_.cancel();
  if (!done() && !finished_)
    finished_ = Finished{Error(ErrorCode::InvalidState, "The connection stopped with nothing left to wait for."),
                         Phase::None};
}

Error BlockingClient::connect(ConnectParams params) {
  ready_ = false;
  finished_.reset();
  if (Error error = client_.connect(std::move(params))) return error;
  wait([this] { return ready_ || finished_.has_value(); });
  if (!ready_ && finished_) return finished_->error;
  return {};
}

MessageResult BlockingClient::send(OutgoingMessage message) {
  lastResult_.reset();
  auto index = client_.sendMsg(std::move(message));
  if (!index) return MessageResult{0, index.error(), {}, std::nullopt, false};
  wait([&] { return (lastResult_ && lastResult_->message == *index) || finished_.has_value(); });
  if (lastResult_ && lastResult_->message == *index) return *lastResult_;
  return MessageResult{*index, finished_->error, {}, std::nullopt, false};
}

Error BlockingClient::disconnect() {
  if (!client_.session()) return {};
  client_.disconnect();
  wait([this] { return finished_.has_value(); });
  return finished_->error;
}

Finished BlockingClient::sendMail(ConnectParams params, OutgoingMessage message) {
  finished_.reset();
  if (Error error = client_.sendMail(std::move(params), std::move(message))) return Finished{error, Phase::None};
  wait([this] { return finished_.has_value(); });
  return *finished_;
}

}  // namespace smtpc::posix
