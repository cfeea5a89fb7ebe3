/// \file
/// Base64 (RFC 4648 §4) for SASL payloads and MIME bodies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "smtpc/core_export.h"

/// Base64 (RFC 4648 §4) for SASL payloads and MIME bodies.
namespace smtpc::base64 {

/// The length of the padded encoding of `inputSize` octets: 4 characters per 3 octets, rounded up.
SMTPC_CORE_EXPORT std::size_t encodedSize(std::size_t inputSize);
/// Appends the encoding of `input` to `out`, with padding.
SMTPC_CORE_EXPORT void encodeAppend(std::string_view input, std::string& out);
/// Writes exactly encodedSize(input.size()) characters at `out`.
SMTPC_CORE_EXPORT void encodeTo(std::string_view input, char* out);
/// The padded encoding of `input`.
SMTPC_CORE_EXPORT std::string encode(std::string_view input);
/// Strict: only the alphabet, correct padding; nullopt on anything else.
SMTPC_CORE_EXPORT std::optional<std::string> decode(std::string_view input);

}  // namespace smtpc::base64
