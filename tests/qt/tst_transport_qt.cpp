// QtTransport's flow control (issue 19: a long BDAT transfer to Postfix stalled): every byte given
// to write() is reported back through onTransportBytesWritten exactly once, even when the next
// write comes from inside that report, as the engine writes its next chunk. Qt emits no
// bytesWritten for a write made while its own bytesWritten is being delivered, so counts summed
// from the signal lost whole chunks and the engine's window never opened again.
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include "smtpc/qt/transport.h"

using namespace smtpc;

namespace {

// Writes the next chunk from inside each report, like Session::streamChunks via Client::drive.
struct ChainedWriter : TransportHandler {
  qt::QtTransport* transport = nullptr;
  std::size_t chunks = 0, chunkSize = 0, written = 0, reported = 0, reports = 0;
  bool connected = false, closed = false;

  void writeNext() {
    if (written == chunks * chunkSize) return;
    written += chunkSize;  // counted first: the report may come from inside write()
    transport->write(std::string(chunkSize, 'x'));
  }
  void onTransportConnected(const ConnectionInfo&) override {
    connected = true;
    writeNext();
  }
  void onTransportData(std::string_view) override {}
  void onTransportBytesWritten(std::size_t count) override {
    reported += count;
    ++reports;
    // The engine keeps at most a window unreported; here: the next chunk once all is reported.
    if (reported == written) writeNext();
  }
  void onTransportTlsEstablished(const TlsInfo&) override {}
  void onTransportTlsFailed(const Error&) override {}
  void onTransportClosed(const Error&) override { closed = true; }
};

}  // namespace

class TestTransportQt : public QObject {
  Q_OBJECT
 private slots:
  void everyByteReportedOnceWhenWritingFromTheReport() {
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QByteArray received;
    QTcpSocket* peer = nullptr;
    connect(&server, &QTcpServer::newConnection, this, [&] {
      peer = server.nextPendingConnection();
      connect(peer, &QTcpSocket::readyRead, this, [&] { received += peer->readAll(); });
    });
    qt::QtTransport transport;
    ChainedWriter writer;
    writer.transport = &transport;
    writer.chunks = 400;
    writer.chunkSize = 64 * 1024 + 12;  // a BDAT chunk with its command line
    transport.setHandler(&writer);
    transport.connect("127.0.0.1", server.serverPort(), TlsConfig{});
    const std::size_t total = writer.chunks * writer.chunkSize;
    QVERIFY2(QTest::qWaitFor([&] { return writer.reported == total; }, 30000),
             qPrintable(QStringLiteral("reported %1 of %2 bytes written (%3 chunks of %4 given), in %5 reports")
                            .arg(writer.reported).arg(total).arg(writer.written / writer.chunkSize)
                            .arg(writer.chunks).arg(writer.reports)));
    QVERIFY(QTest::qWaitFor([&] { return std::size_t(received.size()) == total; }, 60000));
    QTest::qWait(50);
    QCOMPARE(writer.reported, total);  // nothing reported twice either
    transport.setHandler(nullptr);
  }
};

QTEST_GUILESS_MAIN(TestTransportQt)
#include "tst_transport_qt.moc"
