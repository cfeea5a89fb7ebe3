#include "step_options.h"

#include <QSocketNotifier>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "smtpc/display.h"

namespace smtpc::cli {

// Answers the client's pauses from standard input. The Qt loop keeps running while it waits
// (a QSocketNotifier on descriptor 0, as no read may block the connection's own events); lines
// that came early (a pipe delivers them all at once) wait in buffer_ for their pause.
class StepPrompt {
 public:
  StepPrompt(qt::QtClient& client, bool toStandardError)
      : client_(client), out_(toStandardError ? stderr : stdout), terminal_(::isatty(STDIN_FILENO) == 1) {
    notifier_ = std::make_unique<QSocketNotifier>(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(notifier_.get(), &QSocketNotifier::activated, notifier_.get(), [this] { readInput(); });
    QObject::connect(&client_, &qt::QtClient::paused, notifier_.get(), [this](const Pause& pause) { onPause(pause); });
    // The session is over: nothing more to answer (a `q` or an error while a line was awaited).
    QObject::connect(&client_, &qt::QtClient::finished, notifier_.get(), [this] {
      waiting_ = false;
      notifier_->setEnabled(false);
    });
    client_.setStepMode(true);
  }

 private:
  void print(const std::string& text) { std::fprintf(out_, "%s\n", escapeForTerminal(text).c_str()); }

  void onPause(const Pause& pause) {
    if (!pause.note.empty()) print("=== " + pause.note);
    if (pause.where == PausePoint::AfterReply) {
      // The reply is in the transcript already; say what it means and go on to the next command,
      // after this signal returns (the engine is still handing out its events).
      print("    ^ " + pause.why);
      QMetaObject::invokeMethod(&client_, &qt::QtClient::next, Qt::QueuedConnection);
      return;
    }
    std::string step = pause.step ? " (" + std::string(stepLabel(*pause.step)) + ")" : std::string();
    print("--- Next" + step + ": " + pause.command);
    print("    Why: " + pause.why);
    if (!pause.replies.empty()) print("    The server may answer:");
    for (const ExpectedReply& reply : pause.replies) print("      " + std::to_string(reply.code) + "  " + reply.meaning);
    if (!patienceTold_) print("    While paused: " + pause.patience);
    patienceTold_ = true;
    std::fprintf(out_, "[Enter] send it, c: on to the next step, r: run to the end, q: quit%s\n",
                 terminal_ ? "" : " (reading a line from standard input)");
    std::fflush(out_);
    waiting_ = true;
    QMetaObject::invokeMethod(notifier_.get(), [this] { answer(); }, Qt::QueuedConnection);
  }

  void readInput() {
    char chunk[4096];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      eof_ = true;
      notifier_->setEnabled(false);
    } else {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    answer();
  }

  // Takes the next line, if one is there, as the answer to the pause waiting for one.
  void answer() {
    while (waiting_) {
      const std::size_t newline = buffer_.find('\n');
      if (newline == std::string::npos && !eof_) return;  // more to come
      if (newline == std::string::npos && buffer_.empty()) {
        waiting_ = false;
        print("=== Standard input ended: running to the end.");
        client_.runToEnd();
        return;
      }
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline == std::string::npos ? buffer_.size() : newline + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.erase(0, 1);
      waiting_ = line != "" && line != "c" && line != "r" && line != "q";
      if (waiting_) {
        print("    (\"" + line + "\"? Enter, c, r or q)");
        continue;
      }
      if (line.empty()) client_.next();
      else if (line == "c") client_.continueToNextStep();
      else if (line == "r") client_.runToEnd();
      else client_.cancel();
      return;
    }
  }

  qt::QtClient& client_;
  std::FILE* out_;
  bool terminal_;
  std::unique_ptr<QSocketNotifier> notifier_;
  std::string buffer_;
  bool eof_ = false;
  bool waiting_ = false;
  bool patienceTold_ = false;  // once is enough
};

QCommandLineOption addStepOption(QCommandLineParser& parser) {
  QCommandLineOption step(QStringList{"step"},
                          "Step through the conversation: before each command, print it, why it is sent and the "
                          "replies that may come, and wait for Enter (c: on to the next step, r: run to the end, "
                          "q: quit). Reads one line per step from standard input when it is not a terminal.");
  parser.addOption(step);
  return step;
}

QString stepConflict(bool passwordFromStandardInput, bool dataFromStandardInput) {
  if (passwordFromStandardInput)
    return QStringLiteral("--step reads its answers from standard input, as --password-stdin does: give the password "
                          "another way");
  if (dataFromStandardInput)
    return QStringLiteral("--step reads its answers from standard input, as --data - does: give the message as a file");
  return {};
}

std::shared_ptr<StepPrompt> stepThrough(qt::QtClient& client, bool toStandardError) {
  return std::make_shared<StepPrompt>(client, toStandardError);
}

}  // namespace smtpc::cli
