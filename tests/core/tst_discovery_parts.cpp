// Settings discovery's building blocks (smtpc/discovery.h, smtpc/public_suffix.h) against the
// RFCs and the Public Suffix List's own examples: the registrable domain, an address's domain,
// Thunderbird's placeholders and URLs, RFC 2782's SRV order and a clientConfig's servers. The flow
// itself is tst_discovery.
#include <QTest>

#include "smtpc/discovery.h"

using namespace smtpc;
using namespace smtpc::discovery;

class TestDiscoveryParts : public QObject {
  Q_OBJECT
 private slots:
  void publicSuffixes();
  void addressDomains();
  void placeholdersAndUrls();
  void srvOrder();
  void configCandidates();
};

void TestDiscoveryParts::publicSuffixes() {
  // The list's own test cases (publicsuffix.org/list/ "test data"), on a few of its rules.
  const auto list = PublicSuffixList::parse(
      "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\njp\n*.kawasaki.jp\n!city.kawasaki.jp\n"
      "// ===BEGIN PRIVATE DOMAINS===\nblogspot.com\n");
  QCOMPARE(list.registrableDomain("example.com"), std::string("example.com"));
  QCOMPARE(list.registrableDomain("b.example.com"), std::string("example.com"));
  QCOMPARE(list.registrableDomain("a.b.example.com"), std::string("example.com"));
  QCOMPARE(list.registrableDomain("com"), std::string());
  QCOMPARE(list.registrableDomain("www.example.co.uk"), std::string("example.co.uk"));
  QCOMPARE(list.registrableDomain("co.uk"), std::string());
  QCOMPARE(list.registrableDomain("c.ck"), std::string());
  QCOMPARE(list.registrableDomain("b.c.ck"), std::string("b.c.ck"));
  QCOMPARE(list.registrableDomain("a.b.c.ck"), std::string("b.c.ck"));
  QCOMPARE(list.registrableDomain("www.ck"), std::string("www.ck"));
  QCOMPARE(list.registrableDomain("www.www.ck"), std::string("www.ck"));
  QCOMPARE(list.registrableDomain("city.kawasaki.jp"), std::string("city.kawasaki.jp"));
  QCOMPARE(list.registrableDomain("a.b.kawasaki.jp"), std::string("a.b.kawasaki.jp"));
  QCOMPARE(list.registrableDomain("Mail.Example.COM."), std::string("example.com"));
  QCOMPARE(list.registrableDomain("x.blogspot.com"), std::string("x.blogspot.com"));
  // Not listed: the default rule "*" (the last label is the suffix).
  QCOMPARE(list.registrableDomain("mx1.mailhost.test"), std::string("mailhost.test"));
  QCOMPARE(PublicSuffixList().registrableDomain("mail.protection.outlook.com"), std::string("outlook.com"));
  QCOMPARE(list.registrableDomain("127.0.0.1"), std::string("127.0.0.1"));
  QCOMPARE(list.size(), std::size_t(9));
}

void TestDiscoveryParts::addressDomains() {
  std::string why;
  QCOMPARE(addressDomain("alice@Example.ORG", &why).value_or(""), std::string("example.org"));
  QCOMPARE(addressDomain("  a.b+c@mail.example.org.  ", &why).value_or(""), std::string("mail.example.org"));
  QVERIFY(!addressDomain("", &why));
  QVERIFY(!addressDomain("alice", &why));
  QVERIFY(why.find("@") != std::string::npos);
  QVERIFY(!addressDomain("Alice <alice@example.org>", &why));
  QVERIFY(!addressDomain("alice@localhost", &why));
  QVERIFY(!addressDomain("alice@[127.0.0.1]", &why));
  QVERIFY(!addressDomain("alice@exa mple.org", &why));
}

void TestDiscoveryParts::placeholdersAndUrls() {
  QCOMPARE(substitute("%EMAILLOCALPART%+smtp@%EMAILDOMAIN% %EMAILADDRESS%", "Al.ice@Own.test"),
           std::string("Al.ice+smtp@own.test Al.ice@Own.test"));
  QCOMPARE(documentUrl(DocumentKind::Autoconfig, "own.test", "a+b@own.test", ""),
           std::string("https://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=a%2Bb%40own.test"));
  QCOMPARE(documentUrl(DocumentKind::Autoconfig, "own.test", "a@own.test", "", true),
           std::string("http://autoconfig.own.test/mail/config-v1.1.xml?emailaddress=a%40own.test"));
  QCOMPARE(documentUrl(DocumentKind::WellKnown, "own.test", "a@own.test", ""),
           std::string("https://own.test/.well-known/autoconfig/mail/config-v1.1.xml"));
  QCOMPARE(documentUrl(DocumentKind::Ispdb, "own.test", "a@own.test", "https://autoconfig.thunderbird.net/v1.1"),
           std::string("https://autoconfig.thunderbird.net/v1.1/own.test"));
}

void TestDiscoveryParts::srvOrder() {
  // Priority first, whatever the weights.
  std::vector<SrvRecord> records{{20, 100, 1, "c."}, {10, 0, 2, "b."}, {10, 0, 3, "a."}};
  auto ordered = orderSrv(records, [] { return 0u; });
  QCOMPARE(ordered[0].priority, std::uint16_t(10));
  QCOMPARE(ordered[2].target, std::string("c."));
  // Within a priority, weight 90 against 10: over many draws the heavy one comes first about 9 in 10.
  std::uint32_t seed = 12345;
  int heavyFirst = 0;
  for (int i = 0; i < 1000; ++i) {
    auto o = orderSrv({{0, 10, 1, "light."}, {0, 90, 2, "heavy."}}, [&] { return seed = seed * 1103515245u + 12345u; });
    heavyFirst += o[0].target == "heavy." ? 1 : 0;
  }
  QVERIFY2(heavyFirst > 820 && heavyFirst < 970, std::to_string(heavyFirst).c_str());
  // A zero weight still gets picked when the draw is 0 (RFC 2782: weight-0 records first).
  auto zero = orderSrv({{0, 5, 1, "five."}, {0, 0, 2, "zero."}}, [] { return 0u; });
  QCOMPARE(zero[0].target, std::string("zero."));
}

void TestDiscoveryParts::configCandidates() {
  ClientConfig c;
  c.outgoing = {{"smtp.%EMAILDOMAIN%", "465", "SSL", "%EMAILADDRESS%", {"password-cleartext"}},
                {"smtp.own.test", "587", "STARTTLS", "%EMAILLOCALPART%", {}},
                {"smtp.own.test", "25", "plain", "", {}},
                {"bad host", "465", "SSL", "", {}},
                {"smtp.own.test", "99999", "SSL", "", {}},
                {"smtp.own.test", "465", "SSLv2", "", {}}};
  std::vector<std::string> problems;
  auto list = candidatesFrom(c, "alice@own.test", &problems);
  QCOMPARE(list.size(), std::size_t(3));
  QCOMPARE(list[0].host, std::string("smtp.own.test"));
  QCOMPARE(list[0].security, SecurityMode::ImplicitTls);
  QCOMPARE(list[0].username, std::string("alice@own.test"));
  QCOMPARE(list[1].security, SecurityMode::StartTls);
  QCOMPARE(list[1].username, std::string("alice"));
  QCOMPARE(list[2].security, SecurityMode::None);
  QCOMPARE(list[2].username, std::string("alice@own.test"));  // none given: the address
  QCOMPARE(problems.size(), std::size_t(3));
}

QTEST_APPLESS_MAIN(TestDiscoveryParts)
#include "tst_discovery_parts.moc"
