// smtpc-proxy started as a child process by the proxy tests (tst_proxy, tst_lookup): listening on
// a free loopback port, with kOrigin allowed, stopped with SIGTERM and checked for a clean exit.
#pragma once

#include <QFile>
#include <QProcess>
#include <QStringList>
#include <QTest>

namespace smtpc::proxytest {

inline const QString kOrigin = QStringLiteral("http://page.smtpc.test");

// How each proxy child ended, when it did not end well: a crash, a nonzero exit status (what
// LeakSanitizer and AddressSanitizer exit with), or no exit after SIGTERM. cleanup() fails the
// test that started it.
inline QStringList& childFailures() {
  static QStringList failures;
  return failures;
}

// Long enough for a relay whose client never answers its close frame (the relay waits 5 s).
inline constexpr int kProxyStopMs = 15000;

class ProxyProcess {
 public:
  explicit ProxyProcess(const QStringList& arguments, const QProcessEnvironment& extra = {}) {
    // The memory tests compare the proxy's RSS: under AddressSanitizer freed buffers wait in a
    // 256 MB quarantine and would count as growth, so keep it small (a normal build ignores it).
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
    // (verify_asan_link_order=0: GCC's runtime insists on coming first, and one test preloads a
    // resolver of its own.)
    env.insert(QStringLiteral("ASAN_OPTIONS"), asan + (asan.isEmpty() ? "" : ":") +
                                                   "quarantine_size_mb=1:thread_local_quarantine_size_kb=64:verify_asan_link_order=0");
    for (const QString& key : extra.keys()) env.insert(key, extra.value(key));
    process_.setProcessEnvironment(env);
    process_.start(QStringLiteral(SMTPC_PROXY),
                   QStringList{"--listen", "127.0.0.1:0", "--allow-origin", kOrigin} + arguments);
    if (!process_.waitForStarted(5000)) return;
    while (!process_.canReadLine() && process_.waitForReadyRead(10000)) {
    }
    const QString line = QString::fromUtf8(process_.readLine()).trimmed();
    if (line.startsWith(QStringLiteral("listening on "))) port_ = line.section(QLatin1Char(':'), -1).toUShort();
  }
  ~ProxyProcess() { stop(); }
  // SIGTERM, then the exit status is read: anything but a clean 0 is recorded for cleanup().
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if (process_.state() != QProcess::NotRunning) {
      process_.terminate();
      if (!process_.waitForFinished(kProxyStopMs)) {
        process_.kill();
        process_.waitForFinished();
        childFailures() << QStringLiteral("smtpc-proxy did not exit within %1 ms of SIGTERM").arg(kProxyStopMs);
        return;
      }
    }
    if (process_.exitStatus() != QProcess::NormalExit || process_.exitCode() != 0)
      childFailures() << QStringLiteral("smtpc-proxy %1 %2; the end of its log:\n%3")
                             .arg(process_.exitStatus() == QProcess::CrashExit ? "crashed, signal" : "exited with status")
                             .arg(process_.exitCode())
                             .arg(log().right(4000));
  }
  quint16 port() const { return port_; }
  // The next line on standard output after "listening on" ("page at ...", "metrics on ADDR:PORT").
  QString nextLine(int timeoutMs = 10000) {
    (void)QTest::qWaitFor([&] { return process_.canReadLine(); }, timeoutMs);
    return QString::fromUtf8(process_.readLine()).trimmed();
  }
  // Everything the proxy logged so far (its log goes to stderr).
  QString log() {
    log_ += QString::fromUtf8(process_.readAllStandardError());
    return log_;
  }
  bool waitForLog(const QString& text, int timeoutMs = 20000) {
    return QTest::qWaitFor([&] { return log().contains(text); }, timeoutMs);
  }
  qint64 pid() const { return process_.processId(); }
  void terminate() { process_.terminate(); }
  bool waitForFinished() { return process_.state() == QProcess::NotRunning || process_.waitForFinished(kProxyStopMs); }
  long rssKb() const { return statusKb("VmRSS:"); }
  long peakRssKb() const { return statusKb("VmHWM:"); }

 private:
  long statusKb(const QByteArray& field) const {
    QFile status(QStringLiteral("/proc/%1/status").arg(pid()));
    if (!status.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : status.readAll().split('\n'))
      if (line.startsWith(field)) return line.mid(field.size()).trimmed().split(' ').first().toLong();
    return -1;
  }

  QProcess process_;
  quint16 port_ = 0;
  QString log_;
  bool stopped_ = false;
};

}  // namespace smtpc::proxytest
