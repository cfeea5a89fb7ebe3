// OAuthSignIn: the adapter of core's sign-in flow (smtpc/oauth.h) for Qt. Every decision is the
// flow's; this file performs its requests (HTTPS, a loopback port, a browser, a timer) and
// answers it. Bodies, tokens, codes and verifiers are never logged or put in a signal.
#include "smtpc/qt/oauth.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <cmath>
#include <map>

#include "smtpc/qt/transport.h"

Q_LOGGING_CATEGORY(lcOAuth, "smtpc.oauth", QtWarningMsg)

namespace smtpc::qt {

namespace {

// An OAuth answer is a few hundred bytes (a token of a few KB); anything far larger is not one.
constexpr qint64 kMaxAnswerBytes = 1 << 20;
// What the browser may send on the loopback port before its request is complete.
constexpr qsizetype kMaxRequestHeadBytes = 16 * 1024;
constexpr int kBrowserRequestTimeoutMs = 10000;
constexpr int kMaxBrowserConnections = 8;

QString qs(const std::string& s) { return QString::fromStdString(s); }

// A JSON value as core's HttpResponse::fields holds it (smtpc/oauth.h); nullopt: left out.
std::optional<std::string> fieldText(const QJsonValue& value) {
  switch (value.type()) {
    case QJsonValue::String: return value.toString().toStdString();
    case QJsonValue::Bool: return std::string(value.toBool() ? "true" : "false");
    case QJsonValue::Double: {
      const double number = value.toDouble();
      // Whole numbers as whole decimal text ("3600", never "3600.0" or "3.6e+03").
      if (number == static_cast<double>(static_cast<qint64>(number)) && std::abs(number) < 9.0e15)
        return QString::number(static_cast<qint64>(number)).toStdString();
      return QString::number(number, 'g', 17).toStdString();
    }
    case QJsonValue::Array: {
      std::string joined;
      for (const QJsonValue& element : value.toArray()) {
        if (!element.isString()) continue;  // only the strings of a list mean anything to core
        if (!joined.empty()) joined += ' ';
        joined += element.toString().toStdString();
      }
      return joined;
    }
    default: return std::nullopt;  // null, objects
  }
}

oauth::HttpResponse toResponse(int status, const QString& contentType, const QByteArray& body) {
  oauth::HttpResponse response;
  response.status = status;
  response.contentType = contentType.toStdString();
  QJsonParseError error{};
  const QJsonDocument document = QJsonDocument::fromJson(body, &error);
  if (error.error == QJsonParseError::NoError && document.isObject()) {
    response.json = true;
    const QJsonObject object = document.object();
    for (auto it = object.begin(); it != object.end(); ++it)
      if (auto text = fieldText(it.value())) response.fields.emplace(it.key().toStdString(), std::move(*text));
  }
  return response;
}

// The browser's page: a few escaped words, nothing the page could run or load.
QByteArray browserAnswer(int status, const QString& headline, const QString& text) {
  const char* reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                                          : status == 405 ? "Method Not Allowed" : status == 431 ? "Request Header Fields Too Large"
                                                                                               : "Error";
  const QByteArray html = QStringLiteral(
                              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>SMTPc: %1</title>"
                              "</head>\n<body style=\"font-family: sans-serif; margin: 3em\"><h1>%1</h1>\n<p>%2</p></body></html>\n")
                              .arg(headline.toHtmlEscaped(), text.toHtmlEscaped())
                              .toUtf8();
  QByteArray answer = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                      "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + QByteArray::number(html.size()) +
                      "\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff"
                      "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'"
                      "\r\nConnection: close\r\n\r\n";
  return answer + html;
}

QString withoutFinalStop(QString text) {
  while (text.endsWith(QLatin1Char('.')) || text.endsWith(QLatin1Char(' '))) text.chop(1);
  return text;
}

// The platform's own way to open an address, for programs without a QGuiApplication (the CLI):
// what QDesktopServices does on each, without linking Qt Gui.
bool openWithPlatform(const QString& url, QString* why) {
#if defined(Q_OS_MACOS)
  const QString program = QStringLiteral("open");
  const QStringList arguments{url};
#elif defined(Q_OS_WIN)
  const QString program = QStringLiteral("rundll32");
  const QStringList arguments{QStringLiteral("url.dll,FileProtocolHandler"), url};
#else
  const QString program = QStringLiteral("xdg-open");
  const QStringList arguments{url};
#endif
  if (QProcess::startDetached(program, arguments)) return true;
  *why = QStringLiteral("%1 could not be started").arg(program);
  return false;
}

}  // namespace

struct OAuthSignIn::Impl {
  QElapsedTimer clock;
  std::unique_ptr<oauth::Flow> flow;
  QNetworkAccessManager network;
  QList<QSslCertificate> extraCas;
  QPointer<QNetworkReply> reply;  // the flow asks for one request at a time
  QTcpServer server;
  QPointer<QTcpSocket> answering;  // the browser request being handed to the flow
  struct Connection {
    QByteArray head;        // the request so far
    bool answered = false;  // later bytes are ignored
  };
  std::map<QTcpSocket*, Connection> connections;
  QTimer waitTimer;
  bool draining = false;
  std::optional<oauth::Finished> lastResult;
};

OAuthSignIn::OAuthSignIn(QObject* parent) : QObject(parent), d_(std::make_unique<Impl>()) {
  d_->clock.start();
  d_->waitTimer.setSingleShot(true);
  d_->waitTimer.setTimerType(Qt::PreciseTimer);
  connect(&d_->waitTimer, &QTimer::timeout, this, [this] {
    if (!d_->flow) return;
    d_->flow->onTimeout(now());
    drain();
  });
  connect(&d_->server, &QTcpServer::newConnection, this, [this] {
    while (QTcpSocket* socket = d_->server.nextPendingConnection()) {
      if (d_->connections.size() >= kMaxBrowserConnections) {
        socket->abort();
        socket->deleteLater();
        continue;
      }
      d_->connections[socket];
      connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onBrowserData(socket); });
      connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
      connect(socket, &QObject::destroyed, this, [this, socket] { d_->connections.erase(socket); });
      // A browser that connects and never asks holds nothing for long.
      QTimer::singleShot(kBrowserRequestTimeoutMs, socket, [socket] { socket->abort(); });
    }
  });
}

OAuthSignIn::~OAuthSignIn() {
  abortRequests();
  d_->waitTimer.stop();
  for (auto& [socket, connection] : d_->connections) {
    socket->disconnect(this);
    socket->flush();
  }
  d_->server.close();
}

bool OAuthSignIn::setExtraCaCertificates(const std::string& pem, QString* why) {
  const auto certificates = QSslCertificate::fromData(QByteArray::fromStdString(pem), QSsl::Pem);
  if (certificates.isEmpty()) {
    if (why) *why = QStringLiteral("the CA file holds no PEM certificate");
    return false;
  }
  d_->extraCas = certificates;
  return true;
}

Time OAuthSignIn::now() const { return Time(d_->clock.elapsed()); }

bool OAuthSignIn::isRunning() const { return d_->flow && !d_->flow->finished(); }

const std::optional<oauth::Finished>& OAuthSignIn::result() const { return d_->lastResult; }

std::vector<oauth::StepEvent> OAuthSignIn::steps() const { return d_->flow ? d_->flow->steps() : std::vector<oauth::StepEvent>{}; }

void OAuthSignIn::start(oauth::Settings settings) {
  if (isRunning()) cancel();
  abortRequests();
  stopListening();
  d_->waitTimer.stop();
  d_->lastResult.reset();
  lastFailure_ = RequestFailure::None;
  // The PKCE verifier and the state, from the operating system's CSPRNG.
  quint32 words[oauth::Flow::kRandomBytes / sizeof(quint32)];
  QRandomGenerator::system()->fillRange(words);
  std::string random(reinterpret_cast<const char*>(words), sizeof words);
  d_->flow = std::make_unique<oauth::Flow>(std::move(settings), random);
  std::fill(random.begin(), random.end(), '\0');
  std::fill(std::begin(words), std::end(words), 0u);
  d_->flow->start(now());
  drain();
}

void OAuthSignIn::cancel() {
  if (!d_->flow) return;
  abortRequests();
  d_->flow->cancel(now());
  drain();
}

void OAuthSignIn::abortRequests() {
  if (QNetworkReply* reply = d_->reply) {
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
  }
  d_->reply = nullptr;
}

// The flow's outputs, in order, until it has none. Re-entrant calls (a slot that cancels) only
// add outputs: the loop already running carries them out.
void OAuthSignIn::drain() {
  if (d_->draining || !d_->flow) return;
  d_->draining = true;
  while (auto output = d_->flow->poll()) carryOut(*output);
  d_->draining = false;
  const auto deadline = d_->flow->nextDeadline();
  if (deadline) d_->waitTimer.start(std::chrono::milliseconds(std::max<std::int64_t>(0, (*deadline - now()).count())));
  else d_->waitTimer.stop();
}

void OAuthSignIn::carryOut(oauth::Output& output) {
  if (auto* request = std::get_if<oauth::HttpRequest>(&output)) {
    emit requestSent(qs(request->description));
    send(*request);
  } else if (std::holds_alternative<oauth::ListenForRedirect>(output)) {
    listen();
  } else if (auto* open = std::get_if<oauth::OpenBrowser>(&output)) {
    openBrowser(qs(open->url));
  } else if (auto* page = std::get_if<oauth::BrowserPage>(&output)) {
    if (QTcpSocket* socket = d_->answering) {
      socket->write(browserAnswer(page->status, qs(page->headline), qs(page->text)));
      socket->flush();  // the page leaves now, even if the program ends with this sign-in
      socket->disconnectFromHost();
      d_->answering = nullptr;
    }
  } else if (std::holds_alternative<oauth::StopListening>(output)) {
    stopListening();
  } else if (auto* code = std::get_if<oauth::ShowUserCode>(&output)) {
    emit userCode(*code);
  } else if (auto* wait = std::get_if<oauth::Wait>(&output)) {
    emit waiting(qs(wait->reason));
  } else if (auto* stepEvent = std::get_if<oauth::StepEvent>(&output)) {
    emit step(*stepEvent);
  } else if (auto* finishedEvent = std::get_if<oauth::Finished>(&output)) {
    abortRequests();
    d_->lastResult = *finishedEvent;
    emit finished(*finishedEvent);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTPS

void OAuthSignIn::send(const oauth::HttpRequest& request) {
  abortRequests();
  const QUrl url(qs(request.url));
  QNetworkRequest qrequest(url);
  // The flow decides where codes and tokens go: a redirect is an answer for it, not a new address.
  qrequest.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
  qrequest.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
  qrequest.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
  QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
  tls.setProtocol(QSsl::TlsV1_2OrLater);
  tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
  if (!d_->extraCas.isEmpty()) tls.addCaCertificates(d_->extraCas);
  qrequest.setSslConfiguration(tls);
  qrequest.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("SMTPc"));
  for (const auto& [name, value] : request.headers) qrequest.setRawHeader(QByteArray::fromStdString(name), QByteArray::fromStdString(value));
  if (!request.authorization.empty())
    qrequest.setRawHeader("Authorization", QByteArray::fromStdString(std::string(request.authorization.reveal())));

  QNetworkReply* reply = nullptr;
  if (request.method == "POST") {
    QByteArray body = QByteArray::fromStdString(std::string(request.body.reveal()));
    reply = d_->network.post(qrequest, body);
    body.fill('\0');
  } else {
    reply = d_->network.get(qrequest);
  }
  d_->reply = reply;
  const QString host = url.host();
  const int port = url.port(443);

  struct State {
    QList<QSslError> sslErrors;
    bool timedOut = false;
    bool tooLarge = false;
  };
  auto state = std::make_shared<State>();
  // Never ignored: a certificate problem ends the request, and is explained in core's words.
  connect(reply, &QNetworkReply::sslErrors, this, [state](const QList<QSslError>& errors) { state->sslErrors = errors; });
  connect(reply, &QNetworkReply::downloadProgress, this, [state, reply](qint64 received, qint64) {
    if (received <= kMaxAnswerBytes) return;
    state->tooLarge = true;
    reply->abort();
  });
  auto* timer = new QTimer(reply);
  timer->setSingleShot(true);
  connect(timer, &QTimer::timeout, this, [state, reply] {
    state->timedOut = true;
    reply->abort();
  });
  timer->start(requestTimeout_);

  connect(reply, &QNetworkReply::finished, this, [this, reply, state, host, port] {
    reply->deleteLater();
    if (d_->reply == reply) d_->reply = nullptr;
    if (!d_->flow || d_->flow->finished()) return;
    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (status.isValid() && !state->tooLarge && !state->timedOut) {
      lastFailure_ = RequestFailure::None;
      const QByteArray body = reply->readAll();
      d_->flow->onHttpResponse(now(), toResponse(status.toInt(), reply->header(QNetworkRequest::ContentTypeHeader).toString(), body));
      drain();
      return;
    }
    // No HTTP answer: say why in plain words, naming the host (the flow adds what it was doing).
    QString why;
    lastFailure_ = RequestFailure::Network;
    if (state->timedOut) {
      lastFailure_ = RequestFailure::Timeout;
      why = QStringLiteral("%1 did not answer within %2 s").arg(host).arg(requestTimeout_.count() / 1000);
    } else if (state->tooLarge) {
      why = QStringLiteral("%1 sent more than 1 MB, far more than any OAuth answer").arg(host);
    } else if (!state->sslErrors.isEmpty()) {
      lastFailure_ = RequestFailure::Tls;
      QStringList sentences;
      for (const std::string& sentence : QtTransport::explainSslErrors(state->sslErrors, host)) sentences << qs(sentence);
      why = QStringLiteral("the HTTPS certificate of %1 was refused. %2").arg(host, withoutFinalStop(sentences.join(u' ')));
    } else {
      switch (reply->error()) {
        case QNetworkReply::HostNotFoundError:
          why = QStringLiteral("the name %1 could not be resolved: check its spelling and this computer's DNS").arg(host);
          break;
        case QNetworkReply::ConnectionRefusedError:
          why = QStringLiteral("nothing accepts connections on %1 port %2").arg(host).arg(port);
          break;
        case QNetworkReply::RemoteHostClosedError:
          why = QStringLiteral("%1 closed the connection without answering").arg(host);
          break;
        case QNetworkReply::SslHandshakeFailedError:
          lastFailure_ = RequestFailure::Tls;
          why = QStringLiteral("the TLS handshake with %1 failed (%2)").arg(host, withoutFinalStop(reply->errorString()));
          break;
        default: why = withoutFinalStop(reply->errorString()); break;
      }
    }
    qCInfo(lcOAuth) << "request failed:" << why;
    d_->flow->onHttpFailed(now(), why.toStdString());
    drain();
  });
}

// ---------------------------------------------------------------------------------------------
// The loopback redirect (RFC 8252 §7.3)

void OAuthSignIn::listen() {
  if (d_->server.isListening()) d_->server.close();
  if (!d_->server.listen(QHostAddress::LocalHost, 0)) {
    d_->flow->onListenFailed(now(), d_->server.errorString().toStdString());
    return;  // the loop in drain() carries out what the flow answered
  }
  emit listening(d_->server.serverPort());
  d_->flow->onListening(now(), d_->server.serverPort());
}

void OAuthSignIn::stopListening() { d_->server.close(); }

void OAuthSignIn::onBrowserData(QTcpSocket* socket) {
  auto it = d_->connections.find(socket);
  if (it == d_->connections.end()) return;
  Impl::Connection& connection = it->second;
  const QByteArray data = socket->readAll();
  if (connection.answered) return;
  QByteArray& head = connection.head;
  head += data;
  auto answer = [socket, &connection](int status, const QString& headline, const QString& text) {
    connection.answered = true;
    socket->write(browserAnswer(status, headline, text));
    socket->flush();
    socket->disconnectFromHost();
  };
  const qsizetype end = head.indexOf("\r\n\r\n");
  if (end < 0) {
    if (head.size() > kMaxRequestHeadBytes)
      answer(431, QStringLiteral("Request too large"), QStringLiteral("SMTPc waits for a short sign-in answer here."));
    return;
  }
  // RFC 9112 §3: method SP request-target SP HTTP-version
  const QList<QByteArray> requestLine = head.left(head.indexOf("\r\n")).split(' ');
  head.clear();
  if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/")) {
    answer(400, QStringLiteral("Not understood"), QStringLiteral("SMTPc expects an HTTP request here."));
    return;
  }
  if (requestLine[0] != "GET") {
    answer(405, QStringLiteral("Not allowed"), QStringLiteral("SMTPc expects the browser's GET request here."));
    return;
  }
  if (!d_->flow) {
    answer(404, QStringLiteral("Nothing to do here"), QStringLiteral("No sign-in is waiting; you can close this tab."));
    return;
  }
  connection.answered = true;
  d_->answering = socket;
  d_->flow->onRedirect(now(), requestLine[1].toStdString());
  drain();
  if (d_->answering == socket) {  // the flow had no page for it
    d_->answering = nullptr;
    answer(404, QStringLiteral("Nothing to do here"), QStringLiteral("You can close this tab."));
  }
}

// ---------------------------------------------------------------------------------------------
// The browser

void OAuthSignIn::openBrowser(const QString& url) {
  emit openingBrowser(url);
  QString why;
  bool opened = false;
  const QString program = qEnvironmentVariable("SMTPC_OPEN_URL");
  if (!program.isEmpty()) {
    opened = QProcess::startDetached(program, {url});
    if (!opened) why = QStringLiteral("%1 (from SMTPC_OPEN_URL) could not be started").arg(program);
  } else if (opener_) {
    opened = opener_(url, &why);
  } else {
    opened = openWithPlatform(url, &why);
  }
  if (!opened) emit browserFailed(url, why.isEmpty() ? QStringLiteral("no browser could be opened") : why);
}

}  // namespace smtpc::qt
