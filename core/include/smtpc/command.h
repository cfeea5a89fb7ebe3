/// \file
/// The one place SMTP command lines are made (RFC 5321 §4.1, RFC 3207, RFC 4954, RFC 1870,
/// RFC 6152, RFC 6531). Every argument is refused if it holds CR, LF or NUL, so no caller can
/// inject a second command or a header; every result is the exact wire line with CRLF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"
#include "smtpc/dsn.h"
#include "smtpc/result.h"

namespace smtpc {

/// What checkAddress() learned about an address.
struct AddressInfo {
  bool needsSmtpUtf8 = false;  ///< non-ASCII local part or domain (RFC 6531)
};

/// RFC 5321 §4.1.2 Mailbox syntax and §4.5.3.1 length limits (local part 64, domain 255, path 256).
/// The address is given bare ("user@example.org"), without angle brackets.
SMTPC_CORE_EXPORT Result<AddressInfo> checkAddress(std::string_view address);

/// The SMTP command lines, each the exact wire line with CRLF; arguments with CR, LF or NUL
/// are refused.
namespace command {

/// RFC 5321 §4.5.3.1.4: 512 octets with CRLF; RFC 4954 §4 allows AUTH lines of 12288.
inline constexpr std::size_t kMaxCommandLine = 512;
/// The longest AUTH line or answer to a 334 challenge, CRLF included (RFC 4954 §4).
inline constexpr std::size_t kMaxAuthLine = 12288;

/// The MAIL FROM parameters SMTPc sends, each only when the server offered its extension.
struct MailParameters {
  std::optional<std::uint64_t> size;  ///< SIZE=n (RFC 1870)
  bool body8BitMime = false;          ///< BODY=8BITMIME (RFC 6152)
  bool bodyBinaryMime = false;        ///< BODY=BINARYMIME (RFC 3030 §3), in place of 8BITMIME
  bool smtpUtf8 = false;              ///< SMTPUTF8 (RFC 6531)
  DsnReturn dsnReturn = DsnReturn::Default;  ///< RET=FULL|HDRS (RFC 3461 §4.3)
  std::string dsnEnvelopeId;                 ///< ENVID=, xtext-encoded here (RFC 3461 §4.4); empty: none
};

/// The RCPT TO parameters SMTPc sends when the server offers DSN (RFC 3461 §4.1, §4.2).
struct RcptParameters {
  DsnNotify notify;                ///< NOTIFY=; empty: none
  std::string originalRecipient;   ///< ORCPT='s value, already "type;xtext" (DsnRequest::originalRecipientFor)
};

/// "EHLO domain" (RFC 5321 §4.1.1.1); `domain` a host name or an address literal ("[192.0.2.1]").
SMTPC_CORE_EXPORT Result<std::string> ehlo(std::string_view domain);
/// "HELO domain", for servers that do not know EHLO.
SMTPC_CORE_EXPORT Result<std::string> helo(std::string_view domain);
/// An empty reverse path gives "MAIL FROM:<>" (the null sender of bounces, RFC 5321 §4.5.5).
SMTPC_CORE_EXPORT Result<std::string> mailFrom(std::string_view reversePath, const MailParameters& parameters = {});
/// "RCPT TO:<address>"; the address is checked as checkAddress() does.
SMTPC_CORE_EXPORT Result<std::string> rcptTo(std::string_view forwardPath, const RcptParameters& parameters = {});
/// "DATA".
SMTPC_CORE_EXPORT std::string data();
/// "BDAT size" or "BDAT size LAST" (RFC 3030 §2): the chunk's octets follow the line.
SMTPC_CORE_EXPORT std::string bdat(std::uint64_t size, bool last);
/// "RSET": abandon the current transaction.
SMTPC_CORE_EXPORT std::string rset();
/// "NOOP".
SMTPC_CORE_EXPORT std::string noop();
/// "QUIT".
SMTPC_CORE_EXPORT std::string quit();
/// "STARTTLS" (RFC 3207).
SMTPC_CORE_EXPORT std::string startTls();
/// AUTH mechanism [initial-response]; RFC 4954 §4: "=" stands for an empty initial response.
SMTPC_CORE_EXPORT Result<std::string> auth(std::string_view mechanism,
                                           std::optional<std::string_view> initialResponse = {});
/// A line answering a 334 challenge (base64, or "*" to cancel).
SMTPC_CORE_EXPORT Result<std::string> authResponse(std::string_view response);

}  // namespace command
}  // namespace smtpc
