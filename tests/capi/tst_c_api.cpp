// The C API (libsmtpc, no Qt): the C program against a sandbox, and what it links; fixed-size
// fields read with a bound; handles used from several threads, and moved between them.
#include <sys/mman.h>
#include <unistd.h>

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sandbox.h"
#include "smtpc/smtp-c.h"

namespace {

// `size` bytes that end where an inaccessible page begins: reading one byte past them faults.
class GuardedBytes {
 public:
  explicit GuardedBytes(std::size_t size) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    length_ = ((size + page - 1) / page + 1) * page;
    base_ = static_cast<char*>(mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED || mprotect(base_ + length_ - page, page, PROT_NONE) != 0) qFatal("no guard page");
    data_ = base_ + length_ - page - size;
  }
  ~GuardedBytes() { munmap(base_, length_); }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  char* data() { return data_; }

 private:
  char* base_ = nullptr;
  char* data_ = nullptr;
  std::size_t length_ = 0;
};

// A message from `from` to one recipient, for SMTPc_SendMail / SMTPc_SendMsg.
struct SimpleMessage {
  SMTPc_MBOX to{};
  SMTPc_MBOX* toArray[1] = {&to};
  SMTPc_MSG msg{};
  explicit SimpleMessage(SMTPc_MBOX* from, const char* subject = "C API test") {
    SMTPc_ERR err;
    SMTPc_SetMbox(&to, "", "rcpt@example.net", &err);
    SMTPc_SetMsg(&msg, &err);
    msg.From = from;
    msg.ToArray = toArray;
    msg.ToCount = 1;
    msg.Subject = subject;
    msg.ContentBodyMsg = "Hello.";
    msg.ContentBodyMsgLen = 6;
  }
};

QByteArray unfoldedHeader(const QByteArray& message, const QByteArray& name) {
  const QByteArray head = message.left(message.indexOf("\r\n\r\n"));
  QByteArray unfolded = head;
  unfolded.replace("\r\n ", " ").replace("\r\n\t", "\t");
  for (const QByteArray& line : unfolded.split('\n'))
    if (line.startsWith(name + ':')) return line.trimmed();
  return {};
}

// Runs `work(t)` in `count` threads (not started by Qt, as a C program's would be) and waits for
// them; a thread that hangs ends the test with a message instead of blocking it forever.
template <typename Work>
void runThreads(int count, Work work) {
  std::atomic<int> done = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t)
    threads.emplace_back([&, t] {
      work(t);
      ++done;
    });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done.load() < count) {
    if (std::chrono::steady_clock::now() > deadline)
      qFatal("%d of %d threads still blocked in the C API after 60 s", count - done.load(), count);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& thread : threads) thread.join();
}

int delivered(const Sandbox& sandbox) {
  return static_cast<int>(QDir(sandbox.maildir()).entryList({QStringLiteral("*.eml")}).size());
}

}  // namespace

class TestCApi : public QObject {
  Q_OBJECT
 private slots:
  void cProgram() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    QProcess program;
    program.start(QStringLiteral(SMTPC_C_PROGRAM), {QString::number(sandbox.port("starttls")),
                                                     QString::number(sandbox.port("tls")), sandbox.caFile()});
    QVERIFY(program.waitForFinished(60000));
    QVERIFY2(program.exitStatus() == QProcess::NormalExit && program.exitCode() == 0,
             program.readAllStandardError().constData());
    // Three messages arrived: two on one connection, one with SendMail.
    const auto files = QDir(sandbox.maildir()).entryList({QStringLiteral("*.eml")});
    QCOMPARE(files.size(), 3);
    QFile first(sandbox.maildir() + QStringLiteral("/1.eml"));
    QVERIFY(first.open(QIODevice::ReadOnly));
    const QByteArray content = first.readAll();
    QVERIFY(content.contains("Subject: From the C API"));
    QVERIFY(content.contains("filename=\"bytes.bin\""));
    QVERIFY(content.contains("AAEC/w=="));  // base64 of 00 01 02 FF
  }

  // The C program links libsmtpc and what it needs (OpenSSL, the C++ runtime), never Qt.
  void cProgramLinksNoQt() {
    QProcess ldd;
    ldd.start(QStringLiteral("ldd"), {QStringLiteral(SMTPC_C_PROGRAM)});
    QVERIFY(ldd.waitForFinished(30000));
    const QString libraries = QString::fromLocal8Bit(ldd.readAllStandardOutput());
    QVERIFY2(libraries.contains(QStringLiteral("libc.so")), qPrintable(libraries));  // ldd did read it
    QVERIFY2(!libraries.contains(QStringLiteral("libQt"), Qt::CaseInsensitive), qPrintable(libraries));
  }

  // A display name that fills NameDisp to its last byte, with no NUL: the name is exactly those
  // 257 bytes, not those plus the Addr field that follows it in memory.
  void unterminatedNameUsesExactlyItsField() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    SMTPc_MBOX from;
    std::memset(from.NameDisp, 'N', sizeof from.NameDisp);
    std::memset(from.Addr, 0, sizeof from.Addr);
    std::strcpy(from.Addr, "bound@example.org");
    SimpleMessage message(&from);
    SMTPc_ERR err = SMTPc_ERR_REP;
    SMTPc_SendMail("127.0.0.1", sandbox.port("plain"), nullptr, nullptr, nullptr, &message.msg, &err);
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    QFile file(sandbox.maildir() + QStringLiteral("/1.eml"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray header = unfoldedHeader(file.readAll(), "From");
    const QByteArray name(sizeof from.NameDisp, 'N');
    QVERIFY2(QRegularExpression(QStringLiteral("(^|[^N])N{%1}([^N]|$)").arg(sizeof from.NameDisp))
                 .match(QString::fromLatin1(header)).hasMatch(),
             header.constData());
    QVERIFY2(!header.contains("Nbound"), header.constData());
    QVERIFY2(header.contains("<bound@example.org>"), header.constData());
  }

  // An address that fills Addr to its last byte: what follows the struct is never read. The
  // explanation quotes the address, so it shows exactly what was read.
  void unterminatedAddressIsNotReadPast() {
    struct {
      SMTPc_MBOX mbox;
      char after[8];
    } memory;
    static_assert(sizeof memory == sizeof(SMTPc_MBOX) + 8, "no padding between the mailbox and what follows");
    std::memset(memory.mbox.NameDisp, 0, sizeof memory.mbox.NameDisp);
    std::memset(memory.mbox.Addr, 'a', sizeof memory.mbox.Addr);
    std::strcpy(memory.after, "AFTER");
    SimpleMessage message(&memory.mbox);
    SMTPc_ERR err = SMTPc_ERR_NONE;
    // Refused before any connection: the address has no '@'.
    SMTPc_SendMail("127.0.0.1", ServerProcess::closedPort(), nullptr, nullptr, nullptr, &message.msg, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
    const QString explanation = QString::fromUtf8(SMTPc_ErrExplanation());
    QVERIFY2(explanation.contains(u'"' + QString(sizeof memory.mbox.Addr, u'a') + u'"'), qPrintable(explanation));
    QVERIFY2(!explanation.contains(QStringLiteral("AFTER")), qPrintable(explanation));

    // The same at the very end of readable memory: one byte too far would crash.
    GuardedBytes guarded(sizeof(SMTPc_MBOX));
    auto* last = reinterpret_cast<SMTPc_MBOX*>(guarded.data());
    std::memset(last->NameDisp, 'N', sizeof last->NameDisp);
    std::memset(last->Addr, 'a', sizeof last->Addr);
    SimpleMessage atTheEdge(last);
    SMTPc_SendMail("127.0.0.1", ServerProcess::closedPort(), nullptr, nullptr, nullptr, &atTheEdge.msg, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
  }

  // SMTPc_SetMbox reads its arguments no further than one byte past what fits.
  void setMboxReadsArgumentsWithABound() {
    GuardedBytes name(SMTPc_MBOX_NAME_SIZE + 1);
    GuardedBytes address(SMTPc_MBOX_ADDR_SIZE + 1);
    std::memset(name.data(), 'n', SMTPc_MBOX_NAME_SIZE + 1);
    std::memset(address.data(), 'a', SMTPc_MBOX_ADDR_SIZE + 1);
    SMTPc_MBOX mbox;
    SMTPc_ERR err = SMTPc_ERR_NONE;
    SMTPc_SetMbox(&mbox, "", address.data(), &err);
    QCOMPARE(err, SMTPc_ERR_STR_TOO_LONG);
    err = SMTPc_ERR_NONE;
    SMTPc_SetMbox(&mbox, name.data(), "ok@example.org", &err);
    QCOMPARE(err, SMTPc_ERR_STR_TOO_LONG);
  }

  // Several threads, each with its own handle, send at the same time.
  void threadsWithTheirOwnHandles() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    const std::uint16_t port = sandbox.port("plain");
    constexpr int kThreads = 4;
    constexpr int kMessages = 3;
    std::atomic<int> failures = 0;
    std::vector<std::string> problems(kThreads);
    runThreads(kThreads, [&](int t) {
        SMTPc_ERR err;
        SMTPc_MBOX from;
        SMTPc_SetMbox(&from, "Thread", ("thread" + std::to_string(t) + "@example.org").c_str(), &err);
        SimpleMessage message(&from);
        const int handle = SMTPc_Connect("127.0.0.1", port, nullptr, nullptr, nullptr, &err);
        if (handle < 0 || err != SMTPc_ERR_NONE) {
          problems[t] = std::string("connect: ") + SMTPc_ErrExplanation();
          ++failures;
          return;
        }
        for (int m = 0; m < kMessages; ++m) {
          SMTPc_SendMsg(handle, &message.msg, &err);
          if (err != SMTPc_ERR_NONE) {
            problems[t] = std::string("send: ") + SMTPc_ErrExplanation();
            ++failures;
          }
        }
        SMTPc_Disconnect(handle, &err);
        if (err != SMTPc_ERR_NONE) {
          problems[t] = std::string("disconnect: ") + SMTPc_ErrExplanation();
          ++failures;
        }
    });
    for (const auto& problem : problems) QVERIFY2(problem.empty(), problem.c_str());
    QCOMPARE(failures.load(), 0);
    QCOMPARE(delivered(sandbox), kThreads * kMessages);
    int fromThread[kThreads] = {};
    for (const QString& name : QDir(sandbox.maildir()).entryList({QStringLiteral("*.json")})) {
      QFile record(sandbox.maildir() + u'/' + name);
      QVERIFY(record.open(QIODevice::ReadOnly));
      const QString sender = QJsonDocument::fromJson(record.readAll()).object().value(QStringLiteral("from")).toString();
      const int t = sender.mid(6, 1).toInt();
      QVERIFY2(sender == QStringLiteral("thread%1@example.org").arg(t), qPrintable(sender));
      ++fromThread[t];
    }
    for (int t = 0; t < kThreads; ++t) QCOMPARE(fromThread[t], kMessages);
  }

  // Handles opened and closed from many threads at once: every open handle is distinct, every
  // close finds its own handle.
  void concurrentOpenAndClose() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    const std::uint16_t port = sandbox.port("plain");
    constexpr int kThreads = 6;
    constexpr int kRounds = 15;
    std::atomic<int> failures = 0;
    std::mutex seenMutex;
    std::set<int> open;
    std::string firstProblem;
    runThreads(kThreads, [&](int) {
        for (int r = 0; r < kRounds; ++r) {
          SMTPc_ERR err;
          const int handle = SMTPc_Connect("127.0.0.1", port, nullptr, nullptr, nullptr, &err);
          bool duplicate = false;
          {
            std::lock_guard lock(seenMutex);
            duplicate = handle >= 0 && !open.insert(handle).second;
          }
          if (handle < 0 || err != SMTPc_ERR_NONE || duplicate) {
            std::lock_guard lock(seenMutex);
            if (firstProblem.empty())
              firstProblem = duplicate ? "handle " + std::to_string(handle) + " given twice" : SMTPc_ErrExplanation();
            ++failures;
            continue;
          }
          {
            std::lock_guard lock(seenMutex);
            open.erase(handle);
          }
          SMTPc_Disconnect(handle, &err);
          if (err != SMTPc_ERR_NONE) {
            std::lock_guard lock(seenMutex);
            if (firstProblem.empty()) firstProblem = std::string("disconnect: ") + SMTPc_ErrExplanation();
            ++failures;
          }
        }
    });
    QVERIFY2(failures.load() == 0, firstProblem.c_str());
  }

  // A handle is not tied to a thread: opened in one, used in a second, closed in a third.
  void handleMovesBetweenThreads() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    SMTPc_ERR err;
    SMTPc_MBOX from;
    SMTPc_SetMbox(&from, "", "mover@example.org", &err);
    SimpleMessage message(&from);
    int handle = -1;
    std::string problem;
    runThreads(1, [&](int) {
      handle = SMTPc_Connect("127.0.0.1", sandbox.port("plain"), nullptr, nullptr, nullptr, &err);
      if (handle < 0) problem = std::string("connect: ") + SMTPc_ErrExplanation();
    });
    QVERIFY2(handle >= 0, problem.c_str());
    SMTPc_ERR sendErr = SMTPc_ERR_REP;
    runThreads(1, [&](int) {
      SMTPc_SendMsg(handle, &message.msg, &sendErr);
      if (sendErr != SMTPc_ERR_NONE) problem = std::string("send: ") + SMTPc_ErrExplanation();
    });
    QVERIFY2(sendErr == SMTPc_ERR_NONE, problem.c_str());
    SMTPc_ERR closeErr = SMTPc_ERR_REP;
    runThreads(1, [&](int) { SMTPc_Disconnect(handle, &closeErr); });
    QCOMPARE(closeErr, SMTPc_ERR_NONE);
    SMTPc_Disconnect(handle, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_HANDLE);
    QCOMPARE(delivered(sandbox), 1);
  }

  // Two threads on one handle at once: the second waits for the first (one call at a time per
  // handle), so every message goes through on the one connection.
  void callsOnOneHandleTakeTurns() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    SMTPc_ERR err;
    const int handle = SMTPc_Connect("127.0.0.1", sandbox.port("plain"), nullptr, nullptr, nullptr, &err);
    QVERIFY2(handle >= 0, SMTPc_ErrExplanation());
    constexpr int kThreads = 3;
    constexpr int kMessages = 4;
    std::vector<std::string> problems(kThreads);
    runThreads(kThreads, [&](int t) {
      SMTPc_ERR sendErr;
      SMTPc_MBOX from;
      SMTPc_SetMbox(&from, "", ("turn" + std::to_string(t) + "@example.org").c_str(), &sendErr);
      SimpleMessage message(&from);
      for (int m = 0; m < kMessages; ++m) {
        SMTPc_SendMsg(handle, &message.msg, &sendErr);
        if (sendErr != SMTPc_ERR_NONE) problems[t] = SMTPc_ErrExplanation();
      }
    });
    for (const auto& problem : problems) QVERIFY2(problem.empty(), problem.c_str());
    SMTPc_Disconnect(handle, &err);
    QCOMPARE(err, SMTPc_ERR_NONE);
    QCOMPARE(delivered(sandbox), kThreads * kMessages);
  }

  // SMTPc_Disconnect from another thread while messages are being sent: it waits for the send
  // under way; later sends find the handle closed. Every send either went through or was told so.
  void disconnectWhileAnotherThreadSends() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    SMTPc_ERR err;
    SMTPc_MBOX from;
    SMTPc_SetMbox(&from, "", "sender@example.org", &err);
    SimpleMessage message(&from);
    const int handle = SMTPc_Connect("127.0.0.1", sandbox.port("plain"), nullptr, nullptr, nullptr, &err);
    QVERIFY2(handle >= 0, SMTPc_ErrExplanation());
    std::atomic<int> sent = 0;
    std::atomic<bool> started = false;
    std::string unexpected;
    SMTPc_ERR closeErr = SMTPc_ERR_REP;
    runThreads(2, [&](int t) {
      if (t == 0) {
        for (int m = 0; m < 50; ++m) {
          SMTPc_ERR sendErr;
          SMTPc_SendMsg(handle, &message.msg, &sendErr);
          started = true;
          if (sendErr == SMTPc_ERR_NONE) ++sent;
          else if (sendErr != SMTPc_ERR_INVALID_HANDLE) unexpected = SMTPc_ErrExplanation();
        }
      } else {
        while (!started) std::this_thread::yield();
        SMTPc_Disconnect(handle, &closeErr);
      }
    });
    QVERIFY2(unexpected.empty(), unexpected.c_str());
    QCOMPARE(closeErr, SMTPc_ERR_NONE);
    QVERIFY(sent.load() >= 1);
    QCOMPARE(delivered(sandbox), sent.load());
  }

  // Delivery reports (DSN, RFC 3461) through SMTPc_SendMsgDsn: SMTPc_MSG keeps its layout (old
  // programs run unchanged); the request is its own struct, versioned by StructSize. The sandbox
  // does not offer DSN: refused before MAIL (nothing delivered, the handle still usable), or sent
  // without the parameters when SendWithoutIfNotOffered says so. Bad values are refused locally.
  void deliveryReportsRequest() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    SMTPc_ERR err;
    SMTPc_SetDsn(nullptr, &err);
    QCOMPARE(err, SMTPc_ERR_NULL_PTR);
    SMTPc_MBOX from;
    SMTPc_SetMbox(&from, "", "dsn@example.org", &err);
    SimpleMessage message(&from);
    const int handle = SMTPc_Connect("127.0.0.1", sandbox.port("plain"), nullptr, nullptr, nullptr, &err);
    QCOMPARE(err, SMTPc_ERR_NONE);

    SMTPc_DSN dsn;
    std::memset(&dsn, 0, sizeof dsn);  // StructSize 0: not filled by SMTPc_SetDsn
    dsn.Notify = SMTPc_DSN_NOTIFY_SUCCESS;
    SMTPc_SendMsgDsn(handle, &message.msg, &dsn, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);

    SMTPc_SetDsn(&dsn, &err);
    QCOMPARE(err, SMTPc_ERR_NONE);
    QCOMPARE(dsn.StructSize, sizeof dsn);
    dsn.Notify = SMTPc_DSN_NOTIFY_NEVER | SMTPc_DSN_NOTIFY_SUCCESS;
    SMTPc_SendMsgDsn(handle, &message.msg, &dsn, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
    QVERIFY2(std::strstr(SMTPc_ErrExplanation(), "never"), SMTPc_ErrExplanation());
    dsn.Notify = SMTPc_DSN_NOTIFY_SUCCESS | SMTPc_DSN_NOTIFY_FAILURE;
    const std::string longId(101, 'x');
    dsn.EnvId = longId.c_str();
    SMTPc_SendMsgDsn(handle, &message.msg, &dsn, &err);
    QCOMPARE(err, SMTPc_ERR_INVALID_ARG);
    dsn.EnvId = "c-api 1";
    dsn.Ret = SMTPc_DSN_RET_HDRS;

    SMTPc_SendMsgDsn(handle, &message.msg, &dsn, &err);
    QCOMPARE(err, SMTPc_ERR_MSG_REJECTED);
    QVERIFY2(std::strstr(SMTPc_ErrExplanation(), "does not offer DSN (RFC 3461)"), SMTPc_ErrExplanation());
    QCOMPARE(delivered(sandbox), 0);

    dsn.SendWithoutIfNotOffered = 1;
    SMTPc_SendMsgDsn(handle, &message.msg, &dsn, &err);
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    SMTPc_SendMsgDsn(handle, &message.msg, nullptr, &err);  // NULL: as SMTPc_SendMsg
    QVERIFY2(err == SMTPc_ERR_NONE, SMTPc_ErrExplanation());
    SMTPc_Disconnect(handle, &err);
    QCOMPARE(delivered(sandbox), 2);
    QFile envelope(sandbox.maildir() + QStringLiteral("/1.json"));
    QVERIFY(envelope.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(envelope.readAll()).object();
    QVERIFY2(!QJsonDocument(json).toJson().contains("RET="), QJsonDocument(json).toJson().constData());
  }
};

QTEST_GUILESS_MAIN(TestCApi)
#include "tst_c_api.moc"
