#include "tcp_link.h"

#include <QMetaObject>

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace smtpc::proxy {

TcpLink::~TcpLink() { abort(); }

void TcpLink::connectTo(const QHostAddress& address, quint16 port) {
  abort();
  failed_ = false;
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool isV4 = false;
  const quint32 v4 = address.toIPv4Address(&isV4);
  if (isV4 && address.protocol() == QAbstractSocket::IPv4Protocol) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(v4);
    length = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    const Q_IPV6ADDR bytes = address.toIPv6Address();
    std::memcpy(&in6->sin6_addr, &bytes, sizeof bytes);
    if (!address.scopeId().isEmpty()) {  // a link-local address names its interface
      bool numeric = false;
      const uint index = address.scopeId().toUInt(&numeric);
      in6->sin6_scope_id = numeric ? index : if_nametoindex(address.scopeId().toLatin1().constData());
    }
    length = sizeof *in6;
  }
  fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail(errno);
    return;
  }
  // SMTP is a conversation of short lines: no Nagle delay toward the server either.
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  readNotifier_ = std::make_unique<QSocketNotifier>(fd_, QSocketNotifier::Read);
  readNotifier_->setEnabled(false);
  connect(readNotifier_.get(), &QSocketNotifier::activated, this, &TcpLink::readable);
  writeNotifier_ = std::make_unique<QSocketNotifier>(fd_, QSocketNotifier::Write);
  connect(writeNotifier_.get(), &QSocketNotifier::activated, this, &TcpLink::onWritable);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 && errno != EINPROGRESS) {
    fail(errno);
    return;
  }
  // Connected or not yet: either way the socket becomes writable, and SO_ERROR says which.
  writeNotifier_->setEnabled(true);
}

void TcpLink::onWritable() {
  if (!connected_) {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      writeNotifier_->setEnabled(false);
      fail(error);
      return;
    }
    connected_ = true;
    writeNotifier_->setEnabled(false);
    readNotifier_->setEnabled(reading_ && !closing_);
    flushQueue();  // whatever was written before the connection was up
    emit connected();
    return;
  }
  const qint64 before = bytesToWrite();
  flushQueue();
  if (bytesToWrite() < before) emit written();
}

void TcpLink::write(QByteArrayView bytes) {
  if (bytes.isEmpty() || failed_ || fd_ < 0) return;
  qsizetype sent = 0;
  if (connected_ && bytesToWrite() == 0) {
    const ssize_t n = ::send(fd_, bytes.data(), static_cast<size_t>(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail(errno);
      return;
    }
    sent = n > 0 ? n : 0;
  }
  if (sent == bytes.size()) return;
  if (queueSent_ > 0 && queueSent_ == queue_.size()) {
    queue_.clear();
    queueSent_ = 0;
  }
  queue_.append(bytes.data() + sent, bytes.size() - sent);
  if (connected_) writeNotifier_->setEnabled(true);
}

void TcpLink::flushQueue() {
  while (bytesToWrite() > 0) {
    const ssize_t n = ::send(fd_, queue_.constData() + queueSent_, static_cast<size_t>(bytesToWrite()), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      queueSent_ += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    fail(n < 0 ? errno : EPIPE);
    return;
  }
  if (bytesToWrite() == 0) {
    queue_.clear();
    queueSent_ = 0;
    if (writeNotifier_) writeNotifier_->setEnabled(false);
    if (closing_) ::shutdown(fd_, SHUT_WR);
  } else {
    if (queueSent_ > queue_.size() / 2) {  // keep the queue from growing at the front
      queue_.remove(0, queueSent_);
      queueSent_ = 0;
    }
    writeNotifier_->setEnabled(true);
  }
}

void TcpLink::setReading(bool on) {
  reading_ = on;
  if (readNotifier_ && connected_) readNotifier_->setEnabled(on && !closing_);
}

void TcpLink::closeAfterWrites() {
  if (closing_ || fd_ < 0) return;
  closing_ = true;
  if (!connected_) {
    abort();
    return;
  }
  readNotifier_->setEnabled(false);
  flushQueue();
}

void TcpLink::abort() {
  readNotifier_.reset();
  writeNotifier_.reset();
  if (fd_ >= 0) {
    // A last try for what is still queued (a relay ends right after a client's close).
    if (connected_ && !failed_ && bytesToWrite() > 0)
      (void)::send(fd_, queue_.constData() + queueSent_, static_cast<size_t>(bytesToWrite()), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd_);
  }
  fd_ = -1;
  connected_ = false;
  queue_.clear();
  queueSent_ = 0;
}

void TcpLink::fail(int error) {
  if (failed_) return;
  failed_ = true;
  if (writeNotifier_) writeNotifier_->setEnabled(false);
  if (readNotifier_) readNotifier_->setEnabled(false);
  // Never from inside connectTo() or write(): the relay may be in the middle of something.
  QMetaObject::invokeMethod(this, [this, error] { emit failed(error); }, Qt::QueuedConnection);
}

}  // namespace smtpc::proxy
