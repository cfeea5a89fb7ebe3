// Reply parser: arbitrary bytes in arbitrary splits. It must never crash, and every reply it
// returns must obey the grammar and the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtpc/reply.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  smtpc::ReplyLimits limits;
  limits.maxLineLength = 64 + data[0] % 512;
  limits.maxLines = 1 + data[0] % 20;
  limits.maxReplyBytes = 256 + data[0] % 2048;
  const std::size_t step = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  smtpc::ReplyParser parser(limits);
  smtpc::Reply reply;
  for (std::size_t i = 0; i < input.size(); i += step) {
    parser.feed(input.substr(i, step));
    for (;;) {
      const auto status = parser.next(reply);
      if (status != smtpc::ReplyParser::Status::Complete) {
        if (status == smtpc::ReplyParser::Status::Malformed && parser.error().empty()) std::abort();
        break;
      }
      if (reply.code < 200 || reply.code > 559 || reply.lines.empty() || reply.lines.size() > limits.maxLines) std::abort();
      std::size_t bytes = 0;
      for (const auto& line : reply.lines) {
        if (line.size() > limits.maxLineLength) std::abort();
        bytes += line.size();
      }
      if (bytes > limits.maxReplyBytes) std::abort();
      if (reply.enhanced && reply.enhanced->klass != reply.code / 100) std::abort();
    }
    if (parser.bufferedBytes() > limits.maxLineLength + step + limits.maxReplyBytes) std::abort();
  }
  return 0;
}
