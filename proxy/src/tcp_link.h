// The proxy's side toward the SMTP server: a non-blocking socket of the relay's own (not a
// QTcpSocket), so that the relay decides how the server's bytes are read. A bulk download then
// moves from this socket to the browser's with splice(2), never through the relay's memory;
// QTcpSocket would always copy them into its buffer first.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QSocketNotifier>
#include <memory>

namespace smtpc::proxy {

class TcpLink : public QObject {
  Q_OBJECT
 public:
  explicit TcpLink(QObject* parent = nullptr) : QObject(parent) {}
  ~TcpLink() override;

  // Starts connecting; connected() or failed(errno) follows, never from inside this call.
  void connectTo(const QHostAddress& address, quint16 port);
  bool isConnected() const { return connected_; }
  int descriptor() const { return fd_; }

  // Sends what the kernel takes now and keeps the rest, in order (bytesToWrite()); written()
  // when some of that left. A failure is reported by failed(errno), later.
  void write(QByteArrayView bytes);
  qint64 bytesToWrite() const { return queue_.size() - queueSent_; }

  // readable() while on and the server has sent something (level-triggered: the relay turns it
  // off while it cannot take more). The relay reads descriptor() itself.
  void setReading(bool on);

  // Sends what is queued, then FIN; reading stops. The descriptor is closed on destruction.
  void closeAfterWrites();
  // Closes now; nothing more is signalled.
  void abort();

 signals:
  void connected();
  void failed(int error);
  void readable();
  void written();

 private:
  void onWritable();
  void flushQueue();
  void fail(int error);

  int fd_ = -1;
  bool connected_ = false, closing_ = false, reading_ = false, failed_ = false;
  std::unique_ptr<QSocketNotifier> readNotifier_, writeNotifier_;
  QByteArray queue_;
  qsizetype queueSent_ = 0;  // the front of queue_ already sent
};

}  // namespace smtpc::proxy
