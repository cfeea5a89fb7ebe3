// Delivery status notifications (RFC 3461): xtext and utf-8-addr-xtext (RFC 6533) exactly, the
// NOTIFY and RET words, the request's checks, and the form model's reading of the composer's fields.
#include <QTest>

#include "smtpc/command.h"
#include "smtpc/dsn.h"
#include "smtpc/form.h"

using namespace smtpc;

class TestDsn : public QObject {
  Q_OBJECT
 private slots:
  void xtext() {
    QCOMPARE(dsn::xtext("plain-id_42"), std::string("plain-id_42"));
    // '+', '=', space, and every octet outside '!'..'~' as +HH, upper-case hex (RFC 3461 §4).
    QCOMPARE(dsn::xtext("a+b=c d"), std::string("a+2Bb+3Dc+20d"));
    QCOMPARE(dsn::xtext(std::string("\x01\x7f\xc3\xa9", 4)), std::string("+01+7F+C3+A9"));
    QCOMPARE(dsn::xtext("~!"), std::string("~!"));
  }

  void utf8AddrXtext() {
    // RFC 6533 §3: non-ASCII as \x{code point}, no leading zeros; '\', '+', '=' too; the rest as is.
    QCOMPARE(*dsn::utf8AddrXtext("jörg@bücher.example"), std::string("j\\x{F6}rg@b\\x{FC}cher.example"));
    QCOMPARE(*dsn::utf8AddrXtext("用户@例子.广告"), std::string("\\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.\\x{5E7F}\\x{544A}"));
    QCOMPARE(*dsn::utf8AddrXtext("a+b=c\\d@x"), std::string("a\\x{2B}b\\x{3D}c\\x{5C}d@x"));
    QCOMPARE(*dsn::utf8AddrXtext("\xf0\x9f\x98\x80@x"), std::string("\\x{1F600}@x"));  // 4 octets, 5 digits
    QVERIFY(!dsn::utf8AddrXtext("\xc3@x"));          // cut short
    QVERIFY(!dsn::utf8AddrXtext("\xc0\xaf@x"));      // overlong '/'
    QVERIFY(!dsn::utf8AddrXtext("\xed\xa0\x80@x"));  // a surrogate
    QCOMPARE(*dsn::originalRecipient("b+tag@example.net"), std::string("rfc822;b+2Btag@example.net"));
    QCOMPARE(*dsn::originalRecipient("jörg@example.net"), std::string("utf-8;j\\x{F6}rg@example.net"));
  }

  void notifyWords() {
    auto n = DsnNotify::parse(" Delay, success ,FAILURE");
    QVERIFY(n);
    QCOMPARE(n->toParameter(), std::string("SUCCESS,FAILURE,DELAY"));  // the RFC's order, whatever was typed
    QCOMPARE(DsnNotify::parse("never")->toParameter(), std::string("NEVER"));
    QCOMPARE(DsnNotify::parse("never,success").error().code(), ErrorCode::InvalidArgument);
    QVERIFY(DsnNotify::parse("never,success").error().explanation().find("cannot be combined") != std::string::npos);
    QVERIFY(DsnNotify::parse("sometimes").error().explanation().find("\"sometimes\"") != std::string::npos);
    QVERIFY(!DsnNotify::parse(" , "));
    QVERIFY(DsnNotify{}.empty());
    QCOMPARE(DsnNotify{}.toParameter(), std::string());
    QCOMPARE(*parseDsnReturn("HDRS"), DsnReturn::Headers);
    QCOMPARE(*parseDsnReturn("full"), DsnReturn::Full);
    QVERIFY(!parseDsnReturn("body"));
  }

  void requestChecks() {
    DsnRequest r;
    QVERIFY(!r.requested());
    QVERIFY(!r.check().isError());
    QCOMPARE(*r.originalRecipientFor("a@example.net"), std::string());  // nothing asked: no ORCPT
    r.envelopeId = std::string(100, 'x');
    QVERIFY(r.requested());
    QVERIFY(!r.check().isError());
    QCOMPARE(*r.originalRecipientFor("a@example.net"), std::string("rfc822;a@example.net"));
    r.envelopeId = std::string(101, 'x');
    QCOMPARE(r.check().code(), ErrorCode::InvalidArgument);
    r.envelopeId = "tab\there";
    QCOMPARE(r.check().code(), ErrorCode::InvalidArgument);
    r.envelopeId = "spaces are printable";
    QVERIFY(!r.check().isError());
    r.notify.never = r.notify.delay = true;  // set directly, past parse(): check() still refuses it
    QCOMPARE(r.check().code(), ErrorCode::InvalidArgument);
    r.notify = {};
    r.recipients.push_back(DsnRecipient{"a@example.net", DsnNotify{false, true, false, false}, "not an address"});
    QCOMPARE(r.check().code(), ErrorCode::InvalidArgument);
    r.recipients.back().originalRecipient = "first@example.org";
    QVERIFY(!r.check().isError());
    QCOMPARE(r.notifyFor("a@example.net").toParameter(), std::string("SUCCESS"));
    QCOMPARE(r.notifyFor("other@example.net").toParameter(), std::string());
    QCOMPARE(*r.originalRecipientFor("a@example.net"), std::string("rfc822;first@example.org"));
    r.originalRecipients = false;
    QCOMPARE(*r.originalRecipientFor("other@example.net"), std::string());
  }

  void wireLines() {
    command::MailParameters p;
    p.dsnReturn = DsnReturn::Headers;
    p.dsnEnvelopeId = "id=1";
    QCOMPARE(*command::mailFrom("a@example.org", p), std::string("MAIL FROM:<a@example.org> RET=HDRS ENVID=id+3D1\r\n"));
    command::RcptParameters r;
    r.notify.failure = r.notify.delay = true;
    r.originalRecipient = "rfc822;b@example.net";
    QCOMPARE(*command::rcptTo("b@example.net", r),
             std::string("RCPT TO:<b@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.net\r\n"));
  }

  // The composer's fields, checked once in the form model; each mistake names its field.
  void formFields() {
    form::MessageForm f;
    f.from = "a@example.org";
    f.to = "b@example.net";
    form::Problem problem;
    auto m = form::toMessage(f, &problem);
    QVERIFY(m);
    QVERIFY(!m->dsn.requested());
    f.dsnNotify = "success,failure";
    f.dsnRet = "hdrs";
    f.dsnEnvelopeId = " order 7 ";
    f.dsnOptional = true;
    m = form::toMessage(f, &problem);
    QVERIFY(m);
    QVERIFY(m->dsn.notify.success && m->dsn.notify.failure && !m->dsn.notify.delay);
    QCOMPARE(m->dsn.ret, DsnReturn::Headers);
    QCOMPARE(m->dsn.envelopeId, std::string("order 7"));
    QCOMPARE(m->dsn.ifNotOffered, IfDsnNotOffered::SendWithout);
    QCOMPARE(m->envelope().dsn.envelopeId, std::string("order 7"));  // the envelope carries it

    f.dsnNotify = "never,failure";
    QVERIFY(!form::toMessage(f, &problem));
    QCOMPARE(problem.field, std::string("dsnNotify"));
    f.dsnNotify = "";
    f.dsnRet = "body";
    QVERIFY(!form::toMessage(f, &problem));
    QCOMPARE(problem.field, std::string("dsnRet"));
    f.dsnRet = "";
    f.dsnEnvelopeId = std::string(101, 'x');
    QVERIFY(!form::toMessage(f, &problem));
    QCOMPARE(problem.field, std::string("dsnEnvid"));
    QVERIFY(problem.explanation.find("101 characters") != std::string::npos);

    // Every NOTIFY choice the composers offer is one parse() accepts.
    const auto notifyChoices = form::choices("dsnNotify");
    QVERIFY(notifyChoices.size() >= 5);
    for (const auto& c : notifyChoices)
      if (!c.value.empty()) QVERIFY2(DsnNotify::parse(c.value), c.value.c_str());
    for (const auto& c : form::choices("dsnRet"))
      if (!c.value.empty()) QVERIFY2(parseDsnReturn(c.value), c.value.c_str());
    for (const char* id : {"dsnNotify", "dsnRet", "dsnEnvid", "dsnOptional"}) {
      const form::Field* field = form::findField(id);
      QVERIFY2(field, id);
      QVERIFY(field->linkKey.empty());  // a link may not ask for reports on someone's behalf
    }
  }
};

QTEST_APPLESS_MAIN(TestDsn)
#include "tst_dsn.moc"
