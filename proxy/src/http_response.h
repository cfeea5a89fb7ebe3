// Reads the response to one HTTP/1.1 GET sent with "Connection: close" (RFC 9112): the status
// line, the headers, and for a 200 the body, delimited by Content-Length, chunked transfer
// coding or the end of the connection. Bounded: a head over maxHead or a body over maxBody is
// TooLarge, as soon as that is known (a Content-Length over the limit before any byte of it).
// Interim 1xx responses are skipped. Bytes in, a state out: no socket.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace smtpc::proxy {

class HttpResponseReader {
 public:
  enum class State { NeedMore, Done, TooLarge, Malformed };

  HttpResponseReader(qsizetype maxHead, qsizetype maxBody) : maxHead_(maxHead), maxBody_(maxBody) {}

  State feed(QByteArrayView bytes);
  // The connection ended: a body that runs to the end is complete; anything else cut short is Malformed.
  State finish();
  State state() const { return state_; }

  int status() const { return status_; }  // 0 until the head is read
  QByteArray location() const { return location_; }  // the Location header (a 3xx's target)
  QByteArray body() const { return body_; }           // only for a 200
  QString why() const { return why_; }                // Malformed or TooLarge: what was wrong

 private:
  enum class Framing { Length, Chunked, UntilClose, None };
  State readHead();
  State readBody();
  State readChunks();
  State fail(State state, const QString& why);

  qsizetype maxHead_, maxBody_;
  State state_ = State::NeedMore;
  bool inBody_ = false;
  QByteArray buffer_;  // bytes not yet consumed
  int status_ = 0;
  QByteArray location_;
  Framing framing_ = Framing::None;
  qint64 length_ = 0;      // Framing::Length: the body's size
  qint64 chunkLeft_ = -1;  // Framing::Chunked: bytes left of the current chunk; -1 before a size line
  bool trailers_ = false;  // Framing::Chunked: the last chunk was read, the trailer section follows
  QByteArray body_;
  QString why_;
};

}  // namespace smtpc::proxy
