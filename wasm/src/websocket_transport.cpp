#include "websocket_transport.h"

#include <emscripten/eventloop.h>

#include "smtpc/relay.h"

namespace smtpc::web {

namespace {

// Ciphertext the browser may hold unsent before the engine is told its bytes are flushed (the
// engine's own window bounds the body; this bounds what sits in the WebSocket's buffer).
constexpr std::size_t kBufferedLimit = 128 * 1024;

}  // namespace

WebSocketTransport::~WebSocketTransport() {
  setHandler(nullptr);
  closed_ = true;
  release();
}

void WebSocketTransport::connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) {
  release();
  host_ = host;
  port_ = port;
  tls_ = tls;
  engine_.reset();
  opened_ = closed_ = false;
  unreported_ = 0;
  std::string url = proxyUrl_;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("ws://", 0) != 0 && url.rfind("wss://", 0) != 0) {
    reportClosed(Error(ErrorCode::InvalidArgument,
                       "The proxy address must start with ws:// or wss:// (it is \"" + proxyUrl_ + "\")."));
    return;
  }
  const std::string where = url + relay::requestTarget(host, port);  // what an error may name: never the token
  url += relay::requestTarget(host, port, proxyToken_);
  EmscriptenWebSocketCreateAttributes attributes;
  emscripten_websocket_init_create_attributes(&attributes);
  attributes.url = url.c_str();
  attributes.protocols = nullptr;
  attributes.createOnMainThread = EM_TRUE;
  const EMSCRIPTEN_WEBSOCKET_T socket = emscripten_websocket_new(&attributes);
  if (socket <= 0) {
    reportClosed(Error(ErrorCode::ConnectFailed, "The browser could not open a WebSocket to " + where + "."));
    return;
  }
  socket_ = socket;
  emscripten_websocket_set_onopen_callback(socket_, this, &WebSocketTransport::onOpen);
  emscripten_websocket_set_onmessage_callback(socket_, this, &WebSocketTransport::onMessage);
  emscripten_websocket_set_onerror_callback(socket_, this, &WebSocketTransport::onError);
  emscripten_websocket_set_onclose_callback(socket_, this, &WebSocketTransport::onClose);
}

EM_BOOL WebSocketTransport::onOpen(int, const EmscriptenWebSocketOpenEvent*, void* self) {
  auto* t = static_cast<WebSocketTransport*>(self);
  if (t->closed_) return EM_TRUE;
  t->opened_ = true;
  // The proxy now connects to the server; bytes sent meanwhile wait in the proxy. A failure to
  // reach the server arrives as one of the relay's close codes (smtpc/relay.h).
  if (t->handler_) t->handler_->onTransportConnected(ConnectionInfo{{}, t->host_ + ":" + std::to_string(t->port_)});
  return EM_TRUE;
}

EM_BOOL WebSocketTransport::onMessage(int, const EmscriptenWebSocketMessageEvent* event, void* self) {
  auto* t = static_cast<WebSocketTransport*>(self);
  if (t->closed_ || event->isText) return EM_TRUE;
  // The buffer is freed when this callback returns: received() consumes or copies it now.
  t->received(std::string_view(reinterpret_cast<const char*>(event->data), event->numBytes));
  return EM_TRUE;
}

EM_BOOL WebSocketTransport::onError(int, const EmscriptenWebSocketErrorEvent*, void*) {
  return EM_TRUE;  // the close event follows, with the code that says why
}

EM_BOOL WebSocketTransport::onClose(int, const EmscriptenWebSocketCloseEvent* event, void* self) {
  auto* t = static_cast<WebSocketTransport*>(self);
  if (t->closed_) return EM_TRUE;
  t->reportClosed(relay::closeError(event->code, event->reason, {t->host_, t->port_, t->proxyUrl_, t->opened_}));
  return EM_TRUE;
}

void WebSocketTransport::received(std::string_view bytes) {
  if (!engine_) {
    if (handler_) handler_->onTransportData(bytes);
    return;
  }
  const auto before = engine_->status();
  std::string plaintext;
  engine_->receive(bytes, plaintext);
  flushTls();  // handshake messages, alerts
  const auto after = engine_->status();
  if (before == tls::Engine::Status::Handshaking && after == tls::Engine::Status::Established) {
    if (handler_) handler_->onTransportTlsEstablished(engine_->info());
  } else if (after == tls::Engine::Status::Failed) {
    if (before == tls::Engine::Status::Handshaking) {
      if (handler_) handler_->onTransportTlsFailed(engine_->error());
    } else {
      reportClosed(engine_->error());
    }
    return;
  }
  if (!plaintext.empty() && !closed_ && handler_) handler_->onTransportData(plaintext);
}

void WebSocketTransport::write(std::string_view bytes) {
  if (closed_ || !socket_) return;
  if (engine_) {
    engine_->send(bytes);
    flushTls();
  } else {
    sendWire(bytes);
  }
  unreported_ += bytes.size();
  scheduleFlushCheck();
}

void WebSocketTransport::startTls() {
  engine_ = std::make_unique<tls::Engine>(tls_, host_, roots_.get());
  if (engine_->status() == tls::Engine::Status::Failed) {
    if (handler_) handler_->onTransportTlsFailed(engine_->error());
    return;
  }
  engine_->start();
  flushTls();
}

void WebSocketTransport::flushTls() {
  if (!engine_) return;
  const std::string out = engine_->takeOutgoing();
  if (!out.empty()) sendWire(out);
}

void WebSocketTransport::sendWire(std::string_view bytes) {
  if (!socket_ || bytes.empty()) return;
  emscripten_websocket_send_binary(socket_, const_cast<char*>(bytes.data()), static_cast<uint32_t>(bytes.size()));
}

// Written bytes are reported flushed once the browser's send buffer is short again, always
// from a later turn of the event loop (never inside write()).
void WebSocketTransport::scheduleFlushCheck() {
  if (flushTimer_ == 0) flushTimer_ = emscripten_set_timeout(&WebSocketTransport::onFlushCheck, 0, this);
}

void WebSocketTransport::onFlushCheck(void* self) {
  auto* t = static_cast<WebSocketTransport*>(self);
  t->flushTimer_ = 0;
  if (t->closed_ || !t->socket_ || t->unreported_ == 0) return;
  unsigned long long buffered = 0;
  emscripten_websocket_get_buffered_amount(t->socket_, &buffered);
  if (buffered > kBufferedLimit) {
    t->flushTimer_ = emscripten_set_timeout(&WebSocketTransport::onFlushCheck, 5, t);
    return;
  }
  const std::size_t count = t->unreported_;
  t->unreported_ = 0;
  if (t->handler_) t->handler_->onTransportBytesWritten(count);
}

void WebSocketTransport::reportClosed(const Error& cause) {
  if (closed_) return;
  closed_ = true;
  release();
  if (handler_) handler_->onTransportClosed(cause);
}

void WebSocketTransport::close() {
  closed_ = true;
  release();
}

void WebSocketTransport::release() {
  if (flushTimer_) {
    emscripten_clear_timeout(flushTimer_);
    flushTimer_ = 0;
  }
  if (socket_) {
    emscripten_websocket_close(socket_, relay::kNormalClosure, "done");
    emscripten_websocket_delete(socket_);
    socket_ = 0;
  }
}

}  // namespace smtpc::web
