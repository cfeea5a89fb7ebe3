// Load through one relay: thousands of SMTP-like sessions (connect, ten small round trips,
// QUIT) to Postfix's smtp-sink, through smtpc-proxy and through websockify (Debian's), and the
// same sessions straight to smtp-sink as the baseline. Prints sessions per second, round-trip
// latency (and what the relay adds), the relay's CPU and memory; then what opening 100, 1,000
// and 10,000 idle connections costs the relay per connection.
//   proxy_load SMTPC-PROXY [--sessions N] [--concurrency C] [--active N] [--active-seconds S]
//              [--active-interval-ms MS] [--idle 100,1000,10000] [--websockify-idle-max N] [--no-websockify]
// websockify forks a Python process per connection (about 0.14 s of CPU each here): the default
// 1,000 sessions take it a few minutes; its idle rows stop at 1,000 connections.
// The generator is one thread on epoll, cheap beside what it measures (run it on another core:
// SMTPC_BENCH_PIN=1 puts the relay on CPU 1, the generator and smtp-sink on CPU 0).
#include "proxy_load.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace load {
namespace {

struct Options {
  std::string proxy;
  int sessions = 1000, concurrency = 1000, rounds = 10;
  int active = 1000, activeSeconds = 8, activeIntervalMs = 500;
  std::vector<int> idle{100, 1000, 10000};
  int websockifyIdleMax = 1000;
  bool websockify = true;
};

bool parse(int argc, char** argv, Options* o) {
  if (argc < 2) return false;
  o->proxy = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : "0"; };
    if (a == "--sessions") o->sessions = std::atoi(next());
    else if (a == "--concurrency") o->concurrency = std::atoi(next());
    else if (a == "--active") o->active = std::atoi(next());
    else if (a == "--active-seconds") o->activeSeconds = std::atoi(next());
    else if (a == "--active-interval-ms") o->activeIntervalMs = std::atoi(next());
    else if (a == "--websockify-idle-max") o->websockifyIdleMax = std::atoi(next());
    else if (a == "--no-websockify") o->websockify = false;
    else if (a == "--idle") {
      o->idle.clear();
      std::string list = next();
      for (size_t at = 0; at < list.size();) {
        const size_t comma = list.find(',', at);
        o->idle.push_back(std::atoi(list.substr(at, comma - at).c_str()));
        at = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else return false;
  }
  return true;
}

// Every process this bench starts, and everything they fork, needs a descriptor per connection
// (the relay two): 10,000 idle sessions are 20,000 in the relay alone.
void raiseDescriptorLimit() {
  rlimit limit{200000, 200000};
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {  // not root: as far as the hard limit goes
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  std::printf("descriptors: %llu per process\n", static_cast<unsigned long long>(limit.rlim_cur));
}

struct Relay {
  std::string name;
  Process process;
  Target target;
};

std::vector<Relay> startRelays(const Options& o, uint16_t sinkPort, int pinRelay, bool websockify) {
  std::vector<Relay> relays;
  const std::string sink = "127.0.0.1:" + std::to_string(sinkPort);
  {
    // The bench is many clients from a few loopback addresses: the per-client and total caps
    // (10 handshakes and 20 connections per client by default) go up to what it opens.
    const std::string cap = "30000";
    Relay r{"smtpc-proxy", {}, {}};
    r.process = spawn({o.proxy, "--listen", "127.0.0.1:0", "--allow-origin", kOrigin, "--allow", sink,
                       "--max-connections", cap, "--max-per-client", cap, "--max-handshakes", cap,
                       "--max-handshakes-per-client", cap, "--idle-timeout", "600", "--handshake-timeout", "60"},
                      pinRelay, true);
    const std::string line = r.process.firstLine;
    const uint16_t port = static_cast<uint16_t>(std::atoi(line.substr(line.rfind(':') + 1).c_str()));
    r.target = Target{port, true, "/smtp?host=127.0.0.1&port=" + std::to_string(sinkPort)};
    relays.push_back(std::move(r));
  }
  if (websockify) {
    const uint16_t port = freePort();
    Relay r{"websockify", {}, {}};
    r.process = spawn({"websockify", "127.0.0.1:" + std::to_string(port), sink}, pinRelay, false);
    r.target = Target{port, true, "/"};
    relays.push_back(std::move(r));
  }
  for (Relay& r : relays) waitListening(r.target.port);
  return relays;
}

void stopRelays(std::vector<Relay>& relays) {
  for (Relay& r : relays) stop(r.process);
  relays.clear();
}

std::string ms(double seconds) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", seconds * 1e3);
  return b;
}

// Sessions back to back, `concurrency` at a time: throughput and latency under saturation, and
// the relay's CPU per session.
void sessionsTable(const Options& o, uint16_t sinkPort, int pinRelay) {
  std::printf("\n== %d sessions (connect, %d round trips, QUIT), %d at a time ==\n", o.sessions, o.rounds, o.concurrency);
  std::printf("%-12s %10s %10s %10s %10s %10s %12s %10s %10s\n", "path", "sessions/s", "rt p50 ms", "rt p99 ms",
              "+p50 ms", "+p99 ms", "CPU/session", "RSS MB", "HWM MB");
  SessionPlan plan;
  plan.sessions = o.sessions;
  plan.concurrency = o.concurrency;
  plan.rounds = o.rounds;
  const Result direct = runSessions(Target{sinkPort, false, {}}, plan);
  std::printf("%-12s %10.0f %10s %10s %10s %10s %12s %10s %10s   (failed %d)\n", "direct", direct.perSecond(),
              ms(direct.percentile(50)).c_str(), ms(direct.percentile(99)).c_str(), "-", "-", "-", "-", "-", direct.failed);
  for (bool ws : {false, true}) {
    if (ws && !o.websockify) break;
    std::vector<Relay> relays = startRelays(o, sinkPort, pinRelay, ws);
    Relay& r = relays.back();
    const Usage before = usage(r.process.pid);
    const Result result = runSessions(r.target, plan);
    const Usage after = usage(r.process.pid);
    std::printf("%-12s %10.0f %10s %10s %10s %10s %9.0f us %10.1f %10.1f   (failed %d)\n", r.name.c_str(), result.perSecond(),
                ms(result.percentile(50)).c_str(), ms(result.percentile(99)).c_str(),
                ms(result.percentile(50) - direct.percentile(50)).c_str(),
                ms(result.percentile(99) - direct.percentile(99)).c_str(),
                (after.cpuSeconds - before.cpuSeconds) * 1e6 / std::max(1, result.completed), after.rssKb / 1024.0,
                after.hwmKb / 1024.0, result.failed);
    stopRelays(relays);
  }
}

// `active` sessions open at once, each sending one command every ~interval (spread at random):
// the relay's added latency when it is busy but not saturated.
void activeTable(const Options& o, uint16_t sinkPort, int pinRelay) {
  std::printf("\n== %d active sessions, each a round trip every %d ms (random phase), %d s ==\n", o.active,
              o.activeIntervalMs, o.activeSeconds);
  std::printf("%-12s %10s %10s %10s %10s %10s %12s %10s\n", "path", "rt/s", "rt p50 ms", "rt p99 ms", "+p50 ms",
              "+p99 ms", "CPU/rt", "RSS MB");
  SessionPlan plan;
  plan.sessions = o.active;
  plan.concurrency = o.active;
  plan.rounds = 1 << 30;  // until the time is up
  plan.intervalMs = o.activeIntervalMs;
  plan.seconds = o.activeSeconds;
  const Result direct = runSessions(Target{sinkPort, false, {}}, plan);
  std::printf("%-12s %10.0f %10s %10s %10s %10s %12s %10s   (failed %d)\n", "direct", direct.roundTripsPerSecond(),
              ms(direct.percentile(50)).c_str(), ms(direct.percentile(99)).c_str(), "-", "-", "-", "-", direct.failed);
  for (bool ws : {false, true}) {
    if (ws && !o.websockify) break;
    std::vector<Relay> relays = startRelays(o, sinkPort, pinRelay, ws);
    Relay& r = relays.back();
    Usage before;
    plan.onOpen = [&] { before = usage(r.process.pid); };  // after every session is open
    const Result result = runSessions(r.target, plan);
    const Usage after = usage(r.process.pid);
    plan.onOpen = nullptr;
    std::printf("%-12s %10.0f %10s %10s %10s %10s %9.1f us %10.1f   (failed %d)\n", r.name.c_str(),
                result.roundTripsPerSecond(), ms(result.percentile(50)).c_str(), ms(result.percentile(99)).c_str(),
                ms(result.percentile(50) - direct.percentile(50)).c_str(),
                ms(result.percentile(99) - direct.percentile(99)).c_str(),
                (after.cpuSeconds - before.cpuSeconds) * 1e6 / std::max<double>(1, static_cast<double>(result.latencies.size())),
                after.rssKb / 1024.0, result.failed);
    stopRelays(relays);
  }
}

// Opening N idle sessions (the WebSocket up and smtp-sink's greeting through): the relay's CPU
// per connection must not grow with N, and its memory per connection is what an idle session costs.
void idleTable(const Options& o, uint16_t sinkPort, int pinRelay) {
  std::printf("\n== idle sessions: opened (greeting received), held, closed ==\n");
  std::printf("%-12s %7s %10s %14s %14s %10s %12s\n", "relay", "n", "open s", "CPU/open us", "CPU/close us", "RSS MB",
              "KB/session");
  for (bool ws : {false, true}) {
    if (ws && !o.websockify) break;
    for (int n : o.idle) {
      if (ws && n > o.websockifyIdleMax) {
        std::printf("%-12s %7d   (skipped: a process per connection; --websockify-idle-max %d)\n", "websockify", n,
                    o.websockifyIdleMax);
        continue;
      }
      // Two descriptors per connection in the relay: where the hard limit cannot be raised (no
      // CAP_SYS_RESOURCE in a container, say), as many as fit.
      rlimit limit{};
      getrlimit(RLIMIT_NOFILE, &limit);
      if (static_cast<rlim_t>(2 * n + 100) > limit.rlim_cur) {
        std::printf("%-12s %7d   (%d instead: the descriptor limit is %llu)\n", ws ? "websockify" : "smtpc-proxy", n,
                    static_cast<int>((limit.rlim_cur - 100) / 2), static_cast<unsigned long long>(limit.rlim_cur));
        n = static_cast<int>((limit.rlim_cur - 100) / 2);
      }
      std::vector<Relay> relays = startRelays(o, sinkPort, pinRelay, ws);
      Relay& r = relays.back();
      const Usage start = usage(r.process.pid);
      IdleSet set;
      const double opened = openIdle(r.target, n, &set);
      const Usage open = usage(r.process.pid);
      closeIdle(&set, [&] { return usage(r.process.pid).connections; });
      const Usage closed = usage(r.process.pid);
      std::printf("%-12s %7d %10.2f %14.1f %14.1f %10.1f %12.1f   (failed %d)\n", r.name.c_str(), n, opened,
                  (open.cpuSeconds - start.cpuSeconds) * 1e6 / n, (closed.cpuSeconds - open.cpuSeconds) * 1e6 / n,
                  open.rssKb / 1024.0, static_cast<double>(open.rssKb - start.rssKb) / n, set.failed);
      stopRelays(relays);
    }
  }
}

}  // namespace
}  // namespace load

int main(int argc, char** argv) {
  using namespace load;
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: proxy_load SMTPC-PROXY [--sessions N] [--concurrency C] [--active N] "
                         "[--active-seconds S] [--active-interval-ms MS] [--idle 100,1000,10000] "
                         "[--websockify-idle-max N] [--no-websockify]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each row as it is measured, also into a file
  raiseDescriptorLimit();
  const char* pinEnv = std::getenv("SMTPC_BENCH_PIN");
  const int pinRelay = pinEnv && *pinEnv && std::atoi(pinEnv) > 0 ? 1 : -1;
  if (pinRelay >= 0) {  // the generator and smtp-sink on CPU 0, the relay alone on CPU 1
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  if (o.websockify && access("/usr/bin/websockify", X_OK) != 0) {
    std::printf("websockify is missing (apt-get install websockify): smtpc-proxy alone\n");
    o.websockify = false;
  }
  const uint16_t sinkPort = freePort();
  Process sink = spawn({"smtp-sink", "-u", "nobody", "-m", "40000", "127.0.0.1:" + std::to_string(sinkPort), "4096"},
                       pinRelay >= 0 ? 0 : -1, false);
  waitListening(sinkPort);
  std::printf("load average: %s\n", loadAverage().c_str());
  sessionsTable(o, sinkPort, pinRelay);
  activeTable(o, sinkPort, pinRelay);
  idleTable(o, sinkPort, pinRelay);
  std::printf("\nload average: %s\n", loadAverage().c_str());
  stop(sink);
  return 0;
}
