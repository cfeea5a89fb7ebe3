// The C API's I/O, without Qt: one poll() loop per connection, run in whatever thread calls, and
// an smtpc::Timer on CLOCK_MONOTONIC. Sources (the transport, the timer) say what to wait for
// before each wait and handle what came after it; the loop owns no descriptor.
#pragma once

#include <poll.h>

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "smtpc/transport.h"

namespace smtpc::posix {

// CLOCK_MONOTONIC in milliseconds: never jumps with the wall clock.
Time monotonicNow();

class EventLoop {
 public:
  class Source {
   public:
    virtual ~Source() = default;
    // Before the wait: append the descriptors to watch to `watch`, and say when to wake up
    // (nullopt: no deadline). May call handlers (the transport reports a failed send here).
    virtual std::optional<Time> prepare(std::vector<pollfd>& watch) = 0;
    // After the wait: this source's entries of `watch`, in the order it appended them, with
    // revents set (possibly 0). Also called when nothing was ready, so deadlines can be checked.
    virtual void dispatch(std::span<const pollfd> ready, Time now) = 0;
  };

  // Sources are prepared and dispatched in the order added: the transport before the timer, so a
  // timer that closes the connection never leaves the transport with stale results.
  void add(Source* source) { sources_.push_back(source); }

  // Waits and dispatches until `done()` is true. False when nothing is left to wait for (no
  // descriptor and no deadline) but `done()` is still false: a caller's bug, not a hang.
  bool runUntil(const std::function<bool()>& done);

 private:
  std::vector<Source*> sources_;
  std::vector<pollfd> watch_;
};

// smtpc::Timer on the loop: fires from the loop's dispatch once its deadline has come.
class MonotonicTimer final : public Timer, public EventLoop::Source {
 public:
  Time now() const override { return monotonicNow(); }
  void schedule(std::optional<Time> deadline) override { deadline_ = deadline; }

  std::optional<Time> prepare(std::vector<pollfd>&) override { return deadline_; }
  void dispatch(std::span<const pollfd>, Time now) override;

 private:
  std::optional<Time> deadline_;
};

}  // namespace smtpc::posix
