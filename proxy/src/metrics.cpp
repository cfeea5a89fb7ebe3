#include "metrics.h"

#include <QDateTime>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "admission.h"

namespace smtpc::proxy {

namespace {

constexpr qsizetype kMaxRequestBytes = 4096;  // "GET /metrics HTTP/1.1" and a scraper's few headers
constexpr int kMaxScrapesAtOnce = 16;         // a scraper or two, and a load balancer's health checks
bool useJson = false;

// A label value (exposition format 0.0.4): backslash, double quote and newline escaped.
QByteArray label(const QByteArray& value) {
  QByteArray escaped;
  for (const char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return '"' + escaped + '"';
}

void family(QByteArray& out, const char* name, const char* type, const char* help) {
  out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

void sample(QByteArray& out, const char* name, const QByteArray& labels, double value) {
  out += name + (labels.isEmpty() ? QByteArray() : '{' + labels + '}') + ' ' + QByteArray::number(value, 'g', 15) + '\n';
}

void messageToJson(QtMsgType type, const QMessageLogContext& context, const QString& message) {
  static const char* const levels[] = {"debug", "warning", "critical", "fatal", "info"};
  logJson({{QStringLiteral("level"), QString::fromLatin1(type <= QtInfoMsg ? levels[type] : "info")},
           {QStringLiteral("category"), QString::fromLatin1(context.category ? context.category : "default")},
           {QStringLiteral("message"), message}});
  if (type == QtFatalMsg) std::abort();
}

}  // namespace

Counters& counters() {
  static Counters c;
  return c;
}

const char* reasonWord(const QString& reason) {
  static const std::pair<const char*, const char*> words[] = {
      {"handshake timeout", "timeout"},
      {"client left during the handshake", "client_left"},
      {"request head too large", "too_large"},
      {"malformed request", "malformed"},
      {"proxy shutting down", "shutting_down"},
      {"too many handshakes in progress", "handshake_capacity"},
      {"too many handshakes in progress from this address", "client_handshake_capacity"},
  };
  for (const auto& [words_, word] : words)
    if (reason == QLatin1String(words_)) return word;
  return "other";
}

void countConnectionEnd(int code, qint64 up, qint64 down) {
  Counters& c = counters();
  ++c.closes[code];
  c.bytesUp += static_cast<quint64>(up);
  c.bytesDown += static_cast<quint64>(down);
}

void countLookup(const QString& status) { ++counters().lookups[status.section(QLatin1Char(' '), -1).toStdString()]; }

QByteArray renderMetrics(const Counters& c, const Gauges& g) {
  QByteArray out;
  family(out, "smtpc_proxy_connections", "gauge", "Connections admitted and open now (relays and handshakes being upgraded).");
  sample(out, "smtpc_proxy_connections", {}, g.connections);
  family(out, "smtpc_proxy_handshakes_in_progress", "gauge", "Connections accepted whose request is not yet decided.");
  sample(out, "smtpc_proxy_handshakes_in_progress", {}, g.handshakes);
  family(out, "smtpc_proxy_lookups_in_progress", "gauge", "Lookups (--lookup) running now.");
  sample(out, "smtpc_proxy_lookups_in_progress", {}, g.lookups);
  family(out, "smtpc_proxy_web_connections", "gauge", "Connections open for the page's files (--web).");
  sample(out, "smtpc_proxy_web_connections", {}, g.web);
  family(out, "smtpc_proxy_draining", "gauge", "1 after SIGTERM or SIGINT, while the open connections close.");
  sample(out, "smtpc_proxy_draining", {}, g.draining ? 1 : 0);
  family(out, "smtpc_proxy_accepted_total", "counter", "TCP connections accepted on the relay's listener.");
  sample(out, "smtpc_proxy_accepted_total", {}, static_cast<double>(c.accepted));
  family(out, "smtpc_proxy_handshakes_refused_total", "counter",
         "Connections that did not become a relay, by reason (origin, token, destination, capacity, timeout, ...).");
  for (const auto& [reason, n] : c.refused)
    sample(out, "smtpc_proxy_handshakes_refused_total", "reason=" + label(QByteArray::fromStdString(reason)), static_cast<double>(n));
  family(out, "smtpc_proxy_closes_total", "counter",
         "Connections ended, refused or relayed, by WebSocket close code (abort: without a close frame).");
  for (const auto& [code, n] : c.closes)
    sample(out, "smtpc_proxy_closes_total", "code=" + label(code ? QByteArray::number(code) : "abort"), static_cast<double>(n));
  family(out, "smtpc_proxy_bytes_total", "counter",
         "Bytes relayed: up, browser to server; down, server to browser (counted when a connection ends).");
  sample(out, "smtpc_proxy_bytes_total", "direction=\"up\"", static_cast<double>(c.bytesUp));
  sample(out, "smtpc_proxy_bytes_total", "direction=\"down\"", static_cast<double>(c.bytesDown));
  family(out, "smtpc_proxy_lookups_total", "counter", "Lookups (--lookup) answered or refused, by status.");
  for (const auto& [status, n] : c.lookups)
    sample(out, "smtpc_proxy_lookups_total", "status=" + label(QByteArray::fromStdString(status)), static_cast<double>(n));
  family(out, "smtpc_proxy_web_requests_total", "counter", "Requests for the page's files (--web), by HTTP status.");
  for (const auto& [status, n] : c.webRequests)
    sample(out, "smtpc_proxy_web_requests_total", "status=" + label(QByteArray::number(status)), static_cast<double>(n));

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
  sample(out, "process_cpu_seconds_total", {}, cpu);
  long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(statm, "%ld %ld", &size, &pages) != 2) pages = 0;
    std::fclose(statm);
  }
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  sample(out, "process_resident_memory_bytes", {}, static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  family(out, "process_open_fds", "gauge", "Open file descriptors.");
  const qsizetype fds = QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot).size();
  sample(out, "process_open_fds", {}, static_cast<double>(fds));
  return out;
}

void useJsonLog() {
  useJson = true;
  qInstallMessageHandler(messageToJson);
}

bool jsonLog() { return useJson; }

void logJson(const QList<QPair<QString, QJsonValue>>& fields) {
  // QJsonObject sorts its keys: the line is built by hand to keep "time" first and the fields in order.
  QByteArray line = "{\"time\":\"" + QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1() + '"';
  for (const auto& [name, value] : fields) {
    const QByteArray pair = QJsonDocument(QJsonObject{{name, value}}).toJson(QJsonDocument::Compact);
    line += ',' + pair.mid(1, pair.size() - 2);  // "name":value, without the object's braces
  }
  line += "}\n";
  std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
  std::fflush(stderr);
}

MetricsServer::MetricsServer(std::function<Gauges()> gauges, int timeoutMs) : gauges_(std::move(gauges)), timeoutMs_(timeoutMs) {
  server_.setMaxPendingConnections(kMaxScrapesAtOnce);
  connect(&server_, &QTcpServer::newConnection, this, &MetricsServer::onConnection);
}

MetricsServer::~MetricsServer() = default;

bool MetricsServer::listen(const QHostAddress& address, quint16 port, QString* why) {
  if (server_.listen(address, port)) return true;
  *why = server_.errorString();
  return false;
}

void MetricsServer::onConnection() {
  while (QTcpSocket* socket = server_.nextPendingConnection()) {
    if (findChildren<QTcpSocket*>(Qt::FindDirectChildrenOnly).size() > kMaxScrapesAtOnce) {
      socket->abort();
      socket->deleteLater();
      continue;
    }
    socket->setParent(this);
    socket->setReadBufferSize(kMaxRequestBytes);
    auto* timeout = new QTimer(socket);
    timeout->setSingleShot(true);
    connect(timeout, &QTimer::timeout, socket, [socket] { socket->abort(); socket->deleteLater(); });
    timeout->start(timeoutMs_);
    connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    connect(socket, &QIODevice::readyRead, this, [this, socket] {
      HandshakeRequest request;
      const HeadStatus status = parseHandshake(socket->peek(socket->bytesAvailable()), kMaxRequestBytes, &request);
      if (status == HeadStatus::Incomplete) return;
      disconnect(socket, &QIODevice::readyRead, this, nullptr);
      socket->read(socket->bytesAvailable());
      const QByteArray path = request.target.left(request.target.indexOf('?') < 0 ? request.target.size() : request.target.indexOf('?'));
      int code = 404;
      QByteArray type = "text/plain; charset=utf-8", body = "not found\n";
      if (status != HeadStatus::Complete) {
        code = 400;
        body = "bad request\n";
      } else if (request.method != "GET" && request.method != "HEAD" && (path == "/metrics" || path == "/healthz")) {
        code = 405;
        body = "method not allowed\n";
      } else if (path == "/healthz") {
        const bool draining = gauges_().draining;
        code = draining ? 503 : 200;
        body = draining ? "draining\n" : "ok\n";
      } else if (path == "/metrics") {
        code = 200;
        type = "text/plain; version=0.0.4; charset=utf-8";
        body = renderMetrics(counters(), gauges_());
      }
      const char* phrase = code == 200 ? "OK" : code == 503 ? "Service Unavailable" : code == 405 ? "Method Not Allowed"
                                                : code == 400 ? "Bad Request" : "Not Found";
      socket->write("HTTP/1.1 " + QByteArray::number(code) + ' ' + phrase + "\r\nContent-Type: " + type +
                    "\r\nContent-Length: " + QByteArray::number(body.size()) +
                    "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
                    (code == 405 ? "Allow: GET, HEAD\r\n" : "") + "Connection: close\r\n\r\n" +
                    (request.method == "HEAD" ? QByteArray() : body));
      socket->disconnectFromHost();  // after the answer is written; disconnected() deletes it
    });
  }
}

}  // namespace smtpc::proxy
