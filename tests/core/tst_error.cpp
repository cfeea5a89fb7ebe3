#include <QTest>
#include <map>
#include <set>

#include "smtpc/error.h"
#include "smtpc/session.h"
#include "smtpc/step.h"

using namespace smtpc;

namespace {

const std::vector<ErrorCode>& allErrors() {
  static const std::vector<ErrorCode> list{
#define SMTPC_X(name, fault, exit, legacy, step, text) ErrorCode::name,
      SMTPC_ERROR_CODES(SMTPC_X)
#undef SMTPC_X
  };
  return list;
}

const std::vector<State>& allStates() {
  static const std::vector<State> list{
#define SMTPC_X(name, text, timer, quit, step) State::name,
      SMTPC_SESSION_STATES(SMTPC_X)
#undef SMTPC_X
  };
  return list;
}

const char* name(ErrorCode code) { return errorCodeName(code).data(); }

}  // namespace

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
  // Every error answers the four questions the front ends ask (fault, CLI exit status, C API code,
  // failed step), and the answers agree with each other: a new row cannot fall through to "usage".
  void everyErrorHasEveryColumn() {
    QCOMPARE(int(allErrors().size()), int(ErrorCode::InvalidState) + 1);
    std::set<LegacyCode> used;
    for (const ErrorCode code : allErrors()) {
      const bool none = code == ErrorCode::None;
      QVERIFY2((exitClassOf(code) == ExitClass::Ok) == none, name(code));
      QVERIFY2((legacyCodeOf(code) == LegacyCode::SMTPc_ERR_NONE) == none, name(code));
      // "Usage" is for what the caller gave us; anything the server or the network did has its own class.
      if (exitClassOf(code) == ExitClass::Usage) QVERIFY2(faultOf(code) == Fault::Local, name(code));
      if (faultOf(code) == Fault::Network)
        QVERIFY2(exitClassOf(code) == ExitClass::Network || exitClassOf(code) == ExitClass::Tls, name(code));
      if (failedStepOf(code) == Step::Connect) QVERIFY2(faultOf(code) == Fault::Network, name(code));
      if (failedStepOf(code) == Step::Mail || failedStepOf(code) == Step::Rcpt || failedStepOf(code) == Step::Data)
        QVERIFY2(exitClassOf(code) == ExitClass::MessageRefused, name(code));
      QVERIFY2(legacyCodeName(legacyCodeOf(code)).rfind("SMTPc_ERR_", 0) == 0, name(code));
      used.insert(legacyCodeOf(code));
    }
    // Every legacy code but the C API's own (a bad handle) is what some error becomes.
    std::set<LegacyCode> unused;
#define SMTPC_X(code) \
  if (!used.count(LegacyCode::code)) unused.insert(LegacyCode::code);
    SMTPC_LEGACY_CODES(SMTPC_X)
#undef SMTPC_X
    QCOMPARE(unused, std::set<LegacyCode>{LegacyCode::SMTPc_ERR_INVALID_HANDLE});
  }

  // The columns say what the three switches they replaced said (the CLI's exitCodeFor, the C
  // API's toLegacy, the step bar's failed step): moving them into the list changed nothing.
  void columnsKeepTheirMeaning() {
    struct Row {
      ExitClass exit;
      std::string_view legacy;
      std::optional<Step> step;
    };
    const std::optional<Step> underWay;
    const std::map<ErrorCode, Row> expected{
        {ErrorCode::None, {ExitClass::Ok, "SMTPc_ERR_NONE", underWay}},
        {ErrorCode::NullArgument, {ExitClass::Usage, "SMTPc_ERR_NULL_PTR", underWay}},
        {ErrorCode::InvalidArgument, {ExitClass::Usage, "SMTPc_ERR_INVALID_ARG", underWay}},
        {ErrorCode::LineTooLong, {ExitClass::Usage, "SMTPc_ERR_LINE_TOO_LONG", underWay}},
        {ErrorCode::StringTooLong, {ExitClass::Usage, "SMTPc_ERR_STR_TOO_LONG", underWay}},
        {ErrorCode::Encode, {ExitClass::Usage, "SMTPc_ERR_ENCODE", underWay}},
        {ErrorCode::HostNotFound, {ExitClass::Network, "SMTPc_ERR_HOST_NOT_FOUND", Step::Connect}},
        {ErrorCode::ConnectionRefused, {ExitClass::Network, "SMTPc_ERR_SOCK_CONN_FAILED", Step::Connect}},
        {ErrorCode::ConnectFailed, {ExitClass::Network, "SMTPc_ERR_SOCK_CONN_FAILED", Step::Connect}},
        {ErrorCode::ConnectionLost, {ExitClass::Network, "SMTPc_ERR_CONN_LOST", underWay}},
        {ErrorCode::ReceiveFailed, {ExitClass::Network, "SMTPc_ERR_RX_FAILED", underWay}},
        {ErrorCode::TransmitFailed, {ExitClass::Network, "SMTPc_ERR_TX_FAILED", underWay}},
        {ErrorCode::Timeout, {ExitClass::Network, "SMTPc_ERR_TIMEOUT", underWay}},
        {ErrorCode::TlsHandshakeFailed, {ExitClass::Tls, "SMTPc_ERR_TLS_HANDSHAKE", underWay}},
        {ErrorCode::CertificateInvalid, {ExitClass::Tls, "SMTPc_ERR_CERT_INVALID", underWay}},
        {ErrorCode::ClientCertificateRefused, {ExitClass::Tls, "SMTPc_ERR_TLS_HANDSHAKE", Step::TlsHandshake}},
        {ErrorCode::SecureNotAvailable, {ExitClass::Tls, "SMTPc_ERR_SECURE_NOT_AVAIL", underWay}},
        {ErrorCode::StartTlsNotOffered, {ExitClass::Tls, "SMTPc_ERR_STARTTLS_NOT_OFFERED", underWay}},
        {ErrorCode::ServerRefused, {ExitClass::ServerSide, "SMTPc_ERR_SERVER_REFUSED", underWay}},
        {ErrorCode::ServiceNotAvailable, {ExitClass::ServerSide, "SMTPc_ERR_SERVER_REFUSED", underWay}},
        {ErrorCode::ServerReply, {ExitClass::ServerSide, "SMTPc_ERR_REP", underWay}},
        {ErrorCode::ProtocolViolation, {ExitClass::ServerSide, "SMTPc_ERR_PROTOCOL", underWay}},
        {ErrorCode::AuthNotOffered, {ExitClass::Auth, "SMTPc_ERR_AUTH_NOT_OFFERED", underWay}},
        {ErrorCode::NoCommonMechanism, {ExitClass::Auth, "SMTPc_ERR_NO_COMMON_MECH", underWay}},
        {ErrorCode::AuthFailed, {ExitClass::Auth, "SMTPc_ERR_AUTH_FAILED", underWay}},
        {ErrorCode::PlaintextAuthRefused, {ExitClass::Auth, "SMTPc_ERR_PLAINTEXT_AUTH_REFUSED", underWay}},
        {ErrorCode::ServerNotAuthenticated, {ExitClass::Auth, "SMTPc_ERR_AUTH_FAILED", underWay}},
        {ErrorCode::SenderRejected, {ExitClass::MessageRefused, "SMTPc_ERR_SENDER_REJECTED", Step::Mail}},
        {ErrorCode::RecipientsRejected, {ExitClass::MessageRefused, "SMTPc_ERR_RCPT_REJECTED", Step::Rcpt}},
        {ErrorCode::MessageTooLarge, {ExitClass::MessageRefused, "SMTPc_ERR_MSG_TOO_LARGE", underWay}},
        {ErrorCode::MessageRejected, {ExitClass::MessageRefused, "SMTPc_ERR_MSG_REJECTED", Step::Data}},
        {ErrorCode::SmtpUtf8NotSupported, {ExitClass::MessageRefused, "SMTPc_ERR_MSG_REJECTED", Step::Mail}},
        {ErrorCode::EightBitNotSupported, {ExitClass::MessageRefused, "SMTPc_ERR_MSG_REJECTED", Step::Mail}},
        {ErrorCode::DsnNotSupported, {ExitClass::MessageRefused, "SMTPc_ERR_MSG_REJECTED", Step::Mail}},
        {ErrorCode::BodyReadFailed, {ExitClass::Usage, "SMTPc_ERR_FILE", underWay}},
        {ErrorCode::Cancelled, {ExitClass::Cancelled, "SMTPc_ERR_CANCELLED", underWay}},
        {ErrorCode::InvalidState, {ExitClass::Usage, "SMTPc_ERR_INVALID_ARG", underWay}},
    };
    QCOMPARE(expected.size(), allErrors().size());
    for (const ErrorCode code : allErrors()) {
      const Row& row = expected.at(code);
      QVERIFY2(exitClassOf(code) == row.exit, name(code));
      QCOMPARE(legacyCodeName(legacyCodeOf(code)), row.legacy);
      QVERIFY2(failedStepOf(code) == row.step, name(code));
    }
  }

  // The state list's columns: each state's timer is the phase's own (every phase set to a
  // different length to tell them apart), QUIT is possible exactly where the engine may still
  // say it, and the step bar moves in the states that do something on the wire.
  void everyStateHasEveryColumn() {
    Timeouts t;
    int seconds = 1;
    for (Duration* phase : {&t.connect, &t.tlsHandshake, &t.greeting, &t.command, &t.mail, &t.rcpt,
                            &t.dataInitiation, &t.dataBlock, &t.dataTermination, &t.quit})
      *phase = std::chrono::seconds(seconds++);
    const std::map<State, Duration> timers{
        {State::Idle, Duration(0)},        {State::Connecting, t.connect},  {State::TlsHandshake, t.tlsHandshake},
        {State::Greeting, t.greeting},     {State::Ehlo, t.command},        {State::Helo, t.command},
        {State::StartTls, t.command},      {State::Auth, t.command},        {State::Ready, Duration(0)},
        {State::Mail, t.mail},             {State::Rcpt, t.rcpt},           {State::Data, t.dataInitiation},
        {State::Body, t.dataBlock},        {State::DataEnd, t.dataTermination}, {State::Rset, t.command},
        {State::Bdat, t.dataBlock},  // RFC 3030 chunks: the data block timer, restarted on progress
        {State::Noop, t.command},          {State::Quit, t.quit},           {State::Closed, Duration(0)},
    };
    const std::set<State> noQuit{State::Idle, State::Connecting, State::TlsHandshake, State::Body, State::Quit,
                                 State::Closed};
    QCOMPARE(timers.size(), allStates().size());
    for (const State state : allStates()) {
      QVERIFY2(timeoutFor(t, state) == timers.at(state), stateName(state).data());
      QVERIFY2(quitPossible(state) == !noQuit.count(state), stateName(state).data());
      QVERIFY2(!stateDescription(state).empty(), stateName(state).data());
    }
    QCOMPARE(stepOf(State::Helo), std::optional<Step>(Step::Ehlo));
    QCOMPARE(stepOf(State::Body), std::optional<Step>(Step::Data));
    QCOMPARE(stepOf(State::DataEnd), std::optional<Step>(Step::Data));
    QCOMPARE(stepOf(State::Bdat), std::optional<Step>(Step::Bdat));
    QCOMPARE(stepLabel(Step::Bdat), std::string_view("BDAT"));
    QCOMPARE(stepOf(State::Rset), std::optional<Step>());
    QCOMPARE(stepOf(State::Ready), std::optional<Step>());
    QCOMPARE(stepLabel(Step::EhloAgain), std::string_view("EHLO"));
    QVERIFY(!stepPurpose(Step::Quit).empty());
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
