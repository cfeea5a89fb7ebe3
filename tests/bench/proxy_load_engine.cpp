// The load generator of proxy_load: many SMTP sessions at once on one thread and one epoll set,
// each speaking plain TCP to smtp-sink or WebSocket (masked binary frames, RFC 6455) to a relay.
// Cheap on purpose (no copies beyond one read buffer, no allocation per round trip once warm):
// the relay, not the generator, must be what the figures measure.
#include "proxy_load.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <queue>
#include <random>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace load {

double now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double Result::percentile(double p) const {
  if (latencies.empty()) return 0;
  std::vector<double> sorted = latencies;
  const size_t at = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(at), sorted.end());
  return sorted[at];
}

namespace {

// Sessions opening at once: the relays' listen backlogs are short (Qt's is 50), and a SYN
// dropped on a full backlog waits a second to be sent again, which would be measured as the relay.
constexpr int kMaxOpening = 32;
constexpr int kSourceAddresses = 8;  // 127.0.0.2 ... 127.0.0.9: ports enough for every connection

const char* const kCommands[] = {"EHLO bench.test\r\n", "MAIL FROM:<a@bench.test>\r\n", "RCPT TO:<b@bench.test>\r\n",
                                 "RSET\r\n", "NOOP\r\n"};
constexpr int kCommandCount = 5;

enum class State { Free, Connecting, Upgrading, Greeting, Waiting, Thinking, Quitting, Held };

struct Conn {
  int fd = -1;
  State state = State::Free;
  std::string in;     // WebSocket bytes not yet parsed into frames
  std::string reply;  // SMTP reply bytes not yet complete
  int round = 0;
  double sentAt = 0;
};

// A complete SMTP reply: ends with CRLF and its last line is "DDD " (not "DDD-").
bool replyComplete(const std::string& r) {
  if (r.size() < 6 || r[r.size() - 2] != '\r' || r[r.size() - 1] != '\n') return false;
  const size_t start = r.rfind("\r\n", r.size() - 3);
  const size_t line = start == std::string::npos ? 0 : start + 2;
  return r.size() - line >= 5 && r[line + 3] == ' ';
}

class Engine {
 public:
  Engine(const Target& target, const SessionPlan& plan, bool hold)
      : target_(target), plan_(plan), hold_(hold), conns_(static_cast<size_t>(plan.concurrency)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    request_ = "GET " + target.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(target.port) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nOrigin: " + kOrigin + "\r\n\r\n";
  }
  ~Engine() { ::close(epoll_); }

  Result run(IdleSet* held) {
    const double started = now();
    for (size_t i = 0; i < conns_.size(); ++i) free_.push_back(static_cast<int>(i));
    fill();
    epoll_event events[256];
    while (active_ > 0 || (startedSessions_ < plan_.sessions && !timeUp())) {
      int timeout = -1;
      if (!timers_.empty()) timeout = std::max(0, static_cast<int>((timers_.top().first - now()) * 1e3 + 0.999));
      if (plan_.seconds > 0 && allOpenAt_ > 0) timeout = timeout < 0 ? 100 : std::min(timeout, 100);
      const int n = epoll_wait(epoll_, events, 256, timeout);
      for (int i = 0; i < n; ++i) handle(static_cast<int>(events[i].data.u32), events[i].events);
      const double t = now();
      while (!timers_.empty() && timers_.top().first <= t) {
        const int slot = timers_.top().second;
        timers_.pop();
        if (conns_[static_cast<size_t>(slot)].state == State::Thinking) sendRound(slot);
      }
      fill();
    }
    result_.seconds = plan_.seconds > 0 ? (timeUpAt_ > 0 ? timeUpAt_ : now()) - allOpenAt_ : now() - started;
    if (held) {
      for (Conn& c : conns_)
        if (c.state == State::Held) held->fds.push_back(c.fd);
      held->failed = result_.failed;
    }
    return result_;
  }

 private:
  bool timeUp() {
    if (plan_.seconds <= 0 || allOpenAt_ <= 0) return false;
    if (timeUpAt_ <= 0 && now() - allOpenAt_ >= plan_.seconds) timeUpAt_ = now();
    return timeUpAt_ > 0;
  }

  // Starts sessions into free slots, at most kMaxOpening opening at once.
  void fill() {
    while (!free_.empty() && opening_ < kMaxOpening && startedSessions_ < plan_.sessions && !timeUp()) {
      const int slot = free_.back();
      free_.pop_back();
      open(slot);
    }
  }

  void open(int slot) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    ++startedSessions_;
    c = Conn{};
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(0x7f000002u + static_cast<uint32_t>(startedSessions_ % kSourceAddresses));
    bind(c.fd, reinterpret_cast<sockaddr*>(&source), sizeof source);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(target_.port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
      ::close(c.fd);
      c.fd = -1;
      ++result_.failed;
      free_.push_back(slot);
      return;
    }
    c.state = State::Connecting;
    ++opening_;
    ++active_;
    epoll_event e{};
    e.events = EPOLLOUT | EPOLLIN;
    e.data.u32 = static_cast<uint32_t>(slot);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &e);
  }

  void end(int slot, bool ok) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    if (c.state == State::Connecting || c.state == State::Upgrading || c.state == State::Greeting) --opening_;
    ::close(c.fd);
    c.fd = -1;
    c.state = State::Free;
    --active_;
    if (ok) ++result_.completed;
    else ++result_.failed;
    free_.push_back(slot);
  }

  void send(int slot, const char* text) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    char frame[128];
    const size_t length = std::strlen(text);
    size_t size = length;
    const char* bytes = text;
    if (target_.ws) {  // a masked binary frame; the mask is zero, so the payload is as it is
      frame[0] = static_cast<char>(0x82);
      frame[1] = static_cast<char>(0x80 | length);
      std::memset(frame + 2, 0, 4);
      std::memcpy(frame + 6, text, length);
      bytes = frame;
      size = length + 6;
    }
    if (::send(c.fd, bytes, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) end(slot, false);
  }

  void sendRound(int slot) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    c.state = State::Waiting;
    c.sentAt = now();
    send(slot, kCommands[c.round % kCommandCount]);
  }

  void think(int slot, double from) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    c.state = State::Thinking;
    timers_.push({from + plan_.intervalMs * 1e-3, slot});
  }

  void handle(int slot, uint32_t events) {
    Conn& c = conns_[static_cast<size_t>(slot)];
    if (c.state == State::Free) return;
    if (c.state == State::Connecting) {
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) return end(slot, false);
      if (!(events & EPOLLOUT)) return;
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u32 = static_cast<uint32_t>(slot);
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &e);
      if (target_.ws) {
        c.state = State::Upgrading;
        if (::send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request_.size()))
          return end(slot, false);
      } else c.state = State::Greeting;
      return;
    }
    char buffer[16384];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return end(slot, false);
    bool closed = false;
    if (!target_.ws) c.reply.append(buffer, static_cast<size_t>(n));
    else {
      c.in.append(buffer, static_cast<size_t>(n));
      if (c.state == State::Upgrading) {
        const size_t head = c.in.find("\r\n\r\n");
        if (head == std::string::npos) return;
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) return end(slot, false);
        c.in.erase(0, head + 4);
        c.state = State::Greeting;
      }
      closed = !frames(c);  // the relay's close frame may come with smtp-sink's last reply (221)
    }
    if (!replyComplete(c.reply)) {
      if (closed) end(slot, false);
      return;
    }
    const bool good = c.reply[0] == '2';
    c.reply.clear();
    if (!good || (closed && c.state != State::Quitting)) return end(slot, false);
    const double t = now();
    switch (c.state) {
      case State::Greeting:
        --opening_;
        ++opened_;
        if (hold_) {
          c.state = State::Held;
          epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
          --active_;
          return;
        }
        if (allOpenAt_ <= 0 && opened_ >= plan_.concurrency) {
          allOpenAt_ = now();
          if (plan_.onOpen) plan_.onOpen();
        }
        // Paced sessions start at a random phase, so that their commands spread over the interval.
        if (plan_.intervalMs > 0) return think(slot, t - std::uniform_real_distribution<double>(0, plan_.intervalMs * 1e-3)(random_));
        return sendRound(slot);
      case State::Waiting:
        // Paced: only round trips while every session is open and the time is not up count.
        if (plan_.seconds <= 0 || (allOpenAt_ > 0 && !timeUp())) result_.latencies.push_back(t - c.sentAt);
        if (++c.round >= plan_.rounds || timeUp()) {
          c.state = State::Quitting;
          return send(slot, "QUIT\r\n");
        }
        if (plan_.intervalMs > 0) return think(slot, c.sentAt);
        return sendRound(slot);
      case State::Quitting: return end(slot, true);
      default: return;
    }
  }

  // Moves the payload of every whole frame in c.in to c.reply; false on a close frame.
  static bool frames(Conn& c) {
    size_t at = 0;
    bool open = true;
    while (c.in.size() - at >= 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(c.in.data() + at);
      uint64_t length = p[1] & 0x7f;
      size_t head = 2;
      if (length == 126) head = 4;
      else if (length == 127) head = 10;
      if (p[1] & 0x80) head += 4;
      if (c.in.size() - at < head) break;
      if (length == 126) length = (uint64_t{p[2]} << 8) | p[3];
      else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      }
      if (c.in.size() - at < head + length) break;
      const int opcode = p[0] & 0x0f;
      if (opcode <= 2) c.reply.append(c.in, at + head, length);
      if (opcode == 8) open = false;
      at += head + length;
    }
    c.in.erase(0, at);
    return open;
  }

  Target target_;
  SessionPlan plan_;
  bool hold_;
  int epoll_ = -1;
  std::string request_;
  std::vector<Conn> conns_;
  std::vector<int> free_;
  std::priority_queue<std::pair<double, int>, std::vector<std::pair<double, int>>, std::greater<>> timers_;
  std::mt19937 random_{42};
  int startedSessions_ = 0, opening_ = 0, active_ = 0, opened_ = 0;
  double allOpenAt_ = 0, timeUpAt_ = 0;
  Result result_;
};

}  // namespace

Result runSessions(const Target& target, const SessionPlan& plan) { return Engine(target, plan, false).run(nullptr); }

double openIdle(const Target& target, int count, IdleSet* set) {
  SessionPlan plan;
  plan.sessions = count;
  plan.concurrency = count;
  const double start = now();
  Engine(target, plan, true).run(set);
  return now() - start;
}

void closeIdle(IdleSet* set, const std::function<int()>& openDescriptors) {
  const int before = openDescriptors();
  for (int fd : set->fds) ::close(fd);
  const int count = static_cast<int>(set->fds.size());
  set->fds.clear();
  const double deadline = now() + 30;
  while (now() < deadline && openDescriptors() > before - count * 2 + 64) usleep(50000);
}

}  // namespace load
