#include "posix_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

namespace smtpc::posix {

namespace {

// What the socket may hold back before the engine hears that its bytes left: the engine's body
// window bounds what it writes, this bounds what waits here (QtTransport's rule, and its reason:
// a slow server must not make a large message sit in memory as ciphertext).
constexpr std::size_t kMaxBacklog = 256 * 1024;
constexpr std::size_t kReadSize = 64 * 1024;

#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;  // a peer gone is an error to report, not a SIGPIPE
#else
constexpr int kSendFlags = 0;  // SO_NOSIGPIPE instead (openSocket)
#endif

std::string errorText(int error) { return std::system_category().message(error); }

std::string addressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (address->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
  else if (address->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  return text;
}

std::string localAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return addressText(reinterpret_cast<const sockaddr*>(&address));
}

void setFlags(int fd) {
  fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);  // a C program may fork and exec
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int openSocket(int family) {
  const int fd = socket(family, SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0) return fd;
  setFlags(fd);
#ifdef SO_NOSIGPIPE
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
  return fd;
}

Resolution lookUp(const std::string& name, std::uint16_t port, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV | flags;
  addrinfo* list = nullptr;
  Resolution resolution;
  resolution.status = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &list);
  for (const addrinfo* entry = list; entry; entry = entry->ai_next) {
    if ((entry->ai_family != AF_INET && entry->ai_family != AF_INET6) || entry->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    SocketAddress address;
    std::memcpy(&address.storage, entry->ai_addr, entry->ai_addrlen);
    address.length = entry->ai_addrlen;
    resolution.addresses.push_back(address);
  }
  if (list) freeaddrinfo(list);
  return resolution;
}

}  // namespace

Resolution systemResolve(const std::string& name, std::uint16_t port) { return lookUp(name, port, 0); }

// A name lookup in a thread of its own: getaddrinfo() blocks and takes no time limit, and the
// session's connect timeout must cover DNS as well. The thread writes one byte to a pipe the loop
// watches. The state is shared, so a transport that stops waiting (closed, timed out) just lets
// go of it and the thread frees it when getaddrinfo() returns.
struct PosixTransport::Lookup {
  int pipe[2] = {-1, -1};
  std::mutex mutex;
  Resolution resolution;  // guarded by mutex
  ~Lookup() {
    for (int fd : pipe)
      if (fd >= 0) ::close(fd);
  }
};

PosixTransport::~PosixTransport() {
  setHandler(nullptr);
  release();
}

void PosixTransport::connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) {
  release();
  host_ = host;
  port_ = port;
  tls_ = tls;
  reported_ = false;
  failure_.reset();
  failures_.clear();
  peerAddress_.clear();
  unreported_ = 0;
  stage_ = Stage::Resolving;
  if (Resolution literal = lookUp(host, port, AI_NUMERICHOST); literal.status == 0)  // an IP literal: no lookup
    return resolved(literal, monotonicNow());
  auto lookup = std::make_shared<Lookup>();
  if (::pipe(lookup->pipe) == 0) {
    setFlags(lookup->pipe[0]);
    setFlags(lookup->pipe[1]);
    try {
      std::thread([lookup, resolver = resolver_, name = host, port] {
        Resolution resolution = resolver(name, port);
        {
          std::lock_guard lock(lookup->mutex);
          lookup->resolution = std::move(resolution);
        }
        const char done = 1;
        [[maybe_unused]] const auto written = ::write(lookup->pipe[1], &done, 1);
      }).detach();
      lookup_ = std::move(lookup);
      return;
    } catch (const std::system_error&) {
      // no thread to be had: look the name up here, without the time limit
    }
  }
  resolved(resolver_(host, port), monotonicNow());
}

void PosixTransport::resolved(const Resolution& resolution, Time now) {
  if (resolution.status != 0) {
    const std::string quoted = "\"" + host_ + "\"";
    std::string why = " could not be resolved: check its spelling and this computer's DNS.";
    if (resolution.status == EAI_AGAIN)
      why = std::string(" could not be resolved just now (") + gai_strerror(resolution.status) +
            "): check this computer's network and DNS, and try again.";
    failure_ = Error(ErrorCode::HostNotFound, "The name " + quoted + why);
    return;
  }
  // RFC 8305 §4: alternate the families, starting with the one the system prefers (RFC 6724's
  // order, which getaddrinfo applied).
  std::vector<SocketAddress> first, second;
  const auto family = [](const SocketAddress& address) { return address.storage.ss_family; };
  for (const SocketAddress& address : resolution.addresses)
    (family(address) == family(resolution.addresses.front()) ? first : second).push_back(address);
  addresses_.clear();
  for (std::size_t i = 0; i < first.size() || i < second.size(); ++i) {
    if (i < first.size()) addresses_.push_back(first[i]);
    if (i < second.size()) addresses_.push_back(second[i]);
  }
  nextAddress_ = 0;
  if (addresses_.empty()) {
    failure_ = Error(ErrorCode::HostNotFound, "The name \"" + host_ + "\" has no IPv4 or IPv6 address.");
    return;
  }
  stage_ = Stage::Connecting;
  startAttempts(now);
}

// Starts the next address; one that fails at once (no route, no IPv6 here) gives way to the next.
void PosixTransport::startAttempts(Time now) {
  nextAttemptAt_.reset();
  while (nextAddress_ < addresses_.size()) {
    const SocketAddress& address = addresses_[nextAddress_++];
    const auto* socketAddress = reinterpret_cast<const sockaddr*>(&address.storage);
    const int fd = openSocket(socketAddress->sa_family);
    int error = fd < 0 ? errno : 0;
    if (fd >= 0) {
      if (::connect(fd, socketAddress, address.length) == 0 || errno == EINPROGRESS || errno == EINTR) {
        attempts_.push_back(Attempt{fd, address});
        if (nextAddress_ < addresses_.size()) nextAttemptAt_ = now + kAttemptDelay;
        return;
      }
      error = errno;
      ::close(fd);
    }
    failures_.push_back(Failure{addressText(socketAddress), error});
  }
  if (attempts_.empty()) failure_ = connectFailure();
}

void PosixTransport::attemptFailed(std::size_t index, int error, Time now) {
  const auto* address = reinterpret_cast<const sockaddr*>(&attempts_[index].address.storage);
  failures_.push_back(Failure{addressText(address), error});
  ::close(attempts_[index].fd);
  attempts_.erase(attempts_.begin() + static_cast<std::ptrdiff_t>(index));
  startAttempts(now);  // RFC 8305 §5: the next address at once, not after the delay
  if (attempts_.empty() && !failure_) failure_ = connectFailure();
}

void PosixTransport::won(std::size_t index) {
  fd_ = attempts_[index].fd;
  const SocketAddress peer = attempts_[index].address;
  for (std::size_t i = 0; i < attempts_.size(); ++i)
    if (i != index) ::close(attempts_[i].fd);
  attempts_.clear();
  nextAttemptAt_.reset();
  stage_ = Stage::Open;
  // Commands are small and each batch waits for replies: Nagle would hold every batch back.
  const int on = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  peerAddress_ = addressText(reinterpret_cast<const sockaddr*>(&peer.storage));
  if (handler_) handler_->onTransportConnected(ConnectionInfo{localAddress(fd_), peerAddress_});
}

Error PosixTransport::connectFailure() const {
  const std::string where = host_ + " port " + std::to_string(port_);
  bool anyRefused = false;
  bool allTimedOut = !failures_.empty();
  std::string reasons;
  for (const Failure& failure : failures_) {
    anyRefused = anyRefused || failure.error == ECONNREFUSED;
    allTimedOut = allTimedOut && failure.error == ETIMEDOUT;
    reasons += (reasons.empty() ? "" : "; ") + failure.address + ": " + errorText(failure.error);
  }
  const std::string detail = reasons.empty() ? std::string() : " (" + reasons + ")";
  if (anyRefused)
    return Error(ErrorCode::ConnectionRefused, "Nothing accepts connections on " + where + detail +
                                                   ": check the port number for the security mode, and that the "
                                                   "server runs.");
  if (allTimedOut)
    return Error(ErrorCode::Timeout, "No answer from " + where + detail +
                                         ": a firewall may be dropping the connection, or the server is down.");
  return Error(ErrorCode::ConnectFailed,
               "Could not connect to " + where + detail + ": check the host name and this computer's network.");
}

void PosixTransport::write(std::string_view bytes) {
  if (stage_ != Stage::Open) return;
  pending_.append(bytes);
  unreported_ += bytes.size();
}

void PosixTransport::startTls() {
  if (stage_ != Stage::Open) return;
  // Anything written before this was written in the clear: it leaves first, unencrypted.
  wire_.append(pending_);
  pending_.clear();
  engine_ = std::make_unique<tls::Engine>(tls_, host_, tls::TrustedRoots::system().get());
  if (engine_->status() == tls::Engine::Status::Failed) return failTls(engine_->error());
  engine_->start();
  wire_ += engine_->takeOutgoing();  // the ClientHello, sent before the loop waits
}

void PosixTransport::close() {
  // What was gathered already (QUIT, say) still gets its one chance to leave.
  if (stage_ == Stage::Open && !reported_ && (!engine_ || engine_->status() == tls::Engine::Status::Established)) {
    if (engine_ && !pending_.empty()) engine_->send(pending_);
    wire_ += engine_ ? engine_->takeOutgoing() : pending_;
    pending_.clear();
    if (wireOffset_ < wire_.size()) {
      const std::size_t size = wire_.size() - wireOffset_;
      [[maybe_unused]] const auto sent = ::send(fd_, wire_.data() + wireOffset_, size, kSendFlags);
    }
  }
  release();
}

std::optional<Time> PosixTransport::prepare(std::vector<pollfd>& watch) {
  if (failure_) {
    const Error failure = *failure_;
    failure_.reset();
    reportClosed(failure);
  }
  if (stage_ == Stage::Open) flush();
  switch (stage_) {
    case Stage::Resolving:
      watch.push_back(pollfd{lookup_->pipe[0], POLLIN, 0});
      return std::nullopt;
    case Stage::Connecting:
      for (const Attempt& attempt : attempts_) watch.push_back(pollfd{attempt.fd, POLLOUT, 0});
      return nextAttemptAt_;
    case Stage::Open:
      watch.push_back(pollfd{fd_, static_cast<short>(POLLIN | (wireOffset_ < wire_.size() ? POLLOUT : 0)), 0});
      return std::nullopt;
    case Stage::Idle:
    case Stage::Closed:
      break;
  }
  return std::nullopt;
}

void PosixTransport::dispatch(std::span<const pollfd> ready, Time now) {
  switch (stage_) {
    case Stage::Resolving: {
      if (ready.empty() || !ready[0].revents) return;
      char byte = 0;
      [[maybe_unused]] const auto read = ::read(lookup_->pipe[0], &byte, 1);
      Resolution resolution;
      {
        std::lock_guard lock(lookup_->mutex);
        resolution = std::move(lookup_->resolution);
      }
      lookup_.reset();
      return resolved(resolution, now);
    }
    case Stage::Connecting:
      for (const pollfd& entry : ready) {
        if (!entry.revents || stage_ != Stage::Connecting) continue;
        std::size_t index = 0;
        while (index < attempts_.size() && attempts_[index].fd != entry.fd) ++index;
        if (index == attempts_.size()) continue;
        int error = 0;
        socklen_t length = sizeof error;
        if (getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error == 0 && !(entry.revents & (POLLERR | POLLHUP))) return won(index);
        attemptFailed(index, error ? error : ECONNREFUSED, now);
      }
      if (stage_ == Stage::Connecting && !failure_ && nextAttemptAt_ && now >= *nextAttemptAt_) startAttempts(now);
      return;
    case Stage::Open:
      if (ready.empty() || !ready[0].revents) return;
      if ((ready[0].revents & POLLOUT) && !sendWire()) return;
      if (ready[0].revents & (POLLIN | POLLERR | POLLHUP)) readable();
      return;
    case Stage::Idle:
    case Stage::Closed:
      return;
  }
}

void PosixTransport::readable() {
  if (!readBuffer_) readBuffer_ = std::make_unique<char[]>(kReadSize);
  const std::uint64_t epoch = epoch_;
  for (;;) {
    const ssize_t n = ::recv(fd_, readBuffer_.get(), kReadSize, 0);
    if (n > 0) {
      received(std::string_view(readBuffer_.get(), static_cast<std::size_t>(n)));
      // A short read emptied the socket: poll() says when more comes, without a recv() to learn it.
      if (epoch != epoch_ || reported_ || static_cast<std::size_t>(n) < kReadSize) return;
      continue;
    }
    const int error = n == 0 ? 0 : errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) return;
    // The peer hung up in the middle of a handshake (typical of a clear-text port reached with TLS).
    if (engine_ && engine_->status() == tls::Engine::Status::Handshaking)
      return failTls(tls::handshakeFailure(error ? errorText(error) : "the server closed the connection"));
    if (error == 0) return reportClosed(Error());  // the peer closed: the engine judges whether that was early
    return reportClosed(
        Error(ErrorCode::ConnectionLost, "The connection to " + host_ + " was lost (" + errorText(error) + ")."));
  }
}

void PosixTransport::received(std::string_view bytes) {
  if (!engine_) {
    if (handler_) handler_->onTransportData(bytes);
    return;
  }
  const std::uint64_t epoch = epoch_;
  const auto before = engine_->status();
  std::string plaintext;
  engine_->receive(bytes, plaintext);
  wire_ += engine_->takeOutgoing();  // handshake messages, alerts: sent before the loop waits
  const auto after = engine_->status();
  if (before == tls::Engine::Status::Handshaking && after == tls::Engine::Status::Established) {
    if (handler_) handler_->onTransportTlsEstablished(engine_->info());
  } else if (after == tls::Engine::Status::Failed) {
    return before == tls::Engine::Status::Handshaking ? failTls(engine_->error()) : reportClosed(engine_->error());
  }
  if (!plaintext.empty() && epoch == epoch_ && !reported_ && handler_) handler_->onTransportData(plaintext);
}

// Everything written since the last wait leaves as one batch: encrypted in one go (so as few TLS
// records as the engine allows) and handed to the kernel in one send(). Flushed bytes are then
// reported, which may let the engine write more (the body): that goes out in the same turn.
void PosixTransport::flush() {
  const std::uint64_t epoch = epoch_;
  for (int round = 0; round < 64; ++round) {
    if (!pending_.empty() && engine_) {
      if (engine_->status() != tls::Engine::Status::Established) return;
      engine_->send(pending_);
      if (engine_->status() == tls::Engine::Status::Failed) return reportClosed(engine_->error());
      std::string ciphertext = engine_->takeOutgoing();
      if (wire_.empty()) wire_ = std::move(ciphertext);
      else wire_ += ciphertext;
    } else if (!pending_.empty()) {
      if (wire_.empty()) wire_.swap(pending_);
      else wire_ += pending_;
    }
    pending_.clear();
    if (!sendWire()) return;
    if (unreported_ == 0 || wire_.size() - wireOffset_ > kMaxBacklog || !handler_) return;
    const std::size_t count = unreported_;
    unreported_ = 0;
    handler_->onTransportBytesWritten(count);
    if (epoch != epoch_ || pending_.empty()) return;
  }
}

bool PosixTransport::sendWire() {
  while (wireOffset_ < wire_.size()) {
    const std::size_t size = wire_.size() - wireOffset_;
    const ssize_t n = ::send(fd_, wire_.data() + wireOffset_, size, kSendFlags);
    if (n > 0) {
      wireOffset_ += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < size) break;  // the socket is full: poll() says when it is not
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    reportClosed(Error(ErrorCode::ConnectionLost,
                       "The connection to " + host_ + " was lost while sending (" + errorText(errno) + ")."));
    return false;
  }
  if (wireOffset_ == wire_.size()) {
    wire_.clear();
    wireOffset_ = 0;
  } else if (wireOffset_ > kMaxBacklog) {
    wire_.erase(0, wireOffset_);
    wireOffset_ = 0;
  }
  return true;
}

void PosixTransport::failTls(const Error& error) {
  if (reported_) return;
  reported_ = true;  // the engine ends the session on a TLS failure; no separate close report
  const std::uint64_t epoch = epoch_;
  if (engine_) wire_ += engine_->takeOutgoing();  // the alert that tells the server why
  sendWire();
  if (handler_) handler_->onTransportTlsFailed(error);
  if (epoch == epoch_) release();
}

void PosixTransport::reportClosed(const Error& cause) {
  if (reported_) return;
  reported_ = true;
  release();
  if (handler_) handler_->onTransportClosed(cause);
}

void PosixTransport::release() {
  ++epoch_;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  for (const Attempt& attempt : attempts_) ::close(attempt.fd);
  attempts_.clear();
  addresses_.clear();
  nextAttemptAt_.reset();
  lookup_.reset();
  engine_.reset();
  pending_.clear();
  wire_.clear();
  wireOffset_ = 0;
  stage_ = Stage::Closed;
}

}  // namespace smtpc::posix
