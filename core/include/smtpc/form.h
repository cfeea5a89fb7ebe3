// The front-end model: what the desktop app, the CLI and the page share about the form a person
// fills in (DESIGN.md "Beyond SMTP"). Each front end only reads its widgets (or options, or DOM
// fields) into these plain structs and shows what comes back; the rules — what is a valid server
// name, how an address list is split, which security hint a mode and port get, what "Test" stops
// after, whether a run needs an envelope — are written here once, in C++, and reach the page
// through embind.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpc/message.h"
#include "smtpc/session.h"

namespace smtpc::form {

// A mistake in the form, said so a person can fix it: which field (the widget's objectName and
// the page's data-testid, e.g. "server", "password", "to"), a short headline and what to do.
struct Problem {
  std::string field;
  std::string headline;     // "No server"
  std::string explanation;  // "Enter the server's name, for example smtp.example.com."
};

// ---------------------------------------------------------------------------------------------
// Single fields

// The server field: a host name or an address, nothing else (no scheme, no e-mail address).
std::optional<Problem> checkServer(std::string_view server);

// "To", "Cc", "Bcc" as typed: addresses separated by commas, semicolons or new lines, except
// inside a quoted display name ("Doe, Jane" <jane@example.org> stays one address).
std::vector<std::string> splitAddresses(std::string_view text);

// Pinned keys as typed: "sha256//BASE64", separated by commas or spaces.
std::optional<std::vector<std::string>> parsePins(std::string_view text, Problem* problem);

// What the person should know about a security mode on a port before pressing anything: the
// mode is unsafe, or the port usually expects another mode. Empty when there is nothing to say.
std::string securityHint(SecurityMode mode, std::uint16_t port);
// Shown while "accept an invalid certificate" or "allow plaintext login" is on.
bool insecureSwitches(bool acceptInvalid, bool allowPlaintext);

// Which credential fields a login method uses.
struct CredentialFields {
  bool password = true;
  bool token = true;
};
CredentialFields credentialFields(AuthMechanism mechanism);

// ---------------------------------------------------------------------------------------------
// What a run does

enum class RunKind { Test, Send };

// "Test" stops after AUTH unless the person chose another phase ("don't stop" is Phase::None:
// the test then ends with QUIT after the last step it can take without a message). "Send" stops
// where asked (the CLI's --quit-after), else not at all.
struct RunPlan {
  Phase stopAfter = Phase::Auth;
  bool needsEnvelope = false;  // MAIL and RCPT need the message's addresses
};
RunPlan planRun(RunKind kind, std::optional<Phase> chosenStop);

// ---------------------------------------------------------------------------------------------
// The whole form

// The connection fields as the person gave them (files already read into PEM text).
struct ConnectionForm {
  std::string server;
  std::uint16_t port = 0;  // 0: the mode's default
  SecurityMode security = SecurityMode::StartTls;
  AuthMechanism auth = AuthMechanism::Auto;
  std::string username;
  std::string password;  // ignored when the method uses a token only
  std::string token;     // ignored when the method uses a password only
  bool allowPlaintext = false;
  std::string caPem;
  std::string pins;  // as typed
  bool acceptInvalid = false;
  std::string verifyName;
  std::string clientCertificatePem;
  std::string clientKeyPem;
  std::string ehloName;
  int timeoutSeconds = 30;
};

// Checks the form and maps it to what the engine takes; the first problem otherwise.
std::optional<ConnectParams> toConnectParams(const ConnectionForm& form, const RunPlan& plan, Problem* problem);

// The message fields as typed; attachments are added by the front end (files or bytes).
struct MessageForm {
  std::string from;
  std::string to, cc, bcc;  // as typed: lists split by splitAddresses
  std::string subject;
  std::string text;
};

std::optional<Message> toMessage(const MessageForm& form, Problem* problem);

}  // namespace smtpc::form
