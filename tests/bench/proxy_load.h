// The parts of tests/bench/proxy_load: the load generator (proxy_load_engine.cpp, one thread on
// epoll) and the processes it measures (proxy_load_proc.cpp: started, stopped, their CPU time
// and memory read from /proc).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace load {

inline const char* const kOrigin = "http://bench.smtpc.test";

// Where sessions go: smtp-sink itself (ws false) or a relay's WebSocket at `path`.
struct Target {
  uint16_t port = 0;
  bool ws = false;
  std::string path;
};

struct SessionPlan {
  int sessions = 0, concurrency = 0, rounds = 10;
  int intervalMs = 0;  // 0: each command as soon as the last reply is in; else one every intervalMs
  int seconds = 0;     // > 0: sessions run (and are counted) this long once all are open, then QUIT
  std::function<void()> onOpen;  // once every session of the first `concurrency` is open
};

struct Result {
  std::vector<double> latencies;  // seconds, one per round trip (not the greeting, not QUIT)
  int completed = 0, failed = 0;
  double seconds = 0;  // the wall time counted (all sessions; or the timed part)
  double perSecond() const { return seconds > 0 ? completed / seconds : 0; }
  double roundTripsPerSecond() const { return seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0; }
  double percentile(double p) const;  // of latencies; sorts a copy
};

Result runSessions(const Target& target, const SessionPlan& plan);

// Idle sessions: open until smtp-sink's greeting has come through, then held.
struct IdleSet {
  std::vector<int> fds;
  int failed = 0;
};
double openIdle(const Target& target, int count, IdleSet* set);  // the wall seconds it took
// Closes them all and waits (up to 30 s) until `openDescriptors()` is back under what it was
// plus a few: the relay has let go of every connection.
void closeIdle(IdleSet* set, const std::function<int()>& openDescriptors);

struct Process {
  int pid = -1;
  int stdoutFd = -1;
  std::string firstLine;  // its first line on stdout, when read
};
// Starts `args` in a process group of its own, on `cpu` when >= 0; with readFirstLine, waits
// (10 s at most) for its first line on stdout. Its stderr goes to /dev/null.
Process spawn(const std::vector<std::string>& args, int cpu, bool readFirstLine);
void stop(Process& process);  // SIGTERM to its group, then SIGKILL after 5 s

struct Usage {
  double cpuSeconds = 0;  // user + system: the process, its reaped children and its live ones
  long rssKb = 0;         // VmRSS of one process; the sum of Pss when it has children (websockify)
  long hwmKb = 0;         // VmHWM of the process itself
  int connections = 0;    // descriptors open in the process and its children
};
Usage usage(int pid);

uint16_t freePort();
void waitListening(uint16_t port);
std::string loadAverage();
double now();

}  // namespace load
