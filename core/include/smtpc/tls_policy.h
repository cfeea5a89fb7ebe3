/// \file
/// TLS decisions, made once for every transport (DESIGN.md "TLS policy"). The transports do the
/// TLS work with their library (QSslSocket natively, OpenSSL memory BIOs in wasm) and map that
/// library's findings onto the kinds below; what a problem means, whether to go on anyway, whether
/// a pin matches and what a failed handshake most likely was are decided here, in one place, so
/// the desktop app, the CLI and the page explain a certificate with the same sentences.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/tls.h"

/// TLS decisions made once for every transport: certificate problems in words, whether to go
/// on, pins, what a failed handshake most likely was.
namespace smtpc::tls {

/// What can be wrong with the server's certificate, as far as a person needs to know.
enum class ProblemKind {
  Expired,
  NotYetValid,
  SelfSigned,          ///< the server's own certificate signs itself
  PrivateCaInChain,    ///< the chain ends in a root nobody here trusts (a private CA)
  UntrustedIssuer,     ///< the issuer is unknown or not trusted
  HostNameMismatch,
  NoCertificate,
  Other,               ///< anything else: `detail` holds the library's words
};

/// One problem with the server's certificate, as the transport's library reported it.
struct CertificateProblem {
  ProblemKind kind = ProblemKind::Other;  ///< what is wrong
  std::string subject;  ///< of the certificate the problem is about ("CN=..., O=...")
  std::string issuer;  ///< who signed that certificate
  std::string notBefore;  ///< validity start, ISO 8601
  std::string notAfter;   ///< validity end, ISO 8601
  std::vector<std::string> names;   ///< its subject alternative names
  std::string detail;               ///< the library's text, for Other
};

/// Whose trust store a certificate was checked against, for the sentences: "this computer"
/// (the system's store) or "the page's CA bundle" (the browser build carries its own).
enum class TrustStore { System, PageBundle };

/// One sentence a person can act on.
SMTPC_CORE_EXPORT std::string explain(const CertificateProblem& problem, std::string_view verifyName, TrustStore store);
/// The sentences for all problems, duplicates removed, in order.
SMTPC_CORE_EXPORT std::vector<std::string> explainAll(const std::vector<CertificateProblem>& problems,
                                                      std::string_view verifyName, TrustStore store);

/// After the handshake, with `info.verificationErrors` filled in: go on despite problems? Only when
/// the person switched verification off, asked to accept invalid certificates, or the trust
/// callback says yes. Sets `info.verified` and `info.acceptedDespiteErrors`; an error when refused.
SMTPC_CORE_EXPORT Error decide(const TlsConfig& config, TlsInfo& info);
/// The error for a certificate refused for these problems (explain()'s sentences).
SMTPC_CORE_EXPORT Error refusal(const std::vector<std::string>& problems);

/// The pin of a certificate as --pin takes it: "sha256//" + base64(SHA-256(SPKI)).
SMTPC_CORE_EXPORT std::string pinOf(const CertificateInfo& certificate);
/// No pins, or the server's certificate matches one: no error. Compared in constant time.
SMTPC_CORE_EXPORT Error checkPins(const TlsConfig& config, const TlsInfo& info);

/// The handshake failed; `libraryReason` is the library's text. A clear-text reply where TLS
/// records were expected ("wrong version number", "packet length too long": the server sent
/// "220 ..." in the clear) means the port expects STARTTLS or no TLS.
SMTPC_CORE_EXPORT bool looksLikeClearText(std::string_view libraryReason);
/// The error for a failed handshake: TlsHandshakeFailed, saying "choose STARTTLS" when
/// looksLikeClearText(), else quoting the library.
SMTPC_CORE_EXPORT Error handshakeFailure(std::string_view libraryReason);

/// The name to verify (and send as SNI). Decided before any byte is sent: a name that is neither
/// a host name nor an IP literal would otherwise set up no name check at all in some libraries.
enum class NameKind { HostName, Ipv4, Ipv6, Invalid };
/// What `name` is: a host name, an IPv4 or IPv6 literal, or neither.
SMTPC_CORE_EXPORT NameKind classifyName(std::string_view name);
/// No error for a host name or an IP literal; otherwise one that says what is wrong with it.
SMTPC_CORE_EXPORT Error checkVerifyName(std::string_view name);

}  // namespace smtpc::tls
