#include "smtpc/body.h"

#include <algorithm>
#include <cstring>

namespace smtpc {

StringBody::StringBody(std::string content) : content_(std::move(content)) {
  ContentScan scan;
  scan.feed(content_);
  scan.finish();
  eightBit_ = scan.eightBit();
  binary_ = scan.binary();
}

void ContentScan::feed(std::string_view bytes) {
  for (const char c : bytes) {
    if (pendingCr_) {
      pendingCr_ = false;
      if (c == '\n') {
        lineLength_ = 0;
        continue;
      }
      binary_ = true;  // a bare CR
    }
    switch (c) {
      case '\r': pendingCr_ = true; break;
      case '\n': binary_ = true; lineLength_ = 0; break;  // a bare LF
      case '\0': binary_ = true; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) eightBit_ = true;
        if (++lineLength_ > 998) binary_ = true;
        break;
    }
  }
}

void ContentScan::finish() {
  if (pendingCr_) binary_ = true;
  pendingCr_ = false;
}

Error StringBody::prepare(const Capabilities&) {
  position_ = 0;
  return {};
}

Result<std::size_t> StringBody::read(std::span<char> buffer) {
  const std::size_t n = std::min(buffer.size(), content_.size() - position_);
  std::memcpy(buffer.data(), content_.data() + position_, n);
  position_ += n;
  return n;
}

void DotStuffer::process(std::string_view input, std::string& out) {
  const char* p = input.data();
  const char* const end = p + input.size();
  if (pendingCr_ && p < end) {
    // A CR ended the previous chunk: it was a line end either way.
    pendingCr_ = false;
    out += "\r\n";
    atLineStart_ = true;
    if (*p == '\n') ++p;
  }
  // Lines that need no change (CRLF at the end, no leading dot: nearly all of them) are copied
  // in one run; only a dot to double or a bare CR or LF ends the run. Appending line by line
  // cost a third of the engine's time on a 100 MB message.
  const char* run = p;
  while (p < end) {
    if (stuffDots_ && atLineStart_ && *p == '.') {
      out.append(run, p);
      out += '.';
      run = p;  // the line's own dot goes out with the run
    }
    atLineStart_ = false;
    // Find the line end: the next LF, and whether a CR comes before it.
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* limit = lf ? lf : end;
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', limit - p));
    if (cr) {
      if (cr + 1 == end) {  // CR at the very end: wait for the next chunk to see if LF follows
        out.append(run, cr);
        pendingCr_ = true;
        return;
      }
      atLineStart_ = true;
      if (cr + 1 == lf) {  // CRLF: as it is
        p = lf + 1;
        continue;
      }
      out.append(run, cr);  // a bare CR
      out += "\r\n";
      p = run = cr + 1;
      continue;
    }
    if (!lf) break;
    out.append(run, lf);  // a bare LF
    out += "\r\n";
    atLineStart_ = true;
    p = run = lf + 1;
  }
  out.append(run, end);
}

void DotStuffer::finish(std::string& out) {
  if (pendingCr_) {
    out += "\r\n";
    pendingCr_ = false;
    atLineStart_ = true;
  }
  if (!atLineStart_) out += "\r\n";
  if (stuffDots_) out += ".\r\n";
  atLineStart_ = true;
}

}  // namespace smtpc
