// DNS for smtpc-proxy: the lookup endpoint's SRV and MX queries, and the addresses of a name
// (for the relay and for the lookup's fetches) from --dns-server when there is one.
//
// Queries go through the C library's resolver (res_nquery) on a small pool of threads, because
// its answer says what QDnsLookup (Qt 6.4) does not: QDnsLookup reports a name that exists with
// no record of the type (NODATA) and a server that never answers alike, as "Invalid reply".
// Discovery needs the difference: NODATA is an answer ("no SRV records"), a timeout is not.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <functional>

namespace smtpc::proxy {

struct SrvRecord {
  quint16 priority = 0, weight = 0, port = 0;
  QString target;  // "." : the service is not offered (RFC 2782)
};
struct MxRecord {
  quint16 preference = 0;
  QString exchange;  // "." : the domain takes no mail (RFC 7505)
};

struct DnsResult {
  enum class Status { Ok, NxDomain, Failed, Timeout };
  Status status = Status::Ok;
  QString error;  // not Ok: one sentence
  QList<SrvRecord> srv;
  QList<MxRecord> mx;
  QList<QHostAddress> addresses;  // A, then AAAA
};

enum class DnsType { Srv, Mx, A, Aaaa };

class Resolver {
 public:
  // `server` null: the system's resolver (/etc/resolv.conf for queries, getaddrinfo for addresses).
  explicit Resolver(QHostAddress server);
  ~Resolver();  // waits for queries still running (each is bounded by its timeout)

  using Callback = std::function<void(const DnsResult&)>;
  // `done` runs once, on the main thread, unless `context` is gone by then: with the answer, or
  // with Status::Timeout after `timeoutMs`.
  void query(const QString& name, DnsType type, int timeoutMs, QObject* context, Callback done);
  // The addresses of `host`: an IP literal is itself; with a server, its A and AAAA records
  // there; without, the system's getaddrinfo (so /etc/hosts counts).
  void resolve(const QString& host, int timeoutMs, QObject* context, Callback done);

 private:
  QHostAddress server_;
  QThreadPool pool_;
};

}  // namespace smtpc::proxy
