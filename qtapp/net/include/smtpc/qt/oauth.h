/// \file
/// OAuthSignIn: core's OAuth 2 sign-in (smtpc/oauth.h) driven with Qt. A thin QObject: the flow
/// decides everything; this class only carries out its requests and turns its events into signals.
///
/// ```
///   HttpRequest        QNetworkAccessManager, HTTPS verified against the system's CAs plus the
///                      extra CA certificates given (setExtraCaCertificates); redirects are never
///                      followed; a JSON object answer becomes HttpResponse::fields as oauth.h says
///   ListenForRedirect  a QTcpServer on 127.0.0.1, any free port; every HTTP request that arrives
///                      there goes to the flow, and gets the flow's BrowserPage (escaped HTML)
///   OpenBrowser        the program named by the environment variable SMTPC_OPEN_URL (tests,
///                      headless machines), else the opener set with setBrowserOpener (the GUI:
///                      QDesktopServices::openUrl), else the platform's opener (xdg-open, open,
///                      rundll32 url.dll); openingBrowser() is emitted first in every case, so the
///                      address can be shown in case no browser comes up
///   ShowUserCode       userCode()
///   Wait               a QTimer, then the flow's onTimeout
///   StepEvent          step()
///   Finished           finished()
/// ```
///
/// Asynchronous: start() returns at once, nothing blocks, no nested event loop runs. A slot may
/// call cancel() or start() again; it must not delete the OAuthSignIn (deleteLater() is fine). The random
/// bytes come from QRandomGenerator::system() (the OS's CSPRNG). Nothing here logs a token, a code,
/// a verifier or a body: the signals carry only what the flow wrote for people, and the token
/// inside finished()'s result (a Secret).
///
/// The GUI (a "Sign in…" button) and any Qt program:
/// ```
///   auto* signIn = new smtpc::qt::OAuthSignIn(this);
///   signIn->setBrowserOpener([](const QString& url, QString*) { return QDesktopServices::openUrl(QUrl(url)); });
///   connect(signIn, &OAuthSignIn::step, ...);       // a line in the transcript panel
///   connect(signIn, &OAuthSignIn::userCode, ...);   // the device flow: show the code, a copy button
///   connect(signIn, &OAuthSignIn::finished, ...);   // token → Credentials::oauthToken; store the
///                                                   // refresh token (smtpc/qt/secretstore.h)
///   signIn->start(settings);                        // settings.refreshToken from RefreshTokenStore
/// ```
#pragma once

#include <QObject>
#include <QString>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtpc/oauth.h"
#include "smtpc/qt/qt_export.h"

class QTcpSocket;

namespace smtpc::qt {

/// OAuth 2 sign-in in a Qt program: runs an oauth::Flow, carrying out its requests with Qt (see the
/// file's description), and reports its steps and outcome as signals.
class SMTPC_QT_EXPORT OAuthSignIn : public QObject {
  Q_OBJECT
 public:
  /// Opens `url` in the person's browser; false, with `why` set, when it could not.
  using BrowserOpener = std::function<bool(const QString& url, QString* why)>;

  /// How the last failed HTTPS request failed (the flow sees only a sentence; a front end may
  /// want to class a certificate problem apart, as the CLI's exit status does).
  enum class RequestFailure { None, Network, Tls, Timeout };

  /// No sign-in yet; start() begins one.
  explicit OAuthSignIn(QObject* parent = nullptr);
  ~OAuthSignIn() override;

  /// Trust the CA certificates in `pem` too (the CLI's --ca-file). False, with `why` set, when it
  /// holds no PEM certificate.
  bool setExtraCaCertificates(const std::string& pem, QString* why = nullptr);
  /// How to open the browser (see OpenBrowser above); unset: the platform's opener.
  void setBrowserOpener(BrowserOpener opener) { opener_ = std::move(opener); }
  /// How long one HTTPS request may take before it counts as unanswered (default 30 s).
  void setRequestTimeout(std::chrono::milliseconds timeout) { requestTimeout_ = timeout; }

  /// Starts a sign-in with these settings (a sign-in under way is cancelled first). The outcome
  /// comes as finished().
  void start(oauth::Settings settings);
  /// Ends the sign-in under way: finished() with the problem Cancelled.
  void cancel();

  /// A sign-in is under way.
  bool isRunning() const;
  /// The flow's clock (ShowUserCode::expiresAt and StepEvent::at are on it).
  Time now() const;
  /// The last sign-in's outcome, and all of its steps so far.
  const std::optional<oauth::Finished>& result() const;
  /// Every step of the current (or last) sign-in so far.
  std::vector<oauth::StepEvent> steps() const;
  /// How the last failed HTTPS request failed (None when none did).
  RequestFailure lastRequestFailure() const { return lastFailure_; }

 signals:
  /// One step, explained in one line (for the transcript).
  void step(const smtpc::oauth::StepEvent& step);
  /// An HTTPS request as it leaves, described without secrets ("POST https://…/token (grant_type=…, code=********)").
  void requestSent(const QString& description);
  /// The loopback port where the browser will come back.
  void listening(quint16 port);
  /// The browser flow: the address about to be opened (always emitted: show it, in case no browser
  /// comes up). browserFailed follows when it could not be opened.
  void openingBrowser(const QString& url);
  /// The browser could not be opened at `url`: `why`, in words. Show the address instead.
  void browserFailed(const QString& url, const QString& why);
  /// The device flow: the code to type in, and where.
  void userCode(const smtpc::oauth::ShowUserCode& code);
  /// Nothing to do until the next poll; `reason` is the flow's ("polling again in 5 s").
  void waiting(const QString& reason);
  /// The end: a token, or a problem in plain words. The last signal of a sign-in.
  void finished(const smtpc::oauth::Finished& result);

 private:
  struct Impl;
  void drain();
  void carryOut(oauth::Output& output);
  void send(const oauth::HttpRequest& request);
  void listen();
  void openBrowser(const QString& url);
  void stopListening();
  void onBrowserData(QTcpSocket* socket);
  void abortRequests();

  std::unique_ptr<Impl> d_;
  BrowserOpener opener_;
  std::chrono::milliseconds requestTimeout_{30000};
  RequestFailure lastFailure_ = RequestFailure::None;
};

}  // namespace smtpc::qt
