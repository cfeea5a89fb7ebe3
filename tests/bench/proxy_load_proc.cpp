// The processes proxy_load measures: started in a process group of their own (websockify forks a
// process per connection), stopped, and read from /proc: CPU time, memory, open descriptors.
#include "proxy_load.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace load {

namespace {

std::string readFile(const std::string& path) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

long fieldKb(const std::string& text, const char* name) {
  const size_t at = text.find(name);
  return at == std::string::npos ? 0 : std::atol(text.c_str() + at + std::strlen(name));
}

// Fields of /proc/PID/stat after "(comm) ": [0] state, [1] ppid, [11] utime, [12] stime,
// [13] cutime, [14] cstime (clock ticks).
std::vector<long long> statFields(int pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  std::vector<long long> fields;
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return fields;
  const char* p = stat.c_str() + paren + 2;
  fields.push_back(0);  // the state letter
  p = std::strchr(p, ' ');
  while (p && fields.size() < 16) {
    fields.push_back(std::atoll(p + 1));
    p = std::strchr(p + 1, ' ');
  }
  return fields;
}

int countDescriptors(int pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return 0;
  int count = 0;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  closedir(dir);
  return count;
}

}  // namespace

Usage usage(int pid) {
  Usage u;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::vector<int> children;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* entry = readdir(proc)) {
      const int id = std::atoi(entry->d_name);
      if (id <= 0 || id == pid) continue;
      const std::vector<long long> f = statFields(id);
      if (f.size() > 12 && f[1] == pid) children.push_back(id);
    }
    closedir(proc);
  }
  const std::vector<long long> own = statFields(pid);
  if (own.size() > 14) u.cpuSeconds = static_cast<double>(own[11] + own[12] + own[13] + own[14]) / tick;
  const std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  u.hwmKb = fieldKb(status, "VmHWM:");
  u.connections = countDescriptors(pid);
  if (children.empty()) {
    u.rssKb = fieldKb(status, "VmRSS:");
    return u;
  }
  // Forked processes share most of their pages: each one's proportional share (Pss) adds up to
  // what the tree holds, where adding their RSS would count the shared pages once per process.
  u.rssKb = fieldKb(readFile("/proc/" + std::to_string(pid) + "/smaps_rollup"), "Pss:");
  for (int child : children) {
    const std::vector<long long> f = statFields(child);
    if (f.size() > 12) u.cpuSeconds += static_cast<double>(f[11] + f[12]) / tick;
    u.rssKb += fieldKb(readFile("/proc/" + std::to_string(child) + "/smaps_rollup"), "Pss:");
    u.connections += countDescriptors(child);
  }
  return u;
}

Process spawn(const std::vector<std::string>& args, int cpu, bool readFirstLine) {
  Process p;
  int out[2] = {-1, -1};
  if (readFirstLine && pipe2(out, O_CLOEXEC) != 0) std::abort();
  p.pid = fork();
  if (p.pid == 0) {
    setpgid(0, 0);
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof set, &set);
    }
    const int null = ::open("/dev/null", O_RDWR);
    dup2(readFirstLine ? out[1] : null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (!readFirstLine) return p;
  ::close(out[1]);
  p.stdoutFd = out[0];  // kept open: the process may write more, and must not get SIGPIPE
  pollfd wait{out[0], POLLIN, 0};
  char c;
  while (poll(&wait, 1, 10000) > 0 && ::read(out[0], &c, 1) == 1 && c != '\n') p.firstLine += c;
  if (p.firstLine.empty()) {
    std::fprintf(stderr, "proxy_load: %s printed no address\n", args[0].c_str());
    std::exit(1);
  }
  return p;
}

void stop(Process& process) {
  const int group = process.pid;
  if (group <= 1) return;
  kill(-group, SIGTERM);
  bool reaped = false;
  for (int i = 0; i < 100 && !reaped; ++i) {
    reaped = waitpid(group, nullptr, WNOHANG) == group;
    if (!reaped) usleep(50000);
  }
  kill(-group, SIGKILL);  // what is left of the group (websockify's children), or all of it
  if (!reaped) waitpid(group, nullptr, 0);
  process.pid = -1;
  if (process.stdoutFd >= 0) ::close(process.stdoutFd);
  process.stdoutFd = -1;
}

uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t size = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.sin_port);
}

void waitListening(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (up) return;
    usleep(50000);
  }
  std::fprintf(stderr, "proxy_load: nothing listens on port %u\n", port);
  std::exit(1);
}

std::string loadAverage() {
  const std::string text = readFile("/proc/loadavg");
  size_t end = 0;
  for (int i = 0; i < 3 && end != std::string::npos; ++i) end = text.find(' ', end + 1);
  return text.substr(0, end);
}

}  // namespace load
