// The SMTP engine over a transport of your own: a blocking TCP socket and a poll() loop.
//
// smtpc::Session does no I/O. It says what to do (connect, write these bytes, start TLS, close)
// and is told what happened (connected, bytes arrived, the connection closed, time passed). This
// program is the whole driver: about sixty lines between the engine and the operating system.
// It has no TLS (a real driver would hand StartTlsAction to a TLS library), so it talks to a
// server without it, on a test port:
//
//   blocking_socket HOST PORT FROM TO        e.g. blocking_socket 127.0.0.1 2525 me@example.org you@example.net
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <smtpc/message.h>
#include <smtpc/session.h>

namespace {

smtpc::Time now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch());
}

// A blocking connect to the first address that answers: -1 if none does.
int connectTo(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

bool sendAll(int fd, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s HOST PORT FROM TO\n", argv[0]);
    return 2;
  }
  smtpc::ConnectParams params;
  params.host = argv[1];
  params.port = static_cast<std::uint16_t>(std::stoi(argv[2]));
  params.security = smtpc::SecurityMode::None;  // this driver cannot start TLS

  smtpc::Message message;
  auto from = smtpc::Mailbox::create("", argv[3]);
  auto to = smtpc::Mailbox::create("", argv[4]);
  if (!from || !to) {
    std::fprintf(stderr, "%s\n", (!from ? from : to).error().toString().c_str());
    return 2;
  }
  message.from = *from;
  message.to.push_back(*to);
  message.subject = "Hello from the engine";
  message.text = "Sent by examples/engine/blocking_socket.cpp: smtpc::Session over a socket of its own.\n";
  auto outgoing = message.toOutgoing(smtpc::DateTime{static_cast<std::int64_t>(std::time(nullptr)), 0});
  if (!outgoing) {
    std::fprintf(stderr, "%s\n", outgoing.error().toString().c_str());
    return 2;
  }

  smtpc::Session session(params);
  if (smtpc::Error error = session.start(now())) return std::fprintf(stderr, "%s\n", error.toString().c_str()), 1;
  (void)session.send(now(), std::move(*outgoing));
  session.quit(now());

  int fd = -1;
  int status = 1;
  bool done = false;  // the engine said Finished: its last event
  while (!done) {
    // 1. Do everything the engine asks for.
    while (auto output = session.poll()) {
      if (auto* connect = std::get_if<smtpc::ConnectAction>(&*output)) {
        fd = connectTo(connect->host, connect->port);
        if (fd < 0) session.onClosed(now(), smtpc::Error(smtpc::ErrorCode::ConnectFailed, "Cannot connect."));
        else session.onConnected(now(), smtpc::ConnectionInfo{"127.0.0.1", connect->host});
      } else if (auto* write = std::get_if<smtpc::WriteAction>(&*output)) {
        if (sendAll(fd, write->bytes)) session.onBytesFlushed(now(), write->bytes.size());
        else session.onClosed(now(), smtpc::Error(smtpc::ErrorCode::ConnectionLost, "The connection broke."));
      } else if (std::holds_alternative<smtpc::StartTlsAction>(*output)) {
        session.onTlsFailed(now(), smtpc::Error(smtpc::ErrorCode::TlsHandshakeFailed, "This example has no TLS."));
      } else if (std::holds_alternative<smtpc::CloseAction>(*output)) {
        if (fd >= 0) close(fd);
        fd = -1;
        session.onClosed(now());
      } else if (auto* event = std::get_if<smtpc::Event>(&*output)) {
        // 2. Show what happened: the transcript, and the outcome.
        if (auto* line = std::get_if<smtpc::TranscriptEntry>(event))
          std::printf("%s %s\n", std::string(smtpc::transcriptPrefix(*line)).c_str(), line->text.c_str());
        else if (auto* result = std::get_if<smtpc::MessageResult>(event))
          std::printf("message %s\n", result->error ? result->error.toString().c_str() : "accepted");
        else if (auto* finished = std::get_if<smtpc::Finished>(event)) {
          if (finished->error) std::printf("%s\n", finished->error.toString().c_str());
          status = finished->error ? 1 : 0;
          done = true;
        }
      }
    }
    if (done) break;
    if (fd < 0) return std::fprintf(stderr, "The engine waits, but there is no connection.\n"), 1;
    // 3. Wait for the server or for the engine's next deadline, whichever comes first.
    const auto deadline = session.nextDeadline();
    const int wait = deadline ? static_cast<int>(std::max<std::int64_t>(0, (*deadline - now()).count())) : -1;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, wait);
    if (ready == 0) {
      session.onTimeout(now());
    } else if (ready > 0) {
      char buffer[16384];
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) session.receive(now(), std::string_view(buffer, static_cast<std::size_t>(n)));
      else session.onClosed(now(), n == 0 ? smtpc::Error() : smtpc::Error(smtpc::ErrorCode::ConnectionLost, "recv failed."));
    }
  }
  if (fd >= 0) close(fd);
  return status;
}
