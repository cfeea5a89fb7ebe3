// The MIME builder, checked by an independent parser (Python's email package, check_mime.py):
// every header decoded, every part, every attachment byte.
#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <random>

#include "smtpc/encoding.h"
#include "smtpc/message.h"

using namespace smtpc;

namespace {

const DateTime kNow{1795911004, 60};  // Sun, 29 Nov 2026 01:10:04 +0100

Mailbox mb(const std::string& name, const std::string& address) {
  auto m = Mailbox::create(name, address);
  if (!m) qFatal("bad mailbox in test: %s", m.error().toString().c_str());
  return *m;
}

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data(n, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  return data;
}

QJsonObject attachmentJson(const std::string& filename, const std::string& type, const std::string& data,
                           const char* disposition = "attachment", const std::string& cid = {}) {
  QJsonObject o;
  o["filename"] = QString::fromStdString(filename);
  o["content_type"] = QString::fromStdString(type);
  o["disposition"] = disposition;
  o["content_id"] = cid.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(cid));
  o["size"] = static_cast<qint64>(data.size());
  o["sha256"] = QString::fromLatin1(
      QCryptographicHash::hash(QByteArray::fromStdString(data), QCryptographicHash::Sha256).toHex());
  return o;
}

QJsonArray addresses(std::initializer_list<std::pair<const char*, const char*>> list) {
  QJsonArray out;
  for (auto [name, address] : list) out.append(QJsonArray{QString::fromUtf8(name), QString::fromUtf8(address)});
  return out;
}

}  // namespace

class TestMessage : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

  // Composes, writes the .eml and the expectations, runs the independent checker.
  void check(const Message& message, QJsonObject expected, const Capabilities& caps = {}) {
    auto body = message.compose(kNow);
    QVERIFY2(body, body ? "" : body.error().toString().c_str());
    QVERIFY(!(*body)->size());  // unknown until prepared
    auto text = (*body)->toString(caps);
    QVERIFY(text);
    QCOMPARE((*body)->size().value(), std::uint64_t(text->size()));  // the size known in advance is exact
    QString name = QString::fromLatin1(QTest::currentTestFunction()) + QLatin1Char('_') +
                   QString::fromLatin1(QTest::currentDataTag() ? QTest::currentDataTag() : "");
    name.replace(QLatin1Char(' '), QLatin1Char('_'));
    const QString eml = dir_.filePath(name + ".eml"), json = dir_.filePath(name + ".json");
    QFile out(eml);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text->data(), static_cast<qint64>(text->size()));
    out.close();
    QFile expectations(json);
    QVERIFY(expectations.open(QIODevice::WriteOnly));
    expectations.write(QJsonDocument(expected).toJson());
    expectations.close();
    QProcess checker;
    checker.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(SMTPC_CHECK_MIME), eml, json});
    QVERIFY(checker.waitForFinished(30000));
    const QByteArray why = checker.readAllStandardError();
    QVERIFY2(checker.exitCode() == 0, why.constData());
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void plainAscii() {
    Message m;
    m.from = mb("Alice Example", "alice@example.org");
    m.to = {mb("", "bob@example.net")};
    m.subject = "Hello";
    m.text = "Hi Bob,\nsee you.\n";
    check(m, QJsonObject{{"headers", QJsonObject{{"Subject", "Hello"}}},
                         {"addresses", QJsonObject{{"From", addresses({{"Alice Example", "alice@example.org"}})},
                                                   {"To", addresses({{"", "bob@example.net"}})}}},
                         {"content_type", "text/plain"},
                         {"date", "Sun, 29 Nov 2026 01:10:04 +0100"},
                         {"encoding", "7bit"},
                         {"plain", "Hi Bob,\nsee you.\n"}});
  }

  void internationalNamesAndSubjects_data() {
    QTest::addColumn<QString>("subject");
    QTest::newRow("cjk") << QString::fromUtf8("会议记录：第三季度预算审查与下一步计划安排，请所有部门负责人在周五之前回复确认");
    QTest::newRow("emoji") << QString::fromUtf8("Party 🎉🎂 tonight — café at 8? 👩‍👩‍👧‍👦");
    QTest::newRow("accents") << QString::fromUtf8("Überweisung für März: Rückfrage zur Gebühr (ça va?)");
    QTest::newRow("long ascii") << QString(
        "A rather long subject line that goes well beyond seventy-eight characters and so must be folded "
        "at spaces by the builder, twice even, because it keeps going on and on");
    QTest::newRow("ascii that looks encoded") << QString("=?UTF-8?B?not really?= and a tab\there");
  }
  void internationalNamesAndSubjects() {
    QFETCH(QString, subject);
    Message m;
    m.from = mb("Jörg Müller", "joerg@example.org");
    m.to = {mb("张伟", "zhang@example.cn"), mb("Ana 🌻 Lima", "ana@example.br")};
    m.subject = subject.toStdString();
    m.text = "Grüße aus Köln — 你好 — 🎉\n";
    check(m, QJsonObject{{"headers", QJsonObject{{"Subject", subject}}},
                         {"addresses", QJsonObject{{"From", addresses({{"Jörg Müller", "joerg@example.org"}})},
                                                   {"To", addresses({{"张伟", "zhang@example.cn"},
                                                                     {"Ana 🌻 Lima", "ana@example.br"}})}}},
                         {"encoding", "quoted-printable"},
                         {"plain", QString::fromStdString(m.text)}});
  }

  void namesWithSpecials() {
    Message m;
    m.from = mb("Smith, John", "john@example.org");
    m.to = {mb("The \"Boss\"", "boss@example.org"), mb("back\\slash (x)", "bs@example.org"),
            mb("a.b;c<d>", "odd@example.org")};
    m.cc = {mb("Carol", "carol@example.org")};
    m.replyTo = {mb("Help Desk", "help@example.org")};
    m.sender = mb("List Robot", "robot@example.org");
    m.text = "x";
    check(m, QJsonObject{{"addresses", QJsonObject{{"From", addresses({{"Smith, John", "john@example.org"}})},
                                                   {"To", addresses({{"The \"Boss\"", "boss@example.org"},
                                                                     {"back\\slash (x)", "bs@example.org"},
                                                                     {"a.b;c<d>", "odd@example.org"}})},
                                                   {"Cc", addresses({{"Carol", "carol@example.org"}})},
                                                   {"Reply-To", addresses({{"Help Desk", "help@example.org"}})},
                                                   {"Sender", addresses({{"List Robot", "robot@example.org"}})}}}});
  }

  void bccOnlyInEnvelope() {
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net"), mb("", "c@example.net")};
    m.cc = {mb("", "b@example.net")};
    m.bcc = {mb("Secret", "hidden@example.net")};
    m.text = "x";
    const Envelope envelope = m.envelope();
    QCOMPARE(envelope.from, std::string("a@example.org"));
    QCOMPARE(envelope.recipients, (std::vector<std::string>{"b@example.net", "c@example.net", "hidden@example.net"}));
    check(m, QJsonObject{{"absent", QJsonArray{"Bcc"}}});
    auto text = (*m.compose(kNow))->toString();
    QVERIFY(text->find("hidden@example.net") == std::string::npos);
  }

  void bodyEdges_data() {
    QTest::addColumn<bool>("eightBitOffered");
    QTest::addColumn<QString>("encoding");
    QTest::newRow("without 8BITMIME") << false << "quoted-printable";
    QTest::newRow("with 8BITMIME") << true << "8bit";
  }
  void bodyEdges() {
    QFETCH(bool, eightBitOffered);
    QFETCH(QString, encoding);
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    // Lines ".", "..", ".x", trailing spaces, '=' signs, bare LF and CR, no final newline, UTF-8.
    m.text = ".\n..\n.x\ntrailing spaces   \nequals = sign =3D\r\nbare\rcr\nnaïve café\nno final newline";
    Reply ehlo;
    ehlo.code = 250;
    ehlo.lines = {"mx", "8BITMIME"};
    const Capabilities caps = eightBitOffered ? Capabilities::fromEhloReply(ehlo) : Capabilities();
    check(m,
          QJsonObject{{"encoding", encoding},
                      {"plain", ".\n..\n.x\ntrailing spaces   \nequals = sign =3D\nbare\ncr\nnaïve café\nno final newline"}},
          caps);
    auto body = *m.compose(kNow);
    QVERIFY(!body->prepare(caps).isError());
    QCOMPARE(body->isEightBit(), eightBitOffered);
  }

  void longLinesAlwaysEncoded() {
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.text = std::string(3000, 'x') + "\n" + std::string(1200, 'y');  // ASCII, but over 998 per line
    check(m, QJsonObject{{"encoding", "quoted-printable"}, {"plain", QString::fromStdString(m.text)}});
  }

  void attachments() {
    const std::string binary = randomBytes(100 * 1024 + 17, 1);
    const std::string pdf = "%PDF-1.4\n" + randomBytes(5000, 2);
    QTemporaryDir files;
    const std::string path = files.filePath("data.bin").toStdString();
    {
      QFile f(QString::fromStdString(path));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(binary.data(), static_cast<qint64>(binary.size()));
    }
    const std::string longName = std::string("A very long file name that goes on and on ") + "ü" +
                                 std::string(90, 'n') + " — ende.txt";
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.subject = "Files";
    m.text = "See attached.";
    auto fromFile = Attachment::fromFile(path);
    QVERIFY(fromFile);
    m.attachments = {*fromFile,
                     Attachment::fromMemory("empty.txt", ""),
                     Attachment::fromMemory("Überweisung März 2026.pdf", pdf),
                     Attachment::fromMemory("报告.txt", "中文内容\n"),
                     Attachment::fromMemory("🎉.png", randomBytes(57 * 3, 3)),
                     Attachment::fromMemory(longName, "long", "text/plain"),
                     Attachment::fromMemory("quote\"and;semi.bin", "q", "application/x-custom")};
    check(m, QJsonObject{{"content_type", "multipart/mixed"},
                         {"plain", "See attached."},
                         {"attachments",
                          QJsonArray{attachmentJson("data.bin", "application/octet-stream", binary),
                                     attachmentJson("empty.txt", "text/plain", ""),
                                     attachmentJson("Überweisung März 2026.pdf", "application/pdf", pdf),
                                     attachmentJson("报告.txt", "text/plain", "中文内容\n"),
                                     attachmentJson("🎉.png", "image/png", randomBytes(57 * 3, 3)),
                                     attachmentJson(longName, "text/plain", "long"),
                                     attachmentJson("quote\"and;semi.bin", "application/x-custom", "q")}}});
  }

  // RFC 2046 §5.2.1: an attached message goes as 7bit or 8bit, never base64, so readers open it as a
  // message; its line ends are made CRLF. When it cannot, it goes as a file (base64), named as it is.
  void attachedMessage_data() {
    QTest::addColumn<QByteArray>("eml");
    QTest::addColumn<QString>("type");  // given; empty: from the ".eml" name
    QTest::addColumn<bool>("eightBitMime");
    QTest::addColumn<QString>("encoding");  // "base64": sent as application/octet-stream
    const QByteArray ascii = "From: a@example.org\nSubject: Inner\n\nHello\n.\nBye\n";
    QTest::newRow("7bit, LF ends") << ascii << QString() << false << "7bit";
    QTest::newRow("7bit, CR ends, no final newline")
        << QByteArray("From: a@example.org\rSubject: Inner\r\rHello\r.\rBye") << QString() << false << "7bit";
    QTest::newRow("given type, other name") << ascii << "message/rfc822" << false << "7bit";
    const QByteArray utf8 = "From: a@example.org\r\nSubject: Inner\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n";
    QTest::newRow("8bit with 8BITMIME") << utf8 << QString() << true << "8bit";
    QTest::newRow("8bit without 8BITMIME") << utf8 << QString() << false << "base64";
    QTest::newRow("line over 998") << ascii + QByteArray(999, 'x') + "\n" << QString() << true << "base64";
    QTest::newRow("NUL") << ascii + QByteArray("a\0b\n", 4) << QString() << true << "base64";
    QTest::newRow("8bit in a message-partial") << utf8 << "message/partial" << true << "base64";
    // A CRLF split across the builder's reads (57 KB) stays one line end.
    QByteArray big = "From: a@example.org\r\nSubject: Inner\r\n\r\n";
    while (big.size() < 57 * 1024 - 1) big += QByteArray(70, 'y') + "\r\n";
    big.truncate(57 * 1024 - 1);
    big += "\r\nlast\r\n";
    QTest::newRow("CRLF across reads") << big << QString() << false << "7bit";
  }
  void attachedMessage() {
    QFETCH(QByteArray, eml);
    QFETCH(QString, type);
    QFETCH(bool, eightBitMime);
    QFETCH(QString, encoding);
    QTemporaryDir files;
    const QString path = files.filePath(type.isEmpty() ? QStringLiteral("forwarded.eml") : QStringLiteral("forwarded"));
    {
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(eml);
    }
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.subject = "Fwd";
    m.text = "Forwarded.";
    auto attachment = Attachment::fromFile(path.toStdString(), type.toStdString());
    QVERIFY(attachment);
    m.attachments = {*attachment};
    Reply ehlo;
    ehlo.code = 250;
    ehlo.lines = {"mx", "8BITMIME"};
    const Capabilities caps = eightBitMime ? Capabilities::fromEhloReply(ehlo) : Capabilities();
    const std::string name = QFileInfo(path).fileName().toStdString();
    QJsonObject expected{{"content_type", "multipart/mixed"}, {"plain", "Forwarded."}};
    if (encoding == QLatin1String("base64")) {
      expected["attachments"] = QJsonArray{attachmentJson(name, "application/octet-stream", eml.toStdString())};
    } else {
      // The reader sees the message; its bytes are the file's with CRLF line ends and a final CRLF.
      QByteArray crlf = eml;
      crlf.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");
      if (!crlf.endsWith("\r\n")) crlf += "\r\n";
      const QString plain = QString::fromUtf8(crlf.mid(crlf.indexOf("\r\n\r\n") + 4)).replace("\r\n", "\n");
      expected["messages"] = QJsonArray{QJsonObject{{"filename", QString::fromStdString(name)},
                                                    {"content_type", "message/rfc822"},
                                                    {"encoding", encoding},
                                                    {"subject", "Inner"},
                                                    {"plain", plain.chopped(1)}}};
      auto body = m.compose(kNow);
      QVERIFY(body);
      auto text = (*body)->toString(caps);
      QVERIFY(text);
      QVERIFY2(text->find("\r\n\r\n" + crlf.toStdString() + "--=_smtpc_") != std::string::npos,
               "the attached message's bytes are not in the output as they are");
      QCOMPARE((*body)->isEightBit(), encoding == QLatin1String("8bit"));
    }
    check(m, expected, caps);
  }

  void htmlAlternativeWithInlineImage() {
    const std::string logo = randomBytes(2000, 4);
    const std::string report = randomBytes(300, 5);
    Message m;
    m.from = mb("Shop", "shop@example.org");
    m.to = {mb("", "b@example.net")};
    m.subject = "Your order";
    m.text = "Thanks for your order.";
    m.html = "<p>Thanks for your <b>order</b>.</p><img src=\"cid:logo@shop\">";
    Attachment inlineLogo = Attachment::fromMemory("logo.png", logo);
    inlineLogo.contentId = "logo@shop";
    m.attachments = {inlineLogo, Attachment::fromMemory("invoice.pdf", report)};
    check(m, QJsonObject{{"content_type", "multipart/mixed"},
                         {"plain", "Thanks for your order."},
                         {"html", QString::fromStdString(m.html)},
                         {"attachments", QJsonArray{attachmentJson("logo.png", "image/png", logo, "inline", "logo@shop"),
                                                    attachmentJson("invoice.pdf", "application/pdf", report)}}});
  }

  void htmlOnlyAndEmpty() {
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("=?UTF-8?B?ZmFrZQ==?= Name", "b@example.net")};  // must not be read as an encoded word
    m.html = "<h1>Only HTML</h1>";
    check(m, QJsonObject{{"content_type", "text/html"},
                         {"html", "<h1>Only HTML</h1>"},
                         {"addresses", QJsonObject{{"To", addresses({{"=?UTF-8?B?ZmFrZQ==?= Name", "b@example.net"}})}}}});
    Message empty;
    empty.from = mb("", "a@example.org");
    empty.to = {mb("", "b@example.net")};
    auto text = (*empty.compose(kNow))->toString();
    QVERIFY(text->find("Content-Type: text/plain") != std::string::npos);
  }

  void extraHeaders() {
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.text = "x";
    m.headers = {{"X-Mailer", "SMTPc"}, {"X-Note", "Grüße"}, {"List-Unsubscribe", "<mailto:u@example.org>"}};
    check(m, QJsonObject{{"headers", QJsonObject{{"X-Mailer", "SMTPc"}, {"X-Note", "Grüße"},
                                                 {"List-Unsubscribe", "<mailto:u@example.org>"}}}});
  }

  void badInputNamesTheField_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("field");
    QTest::newRow("no from") << 0 << "From";
    QTest::newRow("no recipients") << 1 << "To";
    QTest::newRow("subject with CRLF") << 2 << "Subject";
    QTest::newRow("header value CRLF") << 3 << "X-Bad";
    QTest::newRow("header name with space") << 4 << "Header";
    QTest::newRow("own header") << 5 << "content-type";
    QTest::newRow("attachment name CRLF") << 6 << "Attachment";
    QTest::newRow("bad content type") << 7 << "content type";
  }
  void badInputNamesTheField() {
    QFETCH(int, which);
    QFETCH(QString, field);
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    switch (which) {
      case 0: m.from = Mailbox(); break;
      case 1: m.to.clear(); break;
      case 2: m.subject = "Hi\r\nBcc: victim@example.org"; break;
      case 3: m.headers = {{"X-Bad", "a\r\nInjected: yes"}}; break;
      case 4: m.headers = {{"X Bad", "a"}}; break;
      case 5: m.headers = {{"content-type", "text/evil"}}; break;
      case 6: m.attachments = {Attachment::fromMemory("a\r\nb.txt", "x")}; break;
      case 7: m.attachments = {Attachment::fromMemory("a.txt", "x", "text plain")}; break;
    }
    auto body = m.compose(kNow);
    QVERIFY(!body);
    QCOMPARE(body.error().code(), ErrorCode::InvalidArgument);
    QVERIFY2(QString::fromStdString(body.error().explanation()).contains(field), body.error().explanation().c_str());
  }

  void dates_data() {
    QTest::addColumn<qlonglong>("seconds");
    QTest::addColumn<int>("offset");
    QTest::addColumn<QString>("expected");  // computed with Python's datetime
    QTest::newRow("epoch") << 0ll << 0 << "Thu, 1 Jan 1970 00:00:00 +0000";
    QTest::newRow("leap day 2000") << 951782400ll << 0 << "Tue, 29 Feb 2000 00:00:00 +0000";
    QTest::newRow("negative zone") << 4102444799ll << -330 << "Thu, 31 Dec 2099 18:29:59 -0530";
    QTest::newRow("before 1970") << -1ll << 0 << "Wed, 31 Dec 1969 23:59:59 +0000";
    QTest::newRow("+14:00 leap day") << 1709164800ll << 840 << "Thu, 29 Feb 2024 14:00:00 +1400";
  }
  void dates() {
    QFETCH(qlonglong, seconds);
    QFETCH(int, offset);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(encoding::rfc5322Date(seconds, offset)), expected);
  }

  void mailboxParsingAndChecks() {
    auto plain = Mailbox::parse("alice@example.org");
    QVERIFY(plain && plain->displayName().empty());
    auto named = Mailbox::parse("  \"Smith, John\" <john@example.org> ");
    QVERIFY(named);
    QCOMPARE(named->displayName(), std::string("Smith, John"));
    QCOMPARE(named->address(), std::string("john@example.org"));
    QVERIFY(Mailbox::parse("Jörg <jörg@bücher.example>")->needsSmtpUtf8());
    QVERIFY(!Mailbox::parse("Bob <not an address>"));
    QVERIFY(!Mailbox::create("Evil\r\nBcc: x@example.org", "a@example.org"));
    QVERIFY(!Attachment::fromFile("/nonexistent/file.pdf"));
    QVERIFY(QString::fromStdString(Attachment::fromFile("/nonexistent/file.pdf").error().explanation()).contains("/nonexistent/file.pdf"));
  }

  void throughTheEngine() {
    // The composed message goes through Session's DATA path (dot-stuffing, chunking, flow
    // control); un-stuffing what went on the wire gives back exactly the composed bytes.
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.text = ".leading dot\n..two\n.";
    m.attachments = {Attachment::fromMemory("big.bin", randomBytes(300000, 9))};
    auto outgoing = m.toOutgoing(kNow);
    QVERIFY(outgoing);
    auto body = std::static_pointer_cast<MimeBody>(outgoing->body);
    const std::string expected = *body->toString();

    ConnectParams params;
    params.host = "mx";
    params.security = SecurityMode::None;
    Session session(params);
    Time now{0};
    std::string wire;
    auto drain = [&] {
      while (auto out = session.poll())
        if (auto* w = std::get_if<WriteAction>(&*out)) {
          wire += w->bytes;
          session.onBytesFlushed(now, w->bytes.size());
        }
    };
    QVERIFY(!session.start(now).isError());
    QVERIFY(session.send(now, *outgoing));
    drain();
    session.onConnected(now, {"127.0.0.1", "127.0.0.1"});
    for (const char* reply : {"220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"}) {
      session.receive(now, reply);
      drain();
    }
    const std::size_t start = wire.find("DATA\r\n") + 6;
    QVERIFY(wire.size() > start + 5 && wire.compare(wire.size() - 5, 5, "\r\n.\r\n") == 0);
    std::string unstuffed;
    std::size_t pos = start;
    while (pos < wire.size() - 3) {
      const std::size_t end = wire.find("\r\n", pos);
      std::string_view line(wire.data() + pos, end - pos);
      if (!line.empty() && line[0] == '.') line.remove_prefix(1);
      unstuffed.append(line).append("\r\n");
      pos = end + 2;
    }
    QCOMPARE(unstuffed.size(), expected.size());
    QVERIFY(unstuffed == expected);
    QVERIFY(wire.find("MAIL FROM:<a@example.org>\r\n") != std::string::npos);  // no SIZE: not offered
  }

  void streamedReadsMatchWhole() {
    Message m;
    m.from = mb("", "a@example.org");
    m.to = {mb("", "b@example.net")};
    m.text = "body";
    m.attachments = {Attachment::fromMemory("a.bin", randomBytes(200000, 6)), Attachment::fromMemory("b.bin", "tiny")};
    auto body = *m.compose(kNow);
    const std::string whole = *body->toString();
    for (std::size_t step : {1u, 7u, 4096u, 65536u}) {
      QVERIFY(!body->prepare({}).isError());
      std::string pieces;
      std::string buffer(step, '\0');
      for (;;) {
        auto n = body->read(std::span<char>(buffer.data(), buffer.size()));
        QVERIFY(n);
        if (*n == 0) break;
        pieces.append(buffer.data(), *n);
      }
      QCOMPARE(pieces.size(), whole.size());
      QVERIFY(pieces == whole);
    }
    // Two compositions never share a Message-ID or boundary.
    auto other = *m.compose(kNow);
    QVERIFY(other->messageId() != body->messageId());
    QVERIFY(body->messageId().find("@example.org>") != std::string::npos);
  }
};

QTEST_MAIN(TestMessage)
#include "tst_message.moc"
