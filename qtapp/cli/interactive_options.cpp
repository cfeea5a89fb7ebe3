#include "interactive_options.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <string>

#include "explain_options.h"
#include "password_prompt.h"
#include "smtpc/display.h"
#include "smtpc/form.h"
#include "smtpc/qt/client.h"
#include "smtpc/qt/console.h"

namespace smtpc::cli {

namespace {

void print(const std::string& text) {
  std::printf("%s\n", escapeForTerminal(text).c_str());
  std::fflush(stdout);
}

// Reads standard input inside the Qt loop (a QSocketNotifier on descriptor 0: no read may block
// the connection's own events) and hands the console one line at a time: from a pipe, only once
// the reply to the line before has come, as a person at a terminal would wait for it.
class InteractiveSession {
 public:
  explicit InteractiveSession(qt::QtConsole& console) : console_(console), terminal_(::isatty(STDIN_FILENO) == 1) {
    notifier_ = std::make_unique<QSocketNotifier>(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(notifier_.get(), &QSocketNotifier::activated, notifier_.get(), [this] { readInput(); });
    QObject::connect(&console_, &qt::QtConsole::transcript, notifier_.get(), [](const TranscriptEntry& e) {
      print(std::string(transcriptPrefix(e)) + " " + e.text);
      if (e.kind == TranscriptKind::Server) printAnnotation(e);  // each reply explained beneath it
    });
    QObject::connect(&console_, &qt::QtConsole::warning, notifier_.get(), [this](const ConsoleWarning& w) {
      print("!!! " + w.why);
      if (!w.canSend) return;
      question_ = Question::Confirm;
      std::printf("send it anyway? [y/N] ");
      std::fflush(stdout);
    });
    QObject::connect(&console_, &qt::QtConsole::credentialsRequested, notifier_.get(),
                     [this](const CredentialRequest& request) {
                       print("=== AUTH helper: " + request.why);
                       question_ = Question::User;
                       std::printf("User name: ");
                       std::fflush(stdout);
                     });
    QObject::connect(&console_, &qt::QtConsole::stateChanged, notifier_.get(),
                     [this] { QMetaObject::invokeMethod(notifier_.get(), [this] { feed(); }, Qt::QueuedConnection); });
    QObject::connect(&console_, &qt::QtConsole::finished, notifier_.get(), [](const ConsoleFinished& result) {
      if (result.error.isError()) print("*** " + result.error.explanation());
      else print("=== Connection closed.");
      QCoreApplication::exit(static_cast<int>(exitClassOf(result.error.code())));
    });
  }

 private:
  enum class Question { None, Confirm, User, Password };

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
    feed();
  }

  bool acceptsLine() const {
    const Console* c = console_.console();
    if (!c || c->finished()) return false;
    if (question_ != Question::None) return true;
    const ConsoleState s = c->state();
    return s == ConsoleState::Command || s == ConsoleState::Content || (terminal_ && s == ConsoleState::Waiting);
  }

  // Hands over buffered lines while the console takes them.
  void feed() {
    while (acceptsLine()) {
      const std::size_t newline = buffer_.find('\n');
      if (newline == std::string::npos && !(eof_ && !buffer_.empty())) break;
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline == std::string::npos ? buffer_.size() : newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      take(std::move(line));
    }
    // Input ended with a question open: no answer is a no (and no login), or smtpc would wait forever.
    if (eof_ && buffer_.empty() && question_ != Question::None) {
      const bool credentials = question_ != Question::Confirm;
      question_ = Question::None;
      print(credentials ? "=== Standard input ended: no user name and password." : "=== Standard input ended: not sent.");
      if (credentials) console_.cancelCredentials();
    }
    const Console* c = console_.console();
    if (eof_ && buffer_.empty() && c && !c->finished() && question_ == Question::None && !closing_ &&
        c->state() != ConsoleState::Waiting && c->state() != ConsoleState::Connecting &&
        c->state() != ConsoleState::TlsHandshake) {
      closing_ = true;
      print("=== Standard input ended.");
      console_.closeConnection();
    }
  }

  void take(std::string line) {
    switch (question_) {
      case Question::Confirm: {
        question_ = Question::None;
        if (!terminal_) print(line);
        if (line == "y" || line == "Y" || line == "yes") console_.typeLine(QString::fromStdString(pending_), true);
        else print("=== Not sent.");
        pending_.clear();
        return;
      }
      case Question::User:
        if (!terminal_) print(line);
        user_ = std::move(line);
        if (terminal_ && canPromptForPassword()) {
          PromptedPassword prompted = promptForPassword("Password for " + user_ + ": ");
          question_ = Question::None;
          if (prompted.status != PromptedPassword::Status::Ok) {
            console_.cancelCredentials();
            return;
          }
          console_.provideCredentials(QString::fromStdString(user_), QString::fromUtf8(prompted.password.reveal().data(),
                                                                                      static_cast<int>(prompted.password.reveal().size())));
          return;
        }
        question_ = Question::Password;
        print("Password: (the next line, not shown)");
        return;
      case Question::Password: {
        question_ = Question::None;
        QString password = QString::fromStdString(line);
        std::fill(line.begin(), line.end(), '\0');
        console_.provideCredentials(QString::fromStdString(user_), std::move(password));
        return;
      }
      case Question::None:
        pending_ = line;
        console_.typeLine(QString::fromStdString(line));
        return;
    }
  }

  qt::QtConsole& console_;
  bool terminal_;
  std::unique_ptr<QSocketNotifier> notifier_;
  std::string buffer_;
  bool eof_ = false;
  bool closing_ = false;
  Question question_ = Question::None;
  std::string pending_;  // the line a warning is about
  std::string user_;
};

int usage(const QString& message) {
  std::fprintf(stderr, "smtpc: %s\n", message.toLocal8Bit().constData());
  return static_cast<int>(ExitClass::Usage);
}

}  // namespace

QCommandLineOption addInteractiveOption(QCommandLineParser& parser) {
  QCommandLineOption interactive(
      QStringList{"interactive"},
      "Type the SMTP commands yourself (EHLO, STARTTLS, AUTH PLAIN, MAIL FROM:<..>, RCPT TO:<..>, DATA, QUIT), "
      "one per line on standard input; smtpc sends them as typed, starts TLS after STARTTLS, builds AUTH's base64 "
      "(asking for the user and password), dot-stuffs the message, explains each reply and warns before a command "
      "that cannot work. Uses --server, --port, --security, --ca-file, --insecure, --tls-name, --tls-min, --timeout.");
  parser.addOption(interactive);
  return interactive;
}

int runInteractive(const QCommandLineParser& parser) {
  for (const char* other : {"to", "data-file", "step", "json", "password-stdin", "user", "discover"})
    if (parser.isSet(QString::fromLatin1(other)))
      return usage(QStringLiteral("--interactive: you type the conversation; leave out --%1").arg(QLatin1String(other)));
  QString host = parser.value(QStringLiteral("server"));
  if (host.isEmpty()) return usage(QStringLiteral("--interactive needs --server HOST[:PORT]"));
  if (const auto problem = form::checkServer(host.toStdString()))
    return usage("--server: " + QString::fromStdString(problem->explanation));
  const auto split = form::splitServer(host.toStdString());
  if (!split) return usage("--server: unclosed '[' in " + host);
  int portNumber = split->port;
  host = QString::fromStdString(split->host);
  if (parser.isSet(QStringLiteral("port"))) portNumber = parser.value(QStringLiteral("port")).toInt();
  if (portNumber < 0 || portNumber > 65535) return usage(QStringLiteral("the port must be 1 to 65535"));
  SecurityMode mode = SecurityMode::StartTls;
  if (parser.isSet(QStringLiteral("security"))) {
    auto chosen = securityModeFromName(parser.value(QStringLiteral("security")).toStdString());
    if (!chosen) return usage(QStringLiteral("--security must be none, starttls, starttls-if-offered or tls"));
    mode = *chosen;
  }
  ConsoleParams params;
  params.host = host.trimmed().toStdString();
  params.implicitTls = mode == SecurityMode::ImplicitTls;
  params.port = portNumber ? static_cast<std::uint16_t>(portNumber) : defaultPort(mode);
  QString why;
  if (parser.isSet(QStringLiteral("ca-file"))) {
    auto pem = qt::readFile(parser.value(QStringLiteral("ca-file")), &why);
    if (!pem) return usage("--ca-file: " + why);
    params.tls.caCertificatesPem = *pem;
  }
  params.tls.acceptInvalidCertificate = parser.isSet(QStringLiteral("insecure"));
  params.tls.verifyName = parser.value(QStringLiteral("tls-name")).toStdString();
  if (parser.value(QStringLiteral("tls-min")) == QLatin1String("1.3")) params.tls.minimumVersion = TlsVersion::Tls1_3;
  if (parser.isSet(QStringLiteral("timeout"))) {
    const double seconds = parser.value(QStringLiteral("timeout")).toDouble();
    if (seconds <= 0) return usage(QStringLiteral("--timeout must be a positive number of seconds"));
    params.replyTimeout = Duration(static_cast<std::int64_t>(seconds * 1000));
  }

  qt::QtConsole console;
  InteractiveSession session(console);
  print("=== Type SMTP commands, one per line (EHLO, STARTTLS, AUTH PLAIN, MAIL FROM:<...>, RCPT TO:<...>, DATA, "
        "QUIT). Each reply is explained beneath it.");
  if (Error error = console.connectToServer(std::move(params))) {
    print("*** " + error.explanation());
    return static_cast<int>(exitClassOf(error.code()));
  }
  return QCoreApplication::exec();
}

}  // namespace smtpc::cli
