// smtpc-proxy --web DIR: the page's own files, served on the relay's listener so that the page
// and its default relay (ws(s)://the page's host/smtp) share one origin. What to answer is
// decided here from the request and the folder alone (no socket); web_server.cpp sends it.
//   GET and HEAD only; "/" is index.html; no listing; nothing outside DIR (no "..", no encoded
//   slash or NUL, no dotfile, no symlink out of DIR); a precompressed sibling (.br, .gz) when
//   the request's Accept-Encoding takes it; a strong ETag and If-None-Match -> 304; the page's
//   Content-Security-Policy (from DIR/index.html's <meta>) and the other security headers on
//   every answer.
//   RFC 9110 (semantics: §8.8.3 ETag, §13.1.2 If-None-Match, §12.5.3 Accept-Encoding), RFC 9111 (caching).
#pragma once

#include <QByteArray>
#include <QString>

#include "admission.h"

namespace smtpc::proxy {

struct WebReply {
  int status = 200;
  QByteArray head;    // the status line and headers, ending in the empty line
  QByteArray body;    // a small body in memory (errors), sent after head unless HEAD
  QString file;       // or a file to send after head (GET 200 only), `length` bytes of it
  qint64 length = 0;
  bool close = false;  // the connection ends after this answer (its body may follow unread, ...)
};

class WebRoot {
 public:
  // `dir` is the canonical path of a folder (Config::webDir).
  explicit WebRoot(const QString& dir);
  // The answer to one request; `keepAlive`: the connection stays open after it (said in Connection).
  WebReply answer(const HandshakeRequest& request, bool keepAlive) const;
  // The Content-Security-Policy header: index.html's <meta> policy, plus what only a header can say.
  QByteArray contentSecurityPolicy() const { return csp_; }
  // application/wasm, text/javascript; charset=utf-8, ...: by the name's suffix.
  static QByteArray contentType(const QString& name);

 private:
  QByteArray securityHeaders() const;
  WebReply error(int status, const char* phrase, bool keepAlive, const QByteArray& extra = {}) const;
  // The file a target names inside the folder, or empty (then *status is 400 or 404).
  QString resolve(const QByteArray& target, int* status) const;
  bool inside(const QString& path) const;

  QString root_;
  QByteArray csp_;
};

// Whether a connection may carry another request after this one: HTTP/1.1 without
// "Connection: close", a GET or HEAD without a body (a body would be read as the next request).
bool keepsAlive(const HandshakeRequest& request);

}  // namespace smtpc::proxy
