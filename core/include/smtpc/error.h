/// \file
/// smtpc::Error — what went wrong, whose fault it was, and what a person can do about it.
///
/// Every meaning of µC/SMTPc's SMTPc_ERR_* codes has a code here (the legacy column below),
/// plus what that API could not express (timeouts, TLS, STARTTLS, SASL, per-recipient results).
/// An Error carries the server's reply when there was one, so "550 5.1.1 no such user" is never
/// replaced by a generic "server error".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "smtpc/core_export.h"
#include "smtpc/reply.h"
#include "smtpc/step.h"

namespace smtpc {

namespace sasl {
struct TokenRefusal;  // smtpc/sasl.h
}

/// µC/SMTPc's error codes, named as in smtp-c.h (capi/include/smtpc/smtp-c.h holds their
/// numbers, which are the C API's business: core only says which one an error is, and the C API
/// builds its table from this list, so a name missing there does not compile).
#define SMTPC_LEGACY_CODES(X)                                                                                \
  X(SMTPc_ERR_NONE)                                                                                          \
  X(SMTPc_ERR_NULL_PTR)                                                                                      \
  X(SMTPc_ERR_INVALID_ARG)                                                                                   \
  X(SMTPc_ERR_SOCK_CONN_FAILED)                                                                              \
  X(SMTPc_ERR_RX_FAILED)                                                                                     \
  X(SMTPc_ERR_TX_FAILED)                                                                                     \
  X(SMTPc_ERR_LINE_TOO_LONG)                                                                                 \
  X(SMTPc_ERR_STR_TOO_LONG)                                                                                  \
  X(SMTPc_ERR_REP)                                                                                           \
  X(SMTPc_ERR_ENCODE)                                                                                        \
  X(SMTPc_ERR_AUTH_FAILED)                                                                                   \
  X(SMTPc_ERR_SECURE_NOT_AVAIL)                                                                              \
  X(SMTPc_ERR_HOST_NOT_FOUND)                                                                                \
  X(SMTPc_ERR_TIMEOUT)                                                                                       \
  X(SMTPc_ERR_CONN_LOST)                                                                                     \
  X(SMTPc_ERR_TLS_HANDSHAKE)                                                                                 \
  X(SMTPc_ERR_CERT_INVALID)                                                                                  \
  X(SMTPc_ERR_STARTTLS_NOT_OFFERED)                                                                          \
  X(SMTPc_ERR_AUTH_NOT_OFFERED)                                                                              \
  X(SMTPc_ERR_NO_COMMON_MECH)                                                                                \
  X(SMTPc_ERR_PLAINTEXT_AUTH_REFUSED)                                                                        \
  X(SMTPc_ERR_PROTOCOL)                                                                                      \
  X(SMTPc_ERR_SENDER_REJECTED)                                                                               \
  X(SMTPc_ERR_RCPT_REJECTED)                                                                                 \
  X(SMTPc_ERR_MSG_TOO_LARGE)                                                                                 \
  X(SMTPc_ERR_MSG_REJECTED)                                                                                  \
  X(SMTPc_ERR_SERVER_REFUSED)                                                                                \
  X(SMTPc_ERR_FILE)                                                                                          \
  X(SMTPc_ERR_CANCELLED)                                                                                     \
  X(SMTPc_ERR_INVALID_HANDLE)

/// The C API's error code for an error (legacyCodeOf()): one value per row of #SMTPC_LEGACY_CODES,
/// named as the SMTPc_ERR_* constant of smtp-c.h.
enum class LegacyCode {
#define SMTPC_X(name) name,
  SMTPC_LEGACY_CODES(SMTPC_X)
#undef SMTPC_X
};

/// The CLI's exit status for an error (smtpc(1)): which kind of thing a person has to fix.
enum class ExitClass {
  Ok = 0,              ///< success
  Usage = 1,           ///< bad usage or input: fix the command line or the message
  Network = 2,         ///< name, refused, lost, timeout
  Tls = 3,             ///< handshake, certificate, STARTTLS
  Auth = 4,            ///< login
  MessageRefused = 5,  ///< sender, recipients, size, content
  ServerSide = 6,      ///< the server refused or broke the protocol
  Cancelled = 7,       ///< the run was cancelled
};

/// X-macro, one row per error. Columns:
/// ```
///   code   the ErrorCode
///   fault  whose fault it is (Fault below)
///   exit   the CLI's exit status (ExitClass)
///   legacy the C API's SMTPc_ERR_* code (LegacyCode, without its SMTPc_ERR_ prefix)
///   step   where the step bar shows it failed: a Step (smtpc/step.h) when the error always
///          belongs to one, UnderWay for the step that was under way when it happened
///   text   one sentence a learner can act on: the default explanation; the engine may give a more
///          specific one with the error.
/// ```
/// Adding an error is one row here; every table that says something about errors comes from it.
#define SMTPC_ERROR_CODES(X)                                                                                 \
  X(None, Local, Ok, NONE, UnderWay,                                                                         \
    "No error.")                                                                                             \
  X(NullArgument, Local, Usage, NULL_PTR, UnderWay,                                                          \
    "A required value was missing.")                                                                         \
  X(InvalidArgument, Local, Usage, INVALID_ARG, UnderWay,                                                    \
    "A value given to SMTPc is not valid; the message names it.")                                            \
  X(LineTooLong, Local, Usage, LINE_TOO_LONG, UnderWay,                                                      \
    "A command line would exceed the SMTP limit of 512 octets.")                                             \
  X(StringTooLong, Local, Usage, STR_TOO_LONG, UnderWay,                                                     \
    "A value is longer than SMTP allows (for example a 64-octet local part).")                               \
  X(Encode, Local, Usage, ENCODE, UnderWay,                                                                  \
    "The message or a credential could not be encoded.")                                                     \
  X(HostNotFound, Network, Network, HOST_NOT_FOUND, Connect,                                                 \
    "The server name could not be resolved; check its spelling and your DNS.")                               \
  X(ConnectionRefused, Network, Network, SOCK_CONN_FAILED, Connect,                                          \
    "Nothing accepts connections on that port; check the port number and that the server runs.")             \
  X(ConnectFailed, Network, Network, SOCK_CONN_FAILED, Connect,                                              \
    "The connection to the server could not be made.")                                                       \
  X(ConnectionLost, Network, Network, CONN_LOST, UnderWay,                                                   \
    "The connection closed before the conversation was finished.")                                           \
  X(ReceiveFailed, Network, Network, RX_FAILED, UnderWay,                                                    \
    "Reading from the connection failed.")                                                                   \
  X(TransmitFailed, Network, Network, TX_FAILED, UnderWay,                                                   \
    "Writing to the connection failed.")                                                                     \
  X(Timeout, Network, Network, TIMEOUT, UnderWay,                                                            \
    "The server did not answer in time.")                                                                    \
  X(TlsHandshakeFailed, Network, Tls, TLS_HANDSHAKE, UnderWay,                                               \
    "The TLS handshake failed; the port may expect a different security mode.")                              \
  X(CertificateInvalid, Remote, Tls, CERT_INVALID, UnderWay,                                                 \
    "The server's certificate could not be verified; the message says why.")                                 \
  X(ClientCertificateRefused, Remote, Tls, TLS_HANDSHAKE, TlsHandshake,                                      \
    "The server hung up right after the TLS handshake: it wants a client certificate it trusts.")            \
  X(SecureNotAvailable, Remote, Tls, SECURE_NOT_AVAIL, UnderWay,                                             \
    "The server could not start TLS.")                                                                       \
  X(StartTlsNotOffered, Remote, Tls, STARTTLS_NOT_OFFERED, UnderWay,                                         \
    "The server does not offer STARTTLS, so it cannot encrypt the connection on this port.")                 \
  X(ServerRefused, Remote, ServerSide, SERVER_REFUSED, UnderWay,                                             \
    "The server refuses to talk to this client (554 greeting).")                                             \
  X(ServiceNotAvailable, Remote, ServerSide, SERVER_REFUSED, UnderWay,                                       \
    "The server is closing the connection (421); try again later.")                                          \
  X(ServerReply, Remote, ServerSide, REP, UnderWay,                                                          \
    "The server answered with an error; its reply says why.")                                                \
  X(ProtocolViolation, Remote, ServerSide, PROTOCOL, UnderWay,                                               \
    "The server sent something that is not valid SMTP.")                                                     \
  X(AuthNotOffered, Remote, Auth, AUTH_NOT_OFFERED, UnderWay,                                                \
    "The server does not offer AUTH here; it may require TLS first, or not allow login at all.")             \
  X(NoCommonMechanism, Remote, Auth, NO_COMMON_MECH, UnderWay,                                               \
    "The server offers no login mechanism that SMTPc may use with these credentials.")                       \
  X(AuthFailed, Remote, Auth, AUTH_FAILED, UnderWay,                                                         \
    "The server refused the login; check user name and password (some providers need an app password).")     \
  X(PlaintextAuthRefused, Local, Auth, PLAINTEXT_AUTH_REFUSED, UnderWay,                                     \
    "SMTPc will not send a password, or anything computed from it, over an unencrypted connection.")         \
  X(ServerNotAuthenticated, Remote, Auth, AUTH_FAILED, UnderWay,                                             \
    "The server could not prove that it knows your password (SCRAM); it may not be the server you meant.")   \
  X(SenderRejected, Remote, MessageRefused, SENDER_REJECTED, Mail,                                           \
    "The server refused the sender address (MAIL FROM).")                                                    \
  X(RecipientsRejected, Remote, MessageRefused, RCPT_REJECTED, Rcpt,                                         \
    "The server refused one or more recipients.")                                                            \
  X(MessageTooLarge, Remote, MessageRefused, MSG_TOO_LARGE, UnderWay,                                        \
    "The message is larger than the server accepts.")                                                        \
  X(MessageRejected, Remote, MessageRefused, MSG_REJECTED, Data,                                             \
    "The server refused the message after receiving it.")                                                    \
  X(SmtpUtf8NotSupported, Remote, MessageRefused, MSG_REJECTED, Mail,                                        \
    "An address is not ASCII but the server does not offer SMTPUTF8.")                                       \
  X(EightBitNotSupported, Remote, MessageRefused, MSG_REJECTED, Mail,                                        \
    "The message has 8-bit content but the server does not offer 8BITMIME.")                                 \
  X(DsnNotSupported, Remote, MessageRefused, MSG_REJECTED, Mail,                                             \
    "Delivery reports (DSN) were asked for, but the server does not offer DSN (RFC 3461).")                  \
  X(BodyReadFailed, Local, Usage, FILE, UnderWay,                                                            \
    "The message content could not be read.")                                                                \
  X(Cancelled, Local, Cancelled, CANCELLED, UnderWay,                                                        \
    "The operation was cancelled.")                                                                          \
  X(InvalidState, Local, Usage, INVALID_ARG, UnderWay,                                                       \
    "That call is not possible in the session's current state.")

/// What went wrong: one value per row of #SMTPC_ERROR_CODES, where the row's last column is the
/// value's meaning (defaultExplanation()) and the others its fault, exit status, C API code and step.
enum class ErrorCode {
#define SMTPC_X(name, fault, exit, legacy, step, text) name,
  SMTPC_ERROR_CODES(SMTPC_X)
#undef SMTPC_X
};

/// Whose fault: we misused the API or refused to proceed (Local), the server said no or broke the
/// protocol (Remote), or the network failed between us (Network).
enum class Fault {
  Local,    ///< our side: a bad argument, a wrong call, or a refusal to go on (plaintext login)
  Remote,   ///< the server said no or broke the protocol
  Network   ///< the network between us: name, connection, timeout, TLS handshake
};

/// The code's name as written: "AuthFailed".
SMTPC_CORE_EXPORT std::string_view errorCodeName(ErrorCode code);
/// The row's sentence: what the code means and what to do.
SMTPC_CORE_EXPORT std::string_view defaultExplanation(ErrorCode code);
/// Whose fault an error with this code is.
SMTPC_CORE_EXPORT Fault faultOf(ErrorCode code);
/// The fault's name: "local", "server", "network".
SMTPC_CORE_EXPORT std::string_view faultName(Fault fault);
/// The CLI's exit status for this code.
SMTPC_CORE_EXPORT ExitClass exitClassOf(ErrorCode code);
/// The C API's SMTPc_ERR_* code for this code (several codes may share one).
SMTPC_CORE_EXPORT LegacyCode legacyCodeOf(ErrorCode code);
SMTPC_CORE_EXPORT std::string_view legacyCodeName(LegacyCode code);  ///< "SMTPc_ERR_CONN_LOST"
/// The step an error always belongs to; nullopt: the step that was under way when it happened.
SMTPC_CORE_EXPORT std::optional<Step> failedStepOf(ErrorCode code);

/// What went wrong (an ErrorCode), in words a person can act on, with the server's reply when there
/// was one. A default-constructed Error is "no error" (ErrorCode::None) and tests false.
class SMTPC_CORE_EXPORT Error {
 public:
  /// No error.
  Error() = default;
  /// An error with `code`; `explanation` replaces the code's default sentence when given, and `reply`
  /// is the server's reply that caused it.
  explicit Error(ErrorCode code, std::string explanation = {}, std::optional<Reply> reply = {})
      : code_(code), explanation_(std::move(explanation)), reply_(std::move(reply)) {}

  /// What went wrong.
  ErrorCode code() const { return code_; }
  /// Whose fault it is (faultOf(code())).
  Fault fault() const { return faultOf(code_); }
  /// Anything but ErrorCode::None.
  bool isError() const { return code_ != ErrorCode::None; }
  /// Same as isError(): `if (Error e = ...)` reads "if it failed".
  explicit operator bool() const { return isError(); }

  /// The server's reply that caused this error, when there was one.
  const std::optional<Reply>& reply() const { return reply_; }
  /// A 4xx reply means "try again later", and so do a timeout and a lost connection without one;
  /// everything else is permanent.
  bool isTransient() const;
  /// A refused OAuth token: what the server's error challenge before that reply said, decoded
  /// (smtpc/sasl.h); null otherwise. The diagnosis reads it.
  const sasl::TokenRefusal* tokenRefusal() const { return tokenRefusal_.get(); }
  /// Attaches the decoded error challenge (the engine does, for XOAUTH2 and OAUTHBEARER).
  void setTokenRefusal(std::shared_ptr<const sasl::TokenRefusal> refusal) { tokenRefusal_ = std::move(refusal); }

  /// One or two sentences a person can act on; never empty for an error.
  std::string explanation() const;
  /// `"AuthFailed: <explanation> [server: 535 5.7.8 ...]"`
  std::string toString() const;

 private:
  ErrorCode code_ = ErrorCode::None;
  std::string explanation_;
  std::optional<Reply> reply_;
  std::shared_ptr<const sasl::TokenRefusal> tokenRefusal_;
};

}  // namespace smtpc
