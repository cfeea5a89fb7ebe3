// Reply codes (RFC 5321 §4.2, RFC 4954 §6, RFC 3207 §4, RFC 7504) and enhanced status codes
// (RFC 3463, RFC 2034, the IANA registry of RFC 5248), explained for smtpc/line_explain.h.
// Each code is a row: its RFC title, what it means and what a client does next, where to read.
#include <string>

#include "line_explain_internal.h"
#include "text.h"

namespace smtpc::line_explain {
namespace {

// clang-format off
// RFC 5321 §4.2.3 lists the codes; §4.2.2 groups them by function. The title is the RFC's text.
constexpr Row kReplyCodes[] = {
  {"211", "System status, or system help reply",
   "The server answers a request for its status (or for help, on some servers). Nothing to do: it is information "
   "for a person.", "RFC 5321 §4.2.2"},
  {"214", "Help message",
   "The answer to HELP: how to use the server, or what a command does. Written for a person, not a program.",
   "RFC 5321 §4.1.1.8; RFC 5321 §4.2.2"},
  {"220", "<domain> Service ready",
   "The server's greeting after the connection opens: it names itself and is ready for EHLO. In answer to STARTTLS "
   "it means \"ready to start TLS\": the client starts the TLS handshake at once, then sends EHLO again.",
   "RFC 5321 §3.1; RFC 5321 §4.3.2; RFC 3207 §4"},
  {"221", "<domain> Service closing transmission channel",
   "The answer to QUIT: the server says goodbye and closes the connection. The session is over; the client closes "
   "its side too.", "RFC 5321 §4.1.1.10; RFC 5321 §3.8"},
  {"235", "Authentication succeeded",
   "The login worked: from now on the server knows who is sending, and usually lets this client relay mail to "
   "other domains. The client goes on with MAIL FROM.", "RFC 4954 §6; RFC 4954 §4"},
  {"250", "Requested mail action okay, completed",
   "Done. After EHLO, the lines of this reply list what the server offers (its first line is the server's name). "
   "After MAIL or RCPT, the client goes on with the next command. After the message's final \".\", the server has "
   "taken responsibility for delivering it.", "RFC 5321 §4.2.3; RFC 5321 §4.1.1.1; RFC 5321 §6.1"},
  {"251", "User not local; will forward to <forward-path>",
   "The recipient is accepted; the server will forward the message to another address it knows. The client goes "
   "on as after 250.", "RFC 5321 §3.4; RFC 5321 §4.2.3"},
  {"252", "Cannot VRFY user, but will accept message and attempt delivery",
   "The answer to VRFY on most servers today: they do not say whether an address exists (that would help "
   "spammers), but would accept mail for it.", "RFC 5321 §3.5.3; RFC 5321 §7.3"},
  {"334", "Server challenge (AUTH continues)",
   "The login goes on: the server waits for one more line from the client. The text after 334 is base64; decoded "
   "it is the server's question (LOGIN asks \"Username:\", then \"Password:\"; CRAM-MD5 sends a unique string to "
   "sign; an empty 334 asks for the initial response). The client answers with one base64 line, or \"*\" to give "
   "up.", "RFC 4954 §4"},
  {"354", "Start mail input; end with <CRLF>.<CRLF>",
   "The answer to DATA: the server waits for the message itself, headers then body. The client sends it and ends "
   "with a line holding a single \".\"; a line of the message that starts with \".\" gets a second one (dot-"
   "stuffing), so it cannot end the message early.", "RFC 5321 §4.1.1.4; RFC 5321 §4.5.2"},
  {"421", "<domain> Service not available, closing transmission channel",
   "The server is closing this connection now: it is shutting down, overloaded, or refuses this client for a "
   "while (too many connections, a rate limit, a time-out). It may come as the answer to any command. The session "
   "is over; try again later.", "RFC 5321 §3.8; RFC 5321 §4.2.3"},
  {"432", "A password transition is needed",
   "The account's password must be changed (or a first login done) in another way, for example on the "
   "provider's web page, before SMTP may use it.", "RFC 4954 §6"},
  {"450", "Requested mail action not taken: mailbox unavailable",
   "Not now: the mailbox is busy or blocked for a while (some servers greylist with 450). A mail server keeps the "
   "message and tries again later; a person may simply retry in a few minutes.",
   "RFC 5321 §4.2.3; RFC 5321 §4.5.4.1"},
  {"451", "Requested action aborted: local error in processing",
   "Not now: the server had a problem of its own, or greylists this sender (451 4.7.1: unknown senders are "
   "asked to come back later, which real mail servers do and many spam senders do not). Try again in a few "
   "minutes.", "RFC 5321 §4.2.3; RFC 5321 §4.5.4.1"},
  {"452", "Requested action not taken: insufficient system storage",
   "Not now: the server is short of space, or (to RCPT) this transaction has too many recipients. The client "
   "sends the message to the recipients accepted so far and the others in a new transaction.",
   "RFC 5321 §4.2.3; RFC 5321 §4.5.3.1.10"},
  {"454", "Temporary authentication failure",
   "The login could not be checked just now (RFC 4954), or, in answer to STARTTLS, TLS is not available for a "
   "temporary reason (RFC 3207). Try again later; do not go on without TLS.", "RFC 4954 §6; RFC 3207 §4"},
  {"455", "Server unable to accommodate parameters",
   "The server cannot take the parameters of MAIL FROM or RCPT TO (SIZE=, BODY=, ...) just now. Try later, or "
   "without the parameter.", "RFC 5321 §4.1.1.11; RFC 5321 §4.2.3"},
  {"500", "Syntax error, command unrecognized",
   "The server did not understand the line: an unknown command, a typing error, or a line that is too long. "
   "Check the command.", "RFC 5321 §4.2.3; RFC 5321 §4.5.3.1.4"},
  {"501", "Syntax error in parameters or arguments",
   "The command is known but its argument is wrong: an address without <>, a bad EHLO name, or (in AUTH) base64 "
   "that does not decode; also the answer to an AUTH the client cancelled with \"*\".",
   "RFC 5321 §4.2.3; RFC 4954 §4"},
  {"502", "Command not implemented",
   "The server does not offer this command (for example VRFY or EXPN turned off). Use another one.",
   "RFC 5321 §4.2.3; RFC 5321 §4.2.4"},
  {"503", "Bad sequence of commands",
   "The command came at the wrong moment: RCPT before MAIL, DATA before any recipient was accepted, AUTH twice or "
   "before EHLO, MAIL before logging in on a server that requires it. Send the commands in the protocol's order.",
   "RFC 5321 §4.2.3; RFC 5321 §4.1.4; RFC 4954 §4"},
  {"504", "Command parameter not implemented",
   "The command is known but not with this parameter; in answer to AUTH, the server does not support this SASL "
   "mechanism: choose one its EHLO reply lists.", "RFC 5321 §4.2.3; RFC 4954 §4"},
  {"521", "Server does not accept mail",
   "This host never accepts mail (RFC 7504), usually said at once as its greeting. Use the server the domain's "
   "MX records or the provider's documentation name.", "RFC 7504 §3; RFC 1846"},
  {"530", "Authentication required",
   "The server wants a login (AUTH) before this command, usually before MAIL FROM; some servers say \"530 5.7.0 "
   "Must issue a STARTTLS command first\" (RFC 3207). Start TLS, log in, then send.", "RFC 4954 §6; RFC 3207 §4"},
  {"534", "Authentication mechanism is too weak",
   "The server refuses this way of logging in for this account. Providers use it for \"an app password (or "
   "OAuth 2) is needed\": Gmail answers 534 5.7.9 when two-step verification is on and the normal password was "
   "sent.", "RFC 4954 §6"},
  {"535", "Authentication credentials invalid",
   "The server refused the user name or the password (or token). Check both; Gmail, Outlook, Yahoo and iCloud "
   "need an app password when two-step verification is on, and Microsoft 365 may have SMTP AUTH turned off for "
   "the account. Do not retry in a loop: servers lock accounts after repeated failures.", "RFC 4954 §6"},
  {"538", "Encryption required for requested authentication mechanism",
   "The server accepts this login only inside TLS: use STARTTLS (or implicit TLS on port 465) first.",
   "RFC 4954 §6; RFC 3207 §4"},
  {"550", "Requested action not taken: mailbox unavailable",
   "No: the mailbox does not exist (550 5.1.1), or a policy refuses it, such as relaying denied (550 5.7.1: the "
   "server delivers to other domains only for users who logged in). Repeating it unchanged fails again.",
   "RFC 5321 §4.2.3; RFC 5321 §3.6.2"},
  {"551", "User not local; please try <forward-path>",
   "The recipient is not here; the server names where to send instead, but will not forward itself.",
   "RFC 5321 §3.4; RFC 5321 §4.2.3"},
  {"552", "Requested mail action aborted: exceeded storage allocation",
   "Too big: the message exceeds the server's size limit (with SIZE, RFC 1870) or the mailbox is full. Send a "
   "smaller message or attachments by another way.", "RFC 5321 §4.2.3; RFC 1870 §6"},
  {"553", "Requested action not taken: mailbox name not allowed",
   "The address is refused: its syntax is wrong, or the logged-in user may not send as this sender (553 5.7.1). "
   "Use the account's own address in MAIL FROM.", "RFC 5321 §4.2.3"},
  {"554", "Transaction failed",
   "As the greeting, \"no SMTP service here\": the server refuses this client altogether (a blocklist, the wrong "
   "port or host). After the message or a recipient: refused for good, often by policy (spam, virus, relaying).",
   "RFC 5321 §4.2.3; RFC 5321 §3.1"},
  {"555", "MAIL FROM/RCPT TO parameters not recognized or not implemented",
   "The server does not know a parameter given after the address (SIZE=, BODY=8BITMIME, SMTPUTF8, ...), usually "
   "because it did not offer the extension in its EHLO reply.", "RFC 5321 §4.1.1.11; RFC 5321 §4.2.3"},
  {"556", "Domain does not accept mail",
   "The recipient's domain accepts no mail at all (it has a null MX, RFC 7505).", "RFC 7504 §3; RFC 7505 §4"},
};

// RFC 5321 §4.2.1: the first digit.
constexpr Row kSeverities[] = {
  {"2", "2yz positive completion", "the command is done; the client may send the next one.", "RFC 5321 §4.2.1"},
  {"3", "3yz positive intermediate", "accepted so far, but the server waits for more from the client: the message "
   "after DATA, an answer to a SASL challenge.", "RFC 5321 §4.2.1"},
  {"4", "4yz transient negative completion", "not done, but the reason may pass: the same command may work later. "
   "A mail server keeps the message in its queue and retries.", "RFC 5321 §4.2.1; RFC 5321 §4.5.4.1"},
  {"5", "5yz permanent negative completion", "not done, and repeating the same command will fail the same way: a "
   "person has to change something (address, password, message, settings).", "RFC 5321 §4.2.1"},
};

// RFC 5321 §4.2.1: the second digit. x3z and x4z are unspecified there; RFC 4954 put AUTH's codes at x3z.
constexpr std::string_view kCategories[] = {
  "x0z syntax: a syntax error, or a command outside the protocol or not implemented",
  "x1z information: an answer to a request for information (status, help)",
  "x2z connections: about the connection itself",
  "x3z: not specified by RFC 5321; RFC 4954 uses it for authentication (235, 334, 535, ...)",
  "x4z: not specified by RFC 5321",
  "x5z mail system: about the receiving mail system and the requested transfer",
};

// RFC 3463 §2: the class, and the subject (its §3.N+1 lists the subject's details).
constexpr std::string_view kEnhancedClasses[] = {
  "", "", "2 success", "", "4 persistent transient failure (may work if tried again later)",
  "5 permanent failure (will not work if sent again unchanged)",
};
constexpr std::string_view kSubjects[] = {
  "0 other or undefined", "1 addressing", "2 mailbox", "3 mail system", "4 network and routing",
  "5 mail delivery protocol", "6 message content or media", "7 security or policy",
};

// The IANA registry's detail codes (subject.detail), from RFC 3463 §3 unless the row names another RFC.
constexpr Row kEnhancedDetails[] = {
  {"0.0", "Other undefined status", "Nothing more specific applies; read the server's words.", ""},
  {"1.0", "Other address status", "Something is wrong with an address.", ""},
  {"1.1", "Bad destination mailbox address", "The recipient's mailbox does not exist at that domain: a typing "
   "error or a former address.", ""},
  {"1.2", "Bad destination system address", "The recipient's domain does not exist or does not accept mail.", ""},
  {"1.3", "Bad destination mailbox address syntax", "The recipient's address is not well formed.", ""},
  {"1.4", "Destination mailbox address ambiguous", "The address matches more than one mailbox.", ""},
  {"1.5", "Destination address valid", "The recipient is accepted.", ""},
  {"1.6", "Destination mailbox has moved, No forwarding address", "The person is no longer at this address.", ""},
  {"1.7", "Bad sender's mailbox address syntax", "The sender's address (MAIL FROM) is not well formed.", ""},
  {"1.8", "Bad sender's system address", "The sender's domain does not exist or cannot receive replies.", ""},
  {"1.9", "Message relayed to non-compliant mailer", "Delivered to a system that sends no delivery reports.",
   "RFC 3886"},
  {"1.10", "Recipient address has null MX", "The recipient's domain declares that it accepts no mail.", "RFC 7505"},
  {"2.0", "Other or undefined mailbox status", "Something is wrong with the mailbox.", ""},
  {"2.1", "Mailbox disabled, not accepting messages", "The mailbox exists but takes no mail.", ""},
  {"2.2", "Mailbox full", "The recipient's mailbox is over its quota.", ""},
  {"2.3", "Message length exceeds administrative limit", "The message is bigger than this mailbox accepts.", ""},
  {"2.4", "Mailing list expansion problem", "A mailing list could not be expanded.", ""},
  {"3.0", "Other or undefined mail system status", "The receiving system has a problem.", ""},
  {"3.1", "Mail system full", "The receiving system is out of storage.", ""},
  {"3.2", "System not accepting network messages", "The system is shutting down or takes no mail now.", ""},
  {"3.3", "System not capable of selected features", "A requested feature is not supported.", ""},
  {"3.4", "Message too big for system", "The message exceeds the server's size limit (SIZE in its EHLO reply).",
   ""},
  {"3.5", "System incorrectly configured", "The receiving system is misconfigured.", ""},
  {"3.6", "Requested priority was changed", "The message's priority was changed.", "RFC 6710"},
  {"4.0", "Other or undefined network or routing status", "A network or routing problem.", ""},
  {"4.1", "No answer from host", "The next host did not answer.", ""},
  {"4.2", "Bad connection", "The connection broke or timed out.", ""},
  {"4.3", "Directory server failure", "A lookup (DNS, directory) failed.", ""},
  {"4.4", "Unable to route", "No route to the destination (for example no usable MX).", ""},
  {"4.5", "Mail system congestion", "The system is overloaded.", ""},
  {"4.6", "Routing loop detected", "The message went round in a loop.", ""},
  {"4.7", "Delivery time expired", "The message waited too long in a queue.", ""},
  {"5.0", "Other or undefined protocol status", "A protocol problem.", ""},
  {"5.1", "Invalid command", "A command that is not allowed now or at all (wrong order, unknown).", ""},
  {"5.2", "Syntax error", "A command the server could not parse.", ""},
  {"5.3", "Too many recipients", "More recipients than the server takes in one transaction: send the others in "
   "another one.", ""},
  {"5.4", "Invalid command arguments", "A valid command with invalid arguments.", ""},
  {"5.5", "Wrong protocol version", "The protocol version is not supported.", ""},
  {"5.6", "Authentication Exchange line is too long", "A SASL line was longer than the server accepts.",
   "RFC 4954 §4"},
  {"6.0", "Other or undefined media error", "A problem with the message's content.", ""},
  {"6.1", "Media not supported", "A content type the receiver does not support.", ""},
  {"6.2", "Conversion required and prohibited", "The content would need converting, which was not allowed.", ""},
  {"6.3", "Conversion required but not supported", "The content would need a conversion the system cannot do.",
   ""},
  {"6.4", "Conversion with loss performed", "The content was converted, losing something.", ""},
  {"6.5", "Conversion Failed", "A needed conversion failed.", ""},
  {"6.6", "Message content not available", "Referenced content could not be fetched.", "RFC 4468"},
  {"6.7", "Non-ASCII addresses not permitted for that sender/recipient", "An internationalized address needs "
   "SMTPUTF8 on both sides.", "RFC 6531"},
  {"6.8", "UTF-8 string reply is required, but not permitted by the SMTP client", "The reply would need UTF-8.",
   "RFC 6531"},
  {"6.9", "UTF-8 header message cannot be transferred to one or more recipients", "A message with UTF-8 headers "
   "cannot reach a system without SMTPUTF8.", "RFC 6531"},
  {"7.0", "Other or undefined security status", "A security or policy reason; read the server's words.", ""},
  {"7.1", "Delivery not authorized, message refused", "A policy refuses it: relaying denied (log in first), the "
   "sender is not allowed, or the client is blocklisted.", ""},
  {"7.2", "Mailing list expansion prohibited", "The sender may not send to this list.", ""},
  {"7.3", "Security conversion required but not possible", "A required security conversion is not possible.", ""},
  {"7.4", "Security features not supported", "A requested security feature is not supported.", ""},
  {"7.5", "Cryptographic failure", "A signature or encryption could not be processed.", ""},
  {"7.6", "Cryptographic algorithm not supported", "An algorithm the receiver does not support.", ""},
  {"7.7", "Message integrity failure", "The message was changed on the way.", ""},
  {"7.8", "Authentication credentials invalid", "The user name, password or token was refused.", "RFC 4954 §6"},
  {"7.9", "Authentication mechanism is too weak", "This way of logging in is not allowed for the account: an app "
   "password or OAuth 2 may be needed.", "RFC 4954 §6"},
  {"7.10", "Encryption Needed", "Encryption is needed first (STARTTLS).", "RFC 5248"},
  {"7.11", "Encryption required for requested authentication mechanism", "Log in only inside TLS.", "RFC 4954 §6"},
  {"7.12", "A password transition is needed", "The password must be changed another way first.", "RFC 4954 §6"},
  {"7.13", "User Account Disabled", "The account is disabled.", "RFC 5248"},
  {"7.14", "Trust relationship required", "The server needs a trust relationship with the client.", "RFC 5248"},
  {"7.15", "Priority Level is too low", "The message's priority is too low to be accepted now.", "RFC 6710"},
  {"7.16", "Message is too big for the specified priority", "Too big for its priority.", "RFC 6710"},
  {"7.17", "Mailbox owner has changed", "The mailbox now belongs to someone else.", "RFC 7293"},
  {"7.18", "Domain owner has changed", "The domain now belongs to someone else.", "RFC 7293"},
  {"7.19", "RRVS test cannot be completed", "The require-recipient-valid-since test could not be done.", "RFC 7293"},
  {"7.20", "No passing DKIM signature found", "The message carries no valid DKIM signature.", "RFC 7372"},
  {"7.21", "No acceptable DKIM signature found", "No DKIM signature the receiver accepts.", "RFC 7372"},
  {"7.22", "No valid author-matched DKIM signature found", "No valid DKIM signature of the From: domain.",
   "RFC 7372"},
  {"7.23", "SPF validation failed", "The sending host is not allowed by the sender domain's SPF record.",
   "RFC 7372"},
  {"7.24", "SPF validation error", "The SPF check could not be completed.", "RFC 7372"},
  {"7.25", "Reverse DNS validation failed", "The client's address has no matching reverse DNS name.", "RFC 7372"},
  {"7.26", "Multiple authentication checks failed", "Several checks (SPF, DKIM, ...) failed.", "RFC 7372"},
  {"7.27", "Sender address has null MX", "The sender's domain declares that it accepts no mail, so no reply could "
   "reach it.", "RFC 7505"},
  {"7.30", "REQUIRETLS support required", "The message asks for TLS on every hop and the next hop cannot.",
   "RFC 8689"},
};

// Where a class gives a detail code a meaning of its own, or a provider uses one outside the registry.
constexpr Row kEnhancedSpecial[] = {
  {"2.7.0", "Authentication succeeded", "The login worked (RFC 4954 uses 235 2.7.0).", "RFC 4954 §6"},
  {"4.7.0", "Temporary authentication failure or security reason", "A security reason that may pass: RFC 4954 "
   "sends 454 4.7.0 when the login could not be checked now; servers also close with 421 4.7.0 (try again "
   "later).", "RFC 4954 §6"},
  {"4.7.1", "Delivery not authorized now (often greylisting)", "Refused for now by policy: most often "
   "greylisting, where a server asks an unknown sender to come back later (real mail servers retry from their "
   "queue; many spam senders do not). Retry in a few minutes.", ""},
  {"5.7.0", "Other or undefined security status", "A security reason: RFC 4954 sends 530 5.7.0 \"Authentication "
   "required\", RFC 3207 \"Must issue a STARTTLS command first\".", "RFC 4954 §6; RFC 3207 §4"},
  {"5.7.3", "Security conversion required but not possible (Microsoft: authentication unsuccessful)",
   "In the registry this is a security conversion that is not possible; Microsoft 365 answers 535 5.7.3 when a "
   "login is refused (wrong password, or SMTP AUTH turned off for the account).", ""},
  {"5.7.139", "Authentication unsuccessful (Microsoft: basic authentication is disabled)",
   "Not in the IANA registry: Microsoft 365's code for a refused password login. The text says why: \"basic "
   "authentication is disabled\" or \"SmtpClientAuthentication is disabled for the Tenant\" (an administrator must "
   "turn on authenticated SMTP for the mailbox, or use OAuth 2), or \"the user credentials were incorrect\".",
   "https://aka.ms/smtp_auth_disabled"},
};
// clang-format on

const Row* findEnhanced(const EnhancedStatus& status) {
  const std::string full = status.toString();
  if (const Row* row = findRow(kEnhancedSpecial, full)) return row;
  return findRow(kEnhancedDetails, full.substr(full.find('.') + 1));
}

std::string severityParagraph(int code) {
  const Row* severity = findRow(kSeverities, std::to_string(code / 100));
  if (!severity) return "The first digit must be 2, 3, 4 or 5: this is not a reply code of SMTP.";
  std::string out = "Class " + std::string(severity->title) + ": " + std::string(severity->text);
  const int category = (code / 10) % 10;
  if (category < static_cast<int>(std::size(kCategories)))
    out += " Second digit " + std::string(kCategories[category]) + ".";
  return out;
}

}  // namespace

const Row* findRow(std::span<const Row> table, std::string_view key) {
  for (const auto& row : table)
    if (text::equalsIgnoreCase(row.key, key)) return &row;
  return nullptr;
}

void addReferences(std::string_view list, LineExplanation& out) {
  while (!list.empty()) {
    const std::size_t end = list.find("; ");
    const std::string one(list.substr(0, end));
    list = end == std::string_view::npos ? std::string_view() : list.substr(end + 2);
    bool known = one.empty();
    for (const auto& reference : out.references) known = known || reference == one;
    if (!known) out.references.push_back(one);
  }
}

void addParagraph(std::string_view paragraph, LineExplanation& out) {
  if (paragraph.empty()) return;
  if (!out.text.empty()) out.text += '\n';
  out.text += paragraph;
}

const Row* findReplyCode(int code) { return findRow(kReplyCodes, std::to_string(code)); }

std::string_view enhancedStatusTitle(const EnhancedStatus& status) {
  const Row* row = findEnhanced(status);
  return row ? row->title : std::string_view();
}

LineExplanation explainReply(const Reply& reply, bool continuation) {
  LineExplanation out;
  const std::string code = std::to_string(reply.code);
  const Row* row = findRow(kReplyCodes, code);
  out.title = code + " " + (row ? std::string(row->title) : std::string("(a reply code without an entry)"));
  if (row) {
    addParagraph(row->text, out);
    addReferences(row->references, out);
  } else {
    addParagraph(std::string(kNoReplyEntry) + code + ": its digits still say what it means.", out);
  }
  addParagraph(severityParagraph(reply.code), out);
  addReferences("RFC 5321 §4.2.1", out);

  if (reply.enhanced) {
    const EnhancedStatus& status = *reply.enhanced;
    const std::string written = status.toString();
    const Row* detail = findEnhanced(status);
    const bool sameTitle = detail && row && text::equalsIgnoreCase(detail->title, row->title);
    out.title += " (" + written + (detail && !sameTitle ? ": " + std::string(detail->title) : std::string()) + ")";
    std::string paragraph = "Enhanced status code " + written + " (class.subject.detail): class ";
    const bool validClass = status.klass >= 0 && status.klass < static_cast<int>(std::size(kEnhancedClasses)) &&
                            !kEnhancedClasses[status.klass].empty();
    paragraph += validClass ? std::string(kEnhancedClasses[status.klass]) : std::to_string(status.klass) + " (unknown)";
    paragraph += "; subject ";
    paragraph += status.subject >= 0 && status.subject < static_cast<int>(std::size(kSubjects))
                     ? std::string(kSubjects[status.subject])
                     : std::to_string(status.subject) + " (unknown)";
    if (detail) {
      paragraph += "; detail " + std::to_string(status.detail) + ": " + std::string(detail->title) + ". " +
                   std::string(detail->text);
      addReferences(detail->references, out);
    } else {
      paragraph += ". " + std::string(kNoEnhancedEntry) + written + " (not in the IANA registry as SMTPc knows it; "
                   "a provider's own code, explained on its help pages).";
    }
    addParagraph(paragraph, out);
    if (status.subject >= 0 && status.subject <= 7) {
      addReferences("RFC 3463 §3." + std::to_string(status.subject + 1), out);
    }
    addReferences("RFC 3463 §2; RFC 2034", out);
  }

  const std::string words = reply.text();
  if (!words.empty()) addParagraph("The server's own words: \"" + words + "\".", out);
  if (continuation)
    addParagraph("A \"-\" after the code means more lines of this reply follow; the last one has a space there.", out);
  return out;
}

}  // namespace smtpc::line_explain
