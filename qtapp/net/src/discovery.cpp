// Discovery: the adapter of core's settings discovery (smtpc/discovery.h) for Qt. It performs the
// flow's requests and answers it; every decision (what to ask, what to trust, what to choose) is
// the flow's.
#include "smtpc/qt/discovery.h"

#include <QDnsLookup>
#include <QElapsedTimer>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QTimer>
#include <QUrl>
#include <QXmlStreamReader>
#include <map>

#include "smtpc/qt/client.h"

namespace smtpc::qt {

namespace {

QString qs(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

// Debian's publicsuffix package; SMTPC_PUBLIC_SUFFIX_LIST names another copy.
constexpr const char* kPublicSuffixFile = "/usr/share/publicsuffix/public_suffix_list.dat";

// Through the given DNS server: A first (IPv4), then AAAA. (A plain function calling itself: a
// lambda holding a shared_ptr to itself would never be freed.)
void lookupAddress(QDnsLookup::Type type, const QString& name, const QHostAddress& server, QObject* context,
                   std::function<void(const QHostAddress& address, const QString& why)> done) {
  auto* lookup = new QDnsLookup(type, name, server, context);
  QObject::connect(lookup, &QDnsLookup::finished, context, [=] {
    lookup->deleteLater();
    const auto records = lookup->hostAddressRecords();
    if (!records.isEmpty()) return done(records.first().value(), {});
    if (type == QDnsLookup::A) return lookupAddress(QDnsLookup::AAAA, name, server, context, done);
    done(QHostAddress(), QStringLiteral("the name %1 does not resolve (DNS server %2)").arg(name, server.toString()));
  });
  lookup->lookup();
}

}  // namespace

const PublicSuffixList& publicSuffixes() {
  static const PublicSuffixList list = [] {
    const QByteArray path = qEnvironmentVariableIsSet("SMTPC_PUBLIC_SUFFIX_LIST")
                                ? qgetenv("SMTPC_PUBLIC_SUFFIX_LIST")
                                : QByteArray(kPublicSuffixFile);
    QFile file(QString::fromLocal8Bit(path));
    if (!file.open(QIODevice::ReadOnly)) return PublicSuffixList();
    const QByteArray text = file.readAll();
    return PublicSuffixList::parse(std::string_view(text.constData(), static_cast<std::size_t>(text.size())));
  }();
  return list;
}

std::optional<NetworkOptions::Resolve> NetworkOptions::parseResolve(const QString& text, QString* why) {
  // HOST:PORT:ADDRESS, the address possibly "[::1]" or a bare IPv6 address (everything after the
  // second colon).
  const auto first = text.indexOf(QLatin1Char(':'));
  const auto second = first < 0 ? -1 : text.indexOf(QLatin1Char(':'), first + 1);
  if (first <= 0 || second < 0) {
    *why = QStringLiteral("--resolve \"%1\": expected HOST:PORT:ADDRESS").arg(text);
    return std::nullopt;
  }
  Resolve r;
  r.host = text.left(first).toLower();
  bool ok = false;
  const uint port = text.mid(first + 1, second - first - 1).toUInt(&ok);
  QString address = text.mid(second + 1);
  if (address.startsWith(QLatin1Char('[')) && address.endsWith(QLatin1Char(']'))) address = address.mid(1, address.size() - 2);
  r.address = QHostAddress(address);
  if (!ok || port == 0 || port > 65535 || r.address.isNull()) {
    *why = QStringLiteral("--resolve \"%1\": expected HOST:PORT:ADDRESS with a port 1-65535 and an IP address").arg(text);
    return std::nullopt;
  }
  r.port = static_cast<quint16>(port);
  return r;
}

void resolveHost(const NetworkOptions& options, const QString& host, quint16 port, QObject* context,
                 std::function<void(const QHostAddress& address, const QString& why)> done) {
  const QString name = host.toLower();
  const QHostAddress literal(name);
  if (!literal.isNull()) return done(literal, {});
  for (const auto& r : options.resolve)
    if (r.host == name && r.port == port) return done(r.address, {});
  if (options.dnsServer.isNull()) return done(QHostAddress(), {});
  lookupAddress(QDnsLookup::A, name, options.dnsServer, context, std::move(done));
}

void resolveConnection(const NetworkOptions& options, ConnectParams params, QObject* context,
                       std::function<void(std::optional<ConnectParams> params, const QString& why)> done) {
  const QString host = qs(params.host);
  resolveHost(options, host, params.effectivePort(), context,
              [params = std::move(params), done = std::move(done)](const QHostAddress& address, const QString& why) mutable {
                if (address.isNull() && !why.isEmpty()) return done(std::nullopt, why);
                if (!address.isNull()) {
                  if (params.tls.verifyName.empty()) params.tls.verifyName = params.host;
                  params.host = address.toString().toStdString();
                }
                done(std::move(params), QString());
              });
}

std::optional<discovery::ClientConfig> readClientConfig(const QByteArray& xml, QString* why) {
  QXmlStreamReader reader(xml);
  discovery::ClientConfig config;
  std::optional<discovery::OutgoingServer> server;  // inside <outgoingServer type="smtp">
  bool sawRoot = false, inProvider = false;
  int depth = 0;
  while (!reader.atEnd()) {
    const auto token = reader.readNext();
    if (token == QXmlStreamReader::DTD) {
      *why = QStringLiteral("the document has a DOCTYPE: refused (entities could make it huge or read other files)");
      return std::nullopt;
    }
    if (token == QXmlStreamReader::EndElement) {
      --depth;
      if (reader.name() == QLatin1String("outgoingServer") && server) {
        config.outgoing.push_back(std::move(*server));
        server.reset();
      } else if (reader.name() == QLatin1String("emailProvider")) {
        inProvider = false;
      }
      continue;
    }
    if (token != QXmlStreamReader::StartElement) continue;
    ++depth;
    const auto name = reader.name();
    if (depth == 1) {
      if (name != QLatin1String("clientConfig")) {
        *why = QStringLiteral("not a clientConfig document (its root is <%1>)").arg(name.toString());
        return std::nullopt;
      }
      sawRoot = true;
      continue;
    }
    if (depth == 2 && name == QLatin1String("emailProvider")) {
      inProvider = true;
      config.providerId = reader.attributes().value(QLatin1String("id")).toString().toStdString();
      continue;
    }
    if (!inProvider) continue;
    if (depth == 3 && name == QLatin1String("outgoingServer")) {
      if (reader.attributes().value(QLatin1String("type")) == QLatin1String("smtp")) server.emplace();
      continue;
    }
    auto text = [&] {
      const QString value = reader.readElementText(QXmlStreamReader::SkipChildElements).trimmed();
      --depth;  // readElementText consumed the end element
      return value.toStdString();
    };
    if (depth == 3 && name == QLatin1String("domain")) config.domains.push_back(text());
    else if (depth == 3 && name == QLatin1String("displayName")) config.displayName = text();
    else if (depth == 4 && server) {
      if (name == QLatin1String("hostname")) server->hostname = text();
      else if (name == QLatin1String("port")) server->port = text();
      else if (name == QLatin1String("socketType")) server->socketType = text();
      else if (name == QLatin1String("username")) server->username = text();
      else if (name == QLatin1String("authentication")) server->authentication.push_back(text());
    }
  }
  if (reader.hasError()) {
    *why = QStringLiteral("not XML: %1 (line %2)").arg(reader.errorString()).arg(reader.lineNumber());
    return std::nullopt;
  }
  if (!sawRoot) {
    *why = QStringLiteral("an empty document");
    return std::nullopt;
  }
  return config;
}

// ---------------------------------------------------------------------------------------------

struct Discovery::Work {
  QNetworkAccessManager network;
  QTimer deadline;
  QElapsedTimer clock;
  std::map<int, QPointer<QNetworkReply>> replies;
  std::map<int, QPointer<QDnsLookup>> lookups;
  std::map<int, QPointer<QtClient>> probes;
  std::map<int, bool> cancelled;  // work not started yet (a name still resolving) that was cancelled
  bool running = false;
};

Discovery::Discovery(discovery::Settings settings, NetworkOptions network, QObject* parent)
    : QObject(parent), network_(std::move(network)), caPem_(settings.tls.caCertificatesPem), work_(std::make_unique<Work>()) {
  qRegisterMetaType<smtpc::discovery::Step>();
  qRegisterMetaType<smtpc::discovery::Outcome>();
  std::string random(64, '\0');
  QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(random.data()), random.size() / sizeof(quint32));
  flow_ = std::make_unique<discovery::Flow>(std::move(settings), random, &publicSuffixes());
  work_->deadline.setSingleShot(true);
  connect(&work_->deadline, &QTimer::timeout, this, [this] {
    flow_->onTimeout(now());
    pump();
  });
}

Discovery::~Discovery() {
  for (auto& [id, reply] : work_->replies)
    if (reply) reply->abort();
  for (auto& [id, client] : work_->probes)
    if (client) client->cancel();
}

Time Discovery::now() const { return Time(work_->clock.elapsed()); }

bool Discovery::isRunning() const { return work_->running; }

void Discovery::start() {
  work_->clock.start();
  work_->running = true;
  flow_->start(now());
  pump();
}

void Discovery::cancel() {
  if (!work_->running) return;
  flow_->cancel(now());
  pump();
}

void Discovery::pump() {
  if (pumping_) return;  // an answer given while carrying out a request: the loop below goes on
  pumping_ = true;
  while (auto out = flow_->poll()) {
    if (const auto* q = std::get_if<discovery::DnsQuery>(&*out)) {
      perform(*q);
    } else if (const auto* g = std::get_if<discovery::HttpGet>(&*out)) {
      perform(*g);
    } else if (const auto* p = std::get_if<discovery::Probe>(&*out)) {
      perform(*p);
    } else if (const auto* c = std::get_if<discovery::Cancel>(&*out)) {
      stop(c->id);
    } else if (const auto* ask = std::get_if<discovery::ConfirmPlainHttp>(&*out)) {
      const int id = ask->id;
      QPointer<Discovery> self(this);
      auto answer = [self, id](bool yes) {
        if (!self || !self->work_->running) return;
        self->flow_->onConfirmed(self->now(), id, yes);
        self->pump();
      };
      if (confirm_) confirm_(*ask, answer);
      else QTimer::singleShot(0, this, [answer] { answer(false); });
    } else if (const auto* s = std::get_if<discovery::StepEvent>(&*out)) {
      emit step(s->step);
    } else if (const auto* f = std::get_if<discovery::Finished>(&*out)) {
      work_->running = false;
      work_->deadline.stop();
      pumping_ = false;
      emit finished(f->outcome);
      return;
    }
  }
  pumping_ = false;
  if (const auto next = flow_->nextDeadline()) {
    work_->deadline.start(static_cast<int>(std::max<qint64>(0, (*next - now()).count())));
  } else {
    work_->deadline.stop();
  }
}

void Discovery::perform(const discovery::DnsQuery& query) {
  const int id = query.id;
  auto* lookup = new QDnsLookup(query.type == discovery::RecordType::Srv ? QDnsLookup::SRV : QDnsLookup::MX,
                                qs(query.name), this);
  if (!network_.dnsServer.isNull()) lookup->setNameserver(network_.dnsServer);
  work_->lookups[id] = lookup;
  connect(lookup, &QDnsLookup::finished, this, [this, id, lookup] {
    lookup->deleteLater();
    if (!work_->lookups.erase(id)) return;
    discovery::DnsAnswer answer;
    switch (lookup->error()) {
      case QDnsLookup::NoError:
        for (const auto& r : lookup->serviceRecords())
          answer.srv.push_back({r.priority(), r.weight(), r.port(), r.target().toStdString()});
        for (const auto& r : lookup->mailExchangeRecords())
          answer.mx.push_back({r.preference(), r.exchange().toStdString()});
        break;
      case QDnsLookup::NotFoundError:
        answer.status = discovery::DnsStatus::NotFound;
        break;
      case QDnsLookup::InvalidReplyError:
        // Qt 6.4 (Unix) reports a NOERROR answer with no records of the type (NODATA) as an
        // invalid reply: the name exists and has none. A reply that is really malformed reads
        // the same here; both mean "nothing to use".
        break;
      default:
        answer.status = discovery::DnsStatus::Failed;
        answer.error = lookup->errorString().toStdString();
    }
    flow_->onDnsAnswer(now(), id, answer);
    pump();
  });
  lookup->lookup();
}

void Discovery::perform(const discovery::HttpGet& get) {
  const int id = get.id;
  const QUrl url(qs(get.url));
  const QString host = url.host();
  const quint16 port = static_cast<quint16>(url.port(get.plainHttp ? 80 : 443));
  const qint64 maxBytes = static_cast<qint64>(get.maxBytes);
  auto answer = [this, id](discovery::DocumentAnswer a) {
    if (work_->cancelled.erase(id) || !work_->running) return;
    flow_->onDocument(now(), id, a);
    pump();
  };
  resolveHost(network_, host, port, this, [=, this](const QHostAddress& address, const QString& why) {
    if (!address.isNull() || why.isEmpty()) {
      QUrl target = url;
      QNetworkRequest request;
      if (!address.isNull()) {
        // Connect to the address resolved here; verify the certificate against the name.
        target.setHost(address.toString());
        request.setRawHeader("Host", (url.port() > 0 ? QStringLiteral("%1:%2").arg(host).arg(url.port()) : host).toUtf8());
        request.setPeerVerifyName(host);
      }
      request.setUrl(target);
      request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
      request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
      request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
      request.setRawHeader("Accept", "application/xml, text/xml");
      request.setRawHeader("User-Agent", "SMTPc/" SMTPC_VERSION " (settings discovery)");
      if (!caPem_.empty()) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(QSslCertificate::fromData(QByteArray::fromStdString(caPem_), QSsl::Pem));
        request.setSslConfiguration(tls);
      }
      QNetworkReply* reply = work_->network.get(request);
      work_->replies[id] = reply;
      auto tooLarge = std::make_shared<bool>(false);
      auto tlsProblems = std::make_shared<QStringList>();
      connect(reply, &QNetworkReply::sslErrors, this, [tlsProblems](const QList<QSslError>& errors) {
        for (const auto& e : errors) tlsProblems->append(e.errorString());
      });
      connect(reply, &QNetworkReply::downloadProgress, this, [reply, tooLarge, maxBytes](qint64 received, qint64 total) {
        if (received > maxBytes || total > maxBytes) {
          *tooLarge = true;
          reply->abort();
        }
      });
      connect(reply, &QNetworkReply::finished, this, [=, this] {
        reply->deleteLater();
        if (!work_->replies.erase(id)) return;
        discovery::DocumentAnswer a;
        a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (*tooLarge) {
          a.status = 0;
          a.error = QStringLiteral("larger than %1 bytes: refused").arg(maxBytes).toStdString();
        } else if (a.status == 0) {
          a.nameNotFound = reply->error() == QNetworkReply::HostNotFoundError;
          a.error = (tlsProblems->isEmpty() ? reply->errorString()
                                            : QStringLiteral("TLS: ") + tlsProblems->join(QStringLiteral("; ")))
                        .toStdString();
        } else if (a.status >= 300 && a.status < 400) {
          a.error = QStringLiteral("redirected to %1 (SMTPc does not follow redirects for settings)")
                        .arg(QString::fromUtf8(reply->rawHeader("Location")))
                        .toStdString();
        } else if (a.status == 200) {
          const QByteArray body = reply->read(maxBytes + 1);
          QString problem;
          if (body.size() > maxBytes) a.error = QStringLiteral("larger than %1 bytes: refused").arg(maxBytes).toStdString();
          else if (auto config = readClientConfig(body, &problem)) a.config = std::move(*config);
          else a.error = problem.toStdString();
        }
        answer(std::move(a));
      });
      return;
    }
    discovery::DocumentAnswer a;
    a.error = why.toStdString();
    a.nameNotFound = true;
    answer(std::move(a));
  });
}

void Discovery::perform(const discovery::Probe& probe) {
  const int id = probe.id;
  resolveConnection(network_, probe.params, this, [this, id](std::optional<ConnectParams> params, const QString& why) {
    if (work_->cancelled.erase(id) || !work_->running) return;
    if (!params) {
      flow_->onProbeEvent(now(), id, Event(Finished{Error(ErrorCode::HostNotFound, why.toStdString() + ".")}));
      pump();
      return;
    }
    auto* client = new QtClient(this);
    work_->probes[id] = client;
    connect(client, &QtClient::sessionEvent, this, [this, id, client](const Event& event) {
      if (!work_->probes.count(id)) return;
      const bool last = std::holds_alternative<Finished>(event);
      if (last) {
        work_->probes.erase(id);
        client->deleteLater();
      }
      flow_->onProbeEvent(now(), id, event);
      pump();
    });
    if (Error error = client->connectToServer(*params)) {
      work_->probes.erase(id);
      client->deleteLater();
      flow_->onProbeEvent(now(), id, Event(Finished{error}));
      pump();
    }
  });
}

void Discovery::stop(int id) {
  if (auto it = work_->replies.find(id); it != work_->replies.end()) {
    QPointer<QNetworkReply> reply = it->second;
    work_->replies.erase(it);
    if (reply) reply->abort();
  } else if (auto lookup = work_->lookups.find(id); lookup != work_->lookups.end()) {
    // Erased first: abort() says finished at once, and that handler must find nothing to answer.
    QPointer<QDnsLookup> dns = lookup->second;
    work_->lookups.erase(lookup);
    if (dns) dns->abort();
  } else if (auto probe = work_->probes.find(id); probe != work_->probes.end()) {
    QPointer<QtClient> client = probe->second;
    work_->probes.erase(probe);
    if (client) {
      client->cancel();
      client->deleteLater();
    }
  } else {
    work_->cancelled[id] = true;  // still resolving its name: dropped when that ends
  }
}

}  // namespace smtpc::qt
