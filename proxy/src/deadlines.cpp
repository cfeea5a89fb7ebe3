#include "deadlines.h"

#include <algorithm>
#include <limits>

namespace smtpc::proxy {

Deadlines::Owner::Owner(Deadlines& deadlines) : deadlines_(&deadlines), serial_(deadlines.nextSerial_++) {
  deadlines_->owners_.insert(serial_, this);
}

Deadlines::Owner::~Owner() {
  if (deadlines_) deadlines_->owners_.remove(serial_);
}  // its entries are skipped when due

void Deadlines::Owner::wakeAt(qint64 when) {
  if (asked_ >= 0 && asked_ <= when) return;  // an entry already calls it in time
  if (!deadlines_) return;
  asked_ = when;
  deadlines_->heap_.emplace(when, serial_);
  if (deadlines_->armedFor_ < 0 || when < deadlines_->armedFor_) deadlines_->arm();
}

Deadlines::Deadlines() {
  clock_.start();
  timer_.setSingleShot(true);
  timer_.setTimerType(Qt::PreciseTimer);  // a connect timeout of 1 s must not fire at 0.95 s
  connect(&timer_, &QTimer::timeout, this, &Deadlines::onTimer);
}

void Deadlines::arm() {
  if (heap_.empty()) {
    armedFor_ = -1;
    timer_.stop();
    return;
  }
  armedFor_ = heap_.top().first;
  const qint64 wait = std::max<qint64>(0, armedFor_ - now());
  timer_.start(static_cast<int>(std::min<qint64>(wait, std::numeric_limits<int>::max())));
}

void Deadlines::onTimer() {
  const qint64 t = now();
  // What is due now is taken out first: an owner called may ask for new times (later than now).
  std::vector<quint64> due;
  while (!heap_.empty() && heap_.top().first <= t) {
    due.push_back(heap_.top().second);
    heap_.pop();
  }
  for (quint64 serial : due) {
    Owner* owner = owners_.value(serial);
    if (!owner) continue;  // gone
    if (owner->asked_ <= t) owner->asked_ = -1;  // this was its earliest entry
    owner->deadlineDue(t);
  }
  arm();
}

}  // namespace smtpc::proxy
