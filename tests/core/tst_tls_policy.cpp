// Core's TLS policy (smtpc/tls_policy.h): the decisions both transports take from it.
#include <QtTest>

#include "smtpc/session.h"
#include "smtpc/tls_policy.h"

using namespace smtpc;

class TestTlsPolicy : public QObject {
  Q_OBJECT
 private slots:
  void names_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("kind");
    const int host = int(tls::NameKind::HostName), v4 = int(tls::NameKind::Ipv4), v6 = int(tls::NameKind::Ipv6),
              bad = int(tls::NameKind::Invalid);
    QTest::newRow("name") << "mail.example.com" << host;
    QTest::newRow("single label") << "localhost" << host;
    QTest::newRow("trailing dot") << "mail.example.com." << host;
    QTest::newRow("digits in labels") << "123.example.com" << host;
    QTest::newRow("punycode") << "xn--bcher-kva.example" << host;
    QTest::newRow("ipv4") << "192.0.2.10" << v4;
    QTest::newRow("ipv4 zero") << "0.0.0.0" << v4;
    QTest::newRow("ipv6 loopback") << "::1" << v6;
    QTest::newRow("ipv6 any") << "::" << v6;
    QTest::newRow("ipv6 full") << "2001:db8:0:0:0:0:0:1" << v6;
    QTest::newRow("ipv6 compressed") << "2001:db8::1" << v6;
    QTest::newRow("ipv6 mapped v4") << "::ffff:192.0.2.1" << v6;
    // Each of these set up no name check at all in the page's old TLS code.
    QTest::newRow("name:port") << "mail.example.com:587" << bad;
    QTest::newRow("short ipv4") << "10.1" << bad;
    QTest::newRow("ipv4 octal-looking") << "010.0.0.1" << bad;
    QTest::newRow("ipv4 over 255") << "256.1.1.1" << bad;
    QTest::newRow("ipv4 five parts") << "1.2.3.4.5" << bad;
    QTest::newRow("ipv6 two ::") << "1::2::3" << bad;
    QTest::newRow("ipv6 too many") << "1:2:3:4:5:6:7:8:9" << bad;
    QTest::newRow("ipv6 zone") << "fe80::1%eth0" << bad;
    QTest::newRow("bracketed") << "[::1]" << bad;
    QTest::newRow("empty") << "" << bad;
    QTest::newRow("space") << "mail example.com" << bad;
    QTest::newRow("empty label") << "mail..example.com" << bad;
    QTest::newRow("hyphen edge") << "-mail.example.com" << bad;
    QTest::newRow("long label") << QString(64, QLatin1Char('a')) + ".example" << bad;
    QTest::newRow("unicode") << "bücher.example" << bad;
    QTest::newRow("wildcard") << "*.example.com" << bad;
  }
  void names() {
    QFETCH(QString, name);
    QFETCH(int, kind);
    const std::string n = name.toStdString();
    QCOMPARE(int(tls::classifyName(n)), kind);
    QCOMPARE(tls::checkVerifyName(n).isError(), kind == int(tls::NameKind::Invalid));
  }

  void invalidVerifyNameRefusedBeforeConnecting() {
    for (const char* name : {"mail.example.com:587", "10.1"}) {
      ConnectParams params;
      params.host = "mail.example.com";
      params.security = SecurityMode::StartTls;
      params.tls.verifyName = name;
      Session session(params);
      const Error error = session.start(Time{0});
      QCOMPARE(error.code(), ErrorCode::InvalidArgument);
      QCOMPARE(session.state(), State::Idle);  // nothing was sent, no connection asked for
    }
    ConnectParams plain;
    plain.host = "10.1";  // not checked without TLS: there is no certificate to check
    plain.security = SecurityMode::None;
    Session session(plain);
    QVERIFY(!session.start(Time{0}));
    QVERIFY2(tls::checkVerifyName("mail.example.com:587").explanation().find("port separately") != std::string::npos,
             tls::checkVerifyName("mail.example.com:587").explanation().c_str());
  }

  void pins() {
    TlsInfo info;
    info.chain.push_back(CertificateInfo{"CN=a", "CN=b", "", "", {}, "", "AAAABBBBCCCC="});
    TlsConfig config;
    QVERIFY(!tls::checkPins(config, info));  // no pin: nothing to compare
    config.pinnedSha256 = {"sha256//other=", "sha256//AAAABBBBCCCC="};
    QVERIFY(!tls::checkPins(config, info));
    config.pinnedSha256 = {"sha256//AAAABBBBCCCD="};
    Error mismatch = tls::checkPins(config, info);
    QCOMPARE(mismatch.code(), ErrorCode::CertificateInvalid);
    QVERIFY(mismatch.explanation().find("sha256//AAAABBBBCCCC=") != std::string::npos);
    config.pinnedSha256 = {"sha256//AAAABBBBCCCC"};  // a prefix is not a match
    QVERIFY(tls::checkPins(config, info));
    info.chain.clear();  // a pin and no certificate to compare: refused, never skipped
    config.pinnedSha256 = {"sha256//AAAABBBBCCCC="};
    QVERIFY(tls::checkPins(config, info));
  }

  void decide() {
    TlsInfo good;
    TlsConfig config;
    QVERIFY(!tls::decide(config, good));
    QVERIFY(good.verified && !good.acceptedDespiteErrors);

    TlsInfo bad;
    bad.verificationErrors = {"The certificate is self-signed: x."};
    QCOMPARE(tls::decide(config, bad).code(), ErrorCode::CertificateInvalid);
    QVERIFY(!bad.verified);

    bool asked = false;
    config.trustCallback = [&](const TlsInfo&) { return asked = true, false; };
    QVERIFY(tls::decide(config, bad));
    QVERIFY(asked);
    config.trustCallback = [](const TlsInfo&) { return true; };
    QVERIFY(!tls::decide(config, bad));
    QVERIFY(bad.acceptedDespiteErrors);

    TlsConfig teaching;
    teaching.acceptInvalidCertificate = true;
    TlsInfo again;
    again.verificationErrors = {"x"};
    QVERIFY(!tls::decide(teaching, again));
    QVERIFY(again.acceptedDespiteErrors && !again.verified);
  }

  void sentencesPerTrustStore() {
    tls::CertificateProblem untrusted{tls::ProblemKind::UntrustedIssuer, "CN=leaf", "CN=Private CA", "", "", {}, ""};
    QVERIFY(tls::explain(untrusted, "h", tls::TrustStore::System).find("this computer does not trust") != std::string::npos);
    QVERIFY(tls::explain(untrusted, "h", tls::TrustStore::System).find("as a CA file") != std::string::npos);
    QVERIFY(tls::explain(untrusted, "h", tls::TrustStore::PageBundle).find("the page's CA bundle") != std::string::npos);
    tls::CertificateProblem wrongHost{tls::ProblemKind::HostNameMismatch, "CN=x", "", "", "", {"a.example", "b.example"}, ""};
    QCOMPARE(tls::explain(wrongHost, "c.example", tls::TrustStore::System),
             std::string("The certificate is for a.example, b.example, not for c.example: connect with a name the "
                         "certificate lists, or set the name to verify."));
    // Duplicates (the same problem reported for two depths) are said once.
    QCOMPARE(tls::explainAll({wrongHost, wrongHost, untrusted}, "c.example", tls::TrustStore::System).size(), std::size_t(2));
  }

  void handshakeFailures() {
    QVERIFY(tls::looksLikeClearText("error:0A00010B:SSL routines::wrong version number"));
    QVERIFY(tls::looksLikeClearText("packet length too long"));
    QVERIFY(!tls::looksLikeClearText("certificate verify failed"));
    QVERIFY(tls::handshakeFailure("wrong version number").explanation().find("STARTTLS or no TLS") != std::string::npos);
    QVERIFY(tls::handshakeFailure("").explanation().find("the server ended it") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestTlsPolicy)
#include "tst_tls_policy.moc"
