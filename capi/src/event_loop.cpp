#include "event_loop.h"

#include <cerrno>
#include <ctime>

namespace smtpc::posix {

Time monotonicNow() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return Time(static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000);
}

bool EventLoop::runUntil(const std::function<bool()>& done) {
  std::vector<std::size_t> counts;
  while (!done()) {
    watch_.clear();
    counts.clear();
    std::optional<Time> wake;
    for (Source* source : sources_) {
      const std::size_t before = watch_.size();
      if (const auto at = source->prepare(watch_); at && (!wake || *at < *wake)) wake = at;
      counts.push_back(watch_.size() - before);
    }
    if (done()) break;
    if (watch_.empty() && !wake) return false;
    // poll() sleeps at least the time asked, and the clock counts whole milliseconds rounded
    // down, so a deadline has always come when the wait for it ends.
    int timeout = -1;
    if (wake) {
      const auto left = (*wake - monotonicNow()).count();
      timeout = left <= 0 ? 0 : left > 60 * 60 * 1000 ? 60 * 60 * 1000 : static_cast<int>(left);
    }
    if (poll(watch_.data(), static_cast<nfds_t>(watch_.size()), timeout) < 0) {
      if (errno == EINTR) continue;
      for (pollfd& entry : watch_) entry.revents = POLLERR;  // ENOMEM: let the sources see it
    }
    const Time now = monotonicNow();
    std::size_t offset = 0;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      sources_[i]->dispatch(std::span<const pollfd>(watch_.data() + offset, counts[i]), now);
      offset += counts[i];
    }
  }
  return true;
}

void MonotonicTimer::dispatch(std::span<const pollfd>, Time now) {
  if (!deadline_ || now < *deadline_) return;
  deadline_.reset();
  if (handler_) handler_->onTimerFired();
}

}  // namespace smtpc::posix
