// Commands (RFC 5321 §4.1.1 and the extensions' RFCs), their MAIL/RCPT parameters, and EHLO
// keywords, explained for smtpc/line_explain.h.
#include <string>

#include "line_explain_internal.h"
#include "smtpc/capabilities.h"
#include "text.h"

namespace smtpc::line_explain {
namespace {

// clang-format off
constexpr Row kCommands[] = {
  {"EHLO", "EHLO: hello, and what do you offer?",
   "The client names itself (its domain, or its address in brackets such as [192.0.2.10]) and asks the server "
   "which extensions it offers. The 250 reply lists them, one per line: STARTTLS, AUTH, SIZE, PIPELINING, ... "
   "After STARTTLS the client sends EHLO again, because what was offered in clear text could have been forged.",
   "RFC 5321 §4.1.1.1; RFC 5321 §3.2; RFC 3207 §4.2"},
  {"HELO", "HELO: hello (the old way)",
   "The greeting of the original SMTP: the client names itself, and the server offers no extensions (no STARTTLS, "
   "no AUTH). Clients send it only when EHLO is refused.", "RFC 5321 §4.1.1.1; RFC 5321 §3.2"},
  {"STARTTLS", "STARTTLS: switch this connection to TLS",
   "The client asks to encrypt the connection. After the server's 220, both sides do a TLS handshake; then the "
   "client forgets what it heard before and sends EHLO again. From here on the transcript shows ~> and <~.",
   "RFC 3207 §4; RFC 3207 §4.2"},
  {"AUTH", "AUTH: log in with a SASL mechanism",
   "The client logs in. The word after AUTH names the mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, SCRAM-SHA-1, XOAUTH2, OAUTHBEARER); "
   "what may follow is the initial response in base64, which carries the credentials and is masked in this "
   "transcript. Base64 is an encoding, not encryption: anyone who sees the line can decode it, which is why "
   "SMTPc logs in only inside TLS unless told otherwise.", "RFC 4954 §4; RFC 4422"},
  {"MAIL", "MAIL FROM: start a message from this sender",
   "Starts a mail transaction. The address in <> is the envelope sender (the return path): where bounces go, not "
   "necessarily the From: header. <> (empty) is the null sender of bounces themselves. Parameters after it "
   "declare the message's size, its body type, or UTF-8 addresses.", "RFC 5321 §4.1.1.2; RFC 5321 §3.3"},
  {"RCPT", "RCPT TO: one recipient",
   "Names one recipient of the envelope; one RCPT per recipient, Cc and Bcc included (Bcc addresses appear only "
   "here, never in a header). Each gets its own reply: some may be accepted, some refused.",
   "RFC 5321 §4.1.1.3; RFC 5321 §3.3"},
  {"DATA", "DATA: here comes the message",
   "After at least one accepted recipient, the client asks to send the message. The server answers 354; the "
   "client sends headers and body and ends with a line holding a single \".\"; the server's reply to that dot "
   "says whether it took the message.", "RFC 5321 §4.1.1.4; RFC 5321 §4.5.2"},
  {"BDAT", "BDAT: one chunk of the message",
   "With CHUNKING, the message goes in chunks of a declared size instead of DATA's dot-terminated text; LAST "
   "marks the final chunk. Nothing is dot-stuffed and the server looks for no end line; each chunk gets its own "
   "reply, and with PIPELINING several may be in flight. SMTPc's transcript sums a run of chunks up in one line "
   "(\"BDAT 65536 … ×15, BDAT 1234 LAST\").", "RFC 3030 §2; RFC 3030 §4.2"},
  {"RSET", "RSET: forget the current transaction",
   "Abandons the message in progress (sender, recipients) without closing the connection; the next message "
   "starts again with MAIL FROM.", "RFC 5321 §4.1.1.5"},
  {"NOOP", "NOOP: do nothing",
   "Asks the server only to answer 250: keeps a connection alive, or checks that it still is.",
   "RFC 5321 §4.1.1.9"},
  {"QUIT", "QUIT: goodbye",
   "Ends the session politely: the server answers 221 and closes the connection.", "RFC 5321 §4.1.1.10; RFC 5321 §3.8"},
  {"VRFY", "VRFY: does this address exist?",
   "Asks whether a user or mailbox exists. Most servers answer 252 (will not say) or 502, because the answer "
   "would help spammers harvest addresses.", "RFC 5321 §4.1.1.6; RFC 5321 §3.5; RFC 5321 §7.3"},
  {"EXPN", "EXPN: who is on this list?",
   "Asks the server to expand a mailing list. Almost always turned off, for privacy.",
   "RFC 5321 §4.1.1.7; RFC 5321 §3.5"},
  {"HELP", "HELP: how do I use you?",
   "Asks for help text, for a person (reply 214).", "RFC 5321 §4.1.1.8"},
  {"ETRN", "ETRN: send me the mail you queued for this domain",
   "Asks a server to flush its queue for a domain (for sites that are not always online).", "RFC 1985"},
};

// Parameters after MAIL FROM:<...> and RCPT TO:<...>; the key is the name, or name=value when the
// value is what matters.
constexpr Row kParameters[] = {
  {"SIZE", "SIZE=", "Declares the message's size in octets, so a server whose limit it exceeds refuses at once "
   "(552) instead of after the whole upload.", "RFC 1870 §6"},
  {"BODY=8BITMIME", "BODY=8BITMIME", "Declares a body with 8-bit octets (such as UTF-8 text without encoding); "
   "sent only when the server offered 8BITMIME.", "RFC 6152 §2"},
  {"BODY=7BIT", "BODY=7BIT", "Declares a body of 7-bit ASCII only.", "RFC 6152 §2"},
  {"BODY=BINARYMIME", "BODY=BINARYMIME", "Declares a binary body (NUL octets, bare CR or LF, lines over 998 "
   "octets), sent unchanged with BDAT; SMTPc sends a ready message that holds such octets this way when the "
   "server offers BINARYMIME and CHUNKING, and otherwise makes its line ends CRLF.", "RFC 3030 §3"},
  {"SMTPUTF8", "SMTPUTF8", "Declares UTF-8 in the envelope addresses or headers (an internationalized address "
   "such as jösé@exämple.org); sent only when the server offered SMTPUTF8.", "RFC 6531 §3.4"},
  {"AUTH", "AUTH=", "Names the authenticated sender the message is submitted for; <> means unknown.",
   "RFC 4954 §5"},
  {"RET", "RET=", "What a failure report (a delivery status notification) carries of the message: FULL, the "
   "whole message, or HDRS, its headers only. Without RET the server chooses; a success report carries "
   "the headers at most.", "RFC 3461 §4.3"},
  {"ENVID", "ENVID=", "The sender's own label for this message (at most 100 printable ASCII characters), "
   "returned in every delivery report as Original-Envelope-Id, so reports can be matched to what was sent. "
   "Written as xtext: '+', '=', spaces and other special octets become +HH (a space is +20).", "RFC 3461 §4.4, §4"},
  {"NOTIFY", "NOTIFY=", "When this recipient's delivery report is wanted: any of SUCCESS (delivered), FAILURE "
   "(cannot be delivered) and DELAY (still trying), or NEVER alone (no report, not even a bounce). Without "
   "NOTIFY servers report failures, and perhaps delays.", "RFC 3461 §4.1"},
  {"ORCPT", "ORCPT=", "The recipient as the sender first wrote it, type;address (rfc822;user@example.org, or "
   "utf-8;... with \\x{HEX} for each non-ASCII character), returned as Original-Recipient: a report still "
   "names it after forwarding or aliases rewrote the address. Written as xtext ('+' as +2B).",
   "RFC 3461 §4.2; RFC 6533 §3"},
  {"REQUIRETLS", "REQUIRETLS", "Requires TLS on every hop of this message's way.", "RFC 8689 §4.2"},
  {"BY", "BY=", "A deadline for delivery.", "RFC 2852 §4"},
  {"MT-PRIORITY", "MT-PRIORITY=", "The message's priority.", "RFC 6710 §3"},
};

// EHLO keywords: Capabilities::describe() says what each offers; these rows add where to read and
// what SMTPc does with it.
constexpr Row kKeywords[] = {
  {"PIPELINING", "", "SMTPc then sends MAIL, RCPT and DATA together and reads the replies in order.",
   "RFC 2920 §3"},
  {"SIZE", "", "SMTPc sends SIZE= with MAIL FROM and refuses locally a message over the limit.", "RFC 1870 §4"},
  {"8BITMIME", "", "SMTPc sends BODY=8BITMIME for a message with 8-bit text.", "RFC 6152 §2"},
  {"SMTPUTF8", "", "SMTPc sends SMTPUTF8 with MAIL FROM when an address is not ASCII.", "RFC 6531 §3.2"},
  {"STARTTLS", "", "SMTPc sends STARTTLS next when security is STARTTLS (the default on port 587).",
   "RFC 3207 §4"},
  {"AUTH", "", "SMTPc chooses the best mechanism both sides know (PLAIN inside TLS; OAUTHBEARER or XOAUTH2 with a "
   "token). The older form AUTH=... means the same.", "RFC 4954 §3"},
  {"ENHANCEDSTATUSCODES", "", "Replies then start with a code like 5.7.8, which SMTPc explains.",
   "RFC 2034 §3; RFC 3463"},
  {"CHUNKING", "", "BDAT may replace DATA; SMTPc then sends the message in BDAT chunks (unless CHUNKING is "
   "turned off, e.g. smtpc --no-chunking).", "RFC 3030 §2"},
  {"BINARYMIME", "", "Needs CHUNKING; SMTPc then sends a binary ready message unchanged (BODY=BINARYMIME).",
   "RFC 3030 §3"},
  {"DSN", "", "NOTIFY=, RET=, ENVID= and ORCPT= become possible; SMTPc sends them when delivery reports are "
   "asked (smtpc --dsn-notify, --dsn-ret, --dsn-envid). A server without DSN gets no such message: SMTPc refuses "
   "it before MAIL, or sends it without the requests when told so (--dsn-optional).", "RFC 3461 §4"},
  {"DELIVERBY", "", "BY= becomes possible with MAIL FROM.", "RFC 2852 §4"},
  {"ETRN", "", "For sites that are not always online.", "RFC 1985"},
  {"REQUIRETLS", "", "REQUIRETLS becomes possible with MAIL FROM.", "RFC 8689 §4"},
  {"VRFY", "", "Most servers answer 252 anyway.", "RFC 5321 §3.5"},
  {"EXPN", "", "Expands mailing lists; rarely offered.", "RFC 5321 §3.5"},
  {"HELP", "", "", "RFC 5321 §4.1.1.8"},
  {"MT-PRIORITY", "", "", "RFC 6710 §3"},
  {"SEND", "", "An old extension of RFC 821, unused today.", "RFC 821"},
  {"TURN", "", "An old extension of RFC 821, unused today (unsafe).", "RFC 821"},
  {"XCLIENT", "", "Postfix's own: lets a trusted proxy pass on the real client's details.", ""},
};
// clang-format on

// One parameter after the address: "SIZE=1234", "BODY=8BITMIME", "SMTPUTF8".
void explainParameter(std::string_view parameter, LineExplanation& out) {
  const std::size_t equals = parameter.find('=');
  const std::string_view name = parameter.substr(0, equals);
  const Row* row = findRow(kParameters, parameter);  // BODY=8BITMIME: the value matters
  if (!row) row = findRow(kParameters, name);
  if (!row) {
    addParagraph("\"" + std::string(parameter) + "\": a parameter of an extension SMTPc has no entry for; a server "
                 "that did not offer it answers 555.", out);
    addReferences("RFC 5321 §4.1.1.11", out);
    return;
  }
  std::string paragraph = std::string(row->title);
  if (equals != std::string_view::npos && row->title.back() == '=') paragraph += std::string(parameter.substr(equals + 1));
  addParagraph(paragraph + ": " + std::string(row->text), out);
  addReferences(row->references, out);
}

}  // namespace

bool isKnownCommand(std::string_view verb) { return findRow(kCommands, verb) != nullptr; }

LineExplanation explainCommand(std::string_view line) {
  LineExplanation out;
  const std::vector<std::string> words = text::splitWords(line);
  const std::string verb = words.empty() ? std::string() : text::toUpper(words.front());
  const Row* row = findRow(kCommands, verb);
  if (!row) {
    out.title = "A line the client sent";
    addParagraph(std::string(kNoCommandEntry) + "\"" + verb + "\". SMTP commands are four letters, such as EHLO, "
                 "MAIL, RCPT, DATA, QUIT; a line that is none is part of the message (after 354) or an answer to a "
                 "SASL challenge (after 334).", out);
    addReferences("RFC 5321 §4.1", out);
    return out;
  }
  out.title = std::string(row->title);
  addParagraph(row->text, out);
  addReferences(row->references, out);

  if (verb == "EHLO" || verb == "HELO") {
    if (words.size() > 1) {
      const bool literal = words[1].front() == '[';
      addParagraph("\"" + words[1] + "\" is " + (literal ? "an address literal: the client's own address, used when "
                   "it has no name in the DNS" : "the name the client gives for itself") + ".", out);
      if (literal) addReferences("RFC 5321 §4.1.3", out);
    }
  } else if (verb == "MAIL" || verb == "RCPT") {
    // "MAIL FROM:<a@b> SIZE=10": the parameters follow the address.
    for (std::size_t i = 1; i < words.size(); ++i) {
      const std::string& word = words[i];
      if (i == 1 || text::startsWithIgnoreCase(word, "FROM:") || text::startsWithIgnoreCase(word, "TO:") ||
          word.front() == '<')
        continue;
      explainParameter(word, out);
    }
  } else if (verb == "AUTH" && words.size() > 1) {
    const std::string mechanism = text::toUpper(words[1]);
    std::string paragraph = "Mechanism " + mechanism + ": ";
    if (mechanism == "PLAIN") {
      paragraph += "one base64 line holding an authorization identity (usually empty), the user name and the "
                   "password, separated by NUL octets: \"\\0user\\0password\".";
      addReferences("RFC 4616 §2", out);
    } else if (mechanism == "LOGIN") {
      paragraph += "the server asks \"Username:\" and \"Password:\" (334, in base64) and the client answers each "
                   "in base64.";
      addReferences("draft-murchison-sasl-login", out);
    } else if (mechanism == "CRAM-MD5") {
      paragraph += "the server sends a unique challenge; the client answers with its user name and an HMAC-MD5 of "
                   "the challenge keyed by the password, so the password itself is not sent (but can be guessed "
                   "offline from what is).";
      addReferences("RFC 2195", out);
    } else if (mechanism == "SCRAM-SHA-256" || mechanism == "SCRAM-SHA-1") {
      paragraph += "four messages. The client names the user and sends a random nonce; the server answers with "
                   "the salt and iteration count it stores the password under and a nonce of its own added; the "
                   "client sends a proof that it knows the password (never the password itself); the server "
                   "answers with its own signature, proving that it knows the salted password too, so that a "
                   "false server is caught. Nothing sent can be replayed.";
      addReferences(mechanism == "SCRAM-SHA-1" ? "RFC 5802" : "RFC 7677; RFC 5802", out);
    } else if (mechanism == "XOAUTH2") {
      paragraph += "Google's and Microsoft's: \"user=NAME^Aauth=Bearer TOKEN^A^A\" in base64, with an OAuth 2 "
                   "access token instead of a password.";
    } else if (mechanism == "OAUTHBEARER") {
      paragraph += "\"n,a=NAME,^Ahost=...^Aport=...^Aauth=Bearer TOKEN^A^A\" in base64, with an OAuth 2 access "
                   "token instead of a password.";
      addReferences("RFC 7628 §3.1", out);
    } else {
      paragraph += "a SASL mechanism SMTPc does not use.";
    }
    if (words.size() > 2)
      paragraph += words[2] == "=" ? " \"=\" is an empty initial response."
                                   : " The initial response after it carries the credentials.";
    addParagraph(paragraph, out);
  } else if (verb == "BDAT" && words.size() > 2 && words[2] == "…") {
    // SMTPc's summary of a run of chunks: "BDAT 65536 … ×15, BDAT 1234 LAST".
    addParagraph("SMTPc's summary of several chunks of " + words[1] + " octets each (the count follows ×)" +
                     std::string(line.find("LAST") != std::string_view::npos ? ", then the last one." : "."),
                 out);
  } else if (verb == "BDAT" && words.size() > 1) {
    addParagraph("This chunk is " + words[1] + " octets" +
                 (words.size() > 2 && text::equalsIgnoreCase(words[2], "LAST") ? ", the last one." : "."), out);
  }
  return out;
}

bool explainKeyword(std::string_view line, LineExplanation& out) {
  const std::vector<std::string> words = text::splitWords(line);
  if (words.empty()) return false;
  std::string keyword = text::toUpper(words.front());
  if (keyword.rfind("AUTH=", 0) == 0) keyword = "AUTH";  // the pre-standard form
  const Row* row = findRow(kKeywords, keyword);
  if (!row) return false;
  out.title = "EHLO keyword " + keyword + (words.size() > 1 ? " (with parameters)" : "");
  addParagraph(Capabilities::describe(keyword), out);
  addParagraph(row->text, out);
  if (keyword == "SIZE" && words.size() > 1)
    addParagraph(words[1] == "0" ? "Here: no fixed limit." : "Here: at most " + words[1] + " octets.", out);
  if (keyword == "AUTH") {
    std::string list;
    for (std::size_t i = 1; i < words.size(); ++i) list += (list.empty() ? "" : ", ") + words[i];
    if (words.front().size() > 5) list = std::string(line.substr(5));
    if (!list.empty()) addParagraph("Here: " + list + ".", out);
  }
  addReferences(row->references, out);
  addReferences("RFC 5321 §4.1.1.1", out);
  return true;
}

}  // namespace smtpc::line_explain
