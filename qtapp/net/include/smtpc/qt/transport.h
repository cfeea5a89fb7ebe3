/// \file
/// QtTransport: smtpc::Transport over QSslSocket (TCP, STARTTLS, implicit TLS), and QtTimer.
/// Thin adapters: no protocol logic, no nested event loops; everything on the caller's thread.
#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QSslError>
#include <QSslSocket>
#include <QTimer>
#include <memory>

#include "smtpc/qt/qt_export.h"
#include "smtpc/transport.h"

namespace smtpc::qt {

/// smtpc::Transport over QSslSocket: TCP, STARTTLS and implicit TLS, verified against the
/// system's CAs plus TlsConfig's, with core's TLS policy deciding. Everything on the caller's thread.
class SMTPC_QT_EXPORT QtTransport final : public QObject, public Transport {
  Q_OBJECT
 public:
  /// A transport with no connection yet.
  explicit QtTransport(QObject* parent = nullptr);
  ~QtTransport() override;

  void connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) override;
  void write(std::string_view bytes) override;
  void startTls() override;
  void close() override;

  /// What verification found, with an explanation per problem ("expired on ...: ...").
  static std::vector<std::string> explainSslErrors(const QList<QSslError>& errors, const QString& host);
  /// What a handshake on `socket` negotiated and found (`errors`, as explained by explainSslErrors());
  /// `accepted`: the connection goes on despite them.
  static TlsInfo describe(const QSslSocket& socket, const QList<QSslError>& errors, bool accepted);

 private:
  void onConnected();
  void onReadyRead();
  void onEncrypted();
  void onSslErrors(const QList<QSslError>& errors);
  void onErrorOccurred(QAbstractSocket::SocketError error);
  void onDisconnected();
  Error tlsFailure() const;
  void failTls(const Error& error);
  void reportWritten();

  QSslSocket socket_;
  TlsConfig tls_;
  QString host_;
  std::uint16_t port_ = 0;
  QList<QSslError> sslErrors_;
  bool tlsStarted_ = false;
  bool handshakeDone_ = false;
  bool closing_ = false;
  bool reportedClosed_ = false;
  Error pendingError_;
  std::uint64_t accepted_ = 0;  // plain-text bytes given to the socket since connect()
  std::uint64_t reported_ = 0;  // of those, reported to the engine as passed on
};

/// smtpc::Timer over QTimer, on a QElapsedTimer's monotonic clock.
class SMTPC_QT_EXPORT QtTimer final : public QObject, public Timer {
  Q_OBJECT
 public:
  /// A timer with nothing scheduled; its clock starts now.
  explicit QtTimer(QObject* parent = nullptr);
  Time now() const override;
  void schedule(std::optional<Time> deadline) override;

 private:
  QElapsedTimer clock_;
  QTimer timer_;
};

}  // namespace smtpc::qt
