/// \file
/// Header and body encodings for composing mail: RFC 2045 (quoted-printable, base64 lines),
/// RFC 2047 (encoded words), RFC 2231 (parameter values), RFC 5322 (dates, folding).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"

/// Header and body encodings for composing mail: quoted-printable, base64 lines, encoded
/// words, MIME parameters, dates.
namespace smtpc::encoding {

/// Base64 in 76-character lines, each ending CRLF (RFC 2045 §6.8). `input.size()` should be a
/// multiple of 57 except for the last piece of a stream.
SMTPC_CORE_EXPORT void base64LinesAppend(std::string_view input, std::string& out);
/// The length of base64LinesAppend()'s output for `inputSize` octets, CRLFs included.
SMTPC_CORE_EXPORT std::uint64_t base64LinesSize(std::uint64_t inputSize);

/// Quoted-printable (RFC 2045 §6.7) of text whose line ends are already CRLF: lines of at most 76
/// characters with soft breaks, '=' and non-ASCII as =XX, trailing spaces protected.
SMTPC_CORE_EXPORT std::string quotedPrintable(std::string_view crlfText);

/// Unstructured header text (RFC 5322 §2.2.3) as "Name: value" lines folded at 78 characters;
/// non-ASCII text becomes RFC 2047 encoded words (UTF-8, base64), split at character boundaries.
SMTPC_CORE_EXPORT std::string headerLine(std::string_view name, std::string_view value);
/// RFC 2047 encoded words for `text`, as a list separated by CRLF SP (already folded), the first
/// fitting after `used` characters of the current line.
SMTPC_CORE_EXPORT std::string encodedWords(std::string_view text, std::size_t used);

/// A MIME parameter (RFC 2045 §5.1, RFC 2231 §3-4): name="value" when plain ASCII, else the
/// name*=UTF-8''percent-encoded form, continued as name*0*, name*1* ... when long.
SMTPC_CORE_EXPORT std::string parameter(std::string_view name, std::string_view value);

/// RFC 5322 §3.3 date-time, e.g. "Sun, 29 Nov 2026 03:20:04 +0100".
SMTPC_CORE_EXPORT std::string rfc5322Date(std::int64_t unixSeconds, int utcOffsetMinutes);

SMTPC_CORE_EXPORT bool needsEncoding(std::string_view text);  ///< non-ASCII or control characters
/// For header text: also ASCII that contains "=?", which readers would decode as an encoded word
/// (RFC 2047 §6.2) and so show differently from what was written.
SMTPC_CORE_EXPORT bool needsHeaderEncoding(std::string_view text);

}  // namespace smtpc::encoding
