/// \file
/// What the caller asks of TLS, and what the transport reports after the handshake. The TLS work
/// itself is the transport's (QSslSocket in the Qt library; OpenSSL on memory BIOs, smtpc/tls/engine.h,
/// in the C API and the page); the engine only decides when it starts and reports the result.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace smtpc {

/// The oldest TLS version the client accepts.
enum class TlsVersion {
  Tls1_2,  ///< TLS 1.2 (RFC 5246) or newer
  Tls1_3   ///< TLS 1.3 (RFC 8446) only
};

struct TlsInfo;

/// What the caller asks of TLS (ConnectParams::tls): verification, extra trust, pins, the name to
/// check, a client certificate. Secure by default: the peer is verified against the system's CAs.
struct TlsConfig {
  bool verifyPeer = true;  ///< check the certificate chain and the name (off: anything is accepted, and said so)
  /// Teaching switch: go on even though verification failed. Reported loudly in the transcript.
  bool acceptInvalidCertificate = false;
  std::string caCertificatesPem;         ///< trusted in addition to the system's
  std::vector<std::string> pinnedSha256;  ///< "sha256//BASE64" of the certificate's public key (SPKI)
  TlsVersion minimumVersion = TlsVersion::Tls1_2;  ///< the oldest version accepted
  std::string verifyName;                ///< SNI and the name to verify; empty = the host connected to
  std::string clientCertificatePem;  ///< a client certificate (PEM) for servers that ask for one (mutual TLS)
  std::string clientKeyPem;  ///< its private key (PEM)
  /// Asked only when verification fails (µC/SMTPc's trust callback): true goes on anyway, and
  /// the session reports the certificate as accepted despite its problems.
  std::function<bool(const TlsInfo& info)> trustCallback;
};

/// One certificate of the server's chain, as a person reads it.
struct CertificateInfo {
  std::string subject;  ///< its subject, e.g. "CN=mail.example.org"
  std::string issuer;  ///< who signed it
  std::string notBefore;  ///< ISO 8601, UTC
  std::string notAfter;  ///< ISO 8601, UTC
  std::vector<std::string> subjectAlternativeNames;  ///< the names it is valid for
  std::string sha256Fingerprint;  ///< hex with colons, of the whole certificate
  std::string publicKeySha256;    ///< base64, of the SPKI: what --pin compares
};

/// What the handshake negotiated and what verification found (the TlsReady event).
struct TlsInfo {
  std::string protocol;  ///< "TLSv1.3"
  std::string cipher;    ///< "TLS_AES_256_GCM_SHA384"
  std::vector<CertificateInfo> chain;  ///< the peer's certificate first
  bool verified = false;  ///< the chain and the name checked out
  /// Why verification failed, one entry per problem; empty when verified.
  std::vector<std::string> verificationErrors;
  /// verification failed and the connection went on anyway (accept-invalid switch or trust callback)
  bool acceptedDespiteErrors = false;
};

}  // namespace smtpc
