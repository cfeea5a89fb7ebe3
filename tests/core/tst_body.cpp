// DotStuffer against a plainly written reference, over every split of tricky inputs and random
// ones; StringBody reads.
#include <QTest>
#include <random>

#include "smtpc/body.h"
#include "smtpc/message.h"

using smtpc::DotStuffer;

namespace {
// The rules stated once, simply: split into lines at CRLF, LF or CR; double a leading dot; end
// every line with CRLF; then ".\r\n".
std::string reference(const std::string& in, bool stuffDots = true) {
  std::string out;
  std::string line;
  bool any = false;
  auto endLine = [&] {
    if (stuffDots && !line.empty() && line[0] == '.') out += '.';
    out += line + "\r\n";
    line.clear();
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    any = true;
    if (in[i] == '\r') {
      endLine();
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else if (in[i] == '\n') {
      endLine();
    } else {
      line += in[i];
    }
  }
  if (!line.empty()) endLine();
  (void)any;
  return stuffDots ? out + ".\r\n" : out;
}

std::string stuffInPieces(const std::string& in, const std::vector<std::size_t>& cuts, bool stuffDots = true) {
  DotStuffer stuffer(stuffDots);
  std::string out;
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    stuffer.process(std::string_view(in).substr(start, cut - start), out);
    start = cut;
  }
  stuffer.process(std::string_view(in).substr(start), out);
  stuffer.finish(out);
  return out;
}
}  // namespace

class TestBody : public QObject {
  Q_OBJECT
 private slots:
  void knownCases_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<QByteArray>("out");
    QTest::newRow("empty") << QByteArray("") << QByteArray(".\r\n");
    QTest::newRow("one dot line") << QByteArray(".\r\n") << QByteArray("..\r\n.\r\n");
    QTest::newRow("two dots") << QByteArray("..\n") << QByteArray("...\r\n.\r\n");
    QTest::newRow("dot x") << QByteArray(".x") << QByteArray("..x\r\n.\r\n");
    QTest::newRow("no final newline") << QByteArray("abc") << QByteArray("abc\r\n.\r\n");
    QTest::newRow("bare LF") << QByteArray("a\nb\n") << QByteArray("a\r\nb\r\n.\r\n");
    QTest::newRow("bare CR") << QByteArray("a\rb") << QByteArray("a\r\nb\r\n.\r\n");
    QTest::newRow("CR CR LF") << QByteArray("a\r\r\nb") << QByteArray("a\r\n\r\nb\r\n.\r\n");
    QTest::newRow("dot after CR") << QByteArray("a\r.b") << QByteArray("a\r\n..b\r\n.\r\n");
    QTest::newRow("dot not at start") << QByteArray("a.b\r\n") << QByteArray("a.b\r\n.\r\n");
    QTest::newRow("blank lines") << QByteArray("\n\n") << QByteArray("\r\n\r\n.\r\n");
  }
  void knownCases() {
    QFETCH(QByteArray, in);
    QFETCH(QByteArray, out);
    QCOMPARE(QByteArray::fromStdString(stuffInPieces(in.toStdString(), {})), out);
    QCOMPARE(QByteArray::fromStdString(reference(in.toStdString())), out);
  }

  void everySplitOfATrickyInput() {
    const std::string in = ".a\r\n..\r.\n\r\n.\rx\r\n\n.end\r";
    const std::string want = reference(in);
    for (std::size_t i = 0; i <= in.size(); ++i)
      for (std::size_t j = i; j <= in.size(); ++j) QCOMPARE(stuffInPieces(in, {i, j}), want);
  }

  void randomInputsMatchReference() {
    std::mt19937 rng(7);
    const char alphabet[] = {'.', '\r', '\n', 'a', 'b', '.', '\n'};
    for (int n = 0; n < 2000; ++n) {
      std::string in(rng() % 64, 'x');
      for (char& c : in) c = alphabet[rng() % sizeof(alphabet)];
      std::vector<std::size_t> cuts;
      std::size_t at = 0;
      while (at < in.size()) {
        at += 1 + rng() % 8;
        if (at < in.size()) cuts.push_back(at);
      }
      QCOMPARE(stuffInPieces(in, cuts), reference(in));
      // BDAT (RFC 3030): line ends only, no dot doubled, no final dot.
      QCOMPARE(stuffInPieces(in, cuts, false), reference(in, false));
    }
  }

  // What a ready message needs: 8BITMIME for octets over 127; BINARYMIME (RFC 3030 §3) for a NUL,
  // a CR or LF outside a CRLF, or a line over 998 octets; pieces may split a CRLF.
  void contentScanFindsBinary() {
    auto scan = [](std::initializer_list<std::string_view> pieces) {
      smtpc::ContentScan s;
      for (auto piece : pieces) s.feed(piece);
      s.finish();
      return std::pair{s.eightBit(), s.binary()};
    };
    QCOMPARE(scan({"a\r\nb\r\n"}), std::pair(false, false));
    QCOMPARE(scan({"a\r", "\nb\r", "\n"}), std::pair(false, false));
    QCOMPARE(scan({"a\nb"}), std::pair(false, true));
    QCOMPARE(scan({"a\rb"}), std::pair(false, true));
    QCOMPARE(scan({"a\r"}), std::pair(false, true));
    QCOMPARE(scan({std::string_view("a\0b", 3)}), std::pair(false, true));
    QCOMPARE(scan({"caf\xc3\xa9\r\n"}), std::pair(true, false));
    QCOMPARE(scan({std::string(998, 'x') + "\r\n"}), std::pair(false, false));
    QCOMPARE(scan({std::string(500, 'x'), std::string(499, 'x'), "\r\n"}), std::pair(false, true));
    QVERIFY(smtpc::StringBody(std::string("a\0b\r\n", 5)).isBinary());
    QVERIFY(!smtpc::StringBody("a\r\n").isBinary());
    // A NUL past the first 64 KB a file's scan reads, in a message that is otherwise text.
    std::string text;
    while (text.size() < 200 * 1024) text += "a text line\r\n";
    QVERIFY(!(*smtpc::SourceBody::create(std::make_shared<smtpc::MemoryContent>(text)))->isBinary());
    text[150 * 1024] = '\0';
    QVERIFY((*smtpc::SourceBody::create(std::make_shared<smtpc::MemoryContent>(text)))->isBinary());
  }

  void stringBodyReadsInChunksAndRewinds() {
    smtpc::StringBody body("hello, world");
    QVERIFY(!body.isEightBit());
    QCOMPARE(*body.size(), std::uint64_t(12));
    QVERIFY(!body.prepare({}).isError());
    char buffer[5];
    std::string all;
    for (;;) {
      auto n = body.read(buffer);
      QVERIFY(n);
      if (*n == 0) break;
      all.append(buffer, *n);
    }
    QCOMPARE(all, std::string("hello, world"));
    QVERIFY(!body.prepare({}).isError());  // prepare() starts again: the same message twice
    QCOMPARE(*body.read(buffer), std::size_t(5));
    QVERIFY(smtpc::StringBody("caf\xc3\xa9").isEightBit());
  }

  void sourceBodyStreamsAndFindsEightBitAnywhere() {
    // 200 KB of ASCII, then one 8-bit octet past the first 64 KB chunk the scan reads.
    std::string ascii(200 * 1024, 'a');
    auto plain = smtpc::SourceBody::create(std::make_shared<smtpc::MemoryContent>(ascii));
    QVERIFY(plain);
    QVERIFY(!(*plain)->isEightBit());
    std::string eight = ascii;
    eight[150 * 1024] = '\xe9';
    auto body = smtpc::SourceBody::create(std::make_shared<smtpc::MemoryContent>(eight));
    QVERIFY(body);
    QVERIFY((*body)->isEightBit());
    QCOMPARE(*(*body)->size(), std::uint64_t(eight.size()));
    for (int pass = 0; pass < 2; ++pass) {  // prepare() starts again: the same message twice
      QVERIFY(!(*body)->prepare({}).isError());
      std::string all;
      char buffer[4096];
      for (;;) {
        auto n = (*body)->read(buffer);
        QVERIFY(n);
        if (*n == 0) break;
        all.append(buffer, *n);
      }
      QVERIFY(all == eight);  // the scan for 8-bit octets did not eat the start
    }
  }
};

QTEST_APPLESS_MAIN(TestBody)
#include "tst_body.moc"
