#include <QTest>
#include <set>

#include "smtpc/error.h"
#include "smtpc/session.h"

using namespace smtpc;

class TestError : public QObject {
  Q_OBJECT
 private slots:
  void everyCodeNamedAndExplained() {
    std::set<std::string_view> names;
    QCOMPARE(errorCodeName(ErrorCode::None), std::string_view("None"));
    for (int i = 1; i <= int(ErrorCode::InvalidState); ++i) {
      const auto code = static_cast<ErrorCode>(i);
      QVERIFY(!errorCodeName(code).empty());
      QVERIFY(names.insert(errorCodeName(code)).second);
      QVERIFY2(defaultExplanation(code).size() > 10, errorCodeName(code).data());
      QVERIFY(defaultExplanation(code).back() == '.');
    }
  }
  void faults() {
    QCOMPARE(Error(ErrorCode::AuthFailed).fault(), Fault::Remote);
    QCOMPARE(Error(ErrorCode::Timeout).fault(), Fault::Network);
    QCOMPARE(Error(ErrorCode::PlaintextAuthRefused).fault(), Fault::Local);
  }
  void replyKeptAndShown() {
    Reply reply;
    reply.code = 451;
    reply.enhanced = EnhancedStatus{4, 7, 1};
    reply.lines = {"Greylisted"};
    const Error error(ErrorCode::RecipientsRejected, "The server refused the recipient.", reply);
    QVERIFY(error.isTransient());
    QCOMPARE(error.toString(),
             std::string("RecipientsRejected: The server refused the recipient. [server: 451 4.7.1 Greylisted]"));
    QVERIFY(!Error(ErrorCode::AuthFailed).isTransient());
    QVERIFY(!Error());
  }
  void namesRoundTrip() {
    for (auto mode : {SecurityMode::None, SecurityMode::StartTlsIfOffered, SecurityMode::StartTls, SecurityMode::ImplicitTls})
      QCOMPARE(*securityModeFromName(securityModeName(mode)), mode);
    for (auto phase : {Phase::None, Phase::Connect, Phase::Tls, Phase::Ehlo, Phase::Auth, Phase::Mail, Phase::Rcpt})
      QCOMPARE(*phaseFromName(phaseName(phase)), phase);
    QCOMPARE(defaultPort(SecurityMode::ImplicitTls), std::uint16_t(465));
    QCOMPARE(defaultPort(SecurityMode::None), std::uint16_t(25));
    QCOMPARE(stateName(State::DataEnd), std::string_view("DataEnd"));
    QVERIFY(!securityModeFromName("ssl"));
  }
};

QTEST_APPLESS_MAIN(TestError)
#include "tst_error.moc"
