// What the caller asks of TLS, and what the transport reports after the handshake. The TLS work
// itself is the transport's (QSslSocket natively, OpenSSL memory BIOs in wasm); the engine only
// decides when it starts and reports the result.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace smtpc {

enum class TlsVersion { Tls1_2, Tls1_3 };

struct TlsInfo;

struct TlsConfig {
  bool verifyPeer = true;
  // Teaching switch: go on even though verification failed. Reported loudly in the transcript.
  bool acceptInvalidCertificate = false;
  std::string caCertificatesPem;         // trusted in addition to the system's
  std::vector<std::string> pinnedSha256;  // "sha256//BASE64" of the certificate's public key (SPKI)
  TlsVersion minimumVersion = TlsVersion::Tls1_2;
  std::string verifyName;                // SNI and the name to verify; empty = the host connected to
  std::string clientCertificatePem;
  std::string clientKeyPem;
  // Asked only when verification fails (µC/SMTPc's trust callback): true goes on anyway, and
  // the session reports the certificate as accepted despite its problems.
  std::function<bool(const TlsInfo& info)> trustCallback;
};

struct CertificateInfo {
  std::string subject;
  std::string issuer;
  std::string notBefore;  // ISO 8601, UTC
  std::string notAfter;
  std::vector<std::string> subjectAlternativeNames;
  std::string sha256Fingerprint;  // hex with colons, of the whole certificate
  std::string publicKeySha256;    // base64, of the SPKI: what --pin compares
};

struct TlsInfo {
  std::string protocol;  // "TLSv1.3"
  std::string cipher;    // "TLS_AES_256_GCM_SHA384"
  std::vector<CertificateInfo> chain;  // the peer's certificate first
  bool verified = false;
  // Why verification failed, one entry per problem; empty when verified.
  std::vector<std::string> verificationErrors;
  bool acceptedDespiteErrors = false;
};

}  // namespace smtpc
