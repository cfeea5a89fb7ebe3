// CHUNKING (BDAT, RFC 3030) against the tests' private Postfix, which offers it by default: a
// 50 MB message goes in BDAT chunks and is delivered byte for byte (the keep.test pipe transport
// stores it); a message larger than Postfix's limit, of a size not declared, is refused at a
// chunk that the error names, and RSET lets the next message through; --no-chunking's option
// (ConnectParams::useChunking) sends with DATA.
#include <QFile>
#include <QTest>

#include "sandbox.h"
#include "session_run.h"
#include "smtpc/message.h"
#include "smtpc/qt/client.h"

using namespace smtpc;

namespace {

constexpr std::uint64_t kLimit = 60'000'000;  // Postfix's message_size_limit here

// What the pipe transport kept, without the Received: header Postfix added, with CRLF line ends
// again (Postfix stores lines; pipe writes LF).
std::string kept(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QByteArray data = f.readAll();
  while (data.startsWith("Received:")) {
    do {
      data.remove(0, data.indexOf('\n') + 1);
    } while (data.startsWith(' ') || data.startsWith('\t'));
  }
  data.replace("\n", "\r\n");
  return data.toStdString();
}

std::string header(const std::string& to, const std::string& subject) {
  return "From: a@example.org\r\nTo: " + to + "\r\nSubject: " + subject +
         "\r\nDate: Wed, 2 Dec 2026 12:00:00 +0000\r\nMessage-ID: <" + subject + "@example.org>\r\n\r\n";
}

// A text message of `size` octets made as it is read, whose size is not said in advance: no SIZE=
// on MAIL, so Postfix learns it is too large only while the chunks come.
class UnsizedBody final : public BodySource {
 public:
  explicit UnsizedBody(std::uint64_t size) : size_(size), header_(header("big@keep.test", "unsized")) {}
  Error prepare(const Capabilities&) override {
    position_ = 0;
    return {};
  }
  std::optional<std::uint64_t> size() const override { return std::nullopt; }
  bool isEightBit() const override { return false; }
  Result<std::size_t> read(std::span<char> buffer) override {
    static const std::string line = std::string(78, 'x') + "\r\n";
    std::size_t n = 0;
    for (; n < buffer.size() && position_ < size_; ++n, ++position_)
      buffer[n] = position_ < header_.size() ? header_[position_] : line[(position_ - header_.size()) % line.size()];
    return n;
  }

 private:
  std::uint64_t size_;
  std::uint64_t position_ = 0;
  std::string header_;
};

OutgoingMessage outgoing(const std::string& to, std::shared_ptr<BodySource> body) {
  Envelope envelope;
  envelope.from = "a@example.org";
  envelope.recipients = {to};
  return OutgoingMessage{std::move(envelope), std::move(body)};
}

}  // namespace

class TestPostfixChunking : public QObject {
  Q_OBJECT
  std::unique_ptr<PostfixServer> postfix_;

  ConnectParams params() const {
    ConnectParams p;
    p.host = "127.0.0.1";
    p.port = static_cast<std::uint16_t>(postfix_->value("port").toInt());
    p.security = SecurityMode::None;  // a loopback relay without TLS: no login is attempted
    p.timeouts = Timeouts::uniform(std::chrono::seconds(60));
    return p;
  }

  // Waits for the pipe transport's file of the message Postfix queued as the reply says, then
  // returns it as kept() reads it.
  std::string delivered(const MessageResult& result, std::uint64_t atLeast) {
    const QString queueId = QString::fromStdString(result.reply->text()).section(QLatin1Char(' '), -1);
    const QString file = postfix_->maildir() + "/" + queueId + ".eml";
    if (!QTest::qWaitFor([&] { return QFile(file).size() >= static_cast<qint64>(atLeast); }, 120000)) return {};
    QTest::qWait(300);  // tee may still be writing the end
    return kept(file);
  }

 private slots:
  void initTestCase() {
    postfix_ = std::make_unique<PostfixServer>(QStringList{"--size-limit", QString::number(kLimit)});
    QVERIFY2(postfix_->ok(), qPrintable(postfix_->error()));
  }

  void fiftyMegabytesInChunksByteIdentical() {
    // Lines that start with a dot go as they are: BDAT counts octets, nothing is stuffed.
    std::string content = header("fifty@keep.test", "fifty");
    const std::string lines = "The quick brown fox jumps over the lazy dog, a line of a large message.\r\n"
                              ".a line that starts with a dot\r\n.\r\n";
    std::size_t count = 0;
    while (content.size() < 50'000'000) {
      content += lines;
      count += 3;
    }
    const std::size_t lfSize = content.size() - count - 6;  // what tee writes at least (LF line ends)
    SessionRun r = runSession(params(), {outgoing("fifty@keep.test", std::make_shared<StringBody>(content))});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QCOMPARE(r.messages.size(), std::size_t(1));
    QVERIFY2(r.transcript.find("The server offers CHUNKING") != std::string::npos, r.transcript.c_str());
    QVERIFY2(r.transcript.find("BDAT 65536 … ×") != std::string::npos, r.transcript.c_str());
    QVERIFY(r.transcript.find(" LAST\n") != std::string::npos);
    QVERIFY(r.transcript.find("-> DATA") == std::string::npos);
    QVERIFY(r.transcript.size() < 8000);  // summed up, not a line per chunk
    QCOMPARE(delivered(r.messages[0], lfSize), content);
  }

  void refusedChunkNamedThenRset() {
    // Larger than the limit, its size not declared: Postfix refuses a chunk; RSET, then the
    // next message on the same connection goes.
    const std::string small = header("after@keep.test", "after") + "Still works after the refused chunk.\r\n";
    SessionRun r = runSession(params(), {outgoing("big@keep.test", std::make_shared<UnsizedBody>(kLimit + 5'000'000)),
                                         outgoing("after@keep.test", std::make_shared<StringBody>(small))});
    QCOMPARE(r.messages.size(), std::size_t(2));
    QVERIFY2(r.messages[0].error.code() == ErrorCode::MessageTooLarge, r.transcript.c_str());
    const std::string why = r.messages[0].error.explanation();
    QVERIFY2(why.find("The server refused chunk ") != std::string::npos && why.find(" (bytes ") != std::string::npos,
             why.c_str());
    QVERIFY2(r.transcript.find("-> RSET") != std::string::npos, r.transcript.c_str());
    QVERIFY2(!r.messages[1].error, r.transcript.c_str());
    QCOMPARE(delivered(r.messages[1], 10), small);
  }

  void offByOptionSendsData() {
    const std::string content = header("data@keep.test", "data") + "Sent with DATA.\r\n.leading dot\r\n";
    ConnectParams p = params();
    p.useChunking = false;
    SessionRun r = runSession(p, {outgoing("data@keep.test", std::make_shared<StringBody>(content))});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QVERIFY(r.transcript.find("-> DATA") != std::string::npos);
    QVERIFY(r.transcript.find("BDAT") == std::string::npos);
    QCOMPARE(delivered(r.messages[0], 10), content);
  }

  void bareLineEndsNormalisedWithoutBinaryMime() {
    // Postfix offers CHUNKING but not BINARYMIME: a ready message with bare LFs goes in BDAT with
    // its line ends made CRLF, and no BODY=BINARYMIME.
    const std::string crlf = header("lf@keep.test", "lf") + "one\r\ntwo\r\n";
    std::string lf = crlf;
    for (std::size_t at = lf.find("\r\n"); at != std::string::npos; at = lf.find("\r\n", at)) lf.erase(at, 1);
    SessionRun r = runSession(params(), {outgoing("lf@keep.test", std::make_shared<StringBody>(lf))});
    QVERIFY2(!r.finished.error, r.transcript.c_str());
    QVERIFY(r.transcript.find("BINARYMIME") == std::string::npos);
    QVERIFY(r.transcript.find("BDAT " + std::to_string(crlf.size()) + " LAST") != std::string::npos);
    QCOMPARE(delivered(r.messages[0], 10), crlf);
  }
};

QTEST_GUILESS_MAIN(TestPostfixChunking)
#include "tst_postfix_chunking.moc"
