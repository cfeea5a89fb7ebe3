// ReplyParser: RFC 5321 §4.2 grammar, any byte split, RFC 3463 codes, limits.
#include <QTest>

#include "smtpc/reply.h"

using smtpc::Reply;
using smtpc::ReplyLimits;
using smtpc::ReplyParser;
using Status = smtpc::ReplyParser::Status;

namespace {
// Parses everything in `wire`, fed in pieces of `step` bytes; returns the replies.
std::vector<Reply> parseAll(std::string_view wire, std::size_t step, Status* last = nullptr, ReplyLimits limits = {}) {
  ReplyParser parser(limits);
  std::vector<Reply> replies;
  Status status = Status::NeedMore;
  for (std::size_t i = 0; i < wire.size(); i += step) {
    parser.feed(wire.substr(i, step));
    Reply reply;
    while ((status = parser.next(reply)) == Status::Complete) replies.push_back(reply);
    if (status == Status::Malformed) break;
  }
  if (last) *last = status;
  return replies;
}
}  // namespace

class TestReply : public QObject {
  Q_OBJECT
 private slots:
  void singleLine() {
    auto replies = parseAll("250 OK\r\n", 100);
    QCOMPARE(replies.size(), std::size_t(1));
    QCOMPARE(replies[0].code, 250);
    QCOMPARE(replies[0].text(), std::string("OK"));
    QVERIFY(!replies[0].enhanced);
    QCOMPARE(replies[0].severity(), smtpc::Severity::PositiveCompletion);
  }

  void codeOnly() {
    // RFC 5321 §4.2: the text is optional.
    auto replies = parseAll("354\r\n", 100);
    QCOMPARE(replies.size(), std::size_t(1));
    QCOMPARE(replies[0].code, 354);
    QCOMPARE(replies[0].lines.size(), std::size_t(1));
    QVERIFY(replies[0].lines[0].empty());
  }

  void multiLineAtEverySplit() {
    const std::string wire =
        "250-mx.example.net Hello\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 STARTTLS\r\n221 2.0.0 Bye\r\n";
    for (std::size_t step = 1; step <= wire.size(); ++step) {
      Status status;
      auto replies = parseAll(wire, step, &status);
      QCOMPARE(status, Status::NeedMore);
      QCOMPARE(replies.size(), std::size_t(2));
      QCOMPARE(replies[0].lines, (std::vector<std::string>{"mx.example.net Hello", "SIZE 1000", "8BITMIME", "STARTTLS"}));
      QCOMPARE(replies[1].code, 221);
      QCOMPARE(replies[1].enhanced->toString(), std::string("2.0.0"));
    }
  }

  void splitAtEveryPointOfTwoChunks() {
    const std::string wire = "550-5.1.1 first\r\n550 5.1.1 second\r\n";
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      ReplyParser parser;
      Reply reply;
      parser.feed(wire.substr(0, cut));
      Status status = parser.next(reply);
      if (cut < wire.size()) QCOMPARE(status, Status::NeedMore);
      parser.feed(wire.substr(cut));
      if (status != Status::Complete) status = parser.next(reply);
      QCOMPARE(status, Status::Complete);
      QCOMPARE(reply.code, 550);
      QCOMPARE(reply.lines, (std::vector<std::string>{"first", "second"}));
      QCOMPARE(reply.enhanced->toString(), std::string("5.1.1"));
    }
  }

  void enhancedStatus_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("enhanced");  // empty: none recognised
    QTest::addColumn<QString>("text");
    QTest::newRow("plain") << "250 2.1.0 Ok" << "2.1.0" << "Ok";
    QTest::newRow("three-digit parts") << "550 5.123.456 x" << "5.123.456" << "x";
    QTest::newRow("class must match code") << "250 5.1.1 odd" << "" << "5.1.1 odd";
    QTest::newRow("four digits is not a code") << "250 2.1234.0 x" << "" << "2.1234.0 x";
    QTest::newRow("no space after") << "250 2.1.0Ok" << "" << "2.1.0Ok";
    QTest::newRow("only the code") << "250 2.0.0" << "2.0.0" << "";
    QTest::newRow("version-like text") << "220 2.0 ready" << "" << "2.0 ready";
  }
  void enhancedStatus() {
    QFETCH(QString, line);
    QFETCH(QString, enhanced);
    QFETCH(QString, text);
    auto replies = parseAll(line.toStdString() + "\r\n", 1000);
    QCOMPARE(replies.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(replies[0].enhanced ? replies[0].enhanced->toString() : ""), enhanced);
    QCOMPARE(QString::fromStdString(replies[0].text()), text);
  }

  void bareLineFeedAccepted() {
    auto replies = parseAll("250-a\n250 b\n", 3);
    QCOMPARE(replies.size(), std::size_t(1));
    QCOMPARE(replies[0].lines, (std::vector<std::string>{"a", "b"}));
  }

  void malformed_data() {
    QTest::addColumn<QString>("wire");
    QTest::addColumn<QString>("why");
    QTest::newRow("letters") << "abc hello\r\n" << "three-digit";
    QTest::newRow("short") << "25\r\n" << "three-digit";
    QTest::newRow("first digit 1") << "150 hi\r\n" << "outside";
    QTest::newRow("first digit 6") << "650 hi\r\n" << "outside";
    QTest::newRow("second digit 6") << "260 hi\r\n" << "outside";
    QTest::newRow("bad separator") << "250_hi\r\n" << "instead of a space";
    QTest::newRow("code changes") << "250-a\r\n251 b\r\n" << "changed its code";
  }
  void malformed() {
    QFETCH(QString, wire);
    QFETCH(QString, why);
    ReplyParser parser;
    parser.feed(wire.toStdString());
    Reply reply;
    QCOMPARE(parser.next(reply), Status::Malformed);
    QVERIFY2(QString::fromStdString(parser.error()).contains(why), parser.error().c_str());
    // Sticky: more good input does not revive it.
    parser.feed("250 ok\r\n");
    QCOMPARE(parser.next(reply), Status::Malformed);
  }

  void malformedKeepsNothingMore() {
    // Found by fuzz_reply_parser: a caller that goes on feeding after Malformed must not make
    // the buffer grow.
    ReplyParser parser;
    parser.feed("xyz\r\n");
    Reply reply;
    QCOMPARE(parser.next(reply), Status::Malformed);
    for (int i = 0; i < 100; ++i) parser.feed(std::string(1000, 'a'));
    QVERIFY(parser.bufferedBytes() < 1000);
  }

  void lineLimitWithoutNewline() {
    // An endless line is refused once it passes the limit, without waiting for a line end.
    ReplyLimits limits;
    limits.maxLineLength = 100;
    ReplyParser parser(limits);
    Reply reply;
    parser.feed("250 " + std::string(96, 'a'));
    QCOMPARE(parser.next(reply), Status::NeedMore);
    parser.feed("a");
    QCOMPARE(parser.next(reply), Status::Malformed);
  }

  void lineLimitExactlyAllowed() {
    ReplyLimits limits;
    limits.maxLineLength = 100;
    auto replies = parseAll("250 " + std::string(96, 'a') + "\r\n", 7, nullptr, limits);
    QCOMPARE(replies.size(), std::size_t(1));
  }

  void lineCountLimit() {
    ReplyLimits limits;
    limits.maxLines = 3;
    Status status;
    auto ok = parseAll("250-a\r\n250-b\r\n250 c\r\n", 100, &status, limits);
    QCOMPARE(ok.size(), std::size_t(1));
    auto bad = parseAll("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", 100, &status, limits);
    QVERIFY(bad.empty());
    QCOMPARE(status, Status::Malformed);
  }

  void replyByteLimit() {
    ReplyLimits limits;
    limits.maxReplyBytes = 50;
    Status status;
    auto bad = parseAll("250-" + std::string(30, 'x') + "\r\n250 " + std::string(30, 'y') + "\r\n", 100, &status, limits);
    QVERIFY(bad.empty());
    QCOMPARE(status, Status::Malformed);
  }

  void discardBufferedDropsPartialAndFollowing() {
    ReplyParser parser;
    parser.feed("220 go ahead\r\n250 injected\r\n250-par");
    Reply reply;
    QCOMPARE(parser.next(reply), Status::Complete);
    QCOMPARE(parser.bufferedBytes(), std::string("250 injected\r\n250-par").size());
    parser.discardBuffered();
    QCOMPARE(parser.bufferedBytes(), std::size_t(0));
    parser.feed("250 after tls\r\n");
    QCOMPARE(parser.next(reply), Status::Complete);
    QCOMPARE(reply.text(), std::string("after tls"));
  }

  void storageReusedAcrossReplies() {
    // `out` is overwritten cleanly: a long reply followed by a short one leaves no stale lines.
    ReplyParser parser;
    parser.feed("250-a\r\n250-b\r\n250 c\r\n221 bye\r\n");
    Reply reply;
    QCOMPARE(parser.next(reply), Status::Complete);
    QCOMPARE(reply.lines.size(), std::size_t(3));
    QCOMPARE(parser.next(reply), Status::Complete);
    QCOMPARE(reply.lines, std::vector<std::string>{"bye"});
    QVERIFY(!reply.enhanced);
  }

  void manyRepliesInOneFeedCompact() {
    std::string wire;
    for (int i = 0; i < 5000; ++i) wire += "250 2.1.5 recipient " + std::to_string(i) + " ok\r\n";
    auto replies = parseAll(wire, 4093);
    QCOMPARE(replies.size(), std::size_t(5000));
    QCOMPARE(replies.back().text(), std::string("recipient 4999 ok"));
  }

  void presentation() {
    auto replies = parseAll("550-5.1.1 no such user\r\n550 5.1.1 see docs\r\n", 100);
    const Reply& r = replies.at(0);
    QCOMPARE(r.summary(), std::string("550 5.1.1 no such user (+1 more lines)"));
    QCOMPARE(r.text(), std::string("no such user see docs"));
    QCOMPARE(r.wireLines(), (std::vector<std::string>{"550-5.1.1 no such user", "550 5.1.1 see docs"}));
    QVERIFY(r.isPermanent());
    QVERIFY(!r.isTransient());
  }
};

QTEST_APPLESS_MAIN(TestReply)
#include "tst_reply.moc"
