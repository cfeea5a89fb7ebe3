#include "websocket_transport.h"

#include <emscripten/eventloop.h>

namespace smtpc::web {

namespace {

// Ciphertext the browser may hold unsent before the engine is told its bytes are flushed (the
// engine's own window bounds the body; this bounds what sits in the WebSocket's buffer).
constexpr std::size_t kBufferedLimit = 128 * 1024;

// RFC 3986 §2.3's unreserved characters stay, and `keep` (":[]" for an IPv6 host); the rest is %XX.
std::string percentEncode(std::string_view text, std::string_view keep = {}) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

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
  url += "/smtp?host=" + percentEncode(host, ":[]") + "&port=" + std::to_string(port);
  const std::string where = url;  // what an error may name: never the token
  if (!proxyToken_.empty()) url += "&token=" + percentEncode(proxyToken_);
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
  // reach the server arrives as a close code (4001-4003), mapped in closeReason.
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
  t->reportClosed(t->closeReason(event->code, event->reason));
  return EM_TRUE;
}

Error WebSocketTransport::closeReason(unsigned short code, const std::string& reason) const {
  const std::string where = host_ + " port " + std::to_string(port_);
  const std::string said = reason.empty() ? std::string() : " (the proxy said: " + reason + ")";
  switch (code) {
    case 1000: return {};  // the server closed the TCP connection
    case 1001: return Error(ErrorCode::ConnectionLost, "The proxy is shutting down" + said + ".");
    case 1003: return Error(ErrorCode::ConnectionLost, "The proxy accepts binary frames only" + said + ".");
    case 1008:
      return Error(ErrorCode::ConnectFailed, "The proxy refused to connect to " + where + said +
                                                 ": only servers on its allowlist (and pages from allowed origins) "
                                                 "may use it. Ask its operator, or run your own smtpc-proxy.");
    case 1009: return Error(ErrorCode::ConnectionLost, "The proxy's buffer limit was exceeded" + said + ".");
    case 1011: return Error(ErrorCode::ConnectFailed, "The proxy could not connect to " + where + said + ".");
    case 1013:
      return Error(ErrorCode::ConnectFailed, "The proxy is over capacity (too many connections)" + said +
                                                 "; try again in a moment.");
    case 4001:
      return Error(ErrorCode::HostNotFound, "The proxy could not resolve \"" + host_ + "\"" + said +
                                                ": check the spelling of the server name.");
    case 4002:
      return Error(ErrorCode::ConnectionRefused, "Nothing accepts connections on " + where + said +
                                                     ": check the port number and that the server runs.");
    case 4003:
      return Error(ErrorCode::ConnectFailed, "No answer from " + where + " within the proxy's connect timeout" + said +
                                                 ": something drops the packets on the way (port 25 is often blocked).");
    case 4004: return Error(ErrorCode::Timeout, "The proxy closed the connection after it was idle too long" + said + ".");
    case 1006:
    default:
      if (!opened_)
        return Error(ErrorCode::ConnectFailed, "The proxy at " + proxyUrl_ +
                                                   " could not be reached: check its address and that smtpc-proxy runs.");
      return Error(ErrorCode::ConnectionLost, "The connection to the proxy was lost (WebSocket code " +
                                                  std::to_string(code) + ")" + said + ".");
  }
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
  if (before == TlsEngine::Status::Handshaking && after == TlsEngine::Status::Established) {
    if (handler_) handler_->onTransportTlsEstablished(engine_->info());
  } else if (after == TlsEngine::Status::Failed) {
    if (before == TlsEngine::Status::Handshaking) {
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
  engine_ = std::make_unique<TlsEngine>(tls_, host_, roots_.get());
  if (engine_->status() == TlsEngine::Status::Failed) {
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
    emscripten_websocket_close(socket_, 1000, "done");
    emscripten_websocket_delete(socket_);
    socket_ = 0;
  }
}

}  // namespace smtpc::web
