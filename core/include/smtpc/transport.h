/// \file
/// The two things a driver must supply to run a Session: a byte pipe that can start TLS, and a
/// timer. Implementations: QtTransport (QSslSocket), WebSocketTransport (wasm), and the scripted
/// transport of the tests. Everything runs on one thread; callbacks may come from inside a call.
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

/// What a Transport reports (smtpc::Client implements it). Every call may come from inside a
/// Transport call, on the same thread.
class SMTPC_CORE_EXPORT TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  /// The TCP connection is up; `info` names both ends (the local address makes the default EHLO
  /// name).
  virtual void onTransportConnected(const ConnectionInfo& info) = 0;
  /// Bytes from the server, decrypted when TLS is up, split anywhere.
  virtual void onTransportData(std::string_view bytes) = 0;
  /// `count` of the bytes given to write() have left (or are handed to the operating system): the
  /// flow control that lets a large body stream without piling up in memory.
  virtual void onTransportBytesWritten(std::size_t count) = 0;
  /// The TLS handshake finished and core's policy (tls::decide(), tls::checkPins()) accepted the
  /// certificate; `info` says what was negotiated and verified.
  virtual void onTransportTlsEstablished(const TlsInfo& info) = 0;
  /// The handshake failed or the certificate was refused: error says which (CertificateInvalid,
  /// TlsHandshakeFailed) and what to do.
  virtual void onTransportTlsFailed(const Error& error) = 0;
  /// The connection ended; `cause` is empty when the peer closed it cleanly. Also used for
  /// connect failures (HostNotFound, ConnectionRefused, ConnectFailed).
  virtual void onTransportClosed(const Error& cause) = 0;
};

/// A byte pipe to the SMTP server that can start TLS on the open connection: what smtpc::Client
/// drives. Implement it to run the engine over sockets, a TLS library or a relay of your own (see
/// docs/embedding.md). Calls return at once; results come through the TransportHandler.
class SMTPC_CORE_EXPORT Transport {
 public:
  virtual ~Transport() = default;
  /// Where to report (the Client sets itself); null: report nothing.
  void setHandler(TransportHandler* handler) { handler_ = handler; }

  /// Opens a TCP connection to `host`:`port`: onTransportConnected() or onTransportClosed() (with
  /// HostNotFound, ConnectionRefused or ConnectFailed) follows. `tls` is kept for startTls().
  virtual void connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) = 0;
  /// Queues `bytes` (encrypted when TLS is up) in order; report them with onTransportBytesWritten()
  /// as they leave.
  virtual void write(std::string_view bytes) = 0;
  /// Begin the client side of a TLS handshake on the open connection (STARTTLS or implicit TLS),
  /// with the TlsConfig given to connect().
  virtual void startTls() = 0;
  /// Closes the connection. The session is over by then: no onTransportClosed() is needed (one is
  /// ignored).
  virtual void close() = 0;

 protected:
  /// Where to report; null before setHandler().
  TransportHandler* handler_ = nullptr;
};

/// What a Timer calls (smtpc::Client implements it).
class SMTPC_CORE_EXPORT TimerHandler {
 public:
  virtual ~TimerHandler() = default;
  /// The deadline given to Timer::schedule() has come.
  virtual void onTimerFired() = 0;
};

/// One resettable deadline on a monotonic clock: how the engine's timeouts (RFC 5321 §4.5.3.2)
/// reach the driver.
class SMTPC_CORE_EXPORT Timer {
 public:
  virtual ~Timer() = default;
  /// Whom to call (the Client sets itself); null: nobody.
  void setHandler(TimerHandler* handler) { handler_ = handler; }
  /// The driver's monotonic clock.
  virtual Time now() const = 0;
  /// Call the handler at `deadline` (replacing any earlier request); nullopt cancels.
  virtual void schedule(std::optional<Time> deadline) = 0;

 protected:
  /// Whom to call; null before setHandler().
  TimerHandler* handler_ = nullptr;
};

}  // namespace smtpc
