// smtpc::ConsoleClient: the console (smtpc/console.h) over a Transport and a Timer, as
// smtpc::Client drives a Session (client.cpp).
#include "smtpc/console.h"

namespace smtpc {

ConsoleClient::ConsoleClient(Transport& transport, Timer& timer) : transport_(transport), timer_(timer) {
  transport_.setHandler(this);
  timer_.setHandler(this);
}

ConsoleClient::~ConsoleClient() {
  transport_.setHandler(nullptr);
  timer_.setHandler(nullptr);
  timer_.schedule(std::nullopt);
}

Error ConsoleClient::connect(ConsoleParams params) {
  if (running()) return Error(ErrorCode::InvalidState, "A console is already running; close it first.");
  console_ = std::make_unique<Console>(std::move(params));
  if (Error error = console_->start(timer_.now())) {
    console_.reset();
    return error;
  }
  drive();
  return {};
}

std::optional<ConsoleWarning> ConsoleClient::type(std::string_view line, bool confirmed) {
  if (!console_) return ConsoleWarning{std::string(line), "Not connected (RFC 5321 §3.1)", "RFC 5321 §3.1", false};
  auto warning = console_->type(timer_.now(), line, confirmed);
  drive();
  return warning;
}

void ConsoleClient::provideCredentials(std::string user, Secret password) {
  if (!console_) return;
  console_->provideCredentials(timer_.now(), std::move(user), std::move(password));
  drive();
}

void ConsoleClient::cancelCredentials() {
  if (!console_) return;
  console_->cancelCredentials(timer_.now());
  drive();
}

void ConsoleClient::close() {
  if (!console_) return;
  console_->close(timer_.now());
  drive();
}

// Carries out the console's outputs until there are none, then sets the timer. Re-entrant calls
// (a transport or observer callback inside) only ask for another round.
void ConsoleClient::drive() {
  if (driving_) {
    again_ = true;
    return;
  }
  driving_ = true;
  do {
    again_ = false;
    while (auto output = console_->poll()) {
      if (auto* a = std::get_if<ConnectAction>(&*output)) transport_.connect(a->host, a->port, console_->params().tls);
      else if (auto* w = std::get_if<WriteAction>(&*output)) transport_.write(w->bytes);
      else if (std::holds_alternative<StartTlsAction>(*output)) transport_.startTls();
      else if (std::holds_alternative<CloseAction>(*output)) transport_.close();
      else if (auto* e = std::get_if<ConsoleEvent>(&*output); e && observer_) observer_(*e);
    }
  } while (again_);
  timer_.schedule(console_->nextDeadline());
  driving_ = false;
}

void ConsoleClient::onTransportConnected(const ConnectionInfo& info) {
  if (!console_) return;
  console_->onConnected(timer_.now(), info);
  drive();
}
void ConsoleClient::onTransportData(std::string_view bytes) {
  if (!console_) return;
  console_->receive(timer_.now(), bytes);
  drive();
}
void ConsoleClient::onTransportTlsEstablished(const TlsInfo& info) {
  if (!console_) return;
  console_->onTlsEstablished(timer_.now(), info);
  drive();
}
void ConsoleClient::onTransportTlsFailed(const Error& error) {
  if (!console_) return;
  console_->onTlsFailed(timer_.now(), error);
  drive();
}
void ConsoleClient::onTransportClosed(const Error& cause) {
  if (!console_) return;
  console_->onClosed(timer_.now(), cause);
  drive();
}
void ConsoleClient::onTimerFired() {
  if (!console_) return;
  console_->onTimeout(timer_.now());
  drive();
}

}  // namespace smtpc
