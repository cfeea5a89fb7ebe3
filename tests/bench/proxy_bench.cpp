// smtpc-proxy beside websockify, measured by the same client: upload and download throughput,
// the round-trip time it adds over direct TCP, and its memory for 1,000 idle connections. The
// last row is the same peers over one plain TCP connection: the ceiling on this machine.
//   proxy_bench SMTPC_PROXY_BINARY [MEGABYTES]
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QThread>
#include <QWebSocket>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

const QString kOrigin = QStringLiteral("http://bench.smtpc.test");

quint16 freePort() {
  QTcpServer s;
  s.listen(QHostAddress::LocalHost, 0);
  return s.serverPort();
}

// Memory and CPU time of a process and its children (websockify forks one per connection).
struct Usage {
  long rssKb = 0;
  QHash<qint64, double> cpuSeconds;  // user + system, per process (children come and go)
};
// The CPU time spent between two samples by the processes alive at the second (a child that
// has exited since the first no longer counts, rather than making the difference negative).
double cpuSecondsBetween(const Usage& before, const Usage& after) {
  double total = 0;
  for (auto it = after.cpuSeconds.begin(); it != after.cpuSeconds.end(); ++it) total += it.value() - before.cpuSeconds.value(it.key());
  return total;
}
Usage treeUsage(qint64 pid) {
  Usage total;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const QString& entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
    bool isPid = false;
    const qint64 id = entry.toLongLong(&isPid);
    if (!isPid) continue;
    QFile statFile(QStringLiteral("/proc/%1/stat").arg(entry));
    if (!statFile.open(QIODevice::ReadOnly)) continue;
    // "pid (comm) state ppid ... utime stime ... rss": fields counted after the last ')'.
    const QByteArray stat = statFile.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 22) continue;
    if (id != pid && fields[1].toLongLong() != pid) continue;
    total.cpuSeconds[id] = (fields[11].toLongLong() + fields[12].toLongLong()) / tick;
    total.rssKb += fields[21].toLong() * (sysconf(_SC_PAGESIZE) / 1024);
  }
  return total;
}

// Counts the payload of unmasked WebSocket frames as bytes arrive, without copying them.
class FrameCounter {
 public:
  void feed(const unsigned char* data, size_t size) {
    while (size > 0) {
      if (remaining_ > 0) {
        const size_t n = static_cast<size_t>(std::min<qint64>(remaining_, static_cast<qint64>(size)));
        payload_ += static_cast<qint64>(n);
        remaining_ -= static_cast<qint64>(n);
        data += n;
        size -= n;
        continue;
      }
      header_[have_++] = *data++;
      --size;
      const int want = have_ < 2 ? 2 : (header_[1] & 0x7f) == 126 ? 4 : (header_[1] & 0x7f) == 127 ? 10 : 2;
      if (have_ < want) continue;
      qint64 length = header_[1] & 0x7f;
      if (want > 2) {
        length = 0;
        for (int i = 2; i < want; ++i) length = (length << 8) | header_[i];
      }
      remaining_ = length;
      have_ = 0;
    }
  }
  qint64 payload() const { return payload_; }

 private:
  unsigned char header_[10] = {};
  int have_ = 0;
  qint64 payload_ = 0, remaining_ = 0;
};

// Reads `fd` (already connected; `first` holds bytes read before) until `count(total)` says
// done or 120 s pass, with plain read()s into one buffer: the receiving side of the download
// costs as little as it can, so that the relay, not this client, is what is measured.
// Returns MB/s.
double drainDownload(int fd, const std::function<qint64(const unsigned char*, size_t)>& count, qint64 total) {
  static std::vector<unsigned char> buffer(1 << 20);
  QElapsedTimer clock;
  clock.start();
  qint64 got = count(nullptr, 0);
  while (got < total && clock.elapsed() < 120000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    got = count(buffer.data(), static_cast<size_t>(n));
  }
  return got / 1e6 / (clock.nsecsElapsed() / 1e9);
}

struct Peers {
  QTcpServer echo, sink;  // the download's sender runs in its own process (serveSource)
  qint64 sunk = 0;
  Peers() {
    for (QTcpServer* s : {&echo, &sink}) {
      s->setListenBacklogSize(4096);
      s->setMaxPendingConnections(4096);
      s->listen(QHostAddress::LocalHost, 0);
    }
    QObject::connect(&echo, &QTcpServer::newConnection, [this] {
      while (QTcpSocket* c = echo.nextPendingConnection()) {
        c->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        QObject::connect(c, &QTcpSocket::readyRead, c, [c] { c->write(c->readAll()); });
      }
    });
    QObject::connect(&sink, &QTcpServer::newConnection, [this] {
      QTcpSocket* c = sink.nextPendingConnection();
      QObject::connect(c, &QTcpSocket::readyRead, c, [this, c] { sunk += c->readAll().size(); });
    });
  }
};

struct Proxy {
  QString name;
  std::vector<std::unique_ptr<QProcess>> processes;
  std::function<QUrl(quint16 port)> url;
  Usage usage() const {  // all of its processes and their children
    Usage total;
    for (const auto& process : processes) {
      const Usage one = treeUsage(process->processId());
      total.rssKb += one.rssKb;
      total.cpuSeconds.insert(one.cpuSeconds);
    }
    return total;
  }
};

// Runs the event loop until done() (no fixed sleeps, unlike QTest::qWaitFor: round trips of
// tens of microseconds must not be rounded up to its 10 ms steps).
bool waitUntil(const std::function<bool()>& done, int timeoutMs) {
  QElapsedTimer clock;
  clock.start();
  QTimer wake;
  wake.start(100);  // so that the timeout is checked even when nothing happens
  while (!done()) {
    if (clock.elapsed() > timeoutMs) return false;
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
  }
  return true;
}

// A lean WebSocket client for the throughput runs: the handshake by hand, then pre-built frames
// (masked with a zero key, which RFC 6455 allows) written straight to the socket, and incoming
// frames only counted. QWebSocket masks and copies every frame, which limits a single client.
class RawWebSocket {
 public:
  bool open(const QUrl& url) {
    socket_.connectToHost(QHostAddress::LocalHost, static_cast<quint16>(url.port()));
    if (!socket_.waitForConnected(10000)) return false;
    socket_.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    const QString target = url.path().isEmpty() ? QStringLiteral("/") : url.path() + (url.hasQuery() ? "?" + url.query() : QString());
    socket_.write(QStringLiteral("GET %1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                 "Sec-WebSocket-Protocol: binary\r\nOrigin: %2\r\n\r\n")
                      .arg(target, kOrigin)
                      .toLatin1());
    QByteArray response;
    while (!response.contains("\r\n\r\n")) {
      if (!socket_.waitForReadyRead(10000)) return false;
      response += socket_.readAll();
    }
    pending_ = response.mid(response.indexOf("\r\n\r\n") + 4);
    return response.startsWith("HTTP/1.1 101");
  }
  // One binary frame of `size` payload bytes, masked with the zero key.
  static QByteArray frame(qint64 size) {
    QByteArray f;
    f.append(char(0x82));
    if (size < 126) {
      f.append(char(0x80 | size));
    } else if (size < 65536) {
      f.append(char(0x80 | 126));
      f.append(char(size >> 8));
      f.append(char(size & 0xff));
    } else {
      f.append(char(0x80 | 127));
      for (int i = 7; i >= 0; --i) f.append(char((size >> (8 * i)) & 0xff));
    }
    f.append(QByteArray(4, '\0'));  // masking key 0
    f.append(QByteArray(size, 'u'));
    return f;
  }
  // What arrived after the handshake's response, before anyone read the socket.
  const QByteArray& pending() const { return pending_; }
  QTcpSocket socket_;

 private:
  QByteArray pending_;
};

double megabytesPerSecond(qint64 bytes, qint64 ms) { return bytes / 1e6 / (ms / 1000.0); }

}  // namespace

// `proxy_bench --source MEGABYTES`: a separate process that sends MEGABYTES to each connection,
// so that in the download run the sender and the receiving client do not share one thread. Plain
// blocking send()s of one buffer (a thread per connection): the sender costs one copy per byte,
// the least any TCP sender can, so that the relay, not the sender, is what is measured.
int serveSource(qint64 bytes) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listener, 4096) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 1;
  std::printf("%u\n", ntohs(address.sin_port));
  std::fflush(stdout);
  std::thread([] {  // the parent closes our stdin when it is done
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    std::_Exit(0);
  }).detach();
  static const std::vector<char> block(1 << 20, 'x');
  for (;;) {
    const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    std::thread([connection, bytes] {
      for (qint64 left = bytes; left > 0;) {
        const ssize_t n = ::send(connection, block.data(), static_cast<size_t>(std::min<qint64>(left, static_cast<qint64>(block.size()))), MSG_NOSIGNAL);
        if (n <= 0) break;
        left -= n;
      }
      char c;
      while (::read(connection, &c, 1) > 0) {  // until the client closes
      }
      ::close(connection);
    }).detach();
  }
}

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc == 3 && QByteArray(argv[1]) == "--source") return serveSource(QByteArray(argv[2]).toLongLong() << 20);
  if (argc < 2) {
    std::fprintf(stderr, "usage: proxy_bench SMTPC_PROXY [MEGABYTES]\n");
    return 2;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  const qint64 megabytes = argc > 2 ? QByteArray(argv[2]).toLongLong() : 200;
  // SMTPC_BENCH_PIN=1: each relay runs on CPU 1 and this client and the sender on CPU 0, so that
  // on a 2-core machine the relay under test has a core of its own (the same for both relays).
  const bool pin = qEnvironmentVariableIntValue("SMTPC_BENCH_PIN") == 1;
  auto startOn = [pin](QProcess& process, int cpu, const QString& program, const QStringList& arguments) {
    if (pin) process.start(QStringLiteral("taskset"), QStringList{"-c", QString::number(cpu), program} + arguments);
    else process.start(program, arguments);
  };
  if (pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  // SMTPC_BENCH_PHASES=up,down,rtt,idle (the default: all) runs only some, e.g. for a profiler.
  const QByteArray phases = qEnvironmentVariableIsSet("SMTPC_BENCH_PHASES") ? qgetenv("SMTPC_BENCH_PHASES")
                                                                           : QByteArray("up,down,rtt,idle");
  const qint64 total = megabytes << 20;
  Peers peers;
  QProcess sourceProcess;  // the download's sender, in its own process
  startOn(sourceProcess, 0, QString::fromLocal8Bit(argv[0]), {"--source", QString::number(megabytes)});
  sourceProcess.waitForReadyRead(10000);
  const quint16 sourcePort = QString::fromUtf8(sourceProcess.readLine()).trimmed().toUShort();
  const QList<quint16> targets{peers.echo.serverPort(), peers.sink.serverPort(), sourcePort};

  std::vector<Proxy> proxies;
  {  // smtpc-proxy: one process, destinations on its allowlist
    Proxy p{QStringLiteral("smtpc-proxy"), {}, {}};
    // The bench opens its idle connections all at once from one address: lift the handshake caps
    // (10 per client by default) as well as the connection limits.
    QStringList args{"--listen", "127.0.0.1:0", "--allow-origin", kOrigin, "--max-connections", "3000",
                     "--max-per-client", "3000", "--max-handshakes", "3000", "--max-handshakes-per-client", "3000"};
    for (quint16 t : targets) args << "--allow" << QStringLiteral("127.0.0.1:%1").arg(t);
    auto process = std::make_unique<QProcess>();
    if (qEnvironmentVariableIsSet("SMTPC_BENCH_PROXY_LOG")) process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    startOn(*process, 1, QString::fromLocal8Bit(argv[1]), args);
    process->waitForReadyRead(10000);
    const quint16 port = QString::fromUtf8(process->readLine()).trimmed().section(QLatin1Char(':'), -1).toUShort();
    p.processes.push_back(std::move(process));
    p.url = [port](quint16 target) {
      return QUrl(QStringLiteral("ws://127.0.0.1:%1/smtp?host=127.0.0.1&port=%2").arg(port).arg(target));
    };
    proxies.push_back(std::move(p));
  }
  {  // websockify: one process per destination
    Proxy p{QStringLiteral("websockify"), {}, {}};
    auto ports = std::make_shared<QHash<quint16, quint16>>();
    for (quint16 t : targets) {
      const quint16 port = freePort();
      auto process = std::make_unique<QProcess>();
      process->setStandardErrorFile(QProcess::nullDevice());
      process->setStandardOutputFile(QProcess::nullDevice());
      startOn(*process, 1, QStringLiteral("websockify"), {QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("127.0.0.1:%1").arg(t)});
      process->waitForStarted(10000);
      (*ports)[t] = port;
      p.processes.push_back(std::move(process));
    }
    QThread::msleep(1500);
    p.url = [ports](quint16 target) { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(ports->value(target))); };
    proxies.push_back(std::move(p));
  }

  // Direct TCP round trips: the baseline for the added latency.
  auto roundTrips = [&](auto&& send, auto&& received, int count) {
    std::vector<qint64> times;
    QElapsedTimer clock;
    for (int i = 0; i < count; ++i) {
      clock.start();
      send();
      if (!waitUntil([&] { return received(); }, 5000)) break;
      times.push_back(clock.nsecsElapsed());
    }
    std::sort(times.begin(), times.end());
    return times.empty() ? 0.0 : times[times.size() / 2] / 1000.0;
  };
  double direct = 0;
  {
    QTcpSocket tcp;
    tcp.connectToHost(QHostAddress::LocalHost, peers.echo.serverPort());
    tcp.waitForConnected();
    tcp.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    qint64 got = 0;
    QObject::connect(&tcp, &QTcpSocket::readyRead, [&] { got += tcp.readAll().size(); });
    direct = roundTrips([&] { got = 0; tcp.write(QByteArray(32, 'p')); }, [&] { return got >= 32; }, 2000);
  }

  // Two figures per direction: MB/s as the client sees it (on a 2-core machine bounded by the
  // sender and the client sharing a core), and MB per CPU-second the relay spent: what the relay
  // itself costs, whatever the peers can do.
  std::printf("%-12s %13s %13s %13s %13s %16s %22s\n", "", "upload MB/s", "MB/relay-CPU-s", "download MB/s",
              "MB/relay-CPU-s", "added RTT (µs)", "1,000 idle: RSS (MB)");
  auto perCpuSecond = [](qint64 bytes, double seconds) { return seconds > 0 ? bytes / 1e6 / seconds : 0.0; };
  QHash<QString, double> downloads;  // MB/s by relay, for the ratios printed last
  for (Proxy& proxy : proxies) {
    double up = 0, upPerCpu = 0, downRate = 0, downPerCpu = 0, added = 0;
    if (phases.contains("up")) {  // Upload: client -> proxy -> sink, 64 KiB frames, at most 8 MB in flight.
      RawWebSocket ws;
      peers.sunk = 0;
      if (ws.open(proxy.url(peers.sink.serverPort()))) {
        const QByteArray frame = RawWebSocket::frame(64 * 1024);
        qint64 queued = 0;
        const Usage before = proxy.usage();
        QElapsedTimer clock;
        clock.start();
        while (peers.sunk < total && clock.elapsed() < 120000) {
          while (queued < total && ws.socket_.bytesToWrite() < (8 << 20)) {
            ws.socket_.write(frame);
            queued += 64 * 1024;
          }
          QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        }
        up = megabytesPerSecond(peers.sunk, clock.elapsed());
        upPerCpu = perCpuSecond(peers.sunk, cpuSecondsBetween(before, proxy.usage()));
      }
    }
    if (phases.contains("down")) {  // Download: source -> proxy -> client.
      RawWebSocket ws;
      const Usage before = proxy.usage();
      if (ws.open(proxy.url(sourcePort))) {
        FrameCounter frames;
        frames.feed(reinterpret_cast<const unsigned char*>(ws.pending().data()), static_cast<size_t>(ws.pending().size()));
        downRate = drainDownload(static_cast<int>(ws.socket_.socketDescriptor()), [&](const unsigned char* data, size_t size) {
          frames.feed(data, size);
          return frames.payload();
        }, total);
        downPerCpu = perCpuSecond(frames.payload(), cpuSecondsBetween(before, proxy.usage()));
      }
    }
    if (phases.contains("rtt")) {  // Latency: 2,000 sequential 32-byte round trips through the proxy to the echo peer.
      QWebSocket ws(kOrigin);
      qint64 got = 0;
      QObject::connect(&ws, &QWebSocket::binaryMessageReceived, [&](const QByteArray& m) { got += m.size(); });
      ws.open(proxy.url(peers.echo.serverPort()));
      if (waitUntil([&] { return ws.state() == QAbstractSocket::ConnectedState; }, 10000))
        added = roundTrips([&] { got = 0; ws.sendBinaryMessage(QByteArray(32, 'p')); }, [&] { return got >= 32; }, 2000) - direct;
    }
    // Memory for 1,000 idle connections.
    const int idleCount = phases.contains("idle") ? 1000 : 0;
    std::vector<std::unique_ptr<QWebSocket>> idle;
    for (int i = 0; i < idleCount; ++i) {
      idle.push_back(std::make_unique<QWebSocket>(kOrigin));
      idle.back()->open(proxy.url(peers.echo.serverPort()));
    }
    const bool allOpen = waitUntil([&] {
      return std::all_of(idle.begin(), idle.end(), [](auto& w) { return w->state() == QAbstractSocket::ConnectedState; });
    }, 60000);
    waitUntil([] { return false; }, 1000);
    const long rss = treeUsage(proxy.processes.front()->processId()).rssKb;  // the one the idle connections went through
    downloads[proxy.name] = downRate;
    std::printf("%-12s %13.0f %13.0f %13.0f %13.0f %16.0f %22s\n", qPrintable(proxy.name), up, upPerCpu, downRate, downPerCpu, added,
                allOpen ? qPrintable(QString::number(rss / 1024.0, 'f', 1)) : "(not all opened)");
    std::fflush(stdout);
    idle.clear();
    for (auto& process : proxy.processes) {
      process->terminate();
      process->waitForFinished(5000);
    }
  }
  {  // Last, the ceiling: the same peers over one plain TCP connection, no relay in between.
    double up = 0, downRate = 0;
    {
      QTcpSocket tcp;
      tcp.connectToHost(QHostAddress::LocalHost, peers.sink.serverPort());
      if (tcp.waitForConnected(5000)) {
        peers.sunk = 0;
        const QByteArray block(64 * 1024, 'u');
        qint64 queued = 0;
        QElapsedTimer clock;
        clock.start();
        while (peers.sunk < total && clock.elapsed() < 120000) {
          while (queued < total && tcp.bytesToWrite() < (8 << 20)) {
            tcp.write(block);
            queued += block.size();
          }
          QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        }
        up = megabytesPerSecond(peers.sunk, clock.elapsed());
      }
    }
    {
      QTcpSocket tcp;  // read the same way as through the relays
      tcp.connectToHost(QHostAddress::LocalHost, sourcePort);
      if (tcp.waitForConnected(5000)) {
        qint64 got = 0;
        downRate = drainDownload(static_cast<int>(tcp.socketDescriptor()), [&](const unsigned char*, size_t size) {
          return got += static_cast<qint64>(size);
        }, total);
      }
    }
    std::printf("%-12s %13.0f %13s %13.0f %13s %16s %22s\n", "direct TCP", up, "-", downRate, "-", "(baseline)", "-");
    if (const double websockify = downloads.value(QStringLiteral("websockify")); websockify > 0)
      std::printf("(download: smtpc-proxy %.1fx websockify; the same peers over plain TCP, no relay: %.1fx)\n",
                  downloads.value(QStringLiteral("smtpc-proxy")) / websockify, downRate / websockify);
  }
  std::printf("(direct TCP round trip, the baseline: %.0f µs median of 2,000)\n", direct);
  sourceProcess.closeWriteChannel();
  sourceProcess.waitForFinished(5000);
  return 0;
}
