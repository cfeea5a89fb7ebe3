// Address checks and the command formatter: whatever is accepted formats to exactly one line.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "smtpc/command.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string address(reinterpret_cast<const char*>(data), size);
  auto checked = smtpc::checkAddress(address);
  auto line = smtpc::command::rcptTo(address);
  if (checked.ok() != line.ok() && line.error().code() != smtpc::ErrorCode::LineTooLong) std::abort();
  if (line) {
    if (line->size() > smtpc::command::kMaxCommandLine) std::abort();
    if (line->find('\n') != line->size() - 1 || line->find('\r') != line->size() - 2) std::abort();
    if (line->find('\0') != std::string::npos) std::abort();
  }
  auto ehlo = smtpc::command::ehlo(address);
  if (ehlo && (ehlo->find('\n') != ehlo->size() - 1)) std::abort();
  return 0;
}
