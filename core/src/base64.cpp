#include "smtpc/base64.h"

#include <array>
#include <cstdint>

namespace smtpc::base64 {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Two output characters per 12 input bits: halves the table look-ups of the plain method.
struct PairTable {
  std::array<std::uint16_t, 4096> pairs{};
  constexpr PairTable() {
    for (unsigned i = 0; i < 4096; ++i) {
      const unsigned char high = static_cast<unsigned char>(kAlphabet[i >> 6]);
      const unsigned char low = static_cast<unsigned char>(kAlphabet[i & 63]);
      // Stored so that a little- or big-endian 16-bit store writes `high` first: chars written
      // separately below, so byte order does not matter.
      pairs[i] = static_cast<std::uint16_t>(high << 8 | low);
    }
  }
};
constexpr PairTable kPairs;

inline void putPair(char* out, unsigned index) {
  const std::uint16_t pair = kPairs.pairs[index];
  out[0] = static_cast<char>(pair >> 8);
  out[1] = static_cast<char>(pair & 0xff);
}

constexpr std::array<std::int8_t, 256> makeDecodeTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kDecode = makeDecodeTable();

}  // namespace

std::size_t encodedSize(std::size_t inputSize) { return (inputSize + 2) / 3 * 4; }

void encodeTo(std::string_view input, char* out) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t n = input.size();
  while (n >= 3) {
    const unsigned triple = unsigned(in[0]) << 16 | unsigned(in[1]) << 8 | in[2];
    putPair(out, triple >> 12);
    putPair(out + 2, triple & 0xfff);
    in += 3;
    out += 4;
    n -= 3;
  }
  if (n == 1) {
    const unsigned value = unsigned(in[0]) << 16;
    putPair(out, value >> 12);
    out[2] = '=';
    out[3] = '=';
  } else if (n == 2) {
    const unsigned value = unsigned(in[0]) << 16 | unsigned(in[1]) << 8;
    putPair(out, value >> 12);
    out[2] = kAlphabet[(value >> 6) & 63];
    out[3] = '=';
  }
}

void encodeAppend(std::string_view input, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + encodedSize(input.size()));
  encodeTo(input, out.data() + start);
}

std::string encode(std::string_view input) {
  std::string out;
  encodeAppend(input, out);
  return out;
}

std::optional<std::string> decode(std::string_view input) {
  if (input.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(input.size() / 4 * 3);
  for (std::size_t i = 0; i < input.size(); i += 4) {
    const bool lastGroup = i + 4 == input.size();
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = input[i + j];
      if (c == '=' && lastGroup && j >= 2) {
        values[j] = 0;
        ++padding;
        continue;
      }
      if (padding) return std::nullopt;  // data after '='
      values[j] = kDecode[static_cast<unsigned char>(c)];
      if (values[j] < 0) return std::nullopt;
    }
    const unsigned triple = unsigned(values[0]) << 18 | unsigned(values[1]) << 12 | unsigned(values[2]) << 6 | unsigned(values[3]);
    out += static_cast<char>(triple >> 16);
    if (padding < 2) out += static_cast<char>((triple >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(triple & 0xff);
  }
  return out;
}

}  // namespace smtpc::base64
