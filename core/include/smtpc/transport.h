// The two things a driver must supply to run a Session: a byte pipe that can start TLS, and a
// timer. Implementations: QtTransport (QSslSocket), WebSocketTransport (wasm), and the scripted
// transport of the tests. Everything runs on one thread; callbacks may come from inside a call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/session.h"
#include "smtpc/tls.h"

namespace smtpc {

class SMTPC_CORE_EXPORT TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  virtual void onTransportConnected(const ConnectionInfo& info) = 0;
  virtual void onTransportData(std::string_view bytes) = 0;
  virtual void onTransportBytesWritten(std::size_t count) = 0;
  virtual void onTransportTlsEstablished(const TlsInfo& info) = 0;
  // The handshake failed or the certificate was refused: error says which (CertificateInvalid,
  // TlsHandshakeFailed) and what to do.
  virtual void onTransportTlsFailed(const Error& error) = 0;
  // The connection ended; `cause` is empty when the peer closed it cleanly. Also used for
  // connect failures (HostNotFound, ConnectionRefused, ConnectFailed).
  virtual void onTransportClosed(const Error& cause) = 0;
};

class SMTPC_CORE_EXPORT Transport {
 public:
  virtual ~Transport() = default;
  void setHandler(TransportHandler* handler) { handler_ = handler; }

  virtual void connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) = 0;
  virtual void write(std::string_view bytes) = 0;
  // Begin the client side of a TLS handshake on the open connection (STARTTLS or implicit TLS),
  // with the TlsConfig given to connect().
  virtual void startTls() = 0;
  virtual void close() = 0;

 protected:
  TransportHandler* handler_ = nullptr;
};

class SMTPC_CORE_EXPORT TimerHandler {
 public:
  virtual ~TimerHandler() = default;
  virtual void onTimerFired() = 0;
};

class SMTPC_CORE_EXPORT Timer {
 public:
  virtual ~Timer() = default;
  void setHandler(TimerHandler* handler) { handler_ = handler; }
  // The driver's monotonic clock.
  virtual Time now() const = 0;
  // Call the handler at `deadline` (replacing any earlier request); nullopt cancels.
  virtual void schedule(std::optional<Time> deadline) = 0;

 protected:
  TimerHandler* handler_ = nullptr;
};

}  // namespace smtpc
