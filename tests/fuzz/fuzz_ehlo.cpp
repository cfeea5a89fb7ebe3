// EHLO parsing: whatever a server sends, the capability view is consistent.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtpc/capabilities.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtpc::ReplyParser parser;
  parser.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  smtpc::Reply reply;
  while (parser.next(reply) == smtpc::ReplyParser::Status::Complete) {
    const auto caps = smtpc::Capabilities::fromEhloReply(reply);
    for (const auto& entry : caps.entries()) {
      if (entry.keyword.empty() || !caps.has(entry.keyword)) std::abort();
      (void)smtpc::Capabilities::describe(entry.keyword);
    }
    for (const auto& mechanism : caps.authMechanisms())
      if (mechanism.empty() || !caps.supportsAuthMechanism(mechanism)) std::abort();
    if (caps.maxSize() && !caps.supportsSize()) std::abort();
  }
  return 0;
}
