// SASL mechanisms against their RFCs' own examples, and the choice rules.
#include <QTest>
#include <sstream>

#include "smtpc/base64.h"
#include "smtpc/sasl.h"
#include "smtpc/scram.h"

using namespace smtpc;

namespace {
Capabilities capsWithAuth(const std::string& mechanisms) {
  Reply reply;
  reply.code = 250;
  reply.lines = {"mx", "AUTH " + mechanisms};
  return Capabilities::fromEhloReply(reply);
}
Credentials password(std::string user, std::string pass) {
  Credentials c;
  c.username = std::move(user);
  c.password = Secret(std::move(pass));
  return c;
}
}  // namespace

class TestSasl : public QObject {
  Q_OBJECT
 private slots:
  void plainRfc4616() {
    // RFC 4616 §4: "\0tim\0tanstaaftanstaaf"
    QCOMPARE(sasl::plain("", "tim", "tanstaaftanstaaf"), std::string("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));
    QCOMPARE(*base64::decode(sasl::plain("Ursel", "Kurt", "xipj3plmq")), std::string("Ursel\0Kurt\0xipj3plmq", 20));
  }
  void cramMd5Rfc2195() {
    auto response = sasl::cramMd5("tim", "tanstaaftanstaaf", "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
    QVERIFY(response);
    QCOMPARE(*base64::decode(*response), std::string("tim b913a602c7eda7a495b4e6e7334d3890"));
    QCOMPARE(sasl::cramMd5("tim", "x", "!!!").error().code(), ErrorCode::ProtocolViolation);
  }
  void xoauth2GoogleExample() {
    QCOMPARE(*base64::decode(sasl::xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")),
             std::string("user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"));
  }
  void oauthBearerRfc7628() {
    // RFC 7628 §4.1, with its host and port.
    QCOMPARE(*base64::decode(sasl::oauthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                               "server.example.com", 143)),
             std::string("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                         "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"));
    // RFC 5801 §4: "," and "=" in the authzid are escaped.
    QVERIFY(base64::decode(sasl::oauthBearer("a,b=c", "t", "", 0))->rfind("n,a=a=2Cb=3Dc,", 0) == 0);
  }

  void loginExchange() {
    Credentials creds = password("demo", "Pa55-word");
    sasl::Exchange exchange(AuthMechanism::Login, creds, "mx", 587);
    QVERIFY(!exchange.initialResponse());
    QCOMPARE(*exchange.respond("VXNlcm5hbWU6"), base64::encode("demo"));
    QCOMPARE(*exchange.respond("UGFzc3dvcmQ6"), base64::encode("Pa55-word"));
    QCOMPARE(exchange.respond("again?").error().code(), ErrorCode::ProtocolViolation);
  }

  // RFC 7677 §3 and RFC 5802 §5, through the Exchange the session uses.
  void scramExchangeVectors_data() {
    QTest::addColumn<int>("mechanism");
    QTest::addColumn<QString>("nonce");
    QTest::addColumn<QString>("serverFirst");
    QTest::addColumn<QString>("clientFinal");
    QTest::addColumn<QString>("serverFinal");
    QTest::newRow("SCRAM-SHA-256") << int(AuthMechanism::ScramSha256) << "rOprNGfwEbeRWgbNEkqO"
        << "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        << "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        << "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    QTest::newRow("SCRAM-SHA-1") << int(AuthMechanism::ScramSha1) << "fyko+d2lbbFgONRv9qkxdawL"
        << "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
        << "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        << "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
  }
  void scramExchangeVectors() {
    QFETCH(int, mechanism);
    QFETCH(QString, nonce);
    QFETCH(QString, serverFirst);
    QFETCH(QString, clientFinal);
    QFETCH(QString, serverFinal);
    Credentials creds = password("user", "pencil");
    creds.scramNonceForTests = nonce.toStdString();
    sasl::Exchange exchange(AuthMechanism(mechanism), creds, "mx", 587);
    QVERIFY(!exchange.setupError());
    QCOMPARE(*base64::decode(*exchange.initialResponse()), "n,,n=user,r=" + nonce.toStdString());
    auto final = exchange.respond(base64::encode(serverFirst.toStdString()));
    QVERIFY(final);
    QCOMPARE(*base64::decode(*final), clientFinal.toStdString());
    QVERIFY(exchange.takeNote().find(",p=********") != std::string::npos);
    QCOMPARE(exchange.finish().code(), ErrorCode::ServerNotAuthenticated);  // 235 now would not be trusted
    auto empty = exchange.respond(base64::encode(serverFinal.toStdString()));
    QVERIFY(empty);
    QCOMPARE(*empty, std::string());
    QVERIFY(!exchange.finish());
  }

  void scramRandomNonceAndEscapedName() {
    sasl::Scram a(sasl::ScramHash::Sha256, "a,b=c", "pw"), b(sasl::ScramHash::Sha256, "a,b=c", "pw");
    const std::string first = *a.clientFirst();
    QVERIFY(first.rfind("n,,n=a=2Cb=3Dc,r=", 0) == 0);
    QCOMPARE(first.size(), std::string("n,,n=a=2Cb=3Dc,r=").size() + 32);  // 24 random bytes in base64
    QVERIFY(first != *b.clientFirst());
  }

  void scramRefusals() {
    const std::string nonce = "rOprNGfwEbeRWgbNEkqO";
    const auto firstWith = [&](const std::string& serverFirst) {
      sasl::Scram scram(sasl::ScramHash::Sha256, "user", "pencil", nonce);
      return scram.clientFinal(serverFirst);
    };
    QCOMPARE(firstWith("r=" + nonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095").error().code(), ErrorCode::ServerNotAuthenticated);
    QCOMPARE(firstWith("r=" + nonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001").error().code(), ErrorCode::ServerNotAuthenticated);
    QCOMPARE(firstWith("r=" + nonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999").error().code(), ErrorCode::ProtocolViolation);
    QCOMPARE(firstWith("r=other" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").error().code(), ErrorCode::ServerNotAuthenticated);
    QCOMPARE(firstWith("r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").error().code(), ErrorCode::ProtocolViolation);
    QCOMPARE(firstWith("m=ext,r=" + nonce + "x,s=QQ==,i=4096").error().code(), ErrorCode::ProtocolViolation);
    QCOMPARE(firstWith("r=" + nonce + "x,s=!!,i=4096").error().code(), ErrorCode::ProtocolViolation);
    QCOMPARE(firstWith("e=unknown-user").error().code(), ErrorCode::AuthFailed);
    QVERIFY(firstWith("e=unknown-user").error().explanation().find("no such user") != std::string::npos);
    QVERIFY(firstWith("r=" + nonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    // A wrong signature, of the right length and not.
    sasl::Scram scram(sasl::ScramHash::Sha256, "user", "pencil", nonce);
    QVERIFY(scram.clientFinal("r=" + nonce + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    const Error wrong = scram.verifyServerFinal("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    QCOMPARE(wrong.code(), ErrorCode::ServerNotAuthenticated);
    QVERIFY(wrong.explanation().find("the server does not know your password — it may not be the server you meant") !=
            std::string::npos);
    QCOMPARE(scram.verifyServerFinal("v=AAAA").code(), ErrorCode::ServerNotAuthenticated);
    QVERIFY(!scram.serverVerified());
    QVERIFY(!scram.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    QVERIFY(scram.serverVerified());
  }

  // RFC 4013 §3's examples, then the other rules.
  void saslPrep_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");  // "!": refused
    QTest::newRow("soft hyphen mapped to nothing") << QString::fromUtf8("I\u00ADX") << "IX";
    QTest::newRow("no transformation") << "user" << "user";
    QTest::newRow("case preserved") << "USER" << "USER";
    QTest::newRow("output is NFKC") << QString::fromUtf8("\u00AA") << "a";
    QTest::newRow("NFKC roman numeral") << QString::fromUtf8("\u2168") << "IX";
    QTest::newRow("prohibited character") << QString::fromUtf8("\x07") << "!";
    QTest::newRow("bidirectional check") << QString::fromUtf8("\u0627" "1") << "!";
    QTest::newRow("right to left, both ends") << QString::fromUtf8("\u0627" "1" "\u0628") << QString::fromUtf8("\u0627" "1" "\u0628");
    QTest::newRow("right and left mixed") << QString::fromUtf8("\u0627a\u0628") << "!";
    QTest::newRow("no-break space to space") << QString::fromUtf8("a\u00A0b\u3000c") << "a b c";
    QTest::newRow("fullwidth") << QString::fromUtf8("\uFF21\uFF42") << "Ab";
    QTest::newRow("precomposed stays") << QString::fromUtf8("w\u00F6rd \uAC00") << QString::fromUtf8("w\u00F6rd \uAC00");
    QTest::newRow("private use") << QString::fromUtf8("a\uE000") << "!";
    QTest::newRow("combining mark refused") << QString::fromUtf8("e\u0301") << "!";
    QTest::newRow("ascii control") << "a\tb" << "!";
    QTest::newRow("empty") << "" << "";
  }
  void saslPrep() {
    QFETCH(QString, input);
    QFETCH(QString, expected);
    auto prepared = sasl::saslPrep(input.toStdString());
    if (expected == "!") {
      QVERIFY(!prepared);
      QVERIFY(prepared.error().explanation().find("RFC 4013") != std::string::npos);
    } else {
      QVERIFY2(prepared, prepared ? "" : prepared.error().explanation().c_str());
      QCOMPARE(QString::fromStdString(*prepared), expected);
    }
  }
  void saslPrepInvalidUtf8() {
    QVERIFY(!sasl::saslPrep("\xC3\x28"));
    QVERIFY(!sasl::saslPrep("\xED\xA0\x80"));  // a surrogate
  }

  void choose_data() {
    QTest::addColumn<QString>("offered");
    QTest::addColumn<QString>("wanted");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<bool>("allowPlain");
    QTest::addColumn<bool>("token");
    QTest::addColumn<QString>("expected");  // a mechanism, or an error code name
    QTest::newRow("tls prefers plain") << "LOGIN PLAIN CRAM-MD5" << "AUTO" << true << false << false << "PLAIN";
    QTest::newRow("tls login only") << "LOGIN" << "AUTO" << true << false << false << "LOGIN";
    QTest::newRow("clear refuses cram") << "PLAIN CRAM-MD5" << "AUTO" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("clear allowed prefers cram") << "PLAIN CRAM-MD5" << "AUTO" << false << true << false << "CRAM-MD5";
    QTest::newRow("clear refuses plain") << "PLAIN LOGIN" << "AUTO" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("clear allowed") << "PLAIN LOGIN" << "AUTO" << false << true << false << "PLAIN";
    QTest::newRow("token prefers oauthbearer") << "XOAUTH2 OAUTHBEARER PLAIN" << "AUTO" << true << false << true << "OAUTHBEARER";
    QTest::newRow("token xoauth2") << "XOAUTH2 PLAIN" << "AUTO" << true << false << true << "XOAUTH2";
    QTest::newRow("token but none") << "PLAIN LOGIN" << "AUTO" << true << false << true << "NoCommonMechanism";
    QTest::newRow("token in clear refused") << "XOAUTH2" << "AUTO" << false << false << true << "PlaintextAuthRefused";
    QTest::newRow("nothing usable") << "GSSAPI NTLM" << "AUTO" << true << false << false << "NoCommonMechanism";
    QTest::newRow("no auth at all") << "" << "AUTO" << true << false << false << "AuthNotOffered";
    QTest::newRow("named offered") << "PLAIN LOGIN" << "LOGIN" << true << false << false << "LOGIN";
    QTest::newRow("named not offered") << "PLAIN" << "LOGIN" << true << false << false << "NoCommonMechanism";
    QTest::newRow("named in clear") << "PLAIN" << "PLAIN" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("named cram in clear") << "CRAM-MD5" << "CRAM-MD5" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("named cram in clear allowed") << "CRAM-MD5" << "CRAM-MD5" << false << true << false << "CRAM-MD5";
    QTest::newRow("named token without token") << "XOAUTH2" << "XOAUTH2" << true << false << false << "NullArgument";
    // SCRAM: first for a password; -256 before -1; -1 before PLAIN; without TLS only when allowed.
    QTest::newRow("tls prefers scram-256") << "PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256" << "AUTO" << true << false << false << "SCRAM-SHA-256";
    QTest::newRow("tls scram-1 over plain") << "PLAIN LOGIN SCRAM-SHA-1" << "AUTO" << true << false << false << "SCRAM-SHA-1";
    QTest::newRow("clear refuses scram") << "SCRAM-SHA-256" << "AUTO" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("clear allowed prefers scram") << "PLAIN CRAM-MD5 SCRAM-SHA-1" << "AUTO" << false << true << false << "SCRAM-SHA-1";
    QTest::newRow("named scram-1") << "SCRAM-SHA-1 SCRAM-SHA-256" << "SCRAM-SHA-1" << true << false << false << "SCRAM-SHA-1";
    QTest::newRow("named scram in clear") << "SCRAM-SHA-256" << "SCRAM-SHA-256" << false << false << false << "PlaintextAuthRefused";
    QTest::newRow("token ignores scram") << "SCRAM-SHA-256 XOAUTH2" << "AUTO" << true << false << true << "XOAUTH2";
  }
  void choose() {
    QFETCH(QString, offered);
    QFETCH(QString, wanted);
    QFETCH(bool, tls);
    QFETCH(bool, allowPlain);
    QFETCH(bool, token);
    QFETCH(QString, expected);
    Reply reply;
    reply.code = 250;
    reply.lines = {"mx"};
    if (!offered.isEmpty()) reply.lines.push_back("AUTH " + offered.toStdString());
    const Capabilities caps = Capabilities::fromEhloReply(reply);
    Credentials creds = password("demo", "pw");
    if (token) creds.oauthToken = Secret("tok");
    auto chosen = sasl::choose(*mechanismFromName(wanted.toStdString()), caps, creds, tls, allowPlain);
    const QString got = chosen ? QString::fromStdString(std::string(mechanismName(*chosen)))
                               : QString::fromStdString(std::string(errorCodeName(chosen.error().code())));
    QCOMPARE(got, expected);
    if (!chosen) QVERIFY(!chosen.error().explanation().empty());
  }

  // The flat JSON reader for the error challenge of a refused token (RFC 7628 §3.2.2).
  void flatJsonReadsMembers() {
    auto members = sasl::readFlatJsonObject("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
    QVERIFY(members);
    QCOMPARE(members->size(), std::size_t(3));
    QCOMPARE((*members)[0].name, std::string("status"));
    QCOMPARE((*members)[0].value, std::string("401"));
    QCOMPARE((*members)[2].value, std::string("https://mail.google.com/"));
    // Numbers kept as written, true/false as words, null members left out; RFC 8259 whitespace.
    members = sasl::readFlatJsonObject(" {\r\n\t\"status\" : 401 , \"ok\":true,\"no\":false, \"n\":null, \"x\":-1.5e+3 } ");
    QVERIFY(members);
    QCOMPARE(members->size(), std::size_t(4));
    QCOMPARE((*members)[0].value, std::string("401"));
    QCOMPARE((*members)[1].value, std::string("true"));
    QCOMPARE((*members)[2].value, std::string("false"));
    QCOMPARE((*members)[3].value, std::string("-1.5e+3"));
    QVERIFY(sasl::readFlatJsonObject("{}") && sasl::readFlatJsonObject("{}")->empty());
  }
  void flatJsonEscapes() {
    // \" \\ \/ \n, \u00e9 (é) and a surrogate pair (U+1F600) decoded to UTF-8; raw UTF-8 kept.
    auto members = sasl::readFlatJsonObject("{\"a\":\"q\\\"b\\\\s\\/\\u00e9\\ud83d\\ude00\\n\",\"b\":\"é\"}");
    QVERIFY(members);
    QCOMPARE((*members)[0].value, std::string("q\"b\\s/\xC3\xA9\xF0\x9F\x98\x80\n"));
    QCOMPARE((*members)[1].value, std::string("\xC3\xA9"));
    // One, two and three UTF-8 bytes: A, Δ (U+0394), € (U+20AC).
    QCOMPARE(sasl::readFlatJsonObject("{\"a\":\"\\u0041\\u0394\\u20AC\"}")->front().value,
             std::string("A\xCE\x94\xE2\x82\xAC"));
  }
  void flatJsonRefuses_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("why");  // a part of the error's explanation
    QTest::newRow("nested object") << QByteArray("{\"status\":{\"code\":\"401\"}}") << "nested object or array";
    QTest::newRow("nested array") << QByteArray("{\"schemes\":[\"bearer\"]}") << "nested object or array";
    QTest::newRow("not an object") << QByteArray("[\"status\"]") << "does not start with {";
    QTest::newRow("empty") << QByteArray("") << "does not start with {";
    QTest::newRow("duplicate") << QByteArray("{\"status\":\"401\",\"status\":\"200\"}") << "appears twice";
    QTest::newRow("duplicate null") << QByteArray("{\"s\":null,\"s\":\"1\"}") << "appears twice";
    QTest::newRow("trailing bytes") << QByteArray("{\"status\":\"401\"}x") << "more follows";
    QTest::newRow("two objects") << QByteArray("{}{}") << "more follows";
    QTest::newRow("truncated") << QByteArray("{\"status\":\"4") << "not closed";
    QTest::newRow("no closing brace") << QByteArray("{\"status\":\"401\"") << "',' or '}' is missing";
    QTest::newRow("trailing comma") << QByteArray("{\"status\":\"401\",}") << "name is not a string";
    QTest::newRow("unquoted name") << QByteArray("{status:\"401\"}") << "name is not a string";
    QTest::newRow("single quotes") << QByteArray("{'status':'401'}") << "name is not a string";
    QTest::newRow("no colon") << QByteArray("{\"status\" \"401\"}") << "':' is missing";
    QTest::newRow("bare word") << QByteArray("{\"status\":invalid}") << "not a string, number";
    QTest::newRow("unknown escape") << QByteArray("{\"a\":\"\\x41\"}") << "unknown escape";
    QTest::newRow("short \\u") << QByteArray("{\"a\":\"\\u00e\"}") << "four hex digits";
    QTest::newRow("lone low surrogate") << QByteArray("{\"a\":\"\\udc00\"}") << "lone low surrogate";
    QTest::newRow("high surrogate alone") << QByteArray("{\"a\":\"\\ud83dx\"}") << "without its low one";
    QTest::newRow("escape at the end") << QByteArray("{\"a\":\"\\") << "cut short";
    QTest::newRow("raw line break") << QByteArray("{\"a\":\"x\ny\"}") << "raw control character";
    QTest::newRow("overlong UTF-8") << QByteArray("{\"a\":\"\xC0\xAF\"}") << "not valid UTF-8";
    QTest::newRow("UTF-8 surrogate") << QByteArray("{\"a\":\"\xED\xA0\x80\"}") << "not valid UTF-8";
    QTest::newRow("above U+10FFFF") << QByteArray("{\"a\":\"\xF5\x80\x80\x80\"}") << "not valid UTF-8";
    QTest::newRow("cut UTF-8") << QByteArray("{\"a\":\"\xE2\x82") << "not valid UTF-8";
    QTest::newRow("leading zero") << QByteArray("{\"a\":01}") << "',' or '}' is missing";
    QTest::newRow("minus alone") << QByteArray("{\"a\":-}") << "no digits";
    QTest::newRow("no fraction digits") << QByteArray("{\"a\":1.}") << "no digits after";
    QTest::newRow("no exponent digits") << QByteArray("{\"a\":1e}") << "exponent has no digits";
  }
  void flatJsonRefuses() {
    QFETCH(QByteArray, json);
    QFETCH(QString, why);
    auto members = sasl::readFlatJsonObject(std::string_view(json.constData(), json.size()));
    QVERIFY(!members);
    QVERIFY2(QString::fromStdString(members.error().explanation()).contains(why),
             members.error().explanation().c_str());
  }
  void flatJsonEveryPrefixIsRefused() {
    // A challenge cut anywhere (a line limit, a hostile server) is refused, never read past its end.
    const std::string json = "{\"status\":\"invalid_token\",\"scope\":\"a b\",\"n\":-12.5E-3,\"t\":true,\"e\":\"\\u00e9\\ud83d\\ude00\"}";
    QVERIFY(sasl::readFlatJsonObject(json));
    for (std::size_t length = 0; length < json.size(); ++length)
      QVERIFY2(!sasl::readFlatJsonObject(std::string_view(json).substr(0, length)), json.substr(0, length).c_str());
  }
  void flatJsonIsBounded() {
    const std::string head = "{\"scope\":\"";
    const std::string atLimit = head + std::string(sasl::kMaxFlatJsonBytes - head.size() - 2, 'x') + "\"}";
    QCOMPARE(atLimit.size(), sasl::kMaxFlatJsonBytes);
    QVERIFY(sasl::readFlatJsonObject(atLimit));
    const std::string over = head + std::string(sasl::kMaxFlatJsonBytes - head.size() - 1, 'x') + "\"}";
    auto refused = sasl::readFlatJsonObject(over);
    QVERIFY(!refused);
    QVERIFY(refused.error().explanation().find("longer than 4096 bytes") != std::string::npos);
    // A megabyte of nesting is refused by its size, before any of it is looked at.
    QVERIFY(!sasl::readFlatJsonObject(std::string(1 << 20, '[')));
    QVERIFY(!sasl::readFlatJsonObject("{\"a\":" + std::string(4000, '[')));
    // At most kMaxFlatJsonMembers members.
    std::string members = "{";
    for (std::size_t i = 0; i < sasl::kMaxFlatJsonMembers; ++i)
      members += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":1";
    QVERIFY(sasl::readFlatJsonObject(members + "}"));
    auto tooMany = sasl::readFlatJsonObject(members + ",\"one more\":1}");
    QVERIFY(!tooMany);
    QVERIFY(tooMany.error().explanation().find("more than 32 members") != std::string::npos);
  }

  void tokenRefusal_data() {
    QTest::addColumn<QString>("json");     // encoded to base64 here; "!" + text: sent as it is
    QTest::addColumn<QString>("granted");  // Credentials::oauthScope
    QTest::addColumn<int>("problem");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("missing");
    using P = sasl::TokenProblem;
    QTest::newRow("google 401") << "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}" << ""
                                << int(P::InvalidToken) << "401" << "";
    QTest::newRow("rfc 7628 invalid_token") << "{\"status\":\"invalid_token\",\"scope\":\"s\",\"openid-configuration\":\"u\"}"
                                            << "" << int(P::InvalidToken) << "invalid_token" << "";
    QTest::newRow("insufficient_scope") << "{\"status\":\"insufficient_scope\",\"scope\":\"smtp\"}" << ""
                                        << int(P::InsufficientScope) << "insufficient_scope" << "";
    QTest::newRow("google 400") << "{\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}" << ""
                                << int(P::InvalidRequest) << "400" << "";
    QTest::newRow("status as a number") << "{\"status\":401}" << "" << int(P::InvalidToken) << "401" << "";
    QTest::newRow("unknown status") << "{\"status\":\"teapot\"}" << "" << int(P::Other) << "teapot" << "";
    QTest::newRow("granted another scope") << "{\"status\":\"401\",\"scope\":\"https://mail.google.com/\"}"
                                           << "https://www.googleapis.com/auth/gmail.send openid"
                                           << int(P::InsufficientScope) << "401" << "https://mail.google.com/";
    QTest::newRow("granted the scope") << "{\"status\":\"401\",\"scope\":\"https://mail.google.com/\"}"
                                       << "openid https://mail.google.com/" << int(P::InvalidToken) << "401" << "";
    QTest::newRow("not base64") << "!{\"status\":\"401\"}" << "" << int(P::NotUnderstood) << "" << "";
    QTest::newRow("empty") << "!" << "" << int(P::NotUnderstood) << "" << "";
    QTest::newRow("no status") << "{\"scope\":\"s\"}" << "" << int(P::NotUnderstood) << "" << "";
    QTest::newRow("nested") << "{\"status\":{\"code\":\"401\"}}" << "" << int(P::NotUnderstood) << "" << "";
    QTest::newRow("line break in status") << "{\"status\":\"401\\r\\n250 ok\"}" << "" << int(P::NotUnderstood) << "" << "";
    QTest::newRow("escape code in scope") << "{\"status\":\"401\",\"scope\":\"\\u001b[2J\"}" << "" << int(P::NotUnderstood)
                                          << "" << "";
  }
  void tokenRefusal() {
    QFETCH(QString, json);
    QFETCH(QString, granted);
    QFETCH(int, problem);
    QFETCH(QString, status);
    QFETCH(QString, missing);
    const std::string challenge =
        json.startsWith('!') ? json.mid(1).toStdString() : base64::encode(json.toStdString());
    const sasl::TokenRefusal refusal = sasl::readTokenRefusal(challenge, granted.toStdString());
    QCOMPARE(int(refusal.problem), problem);
    QCOMPARE(QString::fromStdString(refusal.status), status);
    QCOMPARE(QString::fromStdString(refusal.missingScope), missing);
    QCOMPARE(refusal.notUnderstood.empty(), refusal.problem != sasl::TokenProblem::NotUnderstood);
    const std::string sentence = sasl::describe(refusal);
    QVERIFY(!sentence.empty());
    for (unsigned char c : sentence) QVERIFY2(c >= 0x20 && c != 0x7F, sentence.c_str());  // one transcript line
    if (!status.isEmpty()) QVERIFY(sentence.find("(status " + status.toStdString() + ")") != std::string::npos);
    QVERIFY(!sasl::refusalReason(&refusal).empty());
  }
  void tokenRefusalSentences() {
    const auto google = sasl::readTokenRefusal(
        base64::encode("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}"));
    QCOMPARE(sasl::describe(google),
             std::string("The server says the token is not valid (status 401) for scope https://mail.google.com/: it "
                         "has expired (access tokens last about an hour), was revoked, or was issued for another "
                         "service."));
    QCOMPARE(sasl::refusalReason(&google), std::string("it is not valid, most likely expired or revoked"));
    QCOMPARE(sasl::refusalReason(nullptr), std::string());
    QCOMPARE(sasl::missingScopes("a b  c", "c a"), std::string("b"));
    QCOMPARE(sasl::missingScopes("", "a"), std::string());
  }
  void exchangeKeepsTheRefusal() {
    Credentials creds;
    creds.username = "someone@example.com";
    creds.oauthToken = Secret("ya29.token-123");
    const std::string challenge = base64::encode("{\"status\":\"invalid_token\",\"scope\":\"smtp\"}");
    sasl::Exchange xoauth2(AuthMechanism::XOAuth2, creds, "mx", 587);
    QVERIFY(!xoauth2.tokenRefusal());
    QCOMPARE(*xoauth2.respond(challenge), std::string());
    QVERIFY(xoauth2.tokenRefusal());
    QCOMPARE(int(xoauth2.tokenRefusal()->problem), int(sasl::TokenProblem::InvalidToken));
    QCOMPARE(xoauth2.tokenRefusal()->scope, std::string("smtp"));
    sasl::Exchange bearer(AuthMechanism::OAuthBearer, creds, "mx", 587);
    QCOMPARE(*bearer.respond("%%%"), std::string("AQ=="));  // RFC 7628 §3.2.3, whatever the challenge
    QCOMPARE(int(bearer.tokenRefusal()->problem), int(sasl::TokenProblem::NotUnderstood));
    const Credentials loginCreds = password("demo", "Pa55-word");
    sasl::Exchange login(AuthMechanism::Login, loginCreds, "mx", 587);
    (void)login.respond("VXNlcm5hbWU6");
    QVERIFY(!login.tokenRefusal());
  }

  void secretsPrintRedacted() {
    Secret secret("hunter2");
    std::ostringstream out;
    out << secret;
    QCOMPARE(out.str(), std::string("********"));
    QCOMPARE(secret.reveal(), std::string_view("hunter2"));
    Secret moved(std::move(secret));
    QVERIFY(secret.empty());  // NOLINT: checking the moved-from state on purpose
    QCOMPARE(moved.reveal(), std::string_view("hunter2"));
  }
};

QTEST_APPLESS_MAIN(TestSasl)
#include "tst_sasl.moc"
