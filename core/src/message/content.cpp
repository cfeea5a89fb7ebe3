// Attachment content: memory or a file (standard C stdio; no sockets, no clock).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "smtpc/message.h"

namespace smtpc {

Error MemoryContent::rewind() {
  position_ = 0;
  return {};
}

Result<std::size_t> MemoryContent::read(std::span<char> buffer) {
  const std::size_t n = std::min(buffer.size(), data_.size() - position_);
  std::memcpy(buffer.data(), data_.data() + position_, n);
  position_ += n;
  return n;
}

Result<std::shared_ptr<FileContent>> FileContent::open(const std::string& path) {
  std::shared_ptr<FileContent> content(new FileContent());
  content->path_ = path;
  content->file_ = std::fopen(path.c_str(), "rb");
  if (!content->file_)
    return Error(ErrorCode::InvalidArgument, "The file \"" + path + "\" cannot be read: " + std::strerror(errno) + ".");
  if (fseeko(content->file_, 0, SEEK_END) != 0)
    return Error(ErrorCode::InvalidArgument, "The file \"" + path + "\" cannot be read: it is not a regular file.");
  const off_t size = ftello(content->file_);
  if (size < 0 || fseeko(content->file_, 0, SEEK_SET) != 0)
    return Error(ErrorCode::InvalidArgument, "The size of \"" + path + "\" cannot be read.");
  content->size_ = static_cast<std::uint64_t>(size);
  return content;
}

FileContent::~FileContent() {
  if (file_) std::fclose(file_);
}

Error FileContent::rewind() {
  position_ = 0;
  if (fseeko(file_, 0, SEEK_SET) != 0) return Error(ErrorCode::BodyReadFailed, "Cannot go back to the start of " + path_ + ".");
  return {};
}

Result<std::size_t> FileContent::read(std::span<char> buffer) {
  const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file_);
  if (n == 0 && std::ferror(file_))
    return Error(ErrorCode::BodyReadFailed, "Reading " + path_ + " failed: " + std::strerror(errno) + ".");
  position_ += n;
  return n;
}

Result<std::shared_ptr<SourceBody>> SourceBody::create(std::shared_ptr<ContentSource> content) {
  std::shared_ptr<SourceBody> body(new SourceBody(std::move(content)));
  if (Error e = body->content_->rewind(); e.isError()) return e;
  char buffer[64 * 1024];
  ContentScan scan;
  // Read to the end unless both answers are known: a binary octet may come late in a file.
  while (!(scan.eightBit() && scan.binary())) {
    auto n = body->content_->read(buffer);
    if (!n) return n.error();
    if (*n == 0) {
      scan.finish();
      break;
    }
    scan.feed(std::string_view(buffer, *n));
  }
  body->eightBit_ = scan.eightBit();
  body->binary_ = scan.binary();
  if (Error e = body->content_->rewind(); e.isError()) return e;
  return body;
}

Attachment Attachment::fromMemory(std::string filename, std::string data, std::string contentType) {
  return Attachment{std::move(filename), std::move(contentType), {}, std::make_shared<MemoryContent>(std::move(data))};
}

Result<Attachment> Attachment::fromFile(const std::string& path, std::string contentType, std::string filename) {
  auto content = FileContent::open(path);
  if (!content) return content.error();
  if (filename.empty()) filename = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  return Attachment{std::move(filename), std::move(contentType), {}, std::move(*content)};
}

std::string_view guessContentType(std::string_view filename) {
  struct Entry {
    std::string_view extension, type;
  };
  static constexpr Entry table[] = {
      {"txt", "text/plain"},        {"csv", "text/csv"},          {"html", "text/html"},
      {"htm", "text/html"},         {"css", "text/css"},          {"ics", "text/calendar"},
      {"md", "text/markdown"},      {"xml", "application/xml"},   {"json", "application/json"},
      {"pdf", "application/pdf"},   {"zip", "application/zip"},   {"gz", "application/gzip"},
      {"tar", "application/x-tar"}, {"7z", "application/x-7z-compressed"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xls", "application/vnd.ms-excel"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},         {"webp", "image/webp"},       {"svg", "image/svg+xml"},
      {"bmp", "image/bmp"},         {"ico", "image/vnd.microsoft.icon"},
      {"mp3", "audio/mpeg"},        {"wav", "audio/wav"},         {"ogg", "audio/ogg"},
      {"mp4", "video/mp4"},         {"webm", "video/webm"},       {"eml", "message/rfc822"},
      {"p7s", "application/pkcs7-signature"}, {"asc", "application/pgp-signature"},
  };
  const std::size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string_view extension = filename.substr(dot + 1);
    for (const auto& entry : table) {
      if (entry.extension.size() != extension.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < extension.size(); ++i)
        same = same && (extension[i] | 0x20) == entry.extension[i];
      if (same) return entry.type;
    }
  }
  return "application/octet-stream";
}

}  // namespace smtpc
