// smtpc's password prompt on a real pseudo-terminal, as a person meets it: the prompt shows, echo
// is off while it waits, the typed password logs in to the sandbox and never shows, and the
// terminal is as it was afterwards, also after Ctrl-C.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <QTest>
#include <csignal>
#include <cstdlib>
#include <vector>

#include "sandbox.h"

namespace {

// smtpc in a session of its own whose controlling terminal is a new pseudo-terminal; the test
// types on the master side and keeps the slave side open to read the terminal's settings.
class TerminalRun {
 public:
  explicit TerminalRun(const QStringList& arguments) {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) return;
    const QByteArray name = ptsname(master_);
    slave_ = ::open(name.constData(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    std::vector<QByteArray> args{QByteArrayLiteral(SMTPC_CLI)};
    for (const QString& a : arguments) args.push_back(a.toLocal8Bit());
    std::vector<char*> argv;
    for (QByteArray& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // A session leader that opens a terminal without O_NOCTTY gets it as its controlling one.
      ::setsid();
      const int tty = ::open(name.constData(), O_RDWR);
      ::dup2(tty, 0);
      ::dup2(tty, 1);
      ::dup2(tty, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~TerminalRun() {
    if (pid_ > 0 && status_ == kRunning) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
  }
  TerminalRun(const TerminalRun&) = delete;
  TerminalRun& operator=(const TerminalRun&) = delete;

  bool started() const { return pid_ > 0 && slave_ >= 0; }
  const QByteArray& output() const { return output_; }

  // Reads what smtpc writes until `text` has appeared (true) or the time is up.
  bool waitFor(const QByteArray& text, int milliseconds = 20000) {
    for (int waited = 0; !output_.contains(text) && waited < milliseconds; waited += 50) read(50);
    return output_.contains(text);
  }
  void type(const QByteArray& keys) { QCOMPARE(::write(master_, keys.constData(), keys.size()), keys.size()); }
  bool echoIsOn() const {
    struct termios settings;
    return tcgetattr(slave_, &settings) == 0 && (settings.c_lflag & ECHO);
  }
  // The exit status, after reading everything smtpc wrote; kRunning if it did not end in time.
  int finish(int milliseconds = 60000) {
    for (int waited = 0; status_ == kRunning && waited < milliseconds; waited += 50) {
      read(50);
      int raw = 0;
      if (::waitpid(pid_, &raw, WNOHANG) == pid_) status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    }
    while (read(0)) {
    }
    return status_;
  }

  static constexpr int kRunning = -1;

 private:
  bool read(int milliseconds) {
    struct pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, milliseconds) <= 0 || !(p.revents & POLLIN)) return false;
    char buffer[4096];
    const ssize_t n = ::read(master_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<qsizetype>(n));
    return true;
  }

  int master_ = -1, slave_ = -1;
  pid_t pid_ = -1;
  int status_ = kRunning;
  QByteArray output_;
};

}  // namespace

class TestCliPrompt : public QObject {
  Q_OBJECT
  std::unique_ptr<Sandbox> sandbox_;

  QStringList login() const {
    return {"-s", QStringLiteral("127.0.0.1:%1").arg(sandbox_->port("starttls")), "--ca-file", sandbox_->caFile(), "-u",
            "demo", "--quit-after", "auth"};
  }

 private slots:
  void initTestCase() {
    sandbox_ = std::make_unique<Sandbox>(QStringList{"--user", "demo:Typed-Pw-42"});
    QVERIFY2(sandbox_->ok(), qPrintable(sandbox_->error()));
  }

  void typedPasswordLogsIn() {
    TerminalRun run(login());
    QVERIFY(run.started());
    QVERIFY2(run.waitFor("Password for demo@127.0.0.1: "), run.output().constData());
    QVERIFY(!run.echoIsOn());
    run.type("Typed-Pw-42\r");  // Enter, as a terminal sends it
    QCOMPARE(run.finish(), 0);
    QVERIFY2(run.output().contains("<~  235"), run.output().constData());
    QVERIFY2(!run.output().contains("Typed-Pw-42"), run.output().constData());  // never echoed, never printed
    QVERIFY(run.echoIsOn());
  }

  void wrongPasswordIsALoginFailure() {
    TerminalRun run(login());
    QVERIFY(run.waitFor("Password for demo@127.0.0.1: "));
    run.type("not-it\r");
    QCOMPARE(run.finish(), 4);
    QVERIFY(!run.output().contains("not-it"));
    QVERIFY(run.echoIsOn());
  }

  void ctrlCAtThePromptRestoresTheTerminal() {
    TerminalRun run(login());
    QVERIFY(run.waitFor("Password for demo@127.0.0.1: "));
    QVERIFY(!run.echoIsOn());
    run.type("half");
    run.type("\x03");  // Ctrl-C: SIGINT from the terminal
    QCOMPARE(run.finish(), 7);
    QVERIFY2(run.output().contains("cancelled at the password prompt"), run.output().constData());
    QVERIFY(!run.output().contains("half"));
    QVERIFY(run.echoIsOn());
  }

  void endOfInputAtThePrompt() {
    TerminalRun run(login());
    QVERIFY(run.waitFor("Password for demo@127.0.0.1: "));
    run.type("\x04");  // Ctrl-D on an empty line
    QCOMPARE(run.finish(), 1);
    QVERIFY2(run.output().contains("no password was typed"), run.output().constData());
    QVERIFY(run.echoIsOn());
  }
};

QTEST_GUILESS_MAIN(TestCliPrompt)
#include "tst_cli_prompt.moc"
