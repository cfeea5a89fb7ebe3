#include "smtpc/client.h"

namespace smtpc {

namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;
}  // namespace

Client::Client(Transport& transport, Timer& timer) : transport_(transport), timer_(timer) {
  transport_.setHandler(this);
  timer_.setHandler(this);
}

Client::~Client() {
  transport_.setHandler(nullptr);
  timer_.setHandler(nullptr);
  timer_.schedule(std::nullopt);
}

Error Client::connect(ConnectParams params) {
  if (running()) return Error(ErrorCode::InvalidState, "A session is already running; disconnect first.");
  params.stepThrough = params.stepThrough || stepMode_;
  session_ = std::make_unique<Session>(std::move(params));
  if (Error error = session_->start(timer_.now())) {
    session_.reset();
    return error;
  }
  drive();
  return {};
}

Result<std::size_t> Client::sendMsg(OutgoingMessage message) {
  if (!session_) return Error(ErrorCode::InvalidState, "Connect before sending.");
  auto index = session_->send(timer_.now(), std::move(message));
  drive();
  return index;
}

void Client::disconnect() {
  if (!session_) return;
  session_->quit(timer_.now());
  drive();
}

Error Client::sendMail(ConnectParams params, OutgoingMessage message) {
  if (running()) return Error(ErrorCode::InvalidState, "A session is already running; disconnect first.");
  params.stepThrough = params.stepThrough || stepMode_;
  session_ = std::make_unique<Session>(std::move(params));
  auto index = session_->send(timer_.now(), std::move(message));
  if (!index) {
    session_.reset();
    return index.error();
  }
  session_->quit(timer_.now());
  if (Error error = session_->start(timer_.now())) {
    session_.reset();
    return error;
  }
  drive();
  return {};
}

Error Client::noop() {
  if (!session_) return Error(ErrorCode::InvalidState, "Connect first.");
  Error error = session_->noop(timer_.now());
  drive();
  return error;
}

void Client::cancel() {
  if (!session_) return;
  session_->cancel(timer_.now());
  drive();
}

void Client::setStepMode(bool on) {
  stepMode_ = on;
  if (!running()) return;
  session_->setStepMode(timer_.now(), on);
  drive();
}

void Client::next() {
  if (!running()) return;
  session_->next(timer_.now());
  drive();
}

void Client::continueToNextStep() {
  if (!running()) return;
  session_->continueToNextStep(timer_.now());
  drive();
}

void Client::runToEnd() {
  stepMode_ = false;
  if (!running()) return;
  session_->runToEnd(timer_.now());
  drive();
}

void Client::drive() {
  if (driving_) {
    again_ = true;
    return;
  }
  driving_ = true;
  do {
    again_ = false;
    // Consecutive writes of a round go to the transport as one: a short message's content and
    // dot, and the next message's MAIL/RCPT/DATA behind them, leave in one segment and wake the
    // peer once. The bytes and their order are the session's; only the number of write calls
    // changes. Events in between do not split a write (the observer sees no transport); the
    // transport's own actions do. Large body chunks are not copied together: past kGatherLimit
    // what is gathered goes first (one more write call saves copying a chunk into a new buffer).
    constexpr std::size_t kGatherLimit = 64 * 1024;
    std::string gathered;
    const auto writeGathered = [&] {
      if (gathered.empty()) return;
      const std::string bytes = std::move(gathered);
      gathered.clear();
      transport_.write(bytes);
    };
    while (auto output = session_->poll()) {
      if (auto* write = std::get_if<WriteAction>(&*output)) {
        if (gathered.size() + write->bytes.size() > kGatherLimit) writeGathered();
        if (gathered.empty()) gathered = std::move(write->bytes);
        else gathered += write->bytes;
        continue;
      }
      if (!std::holds_alternative<Event>(*output)) writeGathered();
      std::visit(Overloaded{
                     [&](ConnectAction& a) { transport_.connect(a.host, a.port, session_->params().tls); },
                     [&](WriteAction&) {},
                     [&](StartTlsAction&) { transport_.startTls(); },
                     [&](CloseAction&) { transport_.close(); },
                     [&](Event& e) {
                       if (observer_) observer_(e);
                     },
                 },
                 *output);
    }
    writeGathered();
  } while (again_);
  timer_.schedule(session_->nextDeadline());
  driving_ = false;
}

void Client::onTransportConnected(const ConnectionInfo& info) {
  if (!session_) return;
  session_->onConnected(timer_.now(), info);
  drive();
}
void Client::onTransportData(std::string_view bytes) {
  if (!session_) return;
  session_->receive(timer_.now(), bytes);
  drive();
}
void Client::onTransportBytesWritten(std::size_t count) {
  if (!session_) return;
  session_->onBytesFlushed(timer_.now(), count);
  drive();
}
void Client::onTransportTlsEstablished(const TlsInfo& info) {
  if (!session_) return;
  session_->onTlsEstablished(timer_.now(), info);
  drive();
}
void Client::onTransportTlsFailed(const Error& error) {
  if (!session_) return;
  session_->onTlsFailed(timer_.now(), error);
  drive();
}
void Client::onTransportClosed(const Error& cause) {
  if (!session_) return;
  session_->onClosed(timer_.now(), cause);
  drive();
}
void Client::onTimerFired() {
  if (!session_) return;
  session_->onTimeout(timer_.now());
  drive();
}

}  // namespace smtpc
