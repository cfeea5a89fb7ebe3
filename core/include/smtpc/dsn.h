/// \file
/// Delivery status notifications (DSN, RFC 3461): how a sender asks the servers on the way for a
/// report — when delivery succeeded, failed or is delayed (NOTIFY, per recipient), with the whole
/// message or its headers only (RET), labelled with the sender's own identifier (ENVID) and the
/// recipient as first written (ORCPT). The parameters go on MAIL FROM and RCPT TO only when the
/// server offers DSN; otherwise the message is refused before MAIL, or sent without them when the
/// person chose so (DsnRequest::ifNotOffered).
///
/// Values are xtext (RFC 3461 §4): '+', '=' and every octet outside '!'..'~' become "+HH"; an
/// ORCPT for a non-ASCII address is "utf-8;" and utf-8-addr-xtext (RFC 6533 §3), where every
/// non-ASCII character is "\x{HEX}".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/error.h"
#include "smtpc/result.h"

namespace smtpc {

/// NOTIFY (RFC 3461 §4.1): when a recipient's report is wanted. NEVER excludes the others; none
/// set means "not asked" (the server's default: a report on failure, perhaps on delay).
struct SMTPC_CORE_EXPORT DsnNotify {
  bool never = false;    ///< no report at all, not even on failure
  bool success = false;  ///< a report when the message is delivered
  bool failure = false;  ///< a report when it cannot be delivered
  bool delay = false;    ///< a report when delivery is delayed

  /// Nothing asked.
  bool empty() const { return !never && !success && !failure && !delay; }
  /// The parameter's value: "NEVER" or e.g. "SUCCESS,FAILURE"; empty when nothing is asked.
  std::string toParameter() const;
  /// Reads "success,failure,delay" (any order, any case, commas or spaces) or "never"; an error
  /// naming the word that is wrong, or NEVER mixed with another.
  static Result<DsnNotify> parse(std::string_view text);
};

/// RET (RFC 3461 §4.3): what a failure report carries of the message.
enum class DsnReturn {
  Default,  ///< not asked: the server chooses
  Full,     ///< RET=FULL: the whole message
  Headers   ///< RET=HDRS: its headers only
};
/// Reads "full" or "hdrs" (any case; "headers" too); an error otherwise.
SMTPC_CORE_EXPORT Result<DsnReturn> parseDsnReturn(std::string_view text);

/// What to do when delivery reports are asked but the server does not offer DSN.
enum class IfDsnNotOffered {
  Refuse,      ///< the message is refused before MAIL (ErrorCode::DsnNotSupported)
  SendWithout  ///< it is sent without the parameters, and the transcript and result say so
};

/// One recipient's own DSN choices, overriding the message's.
struct DsnRecipient {
  std::string address;                ///< the recipient, as in the envelope
  std::optional<DsnNotify> notify;    ///< set: this recipient's NOTIFY instead of the message's
  std::string originalRecipient;      ///< set: ORCPT names this address (the one first written, before forwarding)
};

/// The delivery reports a message asks for. Default-constructed: none (nothing is sent).
struct SMTPC_CORE_EXPORT DsnRequest {
  DsnNotify notify;                  ///< NOTIFY for every recipient without its own
  DsnReturn ret = DsnReturn::Default;  ///< RET
  std::string envelopeId;            ///< ENVID: printable ASCII, at most 100 characters (before xtext); empty: none
  /// ORCPT=rfc822;ADDRESS (utf-8;... for a non-ASCII one) on every RCPT once anything is asked:
  /// the report then names the recipient exactly as sent, even after the server rewrote it
  /// (an alias, a forward), which is what lets the sender match a report to a recipient.
  bool originalRecipients = true;
  std::vector<DsnRecipient> recipients;               ///< per-recipient choices (by address)
  IfDsnNotOffered ifNotOffered = IfDsnNotOffered::Refuse;  ///< when the server does not offer DSN

  /// Anything asked: NOTIFY, RET, ENVID or a recipient's own choice.
  bool requested() const;
  /// The ENVID and every NOTIFY checked (NEVER alone, ENVID printable ASCII of at most 100
  /// characters); an InvalidArgument error naming the value otherwise.
  Error check() const;
  /// The NOTIFY for `address`: its own, else the message's.
  DsnNotify notifyFor(std::string_view address) const;
  /// The ORCPT value for `address` ("rfc822;..." xtext-encoded, or "utf-8;..." for a non-ASCII
  /// address); empty when none is sent; an error for an address that is not UTF-8.
  Result<std::string> originalRecipientFor(std::string_view address) const;
};

namespace dsn {
/// The longest ENVID, in characters before xtext encoding (RFC 3461 §4.4).
inline constexpr std::size_t kMaxEnvelopeId = 100;
/// RFC 3461 §4 xtext: '+', '=' and octets outside '!'..'~' as "+HH" (upper-case hex).
SMTPC_CORE_EXPORT std::string xtext(std::string_view text);
/// RFC 6533 §3 utf-8-addr-xtext: each non-ASCII character as "\x{HEX}" (its code point), and
/// '\', '+', '=', space and controls likewise; other ASCII as is. An error for invalid UTF-8.
SMTPC_CORE_EXPORT Result<std::string> utf8AddrXtext(std::string_view address);
/// ORCPT's value for `address`: "rfc822;" + xtext for an ASCII address, "utf-8;" +
/// utf8AddrXtext for a non-ASCII one (RFC 6533 §3); an error for invalid UTF-8.
SMTPC_CORE_EXPORT Result<std::string> originalRecipient(std::string_view address);
}  // namespace dsn

}  // namespace smtpc
