// The lessons against the sandbox: one row each. The addresses are the ones the sandbox keys its
// behaviours on (tests/servers/sandbox_lessons.py), so that one sandbox started with --lessons
// serves every lesson at once; tests/qt/tst_lessons.cpp runs each row against it and checks its
// outcome.
#include "smtpc/lessons.h"

namespace smtpc::lessons {

namespace {

constexpr std::string_view kLearner = "Learner <learner@lesson.test>";
constexpr std::string_view kFriend = "friend@lesson.test";

}  // namespace

std::string_view portKindName(PortKind kind) {
  switch (kind) {
    case PortKind::Plain: return "plain";
    case PortKind::StartTls: return "starttls";
    case PortKind::Tls: return "tls";
  }
  return "?";
}

const std::vector<Lesson>& all() {
  static const std::vector<Lesson> list{
      {"starttls-before-auth", "What happens when a client logs in before STARTTLS?",
       "This run skips STARTTLS on a port that offers it. Look at the first EHLO reply: it lists STARTTLS and "
       "AUTH. SMTPc sends AUTH LOGIN in clear text (plaintext login is allowed for this lesson, and LOGIN sends "
       "nothing secret before the server's first challenge). The server answers 530 5.7.0 \"Must issue a "
       "STARTTLS command first\" (RFC 3207 §4): it takes no login, and no mail, before the connection is "
       "encrypted. The step bar stops at AUTH. The remedy: choose STARTTLS, so that the login travels inside TLS.",
       PortKind::StartTls, SecurityMode::None, AuthMechanism::Login, true, "demo", "demo", kLearner, {kFriend}, {}, 0,
       {ErrorCode::AuthFailed, Step::Auth, 530, "5.7.0"}, std::nullopt},
      {"wrong-password", "What happens when the password is wrong?",
       "Watch the AUTH line after the TLS handshake: the transcript shows the command with the credentials "
       "masked, never the password. The server answers 535 5.7.8, \"authentication credentials invalid\" "
       "(RFC 4954 §6). SMTPc stops there, says QUIT, and the step bar marks AUTH as failed: no message is sent. "
       "The server does not say whether the user name or the password was wrong, so that nobody can find out "
       "which users exist.",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "demo", "not-the-password", kLearner,
       {kFriend}, {}, 0, {ErrorCode::AuthFailed, Step::Auth, 535, "5.7.8"}, std::nullopt},
      {"greylisting", "What happens when the server greylists a message?",
       "Watch the reply to RCPT TO <greylist@lesson.test>: 451 4.7.1. A reply starting with 4 is temporary "
       "(RFC 5321 §4.2.1): try again later. A greylisting server refuses the first attempt for a sender and "
       "recipient pair it has not seen, because many spam programs never try again while real mail servers "
       "always do. SMTPc sends nothing and reports the refusal. Run the lesson again: the same pair is accepted "
       "with 250 and the message goes through. (A real server wants some minutes between the tries; the sandbox "
       "takes the very next one, and then forgets the pair so that the lesson works again.)",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "demo", "demo", kLearner,
       {"greylist@lesson.test"}, {}, 0, {ErrorCode::RecipientsRejected, Step::Rcpt, 451, "4.7.1"},
       Outcome{}},
      {"too-large", "What happens when the message is too large?",
       "Look at SIZE in the EHLO reply: the largest message the server takes at all (RFC 1870). SMTPc declares "
       "this message's size in MAIL FROM (SIZE=...), and the server refuses it at once with 552 5.3.4, before a "
       "byte of the message is sent: for the sender big@lesson.test the sandbox takes no more than 10000 octets, "
       "and this message has about 20000. The step bar stops at MAIL. Without SIZE= the server would have to "
       "read the whole message first and refuse it after the final dot.",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "demo", "demo",
       "Big Sender <big@lesson.test>", {kFriend}, {}, 20000,
       {ErrorCode::MessageTooLarge, Step::Mail, 552, "5.3.4"}, std::nullopt},
      {"relay-denied", "What happens when the server will not relay?",
       "This run does not log in. Watch RCPT TO <relay@elsewhere.example>: the server answers 554 5.7.1 "
       "\"Relay access denied\". A server takes mail for its own domains from anyone, but passes mail on to "
       "other domains (relaying, RFC 5321 §3.6) only for users who logged in: otherwise anybody could send spam through it (an "
       "open relay). The step bar marks RCPT as failed. Logged in as demo, the same recipient is accepted.",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "", "", kLearner,
       {"relay@elsewhere.example"}, {}, 0, {ErrorCode::RecipientsRejected, Step::Rcpt, 554, "5.7.1"}, std::nullopt},
      {"too-many-recipients", "What happens when a message has too many recipients?",
       "Watch the five RCPT TO replies: the first three get 250, the fourth and fifth 452 4.5.3 \"Too many "
       "recipients\" (the sandbox takes three per message from crowd@lesson.test). 452 is temporary: a mail "
       "server would deliver to the three accepted now and send to the others in a second transaction "
       "(RFC 5321 §4.5.3.1.10). SMTPc sends nothing unless every recipient is accepted (unless told to send to "
       "those accepted), so it ends the transaction with RSET and reports who was refused.",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "demo", "demo",
       "Crowd <crowd@lesson.test>", {"ann@lesson.test", "bob@lesson.test", "cat@lesson.test"},
       {"dan@lesson.test", "eve@lesson.test"}, 0, {ErrorCode::RecipientsRejected, Step::Rcpt, 452, "4.5.3"},
       std::nullopt},
      {"dropped-after-data", "What happens when the server hangs up after the message?",
       "Watch the end of DATA: SMTPc sends the message and the line with a single dot, then waits for the "
       "server's verdict, and the connection closes without one. Only the server's 250 after the dot makes it "
       "responsible for the message (RFC 5321 §4.1.1.4 and §6.1), so the client cannot know whether the message "
       "was kept: sending it again may deliver it twice, not sending it may lose it. The step bar marks DATA "
       "as failed. (The sandbox keeps nothing from drop@lesson.test.)",
       PortKind::StartTls, SecurityMode::StartTls, AuthMechanism::Auto, false, "demo", "demo", kLearner,
       {"drop@lesson.test"}, {}, 0, {ErrorCode::ConnectionLost, Step::Data, 0, ""}, std::nullopt},
  };
  return list;
}

const Lesson* find(std::string_view id) {
  for (const auto& lesson : all())
    if (lesson.id == id) return &lesson;
  return nullptr;
}

form::ConnectionForm connectionForm(const Lesson& lesson, const Sandbox& sandbox) {
  form::ConnectionForm f;
  f.server = sandbox.host;
  f.port = sandbox.port(lesson.port);
  f.security = lesson.security;
  f.auth = lesson.auth;
  f.username = std::string(lesson.username);
  f.password = std::string(lesson.password);
  f.allowPlaintext = lesson.allowPlaintext;
  f.caPem = sandbox.caPem;
  return f;
}

namespace {

std::string joined(const std::vector<std::string_view>& addresses) {
  std::string list;
  for (auto address : addresses) list += (list.empty() ? "" : ", ") + std::string(address);
  return list;
}

// bodySize octets of numbered lines (ASCII, well under 78 octets each), ending with a line break.
std::string generatedText(std::size_t size) {
  static constexpr std::string_view kLine = " of a long message, written to be larger than the server allows.\n";
  std::string text;
  text.reserve(size + kLine.size() + 8);
  for (int n = 1; text.size() < size; ++n) text += "Line " + std::to_string(n) + std::string(kLine);
  text.resize(size);
  text.back() = '\n';
  return text;
}

}  // namespace

form::MessageForm messageForm(const Lesson& lesson) {
  form::MessageForm f;
  f.from = std::string(lesson.from);
  f.to = joined(lesson.to);
  f.cc = joined(lesson.cc);
  f.subject = "SMTPc lesson: " + std::string(lesson.title);
  f.text = lesson.bodySize ? generatedText(lesson.bodySize)
                           : "This message was sent by the SMTPc lesson \"" + std::string(lesson.id) +
                                 "\" to the local sandbox.\n";
  return f;
}

std::optional<Run> prepare(const Lesson& lesson, const Sandbox& sandbox, DateTime now, form::Problem* problem) {
  auto params = form::toConnectParams(connectionForm(lesson, sandbox), form::planRun(form::RunKind::Send, std::nullopt),
                                      problem);
  if (!params) return std::nullopt;
  auto message = form::toMessage(messageForm(lesson), problem);
  if (!message) return std::nullopt;
  auto outgoing = message->toOutgoing(now);
  if (!outgoing) {
    *problem = form::Problem{"message", "The lesson's message could not be made", outgoing.error().explanation()};
    return std::nullopt;
  }
  return Run{std::move(*params), std::move(*outgoing)};
}

bool matches(const Outcome& expected, const Error& error, std::optional<Step> failedStep) {
  if (error.code() != expected.error || failedStep != expected.failedStep) return false;
  if (expected.error == ErrorCode::None) return true;
  const auto& reply = error.reply();
  if (expected.replyCode == 0) return !reply;  // the connection ended without an answer
  return reply && reply->code == expected.replyCode && reply->enhanced &&
         reply->enhanced->toString() == expected.enhancedCode;
}

std::string describe(const Outcome& outcome) {
  if (outcome.error == ErrorCode::None) return "accepted";
  std::string line(errorCodeName(outcome.error));
  if (outcome.failedStep) line += " at " + std::string(stepLabel(*outcome.failedStep));
  if (outcome.replyCode)
    line += " (" + std::to_string(outcome.replyCode) + (outcome.enhancedCode.empty() ? "" : " ") +
            std::string(outcome.enhancedCode) + ")";
  else
    line += " (no reply)";
  return line;
}

}  // namespace smtpc::lessons
