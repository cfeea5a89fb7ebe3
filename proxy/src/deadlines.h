// Every relay's deadlines (connect, idle, the close handshake, a backlogged client's next look)
// on one Qt timer.
// Why not a QTimer per relay: Qt keeps a thread's timers in one list and finds a timer to stop or
// restart by walking it from the front (QTimerInfoList::unregisterTimer). With a QTimer per
// connection, each restart of an idle timer (on every frame) and each close walked every
// connection's timers: opening and closing N connections cost N^2, and each QTimer is a QObject.
// Here a deadline is an entry in a heap. Moving one later (the idle deadline, on each frame) costs
// nothing: the owner keeps its own times, and when an entry falls due the owner is asked, does
// what is due and names its next deadline. An owner gone by then is skipped (looked up by its
// serial, never by a pointer that may dangle).
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace smtpc::proxy {

class Deadlines : public QObject {
 public:
  class Owner {
   public:
    explicit Owner(Deadlines& deadlines);
    virtual ~Owner();
    Owner(const Owner&) = delete;
    Owner& operator=(const Owner&) = delete;

   protected:
    // Makes sure deadlineDue() is called no later than `when` (ms on deadlines.now()'s clock).
    void wakeAt(qint64 when);
    // Called at or after the time asked for (perhaps for a time since moved later): do what is
    // due, and wakeAt() the next deadline if there is one.
    virtual void deadlineDue(qint64 now) = 0;
    QPointer<Deadlines> deadlines_;  // null once the proxy is gone (a relay deleted later)

   private:
    friend class Deadlines;
    quint64 serial_ = 0;
    qint64 asked_ = -1;  // the earliest time an entry in the heap will call this owner; -1: none
  };

  Deadlines();
  qint64 now() const { return clock_.elapsed(); }

 private:
  void onTimer();
  void arm();

  using Entry = std::pair<qint64, quint64>;  // when, the owner's serial
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  QHash<quint64, Owner*> owners_;
  quint64 nextSerial_ = 1;
  qint64 armedFor_ = -1;
  QTimer timer_;
  QElapsedTimer clock_;
};

}  // namespace smtpc::proxy
