// smtpc-proxy: a safe WebSocket-to-TCP relay for SMTPc's browser build.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QSocketNotifier>
#include <QTimer>
#include <csignal>
#include <cstdio>

#include "epoll_dispatcher.h"
#include "proxy.h"

namespace {
int signalPipe[2];
}

int main(int argc, char** argv) {
  // The relay allocates and frees 256 KiB-1 MiB buffers all the time: keep them in the heap
  // instead of mapping, zeroing and returning pages for each (seen as brk() storms and
  // clear_page in a profile of a download).
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // epoll instead of Qt's poll()-based loop, which looks at every connection on every event
  // (epoll_dispatcher.h); SMTPC_PROXY_QT_DISPATCHER=1 keeps Qt's, to compare (tests/bench/proxy_load).
  if (!qEnvironmentVariableIsSet("SMTPC_PROXY_QT_DISPATCHER")) {
    auto* dispatcher = new smtpc::proxy::EpollDispatcher;
    if (dispatcher->isValid()) QCoreApplication::setEventDispatcher(dispatcher);  // the application owns it
    else delete dispatcher;
  }
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("smtpc-proxy"));
  QCoreApplication::setApplicationVersion(QStringLiteral(SMTPC_VERSION));

  QCommandLineParser parser;
  // The close codes, one per line, from the protocol's table (smtpc/relay.h).
  QString closeCodes;
  for (const smtpc::relay::CloseCodeInfo& c : smtpc::relay::kCloseCodes)
    closeCodes += QStringLiteral("  %1  %2\n").arg(int{c.code}).arg(smtpc::proxy::fromView(c.meaning));
  parser.setApplicationDescription(QStringLiteral(
      "Relays WebSocket connections  ws(s)://HOST:PORT%1  to SMTP servers on an\n"
      "allowlist, for SMTPc's browser build. Binary frames only; payload is never logged.\n"
      "Close codes:\n%2"
      "\n"
      "Security: the Origin check keeps other web pages out; it is not authentication (any program\n"
      "can send any Origin). Anyone who can reach the relay can reach every allowed destination, so\n"
      "a relay that is not meant for the public needs --token-file (or a network that only your\n"
      "users reach). Never --allow-private a mail server that trusts connections from loopback or\n"
      "its own network (Postfix mynetworks, for one): the relay then makes it an open relay for\n"
      "the whole Internet. Behind a reverse proxy, give its address with --trust-forwarded-for so\n"
      "that per-client limits count the real clients.\n"
      "\n"
      "Examples:\n"
      "  Relay the page at http://localhost:8080 to one submission server:\n"
      "    $ smtpc-proxy --allow-origin http://localhost:8080 --allow smtp.example.com:587\n"
      "  A public relay over wss:// with a shared secret, and the page's settings lookup:\n"
      "    $ smtpc-proxy --listen 0.0.0.0:8443 --cert relay.pem --key relay.key --token-file token --lookup --allow-origin https://mail.example.org --allow smtp.example.com:465\n"
      "  The page and its relay in one process (open the printed address; the page's default relay just works):\n"
      "    $ smtpc-proxy --web build/wasm/web --allow smtp.example.com:587\n"
      "  With health and metrics for a monitor, and a JSON log:\n"
      "    $ smtpc-proxy --web /usr/share/smtpc/web --allow smtp.example.com:587 --metrics 127.0.0.1:9187 --log-format json\n"
      "  The same settings from a file (one \"name = value\" per line):\n"
      "    $ smtpc-proxy --config /etc/smtpc-proxy.conf").arg(smtpc::proxy::requestPattern(), closeCodes));
  parser.addHelpOption();
  const QCommandLineOption version(QStringList{"version"}, "Print the version and exit.");
  parser.addOption(version);
  const smtpc::proxy::Config defaults;
  struct Setting {
    const char* name;
    QString help;
    const char* value;
  };
  const Setting settings[] = {
      {"listen", "Address and port to listen on (port 0: any free port). Default 127.0.0.1:8025.", "ADDR:PORT"},
      {"allow", "Allow this destination (repeatable). A name must resolve to public addresses; an IP literal is taken as written.", "HOST:PORT"},
      {"allow-private", "Allow this destination even if its name resolves to a loopback or private address. "
                        "Not toward a mail server that trusts such addresses (see above).", "HOST:PORT"},
      {"allow-origin", "Allow pages from this Origin, e.g. http://localhost:8080 (repeatable). Required. Not authentication.", "ORIGIN"},
      {"token-file", QStringLiteral("Require the shared secret in FILE (its first line) as ?%1= on every connection; "
                                    "a missing or wrong one is refused with %2. The page learns it from its settings.")
                         .arg(smtpc::proxy::fromView(smtpc::relay::kTokenParameter)).arg(int{smtpc::relay::NotAllowed}), "FILE"},
      {"trust-forwarded-for", "Take the client's address from X-Forwarded-For (the right-most entry not itself trusted) "
                              "when the connection comes from ADDR or ADDR/BITS, a reverse proxy (repeatable). Off by default.", "ADDR"},
      {"max-connections", QStringLiteral("Most connections at once (default %1).").arg(defaults.maxConnections), "N"},
      {"max-per-client", QStringLiteral("Most connections from one client address, an IPv6 client's /64 (default %1).")
                             .arg(defaults.maxPerClient), "N"},
      {"max-handshakes", QStringLiteral("Most handshakes in progress at once (default %1).").arg(defaults.maxHandshakes), "N"},
      {"max-handshakes-per-client", QStringLiteral("Most handshakes in progress from one client address (default %1; "
                                                   "a trusted --trust-forwarded-for proxy has only the total cap).")
                                        .arg(defaults.maxHandshakesPerClient), "N"},
      {"handshake-timeout", QStringLiteral("Seconds for the WebSocket handshake, from the connection's accept (default %1).")
                                .arg(defaults.handshakeTimeoutMs / 1000), "SECONDS"},
      {"connect-timeout", QStringLiteral("Seconds to connect to the destination (default %1).").arg(defaults.connectTimeoutMs / 1000), "SECONDS"},
      {"idle-timeout", QStringLiteral("Seconds without traffic before closing (default %1).").arg(defaults.idleTimeoutMs / 1000), "SECONDS"},
      {"max-frame", QStringLiteral("Largest frame or message accepted, in bytes (default %1).").arg(defaults.maxFrameSize), "BYTES"},
      {"high-water", QStringLiteral("Bytes queued per direction before reading stops (default %1).").arg(defaults.highWater), "BYTES"},
      {"max-lookups-per-minute", QStringLiteral("Most lookups (--lookup) one client address may make in a minute "
                                                "(default %1).").arg(defaults.maxLookupsPerMinute), "N"},
      {"lookup-timeout", QStringLiteral("Seconds for one lookup, its DNS and its fetch (default %1).")
                             .arg(defaults.lookupTimeoutMs / 1000), "SECONDS"},
      {"ispdb", QStringLiteral("The ISPDB the lookup endpoint reads, ending in / (default %1).")
                    .arg(defaults.ispdbBase.toString()), "URL"},
      {"ca-file", "Also trust this CA (PEM) for the lookups' HTTPS fetches (the relay itself does no TLS).", "FILE"},
      {"dns-server", "Ask this DNS server (IPv4, port 53) instead of the system's resolver: the lookups' SRV and MX "
                     "queries and every address lookup, the relay's included.", "ADDR"},
      {"cert", "Serve wss:// with this certificate chain (PEM).", "FILE"},
      {"key", "The private key for --cert (PEM).", "FILE"},
      {"web", "Also serve the page's files from DIR (build/wasm/web, or share/smtpc/web) on the relay's own address, so "
              "that the page and its default relay (this address, /smtp) share one origin. GET and HEAD only, no listing, "
              "nothing outside DIR (no dotfiles, no symlinks out of it); DIR/FILE.br or .gz when the browser takes it; "
              "ETags; the page's Content-Security-Policy and nosniff, no-referrer, same-origin opener headers. The page's "
              "own origin may then use the relay and the lookups without --allow-origin when it is reached as localhost "
              "or by IP address; under a name, give that name's origin with --allow-origin (a name could be rebound to "
              "this address by someone else's DNS). Page connections count apart from relays, under the same "
              "--max-connections and --max-per-client, and end after --handshake-timeout without a request.", "DIR"},
      {"metrics", "Serve GET /healthz (200 \"ok\"; 503 \"draining\" once SIGTERM or SIGINT has come: see --shutdown-delay) "
                  "and GET /metrics "
                  "(Prometheus text format 0.0.4: smtpc_proxy_connections, smtpc_proxy_handshakes_in_progress, "
                  "smtpc_proxy_web_connections, smtpc_proxy_accepted_total, smtpc_proxy_handshakes_refused_total{reason}, "
                  "smtpc_proxy_closes_total{code}, smtpc_proxy_bytes_total{direction=up|down}, "
                  "smtpc_proxy_lookups_total{status}, smtpc_proxy_web_requests_total{status}, process_*) on a listener of "
                  "their own. Keep it off the public network: it says how busy the relay is.", "ADDR:PORT"},
      {"shutdown-delay", "After SIGTERM or SIGINT, keep relaying this long while /healthz (--metrics) says 503, so that "
                         "a load balancer's health check takes this relay out before anything is refused; then close "
                         "every connection (1001) and exit. A second signal ends the wait. Default 0.", "SECONDS"},
      {"log-format", "text (default): one line of words per connection; json: one JSON object per line, for a "
                     "connection {\"time\", \"event\":\"connection\", \"client\", \"destination\", \"up\", \"down\" "
                     "(bytes), \"ms\", \"code\" (the close code, 0: aborted), \"reason\"}, for a lookup its type, status and "
                     "reason, anything else {\"time\", \"level\", \"category\", \"message\"}. Never payload, never the "
                     "request's query or token.", "FORMAT"},
  };
  for (const Setting& s : settings) parser.addOption(QCommandLineOption(QString::fromLatin1(s.name), s.help, QString::fromLatin1(s.value)));
  const QCommandLineOption lookup(
      QStringList{"lookup"},
      QStringLiteral("Serve the lookup endpoint  http(s)://HOST:PORT%1?%2=TYPE&...  (TYPE: srv, mx, autoconfig, "
                     "well-known or ispdb) for the page's settings discovery: SRV and MX answers, and autoconfig documents fetched from "
                     "fixed URL patterns only, from public addresses only (or --allow-private HOST:443), under the "
                     "Origin, token and rate rules. Off by default (then a 404). Config file: lookup = on.")
          .arg(smtpc::proxy::fromView(smtpc::relay::kLookupPath), smtpc::proxy::fromView(smtpc::relay::kLookupTypeParameter)));
  parser.addOption(lookup);
  const QCommandLineOption configFile(QStringList{"config"}, "Read settings from FILE: one \"name = value\" per line, # comments; "
                                                             "the names are the options' (token-file = FILE, trust-forwarded-for = ADDR).", "FILE");
  parser.addOption(configFile);
  parser.process(app);
  if (parser.isSet(version)) {
    std::printf("smtpc-proxy %s\n", SMTPC_VERSION);
    return 0;
  }

  smtpc::proxy::Config config;
  QString why;
  auto fail = [&](const QString& message) {
    std::fprintf(stderr, "smtpc-proxy: %s\n", qPrintable(message));
    return 1;
  };
  if (parser.isSet(configFile)) {
    QFile file(parser.value(configFile));
    if (!file.open(QIODevice::ReadOnly)) return fail("cannot read " + file.fileName());
    int number = 0;
    while (!file.atEnd()) {
      ++number;
      const QString line = QString::fromUtf8(file.readLine()).trimmed();
      if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) continue;
      const qsizetype equals = line.indexOf(QLatin1Char('='));
      if (equals < 0 || !config.set(line.left(equals).trimmed(), line.mid(equals + 1).trimmed(), &why))
        return fail(QStringLiteral("%1 line %2: %3").arg(file.fileName()).arg(number).arg(why.isEmpty() ? "expected name = value" : why));
    }
  }
  for (const Setting& s : settings)
    for (const QString& value : parser.values(QString::fromLatin1(s.name)))
      if (!config.set(QString::fromLatin1(s.name), value, &why)) return fail(why);
  if (parser.isSet(lookup)) config.set(QStringLiteral("lookup"), QStringLiteral("on"), &why);
  if (config.allow.isEmpty() && !config.lookup)
    return fail("no destination is allowed: give --allow HOST:PORT (see --help)");
  if (config.allowOrigins.isEmpty() && config.webDir.isEmpty())
    return fail("no Origin is allowed: give --allow-origin ORIGIN or --web DIR (see --help)");
  if (config.logJson) smtpc::proxy::useJsonLog();
  if (config.certFile.isEmpty() != config.keyFile.isEmpty()) return fail("--cert and --key go together");

  // Two descriptors per connection: use what the system allows.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  smtpc::proxy::Proxy proxy(config);
  if (!proxy.listen(&why)) return fail("cannot listen: " + why);
  std::printf("listening on %s:%u\n", qPrintable(proxy.address().toString()), proxy.port());
  if (!config.webDir.isEmpty()) {
    const QHostAddress a = proxy.address();
    const QString host = a == QHostAddress::Any || a == QHostAddress::AnyIPv4 || a == QHostAddress::AnyIPv6
                             ? QStringLiteral("localhost")
                             : (a.protocol() == QAbstractSocket::IPv6Protocol ? "[" + a.toString() + "]" : a.toString());
    std::printf("page at %s://%s:%u/\n", config.certFile.isEmpty() ? "http" : "https", qPrintable(host), proxy.port());
  }
  // /healthz and /metrics, on their own address (Gauges: read from the proxy at each request).
  std::unique_ptr<smtpc::proxy::MetricsServer> metrics;
  bool draining = false;  // a signal came: from then on /healthz says 503
  if (config.metricsPort >= 0) {
    metrics = std::make_unique<smtpc::proxy::MetricsServer>(
        [&proxy, &draining] {
          smtpc::proxy::Gauges gauges = proxy.gauges();
          gauges.draining = gauges.draining || draining;
          return gauges;
        },
        config.handshakeTimeoutMs);
    if (!metrics->listen(config.metricsAddress, static_cast<quint16>(config.metricsPort), &why))
      return fail("cannot listen for --metrics: " + why);
    std::printf("metrics on %s:%u\n", qPrintable(metrics->address().toString()), metrics->port());
  }
  std::fflush(stdout);

  // SIGINT/SIGTERM: close every connection with ShuttingDown, then exit (self-pipe: safe in a handler).
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0) return fail("socketpair failed");
  QSocketNotifier notifier(signalPipe[1], QSocketNotifier::Read);
  QTimer delay;
  delay.setSingleShot(true);
  auto shutDown = [&] {
    notifier.setEnabled(false);
    delay.stop();
    qCInfo(lcProxy) << "shutting down";
    proxy.shutdown();
  };
  QObject::connect(&delay, &QTimer::timeout, shutDown);
  QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
    char c;
    if (::read(signalPipe[1], &c, 1) != 1) return;
    if (draining || config.shutdownDelayMs <= 0) return shutDown();
    draining = true;
    qCInfo(lcProxy).noquote() << QStringLiteral("draining: /healthz says 503; closing every connection in %1 ms")
                                     .arg(config.shutdownDelayMs);
    delay.start(config.shutdownDelayMs);
  });
  QObject::connect(&proxy, &smtpc::proxy::Proxy::drained, &app, &QCoreApplication::quit);
  struct sigaction action {};
  action.sa_handler = [](int) {
    const char c = 1;
    (void)!::write(signalPipe[0], &c, 1);
  };
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return app.exec();
}
