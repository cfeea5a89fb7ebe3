// Loopback listeners that misbehave on purpose, for the connect and timeout tests: plain POSIX
// sockets on port 0, closed with the test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

class MisbehavingListener {
 public:
  enum class Kind {
    // Takes the connection (the kernel does the handshake) and then says nothing, ever.
    Silent,
    // Its accept queue is full, so the kernel drops every new SYN: a connect neither succeeds
    // nor fails, as behind a firewall that drops packets.
    BlackHole,
  };

  MisbehavingListener(int family, Kind kind) {
    listener_ = socket(family, SOCK_STREAM, 0);
    if (listener_ < 0 || !bindLoopback(family)) return;
    // listen(fd, 0) queues one connection: one filler makes the queue full for good.
    if (listen(listener_, kind == Kind::BlackHole ? 0 : 16) != 0) return;
    if (kind == Kind::BlackHole) {
      filler_ = socket(family, SOCK_STREAM, 0);
      if (filler_ < 0 || ::connect(filler_, reinterpret_cast<sockaddr*>(&address_), length_) != 0) return;
    }
    ok_ = true;
  }
  ~MisbehavingListener() {
    if (filler_ >= 0) close(filler_);
    if (listener_ >= 0) close(listener_);
  }
  MisbehavingListener(const MisbehavingListener&) = delete;
  MisbehavingListener& operator=(const MisbehavingListener&) = delete;

  bool ok() const { return ok_; }
  std::uint16_t port() const {
    return ntohs(address_.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&address_)->sin6_port
                                                : reinterpret_cast<const sockaddr_in*>(&address_)->sin_port);
  }
  const sockaddr_storage& address() const { return address_; }
  socklen_t length() const { return length_; }

 private:
  bool bindLoopback(int family) {
    std::memset(&address_, 0, sizeof address_);
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&address_);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      length_ = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&address_);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length_ = sizeof *a;
    }
    return bind(listener_, reinterpret_cast<sockaddr*>(&address_), length_) == 0 &&
           getsockname(listener_, reinterpret_cast<sockaddr*>(&address_), &length_) == 0;
  }

  int listener_ = -1;
  int filler_ = -1;
  sockaddr_storage address_{};
  socklen_t length_ = 0;
  bool ok_ = false;
};

// Whether this machine has an IPv6 loopback (::1) to bind to.
inline bool hasIpv6Loopback() {
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}
