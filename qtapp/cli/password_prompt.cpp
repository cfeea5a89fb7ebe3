// The prompt reads the terminal itself (not std::cin): echo is a setting of the terminal, and the
// settings must be put back by a signal handler, which may only call async-signal-safe functions
// (tcsetattr and write are; iostreams are not).
#include "password_prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

namespace smtpc::cli {

namespace {

// What the handler needs, set before echo goes off.
int gTerminal = -1;
struct termios gSaved;
volatile sig_atomic_t gEchoOff = 0;
volatile sig_atomic_t gSignal = 0;

void restoreTerminal() {
  if (!gEchoOff) return;
  tcsetattr(gTerminal, TCSANOW, &gSaved);
  gEchoOff = 0;
}

void onSignal(int signal) {
  restoreTerminal();
  gSignal = signal;
}

constexpr int kCancelSignals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM};

// Installs the handler for the prompt's duration, and puts the previous handlers back when done.
class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the read returns EINTR, and the prompt ends
    for (std::size_t i = 0; i < std::size(kCancelSignals); ++i) sigaction(kCancelSignals[i], &action, &previous_[i]);
    struct sigaction ignore;
    std::memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGTSTP, &ignore, &previousStop_);
  }
  ~SignalGuard() {
    for (std::size_t i = 0; i < std::size(kCancelSignals); ++i) sigaction(kCancelSignals[i], &previous_[i], nullptr);
    sigaction(SIGTSTP, &previousStop_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction previous_[std::size(kCancelSignals)];
  struct sigaction previousStop_;
};

void writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// A password longer than this is a paste gone wrong, not a password.
constexpr std::size_t kMaxPassword = 4096;

}  // namespace

bool canPromptForPassword() { return isatty(STDIN_FILENO) == 1; }

PromptedPassword promptForPassword(const std::string& prompt) {
  PromptedPassword result;
  // The terminal itself, as ssh and sudo ask: standard error may be redirected to a log.
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  const int in = tty >= 0 ? tty : STDIN_FILENO;
  const int out = tty >= 0 ? tty : STDERR_FILENO;
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{tty};

  struct termios quiet;
  if (tcgetattr(in, &gSaved) != 0) {
    result.why = std::string("the terminal's settings cannot be read: ") + std::strerror(errno);
    return result;
  }
  quiet = gSaved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
  gTerminal = in;
  gSignal = 0;
  SignalGuard guard;
  // Echo off before the prompt shows, so that nothing typed after it is echoed; TCSAFLUSH: what was
  // typed before (with echo on) is not taken as the password.
  gEchoOff = 1;
  if (tcsetattr(in, TCSAFLUSH, &quiet) != 0) {
    gEchoOff = 0;
    result.why = std::string("echo cannot be switched off: ") + std::strerror(errno);
    return result;
  }
  writeAll(out, prompt);

  std::string line;
  line.reserve(kMaxPassword);  // never reallocated: no stray copies of a part of it left in freed memory
  bool ended = false;
  while (!gSignal && !ended) {
    char c = 0;
    const ssize_t n = ::read(in, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of input (Ctrl-D at the start of the line) or a read error
    if (c == '\n' || c == '\r') ended = true;
    else if (line.size() < kMaxPassword) line += c;
  }
  restoreTerminal();
  writeAll(out, "\n");  // the Enter that was not echoed

  if (gSignal) {
    result.status = PromptedPassword::Status::Cancelled;
  } else if (!ended) {
    result.why = "no password was typed (end of input)";
  } else {
    result.status = PromptedPassword::Status::Ok;
    result.password = Secret(std::move(line));
  }
  // Whatever was read and not kept.
  std::fill(line.begin(), line.end(), '\0');
  return result;
}

}  // namespace smtpc::cli
