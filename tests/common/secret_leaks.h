// What a secret looks like on the wire or in a transcript, in every encoding a SASL mechanism
// gives it, so a leak check searches for what really travels (a password never travels raw).
//
// SASL PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER all embed the secret somewhere inside a base64
// payload; where it starts (offset mod 3) decides which base64 characters it becomes. For each
// of the three alignments we keep the characters that depend on the secret's bytes alone, so
// the search finds the secret inside *any* payload, whatever surrounds it (user name, "\x01auth=
// Bearer", NULs). CRAM-MD5 sends HMAC-MD5(password, challenge) in hex, which is crackable offline:
// give the challenges seen (decoded) and their answers are searched for too.
//
// Header-only and free of Qt, so the core tests, the fuzzers, the Qt tests and the wasm tests
// can all use it.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>
#include <vector>

#include "smtpc/base64.h"

namespace smtpc::testing {

// The base64 characters that encode `secret` alone when it starts at `offset` (0, 1 or 2)
// bytes into a 3-byte group of a larger payload.
inline std::string alignedBase64Core(std::string_view secret, int offset) {
  const std::string padded = std::string(static_cast<std::size_t>(offset), '\0') + std::string(secret);
  const std::string encoded = smtpc::base64::encode(padded);
  // Characters touched by the leading padding bytes: offset 1 -> the first 2, offset 2 -> the first 3.
  const std::size_t skipFront = offset == 0 ? 0 : static_cast<std::size_t>(offset) + 1;
  // Whole 3-byte groups only at the end: a partial last group's characters depend on what follows.
  const std::size_t wholeGroups = padded.size() / 3;
  const std::size_t end = wholeGroups * 4;
  if (end <= skipFront) return {};
  return encoded.substr(skipFront, end - skipFront);
}

inline std::string cramMd5Hex(std::string_view password, std::string_view challenge) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_md5(), password.data(), static_cast<int>(password.size()),
       reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

// Every form of `secret` worth searching for. Forms shorter than 4 characters are left out (they
// would match by chance), so use secrets of 6 bytes or more in tests that rely on this.
inline std::vector<std::string> secretForms(std::string_view secret, const std::vector<std::string>& cramChallenges = {}) {
  std::vector<std::string> forms;
  auto add = [&forms](std::string form) {
    if (form.size() >= 4) forms.push_back(std::move(form));
  };
  if (secret.empty()) return forms;
  add(std::string(secret));
  for (int offset = 0; offset < 3; ++offset) add(alignedBase64Core(secret, offset));
  for (const std::string& challenge : cramChallenges) {
    const std::string hex = cramMd5Hex(secret, challenge);
    add(hex);
    for (int offset = 0; offset < 3; ++offset) add(alignedBase64Core(hex, offset));
  }
  return forms;
}

// The first form of `secret` found in `text`, or an empty string when none is there.
inline std::string findSecret(std::string_view text, std::string_view secret,
                              const std::vector<std::string>& cramChallenges = {}) {
  for (const std::string& form : secretForms(secret, cramChallenges))
    if (text.find(form) != std::string_view::npos) return form;
  return {};
}

}  // namespace smtpc::testing
