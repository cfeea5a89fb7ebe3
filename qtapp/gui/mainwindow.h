// The SMTPc desktop window: the connection form and presets on the left; on the right the step
// bar, the result with its diagnosis, and tabs for the live transcript, what the server offers,
// the TLS details and the test-message composer.
//
// Widgets that tests (and the web page's data-testids) address have these objectNames: server,
// port, security, auth, username, password, testButton, sendButton, cancelButton, transcript,
// steps, status, explanation, rememberPassword, passwordWarning; the OAuth 2 sign-in's signIn (its
// box), oauthProvider, clientId, oauthIssuer, tenant, clientSecret, oauthFlow, signInButton,
// signInNote, deviceCode, userCode, verificationUri, copyUserCode; settings discovery's
// emailAddress and discoverButton (and plainHttpQuestion, its question about plain HTTP); teaching
// mode's lineExplanation, stepMode, nextButton, continueButton, runToEndButton, pauseExplanation,
// lessons, lessonWatch, startLesson, lessonResult and saveReport (mainwindow_teach.cpp); the
// console's consoleConnect, consoleClose, consoleState, consoleTranscript, consoleExplanation,
// consoleInput, consoleSend, consoleWarning(Text), consoleSendAnyway, consoleDontSend,
// consoleCredentials, consoleUser, consolePassword, consoleCredentialsOk (mainwindow_console.cpp).
#pragma once

#include <QMainWindow>
#include <QSettings>
#include <memory>
#include <optional>

#include "smtpc/qt/secretstore.h"
#include "smtpc/explain.h"
#include "smtpc/form.h"
#include "smtpc/lessons.h"
#include "smtpc/pause.h"
#include "smtpc/report.h"
#include "smtpc/qt/client.h"
#include "smtpc/qt/console.h"
#include "smtpc/qt/discovery.h"
#include "smtpc/qt/oauth.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QToolButton;
class QTreeWidget;
class QGroupBox;
class QFormLayout;

namespace smtpc::gui {

class StepBar;
class TranscriptView;

// What the demo (or a user) hands over on the command line.
struct StartupValues {
  QString server;
  int port = 0;
  QString security;  // securityModeName
  QString username;
  QString password;  // from the environment, never from argv
  QString caFile;
  bool useSettings = true;
  // Where names resolve, for discovery and for every SMTP run (--resolve, --dns-server), and the
  // ISPDB discovery asks (--ispdb; empty: Thunderbird's).
  qt::NetworkOptions network;
  QString ispdb;
  // The sandbox's JSON line (tests/servers/sandbox.py): its ports, for the lessons.
  QString sandboxJson;
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const StartupValues& startup = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // A test or send under way (its server's name still resolving, or connected).
  bool isRunning() const { return resolving_ || (client_ && client_->isRunning()); }
  bool isSigningIn() const;
  bool isDiscovering() const;
  const Explainer* explainer() const { return explainer_.get(); }
  // The transcript as plain text (what Copy and Save give).
  QString transcriptText() const;
  void addAttachment(const QString& path);
  // The last run as a report (.html or .svg, by the name); false and why when it cannot.
  bool saveReport(const QString& path, QString* why);

 public slots:
  void runTest();
  void runSend();
  void cancelRun();
  void applyPreset(int index);
  // "Sign in…": OAuth 2 sign-in with the form's provider, then a test with the token.
  void signIn();
  // "Find settings": settings discovery for the e-mail address; fills the form in.
  void discoverSettings();

 signals:
  // A run ended (ok: it did what was asked), or could not start (the form shows why).
  void runFinished(bool ok);
  // A sign-in ended (ok: a token is in the token field; the test that follows ends with
  // runFinished), or could not start (the form shows why).
  void signInFinished(bool ok);
  // A discovery ended (found: the form is filled in), or could not start (the form shows why).
  void discoveryFinished(bool found);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  // the window (mainwindow.cpp)
  void buildUi();
  void connectSignals();

  // the form's widgets (mainwindow_form.cpp)
  QWidget* buildForm();
  QWidget* buildComposer();
  void buildDsnFields(QWidget* page, QFormLayout* form);  // the composer's delivery reports (DSN)
  void addAttachments();

  // what the form says and how it is read (mainwindow_formvalues.cpp): every rule about its values
  void updateSecurityHints();
  // Server, security mode and port as a preset (or discovery) sets them: the port follows the
  // mode again until edited.
  void setConnection(const QString& server, SecurityMode security, int port);
  // Reads the form; on a mistake shows it and returns nullopt.
  form::RunPlan runPlan(bool sending) const;  // core's test-run policy for this form
  void showFormProblem(const form::Problem& problem);
  std::optional<ConnectParams> paramsFromForm(bool sending);
  std::optional<OutgoingMessage> messageFromForm(QString* why);

  // a run (mainwindow_run.cpp)
  void start(bool sending);
  void onEvent(const Event& event);
  void updateButtons();

  // the result view (mainwindow_result.cpp)
  QWidget* buildResults();
  void onFinished(const Finished& finished);
  void showProblem(const QString& headline, const QString& explanation);
  void setStatus(const QString& text, const QString& colour);
  void setExplanation(const QString& html);
  void fitExplanation();
  void showCapabilities(const Capabilities& capabilities, bool encrypted);
  void showTls(const TlsInfo& info);
  void saveTranscript();

  // teaching mode (mainwindow_teach.cpp): explain a line, step mode, lessons, reports
  QWidget* buildLineExplanation(QWidget* parent);
  void explainEntry(const TranscriptEntry& entry);
  QWidget* buildStepControls(QWidget* parent);
  void onPaused(const Pause& pause);
  void leavePause();
  QWidget* buildLessons();
  void setSandbox(const QString& jsonFile);
  void startLesson();
  void showLessonResult();
  void saveReportAs();
  // type it yourself (mainwindow_console.cpp): core's Console through qt::QtConsole
  QWidget* buildConsole();
  void connectConsole();
  void typeInConsole(bool confirmed);
  void updateConsoleButtons();

  // what is remembered (mainwindow_settings.cpp)
  void loadSettings(const StartupValues& startup);
  void saveSettings();
  // The remembered password: bound to the form's server, port and user.
  Account currentAccount() const;
  void loadRememberedPassword();
  void saveRememberedPassword();
  void forgetRememberedPassword();
  void onAccountEdited();
  void showPasswordStorage(PasswordStore::Where where);

  // OAuth 2 sign-in (mainwindow_signin.cpp): core's flow through the Qt adapter
  QWidget* buildSignIn(QWidget* parent);
  void connectSignIn();
  void updateSignInFields();
  void showSignInSteps(StepStatus authStatus);
  void onSignInStep(const oauth::StepEvent& step);
  void onUserCode(const oauth::ShowUserCode& code);
  void onSignInFinished(const oauth::Finished& result);

  // settings discovery (mainwindow_discover.cpp): core's flow through the Qt adapter
  QWidget* buildDiscovery(QWidget* parent);
  void onDiscoveryStep(const discovery::Step& step);
  void onDiscoveryFinished(const discovery::Outcome& outcome);
  void askPlainHttp(const discovery::ConfirmPlainHttp& question, std::function<void(bool)> answer);
  void fillFromDiscovery(const discovery::Candidate& chosen, const QString& address);
  void showDiscoveryOutcome(const discovery::Outcome& outcome);
  void showPlannedSteps();

  // form
  QLineEdit* emailAddress_ = nullptr;
  QPushButton* discoverButton_ = nullptr;
  QComboBox* preset_ = nullptr;
  QLabel* presetNote_ = nullptr;
  QLineEdit* server_ = nullptr;
  QSpinBox* port_ = nullptr;
  bool portEdited_ = false;
  bool settingPort_ = false;
  QComboBox* security_ = nullptr;
  QLabel* securityWarning_ = nullptr;
  QComboBox* auth_ = nullptr;
  QLineEdit* username_ = nullptr;
  QLineEdit* password_ = nullptr;
  QToolButton* showPassword_ = nullptr;
  QCheckBox* rememberPassword_ = nullptr;
  QLabel* passwordWarning_ = nullptr;
  QLineEdit* token_ = nullptr;
  QWidget* signInBox_ = nullptr;
  QFormLayout* signInForm_ = nullptr;
  QComboBox* oauthProvider_ = nullptr;
  QLineEdit* clientId_ = nullptr;
  QLineEdit* oauthIssuer_ = nullptr;
  QLineEdit* tenant_ = nullptr;
  QLineEdit* clientSecret_ = nullptr;
  QComboBox* oauthFlow_ = nullptr;
  QPushButton* signInButton_ = nullptr;
  QLabel* signInNote_ = nullptr;
  QWidget* deviceCode_ = nullptr;
  QLabel* userCode_ = nullptr;
  QLabel* verificationUri_ = nullptr;
  QToolButton* advanced_ = nullptr;
  QLineEdit* caFile_ = nullptr;
  QLineEdit* pin_ = nullptr;
  QLineEdit* clientCert_ = nullptr;
  QLineEdit* clientKey_ = nullptr;
  QCheckBox* acceptInvalid_ = nullptr;
  QLabel* insecureWarning_ = nullptr;
  QCheckBox* allowPlaintext_ = nullptr;
  QLineEdit* ehlo_ = nullptr;
  QSpinBox* timeout_ = nullptr;
  QCheckBox* noChunking_ = nullptr;
  QComboBox* stopAfter_ = nullptr;
  QPushButton* testButton_ = nullptr;
  QPushButton* sendButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QProgressBar* progress_ = nullptr;

  // composer
  QLineEdit* from_ = nullptr;
  QLineEdit* to_ = nullptr;
  QLineEdit* cc_ = nullptr;
  QLineEdit* bcc_ = nullptr;
  QLineEdit* subject_ = nullptr;
  QPlainTextEdit* body_ = nullptr;
  QListWidget* attachments_ = nullptr;
  QComboBox* dsnNotify_ = nullptr;  // delivery reports (DSN): NOTIFY, RET, ENVID, send without
  QComboBox* dsnRet_ = nullptr;
  QLineEdit* dsnEnvid_ = nullptr;
  QCheckBox* dsnOptional_ = nullptr;

  // results
  StepBar* steps_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* resultWarning_ = nullptr;  // "Not encrypted: ..." from the diagnosis
  QLabel* explanation_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  TranscriptView* transcript_ = nullptr;
  QTreeWidget* capabilities_ = nullptr;
  QLabel* capabilitiesNote_ = nullptr;
  QTreeWidget* tls_ = nullptr;
  QLabel* tlsNote_ = nullptr;

  std::unique_ptr<QSettings> settings_;
  std::unique_ptr<PasswordStore> passwords_;
  // What the store last gave or took, for which account: the form's password is cleared when
  // the account changes under a password it filled in, and not saved again unchanged.
  std::optional<Account> storedFor_;
  QString storedPassword_;
  std::unique_ptr<qt::QtClient> client_;
  // The sign-in (none until the first), and where its refresh tokens are kept (none with
  // useSettings off: nothing is remembered then).
  std::unique_ptr<qt::OAuthSignIn> signIn_;
  std::unique_ptr<qt::RefreshTokenStore> refreshTokens_;
  std::string signInKey_;     // the sign-in under way: its refresh token's key (core's refreshTokenKey)
  bool afterSignIn_ = false;  // the next test continues the sign-in's transcript
  // The discovery under way or last run (a child: tests find it), and what it is told.
  qt::Discovery* discovery_ = nullptr;
  bool discoveryCancelled_ = false;
  qt::NetworkOptions network_;
  QString ispdb_;
  // A run whose server's name is being resolved (network_); runs_ counts runs, so an answer for
  // a cancelled one is dropped.
  bool resolving_ = false;
  int runs_ = 0;
  std::unique_ptr<Explainer> explainer_;
  bool sending_ = false;
  form::RunPlan plan_;  // the run's plan (core's): what it stops after, whether it quits when ready
  QString sandboxHost_;
  int sandboxPort_ = 0;
  QString sandboxCaFile_;

  // teaching mode
  QLabel* lineExplanation_ = nullptr;
  QCheckBox* stepMode_ = nullptr;
  QPushButton* nextButton_ = nullptr;
  QPushButton* continueButton_ = nullptr;
  QPushButton* runToEndButton_ = nullptr;
  QLabel* pauseExplanation_ = nullptr;
  bool paused_ = false;
  QListWidget* lessons_ = nullptr;
  QLabel* lessonWatch_ = nullptr;
  QPushButton* startLesson_ = nullptr;
  QLabel* lessonResult_ = nullptr;
  lessons::Sandbox sandbox_;  // where the lessons run
  QString activeLesson_;      // the lesson whose run is under way
  int lessonRuns_ = 0;        // runs of the chosen lesson (greylisting expects another end the second time)
  std::unique_ptr<RunRecord> record_;  // the last run, for Save as…

  // the console
  QPushButton* consoleConnect_ = nullptr;
  QPushButton* consoleClose_ = nullptr;
  QLabel* consoleState_ = nullptr;
  TranscriptView* consoleTranscript_ = nullptr;
  QLabel* consoleExplanation_ = nullptr;
  QWidget* consoleWarning_ = nullptr;
  QLabel* consoleWarningText_ = nullptr;
  QWidget* consoleCredentials_ = nullptr;
  QLabel* consoleCredentialsWhy_ = nullptr;
  QLineEdit* consoleUser_ = nullptr;
  QLineEdit* consolePassword_ = nullptr;
  QLineEdit* consoleInput_ = nullptr;
  std::unique_ptr<qt::QtConsole> console_;
  int consoleRuns_ = 0;  // connects asked for: a name resolved for an older one is dropped
};

}  // namespace smtpc::gui
