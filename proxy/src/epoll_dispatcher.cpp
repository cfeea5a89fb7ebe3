#include "epoll_dispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <cerrno>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace smtpc::proxy {

namespace {

constexpr int kMaxEvents = 256;  // per turn; the rest are still ready on the next turn (level-triggered)

qint64 nowNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<qint64>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

}  // namespace

EpollDispatcher::EpollDispatcher() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_ >= 0 && wake_ >= 0) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &event);
  }
}

EpollDispatcher::~EpollDispatcher() {
  if (wake_ >= 0) ::close(wake_);
  if (epoll_ >= 0) ::close(epoll_);
}

void EpollDispatcher::updateEpoll(int fd, Watched& watched) {
  quint32 events = 0;
  if (watched.notifiers[QSocketNotifier::Read]) events |= EPOLLIN;
  if (watched.notifiers[QSocketNotifier::Write]) events |= EPOLLOUT;
  if (watched.notifiers[QSocketNotifier::Exception]) events |= EPOLLPRI;
  if (events == watched.events) return;
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (events == 0) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // EBADF when already closed: the kernel dropped it then
    watched_.remove(fd);
    return;
  }
  const int op = watched.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_, op, fd, &event) != 0 && errno == (op == EPOLL_CTL_ADD ? EEXIST : ENOENT))
    epoll_ctl(epoll_, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event);
  watched.events = events;
}

void EpollDispatcher::registerSocketNotifier(QSocketNotifier* notifier) {
  const int fd = static_cast<int>(notifier->socket());
  Watched& watched = watched_[fd];
  watched.notifiers[notifier->type()] = notifier;
  updateEpoll(fd, watched);
}

void EpollDispatcher::unregisterSocketNotifier(QSocketNotifier* notifier) {
  const int fd = static_cast<int>(notifier->socket());
  const auto it = watched_.find(fd);
  if (it == watched_.end() || it->notifiers[notifier->type()] != notifier) return;
  it->notifiers[notifier->type()] = nullptr;
  updateEpoll(fd, *it);
}

// As Qt's dispatcher does: an error or hang-up wakes the reader and the writer, who find out.
void EpollDispatcher::dispatchSocket(int fd, quint32 events) {
  static constexpr struct {
    QSocketNotifier::Type type;
    quint32 events;
  } kWhich[] = {{QSocketNotifier::Read, EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP},
                {QSocketNotifier::Write, EPOLLOUT | EPOLLHUP | EPOLLERR},
                {QSocketNotifier::Exception, EPOLLPRI}};
  for (const auto& which : kWhich) {
    if (!(events & which.events)) continue;
    // Looked up again each time: the last notifier's slot may have removed this one.
    const auto it = watched_.constFind(fd);
    if (it == watched_.constEnd()) return;
    if (QSocketNotifier* notifier = it->notifiers[which.type]) {
      QEvent event(QEvent::SockAct);
      QCoreApplication::sendEvent(notifier, &event);
    }
  }
}

void EpollDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject* object) {
  Timer timer{interval, timerType, object, nowNs() + interval * 1000000};
  timers_.insert(timerId, timer);
  timersOf_.insert(object, timerId);
  queue_.emplace(timer.due, timerId);
}

bool EpollDispatcher::unregisterTimer(int timerId) {
  const auto it = timers_.find(timerId);
  if (it == timers_.end()) return false;
  queue_.erase({it->due, timerId});
  timersOf_.remove(it->object, timerId);
  timers_.erase(it);
  return true;
}

bool EpollDispatcher::unregisterTimers(QObject* object) {
  const QList<int> ids = timersOf_.values(object);
  for (int id : ids) unregisterTimer(id);
  return !ids.isEmpty();
}

QList<QAbstractEventDispatcher::TimerInfo> EpollDispatcher::registeredTimers(QObject* object) const {
  QList<TimerInfo> list;
  for (auto it = timersOf_.constFind(object); it != timersOf_.constEnd() && it.key() == object; ++it) {
    const Timer& timer = timers_[*it];
    list.append(TimerInfo(*it, static_cast<int>(timer.interval), timer.type));
  }
  return list;
}

int EpollDispatcher::remainingTime(int timerId) {
  const auto it = timers_.constFind(timerId);
  if (it == timers_.constEnd()) return -1;
  return static_cast<int>(std::max<qint64>(0, (it->due - nowNs()) / 1000000));
}

int EpollDispatcher::waitMs() const {
  if (queue_.empty()) return -1;
  const qint64 wait = queue_.begin()->first - nowNs();
  return wait <= 0 ? 0 : static_cast<int>(std::min<qint64>((wait + 999999) / 1000000, 24 * 3600 * 1000));
}

// The timers due now, each once (one that a handler restarts at 0 ms waits for the next turn).
bool EpollDispatcher::fireTimers() {
  const qint64 now = nowNs();
  std::vector<int> due;
  for (auto it = queue_.begin(); it != queue_.end() && it->first <= now; ++it) due.push_back(it->second);
  for (int id : due) {
    const auto it = timers_.find(id);
    if (it == timers_.end() || it->due > now) continue;  // stopped or restarted by an earlier handler
    queue_.erase({it->due, id});
    // The next time counts from this one's, unless it is already behind (no burst to catch up).
    it->due += it->interval * 1000000;
    if (it->due <= now) it->due = now + it->interval * 1000000;
    queue_.emplace(it->due, id);
    QObject* object = it->object;
    QTimerEvent event(id);
    QCoreApplication::sendEvent(object, &event);
  }
  return !due.empty();
}

bool EpollDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags) {
  interrupted_.store(false);
  emit awake();
  QCoreApplication::sendPostedEvents();
  if (interrupted_.load()) return false;
  int timeout = 0;
  if (flags & QEventLoop::WaitForMoreEvents) {
    timeout = waitMs();
    emit aboutToBlock();
  }
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_, events, kMaxEvents, timeout);
  bool handled = false;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_) {  // a wakeUp(): posted events are sent on the next turn
      quint64 count = 0;
      (void)!::read(wake_, &count, sizeof count);
      continue;
    }
    if (flags & QEventLoop::ExcludeSocketNotifiers) continue;  // still ready next time
    dispatchSocket(fd, events[i].events);
    handled = true;
  }
  if (!(flags & QEventLoop::X11ExcludeTimers) && fireTimers()) handled = true;
  return handled;
}

void EpollDispatcher::wakeUp() {
  const quint64 one = 1;
  (void)!::write(wake_, &one, sizeof one);
}

void EpollDispatcher::interrupt() {
  interrupted_.store(true);
  wakeUp();
}

}  // namespace smtpc::proxy
