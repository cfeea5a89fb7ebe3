// escapeForTerminal: server text can never drive the terminal it is printed on.
#include <QtTest>

#include "smtpc/display.h"

using namespace smtpc;

class TestDisplay : public QObject {
  Q_OBJECT
 private slots:
  void escapes_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << QByteArray("220 mx.example.net ESMTP") << QByteArray("220 mx.example.net ESMTP");
    QTest::newRow("tab kept") << QByteArray("a\tb") << QByteArray("a\tb");
    QTest::newRow("title (OSC)") << QByteArray("220 \x1b]0;pwned\x07 hi") << QByteArray("220 \\x1b]0;pwned\\x07 hi");
    QTest::newRow("clear screen") << QByteArray("\x1b[2J") << QByteArray("\\x1b[2J");
    QTest::newRow("cursor up") << QByteArray("\x1b[1A=== OK") << QByteArray("\\x1b[1A=== OK");
    QTest::newRow("CR overwrites") << QByteArray("bad\r=== OK") << QByteArray("bad\\x0d=== OK");
    QTest::newRow("newline") << QByteArray("a\nb") << QByteArray("a\\x0ab");
    QTest::newRow("NUL and DEL") << QByteArray("a\0b\x7f", 4) << QByteArray("a\\x00b\\x7f");
    QTest::newRow("backslash unambiguous") << QByteArray("\\x1b") << QByteArray("\\\\x1b");
    QTest::newRow("C1 CSI as UTF-8") << QByteArray("\xc2\x9b" "2J") << QByteArray("\\u009b2J");
    QTest::newRow("raw 8-bit CSI") << QByteArray("\x9b" "2J") << QByteArray("\\x9b2J");
    QTest::newRow("UTF-8 kept") << QByteArray("Grüße, 日本, 😀") << QByteArray("Grüße, 日本, 😀");
    QTest::newRow("overlong slash") << QByteArray("\xc0\xaf") << QByteArray("\\xc0\\xaf");
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << QByteArray("\\xed\\xa0\\x80");
    QTest::newRow("truncated") << QByteArray("ok\xe2\x82") << QByteArray("ok\\xe2\\x82");
  }
  void escapes() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    const std::string out = escapeForTerminal(std::string_view(input.constData(), static_cast<std::size_t>(input.size())));
    QCOMPARE(QByteArray::fromStdString(out), expected);
    for (unsigned char c : out) QVERIFY2(c >= 0x20 && c != 0x7f ? true : c == '\t', "a control byte got through");
  }
};

QTEST_APPLESS_MAIN(TestDisplay)
#include "tst_display.moc"
