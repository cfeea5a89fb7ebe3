// smtpc::Error — what went wrong, whose fault it was, and what a person can do about it.
//
// Every meaning of µC/SMTPc's SMTPc_ERR_* codes has a code here (see toLegacyCode in the C API),
// plus what that API could not express (timeouts, TLS, STARTTLS, SASL, per-recipient results).
// An Error carries the server's reply when there was one, so "550 5.1.1 no such user" is never
// replaced by a generic "server error".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "smtpc/reply.h"

namespace smtpc {

// X-macro: code, fault, one-sentence explanation a learner can act on.
// The explanation is the default; the engine may give a more specific one with the error.
#define SMTPC_ERROR_CODES(X)                                                                      \
  X(None, Local, "No error.")                                                                     \
  X(NullArgument, Local, "A required value was missing.")                                         \
  X(InvalidArgument, Local, "A value given to SMTPc is not valid; the message names it.")         \
  X(LineTooLong, Local, "A command line would exceed the SMTP limit of 512 octets.")              \
  X(StringTooLong, Local, "A value is longer than SMTP allows (for example a 64-octet local part).") \
  X(Encode, Local, "The message or a credential could not be encoded.")                           \
  X(HostNotFound, Network, "The server name could not be resolved; check its spelling and your DNS.") \
  X(ConnectionRefused, Network,                                                                   \
    "Nothing accepts connections on that port; check the port number and that the server runs.") \
  X(ConnectFailed, Network, "The connection to the server could not be made.")                    \
  X(ConnectionLost, Network, "The connection closed before the conversation was finished.")      \
  X(ReceiveFailed, Network, "Reading from the connection failed.")                                \
  X(TransmitFailed, Network, "Writing to the connection failed.")                                 \
  X(Timeout, Network, "The server did not answer in time.")                                       \
  X(TlsHandshakeFailed, Network,                                                                  \
    "The TLS handshake failed; the port may expect a different security mode.")                  \
  X(CertificateInvalid, Remote,                                                                   \
    "The server's certificate could not be verified; the message says why.")                     \
  X(ClientCertificateRefused, Remote,                                                             \
    "The server hung up right after the TLS handshake: it wants a client certificate it trusts.") \
  X(SecureNotAvailable, Remote, "The server could not start TLS.")                                \
  X(StartTlsNotOffered, Remote,                                                                   \
    "The server does not offer STARTTLS; try implicit TLS (usually port 465) or another port.")   \
  X(ServerRefused, Remote, "The server refuses to talk to this client (554 greeting).")           \
  X(ServiceNotAvailable, Remote, "The server is closing the connection (421); try again later.")  \
  X(ServerReply, Remote, "The server answered with an error; its reply says why.")                \
  X(ProtocolViolation, Remote, "The server sent something that is not valid SMTP.")               \
  X(AuthNotOffered, Remote,                                                                       \
    "The server does not offer AUTH here; it may require TLS first, or not allow login at all.")  \
  X(NoCommonMechanism, Remote,                                                                    \
    "The server offers no login mechanism that SMTPc may use with these credentials.")            \
  X(AuthFailed, Remote,                                                                           \
    "The server refused the login; check user name and password (some providers need an app password).") \
  X(PlaintextAuthRefused, Local,                                                                  \
    "SMTPc will not send a password over an unencrypted connection; choose STARTTLS or implicit TLS.") \
  X(SenderRejected, Remote, "The server refused the sender address (MAIL FROM).")                 \
  X(RecipientsRejected, Remote, "The server refused one or more recipients.")                     \
  X(MessageTooLarge, Remote, "The message is larger than the server accepts.")                    \
  X(MessageRejected, Remote, "The server refused the message after receiving it.")                \
  X(SmtpUtf8NotSupported, Remote,                                                                 \
    "An address is not ASCII but the server does not offer SMTPUTF8.")                            \
  X(EightBitNotSupported, Remote,                                                                 \
    "The message has 8-bit content but the server does not offer 8BITMIME.")                     \
  X(BodyReadFailed, Local, "The message content could not be read.")                              \
  X(Cancelled, Local, "The operation was cancelled.")                                             \
  X(InvalidState, Local, "That call is not possible in the session's current state.")

enum class ErrorCode {
#define SMTPC_X(name, fault, text) name,
  SMTPC_ERROR_CODES(SMTPC_X)
#undef SMTPC_X
};

// Whose fault: we misused the API or refused to proceed (Local), the server said no or broke the
// protocol (Remote), or the network failed between us (Network).
enum class Fault { Local, Remote, Network };

std::string_view errorCodeName(ErrorCode code);
std::string_view defaultExplanation(ErrorCode code);
Fault faultOf(ErrorCode code);
std::string_view faultName(Fault fault);

class Error {
 public:
  Error() = default;
  explicit Error(ErrorCode code, std::string explanation = {}, std::optional<Reply> reply = {})
      : code_(code), explanation_(std::move(explanation)), reply_(std::move(reply)) {}

  ErrorCode code() const { return code_; }
  Fault fault() const { return faultOf(code_); }
  bool isError() const { return code_ != ErrorCode::None; }
  explicit operator bool() const { return isError(); }

  // The server's reply that caused this error, when there was one.
  const std::optional<Reply>& reply() const { return reply_; }
  // A 4xx reply means "try again later"; everything else is permanent.
  bool isTransient() const;

  // One or two sentences a person can act on; never empty for an error.
  std::string explanation() const;
  // "AuthFailed: <explanation> [server: 535 5.7.8 ...]"
  std::string toString() const;

 private:
  ErrorCode code_ = ErrorCode::None;
  std::string explanation_;
  std::optional<Reply> reply_;
};

}  // namespace smtpc
