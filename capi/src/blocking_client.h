// One connection of the C API: smtpc::Client over a PosixTransport and a MonotonicTimer, driven
// by a poll loop of its own in the calling thread until each step is done. No thread of its own,
// no state shared with another connection: any thread may use it, one at a time.
#pragma once

#include <optional>

#include "event_loop.h"
#include "posix_transport.h"
#include "smtpc/client.h"

namespace smtpc::posix {

class BlockingClient {
 public:
  BlockingClient();
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Returns once the session is ready (connected, TLS and AUTH done) or has failed.
  Error connect(ConnectParams params);
  // Returns the message's result.
  MessageResult send(OutgoingMessage message);
  // QUIT after the queued messages; returns the session's first error (a failed message too).
  Error disconnect();
  // connect + send + disconnect.
  Finished sendMail(ConnectParams params, OutgoingMessage message);

  PosixTransport& transport() { return transport_; }

 private:
  void wait(const std::function<bool()>& done);

  EventLoop loop_;
  PosixTransport transport_;
  MonotonicTimer timer_;
  Client client_;
  std::optional<Finished> finished_;
  std::optional<MessageResult> lastResult_;
  bool ready_ = false;
};

}  // namespace smtpc::posix
