// smtpc/line_explain.h: every reply code and enhanced status code the scripts' servers send has an
// entry of its own, every line of every script's transcript is explained without a secret, the
// SASL challenges are decoded, and a typed AUTH payload is explained without its password.
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <algorithm>

#include "script_player.h"
#include "smtpc/base64.h"
#include "smtpc/line_explain.h"

using smtpc::explainLine;
using smtpc::LineExplanation;

namespace {

// The fallbacks' first words (line_explain_internal.h); fallbackSaysSo() proves they still match.
constexpr const char* kNoReplyEntry = "SMTPc has no entry of its own for reply code ";
constexpr const char* kNoEnhancedEntry = "SMTPc has no entry of its own for the enhanced status code ";
constexpr const char* kNoCommandEntry = "SMTPc has no entry for the command ";

QString all(const LineExplanation& e) {
  QString out = QString::fromStdString(e.title + "\n" + e.text);
  for (const auto& r : e.references) out += QLatin1Char('\n') + QString::fromStdString(r);
  return out;
}

bool hasReference(const LineExplanation& e, const std::string& reference) {
  return std::find(e.references.begin(), e.references.end(), reference) != e.references.end();
}

QString describe(const LineExplanation& e) { return all(e).replace(QLatin1Char('\n'), QLatin1String(" | ")); }

struct Script {
  QString name;
  QByteArray text;
};

std::vector<Script> scripts() {
  std::vector<Script> out;
  const QDir dir(QStringLiteral(SMTPC_SCRIPTS_DIR));
  for (const QString& file : dir.entryList({QStringLiteral("*.smtp")}, QDir::Files, QDir::Name)) {
    QFile f(dir.filePath(file));
    if (f.open(QIODevice::ReadOnly)) out.push_back({file, f.readAll()});
  }
  return out;
}

}  // namespace

class TestLineExplain : public QObject {
  Q_OBJECT
 private slots:
  // The example.
  void authenticationCredentialsInvalid() {
    const auto e = explainLine("535 5.7.8 Authentication credentials invalid");
    QCOMPARE(e.title, std::string("535 Authentication credentials invalid (5.7.8)"));
    QVERIFY2(hasReference(e, "RFC 4954 §6"), qPrintable(describe(e)));
    QVERIFY(hasReference(e, "RFC 3463 §3.8"));  // X.7.*: security or policy
    QVERIFY(hasReference(e, "RFC 5321 §4.2.1"));
    QVERIFY(all(e).contains(QStringLiteral("permanent")));
    QVERIFY(all(e).contains(QStringLiteral("subject 7 security or policy")));
    QVERIFY(all(e).contains(QStringLiteral("app password")));
  }

  // Every code and enhanced code a scripted server sends has an entry, not the fallback.
  void everyScriptedCodeHasAnEntry() {
    QSet<QString> codes, enhanced;
    const QRegularExpression reply(QStringLiteral("^S: ?(\\d{3})[ -]?(([245])\\.\\d{1,3}\\.\\d{1,3})?"));
    for (const auto& script : scripts()) {
      for (const QByteArray& line : script.text.split('\n')) {
        const auto match = reply.match(QString::fromUtf8(line));
        if (!match.hasMatch()) continue;
        codes.insert(match.captured(1));
        if (match.hasCaptured(2) && match.captured(3) == match.captured(1).left(1)) enhanced.insert(match.captured(2));
      }
    }
    QVERIFY2(codes.size() >= 20 && enhanced.size() >= 15, "the scripts' codes were not found");
    for (const QString& code : codes) {
      const auto e = explainLine((code + QStringLiteral(" some text")).toStdString());
      QVERIFY2(!all(e).contains(QLatin1String(kNoReplyEntry)), qPrintable(code + ": " + describe(e)));
    }
    for (const QString& status : enhanced) {
      const QString line = status.left(1) + QStringLiteral("50 ") + status + QStringLiteral(" some text");
      const auto e = explainLine(line.toStdString());
      QVERIFY2(!all(e).contains(QLatin1String(kNoEnhancedEntry)), qPrintable(line + ": " + describe(e)));
      QVERIFY2(QString::fromStdString(e.title).contains(status), qPrintable(describe(e)));
    }
  }

  // So the test above cannot pass because the markers changed: the fallbacks still say so.
  void fallbackSaysSo() {
    QVERIFY(all(explainLine("259 odd")).contains(QLatin1String(kNoReplyEntry)));
    QVERIFY(all(explainLine("550 5.9.99 odd")).contains(QLatin1String(kNoEnhancedEntry)));
    QVERIFY(all(explainLine("FROB x")).contains(QLatin1String(kNoCommandEntry)));
    const auto unknown = explainLine("259 odd");
    QVERIFY(all(unknown).contains(QStringLiteral("2yz positive completion")));  // still its class
  }

  // Every line of every script's transcript, as smtpc prints it, is explained; none gives away
  // the script's password or token, plain or in base64.
  void everyTranscriptLineExplainedWithoutSecrets() {
    int lines = 0;
    for (const auto& script : scripts()) {
      QStringList secrets;
      for (const QByteArray& line : script.text.split('\n')) {
        for (const char* key : {"@password ", "@token "}) {
          if (!line.startsWith(key)) continue;
          const QByteArray secret = line.mid(static_cast<int>(qstrlen(key))).trimmed();
          secrets << QString::fromUtf8(secret) << QString::fromStdString(smtpc::base64::encode(secret.toStdString()));
        }
      }
      const auto result = smtpc::testing::runScript(std::string_view(script.text.constData(), script.text.size()), false);
      for (const auto& line : QString::fromStdString(result.transcript).split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const auto e = explainLine(line.toStdString());
        QVERIFY2(!e.title.empty() && !e.text.empty(), qPrintable(script.name + ": " + line));
        for (const QString& secret : secrets)
          QVERIFY2(!all(e).contains(secret), qPrintable(script.name + ": " + line + " explained with a secret"));
        ++lines;
      }
    }
    QVERIFY(lines > 1000);
  }

  void replyCodesOfTheRfcs_data() {
    QTest::addColumn<int>("code");
    for (int code : {211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550,
                     551, 552, 553, 554, 555, 334, 235, 535, 454, 530, 534, 538})
      QTest::newRow(qPrintable(QString::number(code))) << code;
  }
  void replyCodesOfTheRfcs() {
    QFETCH(int, code);
    const auto e = explainLine(std::to_string(code) + " text");
    QVERIFY2(!all(e).contains(QLatin1String(kNoReplyEntry)), qPrintable(describe(e)));
    QVERIFY(!e.references.empty());
    const char* kClass[] = {"", "", "2yz", "3yz", "4yz", "5yz"};
    if (code != 334) QVERIFY2(all(e).contains(QLatin1String(kClass[code / 100])), qPrintable(describe(e)));
  }

  void enhancedCodesOfTheRegistry_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("says");
    QTest::newRow("5.7.8") << "535 5.7.8 x" << "Authentication credentials invalid";
    QTest::newRow("5.7.9") << "534 5.7.9 x" << "too weak";
    QTest::newRow("5.7.11") << "538 5.7.11 x" << "Encryption required";
    QTest::newRow("5.7.139") << "535 5.7.139 x" << "basic authentication is disabled";
    QTest::newRow("4.7.0") << "454 4.7.0 x" << "Temporary authentication failure";
    QTest::newRow("4.7.1") << "451 4.7.1 x" << "greylisting";
    QTest::newRow("5.7.1") << "554 5.7.1 x" << "relaying denied";
    QTest::newRow("4.5.3") << "452 4.5.3 x" << "Too many recipients";
    QTest::newRow("5.5.3") << "552 5.5.3 x" << "Too many recipients";
    QTest::newRow("5.3.4") << "552 5.3.4 x" << "Message too big";
    QTest::newRow("5.2.2") << "552 5.2.2 x" << "Mailbox full";
    QTest::newRow("5.1.1") << "550 5.1.1 x" << "Bad destination mailbox address";
    QTest::newRow("5.7.0") << "530 5.7.0 x" << "STARTTLS";
    QTest::newRow("5.5.2") << "500 5.5.2 x" << "Syntax error";
    QTest::newRow("2.1.5") << "250 2.1.5 x" << "Destination address valid";
  }
  void enhancedCodesOfTheRegistry() {
    QFETCH(QString, line);
    QFETCH(QString, says);
    const auto e = explainLine(line.toStdString());
    QVERIFY2(!all(e).contains(QLatin1String(kNoEnhancedEntry)), qPrintable(describe(e)));
    QVERIFY2(all(e).contains(says, Qt::CaseInsensitive), qPrintable(describe(e)));
  }

  void challengesDecoded_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("says");
    QTest::newRow("LOGIN user") << "334 VXNlcm5hbWU6" << "\"Username:\"";
    QTest::newRow("LOGIN password, inside TLS") << "<~ 334 UGFzc3dvcmQ6" << "\"Password:\"";
    QTest::newRow("CRAM-MD5 (RFC 2195)") << "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
                                         << "<1896.697170952@postoffice.reston.mci.net>";
    QTest::newRow("empty") << "334 " << "initial response";
    QTest::newRow("refused token (RFC 7628)") << "334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=" << "invalid_token";
    QTest::newRow("not base64") << "334 ???" << "should be base64";
    // SCRAM (RFC 7677 §3's example): what each of the server's messages carries.
    QTest::newRow("SCRAM server-first")
        << "334 cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY="
        << "SCRAM, 2 of 4: salt, iterations and nonces";
    QTest::newRow("SCRAM server-final") << "334 dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ=="
                                        << "4 of 4: the server's signature";
    QTest::newRow("SCRAM error") << "334 ZT1pbnZhbGlkLXByb29m" << "the password is wrong";
  }

  // SCRAM's notes (session_auth.cpp writes them): what the client's messages prove.
  void scramNotes() {
    const auto first = explainLine("=== (SCRAM client-first, decoded from base64: \"n,,n=user,r=rOprNGfwEbeRWgbNEkqO\")");
    QVERIFY2(all(first).contains(QStringLiteral("who logs in")), qPrintable(describe(first)));
    const auto final = explainLine("=== (SCRAM client-final, decoded from base64: \"c=biws,r=abc,p=********\")");
    QVERIFY2(all(final).contains(QStringLiteral("without sending it")), qPrintable(describe(final)));
    QVERIFY(hasReference(final, "RFC 5802 §3"));
    const auto proved = explainLine("=== The server's SCRAM signature is right: it knows the salted password too");
    QVERIFY2(all(proved).contains(QStringLiteral("server proves itself")), qPrintable(describe(proved)));
  }
  void challengesDecoded() {
    QFETCH(QString, line);
    QFETCH(QString, says);
    const auto e = explainLine(line.toStdString());
    QVERIFY2(all(e).contains(says), qPrintable(describe(e)));
    QVERIFY(hasReference(e, "RFC 4954 §4"));
  }

  // What a session's transcript holds: the answer masked, explained as masked.
  void maskedAnswer() {
    const auto e = explainLine(smtpc::TranscriptEntry{smtpc::TranscriptKind::Client, true, smtpc::Time{0}, "********"});
    QVERIFY2(all(e).contains(QStringLiteral("masks")), qPrintable(describe(e)));
    const auto initial = explainLine(" ~> AUTH PLAIN ********");
    QVERIFY2(all(initial).contains(QStringLiteral("\\0user\\0password")), qPrintable(describe(initial)));
    QVERIFY(all(initial).contains(QStringLiteral("masked")));
  }

  // A person may type a payload unmasked: its parts are named, its secret never shown.
  void typedPayloadWithoutItsSecret() {
    const std::string secret = "s3cret-Pw";
    const std::string plain = smtpc::base64::encode(std::string("\0demo\0", 6) + secret);
    for (const std::string& line : {"AUTH PLAIN " + plain, plain, "-> " + plain}) {
      const auto e = explainLine(line);
      QVERIFY2(all(e).contains(QStringLiteral("user name \"demo\"")), qPrintable(describe(e)));
      QVERIFY2(!all(e).contains(QString::fromStdString(secret)), qPrintable(describe(e)));
      QVERIFY(!all(e).contains(QString::fromStdString(plain)));
    }
    const std::string token = "ya29.secret-token";
    const auto xoauth2 = explainLine(smtpc::base64::encode("user=me@example.com\x01" "auth=Bearer " + token + "\x01\x01"));
    QVERIFY2(all(xoauth2).contains(QStringLiteral("XOAUTH2")), qPrintable(describe(xoauth2)));
    QVERIFY(!all(xoauth2).contains(QString::fromStdString(token)));
    // LOGIN's answer is the password itself in base64: not decoded at all.
    const auto login = explainLine(smtpc::base64::encode(secret));
    QVERIFY2(!all(login).contains(QString::fromStdString(secret)), qPrintable(describe(login)));
    QVERIFY(all(login).contains(QStringLiteral("does not decode")));
  }

  void commands_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("reference");
    QTest::newRow("EHLO") << "EHLO [192.0.2.10]" << "RFC 5321 §4.1.1.1";
    QTest::newRow("HELO") << "HELO client.example" << "RFC 5321 §4.1.1.1";
    QTest::newRow("STARTTLS") << "STARTTLS" << "RFC 3207 §4";
    QTest::newRow("AUTH") << "AUTH LOGIN" << "RFC 4954 §4";
    QTest::newRow("MAIL") << "MAIL FROM:<a@example.org>" << "RFC 5321 §4.1.1.2";
    QTest::newRow("RCPT") << "rcpt to:<b@example.net>" << "RFC 5321 §4.1.1.3";
    QTest::newRow("DATA") << "DATA" << "RFC 5321 §4.1.1.4";
    QTest::newRow("BDAT") << "BDAT 1000 LAST" << "RFC 3030 §2";
    QTest::newRow("RSET") << "RSET" << "RFC 5321 §4.1.1.5";
    QTest::newRow("NOOP") << "NOOP" << "RFC 5321 §4.1.1.9";
    QTest::newRow("QUIT") << "~> QUIT" << "RFC 5321 §4.1.1.10";
    QTest::newRow("VRFY") << "VRFY postmaster" << "RFC 5321 §4.1.1.6";
    QTest::newRow("EXPN") << "EXPN staff" << "RFC 5321 §4.1.1.7";
    QTest::newRow("HELP") << "HELP" << "RFC 5321 §4.1.1.8";
    QTest::newRow("SIZE=") << "MAIL FROM:<a@example.org> SIZE=1234" << "RFC 1870 §6";
    QTest::newRow("BODY=8BITMIME") << "MAIL FROM:<a@example.org> BODY=8BITMIME" << "RFC 6152 §2";
    QTest::newRow("SMTPUTF8") << "MAIL FROM:<a@example.org> SMTPUTF8" << "RFC 6531 §3.4";
    QTest::newRow("AUTH=") << "MAIL FROM:<a@example.org> AUTH=<>" << "RFC 4954 §5";
    QTest::newRow("end of data") << "." << "RFC 5321 §4.5.2";
    QTest::newRow("cancel AUTH") << "*" << "RFC 4954 §4";
  }
  void commands() {
    QFETCH(QString, line);
    QFETCH(QString, reference);
    const auto e = explainLine(line.toStdString());
    QVERIFY2(!all(e).contains(QLatin1String(kNoCommandEntry)), qPrintable(describe(e)));
    QVERIFY2(hasReference(e, reference.toStdString()), qPrintable(describe(e)));
  }

  void ehloKeywords_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("reference");
    QTest::newRow("PIPELINING") << "250-PIPELINING" << "RFC 2920 §3";
    QTest::newRow("SIZE") << "<~ 250-SIZE 35882577" << "RFC 1870 §4";
    QTest::newRow("8BITMIME") << "250-8BITMIME" << "RFC 6152 §2";
    QTest::newRow("SMTPUTF8") << "250-SMTPUTF8" << "RFC 6531 §3.2";
    QTest::newRow("STARTTLS") << "250-STARTTLS" << "RFC 3207 §4";
    QTest::newRow("AUTH") << "250-AUTH PLAIN LOGIN" << "RFC 4954 §3";
    QTest::newRow("AUTH=") << "250-AUTH=LOGIN" << "RFC 4954 §3";
    QTest::newRow("ENHANCEDSTATUSCODES") << "250-ENHANCEDSTATUSCODES" << "RFC 2034 §3";
    QTest::newRow("CHUNKING") << "250-CHUNKING" << "RFC 3030 §2";
    QTest::newRow("BINARYMIME") << "250-BINARYMIME" << "RFC 3030 §3";
    QTest::newRow("DSN") << "250-DSN" << "RFC 3461 §4";
    QTest::newRow("DELIVERBY") << "250-DELIVERBY 60" << "RFC 2852 §4";
    QTest::newRow("ETRN") << "250-ETRN" << "RFC 1985";
    QTest::newRow("REQUIRETLS") << "250 REQUIRETLS" << "RFC 8689 §4";
    QTest::newRow("server name") << "250-mx.example.net Hello [192.0.2.10]" << "RFC 5321 §4.1.1.1";
  }
  void ehloKeywords() {
    QFETCH(QString, line);
    QFETCH(QString, reference);
    const auto e = explainLine(line.toStdString());
    QVERIFY2(hasReference(e, reference.toStdString()), qPrintable(describe(e)));
    if (line.contains(QStringLiteral("mx.example.net")))
      QVERIFY2(all(e).contains(QStringLiteral("names the server")), qPrintable(describe(e)));
    else
      QVERIFY2(QString::fromStdString(e.title).startsWith(QStringLiteral("EHLO keyword")), qPrintable(describe(e)));
  }

  void notesAndTls() {
    const auto tls = explainLine(smtpc::TranscriptEntry{
        smtpc::TranscriptKind::Tls, true, smtpc::Time{0},
        "TLSv1.3 with TLS_AES_256_GCM_SHA384; the certificate for CN=mx.example.net is valid and trusted"});
    QVERIFY2(hasReference(tls, "RFC 8446"), qPrintable(describe(tls)));
    QVERIFY(all(tls).contains(QStringLiteral("trusted authority")));
    const auto insecure = explainLine("=== TLSv1.2 with ECDHE-RSA-AES128-GCM-SHA256; the certificate is NOT valid, "
                                      "accepted only because invalid certificates are allowed");
    QVERIFY2(all(insecure).contains(QStringLiteral("did NOT verify")), qPrintable(describe(insecure)));
    QVERIFY(hasReference(insecure, "RFC 5246"));
    QVERIFY2(all(insecure).contains(QStringLiteral("(EC)DHE gives forward secrecy")), qPrintable(describe(insecure)));
    const auto rsa = explainLine("=== TLSv1.2 with AES256-SHA256; the certificate was not verified");
    QVERIFY2(all(rsa).contains(QStringLiteral("no forward secrecy")), qPrintable(describe(rsa)));
    QVERIFY(all(rsa).contains(QStringLiteral("identity is not checked")));
    const auto note = explainLine("=== What the server offered before TLS is forgotten and asked for again");
    QVERIFY2(hasReference(note, "RFC 3207 §4.2"), qPrintable(describe(note)));
    const auto error = explainLine("*** Something odd happened");
    QVERIFY(all(error).contains(QStringLiteral("***")));
    // An error that names the server's reply explains that reply too.
    const auto refused = explainLine("*** The server refused the user name or password (535). Check both.");
    QVERIFY2(all(refused).contains(QStringLiteral("The server's reply behind it: 535 Authentication credentials invalid")),
             qPrintable(describe(refused)));
    QVERIFY(hasReference(refused, "RFC 4954 §6"));
    const auto startTls = explainLine("*** STARTTLS failed (454 4.7.0 TLS not available): going on WITHOUT encryption");
    QVERIFY2(hasReference(startTls, "RFC 3207 §4"), qPrintable(describe(startTls)));
  }

  // smtpc -v puts the seconds before the prefix: a pasted line still says who wrote it.
  void verboseTimestamp() {
    const auto e = explainLine("  1.234  ~> QUIT");
    QCOMPARE(e.title, std::string("QUIT: goodbye"));
    QCOMPARE(explainLine("  0.020 <-  250 2.0.0 Ok").title, explainLine("250 2.0.0 Ok").title);
    QVERIFY(explainLine("250 2.0.0 Ok").title.rfind("250 ", 0) == 0);
  }

  // Never an empty explanation, whatever is typed.
  void anythingGetsAnExplanation_data() {
    QTest::addColumn<QString>("line");
    for (const char* line : {"", "hello world", "999 nothing", "12", "<- garbage", "25O typo", "===", "~>",
                             "\xc3\xa9t\xc3\xa9", "334 AAEC"})
      QTest::newRow(line) << QString::fromUtf8(line);
  }
  void anythingGetsAnExplanation() {
    QFETCH(QString, line);
    const auto e = explainLine(line.toStdString());
    QVERIFY2(!e.title.empty() && !e.text.empty(), qPrintable(line));
  }
};

QTEST_APPLESS_MAIN(TestLineExplain)
#include "tst_line_explain.moc"
