// The exported reports (issue 17, "Take it home"): a real session's events gathered by RunRecord,
// rendered as HTML and SVG, then read by parsers that are not ours (check_report.py: Python's
// html.parser with balanced tags, and xml.etree). The server here is hostile: markup, terminal
// escapes, bytes that are not UTF-8 and bidirectional overrides in its replies must come out as
// text. No password, token or AUTH string may reach either file.
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "smtpc/base64.h"
#include "smtpc/report.h"
#include "smtpc/sasl.h"

using namespace smtpc;
using namespace std::chrono_literals;

namespace {

const std::string kPassword = "Pa55-w0rd!";
const std::string kToken = "ya29.secret-token-value";

// Drives a Session in memory the way a transport does, and gives every event to a RunRecord.
struct Run {
  explicit Run(const ConnectParams& params, bool sendsMail = false) : session(params), record(params, sendsMail) {}

  void start() {
    QVERIFY(!session.start(now));
    pump();
  }
  void pump() {
    while (auto output = session.poll()) {
      if (std::holds_alternative<ConnectAction>(*output)) {
        session.onConnected(now, ConnectionInfo{"192.0.2.10", "198.51.100.25"});
      } else if (auto* write = std::get_if<WriteAction>(&*output)) {
        wire += write->bytes;
        session.onBytesFlushed(now, write->bytes.size());
      } else if (auto* event = std::get_if<Event>(&*output)) {
        record.onEvent(*event);
      }
    }
  }
  void server(std::string_view bytes) {
    now += 25ms;
    session.receive(now, bytes);
    pump();
  }
  void tlsUp(const TlsInfo& info) {
    now += 40ms;
    session.onTlsEstablished(now, info);
    pump();
  }

  Time now{0};
  Session session;
  RunRecord record;
  std::string wire;  // what the client sent
};

TlsInfo hostileTls() {
  TlsInfo info;
  info.protocol = "TLSv1.3";
  info.cipher = "TLS_AES_256_GCM_SHA384";
  info.verified = true;
  CertificateInfo certificate;
  certificate.subject = "CN=mx.example.net,O=<b>Evil & Co</b>";
  certificate.issuer = "CN=Sandbox CA";
  certificate.notBefore = "2026-01-01T00:00:00Z";
  certificate.notAfter = "2027-01-01T00:00:00Z";
  certificate.subjectAlternativeNames = {"mx.example.net"};
  certificate.sha256Fingerprint = "AB:CD";
  info.chain.push_back(certificate);
  return info;
}

// A wrong password against a server whose every reply tries to inject markup. `wire`: what the
// client sent.
RunRecord hostileFailedLogin(std::string* wire = nullptr) {
  ConnectParams params;
  params.host = "mx.example.net";
  params.security = SecurityMode::StartTls;
  params.credentials.username = "demo";
  params.credentials.password = Secret(kPassword);
  Run run(params);
  run.start();
  run.server("220 mx.example.net ESMTP <script>alert('greeting')</script> \x1b[2J \xff\xfe \xe2\x80\xae!KO 052\r\n");
  run.server("250-mx.example.net says <b>hello</b> & \"welcome\"\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
  run.server("220 2.0.0 go ahead\r\n");
  run.tlsUp(hostileTls());
  run.server("250-mx.example.net\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 1000\r\n250-ENHANCEDSTATUSCODES\r\n"
             "250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n");
  run.server("535 5.7.8 Error: authentication failed <img src=x onerror=alert(1)> " + std::string(3000, 'x') +
             "\xc3\xa9\xc3\xa9\xc3\xa9\r\n");
  run.server("221 2.0.0 Bye\r\n");
  if (wire) *wire = run.wire;
  return run.record;
}

// A token login that works, stopped after AUTH.
RunRecord tokenLogin() {
  ConnectParams params;
  params.host = "smtp.example.com";
  params.security = SecurityMode::ImplicitTls;
  params.credentials.username = "me@example.com";
  params.credentials.oauthToken = Secret(kToken);
  params.authMechanism = AuthMechanism::XOAuth2;
  params.quitAfter = Phase::Auth;
  Run run(params);
  run.start();
  run.tlsUp(hostileTls());
  run.server("220 smtp.example.com ESMTP\r\n");
  run.server("250-smtp.example.com\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n");
  run.server("235 2.7.0 Accepted\r\n");
  run.server("221 2.0.0 Bye\r\n");
  return run.record;
}

// A message sent in clear text to a server that offers PIPELINING: MAIL, RCPT and DATA leave in
// one batch and their replies come after them.
RunRecord pipelinedSend() {
  ConnectParams params;
  params.host = "mx.example.net";
  params.port = 25;
  params.security = SecurityMode::None;
  Run run(params, true);
  auto queued = run.session.send(run.now, OutgoingMessage{Envelope{"a@example.org", {"b@example.net"}, {}},
                                                          std::make_shared<StringBody>("Subject: hi\r\n\r\nhello\r\n")});
  if (!queued) qFatal("send: %s", queued.error().toString().c_str());
  run.session.quit(run.now);
  run.start();
  run.server("220 mx.example.net ESMTP\r\n");
  run.server("250-mx.example.net\r\n250 PIPELINING\r\n");
  run.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  run.server("250 2.0.0 Ok: queued as 1\r\n");
  run.server("221 2.0.0 Bye\r\n");
  return run.record;
}

// The step headings of the page, in order: "Connect", "Greeting", ...
std::vector<std::string> stepHeadings(const std::string& html) {
  std::vector<std::string> headings;
  const std::string mark = "<p class=\"step-mark\">";
  for (auto at = html.find(mark); at != std::string::npos; at = html.find(mark, at + 1)) {
    const auto start = at + mark.size();
    headings.push_back(html.substr(start, html.find(" \xe2\x80\x94", start) - start));
  }
  return headings;
}

std::vector<std::string> secretForms() {
  return {kPassword, base64::encode(kPassword), sasl::plain("", "demo", kPassword), kToken, base64::encode(kToken),
          sasl::xoauth2("me@example.com", kToken)};
}

// The y attribute of the element in which `needle` occurs.
int yOf(const std::string& svg, const std::string& needle) {
  const auto at = svg.find(needle);
  if (at == std::string::npos) return -1;
  const auto y = svg.find(" y=\"", svg.rfind('<', at));
  return std::stoi(svg.substr(y + 4));
}

std::string explainForTest(const TranscriptEntry& line) {
  if (line.kind != TranscriptKind::Server) return {};
  return "Reply <" + line.text.substr(0, 3) + "> from the server.\nSee RFC 5321 \xc2\xa7" "4.2";
}

}  // namespace

class TestReport : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

  // Writes the reports and runs check_report.py on them: parsed by html.parser (balanced tags)
  // and xml.etree, self-contained, and none of `absent` in either.
  void parse(const RunRecord& record, const ReportOptions& options, const QString& name,
             const std::vector<std::string>& absent) {
    QStringList arguments{QStringLiteral(SMTPC_CHECK_REPORT)};
    for (const std::string& text : absent) arguments << QStringLiteral("--absent") << QString::fromStdString(text);
    for (const char* extension : {".html", ".svg"}) {
      const QString path = dir_.filePath(name + QLatin1String(extension));
      QFile file(path);
      QVERIFY(file.open(QIODevice::WriteOnly));
      const std::string bytes = renderReport(*reportFormatForPath(path.toStdString()), record, options);
      file.write(bytes.data(), static_cast<qint64>(bytes.size()));
      file.close();
      arguments << path;
    }
    QProcess checker;
    checker.start(QStringLiteral("/usr/bin/python3"), arguments);
    QVERIFY(checker.waitForFinished(60000));
    const QByteArray why = checker.readAllStandardError();
    QVERIFY2(checker.exitStatus() == QProcess::NormalExit && checker.exitCode() == 0, why.constData());
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void formatByExtension() {
    QCOMPARE(reportFormatForPath("run.html"), std::optional(ReportFormat::Html));
    QCOMPARE(reportFormatForPath("/tmp/RUN.HTM"), std::optional(ReportFormat::Html));
    QCOMPARE(reportFormatForPath("a.b/run.Svg"), std::optional(ReportFormat::Svg));
    QVERIFY(!reportFormatForPath("run.txt"));
    QVERIFY(!reportFormatForPath("html"));
    QVERIFY(!reportFormatForPath("dir.html/run"));
  }

  // The server's markup is text in both files, and both still parse.
  void hostileServerTextIsEscaped() {
    const RunRecord record = hostileFailedLogin();
    ReportOptions options;
    options.explain = explainForTest;
    options.date = "2026-12-02 08:30 UTC <i>";
    const std::string html = renderHtmlReport(record, options), svg = renderSvgReport(record, options);
    for (const std::string* file : {&html, &svg}) {
      QVERIFY(file->find("<script") == std::string::npos);
      QVERIFY(file->find("<img") == std::string::npos);
      QVERIFY(file->find("<b>") == std::string::npos);
      QVERIFY(file->find("<i>") == std::string::npos);
      QVERIFY(file->find("\x1b") == std::string::npos);
      QVERIFY(file->find("\xe2\x80\xae") == std::string::npos);  // the override, shown as \u202e instead
      QVERIFY(file->find("\\u202e") != std::string::npos);
    }
    QVERIFY(html.find("&lt;script&gt;alert(&#39;greeting&#39;)&lt;/script&gt;") != std::string::npos);
    QVERIFY(html.find("&lt;b&gt;Evil &amp; Co&lt;/b&gt;") != std::string::npos);  // the certificate's subject
    QVERIFY(svg.find("&lt;script&gt;alert(&#39;greeting&#39;)") != std::string::npos);
    // Each line's explanation, escaped like the rest, in a <details> under its line.
    QVERIFY(html.find("<details><summary>") != std::string::npos);
    QVERIFY(html.find("Reply &lt;535&gt; from the server.\nSee RFC 5321") != std::string::npos);  // its lines kept
    // The 3000-character reply is cut in the diagram (at a character, "…"), whole in the page.
    QVERIFY(svg.find(std::string(20, 'x') + "\xe2\x80\xa6</text>") != std::string::npos);
    QVERIFY(svg.find(std::string(1000, 'x')) == std::string::npos);
    QVERIFY(html.find(std::string(3000, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9") != std::string::npos);
    parse(record, options, QStringLiteral("hostile"), secretForms());
  }

  // Inside TLS is marked: the page's encrypted lines, the diagram's shaded region and its label.
  void tlsRegionIsShown() {
    const RunRecord record = hostileFailedLogin();
    QVERIFY(record.tls);
    const std::string html = renderHtmlReport(record), svg = renderSvgReport(record);
    QVERIFY(html.find("<li class=\"tls encrypted tls-start\">") != std::string::npos);
    QVERIFY(html.find("<li class=\"client encrypted\">") != std::string::npos);
    QVERIFY(html.find("<li class=\"client\">") != std::string::npos);  // before STARTTLS: clear text
    QVERIFY(html.find("<dt>Cipher</dt><dd>TLS_AES_256_GCM_SHA384</dd>") != std::string::npos);
    QVERIFY(svg.find("fill=\"#ddf4e4\"") != std::string::npos);
    QVERIFY(svg.find("inside TLS: TLSv1.3, TLS_AES_256_GCM_SHA384") != std::string::npos);
    // The region begins below the clear-text STARTTLS exchange: its 220 is above the shading.
    const int region = yOf(svg, "fill=\"#ddf4e4\"");
    QVERIFY(yOf(svg, "220 2.0.0 go ahead") < region);
    QVERIFY(yOf(svg, ">AUTH PLAIN") > region);

    // A run in clear text has no region, and says so.
    RunRecord clear = record;
    clear.tls.reset();
    for (auto& line : clear.transcript) line.encrypted = false;
    QVERIFY(renderSvgReport(clear).find("#ddf4e4") == std::string::npos);
    QVERIFY(renderHtmlReport(clear).find("TLS never started") != std::string::npos);
  }

  // The failure: the step bar's AUTH failed, the refusal in red, the error note, the outcome box.
  void failureIsMarked() {
    const RunRecord record = hostileFailedLogin();
    QVERIFY(record.finished && record.finished->error.code() == ErrorCode::AuthFailed);
    QVERIFY(record.diagnosis && !record.diagnosis->ok);
    const std::string html = renderHtmlReport(record), svg = renderSvgReport(record);
    QVERIFY(html.find("class=\"outcome failed\"") != std::string::npos);
    QVERIFY(html.find("<p class=\"headline\">Failed at AUTH: ") != std::string::npos);
    QVERIFY(html.find("<li class=\"failed\" title=\"" + std::string(stepPurpose(Step::Auth)) + "\">AUTH") !=
            std::string::npos);
    QVERIFY(html.find("<li class=\"server encrypted refused\">") != std::string::npos);
    QVERIFY(html.find("<li class=\"error encrypted\">") != std::string::npos);
    // In the diagram: the 535 arrow red, the error note with its cross, AUTH's name red, a red box.
    const auto refusal = svg.find("535 5.7.8");
    QVERIFY(refusal != std::string::npos);
    const auto label = svg.rfind("<text", refusal);
    QVERIFY(svg.substr(label, refusal - label).find("class=\"m bad\"") != std::string::npos);
    QVERIFY(svg.find("marker-end=\"url(#arrow-bad)\"", refusal) != std::string::npos);
    const auto note = svg.find(" class=\"err\">");
    QVERIFY(note != std::string::npos);
    QVERIFY(note - svg.rfind("stroke=\"#cf222e\" stroke-width=\"2\"/>", note) < 120);  // the cross beside it
    QVERIFY(svg.find("class=\"step failed\">AUTH</text>") != std::string::npos);
    QVERIFY(svg.find("stroke=\"#cf222e\" stroke-width=\"2\"") != std::string::npos);
    QVERIFY(svg.find(">Failed at AUTH: ") != std::string::npos);
  }

  // Neither file holds the password, the token or anything computed from them, whether they came
  // through the transcript, the parameters, the diagnosis or the explanations.
  void noSecret() {
    std::string wire;
    hostileFailedLogin(&wire);
    QVERIFY(wire.find("AUTH PLAIN " + sasl::plain("", "demo", kPassword)) != std::string::npos);  // it was sent
    ReportOptions options;
    options.explain = explainForTest;
    for (const RunRecord& record : {hostileFailedLogin(), tokenLogin()}) {
      for (const std::string& file : {renderHtmlReport(record, options), renderSvgReport(record, options)})
        for (const std::string& secret : secretForms()) QVERIFY(file.find(secret) == std::string::npos);
    }
    const RunRecord token = tokenLogin();
    QVERIFY(token.finished && !token.finished->error);
    QVERIFY(renderHtmlReport(token).find("OK: stopped after auth, as asked") != std::string::npos);
    parse(token, options, QStringLiteral("token"), secretForms());
  }

  // Each line under the step it belongs to: a pipelined reply under the command it answers, the
  // message's end (".") and its reply under DATA.
  void stepsOfPipelinedLines() {
    const RunRecord record = pipelinedSend();
    QVERIFY(record.finished && !record.finished->error);
    const std::vector<std::string> expected{"Connect", "Greeting", "EHLO", "MAIL", "RCPT", "DATA", "MAIL",
                                            "RCPT",    "DATA",     "QUIT"};
    QCOMPARE(stepHeadings(renderHtmlReport(record)), expected);
    const std::string svg = renderSvgReport(record);
    QVERIFY(svg.find("#ddf4e4") == std::string::npos);  // clear text: nothing shaded
    QVERIFY(yOf(svg, ">DATA</text>") < yOf(svg, ">250 2.1.0 Ok</text>"));  // sent before the first reply
    parse(record, {}, QStringLiteral("pipelined"), {});
  }

  // A record filled by hand, with no parameters and no end, still makes valid files.
  void emptyRecord() {
    RunRecord record;
    record.server = "<x>";
    record.port = 25;
    QVERIFY(renderHtmlReport(record).find("The run did not finish.") != std::string::npos);
    parse(record, {}, QStringLiteral("empty"), {});
  }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
