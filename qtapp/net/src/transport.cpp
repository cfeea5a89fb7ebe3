#include "smtpc/qt/transport.h"

#include <QCryptographicHash>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslKey>

#include "smtpc/tls_policy.h"

Q_LOGGING_CATEGORY(lcNet, "smtpc.net", QtWarningMsg)

namespace smtpc::qt {

namespace {

std::string str(const QString& s) { return s.toStdString(); }

QString colonHex(const QByteArray& digest) {
  return QString::fromLatin1(digest.toHex(':')).toUpper();
}

QString protocolName(QSsl::SslProtocol protocol) {
  switch (protocol) {
    case QSsl::TlsV1_2: return QStringLiteral("TLSv1.2");
    case QSsl::TlsV1_3: return QStringLiteral("TLSv1.3");
    default: return QStringLiteral("TLS (older than 1.2)");
  }
}

QString certificateName(const QSslCertificate& certificate, bool issuer) {
  const auto cn = issuer ? certificate.issuerInfo(QSslCertificate::CommonName)
                         : certificate.subjectInfo(QSslCertificate::CommonName);
  const auto org = issuer ? certificate.issuerInfo(QSslCertificate::Organization)
                          : certificate.subjectInfo(QSslCertificate::Organization);
  QString name = cn.isEmpty() ? QStringLiteral("(no common name)") : QStringLiteral("CN=") + cn.join(QStringLiteral(", "));
  if (!org.isEmpty()) name += QStringLiteral(", O=") + org.join(QStringLiteral(", "));
  return name;
}

}  // namespace

QtTransport::QtTransport(QObject* parent) : QObject(parent) {
  QObject::connect(&socket_, &QSslSocket::connected, this, &QtTransport::onConnected);
  QObject::connect(&socket_, &QSslSocket::readyRead, this, &QtTransport::onReadyRead);
  QObject::connect(&socket_, &QSslSocket::encrypted, this, &QtTransport::onEncrypted);
  QObject::connect(&socket_, &QSslSocket::sslErrors, this, &QtTransport::onSslErrors);
  QObject::connect(&socket_, &QSslSocket::errorOccurred, this, &QtTransport::onErrorOccurred);
  QObject::connect(&socket_, &QSslSocket::disconnected, this, &QtTransport::onDisconnected);
  // The engine's flow control (its body window): plain-text bytes the socket took. Under TLS
  // bytesWritten means "encrypted", not "sent": the ciphertext then waits in Qt's buffer, so it
  // is reported only while that backlog is short (reportWritten). Without this, a 40 MB
  // --data-file to a slow server sat in memory as ciphertext (peak RSS 62 MB instead of 20).
  // The count is taken from bytesToWrite(), never summed from the signals' arguments: Qt does not
  // emit bytesWritten for a write made while its own bytesWritten is being delivered (the engine
  // writes its next chunk from that very signal, and write() flushes), so summed counts lost
  // whole chunks and a long BDAT or DATA transfer waited forever for its window to reopen.
  QObject::connect(&socket_, &QSslSocket::bytesWritten, this, [this](qint64) { reportWritten(); });
  QObject::connect(&socket_, &QSslSocket::encryptedBytesWritten, this, [this](qint64) { reportWritten(); });
}

void QtTransport::reportWritten() {
  constexpr qint64 kMaxCiphertextBacklog = 256 * 1024;
  if (socket_.encryptedBytesToWrite() > kMaxCiphertextBacklog) return;
  // Plain text passed on: to the kernel without TLS, to the encryption with it.
  const std::uint64_t passedOn = accepted_ - static_cast<std::uint64_t>(std::max<qint64>(socket_.bytesToWrite(), 0));
  if (passedOn <= reported_) return;
  const std::size_t n = static_cast<std::size_t>(passedOn - reported_);
  reported_ = passedOn;
  if (handler_) handler_->onTransportBytesWritten(n);
}

QtTransport::~QtTransport() {
  setHandler(nullptr);
  socket_.abort();
}

void QtTransport::connect(const std::string& host, std::uint16_t port, const TlsConfig& tls) {
  tls_ = tls;
  host_ = QString::fromStdString(host);
  port_ = port;
  tlsStarted_ = handshakeDone_ = closing_ = reportedClosed_ = false;
  accepted_ = reported_ = 0;
  sslErrors_.clear();
  pendingError_ = Error();
  qCDebug(lcNet) << "connecting to" << host_ << port;
  socket_.connectToHost(host_, port);
}

void QtTransport::onConnected() {
  // TCP_NODELAY: commands are small and each waits for a reply; Nagle would add a delay per
  // pipelined batch (lettre measured 40 ms a message without this).
  socket_.setSocketOption(QAbstractSocket::LowDelayOption, 1);
  if (handler_)
    handler_->onTransportConnected(
        ConnectionInfo{str(socket_.localAddress().toString()), str(socket_.peerAddress().toString())});
}

void QtTransport::onReadyRead() {
  const QByteArray data = socket_.readAll();
  if (handler_ && !data.isEmpty()) handler_->onTransportData(std::string_view(data.constData(), data.size()));
}

void QtTransport::write(std::string_view bytes) {
  const qint64 taken = socket_.write(bytes.data(), static_cast<qint64>(bytes.size()));
  if (taken > 0) accepted_ += static_cast<std::uint64_t>(taken);
  // Out now, not on the event loop's next turn: the client gathers a round's writes into one
  // call, and a batch waits for its replies anyway. Left to the loop, each write cost a wake-up,
  // a poll for "writable" and the write itself. What the kernel cannot take yet stays buffered
  // and goes out when the socket is writable, as before.
  socket_.flush();
  // What flush() wrote at once may have been written inside Qt's own bytesWritten (see the
  // constructor), which then is not emitted: counted on the next turn of the loop instead.
  QMetaObject::invokeMethod(this, &QtTransport::reportWritten, Qt::QueuedConnection);
}

void QtTransport::startTls() {
  QSslConfiguration config = QSslConfiguration::defaultConfiguration();
  config.setProtocol(tls_.minimumVersion == TlsVersion::Tls1_3 ? QSsl::TlsV1_3OrLater : QSsl::TlsV1_2OrLater);
  // Verification always runs, so its findings can be shown; "accept invalid" only ignores them.
  config.setPeerVerifyMode(QSslSocket::VerifyPeer);
  tlsStarted_ = true;
  if (!tls_.caCertificatesPem.empty()) {
    auto extra = QSslCertificate::fromData(QByteArray::fromStdString(tls_.caCertificatesPem), QSsl::Pem);
    if (extra.isEmpty()) {
      failTls(Error(ErrorCode::InvalidArgument, "The CA certificates given are not PEM certificates."));
      return;
    }
    config.addCaCertificates(extra);
  }
  if (!tls_.clientCertificatePem.empty()) {
    config.setLocalCertificate(QSslCertificate(QByteArray::fromStdString(tls_.clientCertificatePem), QSsl::Pem));
    QSslKey key(QByteArray::fromStdString(tls_.clientKeyPem), QSsl::Ec, QSsl::Pem);
    if (key.isNull()) key = QSslKey(QByteArray::fromStdString(tls_.clientKeyPem), QSsl::Rsa, QSsl::Pem);
    if (key.isNull()) {
      failTls(Error(ErrorCode::InvalidArgument, "The client key is not a PEM RSA or EC private key."));
      return;
    }
    config.setPrivateKey(key);
  }
  socket_.setSslConfiguration(config);
  socket_.setPeerVerifyName(tls_.verifyName.empty() ? host_ : QString::fromStdString(tls_.verifyName));
  socket_.startClientEncryption();
}

void QtTransport::onSslErrors(const QList<QSslError>& errors) {
  sslErrors_ = errors;
  TlsInfo info = describe(socket_, errors, false);
  if (!tls::decide(tls_, info)) socket_.ignoreSslErrors();  // core's rule: accept anyway or refuse
}

std::vector<std::string> QtTransport::explainSslErrors(const QList<QSslError>& errors, const QString& host) {
  // Qt's findings mapped onto core's problem kinds; the sentences are core's (tls_policy.h).
  std::vector<tls::CertificateProblem> problems;
  for (const QSslError& e : errors) {
    const QSslCertificate& c = e.certificate();
    tls::CertificateProblem p;
    p.subject = str(certificateName(c, false));
    p.issuer = str(certificateName(c, true));
    p.notBefore = str(c.effectiveDate().toString(Qt::ISODate));
    p.notAfter = str(c.expiryDate().toString(Qt::ISODate));
    switch (e.error()) {
      case QSslError::CertificateExpired: p.kind = tls::ProblemKind::Expired; break;
      case QSslError::CertificateNotYetValid: p.kind = tls::ProblemKind::NotYetValid; break;
      case QSslError::SelfSignedCertificate: p.kind = tls::ProblemKind::SelfSigned; break;
      case QSslError::SelfSignedCertificateInChain: p.kind = tls::ProblemKind::PrivateCaInChain; break;
      case QSslError::HostNameMismatch:
        p.kind = tls::ProblemKind::HostNameMismatch;
        for (const QString& san : c.subjectAlternativeNames().values()) p.names.push_back(str(san));
        p.subject = str(c.subjectInfo(QSslCertificate::CommonName).join(QStringLiteral(", ")));
        break;
      case QSslError::UnableToGetLocalIssuerCertificate:
      case QSslError::UnableToGetIssuerCertificate:
      case QSslError::UnableToVerifyFirstCertificate:
      case QSslError::CertificateUntrusted:
        p.kind = tls::ProblemKind::UntrustedIssuer;
        break;
      case QSslError::NoPeerCertificate: p.kind = tls::ProblemKind::NoCertificate; break;
      default:
        p.kind = tls::ProblemKind::Other;
        p.detail = str(e.errorString());
        break;
    }
    problems.push_back(std::move(p));
  }
  return tls::explainAll(problems, str(host), tls::TrustStore::System);
}

TlsInfo QtTransport::describe(const QSslSocket& socket, const QList<QSslError>& errors, bool accepted) {
  TlsInfo info;
  info.protocol = str(protocolName(socket.sessionProtocol()));
  info.cipher = str(socket.sessionCipher().name());
  for (const QSslCertificate& c : socket.peerCertificateChain()) {
    CertificateInfo ci;
    ci.subject = str(certificateName(c, false));
    ci.issuer = str(certificateName(c, true));
    ci.notBefore = str(c.effectiveDate().toUTC().toString(Qt::ISODate));
    ci.notAfter = str(c.expiryDate().toUTC().toString(Qt::ISODate));
    for (const QString& san : c.subjectAlternativeNames().values()) ci.subjectAlternativeNames.push_back(str(san));
    ci.sha256Fingerprint = str(colonHex(c.digest(QCryptographicHash::Sha256)));
    ci.publicKeySha256 =
        str(QString::fromLatin1(QCryptographicHash::hash(c.publicKey().toDer(), QCryptographicHash::Sha256).toBase64()));
    info.chain.push_back(std::move(ci));
  }
  info.verified = errors.isEmpty();
  info.verificationErrors = explainSslErrors(errors, socket.peerVerifyName());
  info.acceptedDespiteErrors = accepted && !errors.isEmpty();
  return info;
}

void QtTransport::onEncrypted() {
  handshakeDone_ = true;
  TlsInfo info = describe(socket_, sslErrors_, !sslErrors_.isEmpty());
  if (Error error = tls::checkPins(tls_, info)) {
    failTls(error);
    return;
  }
  if (handler_) handler_->onTransportTlsEstablished(info);
}

Error QtTransport::tlsFailure() const {
  if (!sslErrors_.isEmpty()) return tls::refusal(explainSslErrors(sslErrors_, socket_.peerVerifyName()));
  return tls::handshakeFailure(str(socket_.errorString()));
}

void QtTransport::onErrorOccurred(QAbstractSocket::SocketError error) {
  if (closing_ || reportedClosed_) return;
  qCDebug(lcNet) << "socket error" << error << socket_.errorString();
  switch (error) {
    case QAbstractSocket::RemoteHostClosedError:
      return;  // disconnected() follows: a clean close by the peer
    case QAbstractSocket::HostNotFoundError:
      pendingError_ = Error(ErrorCode::HostNotFound, "The name \"" + str(host_) + "\" could not be resolved: check "
                                                     "its spelling and this computer's DNS.");
      break;
    case QAbstractSocket::ConnectionRefusedError:
      pendingError_ = Error(ErrorCode::ConnectionRefused,
                            "Nothing accepts connections on " + str(host_) + " port " + std::to_string(port_) +
                                ": check the port number for the security mode, and that the server runs.");
      break;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
      failTls(tlsFailure());
      return;
    default:
      pendingError_ = Error(socket_.state() == QAbstractSocket::ConnectedState || tlsStarted_ ? ErrorCode::ConnectionLost
                                                                                                : ErrorCode::ConnectFailed,
                            "The connection failed: " + str(socket_.errorString()) + ".");
      break;
  }
  if (socket_.state() == QAbstractSocket::UnconnectedState) onDisconnected();
}

void QtTransport::failTls(const Error& error) {
  if (reportedClosed_) return;
  reportedClosed_ = true;  // the engine ends the session on a TLS failure; no separate close report
  if (handler_) handler_->onTransportTlsFailed(error);
  if (!closing_) socket_.abort();
}

void QtTransport::onDisconnected() {
  if (closing_ || reportedClosed_) return;
  // The peer hung up in the middle of a handshake (typical of a clear-text port reached with TLS).
  if (tlsStarted_ && !handshakeDone_) {
    failTls(pendingError_.isError() ? pendingError_ : tlsFailure());
    return;
  }
  reportedClosed_ = true;
  if (handler_) handler_->onTransportClosed(pendingError_);
}

void QtTransport::close() {
  closing_ = true;
  socket_.disconnectFromHost();
  if (socket_.state() != QAbstractSocket::UnconnectedState) socket_.abort();
}

QtTimer::QtTimer(QObject* parent) : QObject(parent) {
  clock_.start();
  timer_.setSingleShot(true);
  timer_.setTimerType(Qt::PreciseTimer);
  QObject::connect(&timer_, &QTimer::timeout, this, [this] {
    if (handler_) handler_->onTimerFired();
  });
}

Time QtTimer::now() const { return Time(clock_.elapsed()); }

void QtTimer::schedule(std::optional<Time> deadline) {
  if (!deadline) {
    timer_.stop();
    return;
  }
  const auto wait = std::max<std::int64_t>(0, (*deadline - now()).count());
  timer_.start(std::chrono::milliseconds(wait));
}

}  // namespace smtpc::qt
