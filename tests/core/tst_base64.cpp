#include <QTest>
#include <random>

#include "smtpc/base64.h"

namespace b64 = smtpc::base64;

class TestBase64 : public QObject {
  Q_OBJECT
 private slots:
  void rfc4648Vectors_data() {
    QTest::addColumn<QByteArray>("plain");
    QTest::addColumn<QByteArray>("encoded");
    // RFC 4648 §10
    QTest::newRow("empty") << QByteArray("") << QByteArray("");
    QTest::newRow("f") << QByteArray("f") << QByteArray("Zg==");
    QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8=");
    QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
    QTest::newRow("foob") << QByteArray("foob") << QByteArray("Zm9vYg==");
    QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("Zm9vYmE=");
    QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("Zm9vYmFy");
    QTest::newRow("high bytes") << QByteArray("\xff\xfe\xfd", 3) << QByteArray("//79");
  }
  void rfc4648Vectors() {
    QFETCH(QByteArray, plain);
    QFETCH(QByteArray, encoded);
    QCOMPARE(QByteArray::fromStdString(b64::encode(plain.toStdString())), encoded);
    auto decoded = b64::decode(encoded.toStdString());
    QVERIFY(decoded);
    QCOMPARE(QByteArray::fromStdString(*decoded), plain);
  }

  void decodeIsStrict_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("length not multiple of 4") << QByteArray("Zm9");
    QTest::newRow("outside alphabet") << QByteArray("Zm9*");
    QTest::newRow("data after padding") << QByteArray("Zg=a");
    QTest::newRow("padding in the middle") << QByteArray("Zg==Zm9v");
    QTest::newRow("three pads") << QByteArray("Z===");
    QTest::newRow("space") << QByteArray("Zm9 v");
  }
  void decodeIsStrict() {
    QFETCH(QByteArray, text);
    QVERIFY(!b64::decode(text.toStdString()));
  }

  void randomRoundTripsMatchQt() {
    std::mt19937 rng(12345);
    for (int n = 0; n < 300; ++n) {
      std::string data(rng() % 200, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      const std::string ours = b64::encode(data);
      QCOMPARE(QByteArray::fromStdString(ours), QByteArray::fromStdString(data).toBase64());
      QCOMPARE(*b64::decode(ours), data);
    }
  }
};

QTEST_APPLESS_MAIN(TestBase64)
#include "tst_base64.moc"
