// Base64 (RFC 4648 §4) for SASL payloads and MIME bodies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtpc::base64 {

std::size_t encodedSize(std::size_t inputSize);
// Appends the encoding of `input` to `out`, with padding.
void encodeAppend(std::string_view input, std::string& out);
// Writes exactly encodedSize(input.size()) characters at `out`.
void encodeTo(std::string_view input, char* out);
std::string encode(std::string_view input);
// Strict: only the alphabet, correct padding; nullopt on anything else.
std::optional<std::string> decode(std::string_view input);

}  // namespace smtpc::base64
