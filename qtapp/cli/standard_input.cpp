#include "standard_input.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace smtpc::cli {

namespace {

// Content read from a descriptor this object owns, from `start` for `size` octets.
class DescriptorContent final : public ContentSource {
 public:
  DescriptorContent(int fd, off_t start, std::uint64_t size) : fd_(fd), start_(start), size_(size) {}
  ~DescriptorContent() override { ::close(fd_); }
  DescriptorContent(const DescriptorContent&) = delete;
  DescriptorContent& operator=(const DescriptorContent&) = delete;

  std::uint64_t size() const override { return size_; }
  Error rewind() override {
    if (::lseek(fd_, start_, SEEK_SET) < 0) return failure("cannot go back to the start of it");
    position_ = 0;
    return {};
  }
  Result<std::size_t> read(std::span<char> buffer) override {
    // Never past the size measured: a file growing behind us must not change what SIZE= said.
    const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size_ - position_));
    for (;;) {
      const ssize_t n = wanted ? ::read(fd_, buffer.data(), wanted) : 0;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return failure(std::strerror(errno));
      position_ += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
  }

 private:
  static Error failure(const std::string& why) {
    return Error(ErrorCode::BodyReadFailed, "Reading the message from standard input failed: " + why + ".");
  }
  int fd_;
  off_t start_;
  std::uint64_t size_;
  std::uint64_t position_ = 0;
};

Error inputError(const std::string& what) {
  return Error(ErrorCode::InvalidArgument, "Standard input " + what + ": " + std::strerror(errno) + ".");
}

}  // namespace

Result<std::shared_ptr<ContentSource>> messageFromStandardInput() {
  struct stat info;
  if (::fstat(STDIN_FILENO, &info) != 0) return inputError("cannot be read");
  if (S_ISREG(info.st_mode)) {
    const int fd = ::dup(STDIN_FILENO);
    const off_t start = fd < 0 ? -1 : ::lseek(fd, 0, SEEK_CUR);
    if (start < 0) {
      if (fd >= 0) ::close(fd);
      return inputError("cannot be read");
    }
    return std::shared_ptr<ContentSource>(
        std::make_shared<DescriptorContent>(fd, start, static_cast<std::uint64_t>(info.st_size - start)));
  }

  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/smtpc-message-XXXXXX";
  const int fd = ::mkstemp(path.data());  // owner-only: the message may be private
  if (fd < 0) return inputError("cannot be copied to a temporary file in " + path.substr(0, path.rfind('/')));
  ::unlink(path.c_str());  // gone when smtpc ends, however it ends
  std::uint64_t size = 0;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    ssize_t written = n < 0 ? -1 : 0;
    while (written >= 0 && written < n) {
      const ssize_t w = ::write(fd, buffer + written, static_cast<std::size_t>(n - written));
      if (w < 0 && errno != EINTR) written = -1;
      else if (w > 0) written += w;
    }
    if (written < 0) {
      const Error error = inputError(n < 0 ? "cannot be read" : "cannot be copied to a temporary file");
      ::close(fd);
      return error;
    }
    size += static_cast<std::uint64_t>(n);
  }
  return std::shared_ptr<ContentSource>(std::make_shared<DescriptorContent>(fd, 0, size));
}

}  // namespace smtpc::cli
