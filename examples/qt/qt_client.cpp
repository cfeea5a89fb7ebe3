// SMTPc in a Qt program: smtpc::qt::QtClient, asynchronous, driven by the application's own event
// loop (no call blocks). It prints the conversation as it happens and quits when the session ends.
//
//   qt_client HOST PORT FROM TO [CA_FILE]
//
// STARTTLS is required and the certificate verified (the system's CAs, plus CA_FILE if given).
// The login comes from SMTPC_USER and SMTPC_PASSWORD, never from the command line.
#include <QCoreApplication>
#include <QDateTime>
#include <QTextStream>
#include <cstdlib>

#include <smtpc/message.h>
#include <smtpc/qt/client.h>

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QTextStream out(stdout);
  const QStringList args = app.arguments();
  if (args.size() < 5 || args.size() > 6) {
    QTextStream(stderr) << "usage: qt_client HOST PORT FROM TO [CA_FILE]\n";
    return 2;
  }

  smtpc::ConnectParams params;
  params.host = args[1].toStdString();
  params.port = static_cast<std::uint16_t>(args[2].toUShort());
  params.security = smtpc::SecurityMode::StartTls;
  if (const char* user = std::getenv("SMTPC_USER")) {
    params.credentials.username = user;
    const char* password = std::getenv("SMTPC_PASSWORD");
    params.credentials.password = smtpc::Secret(password ? password : "");  // never printed
  }
  if (args.size() == 6) {
    QString why;
    auto pem = smtpc::qt::readFile(args[5], &why);
    if (!pem) return QTextStream(stderr) << why << "\n", 2;
    params.tls.caCertificatesPem = *pem;
  }

  smtpc::Message message;
  auto from = smtpc::Mailbox::create("SMTPc example", args[3].toStdString());
  auto to = smtpc::Mailbox::create("", args[4].toStdString());
  if (!from || !to) return QTextStream(stderr) << QString::fromStdString((!from ? from : to).error().toString()) << "\n", 2;
  message.from = *from;
  message.to.push_back(*to);
  message.subject = "Hello from QtClient";
  message.text = "Sent by examples/qt/qt_client.cpp.\n";
  const QDateTime now = QDateTime::currentDateTime();
  auto outgoing = message.toOutgoing(smtpc::DateTime{now.toSecsSinceEpoch(), now.offsetFromUtc() / 60});
  if (!outgoing) return QTextStream(stderr) << QString::fromStdString(outgoing.error().toString()) << "\n", 2;

  smtpc::qt::QtClient client;
  // The transcript: "->" sent, "<-" received, "~>"/"<~" inside TLS; AUTH is already masked.
  QObject::connect(&client, &smtpc::qt::QtClient::transcript, [&](const smtpc::TranscriptEntry& line) {
    out << QString::fromStdString(std::string(smtpc::transcriptPrefix(line))) << ' '
        << QString::fromStdString(line.text) << Qt::endl;
  });
  QObject::connect(&client, &smtpc::qt::QtClient::tlsEstablished, [&](const smtpc::TlsInfo& tls) {
    out << "TLS: " << QString::fromStdString(tls.protocol) << ", " << QString::fromStdString(tls.cipher) << Qt::endl;
  });
  QObject::connect(&client, &smtpc::qt::QtClient::finished, [&](const smtpc::Finished& result) {
    if (result.error) QTextStream(stderr) << QString::fromStdString(result.error.toString()) << "\n";
    else out << "sent" << Qt::endl;
    app.exit(result.error ? 1 : 0);
  });
  if (smtpc::Error error = client.sendMail(std::move(params), std::move(*outgoing))) {
    QTextStream(stderr) << QString::fromStdString(error.toString()) << "\n";
    return 1;
  }
  return app.exec();
}
