// DotStuffer: for any content and any chunking, the wire form has only CRLF line ends, no line
// that is a lone "." before the end, and un-stuffing it gives the content with normalised lines.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "smtpc/body.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 31;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  smtpc::DotStuffer stuffer;
  std::string wire;
  for (std::size_t i = 0; i < input.size(); i += step) stuffer.process(input.substr(i, step), wire);
  stuffer.finish(wire);
  if (wire.size() < 3 || wire.compare(wire.size() - 3, 3, ".\r\n") != 0) std::abort();
  // Walk the lines: each ends with CRLF, no bare CR or LF anywhere.
  std::size_t start = 0;
  std::string unstuffed;
  while (start < wire.size()) {
    const std::size_t end = wire.find("\r\n", start);
    if (end == std::string::npos) std::abort();
    std::string_view line(wire.data() + start, end - start);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) std::abort();
    const bool last = end + 2 == wire.size();
    if (line == "." && !last) std::abort();
    if (last && line != ".") std::abort();
    if (!last) {
      if (!line.empty() && line[0] == '.') line.remove_prefix(1);
      unstuffed.append(line).append("\n");
    }
    start = end + 2;
  }
  // The content's text survives: same characters once line ends are ignored.
  std::string a, b;
  for (char c : input) if (c != '\r' && c != '\n') a += c;
  for (char c : unstuffed) if (c != '\n') b += c;
  if (a != b) std::abort();
  return 0;
}
