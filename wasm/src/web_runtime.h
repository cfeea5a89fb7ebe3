// What the page's connections share (bindings.cpp, discovery_binding.cpp): the browser's clock
// as smtpc::Timer, and the page's trusted roots (its CA bundle, setCaBundle()).
#pragma once

#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "smtpc/transport.h"
#include "smtpc/tls/engine.h"

namespace smtpc::web {

// The trusted roots every WebSocketTransport of the page uses; set by setCaBundle().
std::shared_ptr<const tls::TrustedRoots>& trustedRoots();

// The page's clock: performance.now() in milliseconds, as every flow and client of the page reads it.
inline Time browserNow() { return Time(static_cast<std::int64_t>(emscripten_get_now())); }

class WebTimer final : public Timer {
 public:
  ~WebTimer() override { schedule(std::nullopt); }
  Time now() const override { return browserNow(); }
  void schedule(std::optional<Time> deadline) override {
    if (id_) emscripten_clear_timeout(id_);
    id_ = 0;
    if (!deadline) return;
    const double delay = std::max<double>(0, static_cast<double>((*deadline - now()).count()));
    id_ = emscripten_set_timeout(&WebTimer::fire, delay, this);
  }

 private:
  static void fire(void* self) {
    auto* t = static_cast<WebTimer*>(self);
    t->id_ = 0;
    if (t->handler_) t->handler_->onTimerFired();
  }
  long id_ = 0;
};

}  // namespace smtpc::web
