/// \file
/// Settings discovery for Qt programs: the adapter of core's flow (smtpc/discovery.h). It performs
/// the flow's requests — DNS with QDnsLookup, documents with QNetworkAccessManager (parsed with
/// QXmlStreamReader), probes with QtClient — and reports the flow's steps and outcome as signals.
/// Every decision is the flow's.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <optional>

#include "smtpc/discovery.h"
#include "smtpc/qt/qt_export.h"

namespace smtpc::qt {

/// Where names resolve, for every connection of a run (discovery's HTTPS and probes, and the SMTP
/// session after it): curl's --resolve entries first, then --dns-server, else the system's resolver.
struct SMTPC_QT_EXPORT NetworkOptions {
  /// One --resolve entry: connections to `host`:`port` go to `address`.
  struct Resolve {
    QString host;          ///< lower case
    quint16 port = 0;      ///< the port it applies to
    QHostAddress address;  ///< where to connect instead
  };
  QList<Resolve> resolve;  ///< curl's --resolve entries
  QHostAddress dnsServer;  ///< null: the system's (QDnsLookup: port 53 only)

  /// Nothing to override: the system's resolver decides.
  bool empty() const { return resolve.isEmpty() && dnsServer.isNull(); }
  /// "HOST:PORT:ADDRESS" (curl's --resolve; an IPv6 address may be in brackets).
  static std::optional<Resolve> parseResolve(const QString& text, QString* why);
};

/// Resolves `host` for a connection to `port` as NetworkOptions say, then calls `done` with the
/// address, or a null address and why (name not found); with no override and no DNS server it
/// calls `done` with a null address and an empty reason: let the socket resolve the name itself.
SMTPC_QT_EXPORT void resolveHost(const NetworkOptions& options, const QString& host, quint16 port, QObject* context,
                                 std::function<void(const QHostAddress& address, const QString& why)> done);

/// The SMTP connection `params` describe, resolved as NetworkOptions say (resolveHost): `done` gets
/// them aimed at the address found — the socket connects to it while TLS still verifies the host's
/// name and sends it as SNI (tls.verifyName) — or unchanged when the system's resolver is to do it;
/// nullopt and why when the name does not resolve. For discovery's probes and the GUI's runs.
SMTPC_QT_EXPORT void resolveConnection(
    const NetworkOptions& options, ConnectParams params, QObject* context,
    std::function<void(std::optional<ConnectParams> params, const QString& why)> done);

/// A clientConfig document (Thunderbird's config-v1.1.xml) read with QXmlStreamReader: only what
/// discovery needs. nullopt and `why` for a document that is not XML, has a DOCTYPE (entities are
/// refused outright), or is not a clientConfig.
SMTPC_QT_EXPORT std::optional<discovery::ClientConfig> readClientConfig(const QByteArray& xml, QString* why);

/// The Public Suffix List: Debian's file (package publicsuffix), read once; empty when absent.
SMTPC_QT_EXPORT const PublicSuffixList& publicSuffixes();

/// Settings discovery in a Qt program: runs a discovery::Flow, carrying out its requests with Qt,
/// and reports its steps and outcome as signals.
class SMTPC_QT_EXPORT Discovery : public QObject {
  Q_OBJECT
 public:
  /// Discovery with `settings`; names resolve as `network` says. Nothing happens before start().
  Discovery(discovery::Settings settings, NetworkOptions network, QObject* parent = nullptr);
  ~Discovery() override;

  /// Asked when the domain's autoconfig answers only over plain HTTP (Settings::plainHttp Ask):
  /// call `answer` (now or later) with the person's choice. Unset: the answer is no.
  using ConfirmHandler = std::function<void(const discovery::ConfirmPlainHttp& question, std::function<void(bool)> answer)>;
  /// Who answers the plain-HTTP question.
  void setConfirmHandler(ConfirmHandler handler) { confirm_ = std::move(handler); }

  /// Begins; step() and finally finished() follow.
  void start();
  /// Stops: finished() with nothing found, unless it is over.
  void cancel();
  /// Started and not finished.
  bool isRunning() const;
  /// The flow itself (its steps and outcome so far).
  const discovery::Flow& flow() const { return *flow_; }

 signals:
  /// One line of the discovery transcript.
  void step(const smtpc::discovery::Step& step);
  /// The end: the server chosen, or why none was; the last signal.
  void finished(const smtpc::discovery::Outcome& outcome);

 private:
  struct Work;
  void pump();
  void perform(const discovery::DnsQuery& query);
  void perform(const discovery::HttpGet& get);
  void perform(const discovery::Probe& probe);
  void stop(int id);
  Time now() const;

  std::unique_ptr<discovery::Flow> flow_;
  NetworkOptions network_;
  std::string caPem_;
  ConfirmHandler confirm_;
  std::unique_ptr<Work> work_;
  bool pumping_ = false;
};

}  // namespace smtpc::qt

Q_DECLARE_METATYPE(smtpc::discovery::Step)
Q_DECLARE_METATYPE(smtpc::discovery::Outcome)
