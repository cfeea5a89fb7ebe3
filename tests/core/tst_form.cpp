// The front-end model (smtpc/form.h): the rules the GUI, the CLI and the page share.
#include <QtTest>

#include <set>

#include "smtpc/form.h"
#include "smtpc/views.h"

using namespace smtpc;
using namespace smtpc::form;

class TestForm : public QObject {
  Q_OBJECT
 private slots:
  void servers_data() {
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("headline");  // empty: accepted
    QTest::newRow("name") << "smtp.example.com" << "";
    QTest::newRow("spaces around") << "  smtp.example.com " << "";
    QTest::newRow("ipv6") << "::1" << "";
    QTest::newRow("empty") << "" << "No server";
    QTest::newRow("blank") << "   " << "No server";
    QTest::newRow("url") << "smtp://smtp.example.com" << "That is not a server name";
    QTest::newRow("address") << "me@example.com" << "That is not a server name";
    QTest::newRow("inner space") << "smtp example.com" << "That is not a server name";
  }
  void servers() {
    QFETCH(QString, server);
    QFETCH(QString, headline);
    const auto problem = checkServer(server.toStdString());
    QCOMPARE(problem ? QString::fromStdString(problem->headline) : QString(), headline);
    if (problem) QCOMPARE(problem->field, std::string("server"));
  }

  void serverAndPort() {
    // --server's HOST[:PORT], as the CLI (smtpc, --interactive) splits it.
    const auto split = [](const char* text) { return form::splitServer(text); };
    QCOMPARE(split("smtp.example.com")->host, std::string("smtp.example.com"));
    QCOMPARE(split("smtp.example.com")->port, 0);
    QCOMPARE(split("smtp.example.com:465")->host, std::string("smtp.example.com"));
    QCOMPARE(split("smtp.example.com:465")->port, 465);
    QCOMPARE(split("[::1]:2525")->host, std::string("::1"));
    QCOMPARE(split("[::1]:2525")->port, 2525);
    QCOMPARE(split("[::1]")->port, 0);
    QCOMPARE(split("::1")->host, std::string("::1"));  // a bare IPv6 address is all host
    QCOMPARE(split("::1")->port, 0);
    QCOMPARE(split("host:587x")->port, 0);  // not a number: as if none were given
    QCOMPARE(split("host:-1")->port, -1);   // a number, out of range: the caller says so
    QVERIFY(!split("[::1:25"));
  }

  void addressLists_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("parts");
    QTest::newRow("one") << "a@example.org" << QStringList{"a@example.org"};
    QTest::newRow("comma, semicolon, newline") << "a@x.org, b@x.org;c@x.org\nd@x.org"
                                               << QStringList{"a@x.org", "b@x.org", "c@x.org", "d@x.org"};
    QTest::newRow("quoted comma") << "\"Doe, Jane\" <jane@x.org>, bob@x.org"
                                  << QStringList{"\"Doe, Jane\" <jane@x.org>", "bob@x.org"};
    QTest::newRow("empty parts") << " , ;\n ,a@x.org,, " << QStringList{"a@x.org"};
    QTest::newRow("nothing") << "" << QStringList{};
  }
  void addressLists() {
    QFETCH(QString, text);
    QFETCH(QStringList, parts);
    QStringList got;
    for (const auto& p : splitAddresses(text.toStdString())) got << QString::fromStdString(p);
    QCOMPARE(got, parts);
  }

  void securityHints_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("contains");  // empty: no hint
    QTest::newRow("starttls 587") << int(SecurityMode::StartTls) << 587 << "";
    QTest::newRow("tls 465") << int(SecurityMode::ImplicitTls) << 465 << "";
    QTest::newRow("tls 587") << int(SecurityMode::ImplicitTls) << 587 << "Port 587 usually starts in clear text";
    QTest::newRow("tls 25") << int(SecurityMode::ImplicitTls) << 25 << "Port 25 usually starts in clear text";
    QTest::newRow("starttls 465") << int(SecurityMode::StartTls) << 465 << "choose Implicit TLS";
    QTest::newRow("none 25") << int(SecurityMode::None) << 25 << "Nothing is encrypted";
    QTest::newRow("if offered 587") << int(SecurityMode::StartTlsIfOffered) << 587 << "removed by an attacker";
    QTest::newRow("none 465: the port wins") << int(SecurityMode::None) << 465 << "choose Implicit TLS";
  }
  void securityHints() {
    QFETCH(int, mode);
    QFETCH(int, port);
    QFETCH(QString, contains);
    const QString hint = QString::fromStdString(securityHint(SecurityMode(mode), static_cast<std::uint16_t>(port)));
    if (contains.isEmpty()) QVERIFY2(hint.isEmpty(), qPrintable(hint));
    else QVERIFY2(hint.contains(contains), qPrintable(hint));
  }

  void runPlans() {
    QCOMPARE(planRun(RunKind::Test, std::nullopt).stopAfter, Phase::Auth);
    QVERIFY(!planRun(RunKind::Test, std::nullopt).needsEnvelope);
    QVERIFY(planRun(RunKind::Test, Phase::Rcpt).needsEnvelope);
    QVERIFY(planRun(RunKind::Test, Phase::Mail).needsEnvelope);
    QVERIFY(!planRun(RunKind::Test, Phase::Ehlo).needsEnvelope);
    QCOMPARE(planRun(RunKind::Test, Phase::None).stopAfter, Phase::None);  // "don't stop"
    QVERIFY(!planRun(RunKind::Test, Phase::None).needsEnvelope);
    QCOMPARE(planRun(RunKind::Send, std::nullopt).stopAfter, Phase::None);
    QVERIFY(planRun(RunKind::Send, std::nullopt).needsEnvelope);
    QCOMPARE(planRun(RunKind::Send, Phase::Rcpt).stopAfter, Phase::Rcpt);
    // Only a test that stops nowhere says QUIT itself once ready; a send quits after its message.
    QVERIFY(planRun(RunKind::Test, Phase::None).quitWhenReady);
    QVERIFY(!planRun(RunKind::Test, std::nullopt).quitWhenReady);
    QVERIFY(!planRun(RunKind::Send, std::nullopt).quitWhenReady);
  }

  // Every choice a list offers is one the model takes back; "don't stop" is offered.
  void choicesRoundTrip() {
    QCOMPARE(choices("security").size(), std::size_t(4));
    for (const auto& c : choices("security")) QVERIFY2(securityModeFromName(c.value), c.value.c_str());
    for (const auto& c : choices("auth")) QVERIFY2(mechanismFromName(c.value), c.value.c_str());
    const auto stops = choices("stopAfter");
    QCOMPARE(stops.front().value, std::string("auth"));  // the default comes first
    bool dontStop = false;
    for (const auto& c : stops) {
      QVERIFY2(phaseFromName(c.value), c.value.c_str());
      dontStop = dontStop || c.value == "none";
    }
    QVERIFY(dontStop);
    QVERIFY(choices("server").empty());
  }

  // The table's own rules: ids are unique, secrets and trust switches are never remembered,
  // and a link may propose neither a secret nor "allow the password without TLS".
  void fieldTable() {
    std::set<std::string_view> ids;
    for (const auto& f : fields()) {
      QVERIFY2(ids.insert(f.id).second, std::string(f.id).c_str());
      QCOMPARE(findField(f.id), &f);
      if (f.kind == FieldKind::Secret || f.kind == FieldKind::Pem || f.kind == FieldKind::Check)
        QVERIFY2(!f.remembered, std::string(f.id).c_str());
      if (f.kind == FieldKind::Secret) QVERIFY2(f.linkKey.empty(), std::string(f.id).c_str());
      if (f.kind == FieldKind::Choice) QVERIFY2(!choices(f.id).empty(), std::string(f.id).c_str());
    }
    QVERIFY(findField("allowPlaintext") && findField("allowPlaintext")->linkKey.empty());
    QVERIFY(!findField("nonsense"));
  }

  void accountKeys() {
    // The desktop app's keychain entries were named so before this model: keep the names.
    QCOMPARE(Account({"", "SMTP.Example.com", 587, "me@example.com"}).key(),
             std::string("smtp://me%40example.com@smtp.example.com:587"));
    QCOMPARE(Account({"ws://127.0.0.1:8025", "smtp.example.com", 587, "me"}).key(),
             std::string("smtp://me@smtp.example.com:587 via ws://127.0.0.1:8025"));
    // A user name with '@' and ':' cannot pass for another server or port.
    QVERIFY(Account({"", "b", 25, "a@c:1"}).key() != Account({"", "c:1", 25, "a@b"}).key());
    const Account a = accountOf({{"proxy", " ws://r "}, {"server", " s.example "}, {"port", "465"}, {"username", "u "}});
    QCOMPARE(a.relay, std::string("ws://r"));
    QCOMPARE(a.server, std::string("s.example"));
    QCOMPARE(a.port, std::uint16_t(465));
    QCOMPARE(a.user, std::string("u"));
    QCOMPARE(accountOf({{"port", "99999"}}).port, std::uint16_t(0));
    QCOMPARE(accountOf({{"port", "12a"}}).port, std::uint16_t(0));
  }

  void rememberedPasswords() {
    const Account saved{"ws://r", "s", 587, "u"};
    Account other = saved;
    other.port = 465;
    QCOMPARE(rememberedPassword(saved, saved, true, false), PasswordField::Fill);
    QCOMPARE(rememberedPassword(saved, saved, false, false), PasswordField::Keep);  // typed: never replaced
    QCOMPARE(rememberedPassword(saved, other, true, false), PasswordField::Keep);
    QCOMPARE(rememberedPassword(saved, other, false, true), PasswordField::Clear);  // it would go elsewhere
    QCOMPARE(rememberedPassword(saved, other, false, false), PasswordField::Keep);  // the person's own
    QCOMPARE(rememberedPassword(std::nullopt, other, true, false), PasswordField::Keep);
    Account relayed = saved;
    relayed.relay = "ws://evil";
    QCOMPARE(rememberedPassword(saved, relayed, true, false), PasswordField::Keep);
  }

  void linkProposals() {
    const Values now{{"proxy", "ws://site"}, {"server", "smtp.example.com"}, {"port", "587"}, {"security", "starttls"},
                     {"username", "me"}, {"acceptInvalid", ""}, {"caPem", ""}, {"pin", ""}};
    // Unchanged values are not listed; changed ones are "old -> new" in the form's words.
    auto r = reviewLink({{"server", "smtp.example.com"}, {"proxy", "wss://evil.example"}, {"security", "none"},
                         {"acceptInvalid", "yes"}},
                        now, {});
    QCOMPARE(r.changes.size(), std::size_t(3));
    QCOMPARE(r.changes[0].field, std::string("proxy"));
    QCOMPARE(r.changes[0].from, std::string("ws://site"));
    QCOMPARE(r.changes[0].to, std::string("wss://evil.example"));
    QCOMPARE(r.changes[1].to, std::string("None — clear text, unsafe"));
    QCOMPARE(r.changes[1].from, std::string("STARTTLS (required)"));
    QCOMPARE(r.changes[2].value, std::string("1"));
    QCOMPARE(r.changes[2].to, std::string("on"));
    QVERIFY(!r.customServer);
    QVERIFY(r.refused.empty());
    // A choice that does not exist, a CA from elsewhere, a key named twice: refused in words.
    r = reviewLink({{"security", "tls; rm"}, {"ca", "data:text/plain,x"}, {"port", "25"}, {"port", "2525"}}, now,
                   LinkCa{"data:text/plain,x", "", ""});
    QVERIFY(r.changes.empty());
    QCOMPARE(r.refused.size(), std::size_t(3));
    // In the form's order: port, security, CA.
    QVERIFY(r.refused[0].find("Port: the link names it twice") != std::string::npos);
    QVERIFY(r.refused[1].find("Security: \"tls; rm\" is not a choice here") != std::string::npos);
    QVERIFY(r.refused[2].find("not a file of this page's own site") != std::string::npos);
    // A CA from the page's own site is offered, by its path; the server and port mark the form.
    r = reviewLink({{"ca", "/other-ca.pem"}, {"server", "mx.example"}, {"port", "2525"}, {"user", ""}}, now,
                   LinkCa{"/other-ca.pem", "/other-ca.pem", "-----BEGIN CERTIFICATE-----"});
    QCOMPARE(r.changes.size(), std::size_t(4));
    QCOMPARE(r.changes[3].field, std::string("caPem"));
    QVERIFY(r.changes[3].to.find("/other-ca.pem") != std::string::npos);
    QCOMPARE(r.changes[3].value, std::string("-----BEGIN CERTIFICATE-----"));
    QCOMPARE(r.changes[2].to, std::string("(empty)"));
    QVERIFY(r.customServer && r.portChosen);
    // Fields a link may not touch are ignored, whatever the link says.
    r = reviewLink({{"password", "x"}, {"allowPlaintext", "1"}, {"token", "t"}}, now, {});
    QVERIFY(r.changes.empty() && r.refused.empty());
  }

  void signInForm() {
    QVERIFY(signInFields("custom").issuer && !signInFields("custom").tenant);
    QVERIFY(signInFields("microsoft").tenant && !signInFields("microsoft").issuer);
    QVERIFY(!signInFields("google").issuer && !signInFields("google").tenant);
    for (const auto& c : choices("oauthProvider")) QVERIFY2(oauth::providerFromName(c.value), c.value.c_str());
    Problem why;
    // Each mistake names its field, so the front end can put the cursor there.
    QVERIFY(!toSignInSettings({"", "id", "", "", "me", ""}, oauth::FlowKind::Browser, &why));
    QCOMPARE(why.field, std::string("oauthProvider"));
    QVERIFY(!toSignInSettings({"microsoft", " ", "", "common", "me", ""}, oauth::FlowKind::Browser, &why));
    QCOMPARE(why.field, std::string("clientId"));
    QVERIFY(!toSignInSettings({"custom", "id", "http://insecure.example", "", "me", ""}, oauth::FlowKind::Browser, &why));
    QCOMPARE(why.field, std::string("oauthIssuer"));
    QVERIFY(!toSignInSettings({"google", "id", "", "", "me", ""}, oauth::FlowKind::Device, &why));
    QVERIFY2(why.explanation.find("device flow") != std::string::npos, why.explanation.c_str());
    const auto settings = toSignInSettings({"microsoft", " id ", "", "", " me@example.com ", ""}, oauth::FlowKind::Browser, &why);
    QVERIFY(settings);
    QCOMPARE(settings->clientId, std::string("id"));
    QCOMPARE(settings->tenant, std::string("common"));  // an empty tenant: the default
    QCOMPARE(settings->user, std::string("me@example.com"));
    QVERIFY(settings->clientSecret.empty());
  }

  void resultViews() {
    Diagnosis ok;
    ok.ok = true;
    ok.headline = "Connection works";
    ok.suggestions = {"a note"};
    QCOMPARE(view::result(ok, RunKind::Send, std::nullopt).headline, std::string("The message was accepted"));
    QCOMPARE(view::result(ok, RunKind::Test, std::nullopt).headline, std::string("Connection works"));
    QCOMPARE(view::result(ok, RunKind::Test, std::nullopt).suggestionsTitle, std::string("Note:"));
    Diagnosis bad;
    bad.headline = "Login refused";
    bad.suggestions = {"check the password"};
    const auto r = view::result(bad, RunKind::Send, Step::Auth);
    QCOMPARE(r.headline, std::string("Login refused"));
    QCOMPARE(r.suggestionsTitle, std::string("What to try:"));
    QCOMPARE(r.failedStepLabel, std::string(stepLabel(Step::Auth)));
    QVERIFY(!r.failedStepPurpose.empty());
    bad.suggestions.clear();
    QVERIFY(view::result(bad, RunKind::Test, std::nullopt).suggestionsTitle.empty());
  }

  void tlsViews() {
    TlsInfo info;
    info.protocol = "TLSv1.3";
    info.cipher = "TLS_AES_128_GCM_SHA256";
    info.verified = true;
    CertificateInfo leaf;
    leaf.subject = "CN=mx";
    leaf.publicKeySha256 = "abc=";
    info.chain = {leaf, leaf};
    auto t = view::tls(info);
    QVERIFY(t.good);
    QCOMPARE(t.rows[2].value, std::string("verified"));
    QCOMPARE(t.chain.size(), std::size_t(2));
    QCOMPARE(t.chain[1].title, std::string("Issuer certificate 1"));
    QCOMPARE(t.chain[0].rows.back().value, std::string("sha256//abc="));
    // Accepted despite errors is not "verified", whatever the library said.
    info.acceptedDespiteErrors = true;
    info.verificationErrors = {"expired"};
    t = view::tls(info);
    QVERIFY(!t.good);
    QCOMPARE(t.rows[2].value, std::string("FAILED"));
    QCOMPARE(t.rows[3].value, std::string("expired"));
    QVERIFY(t.note.find("NOT verified") != std::string::npos);
    QVERIFY(view::tls(info, true).note == t.note);
    info.acceptedDespiteErrors = false;
    info.verificationErrors.clear();
    QVERIFY(view::tls(info, true).note.find("inside this page") != std::string::npos);
  }

  void credentialFieldsPerMethod() {
    QVERIFY(credentialFields(AuthMechanism::Auto).password && credentialFields(AuthMechanism::Auto).token);
    QVERIFY(credentialFields(AuthMechanism::Plain).password && !credentialFields(AuthMechanism::Plain).token);
    QVERIFY(!credentialFields(AuthMechanism::XOAuth2).password && credentialFields(AuthMechanism::XOAuth2).token);
    QVERIFY(!credentialFields(AuthMechanism::OAuthBearer).password);
  }

  void connectionForm_data() {
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("field");  // empty: accepted
    QTest::newRow("good") << "" << "";
    QTest::newRow("no server") << "server=" << "server";
    QTest::newRow("user without password") << "password=" << "password";
    QTest::newRow("token method without token") << "oauth" << "token";
    QTest::newRow("bad pin") << "pins=md5//x" << "pin";
    QTest::newRow("empty pin") << "pins=sha256//" << "pin";
    QTest::newRow("cert without key") << "cert" << "clientCert";
    QTest::newRow("zero timeout") << "timeout" << "timeout";
  }
  void connectionForm() {
    QFETCH(QString, change);
    QFETCH(QString, field);
    ConnectionForm f;
    f.server = " smtp.example.com ";
    f.port = 587;
    f.username = " me ";
    f.password = "pw";
    f.pins = "sha256//AAAA=, sha256//BBBB=";
    if (change == "server=") f.server.clear();
    if (change == "password=") f.password.clear();
    if (change == "oauth") f.auth = AuthMechanism::XOAuth2;  // the password does not count for it
    if (change == "pins=md5//x") f.pins = "md5//x";
    if (change == "pins=sha256//") f.pins = "sha256//";
    if (change == "cert") f.clientCertificatePem = "-----BEGIN CERTIFICATE-----";
    if (change == "timeout") f.timeoutSeconds = 0;
    Problem problem;
    const auto params = toConnectParams(f, planRun(RunKind::Test, Phase::Ehlo), &problem);
    QCOMPARE(params.has_value(), field.isEmpty());
    if (!params) {
      QCOMPARE(QString::fromStdString(problem.field), field);
      QVERIFY(!problem.headline.empty() && !problem.explanation.empty());
      return;
    }
    QCOMPARE(params->host, std::string("smtp.example.com"));
    QCOMPARE(params->credentials.username, std::string("me"));
    QCOMPARE(params->tls.pinnedSha256.size(), std::size_t(2));
    QCOMPARE(params->quitAfter, Phase::Ehlo);
  }

  void messageForm() {
    MessageForm m;
    m.from = "Jörg <j@example.org>";
    m.to = "\"Doe, Jane\" <jane@example.net>; bob@example.net";
    m.bcc = "hidden@example.net";
    Problem problem;
    auto message = toMessage(m, &problem);
    QVERIFY(message);
    QCOMPARE(message->to.size(), std::size_t(2));
    QCOMPARE(message->bcc.size(), std::size_t(1));
    m.cc = "not an address";
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("cc"));
    QVERIFY(problem.explanation.find("Cc \"not an address\"") == 0);
    m.cc.clear();
    m.to.clear();
    m.bcc.clear();
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("to"));
    m.from = "";
    QVERIFY(!toMessage(m, &problem));
    QCOMPARE(problem.field, std::string("from"));
  }
};

QTEST_APPLESS_MAIN(TestForm)
#include "tst_form.moc"
