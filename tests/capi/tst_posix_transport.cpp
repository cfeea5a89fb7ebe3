// The C API's POSIX transport, under the C layer: Happy Eyeballs (RFC 8305) over real loopback
// sockets, with a resolver that gives a made-up name the addresses each test needs (the
// machine's own names may have one family only).
#include <QTest>
#include <string>
#include <vector>

#include "blocking_client.h"
#include "loopback.h"
#include "sandbox.h"

using namespace smtpc;
using namespace smtpc::posix;

namespace {

SocketAddress loopback(int family, std::uint16_t port) {
  SocketAddress address;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&address.storage);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
    address.length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&address.storage);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    address.length = sizeof *a;
  }
  return address;
}

Resolver answer(std::vector<SocketAddress> addresses) {
  return [addresses](const std::string& name, std::uint16_t) {
    return name == "dual.test" ? Resolution{0, addresses} : Resolution{EAI_NONAME, {}};
  };
}

ConnectParams plainTo(std::uint16_t port) {
  ConnectParams params;
  params.host = "dual.test";
  params.port = port;
  params.security = SecurityMode::None;
  // Long enough that only a fallback that waited for it would fail: no test waits this long.
  params.timeouts.connect = std::chrono::seconds(60);
  return params;
}

// The family the first address gets: IPv6 where the machine has it (a failed IPv6 attempt falls
// back at once anyway, which the tests would not tell from a refused one).
int firstFamily() { return hasIpv6Loopback() ? AF_INET6 : AF_INET; }

}  // namespace

class TestPosixTransport : public QObject {
  Q_OBJECT
 private slots:
  // The first address refuses: the next one is tried at once and wins.
  void refusedAddressGivesWayToTheNext() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    const std::uint16_t port = sandbox.port("plain");
    BlockingClient client;
    client.transport().setResolver(
        answer({loopback(firstFamily(), ServerProcess::closedPort()), loopback(AF_INET, port)}));
    const Error error = client.connect(plainTo(port));
    QVERIFY2(!error, error.toString().c_str());
    QCOMPARE(client.transport().peerAddress(), std::string("127.0.0.1"));
    QVERIFY(!client.disconnect());
  }

  // The first address never answers: after the attempt delay the next one starts, and wins
  // (without the fallback the connect would wait for the 60 s limit, and this test's timeout).
  void silentAddressGivesWayAfterTheDelay() {
    Sandbox sandbox;
    QVERIFY(sandbox.ok());
    MisbehavingListener hole(firstFamily(), MisbehavingListener::Kind::BlackHole);
    QVERIFY(hole.ok());
    BlockingClient client;
    client.transport().setResolver(
        answer({loopback(firstFamily(), hole.port()), loopback(AF_INET, sandbox.port("plain"))}));
    const Error error = client.connect(plainTo(sandbox.port("plain")));
    QVERIFY2(!error, error.toString().c_str());
    QCOMPARE(client.transport().peerAddress(), std::string("127.0.0.1"));
    QVERIFY(!client.disconnect());
  }

  // The families alternate whatever order the resolver gave (RFC 8305 §4); when every address
  // fails, the explanation names each in the order tried.
  void familiesAlternateAndEveryFailureIsNamed() {
    if (!hasIpv6Loopback()) QSKIP("this machine has no IPv6 loopback (::1)");
    const std::uint16_t closed = ServerProcess::closedPort();
    BlockingClient client;
    client.transport().setResolver(
        answer({loopback(AF_INET6, closed), loopback(AF_INET6, closed), loopback(AF_INET, closed)}));
    const Error error = client.connect(plainTo(closed));
    QCOMPARE(error.code(), ErrorCode::ConnectionRefused);
    const std::string text = error.explanation();
    const auto v6 = text.find("(::1: ");
    const auto v4 = text.find("; 127.0.0.1: ");
    const auto v6Again = text.find("; ::1: ");
    QVERIFY2(v6 != std::string::npos && v4 != std::string::npos && v6Again != std::string::npos, text.c_str());
    QVERIFY2(v6 < v4 && v4 < v6Again, text.c_str());
  }

  void unknownNameIsHostNotFound() {
    BlockingClient client;
    client.transport().setResolver(answer({}));
    ConnectParams params = plainTo(25);
    params.host = "nowhere.test";
    const Error error = client.connect(params);
    QCOMPARE(error.code(), ErrorCode::HostNotFound);
    QVERIFY2(error.explanation().find("\"nowhere.test\"") != std::string::npos, error.explanation().c_str());
  }
};

QTEST_GUILESS_MAIN(TestPosixTransport)
#include "tst_posix_transport.moc"
