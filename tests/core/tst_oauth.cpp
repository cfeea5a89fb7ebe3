// OAuth 2 sign-in (smtpc/oauth.h): the building blocks against the RFCs' own examples, then the
// flows as scripts — each request the flow hands out is asserted exactly (method, URL, form body)
// and answered from the script, on a virtual clock. After every test, everything the flow said to
// people (steps, request descriptions, problems, pages, addresses) is searched for every secret.
#include <QTest>

#include <deque>
#include <sstream>

#include "secret_leaks.h"
#include "smtpc/oauth.h"

using namespace smtpc;
using namespace smtpc::oauth;
using namespace std::chrono_literals;

namespace {

// The secrets of every script. The leak check looks for each of them (and their base64 forms).
const std::string kClientSecret = "s3cret/+&=x";
const std::string kAccessToken = "access-token-A1b2C3";
const std::string kRefreshToken = "refresh-token-OLD-9z8y";
const std::string kNewRefreshToken = "refresh-token-NEW-5x4w";
const std::string kCode = "auth-code-Q7w8E9";
const std::string kDeviceCode = "device-code-M3n4B5";

// RFC 7636 Appendix B's 32 octets, so the verifier and challenge below are the RFC's; then 32
// octets for the state.
const unsigned char kAppendixB[32] = {116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                                      22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};
const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const std::string kState = "c3RhdGUtYnl0ZXMtZm9yLXRoZS1vYXV0aC10ZXN0ISE";  // base64url of the next line
std::string randomBytes() {
  return std::string(reinterpret_cast<const char*>(kAppendixB), sizeof kAppendixB) + "state-bytes-for-the-oauth-test!!";
}

const std::string kMsToken = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
const std::string kMsDevice = "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode";
const std::string kMsScope = "https%3A%2F%2Foutlook.office.com%2FSMTP.Send+offline_access";

// Everything people could read, from every driver since the last leak check.
std::string g_publicText;

Settings microsoft(FlowKind flow = FlowKind::Browser) {
  Settings s;
  s.provider = ProviderKind::Microsoft;
  s.clientId = "cid";
  s.user = "me@example.org";
  s.flow = flow;
  return s;
}

Settings custom(FlowKind flow = FlowKind::Browser) {
  Settings s;
  s.provider = ProviderKind::Custom;
  s.issuer = "https://auth.example.test/tenant1";
  s.clientId = "cid";
  s.flow = flow;
  return s;
}

HttpResponse json(int status, std::map<std::string, std::string> fields) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  r.json = true;
  r.fields = std::move(fields);
  return r;
}

HttpResponse html(int status) {
  HttpResponse r;
  r.status = status;
  r.contentType = "text/html";
  return r;
}

HttpResponse tokenResponse(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> fields = {{"access_token", kAccessToken},
                                               {"token_type", "Bearer"},
                                               {"expires_in", "3600"},
                                               {"refresh_token", kNewRefreshToken}};
  for (auto& [k, v] : extra) {
    if (v == "<absent>") fields.erase(k);
    else fields[k] = v;
  }
  return json(200, fields);
}

HttpResponse oauthError(std::string error, std::string description = {}) {
  std::map<std::string, std::string> fields = {{"error", std::move(error)}};
  if (!description.empty()) fields["error_description"] = std::move(description);
  return json(400, fields);
}

HttpResponse metadata(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> fields = {
      {"issuer", "https://auth.example.test/tenant1"},
      {"authorization_endpoint", "https://auth.example.test/tenant1/authorize"},
      {"token_endpoint", "https://auth.example.test/tenant1/token"},
      {"device_authorization_endpoint", "https://auth.example.test/tenant1/device"},
      {"code_challenge_methods_supported", "S256"},
      {"token_endpoint_auth_methods_supported", "client_secret_post none"},
  };
  for (auto& [k, v] : extra) {
    if (v == "<absent>") fields.erase(k);
    else fields[k] = v;
  }
  return json(200, fields);
}

// Plays a flow: renders each output as one line, keeps the steps apart, answers from the test.
class Driver {
 public:
  explicit Driver(Settings settings, std::string random = randomBytes()) : flow(std::move(settings), random) {}
  ~Driver() { g_publicText += publicText; }

  Flow flow;
  Time now{0};
  std::vector<StepEvent> steps;
  std::vector<HttpRequest> requests;
  std::string publicText;

  void start() { flow.start(now); }
  void answer(const HttpResponse& r) { flow.onHttpResponse(now, r); }
  void at(Time t) {
    now = t;
    flow.onTimeout(now);
  }

  // The next output that is not a step, as a line; "(nothing)" when the flow has nothing to say.
  std::string next() {
    drain();
    if (lines_.empty()) return "(nothing)";
    std::string line = lines_.front();
    lines_.pop_front();
    return line;
  }
  // Every step text so far, one per line.
  std::string stepText() const {
    std::string all;
    for (const StepEvent& s : steps) all += std::string(signInStepName(s.step)) + ": " + s.text + "\n";
    return all;
  }
  const Finished& result() const { return *flow.result(); }
  ProblemKind problemKind() const { return flow.result()->problem->kind; }

 private:
  void drain() {
    while (auto out = flow.poll()) record(*out);
  }
  void say(const std::string& text) { publicText += text + "\n"; }
  void record(const Output& out) {
    if (auto* r = std::get_if<HttpRequest>(&out)) {
      requests.push_back(*r);
      say(r->url);
      say(r->description);
      for (const auto& [name, value] : r->headers) say(name + ": " + value);
      lines_.push_back(r->method + " " + r->url +
                       (r->method == "POST" ? " | " + std::string(r->body.reveal()) : std::string()));
    } else if (std::get_if<ListenForRedirect>(&out)) {
      lines_.push_back("listen " + std::get<ListenForRedirect>(out).address);
    } else if (auto* b = std::get_if<OpenBrowser>(&out)) {
      say(b->url);
      lines_.push_back("browser " + b->url);
    } else if (auto* p = std::get_if<BrowserPage>(&out)) {
      say(p->headline + " " + p->text);
      lines_.push_back("page " + std::to_string(p->status) + " " + p->headline);
    } else if (std::get_if<StopListening>(&out)) {
      lines_.push_back("stop listening");
    } else if (auto* u = std::get_if<ShowUserCode>(&out)) {
      say(u->userCode + " " + u->verificationUri + " " + u->verificationUriComplete);
      lines_.push_back("show " + u->userCode + " at " + u->verificationUri + " until " +
                       std::to_string(u->expiresAt.count()));
    } else if (auto* w = std::get_if<Wait>(&out)) {
      say(w->reason);
      lines_.push_back("wait until " + std::to_string(w->until.count()));
    } else if (auto* s = std::get_if<StepEvent>(&out)) {
      say(s->text);
      steps.push_back(*s);
    } else if (auto* f = std::get_if<Finished>(&out)) {
      if (f->problem) {
        say(f->problem->field + " " + f->problem->headline + " " + f->problem->explanation + " " +
            f->problem->serverError + " " + f->problem->serverSaid);
        lines_.push_back("problem " + std::string(problemKindName(f->problem->kind)));
      } else {
        std::ostringstream printed;  // a Secret prints as ********
        printed << f->token->accessToken << f->token->refreshToken;
        say(printed.str() + " " + f->token->tokenType + " " + f->token->scope + " " + f->token->issuer + " " +
            f->token->storageKey);
        lines_.push_back("signed in");
      }
    }
  }
  std::deque<std::string> lines_;
};

QString q(const std::string& s) { return QString::fromStdString(s); }

// The Microsoft browser flow up to the authorization URL, listening on port 50123.
std::string msAuthorizationUrl(const std::string& state = kState) {
  return "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?response_type=code&client_id=cid"
         "&redirect_uri=http%3A%2F%2F127.0.0.1%3A50123%2F&scope=" +
         kMsScope + "&state=" + state + "&code_challenge=" + kChallenge +
         "&code_challenge_method=S256&login_hint=me%40example.org";
}
const std::string kMsCodeExchange = "POST " + kMsToken + " | grant_type=authorization_code&code=" + kCode +
                                    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A50123%2F&client_id=cid&code_verifier=" +
                                    kVerifier;

void toRedirect(Driver& d) {
  d.start();
  QCOMPARE(q(d.next()), q("listen 127.0.0.1"));
  d.flow.onListening(d.now, 50123);
  QCOMPARE(q(d.next()), q("browser " + msAuthorizationUrl()));
}

}  // namespace

class TestOAuth : public QObject {
  Q_OBJECT
 private slots:
  // After every test: nothing people can read holds a secret, in any form.
  void cleanup() {
    const std::string text = std::move(g_publicText);  // taken first: a leak fails this test only
    g_publicText.clear();
    for (const std::string& secret :
         {kClientSecret, kAccessToken, kRefreshToken, kNewRefreshToken, kCode, kDeviceCode, kVerifier}) {
      const std::string leaked = smtpc::testing::findSecret(text, secret);
      QVERIFY2(leaked.empty(), qPrintable(q("secret leaked as \"" + leaked + "\" in:\n" + text)));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Building blocks

  void formEncoding_data() {
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("encoded");
    QTest::newRow("RFC 6749 Appendix B") << QString::fromUtf8(" %&+£€") << "+%25%26%2B%C2%A3%E2%82%AC";
    QTest::newRow("unreserved kept") << "AZaz09-._~" << "AZaz09-._~";
    QTest::newRow("separators") << "a=b&c;d" << "a%3Db%26c%3Bd";
    QTest::newRow("redirect uri") << "http://127.0.0.1:50123/" << "http%3A%2F%2F127.0.0.1%3A50123%2F";
    QTest::newRow("scope") << "https://outlook.office.com/SMTP.Send offline_access" << q(kMsScope);
    QTest::newRow("star, quote, hash, question") << "*'#?" << "%2A%27%23%3F";
    QTest::newRow("controls") << "a\r\nb\t" << "a%0D%0Ab%09";
    QTest::newRow("utf-8") << QString::fromUtf8("ü") << "%C3%BC";
    QTest::newRow("empty") << "" << "";
  }
  void formEncoding() {
    QFETCH(QString, value);
    QFETCH(QString, encoded);
    const std::string raw = value.toStdString();
    QCOMPARE(q(formEncode(raw)), encoded);
    const auto back = formDecode("x=" + formEncode(raw));
    QVERIFY(back);
    QCOMPARE(q(back->at(0).second), value);
  }
  void formFieldsAndDecoding() {
    QCOMPARE(q(formEncode(FormFields{{"grant_type", "refresh_token"}, {"a b", "c&d"}})),
             q("grant_type=refresh_token&a+b=c%26d"));
    const auto fields = formDecode("code=x%2By+z&&state=%41%42&empty=&bare");
    QVERIFY(fields);
    QCOMPARE(fields->size(), std::size_t(4));
    QCOMPARE(q(fields->at(0).second), q("x+y z"));
    QCOMPARE(q(fields->at(1).second), q("AB"));
    QCOMPARE(q(fields->at(2).second), q(""));
    QCOMPARE(q(fields->at(3).first), q("bare"));
    QVERIFY(!formDecode("a=%4"));
    QVERIFY(!formDecode("a=%zz"));
    QVERIFY(!formDecode("a=%"));
    QVERIFY(formDecode("")->empty());
  }

  void base64urlVectors() {
    // RFC 4648 §10, in the URL alphabet and without padding.
    QCOMPARE(q(base64url("")), q(""));
    QCOMPARE(q(base64url("f")), q("Zg"));
    QCOMPARE(q(base64url("fo")), q("Zm8"));
    QCOMPARE(q(base64url("foo")), q("Zm9v"));
    QCOMPARE(q(base64url("foob")), q("Zm9vYg"));
    QCOMPARE(q(base64url("fooba")), q("Zm9vYmE"));
    QCOMPARE(q(base64url("foobar")), q("Zm9vYmFy"));
    QCOMPARE(q(base64url("\xfb\xff")), q("-_8"));  // "+/8=" in the standard alphabet
  }

  void pkceAppendixB() {
    // RFC 7636 Appendix B: the octets → the verifier → the S256 challenge.
    QCOMPARE(q(pkceVerifier(randomBytes())), q(kVerifier));
    QCOMPARE(q(pkceChallenge(kVerifier)), q(kChallenge));
    // §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
    const std::string verifier = pkceVerifier(std::string(64, '\xff'));
    QCOMPARE(verifier.size(), std::size_t(43));
    for (char c : verifier)
      QVERIFY(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~');
  }

  void metadataAddresses() {
    // RFC 8414 §3.1: the well-known part goes between the host and the path.
    QCOMPARE(q(authorizationServerMetadataUrl("https://example.com/issuer1")),
             q("https://example.com/.well-known/oauth-authorization-server/issuer1"));
    QCOMPARE(q(authorizationServerMetadataUrl("https://example.com")),
             q("https://example.com/.well-known/oauth-authorization-server"));
    QCOMPARE(q(authorizationServerMetadataUrl("https://example.com/")),
             q("https://example.com/.well-known/oauth-authorization-server"));
    QCOMPARE(q(authorizationServerMetadataUrl("https://127.0.0.1:8443/a/b/")),
             q("https://127.0.0.1:8443/.well-known/oauth-authorization-server/a/b"));
    // OpenID Connect Discovery §4: appended.
    QCOMPARE(q(openIdConfigurationUrl("https://example.com/issuer1")),
             q("https://example.com/issuer1/.well-known/openid-configuration"));
    QCOMPARE(q(openIdConfigurationUrl("https://example.com/")), q("https://example.com/.well-known/openid-configuration"));
  }

  void httpsUrls_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("https");
    QTest::newRow("plain") << "https://a.example/token" << true;
    QTest::newRow("port and query") << "https://127.0.0.1:8443/t?x=1" << true;
    QTest::newRow("upper-case scheme") << "HTTPS://a.example" << true;
    QTest::newRow("http") << "http://a.example/token" << false;
    QTest::newRow("no host") << "https:///token" << false;
    QTest::newRow("user info") << "https://good.example@evil.example/" << false;
    QTest::newRow("fragment") << "https://a.example/#x" << false;
    QTest::newRow("space") << "https://a.example/a b" << false;
    QTest::newRow("scheme only") << "https://" << false;
  }
  void httpsUrls() {
    QFETCH(QString, url);
    QFETCH(bool, https);
    QCOMPARE(isHttpsUrl(url.toStdString()), https);
  }

  void providerTable() {
    QCOMPARE(providerFromName("Microsoft"), std::optional<ProviderKind>(ProviderKind::Microsoft));
    QCOMPARE(providerFromName("google"), std::optional<ProviderKind>(ProviderKind::Google));
    QCOMPARE(providerFromName("custom"), std::optional<ProviderKind>(ProviderKind::Custom));
    QVERIFY(!providerFromName("yahoo"));
    QCOMPARE(flowKindFromName("device"), std::optional<FlowKind>(FlowKind::Device));
    Settings s = microsoft();
    s.tenant = "contoso.onmicrosoft.com";
    const Endpoints ms = knownEndpoints(s);
    QCOMPARE(q(ms.authorization), q("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"));
    QCOMPARE(q(ms.token), q("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"));
    QCOMPARE(q(ms.device), q("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"));
    QCOMPARE(q(std::string(provider(ProviderKind::Microsoft).defaultScope)),
             q("https://outlook.office.com/SMTP.Send offline_access"));
    QCOMPARE(q(issuerOf(s)), q("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"));
    QCOMPARE(q(std::string(provider(ProviderKind::Google).defaultScope)), q("https://mail.google.com/"));
    QVERIFY(provider(ProviderKind::Google).deviceAuthorizationEndpoint.empty());
  }

  void refreshTokenKeys() {
    QCOMPARE(q(refreshTokenKey("https://accounts.google.com", "1234.apps", "me@gmail.com")),
             q("https://accounts.google.com 1234.apps me@gmail.com"));
    QCOMPARE(q(refreshTokenKey(microsoft())), q("https://login.microsoftonline.com/common/v2.0 cid me@example.org"));
    QCOMPARE(q(refreshTokenKey(custom())), q("https://auth.example.test/tenant1 cid "));
  }

  void settingsChecks_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("field");  // empty: accepted
    QTest::addColumn<QString>("says");
    QTest::newRow("microsoft") << 0 << "" << "";
    QTest::newRow("no client id") << 1 << "clientId" << "client ID";
    QTest::newRow("client id with a space") << 2 << "clientId" << "no spaces";
    QTest::newRow("tenant with a slash") << 3 << "tenant" << "organizations";
    QTest::newRow("custom without issuer") << 4 << "oauthIssuer" << "issuer URL";
    QTest::newRow("http issuer") << 5 << "oauthIssuer" << "https://";
    QTest::newRow("issuer with a query") << 6 << "oauthIssuer" << "without a query";
    QTest::newRow("google device") << 7 << "oauthFlow" << "Google does not allow the device flow";
    QTest::newRow("microsoft device") << 8 << "" << "";
    QTest::newRow("scope with a line break") << 9 << "scope" << "control character";
  }
  void settingsChecks() {
    QFETCH(int, row);
    QFETCH(QString, field);
    QFETCH(QString, says);
    Settings s = microsoft();
    switch (row) {
      case 1: s.clientId.clear(); break;
      case 2: s.clientId = "c id"; break;
      case 3: s.tenant = "common/../x"; break;
      case 4: s = custom(); s.issuer.clear(); break;
      case 5: s = custom(); s.issuer = "http://auth.example.test"; break;
      case 6: s = custom(); s.issuer = "https://auth.example.test/?a=b"; break;
      case 7: s.provider = ProviderKind::Google; s.flow = FlowKind::Device; break;
      case 8: s.flow = FlowKind::Device; break;
      case 9: s.scope = "a\nb"; break;
      default: break;
    }
    const auto problem = checkSettings(s);
    QCOMPARE(problem ? q(problem->field) : QString(), field);
    if (problem) QVERIFY2(q(problem->explanation).contains(says), qPrintable(q(problem->explanation)));
  }

  void errorCodesExplained() {
    for (const char* code : {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                             "unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
                             "server_error", "temporarily_unavailable", "authorization_pending", "slow_down",
                             "expired_token"})
      QVERIFY2(!explainErrorCode(code).empty(), code);
    QVERIFY(explainErrorCode("made_up").empty());
  }

  // ------------------------------------------------------------------------------------------
  // Authorization code + PKCE with a loopback redirect

  void browserFlow() {
    Driver d(microsoft());
    toRedirect(d);
    QVERIFY2(q(d.stepText()).contains("redirect your browser to 127.0.0.1:50123 with a one-time code"),
             qPrintable(q(d.stepText())));
    QCOMPARE(d.flow.state(), FlowState::Authorizing);
    d.now = 20s;
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState + "&session_state=abc");
    QCOMPARE(q(d.next()), q("page 200 Signed in"));
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q(kMsCodeExchange));
    QCOMPARE(q(d.requests.back().headers.back().second), q("application/x-www-form-urlencoded"));
    QVERIFY(d.requests.back().authorization.empty());
    QVERIFY(q(d.stepText()).contains("exchanging the code for a token"));
    d.now = 21s;
    d.answer(tokenResponse({{"scope", "https://outlook.office.com/SMTP.Send"}}));
    QCOMPARE(q(d.next()), q("signed in"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    const Token& token = *d.result().token;
    QCOMPARE(q(std::string(token.accessToken.reveal())), q(kAccessToken));
    QCOMPARE(token.expiresAt, std::optional<Time>(20s + 3600s));  // from when the request went out
    QCOMPARE(q(std::string(token.refreshToken.reveal())), q(kNewRefreshToken));
    QVERIFY(token.refreshTokenChanged);
    QCOMPARE(q(token.scope), q("https://outlook.office.com/SMTP.Send"));
    QCOMPARE(q(token.storageKey), q("https://login.microsoftonline.com/common/v2.0 cid me@example.org"));
    QVERIFY(!d.result().refreshTokenRejected);
    QVERIFY(d.flow.finished());
  }

  void googleBrowserFlowWithSecret() {
    Settings s;
    s.provider = ProviderKind::Google;
    s.clientId = "1234.apps.googleusercontent.com";
    s.clientSecret = Secret(kClientSecret);
    Driver d(s);
    d.start();
    QCOMPARE(q(d.next()), q("listen 127.0.0.1"));
    d.flow.onListening(d.now, 8080);
    QCOMPARE(q(d.next()), q("browser https://accounts.google.com/o/oauth2/v2/auth?response_type=code"
                            "&client_id=1234.apps.googleusercontent.com&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"
                            "&scope=https%3A%2F%2Fmail.google.com%2F&state=" +
                            kState + "&code_challenge=" + kChallenge + "&code_challenge_method=S256&access_type=offline"));
    // An absolute-form request target works as well as the origin form.
    d.flow.onRedirect(d.now, "http://127.0.0.1:8080/?state=" + kState + "&code=" + kCode + "&scope=x");
    QCOMPARE(q(d.next()), q("page 200 Signed in"));
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q("POST https://oauth2.googleapis.com/token | grant_type=authorization_code&code=" + kCode +
                            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"
                            "&client_id=1234.apps.googleusercontent.com&code_verifier=" +
                            kVerifier + "&client_secret=s3cret%2F%2B%26%3Dx"));
    QVERIFY(q(d.requests.back().description).contains("client_secret=********"));
    d.answer(tokenResponse({{"scope", "<absent>"}}));
    QCOMPARE(q(d.next()), q("signed in"));
    QCOMPARE(q(d.result().token->scope), q("https://mail.google.com/"));  // §5.1: as requested
  }

  void stateMismatch_data() {
    QTest::addColumn<QString>("target");
    QTest::newRow("another state") << q("/?code=" + kCode + "&state=forged");
    QTest::newRow("no state") << q("/?code=" + kCode);
    QTest::newRow("a state one character short") << q("/?code=" + kCode + "&state=" + kState.substr(1));
    QTest::newRow("an error with another state") << q("/?error=access_denied&state=forged");
    QTest::newRow("an unreadable query") << q("/?code=" + kCode + "&state=%zz");
  }
  void stateMismatch() {
    QFETCH(QString, target);
    Driver d(microsoft());
    toRedirect(d);
    d.flow.onRedirect(d.now, target.toStdString());
    QCOMPARE(q(d.next()), q("page 400 Sign-in not accepted"));
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q("problem StateMismatch"));
    QCOMPARE(q(d.next()), q("(nothing)"));  // the code is not exchanged
    QVERIFY(d.requests.empty());
  }

  void redirectErrors_data() {
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("page");
    QTest::addColumn<QString>("serverSaid");
    QTest::newRow("access_denied") << "error=access_denied&error_description=The+user+declined" << int(ProblemKind::ConsentRefused)
                                   << "page 200 Consent refused" << "The user declined";
    QTest::newRow("invalid_scope") << "error=invalid_scope" << int(ProblemKind::AuthorizationFailed)
                                   << "page 200 Sign-in refused" << "";
    QTest::newRow("neither code nor error") << "foo=bar" << int(ProblemKind::AuthorizationFailed)
                                            << "page 400 Sign-in incomplete" << "";
  }
  void redirectErrors() {
    QFETCH(QString, query);
    QFETCH(int, kind);
    QFETCH(QString, page);
    QFETCH(QString, serverSaid);
    Driver d(microsoft());
    toRedirect(d);
    d.flow.onRedirect(d.now, "/?" + query.toStdString() + "&state=" + kState);
    QCOMPARE(q(d.next()), page);
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q("problem " + std::string(problemKindName(ProblemKind(kind)))));
    QCOMPARE(q(d.result().problem->serverSaid), serverSaid);
    if (ProblemKind(kind) == ProblemKind::ConsentRefused) {
      QCOMPARE(q(d.result().problem->headline), q("Consent refused"));
      QCOMPARE(q(d.result().problem->serverError), q("access_denied"));
    }
    QVERIFY(d.requests.empty());
  }

  // A browser that never comes back ends the sign-in after kBrowserTimeout, instead of hanging
  // it (and the CLI) for ever; an answer in time clears the deadline.
  void browserTimesOut() {
    Driver d(microsoft());
    toRedirect(d);
    QCOMPARE(d.flow.nextDeadline(), std::optional<Time>(Flow::kBrowserTimeout));
    d.at(Flow::kBrowserTimeout - 1s);
    QCOMPARE(q(d.next()), q("(nothing)"));
    d.at(Flow::kBrowserTimeout);
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q("problem BrowserTimedOut"));
    QVERIFY(!d.flow.nextDeadline());
    Driver inTime(microsoft());
    toRedirect(inTime);
    inTime.flow.onRedirect(inTime.now, "/?code=" + kCode + "&state=" + kState);
    QVERIFY(!inTime.flow.nextDeadline());
  }

  void otherPathsOnTheLoopbackPort() {
    Driver d(microsoft());
    toRedirect(d);
    d.flow.onRedirect(d.now, "/favicon.ico");
    QCOMPARE(q(d.next()), q("page 404 Not found"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    QCOMPARE(d.flow.state(), FlowState::Authorizing);  // still waiting for the real answer
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState);
    QCOMPARE(q(d.next()), q("page 200 Signed in"));
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q(kMsCodeExchange));
    // A request the adapter had queued before it stopped listening gets a page, and changes nothing.
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=forged");
    QCOMPARE(q(d.next()), q("page 404 Nothing to do here"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    QCOMPARE(d.flow.state(), FlowState::ExchangingCode);
    d.answer(tokenResponse());
    QCOMPARE(q(d.next()), q("signed in"));
  }

  // The page is its own redirect URI: no loopback port; the popup's address comes back whole.
  void fixedRedirectUri() {
    Settings s = microsoft();
    s.redirectUri = "https://smtpc.example/app/?x=1";
    Driver d(s);
    d.start();
    const std::string next = d.next();
    QVERIFY2(q(next).startsWith("browser https://login.microsoftonline.com/common/oauth2/v2.0/authorize?"), qPrintable(q(next)));
    QVERIFY2(q(next).contains("&redirect_uri=https%3A%2F%2Fsmtpc.example%2Fapp%2F%3Fx%3D1&"), qPrintable(q(next)));
    QVERIFY2(q(d.stepText()).contains("send the popup back to this page (https://smtpc.example/app/?x=1)"),
             qPrintable(q(d.stepText())));
    // Another path on the page's site is not the answer; the right path with a forged state fails.
    d.flow.onRedirect(d.now, "https://smtpc.example/other/?code=" + kCode + "&state=" + kState);
    QCOMPARE(q(d.next()), q("page 404 Not found"));
    QCOMPARE(d.flow.state(), FlowState::Authorizing);
    d.flow.onRedirect(d.now, "https://smtpc.example/app/?code=" + kCode + "&state=" + kState);
    QCOMPARE(q(d.next()), q("page 200 Signed in"));
    QCOMPARE(q(d.next()), q("stop listening"));
    const std::string exchange = d.next();
    QVERIFY2(q(exchange).contains("&redirect_uri=https%3A%2F%2Fsmtpc.example%2Fapp%2F%3Fx%3D1&"), qPrintable(q(exchange)));
    d.answer(tokenResponse());
    QCOMPARE(q(d.next()), q("signed in"));
    // Only https, or http to this computer.
    s.redirectUri = "http://smtpc.example/";
    QCOMPARE(q(checkSettings(s) ? checkSettings(s)->field : ""), q("redirectUri"));
    s.redirectUri = "http://127.0.0.1:8080/";
    QVERIFY(!checkSettings(s));
    s.redirectUri = "http://127.0.0.1.evil.example/";
    QVERIFY(checkSettings(s));
  }

  void listenFailedAndCancel() {
    Driver d(microsoft());
    d.start();
    QCOMPARE(q(d.next()), q("listen 127.0.0.1"));
    d.flow.onListenFailed(d.now, "address in use");
    QCOMPARE(q(d.next()), q("problem ListenFailed"));
    QVERIFY(q(d.result().problem->explanation).contains("device flow"));

    Driver c(microsoft());
    toRedirect(c);
    c.flow.cancel(c.now);
    QCOMPARE(q(c.next()), q("stop listening"));
    QCOMPARE(q(c.next()), q("problem Cancelled"));
    c.flow.cancel(c.now);  // twice: nothing more
    QCOMPARE(q(c.next()), q("(nothing)"));

    // Cancelled before the adapter said which port it got: it is told to stop all the same.
    Driver e(microsoft());
    e.start();
    QCOMPARE(q(e.next()), q("listen 127.0.0.1"));
    e.flow.cancel(e.now);
    QCOMPARE(q(e.next()), q("stop listening"));
    QCOMPARE(q(e.next()), q("problem Cancelled"));
  }

  // ------------------------------------------------------------------------------------------
  // Metadata (RFC 8414, then OpenID Connect Discovery)

  void metadataFallsBackToOpenIdConfiguration() {
    Settings s = custom();
    s.clientSecret = Secret(kClientSecret);
    Driver d(s);
    d.start();
    QCOMPARE(q(d.next()), q("GET https://auth.example.test/.well-known/oauth-authorization-server/tenant1"));
    d.answer(html(404));
    QCOMPARE(q(d.next()), q("GET https://auth.example.test/tenant1/.well-known/openid-configuration"));
    QVERIFY2(q(d.stepText()).contains("no RFC 8414 metadata there (HTTP 404, text/html, not JSON)"),
             qPrintable(q(d.stepText())));
    // No token_endpoint_auth_methods_supported: RFC 8414's default, client_secret_basic.
    d.answer(metadata({{"token_endpoint_auth_methods_supported", "<absent>"}}));
    QCOMPARE(q(d.next()), q("listen 127.0.0.1"));
    d.flow.onListening(d.now, 4000);
    QCOMPARE(q(d.next()), q("browser https://auth.example.test/tenant1/authorize?response_type=code&client_id=cid"
                            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2F&state=" +
                            kState + "&code_challenge=" + kChallenge + "&code_challenge_method=S256"));
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState);
    QCOMPARE(q(d.next()), q("page 200 Signed in"));
    QCOMPARE(q(d.next()), q("stop listening"));
    QCOMPARE(q(d.next()), q("POST https://auth.example.test/tenant1/token | grant_type=authorization_code&code=" +
                            kCode + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2F&client_id=cid&code_verifier=" +
                            kVerifier));
    // RFC 6749 §2.3.1: id and secret form-encoded, then base64 of "id:secret".
    QCOMPARE(q(std::string(d.requests.back().authorization.reveal())), q("Basic Y2lkOnMzY3JldCUyRiUyQiUyNiUzRHg="));
    d.answer(tokenResponse());
    QCOMPARE(q(d.next()), q("signed in"));
    QCOMPARE(q(d.result().token->issuer), q("https://auth.example.test/tenant1"));
  }

  void metadataFirstDocumentUsed() {
    Settings s = custom();
    s.clientSecret = Secret(kClientSecret);
    s.flow = FlowKind::Device;
    Driver d(s);
    d.start();
    QCOMPARE(q(d.next()), q("GET https://auth.example.test/.well-known/oauth-authorization-server/tenant1"));
    d.answer(metadata());  // lists client_secret_post: the secret goes in the form
    QCOMPARE(q(d.next()), q("POST https://auth.example.test/tenant1/device | client_id=cid&client_secret=s3cret%2F%2B%26%3Dx"));
    QVERIFY(d.requests.back().authorization.empty());
  }

  void metadataNotFound() {
    Driver d(custom());
    d.start();
    d.next();
    d.answer(json(500, {}));
    d.next();
    d.answer(html(200));
    QCOMPARE(q(d.next()), q("problem MetadataNotFound"));
    QVERIFY(q(d.result().problem->explanation).contains("openid-configuration"));
  }

  void metadataIssuerMismatch() {
    Driver d(custom());
    d.start();
    d.next();
    d.answer(metadata({{"issuer", "https://evil.example.test/tenant1"}}));
    QCOMPARE(q(d.next()), q("problem IssuerMismatch"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    QCOMPARE(q(d.result().problem->serverSaid), q("https://evil.example.test/tenant1"));
  }

  void metadataChecks_data() {
    QTest::addColumn<QString>("member");
    QTest::addColumn<QString>("value");  // "<absent>": left out
    QTest::addColumn<int>("flow");
    QTest::addColumn<QString>("outcome");  // the next line after the metadata
    QTest::newRow("no authorization_endpoint, browser") << "authorization_endpoint" << "<absent>" << int(FlowKind::Browser)
                                                        << "problem EndpointMissing";
    QTest::newRow("no authorization_endpoint, device") << "authorization_endpoint" << "<absent>" << int(FlowKind::Device)
                                                       << "POST https://auth.example.test/tenant1/device | client_id=cid";
    QTest::newRow("no token_endpoint") << "token_endpoint" << "<absent>" << int(FlowKind::Browser) << "problem EndpointMissing";
    QTest::newRow("no device endpoint, device") << "device_authorization_endpoint" << "<absent>" << int(FlowKind::Device)
                                                << "problem EndpointMissing";
    QTest::newRow("no device endpoint, browser") << "device_authorization_endpoint" << "<absent>" << int(FlowKind::Browser)
                                                 << "listen 127.0.0.1";
    QTest::newRow("http token endpoint") << "token_endpoint" << "http://127.0.0.1:8080/token" << int(FlowKind::Browser)
                                         << "problem EndpointNotHttps";
    QTest::newRow("http authorization endpoint") << "authorization_endpoint" << "http://auth.example.test/a"
                                                 << int(FlowKind::Browser) << "problem EndpointNotHttps";
    QTest::newRow("PKCE plain only") << "code_challenge_methods_supported" << "plain" << int(FlowKind::Browser)
                                     << "problem PkceNotSupported";
    QTest::newRow("PKCE plain and S256") << "code_challenge_methods_supported" << "plain S256" << int(FlowKind::Browser)
                                         << "listen 127.0.0.1";
    QTest::newRow("PKCE methods not listed") << "code_challenge_methods_supported" << "<absent>" << int(FlowKind::Browser)
                                             << "listen 127.0.0.1";
    QTest::newRow("PKCE plain only, device") << "code_challenge_methods_supported" << "plain" << int(FlowKind::Device)
                                             << "POST https://auth.example.test/tenant1/device | client_id=cid";
  }
  void metadataChecks() {
    QFETCH(QString, member);
    QFETCH(QString, value);
    QFETCH(int, flow);
    QFETCH(QString, outcome);
    Driver d(custom(FlowKind(flow)));
    d.start();
    d.next();
    d.answer(metadata({{member.toStdString(), value.toStdString()}}));
    QCOMPARE(q(d.next()), outcome);
    if (outcome.startsWith("problem") && ProblemKind(d.problemKind()) != ProblemKind::PkceNotSupported)
      QVERIFY2(q(d.result().problem->explanation).contains(member), qPrintable(q(d.result().problem->explanation)));
  }

  // ------------------------------------------------------------------------------------------
  // Device authorization grant (RFC 8628)

  void deviceFlow() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    QCOMPARE(q(d.next()), q("POST " + kMsDevice + " | client_id=cid&scope=" + kMsScope));
    d.now = 1s;
    d.answer(json(200, {{"device_code", kDeviceCode},
                        {"user_code", "ABCD-EFGH"},
                        {"verification_uri", "https://microsoft.com/devicelogin"},
                        {"expires_in", "900"},
                        {"interval", "7"},
                        {"message", "To sign in, use a web browser..."}}));
    QCOMPARE(q(d.next()), q("show ABCD-EFGH at https://microsoft.com/devicelogin until 900000"));  // from the request
    QCOMPARE(q(d.next()), q("wait until 8000"));  // the provider's 7 s, not the default 5 s
    QVERIFY(q(d.stepText()).contains("enter the code ABCD-EFGH"));
    QCOMPARE(d.flow.nextDeadline(), std::optional<Time>(8s));
    d.at(7999ms);  // early: nothing
    QCOMPARE(q(d.next()), q("(nothing)"));
    d.at(8s);
    const std::string poll = "POST " + kMsToken +
                             " | grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=" +
                             kDeviceCode + "&client_id=cid";
    QCOMPARE(q(d.next()), q(poll));
    // authorization_pending: the same interval, from the answer.
    d.now = 8500ms;
    d.answer(oauthError("authorization_pending"));
    QCOMPARE(q(d.next()), q("wait until 15500"));
    d.at(15500ms);
    QCOMPARE(q(d.next()), q(poll));
    d.answer(oauthError("authorization_pending"));
    QCOMPARE(q(d.next()), q("wait until 22500"));
    d.at(22500ms);
    QCOMPARE(q(d.next()), q(poll));
    d.answer(tokenResponse());
    QCOMPARE(q(d.next()), q("signed in"));
    QCOMPARE(d.result().token->expiresAt, std::optional<Time>(22500ms + 3600s));
    // "not finished yet" is said once, not at every poll.
    QCOMPARE(q(d.stepText()).count("not finished yet"), 1);
  }

  void deviceSlowDownPersists() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"user_code", "U"}, {"verification_uri", "https://v.example"},
                        {"expires_in", "900"}, {"interval", "5"}}));
    d.next();
    QCOMPARE(q(d.next()), q("wait until 5000"));
    d.at(5s);
    d.next();
    d.answer(oauthError("slow_down"));
    QCOMPARE(q(d.next()), q("wait until 15000"));  // 5 s + 5 s
    QVERIFY(q(d.stepText()).contains("asking every 10 s from now on"));
    d.at(15s);
    d.next();
    d.answer(oauthError("authorization_pending"));
    QCOMPARE(q(d.next()), q("wait until 25000"));  // still 10 s
    d.at(25s);
    d.next();
    d.answer(oauthError("slow_down"));
    QCOMPARE(q(d.next()), q("wait until 40000"));  // 15 s
    d.at(40s);
    d.next();
    d.answer(oauthError("authorization_pending"));
    QCOMPARE(q(d.next()), q("wait until 55000"));
  }

  void deviceVerificationUrlAndDefaultInterval() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"user_code", "WXYZ"}, {"verification_url", "https://v.example/dev"},
                        {"verification_uri_complete", "https://v.example/dev?c=WXYZ"}, {"expires_in", "600"}}));
    QCOMPARE(q(d.next()), q("show WXYZ at https://v.example/dev until 600000"));
    QCOMPARE(q(d.next()), q("wait until 5000"));  // RFC 8628 §3.2: 5 s without an interval
  }

  void deviceEnds_data() {
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("problem");
    QTest::newRow("expired_token") << "expired_token" << "problem DeviceCodeExpired";
    QTest::newRow("access_denied") << "access_denied" << "problem ConsentRefused";
    QTest::newRow("invalid_client") << "invalid_client" << "problem TokenRefused";
  }
  void deviceEnds() {
    QFETCH(QString, error);
    QFETCH(QString, problem);
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"user_code", "U"}, {"verification_uri", "https://v.example"},
                        {"expires_in", "900"}}));
    d.next();
    d.next();
    d.at(5s);
    d.next();
    d.answer(oauthError(error.toStdString(), "the server's words"));
    QCOMPARE(q(d.next()), problem);
    QCOMPARE(q(d.next()), q("(nothing)"));  // no more polling
    QCOMPARE(q(d.result().problem->serverError), error);
    QCOMPARE(q(d.result().problem->serverSaid), q("the server's words"));
    QVERIFY(!d.flow.nextDeadline());
  }

  void deviceDeadline() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"user_code", "U"}, {"verification_uri", "https://v.example"},
                        {"expires_in", "12"}, {"interval", "5"}}));
    d.next();
    QCOMPARE(q(d.next()), q("wait until 5000"));
    d.at(5s);
    d.next();
    d.answer(oauthError("authorization_pending"));
    QCOMPARE(q(d.next()), q("wait until 10000"));
    d.at(10s);
    d.next();
    d.answer(oauthError("authorization_pending"));
    // The next poll would be at 15 s, after the code's 12 s: stop without asking.
    QCOMPARE(q(d.next()), q("problem DeviceCodeExpired"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    QCOMPARE(d.requests.size(), std::size_t(3));
  }

  void deviceNoAnswerBacksOff() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"user_code", "U"}, {"verification_uri", "https://v.example"},
                        {"expires_in", "900"}}));
    d.next();
    d.next();
    d.at(5s);
    d.next();
    d.flow.onHttpFailed(d.now, "connection timed out");
    QCOMPARE(q(d.next()), q("wait until 15000"));  // RFC 8628 §3.5: exponential back-off
    QVERIFY(q(d.stepText()).contains("connection timed out"));
  }

  void deviceResponseIncomplete() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.answer(json(200, {{"device_code", kDeviceCode}, {"verification_uri", "https://v.example"}, {"expires_in", "900"}}));
    QCOMPARE(q(d.next()), q("problem UnexpectedAnswer"));
    QVERIFY(q(d.result().problem->explanation).contains("user_code"));
  }

  // ------------------------------------------------------------------------------------------
  // Refresh tokens and token responses

  void refreshKeepsOrReplacesTheRefreshToken_data() {
    QTest::addColumn<bool>("newOne");
    QTest::newRow("without refresh_token: the old one stays") << false;
    QTest::newRow("with refresh_token: replaced") << true;
  }
  void refreshKeepsOrReplacesTheRefreshToken() {
    QFETCH(bool, newOne);
    Settings s = microsoft();
    s.refreshToken = Secret(kRefreshToken);
    Driver d(s);
    d.start();
    QCOMPARE(q(d.next()), q("POST " + kMsToken + " | grant_type=refresh_token&refresh_token=" + kRefreshToken +
                            "&client_id=cid&scope=" + kMsScope));
    d.answer(newOne ? tokenResponse() : tokenResponse({{"refresh_token", "<absent>"}}));
    QCOMPARE(q(d.next()), q("signed in"));
    const Token& token = *d.result().token;
    QCOMPARE(q(std::string(token.refreshToken.reveal())), q(newOne ? kNewRefreshToken : kRefreshToken));
    QCOMPARE(token.refreshTokenChanged, newOne);
    QVERIFY(q(d.stepText()).contains(newOne ? "a new refresh token" : "the stored refresh token stays valid"));
  }

  void refreshInvalidGrantFallsBack_data() {
    QTest::addColumn<int>("flow");
    QTest::addColumn<QString>("after");
    QTest::newRow("browser") << int(FlowKind::Browser) << "listen 127.0.0.1";
    QTest::newRow("device") << int(FlowKind::Device) << q("POST " + kMsDevice + " | client_id=cid&scope=" + kMsScope);
  }
  void refreshInvalidGrantFallsBack() {
    QFETCH(int, flow);
    QFETCH(QString, after);
    Settings s = microsoft(FlowKind(flow));
    s.refreshToken = Secret(kRefreshToken);
    Driver d(s);
    d.start();
    d.next();
    d.answer(oauthError("invalid_grant", "AADSTS70008: The refresh token has expired."));
    QCOMPARE(q(d.next()), after);
    QVERIFY2(q(d.stepText()).contains("the refresh token is no longer valid"), qPrintable(q(d.stepText())));
    if (FlowKind(flow) == FlowKind::Browser) {
      d.flow.onListening(d.now, 50123);
      QCOMPARE(q(d.next()), q("browser " + msAuthorizationUrl()));
      d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState);
      d.next();
      d.next();
      QCOMPARE(q(d.next()), q(kMsCodeExchange));
      d.answer(tokenResponse());
      QCOMPARE(q(d.next()), q("signed in"));
      QVERIFY(d.result().refreshTokenRejected);  // forget the old one
      QCOMPARE(q(std::string(d.result().token->refreshToken.reveal())), q(kNewRefreshToken));
    }
  }

  void refreshInvalidGrantWithoutFallback() {
    Settings s = microsoft();
    s.refreshToken = Secret(kRefreshToken);
    s.signInIfRefreshFails = false;
    Driver d(s);
    d.start();
    d.next();
    d.answer(oauthError("invalid_grant"));
    QCOMPARE(q(d.next()), q("problem RefreshTokenRejected"));
    QVERIFY(d.result().refreshTokenRejected);
    QCOMPARE(q(d.result().problem->headline), q("The refresh token is no longer valid"));
  }

  void refreshOtherErrorDoesNotFallBack() {
    Settings s = microsoft();
    s.refreshToken = Secret(kRefreshToken);
    Driver d(s);
    d.start();
    d.next();
    d.answer(oauthError("invalid_client"));
    QCOMPARE(q(d.next()), q("problem TokenRefused"));
    QVERIFY(!d.result().refreshTokenRejected);
  }

  void tokenResponses_data() {
    QTest::addColumn<QString>("member");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("outcome");
    QTest::newRow("Bearer") << "token_type" << "Bearer" << "signed in";
    QTest::newRow("bearer, any case") << "token_type" << "bEaReR" << "signed in";
    QTest::newRow("mac") << "token_type" << "mac" << "problem NotBearer";
    QTest::newRow("DPoP") << "token_type" << "DPoP" << "problem NotBearer";
    QTest::newRow("no token_type") << "token_type" << "<absent>" << "problem NotBearer";
    QTest::newRow("no access_token") << "access_token" << "<absent>" << "problem UnexpectedAnswer";
    QTest::newRow("no expires_in") << "expires_in" << "<absent>" << "signed in";
  }
  void tokenResponses() {
    QFETCH(QString, member);
    QFETCH(QString, value);
    QFETCH(QString, outcome);
    Settings s = microsoft();
    s.refreshToken = Secret(kRefreshToken);
    Driver d(s);
    d.start();
    d.next();
    d.answer(tokenResponse({{member.toStdString(), value.toStdString()}}));
    QCOMPARE(q(d.next()), outcome);
    if (member == "expires_in") QVERIFY(!d.result().token->expiresAt);
  }

  void tokenErrors_data() {
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");  // empty: an HTML page
    QTest::addColumn<QString>("problem");
    QTest::addColumn<QString>("says");
    QTest::newRow("invalid_client") << 401 << "invalid_client" << "problem TokenRefused" << "client ID";
    QTest::newRow("invalid_scope") << 400 << "invalid_scope" << "problem TokenRefused" << "scope";
    QTest::newRow("unauthorized_client") << 400 << "unauthorized_client" << "problem TokenRefused" << "registration";
    QTest::newRow("unknown code") << 400 << "weird_error" << "problem TokenRefused" << "weird_error";
    QTest::newRow("html 502") << 502 << "" << "problem UnexpectedAnswer" << "HTTP 502";
  }
  void tokenErrors() {
    QFETCH(int, status);
    QFETCH(QString, error);
    QFETCH(QString, problem);
    QFETCH(QString, says);
    Driver d(microsoft());
    toRedirect(d);
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState);
    d.next();
    d.next();
    d.next();
    HttpResponse r = error.isEmpty() ? html(status) : oauthError(error.toStdString(), "<b>server text</b>");
    r.status = status;
    d.answer(r);
    QCOMPARE(q(d.next()), problem);
    QVERIFY2(q(d.result().problem->explanation).contains(says), qPrintable(q(d.result().problem->explanation)));
    if (!error.isEmpty()) {
      QCOMPARE(q(d.result().problem->serverSaid), q("<b>server text</b>"));  // kept apart, as text
      QVERIFY(!q(d.result().problem->explanation).contains("<b>"));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Refusals before anything is sent, and wrong calls

  void googleDeviceFlowRefused() {
    Settings s;
    s.provider = ProviderKind::Google;
    s.clientId = "1234.apps.googleusercontent.com";
    s.flow = FlowKind::Device;
    Driver d(s);
    d.start();
    QCOMPARE(q(d.next()), q("problem DeviceFlowNotAllowed"));
    QCOMPARE(q(d.next()), q("(nothing)"));
    const Problem& problem = *d.result().problem;
    QCOMPARE(q(problem.headline), q("Device sign-in not available"));
    QVERIFY(q(problem.explanation).contains("Google does not allow the device flow for the mail scope"));
    QVERIFY(q(problem.explanation).contains("choose the browser flow"));
    QCOMPARE(faultOf(problem.kind), Fault::Local);
  }

  void notEnoughRandomness() {
    Driver d(microsoft(), std::string(63, 'x'));
    d.start();
    QCOMPARE(q(d.next()), q("problem NotEnoughRandomness"));
  }

  void networkFailure() {
    Driver d(microsoft());
    toRedirect(d);
    d.flow.onRedirect(d.now, "/?code=" + kCode + "&state=" + kState);
    d.next();
    d.next();
    d.next();
    d.flow.onHttpFailed(d.now, "TLS handshake failed");
    QCOMPARE(q(d.next()), q("problem HttpFailed"));
    QVERIFY(q(d.result().problem->explanation).contains("TLS handshake failed"));
    QCOMPARE(faultOf(ProblemKind::HttpFailed), Fault::Network);
  }

  void answersOutOfTurn() {
    Driver d(microsoft(FlowKind::Device));
    d.start();
    d.next();
    d.flow.onListening(d.now, 1234);  // nobody asked for a port
    QCOMPARE(q(d.next()), q("problem InvalidState"));
    QVERIFY2(q(d.result().problem->explanation).contains("asking for a device code"),
             qPrintable(q(d.result().problem->explanation)));
    d.answer(tokenResponse());  // after the end: ignored
    QCOMPARE(q(d.next()), q("(nothing)"));
  }

  void secretsStaySecret() {
    // Descriptions name secret fields but show ********; Secrets print as ********.
    Settings s = microsoft();
    s.refreshToken = Secret(kRefreshToken);
    s.clientSecret = Secret(kClientSecret);
    Driver d(s);
    d.start();
    d.next();
    QCOMPARE(q(d.requests.back().description),
             q("POST " + kMsToken + " (grant_type=refresh_token, refresh_token=********, client_id=cid, "
                                    "scope=https://outlook.office.com/SMTP.Send offline_access, client_secret=********)"));
    std::ostringstream printed;
    printed << d.requests.back().body;
    QCOMPARE(q(printed.str()), q("********"));
    // The leak check itself finds a secret where one is (so its silence elsewhere means something).
    QCOMPARE(q(smtpc::testing::findSecret("x" + kVerifier + "y", kVerifier)), q(kVerifier));
  }

  void stepTable() {
    QCOMPARE(q(std::string(signInStepName(SignInStep::DeviceCode))), q("DeviceCode"));
    QCOMPARE(q(std::string(signInStepLabel(SignInStep::DeviceCode))), q("Device code"));
    QVERIFY(!signInStepPurpose(SignInStep::Exchange).empty());
    QCOMPARE(q(std::string(flowStateName(FlowState::Authorizing))), q("Authorizing"));
    QCOMPARE(q(std::string(problemKindName(ProblemKind::StateMismatch))), q("StateMismatch"));
  }
};

QTEST_APPLESS_MAIN(TestOAuth)
#include "tst_oauth.moc"
