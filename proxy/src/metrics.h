// What smtpc-proxy counts and how it says so: the counters (one set per process: the proxy runs
// on one thread), their Prometheus text (exposition format 0.0.4), the listener of --metrics
// ADDR:PORT (GET /healthz, GET /metrics, nothing else), and --log-format json (one JSON object
// per line, the connection lines with their fields, anything else Qt logs as a message).
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QObject>
#include <QString>
#include <QTcpServer>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace smtpc::proxy {

struct Counters {
  quint64 accepted = 0;                       // TCP connections accepted on the relay's listener
  std::map<std::string, quint64> refused;     // handshakes that did not become a relay, by reason word
  std::map<int, quint64> closes;              // connections ended (refused or relayed), by close code; 0: aborted
  quint64 bytesUp = 0, bytesDown = 0;         // browser -> server and back, counted when a connection ends
  std::map<std::string, quint64> lookups;     // lookups by their status word
  std::map<int, quint64> webRequests;         // --web requests by HTTP status
};
Counters& counters();

// A refusal's reason (Proxy::dropHandshake's words) as a label: a fixed word, never client data.
const char* reasonWord(const QString& reason);
void countConnectionEnd(int code, qint64 up, qint64 down);
void countLookup(const QString& status);

// What is open now, asked of the proxy when /metrics is read.
struct Gauges {
  int connections = 0;  // admitted: relays and handshakes being upgraded
  int handshakes = 0;   // accepted, request not yet decided
  int lookups = 0;
  int web = 0;          // --web connections
  bool draining = false;
};
QByteArray renderMetrics(const Counters& counters, const Gauges& gauges);

// --log-format json: every line Qt logs becomes one JSON object; the connection and lookup
// lines are written with their fields by logJson.
void useJsonLog();
bool jsonLog();
// One JSON object on one line to the log (standard error), with "time" (UTC) added first.
void logJson(const QList<QPair<QString, QJsonValue>>& fields);

// The --metrics listener: one request per connection, answered and closed.
class MetricsServer : public QObject {
 public:
  MetricsServer(std::function<Gauges()> gauges, int timeoutMs);
  ~MetricsServer() override;
  bool listen(const QHostAddress& address, quint16 port, QString* why);
  quint16 port() const { return server_.serverPort(); }
  QHostAddress address() const { return server_.serverAddress(); }

 private:
  void onConnection();
  std::function<Gauges()> gauges_;
  int timeoutMs_;
  QTcpServer server_;
};

}  // namespace smtpc::proxy
