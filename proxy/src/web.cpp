#include "web.h"

#include <QFile>
#include <QFileInfo>
#include <QList>

#include <sys/stat.h>

namespace smtpc::proxy {

namespace {

// What index.html's <meta> says when it cannot be read: the page's policy as it was written.
constexpr char kDefaultPolicy[] =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss: http: https:; "
    "style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";
constexpr char kMetaPolicy[] = "<meta http-equiv=\"Content-Security-Policy\" content=\"";

struct Type {
  const char* suffix;
  const char* type;
};
constexpr Type kTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/vnd.microsoft.icon"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".pem", "text/plain; charset=utf-8"},  // ca-bundle.pem, read by the page as text
    {".dat", "text/plain; charset=utf-8"},  // public_suffix_list.dat
    {".gz", "application/gzip"},
    {".br", "application/octet-stream"},
};

// A strong validator (RFC 9110 §8.8.3) for one representation: the file's identity, size and
// modification time, and the coding, so that the .gz and the plain file never share one.
QByteArray entityTag(const QString& path, const char* coding) {
  struct stat st {};
  if (::stat(QFile::encodeName(path).constData(), &st) != 0) return {};
  const qint64 ns = static_cast<qint64>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  QByteArray tag = '"' + QByteArray::number(static_cast<qulonglong>(st.st_ino), 16) + '-' +
                   QByteArray::number(static_cast<qint64>(st.st_size), 16) + '-' + QByteArray::number(ns, 16);
  if (*coding) tag += QByteArray("-") + coding;
  return tag + '"';
}

// Whether Accept-Encoding takes `coding` (a q of 0 refuses it; "*" is not read: a named coding
// or nothing, which is what browsers send).
bool accepts(const QByteArray& acceptEncoding, const QByteArray& coding) {
  for (const QByteArray& item : acceptEncoding.split(',')) {
    const QList<QByteArray> parts = item.split(';');
    if (parts.first().trimmed().toLower() != coding) continue;
    for (qsizetype i = 1; i < parts.size(); ++i) {
      const QByteArray parameter = parts[i].trimmed().toLower();
      if (parameter.startsWith("q=") && parameter.mid(2).toDouble() <= 0) return false;
    }
    return true;
  }
  return false;
}

// If-None-Match (RFC 9110 §13.1.2): "*", or a list of tags compared weakly (W/ ignored).
bool matches(const QByteArray& ifNoneMatch, const QByteArray& tag) {
  for (QByteArray item : ifNoneMatch.split(',')) {
    item = item.trimmed();
    if (item == "*") return true;
    if (item.startsWith("W/")) item = item.mid(2);
    if (!tag.isEmpty() && item == tag) return true;
  }
  return false;
}

}  // namespace

bool keepsAlive(const HandshakeRequest& request) {
  if (request.version != "HTTP/1.1" || request.hasBody) return false;
  if (request.method != "GET" && request.method != "HEAD") return false;
  for (const QByteArray& option : request.connection.split(','))
    if (option.trimmed() == "close") return false;
  return true;
}

WebRoot::WebRoot(const QString& dir) : root_(dir) {
  QByteArray policy = kDefaultPolicy;
  QFile index(root_ + QStringLiteral("/index.html"));
  if (index.open(QIODevice::ReadOnly)) {
    const QByteArray page = index.read(64 * 1024);  // the <meta> is in the head
    const qsizetype start = page.indexOf(kMetaPolicy);
    const qsizetype end = start < 0 ? -1 : page.indexOf('"', start + qsizetype(sizeof kMetaPolicy) - 1);
    if (end > 0) {
      const QByteArray found = page.mid(start + qsizetype(sizeof kMetaPolicy) - 1, end - start - qsizetype(sizeof kMetaPolicy) + 1);
      bool printable = !found.isEmpty();
      for (const char c : found) printable = printable && c >= 0x20 && c < 0x7f;
      if (printable) policy = found;
    }
  }
  // A <meta> cannot say frame-ancestors (CSP3 §6.4.2): only the header keeps the page out of frames.
  csp_ = policy + "; frame-ancestors 'none'";
}

QByteArray WebRoot::contentType(const QString& name) {
  for (const Type& t : kTypes)
    if (name.endsWith(QLatin1String(t.suffix), Qt::CaseInsensitive)) return t.type;
  return "application/octet-stream";
}

QByteArray WebRoot::securityHeaders() const {
  return "Content-Security-Policy: " + csp_ +
         "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
         "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Resource-Policy: same-origin\r\n"
         "X-Frame-Options: DENY\r\n";
}

WebReply WebRoot::error(int status, const char* phrase, bool keepAlive, const QByteArray& extra) const {
  WebReply reply;
  reply.status = status;
  reply.close = !keepAlive;
  reply.body = QByteArray(phrase).toLower() + '\n';
  reply.head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + phrase +
               "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + QByteArray::number(reply.body.size()) +
               "\r\nCache-Control: no-store\r\n" + extra + securityHeaders() +
               (keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  return reply;
}

bool WebRoot::inside(const QString& path) const {
  const QString canonical = QFileInfo(path).canonicalFilePath();  // symlinks followed
  if (canonical.isEmpty() || !canonical.startsWith(root_ + QLatin1Char('/'))) return false;
  // Not a dotfile where a link lands either.
  for (const QString& segment : canonical.mid(root_.size() + 1).split(QLatin1Char('/')))
    if (segment.startsWith(QLatin1Char('.'))) return false;
  return QFileInfo(canonical).isFile();
}

QString WebRoot::resolve(const QByteArray& target, int* status) const {
  *status = 400;
  if (!target.startsWith('/') || target.contains('#')) return {};  // origin-form only (RFC 9112 §3.2.1)
  *status = 404;
  QByteArray path = target.left(target.indexOf('?') < 0 ? target.size() : target.indexOf('?'));
  // An encoded slash or backslash would be one segment to us and two to anyone who decodes again.
  const QByteArray lower = path.toLower();
  if (lower.contains("%2f") || lower.contains("%5c") || path.contains('\\')) return {};
  const QByteArray decoded = QByteArray::fromPercentEncoding(path);
  if (decoded.contains('\0') || decoded.contains('\\') || QString::fromUtf8(decoded).toUtf8() != decoded) return {};
  QList<QByteArray> segments = decoded.mid(1).split('/');
  if (segments.last().isEmpty()) segments.last() = "index.html";  // "/" and "dir/": the folder's index
  for (const QByteArray& segment : segments)
    if (segment.isEmpty() || segment.startsWith('.')) return {};  // "//", ".", "..", dotfiles
  const QString file = root_ + QLatin1Char('/') + QString::fromUtf8(segments.join('/'));
  if (!inside(file)) return {};
  *status = 200;
  return file;
}

WebReply WebRoot::answer(const HandshakeRequest& request, bool keepAlive) const {
  if (request.method != "GET" && request.method != "HEAD")
    return error(405, "Method Not Allowed", false, "Allow: GET, HEAD\r\n");
  int status = 0;
  const QString file = resolve(request.target, &status);
  if (file.isEmpty()) return status == 400 ? error(400, "Bad Request", false) : error(404, "Not Found", keepAlive);

  // The precompressed sibling the client takes, best first.
  QString sent = file;
  const char* coding = "";
  const bool compressed = file.endsWith(QLatin1String(".gz")) || file.endsWith(QLatin1String(".br"));
  if (!compressed) {
    for (const char* candidate : {"br", "gzip"}) {
      const QString sibling = file + (qstrcmp(candidate, "br") == 0 ? QStringLiteral(".br") : QStringLiteral(".gz"));
      if (accepts(request.acceptEncoding, candidate) && inside(sibling)) {
        sent = sibling;
        coding = candidate;
        break;
      }
    }
  }
  const QByteArray tag = entityTag(sent, coding);
  const qint64 size = QFileInfo(sent).size();
  // The page's files keep their names from one build to the next: a cache must ask again every
  // time (a 304 costs one round trip). settings.json may hold the relay's token: not stored at all.
  const bool secret = file.endsWith(QLatin1String("/settings.json"));
  QByteArray common = "ETag: " + tag + "\r\nCache-Control: " + (secret ? "no-store" : "no-cache") +
                      "\r\nVary: Accept-Encoding\r\n" + securityHeaders() +
                      (keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");

  WebReply reply;
  reply.close = !keepAlive;
  if (!secret && !request.ifNoneMatch.isEmpty() && matches(request.ifNoneMatch, tag)) {
    reply.status = 304;
    reply.head = "HTTP/1.1 304 Not Modified\r\n" + common + "\r\n";
    return reply;
  }
  reply.status = 200;
  reply.head = "HTTP/1.1 200 OK\r\nContent-Type: " + contentType(file) + "\r\nContent-Length: " + QByteArray::number(size) +
               "\r\n" + (*coding ? "Content-Encoding: " + QByteArray(coding) + "\r\n" : QByteArray()) + common + "\r\n";
  if (request.method == "GET") {
    reply.file = sent;
    reply.length = size;
  }
  return reply;
}

}  // namespace smtpc::proxy
