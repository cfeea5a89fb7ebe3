// smtpc::Transport on POSIX sockets, for the C API (no Qt): non-blocking TCP over IPv6 and IPv4
// with Happy Eyeballs (RFC 8305), TLS through smtpc::tls::Engine on memory BIOs, and writes
// gathered so that each batch the engine hands over leaves in one send(). It is an EventLoop
// source: the loop asks it what to wait for, and it does its I/O when the loop wakes it.
//
// Connecting (RFC 8305 in spirit): the name is resolved (in a thread of its own, so the session's
// connect timeout covers DNS too; an IP literal without one), the addresses are interleaved by
// family, the first is tried, and the next is started after 250 ms without an answer, or at once
// when an attempt fails. The first connection up wins; the others are closed.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "smtpc/tls/engine.h"
#include "smtpc/transport.h"

namespace smtpc::posix {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// A name's addresses (status 0), or getaddrinfo()'s EAI_* status.
struct Resolution {
  int status = 0;
  std::vector<SocketAddress> addresses;
};
// Looks a name up; runs in the lookup's thread. The default is getaddrinfo().
using Resolver = std::function<Resolution(const std::string& name, std::uint16_t port)>;
Resolution systemResolve(const std::string& name, std::uint16_t port);

class PosixTransport final : public Transport, public EventLoop::Source {
 public:
  // RFC 8305 §5's "Connection Attempt Delay": how long one address has before the next starts.
  static constexpr Time kAttemptDelay{250};

  PosixTransport() = default;
  ~PosixTransport() override;
  PosixTransport(const PosixTransport&) = delete;
  PosixTransport& operator=(const PosixTransport&) = delete;

  void connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) override;
  // Gathered: the bytes leave (encrypted, once TLS is up) before the loop next waits.
  void write(std::string_view bytes) override;
  void startTls() override;
  void close() override;

  std::optional<Time> prepare(std::vector<pollfd>& watch) override;
  void dispatch(std::span<const pollfd> ready, Time now) override;

  // How names are looked up (IP literals never are): tests give a name both families this way.
  void setResolver(Resolver resolver) { resolver_ = std::move(resolver); }
  // The address connected to ("::1", "192.0.2.1"); empty before.
  const std::string& peerAddress() const { return peerAddress_; }

 private:
  enum class Stage { Idle, Resolving, Connecting, Open, Closed };
  struct Attempt {
    int fd = -1;
    SocketAddress address;
  };
  struct Failure {
    std::string address;
    int error = 0;  // errno
  };
  struct Lookup;

  void resolved(const Resolution& resolution, Time now);
  void startAttempts(Time now);
  void attemptFailed(std::size_t index, int error, Time now);
  void won(std::size_t index);
  Error connectFailure() const;
  void readable();
  void received(std::string_view bytes);
  void flush();
  bool sendWire();
  void failTls(const Error& error);
  void reportClosed(const Error& cause);
  void release();

  std::string host_;
  std::uint16_t port_ = 0;
  TlsConfig tls_;
  Stage stage_ = Stage::Idle;
  std::uint64_t epoch_ = 0;  // changes when the connection is released: stops stale work

  Resolver resolver_ = systemResolve;
  std::shared_ptr<Lookup> lookup_;
  std::vector<SocketAddress> addresses_;  // in the order they are tried
  std::size_t nextAddress_ = 0;
  std::vector<Attempt> attempts_;
  std::optional<Time> nextAttemptAt_;
  std::vector<Failure> failures_;
  std::optional<Error> failure_;  // found outside the loop (in connect()), reported from it

  int fd_ = -1;
  std::string peerAddress_;
  std::unique_ptr<tls::Engine> engine_;
  std::string pending_;  // plaintext written since the last wait
  std::string wire_;     // what the socket has yet to take, from wireOffset_
  std::size_t wireOffset_ = 0;
  std::size_t unreported_ = 0;  // plaintext octets taken by write(), not yet reported flushed
  bool reported_ = false;       // the end (closed, TLS failed) was reported: no more callbacks
  std::unique_ptr<char[]> readBuffer_;  // on the heap: a C program's threads may have small stacks
};

}  // namespace smtpc::posix
