#include "dns.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QPointer>
#include <QTimer>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace smtpc::proxy {

namespace {

constexpr int kMaxThreads = 8;  // queries at once; more wait their turn (within their timeout)
constexpr int kHeaderBytes = 12;  // RFC 1035 §4.1.1

// One query's callback, called once: by the answer or by the timeout, whichever comes first.
// Touched on the main thread only.
struct Pending {
  QPointer<QObject> context;
  Resolver::Callback done;
  bool answered = false;
  void answer(const DnsResult& result) {
    if (answered) return;
    answered = true;
    if (context) done(result);
  }
};

DnsResult failed(DnsResult::Status status, const QString& error) {
  DnsResult result;
  result.status = status;
  result.error = error;
  return result;
}

// A name in an answer, uncompressed (RFC 1035 §4.1.4); the root is ".".
bool expandName(const ns_msg& message, const unsigned char* at, QString* name) {
  char buffer[NS_MAXDNAME];
  if (dn_expand(ns_msg_base(message), ns_msg_end(message), at, buffer, sizeof buffer) < 0) return false;
  *name = buffer[0] ? QString::fromLatin1(buffer).toLower() : QStringLiteral(".");
  return true;
}

// The records of `type` in the answer section; other records (a CNAME on the way) are passed over.
DnsResult parseAnswer(const unsigned char* answer, int length, DnsType type) {
  ns_msg message;
  if (ns_initparse(answer, length, &message) < 0) return failed(DnsResult::Status::Failed, QStringLiteral("the DNS answer is malformed"));
  DnsResult result;
  const int wanted = type == DnsType::Srv ? ns_t_srv : type == DnsType::Mx ? ns_t_mx : type == DnsType::A ? ns_t_a : ns_t_aaaa;
  for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
    ns_rr record;
    if (ns_parserr(&message, ns_s_an, i, &record) < 0)
      return failed(DnsResult::Status::Failed, QStringLiteral("the DNS answer is malformed"));
    if (ns_rr_type(record) != wanted || ns_rr_class(record) != ns_c_in) continue;
    const unsigned char* data = ns_rr_rdata(record);
    const int size = ns_rr_rdlen(record);
    bool ok = true;
    if (type == DnsType::Srv) {  // RFC 2782: priority, weight, port, target
      SrvRecord srv;
      ok = size > 6 && expandName(message, data + 6, &srv.target);
      srv.priority = static_cast<quint16>(ns_get16(data));
      srv.weight = static_cast<quint16>(ns_get16(data + 2));
      srv.port = static_cast<quint16>(ns_get16(data + 4));
      if (ok) result.srv.append(srv);
    } else if (type == DnsType::Mx) {  // RFC 1035 §3.3.9: preference, exchange
      MxRecord mx;
      ok = size > 2 && expandName(message, data + 2, &mx.exchange);
      mx.preference = static_cast<quint16>(ns_get16(data));
      if (ok) result.mx.append(mx);
    } else if (type == DnsType::A) {
      ok = size == 4;
      if (ok) result.addresses.append(QHostAddress(static_cast<quint32>(ns_get32(data))));
    } else {
      ok = size == 16;
      if (ok) result.addresses.append(QHostAddress(data));
    }
    if (!ok) return failed(DnsResult::Status::Failed, QStringLiteral("the DNS answer holds a malformed record"));
  }
  return result;
}

// One query through the C library's resolver, blocking (on a pool thread).
DnsResult runQuery(const QHostAddress& server, const QByteArray& name, DnsType type, int timeoutMs) {
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) return failed(DnsResult::Status::Failed, QStringLiteral("the resolver could not start"));
  // Two tries of half the budget each (at least a second: the resolver counts in seconds).
  state.retrans = std::max(1, timeoutMs / 2000);
  state.retry = 2;
  if (!server.isNull()) {
#ifdef __GLIBC__
    // An IPv6 server of resolv.conf sits in the extension, and would be asked instead.
    for (int i = 0; i < MAXNS; ++i) {
      std::free(state._u._ext.nsaddrs[i]);
      state._u._ext.nsaddrs[i] = nullptr;
    }
#endif
    sockaddr_in& ns = state.nsaddr_list[0];
    std::memset(&ns, 0, sizeof ns);
    ns.sin_family = AF_INET;
    ns.sin_port = htons(53);
    ns.sin_addr.s_addr = htonl(server.toIPv4Address());
    state.nscount = 1;
  }
  const int qtype = type == DnsType::Srv ? ns_t_srv : type == DnsType::Mx ? ns_t_mx : type == DnsType::A ? ns_t_a : ns_t_aaaa;
  std::vector<unsigned char> answer(NS_MAXMSG);
  std::memset(answer.data(), 0, kHeaderBytes);
  const int length = res_nquery(&state, name.constData(), ns_c_in, qtype, answer.data(), static_cast<int>(answer.size()));
  const int error = errno;
  res_nclose(&state);
  if (length >= 0) return parseAnswer(answer.data(), length, type);
  // -1: either an answer that is not NOERROR-with-records (it is in the buffer, its QR bit set),
  // or no answer at all.
  const bool isAnswer = (answer[2] & 0x80) != 0;
  if (!isAnswer && error == ETIMEDOUT) return failed(DnsResult::Status::Timeout, QStringLiteral("the DNS server did not answer"));
  if (!isAnswer)
    return failed(DnsResult::Status::Failed, QStringLiteral("the DNS server could not be asked (%1)").arg(QString::fromLocal8Bit(std::strerror(error))));
  switch (answer[3] & 0x0f) {  // RCODE, RFC 1035 §4.1.1
    case ns_r_noerror: return DnsResult();  // NODATA: the name exists, without records of this type
    case ns_r_nxdomain: return failed(DnsResult::Status::NxDomain, QStringLiteral("the name does not exist (NXDOMAIN)"));
    case ns_r_servfail: return failed(DnsResult::Status::Failed, QStringLiteral("the DNS server failed (SERVFAIL)"));
    case ns_r_refused: return failed(DnsResult::Status::Failed, QStringLiteral("the DNS server refused the query (REFUSED)"));
    default: return failed(DnsResult::Status::Failed, QStringLiteral("the DNS server answered with error %1").arg(answer[3] & 0x0f));
  }
}

}  // namespace

Resolver::Resolver(QHostAddress server) : server_(std::move(server)) { pool_.setMaxThreadCount(kMaxThreads); }

Resolver::~Resolver() { pool_.waitForDone(); }

void Resolver::query(const QString& name, DnsType type, int timeoutMs, QObject* context, Callback done) {
  auto pending = std::make_shared<Pending>();
  pending->context = context;
  pending->done = std::move(done);
  QTimer::singleShot(timeoutMs, context, [pending] {
    pending->answer(failed(DnsResult::Status::Timeout, QStringLiteral("no DNS answer in time")));
  });
  const QHostAddress server = server_;
  const QByteArray ascii = name.toLatin1();
  pool_.start([pending, server, ascii, type, timeoutMs]() mutable {
    const DnsResult result = runQuery(server, ascii, type, timeoutMs);
    // The application outlives the pool (~Resolver waits for it), so this always has a receiver.
    // `pending` moves along: it is never released on this thread.
    QMetaObject::invokeMethod(QCoreApplication::instance(), [pending = std::move(pending), result] { pending->answer(result); },
                              Qt::QueuedConnection);
  });
}

void Resolver::resolve(const QString& host, int timeoutMs, QObject* context, Callback done) {
  const QHostAddress literal(host);
  if (!literal.isNull()) {
    DnsResult result;
    result.addresses = {literal};
    QTimer::singleShot(0, context, [done, result] { done(result); });
    return;
  }
  if (server_.isNull()) {
    auto pending = std::make_shared<Pending>();
    pending->context = context;
    pending->done = std::move(done);
    const int id = QHostInfo::lookupHost(host, context, [pending](const QHostInfo& info) {
      if (info.error() == QHostInfo::NoError && !info.addresses().isEmpty()) {
        DnsResult result;
        result.addresses = info.addresses();
        pending->answer(result);
      } else {
        pending->answer(failed(info.error() == QHostInfo::HostNotFound ? DnsResult::Status::NxDomain : DnsResult::Status::Failed,
                               info.errorString()));
      }
    });
    QTimer::singleShot(timeoutMs, context, [pending, id] {
      if (pending->answered) return;
      QHostInfo::abortHostLookup(id);
      pending->answer(failed(DnsResult::Status::Timeout, QStringLiteral("no DNS answer in time")));
    });
    return;
  }
  // A and AAAA side by side; the answer when both are in: their addresses, A first, or the
  // failure of the A query (else the AAAA query's).
  struct Both {
    DnsResult a, aaaa;
    int left = 2;
  };
  auto both = std::make_shared<Both>();
  auto finish = [both, done](bool isA, const DnsResult& result) {
    (isA ? both->a : both->aaaa) = result;
    if (--both->left > 0) return;
    DnsResult merged;
    merged.addresses = both->a.addresses + both->aaaa.addresses;
    if (!merged.addresses.isEmpty()) return done(merged);
    if (both->a.status == DnsResult::Status::Ok && both->aaaa.status == DnsResult::Status::Ok)
      return done(failed(DnsResult::Status::Failed, QStringLiteral("the name has no address (no A or AAAA record)")));
    done(both->a.status != DnsResult::Status::Ok ? both->a : both->aaaa);
  };
  query(host, DnsType::A, timeoutMs, context, [finish](const DnsResult& r) { finish(true, r); });
  query(host, DnsType::Aaaa, timeoutMs, context, [finish](const DnsResult& r) { finish(false, r); });
}

}  // namespace smtpc::proxy
