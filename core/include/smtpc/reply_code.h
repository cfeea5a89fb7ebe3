/// \file
/// The reply codes the engine tells apart, by name. Everything else is read by its class alone
/// (2xx done, 3xx go on, 4xx try later, 5xx no: Reply::isCompletion and friends), as RFC 5321
/// §4.2.1 asks of a client; these are the codes whose exact value changes what happens next.
#pragma once

/// The reply codes whose exact value changes what the engine does next.
namespace smtpc::reply_code {

/// RFC 5321 §4.2.3 "<domain> Service ready": the greeting. RFC 3207 §4: also "ready to start TLS".
inline constexpr int ServiceReady = 220;
/// RFC 5321 §4.2.3 "<domain> Service closing transmission channel": the answer to QUIT.
inline constexpr int ServiceClosing = 221;
/// RFC 4954 §6 "Authentication succeeded".
inline constexpr int AuthSucceeded = 235;
/// RFC 5321 §4.2.3 "Requested mail action okay, completed".
inline constexpr int Ok = 250;
/// RFC 4954 §4: a SASL challenge; the client answers with one line.
inline constexpr int AuthChallenge = 334;
/// RFC 5321 §4.2.3 "Start mail input; end with <CRLF>.<CRLF>": the answer to DATA.
inline constexpr int StartMailInput = 354;
/// RFC 5321 §4.2.3 "Service not available, closing transmission channel": may come at any time,
/// as the answer to any command (§3.8).
inline constexpr int ServiceNotAvailable = 421;
/// RFC 4954 §6 "Temporary authentication failure".
inline constexpr int AuthTemporaryFailure = 454;
/// RFC 5321 §4.2.3 "Command parameter not implemented"; RFC 4954 §4: the mechanism is not supported.
inline constexpr int ParameterNotImplemented = 504;
/// RFC 4954 §6 "Authentication required".
inline constexpr int AuthRequired = 530;
/// RFC 4954 §6 "Authentication mechanism is too weak" (providers use it for "app password needed").
inline constexpr int AuthMechanismTooWeak = 534;
/// RFC 4954 §6 "Authentication credentials invalid".
inline constexpr int AuthCredentialsInvalid = 535;
/// RFC 4954 §6 "Encryption required for requested authentication mechanism".
inline constexpr int EncryptionRequired = 538;
/// RFC 5321 §4.2.3 "Requested mail action aborted: exceeded storage allocation"; RFC 1870 §6.1
/// (SIZE) uses it for "message size exceeds fixed maximum message size".
inline constexpr int ExceededStorage = 552;
/// RFC 5321 §3.1/§4.2.3 "No SMTP service here" when it is the greeting ("Transaction failed" later).
inline constexpr int NoServiceHere = 554;

}  // namespace smtpc::reply_code
