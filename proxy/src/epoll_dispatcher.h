// The relay's event loop on epoll(7), installed for the main thread by main.cpp.
// Why: Qt's own dispatchers on Linux (glib's and QEventDispatcherUNIX) hand every registered
// descriptor to poll() on each turn of the loop and walk them all afterwards. With N idle
// connections (two descriptors each) every event paid for all of them: opening the 10,000th
// connection cost the relay about 3 ms of CPU against 0.4 ms for the 100th (tests/bench/proxy_load).
// epoll registers a descriptor once and reports only the ready ones: a turn costs what happened.
// Timers live in an ordered set (due first), found by id in a hash: registering and stopping one
// cost log(n), not a walk over every timer.
#pragma once

#include <QAbstractEventDispatcher>
#include <QHash>

#include <atomic>
#include <set>
#include <utility>

namespace smtpc::proxy {

class EpollDispatcher : public QAbstractEventDispatcher {
 public:
  EpollDispatcher();
  ~EpollDispatcher() override;

  bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
  void registerSocketNotifier(QSocketNotifier* notifier) override;
  void unregisterSocketNotifier(QSocketNotifier* notifier) override;
  void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject* object) override;
  bool unregisterTimer(int timerId) override;
  bool unregisterTimers(QObject* object) override;
  QList<TimerInfo> registeredTimers(QObject* object) const override;
  int remainingTime(int timerId) override;
  void wakeUp() override;
  void interrupt() override;

  // False when epoll or eventfd could not be made: then main.cpp keeps Qt's dispatcher.
  bool isValid() const { return epoll_ >= 0 && wake_ >= 0; }

 private:
  struct Watched {
    QSocketNotifier* notifiers[3] = {nullptr, nullptr, nullptr};  // QSocketNotifier::Type: Read, Write, Exception
    quint32 events = 0;                                            // what epoll watches for now
  };
  struct Timer {
    qint64 interval = 0;  // ms
    Qt::TimerType type = Qt::CoarseTimer;
    QObject* object = nullptr;
    qint64 due = 0;  // ns on the monotonic clock
  };
  void updateEpoll(int fd, Watched& watched);
  void dispatchSocket(int fd, quint32 events);
  bool fireTimers();
  int waitMs() const;  // until the first timer is due; -1: no timer

  int epoll_ = -1, wake_ = -1;
  std::atomic<bool> interrupted_{false};
  QHash<int, Watched> watched_;
  QHash<int, Timer> timers_;
  QMultiHash<QObject*, int> timersOf_;
  std::set<std::pair<qint64, int>> queue_;  // (due, id), the first due first
};

}  // namespace smtpc::proxy
