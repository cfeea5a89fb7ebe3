// smtpc::Transport in the browser: a binary WebSocket to smtpc-proxy, which relays the bytes to
// the SMTP server over TCP. TLS (STARTTLS and implicit) runs here, inside the module, on
// OpenSSL memory BIOs (smtpc::tls::Engine): after the handshake the proxy relays only ciphertext.
#pragma once

#include <emscripten/websocket.h>

#include <memory>
#include <string>

#include "smtpc/transport.h"
#include "smtpc/tls/engine.h"

namespace smtpc::web {

class WebSocketTransport final : public Transport {
 public:
  WebSocketTransport() = default;
  ~WebSocketTransport() override;

  // ws://proxy:port or wss://...; the transport adds /smtp?host=…&port=… (and &token=…): the
  // relay protocol is smtpc/relay.h, and the words shown for its close codes come from there too.
  void setProxyUrl(std::string url) { proxyUrl_ = std::move(url); }
  // The relay's shared secret (smtpc-proxy --token-file), sent as the query parameter `token`;
  // empty: none. Never put into an error message or the transcript.
  void setProxyToken(std::string token) { proxyToken_ = std::move(token); }
  // The trusted roots, from the page's CA bundle.
  void setTrustedRoots(std::shared_ptr<const tls::TrustedRoots> roots) { roots_ = std::move(roots); }

  void connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) override;
  void write(std::string_view bytes) override;
  void startTls() override;
  void close() override;

 private:
  static EM_BOOL onOpen(int, const EmscriptenWebSocketOpenEvent*, void* self);
  static EM_BOOL onMessage(int, const EmscriptenWebSocketMessageEvent* event, void* self);
  static EM_BOOL onError(int, const EmscriptenWebSocketErrorEvent*, void* self);
  static EM_BOOL onClose(int, const EmscriptenWebSocketCloseEvent* event, void* self);
  static void onFlushCheck(void* self);

  void received(std::string_view bytes);
  void sendWire(std::string_view bytes);
  void flushTls();
  void scheduleFlushCheck();
  void reportClosed(const Error& cause);
  void release();

  std::string proxyUrl_;
  std::string proxyToken_;
  std::shared_ptr<const tls::TrustedRoots> roots_;
  EMSCRIPTEN_WEBSOCKET_T socket_ = 0;
  std::string host_;
  std::uint16_t port_ = 0;
  TlsConfig tls_;
  std::unique_ptr<tls::Engine> engine_;
  bool opened_ = false;
  bool closed_ = false;  // reported, or closed by us: no more callbacks to the handler
  std::size_t unreported_ = 0;  // plaintext octets written but not yet reported flushed
  long flushTimer_ = 0;
};

}  // namespace smtpc::web
