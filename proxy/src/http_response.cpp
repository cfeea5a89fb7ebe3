#include "http_response.h"

#include <QList>

namespace smtpc::proxy {

namespace {
constexpr qsizetype kMaxChunkLine = 1024;  // a chunk size and its extensions (RFC 9112 §7.1.1)
}

HttpResponseReader::State HttpResponseReader::fail(State state, const QString& why) {
  state_ = state;
  why_ = why;
  buffer_.clear();
  return state_;
}

HttpResponseReader::State HttpResponseReader::feed(QByteArrayView bytes) {
  if (state_ != State::NeedMore) return state_;
  buffer_ += bytes;
  while (state_ == State::NeedMore) {
    const qsizetype before = buffer_.size();
    const bool wasInBody = inBody_;
    state_ = inBody_ ? readBody() : readHead();
    // Nothing consumed and no step from head to body: wait for more bytes.
    if (state_ == State::NeedMore && buffer_.size() == before && wasInBody == inBody_) break;
  }
  return state_;
}

HttpResponseReader::State HttpResponseReader::finish() {
  if (state_ != State::NeedMore) return state_;
  if (inBody_ && framing_ == Framing::UntilClose) {
    state_ = State::Done;
    return state_;
  }
  return fail(State::Malformed, inBody_ ? QStringLiteral("the connection ended in the middle of the document")
                                        : QStringLiteral("the connection ended before a complete HTTP response"));
}

HttpResponseReader::State HttpResponseReader::readHead() {
  const qsizetype end = buffer_.indexOf("\r\n\r\n");
  if (end < 0) {
    if (buffer_.size() > maxHead_) return fail(State::TooLarge, QStringLiteral("the response's headers are too large"));
    return State::NeedMore;
  }
  if (end + 4 > maxHead_) return fail(State::TooLarge, QStringLiteral("the response's headers are too large"));
  const QList<QByteArray> lines = buffer_.left(end).split('\n');
  buffer_.remove(0, end + 4);
  // "HTTP/1.1 200 OK" (RFC 9112 §4): the version, a space, three digits, then the reason or nothing.
  const QByteArray statusLine = lines.first().trimmed();
  bool ok = false;
  const int status = statusLine.mid(9, 3).toInt(&ok);
  if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12 || statusLine[8] != ' ' || !ok || status < 100 ||
      status > 999 || (statusLine.size() > 12 && statusLine[12] != ' '))
    return fail(State::Malformed, QStringLiteral("not an HTTP response"));
  QList<QByteArray> contentLengths;
  QByteArray transferEncoding;
  QByteArray location;
  for (qsizetype i = 1; i < lines.size(); ++i) {
    const QByteArray line = lines[i].endsWith('\r') ? lines[i].chopped(1) : lines[i];
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0) return fail(State::Malformed, QStringLiteral("a malformed header line in the response"));
    const QByteArray name = line.left(colon).trimmed().toLower();
    const QByteArray value = line.mid(colon + 1).trimmed();
    if (name == "content-length") contentLengths += value.split(',');
    else if (name == "transfer-encoding") transferEncoding += (transferEncoding.isEmpty() ? "" : ",") + value.toLower();
    else if (name == "location") location = value;
  }
  if (status >= 100 && status < 200) return State::NeedMore;  // interim (RFC 9110 §15.2): the real one follows
  status_ = status;
  location_ = location;
  if (status != 200) return State::Done;  // only a 200's body is passed on
  if (!transferEncoding.isEmpty()) {
    // RFC 9112 §6.1: chunked must be the last coding; a server that names another is not read.
    if (transferEncoding.replace(' ', "") != "chunked")
      return fail(State::Malformed, QStringLiteral("an unsupported Transfer-Encoding: %1").arg(QString::fromLatin1(transferEncoding)));
    framing_ = Framing::Chunked;
  } else if (!contentLengths.isEmpty()) {
    // Several values are allowed only when they agree (RFC 9112 §6.3, item 5).
    bool valid = true;
    const qint64 length = contentLengths.first().trimmed().toLongLong(&valid);
    for (const QByteArray& value : contentLengths) {
      bool same = false;
      valid = valid && value.trimmed().toLongLong(&same) == length && same && !value.trimmed().startsWith('+');
    }
    if (!valid || length < 0) return fail(State::Malformed, QStringLiteral("an invalid Content-Length"));
    if (length > maxBody_)
      return fail(State::TooLarge, QStringLiteral("the document is %1 bytes, over the limit of %2").arg(length).arg(maxBody_));
    framing_ = Framing::Length;
    length_ = length;
  } else {
    framing_ = Framing::UntilClose;
  }
  inBody_ = true;
  return State::NeedMore;
}

HttpResponseReader::State HttpResponseReader::readBody() {
  switch (framing_) {
    case Framing::Length: {
      const qint64 take = qMin<qint64>(length_ - body_.size(), buffer_.size());
      body_ += buffer_.left(take);
      buffer_.remove(0, take);
      if (body_.size() == length_) {
        buffer_.clear();  // anything after the body is not ours to read (Connection: close)
        return State::Done;
      }
      return State::NeedMore;
    }
    case Framing::UntilClose:
      body_ += buffer_;
      buffer_.clear();
      if (body_.size() > maxBody_)
        return fail(State::TooLarge, QStringLiteral("the document is over the limit of %1 bytes").arg(maxBody_));
      return State::NeedMore;
    case Framing::Chunked: return readChunks();
    case Framing::None: break;
  }
  return State::Done;
}

// RFC 9112 §7.1: size in hex [;extensions] CRLF, data CRLF, ..., a 0 size, trailer lines, CRLF.
HttpResponseReader::State HttpResponseReader::readChunks() {
  for (;;) {
    if (trailers_) {
      const qsizetype eol = buffer_.indexOf("\r\n");
      if (eol < 0) {
        if (buffer_.size() > maxHead_) return fail(State::TooLarge, QStringLiteral("the response's trailers are too large"));
        return State::NeedMore;
      }
      const bool last = eol == 0;
      buffer_.remove(0, eol + 2);
      if (last) {
        buffer_.clear();
        return State::Done;
      }
      continue;
    }
    if (chunkLeft_ < 0) {
      const qsizetype eol = buffer_.indexOf("\r\n");
      if (eol < 0) {
        if (buffer_.size() > kMaxChunkLine) return fail(State::Malformed, QStringLiteral("a malformed chunk size"));
        return State::NeedMore;
      }
      QByteArray size = buffer_.left(eol);
      buffer_.remove(0, eol + 2);
      if (const qsizetype semicolon = size.indexOf(';'); semicolon >= 0) size.truncate(semicolon);
      size = size.trimmed();
      bool ok = false;
      const qint64 n = size.toLongLong(&ok, 16);
      if (!ok || n < 0 || size.isEmpty() || size.size() > 16 || size.startsWith('+') || size.startsWith('-'))
        return fail(State::Malformed, QStringLiteral("a malformed chunk size"));
      if (body_.size() + n > maxBody_)
        return fail(State::TooLarge, QStringLiteral("the document is over the limit of %1 bytes").arg(maxBody_));
      if (n == 0) {
        trailers_ = true;
        continue;
      }
      chunkLeft_ = n;
    }
    if (chunkLeft_ > 0) {
      const qint64 take = qMin<qint64>(chunkLeft_, buffer_.size());
      body_ += buffer_.left(take);
      buffer_.remove(0, take);
      chunkLeft_ -= take;
      if (chunkLeft_ > 0) return State::NeedMore;
    }
    // The chunk's data is read; its CRLF follows.
    if (buffer_.size() < 2) return State::NeedMore;
    if (!buffer_.startsWith("\r\n")) return fail(State::Malformed, QStringLiteral("a chunk not ended by CRLF"));
    buffer_.remove(0, 2);
    chunkLeft_ = -1;
  }
}

}  // namespace smtpc::proxy
