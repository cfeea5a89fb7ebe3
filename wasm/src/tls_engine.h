// TLS inside the module: OpenSSL over memory BIOs. The transport hands it the ciphertext that
// arrived and sends the ciphertext it produces; nothing between the page and the SMTP server (the
// proxy included) ever sees the plaintext. Plain C++ and OpenSSL: no Emscripten API in here.
//
// Verification: the chain against the CA bundle (Debian's ca-certificates, carried by the page)
// plus any CA the user adds, the host name (or IP address), then the pins. Every problem is
// collected during the handshake and decided on after it, so that the "accept an invalid
// certificate" switch and the trust callback can still go on, and so that the report lists all
// of them, not only the first.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/error.h"
#include "smtpc/tls.h"

namespace smtpc::web {

// The trusted roots, parsed once (the page's bundle has ~140 certificates; parsing them for
// every connection cost more than the handshake itself).
class TrustedRoots {
 public:
  explicit TrustedRoots(std::string_view pem);
  ~TrustedRoots();
  TrustedRoots(const TrustedRoots&) = delete;
  TrustedRoots& operator=(const TrustedRoots&) = delete;
  std::size_t size() const { return certificates_.size(); }
  const std::vector<void*>& certificates() const { return certificates_; }  // X509*

 private:
  std::vector<void*> certificates_;
};

class TlsEngine {
 public:
  enum class Status { Handshaking, Established, Failed };

  // `roots`: the page's bundle (may be null); `config.caCertificatesPem` adds to it.
  TlsEngine(const TlsConfig& config, std::string host, const TrustedRoots* roots);
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  // Whether OpenSSL's random generator is seeded (the browser's crypto.getRandomValues). TLS
  // must not run without it.
  static bool entropyOk();

  // Starts the handshake: the ClientHello is then in takeOutgoing().
  void start();
  // Ciphertext from the server. Plaintext that it carries is appended to `plaintext`.
  void receive(std::string_view ciphertext, std::string& plaintext);
  // Plaintext to send; the ciphertext is then in takeOutgoing().
  void send(std::string_view plaintext);
  std::string takeOutgoing();

  Status status() const { return status_; }
  // Set once the handshake is over (with the verification result), or when it failed.
  const TlsInfo& info() const { return info_; }
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
};

}  // namespace smtpc::web
