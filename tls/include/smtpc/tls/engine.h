/// @file
/// @brief TLS on OpenSSL memory BIOs, for the transports that own their sockets.
///
/// The page's WebSocket transport (wasm) and the C API's POSIX transport (native) use it. The
/// transport hands the engine the ciphertext that arrived and sends the ciphertext it produces;
/// in the browser nothing between the page and the SMTP server (the proxy included) ever sees the
/// plaintext. Plain C++ and OpenSSL: no Emscripten API and no socket in here.
///
/// Verification: the chain against the trusted roots (the page's CA bundle in the browser, the
/// system's store natively) plus any CA the user adds, the host name (or IP address), then the
/// pins, with core's TLS policy (smtpc/tls_policy.h). Every problem is collected during the
/// handshake and decided on after it, so that the "accept an invalid certificate" switch and the
/// trust callback can still go on, and so that the report lists all of them, not only the first.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/error.h"
#include "smtpc/tls.h"
#include "smtpc/tls_policy.h"

namespace smtpc::tls {

/// The trusted roots, set up once and shared by every connection: parsing a bundle of ~140
/// certificates cost more than the handshake itself (in the page), and 25 ms natively.
class TrustedRoots {
 public:
  /// A PEM bundle: the page's (Debian's ca-certificates) or extra CAs, trusted as `store` says.
  /// Whatever is not a certificate is skipped; size() says how many were found.
  explicit TrustedRoots(std::string_view pem, TrustStore store = TrustStore::PageBundle);
  ~TrustedRoots();
  TrustedRoots(const TrustedRoots&) = delete;
  TrustedRoots& operator=(const TrustedRoots&) = delete;

#ifndef __EMSCRIPTEN__
  /// The system's store, as OpenSSL's default verify paths name it (SSL_CERT_DIR and
  /// SSL_CERT_FILE override them), set up once per process. A hashed directory (/etc/ssl/certs,
  /// as c_rehash and update-ca-certificates leave it) is looked up lazily: a handshake reads only
  /// the root it needs, and nothing is parsed up front. The bundle file is parsed (once) only
  /// when the directory has no hashed names (Fedora's layout) or SSL_CERT_FILE names another file
  /// than the default bundle. Native builds only.
  static std::shared_ptr<const TrustedRoots> system();
#endif

  /// How many certificates were parsed (a hashed directory's are not counted: they are read
  /// when a handshake needs them).
  std::size_t size() const { return certificates_.size(); }
  /// The parsed certificates, as OpenSSL's X509* (void*: no OpenSSL in this header).
  const std::vector<void*>& certificates() const { return certificates_; }
  /// Whose roots these are, for the sentences that explain a problem.
  TrustStore store() const { return store_; }
  /// Makes an OpenSSL X509_STORE (given as void*) trust these roots.
  void addTo(void* x509Store) const;

 private:
  explicit TrustedRoots(TrustStore store) : store_(store) {}

  std::vector<void*> certificates_;
  std::string hashedDirectories_;  // looked up lazily; OpenSSL's list syntax (':'-separated)
  TrustStore store_;
};

/// The client side of one TLS connection over memory buffers: the transport moves the bytes.
class Engine {
 public:
  /// Where the connection is.
  enum class Status {
    Handshaking,  ///< the handshake is under way
    Established,  ///< application data flows (info() says what was agreed and verified)
    Failed,       ///< for good: error() says why
  };

  /// `roots`: the trusted roots (may be null: only `config.caCertificatesPem` is trusted then);
  /// `config.caCertificatesPem` adds to them. `host` is the name verified (and sent as SNI)
  /// unless `config.verifyName` gives another. A bad configuration shows as status() Failed.
  Engine(const TlsConfig& config, std::string host, const TrustedRoots* roots);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Whether OpenSSL's random generator is seeded (in the browser: crypto.getRandomValues). TLS
  /// must not run without it.
  static bool entropyOk();

  /// Starts the handshake: the ClientHello is then in takeOutgoing().
  void start();
  /// Ciphertext from the server. Plaintext that it carries is appended to `plaintext`.
  void receive(std::string_view ciphertext, std::string& plaintext);
  /// Plaintext to send; the ciphertext is then in takeOutgoing().
  void send(std::string_view plaintext);
  /// The ciphertext produced so far (handshake messages, records, alerts), for the wire.
  std::string takeOutgoing();

  /// Handshaking, established or failed.
  Status status() const { return status_; }
  /// Set once the handshake is over (with the verification result), or when it failed.
  const TlsInfo& info() const { return info_; }
  /// Why the engine failed (status() Failed); empty otherwise.
  const Error& error() const { return error_; }

 private:
  void advance();
  void finishHandshake();
  void fail(Error error);

  struct State;
  std::unique_ptr<State> state_;
  TlsConfig config_;
  std::string host_;
  Status status_ = Status::Handshaking;
  TlsInfo info_;
  Error error_;
  TrustStore trustStore_ = TrustStore::PageBundle;
};

}  // namespace smtpc::tls
