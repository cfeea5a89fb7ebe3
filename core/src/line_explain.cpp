// smtpc/line_explain.h: reads a line (who wrote it, what kind of line it is) and explains it from
// the tables of line_explain_replies.cpp and line_explain_commands.cpp; the SASL exchange, the
// notes, errors and TLS facts are explained here.
//
// Secrets: an answer to a 334 challenge is masked in a transcript and explained as masked. A line
// a person typed may carry one unmasked; it is decoded only to name its parts (PLAIN's
// "\0user\0password", XOAUTH2's "user=...^Aauth=Bearer ..."), and the password or token is never
// put in the explanation. A bare base64 answer is not decoded at all: LOGIN's is the password.
#include <optional>
#include <string>

#include "line_explain_internal.h"
#include "smtpc/base64.h"
#include "smtpc/sasl.h"
#include "smtpc/secret.h"
#include "text.h"

namespace smtpc {
namespace line_explain {
namespace {

// clang-format off
// Notes (===) and errors (***) are SMTPc's own words; these rows say where the rule behind one is
// written, found by how the note starts (session.cpp and transaction.cpp write them).
constexpr Row kNotes[] = {
  {"Connecting to", "Opening the connection",
   "SMTPc opens a TCP connection to the server: port 25 is for servers relaying to each other, 587 for "
   "submission with STARTTLS, 465 for submission with TLS from the first byte. The server speaks first.",
   "RFC 5321 §3.1; RFC 6409 §3.1; RFC 8314 §3.3"},
  {"Connected", "The connection is open",
   "TCP is up. With implicit TLS (port 465) the TLS handshake comes first; otherwise the next line is the "
   "server's greeting, 220.", "RFC 5321 §3.1; RFC 8314 §3.3"},
  {"Starting the TLS handshake", "TLS begins",
   "The server said 220 to STARTTLS: both sides now negotiate TLS (versions, cipher, the server's certificate). "
   "Nothing else may be sent until it is done.", "RFC 3207 §4; RFC 8446 §2"},
  {"What the server offered before TLS", "Forgetting what was said in clear text",
   "Everything before TLS could have been changed by someone on the path (for example STARTTLS or AUTH removed), "
   "so the client discards it and asks again with EHLO.", "RFC 3207 §4.2"},
  {"The server offers", "What the server offers", "SMTPc's summary of the keywords in the EHLO reply above.",
   "RFC 5321 §4.1.1.1"},
  {"EHLO was refused", "Falling back to HELO", "An old server may not know EHLO; HELO still works, without "
   "extensions.", "RFC 5321 §4.1.1.1; RFC 5321 §3.2"},
  {"HELO accepted", "HELO accepted", "No extensions: no STARTTLS, no AUTH, no SIZE.", "RFC 5321 §4.1.1.1"},
  {"Logging in as", "Logging in", "SMTPc starts AUTH with the mechanism named; what carries the password or "
   "token is masked in the transcript.", "RFC 4954 §4"},
  {"Logged in", "Logged in", "The server answered 235: the login worked.", "RFC 4954 §6"},
  {"(the server's challenge, decoded", "The challenge, decoded", "SASL challenges travel in base64, which is an "
   "encoding, not encryption: anyone can decode it, as SMTPc does here.", "RFC 4954 §4; RFC 4648 §4"},
  {"(SCRAM client-first, decoded", "SCRAM, 1 of 4: who logs in",
   "The client's first message: \"n,,\" (no channel binding), the user name after n= (\",\" and \"=\" written "
   "=2C and =3D) and after r= a random nonce, fresh for this login. It proves nothing yet; the nonce makes "
   "everything that follows belong to this login alone.", "RFC 5802 §5.1; RFC 7677 §3"},
  {"(SCRAM client-final, decoded", "SCRAM, 3 of 4: the proof",
   "c=biws is base64 of \"n,,\" again (it binds the header), r= repeats the combined nonce, and p= is the proof: "
   "the client key (derived from the password with PBKDF2 over the salt and iterations) XOR a signature of the "
   "whole conversation. It shows that the client knows the password without sending it, and cannot be replayed; "
   "it is masked here all the same, because with the salt it could be attacked offline.",
   "RFC 5802 §3; RFC 5802 §5.1"},
  {"The server's SCRAM signature is right", "SCRAM, 4 of 4: the server proves itself",
   "The server's v= is a signature of the conversation keyed by the server key, which only someone holding the "
   "salted password can make: the client now knows that the server is the one that holds the account, not "
   "something in the middle. Only then does the client send the empty line that lets the server say 235.",
   "RFC 5802 §3; RFC 5802 §5.1"},
  {"(message content", "The message itself", "The headers and body went over the wire after 354; the transcript "
   "does not repeat them.", "RFC 5321 §4.1.1.4"},
  {"The server waits for the message", "The message follows", "After 354 the message goes as text, ended by a "
   "line with a single \".\".", "RFC 5321 §4.5.2"},
  {"Stopping after", "Stopping early", "A connection test stops after the phase asked for (--quit-after) and "
   "says QUIT: no mail is sent.", "RFC 5321 §4.1.1.10"},
  {"Ignored", "Bytes ignored", "Bytes that arrive while TLS starts, or after STARTTLS's 220, are discarded: an "
   "attacker could have injected them.", "RFC 3207 §4.2"},
  {"Sending credentials WITHOUT encryption", "Password in clear text",
   "The login goes without TLS because plaintext authentication was allowed: anyone on the path can decode it.",
   "RFC 4954 §4; RFC 8314 §3"},
  {"The server does not offer STARTTLS", "No encryption",
   "Opportunistic mode goes on in clear text; an attacker on the path can remove STARTTLS from the EHLO reply "
   "(\"STRIPTLS\"), which is why STARTTLS should be required.", "RFC 3207 §6; RFC 8314 §3"},
  {"STARTTLS failed", "No encryption", "Opportunistic mode goes on in clear text after a refused STARTTLS.",
   "RFC 3207 §6"},
  {"The server offers STARTTLS, but", "No encryption", "Security is set to none.", "RFC 3207 §6"},
};
// clang-format on

const Row* findNote(std::string_view text) {
  for (const auto& row : kNotes)
    if (text.substr(0, row.key.size()) == row.key) return &row;
  return nullptr;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The alphabet, and a length a padded encoding can have: a typed SASL answer, not a command.
bool looksLikeBase64(std::string_view text) {
  if (text.size() < 4 || text.size() % 4 != 0) return false;
  for (char c : text)
    if (!(isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '+' || c == '/' || c == '='))
      return false;
  return base64::decode(text).has_value();
}

bool isPrintable(std::string_view text) {
  for (unsigned char c : text)
    if (c < 32 || c > 126) return false;
  return !text.empty();
}

// The parts of a SASL answer a person typed, named without the secret in it.
std::optional<std::string> describePayload(std::string_view encoded) {
  const auto decoded = base64::decode(encoded);
  if (!decoded) return std::nullopt;
  const std::string_view value(*decoded);
  const std::size_t first = value.find('\0');
  if (first != std::string_view::npos) {  // PLAIN (RFC 4616 §2): authzid NUL authcid NUL passwd
    const std::size_t second = value.find('\0', first + 1);
    if (second == std::string_view::npos) return "Decoded, it has a NUL octet but not PLAIN's two.";
    const std::string_view authzid = value.substr(0, first), user = value.substr(first + 1, second - first - 1);
    return "Decoded, this is PLAIN's \"authorization-id\\0user\\0password\": authorization identity " +
           (authzid.empty() ? std::string("empty (act as the user)") : "\"" + std::string(authzid) + "\"") +
           ", user name \"" + std::string(user) + "\", then the password (not shown here). Anyone who sees "
           "this line can decode it the same way: base64 is not encryption.";
  }
  const std::size_t bearer = value.find("auth=Bearer ");
  if (bearer != std::string_view::npos) {  // XOAUTH2 / OAUTHBEARER (RFC 7628 §3.1)
    const bool xoauth2 = value.substr(0, 5) == "user=";
    std::string user;
    if (xoauth2) user = std::string(value.substr(5, value.find('\x01') - 5));
    return std::string("Decoded, this is ") + (xoauth2 ? "XOAUTH2's \"user=NAME^Aauth=Bearer TOKEN^A^A\"" :
           "OAUTHBEARER's \"n,a=NAME,^Ahost=...^Aport=...^Aauth=Bearer TOKEN^A^A\"") +
           (user.empty() ? std::string() : " for \"" + user + "\"") + ", with an OAuth 2 access token (not shown "
           "here): whoever holds it may send mail as this user until it expires.";
  }
  return std::nullopt;  // LOGIN's answers are the user name or the password itself: not decoded
}

LineExplanation explainChallenge(const Reply& reply) {
  LineExplanation out;
  const std::string challenge = reply.lines.empty() ? std::string() : reply.lines.front();
  out.title = "334 Server challenge";
  std::string paragraph;
  if (challenge.empty() || challenge == "=") {
    paragraph = "An empty challenge: the server asks for the mechanism's initial response (PLAIN's user name and "
                "password, or a token), in base64.";
  } else if (const auto decoded = base64::decode(challenge); !decoded) {
    paragraph = "The text after 334 should be base64 but is not; the client cannot answer it and sends \"*\".";
  } else if (!isPrintable(*decoded)) {
    paragraph = "Decoded from base64 it is " + std::to_string(decoded->size()) + " octets of binary data, a "
                "message of the SASL mechanism.";
  } else if (decoded->front() == '{') {
    out.title += ": a refused token";
    paragraph = "Decoded from base64: " + *decoded + ". " + sasl::describe(sasl::readTokenRefusal(challenge)) +
                " The client answers with an empty line (or \"*\") and the server's final reply follows.";
    addReferences("RFC 7628 §3.2.2", out);
  } else {
    out.title += ": \"" + *decoded + "\"";
    paragraph = "Decoded from base64: \"" + *decoded + "\". ";
    const std::string upper = text::toUpper(*decoded);
    if (upper.find("USERNAME") != std::string::npos || upper.find("USER NAME") != std::string::npos) {
      paragraph += "LOGIN asks for the user name; the client answers with the user name in base64.";
      addReferences("draft-murchison-sasl-login", out);
    } else if (upper.find("PASSWORD") != std::string::npos) {
      paragraph += "LOGIN asks for the password; the client answers with the password in base64, masked in this "
                   "transcript (base64 is not encryption).";
      addReferences("draft-murchison-sasl-login", out);
    } else if (decoded->rfind("r=", 0) == 0 && decoded->find(",s=") != std::string::npos) {
      out.title = "334 SCRAM, 2 of 4: salt, iterations and nonces";
      paragraph += "SCRAM's server-first message: r= is the client's nonce with the server's own added (a server "
                   "that does not start with the client's is refused), s= the salt and i= the iteration count the "
                   "server stores the password under. The client runs PBKDF2 with them to derive its keys; SMTPc "
                   "accepts 4096 to 1,000,000 iterations.";
      addReferences("RFC 5802 §5.1; RFC 7677 §4", out);
    } else if (decoded->rfind("v=", 0) == 0) {
      out.title = "334 SCRAM, 4 of 4: the server's signature";
      paragraph += "SCRAM's server-final message: v= is the server's signature of the conversation. The client "
                   "checks it before anything else: a wrong one means the server does not know the password, and "
                   "the client cancels with \"*\". A right one is answered with an empty line, and 235 follows.";
      addReferences("RFC 5802 §5.1", out);
    } else if (decoded->rfind("e=", 0) == 0) {
      out.title = "334 SCRAM: the server refuses";
      paragraph += "A SCRAM error in place of the server's signature: " +
                   sasl::Scram::describeServerError(decoded->substr(2)) + ". The client cancels with \"*\".";
      addReferences("RFC 5802 §7", out);
    } else if (decoded->front() == '<' && decoded->back() == '>') {
      paragraph += "A CRAM-MD5 challenge: a unique string the client signs with HMAC-MD5 keyed by the password, "
                   "and answers \"user digest\" in base64.";
      addReferences("RFC 2195 §2", out);
    } else {
      paragraph += "The mechanism's question; the client answers with one base64 line.";
    }
  }
  addParagraph(paragraph, out);
  addParagraph("334 means \"go on\": the server waits for exactly one line from the client, or \"*\" to cancel.", out);
  addReferences("RFC 4954 §4; RFC 4648 §4", out);
  return out;
}

LineExplanation explainServer(std::string_view line) {
  if (line.size() < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) ||
      (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
    LineExplanation out{"A line from the server that is not a reply", {}, {}};
    addParagraph("Every line a server sends starts with a three-digit reply code and a space or \"-\"; this one "
                 "does not, so a client treats it as a protocol error.", out);
    addReferences("RFC 5321 §4.2", out);
    return out;
  }
  const bool continuation = line.size() > 3 && line[3] == '-';
  std::string wire(line);
  if (continuation) wire[3] = ' ';  // read one line of a multi-line reply as a reply of its own
  ReplyParser parser;
  parser.feed(wire + "\r\n");
  Reply reply;
  if (parser.next(reply) != ReplyParser::Status::Complete) {
    LineExplanation out{"A malformed reply line", {}, {}};
    addParagraph("SMTPc could not read this as a reply: " + parser.error(), out);
    addReferences("RFC 5321 §4.2", out);
    return out;
  }
  if (reply.code == 334) return explainChallenge(reply);
  if (reply.code == 250 && !reply.enhanced && !reply.lines.empty() && !reply.lines.front().empty()) {
    LineExplanation out;
    if (explainKeyword(reply.lines.front(), out)) {
      addParagraph("This is one line of the server's reply to EHLO: one extension per line.", out);
      return out;
    }
    const std::string first = text::splitWords(reply.lines.front()).front();
    if (continuation || first.find('.') != std::string::npos || first.front() == '[') {
      out.title = "250 The server's name (first line of the EHLO reply)";
      addParagraph("The first line of a 250 reply to EHLO names the server (\"" + first + "\") and may greet the "
                   "client; each line after it is one extension the server offers.", out);
      addReferences("RFC 5321 §4.1.1.1; RFC 5321 §4.2.1", out);
      return out;
    }
  }
  return explainReply(reply, continuation);
}

LineExplanation explainClient(std::string_view line) {
  LineExplanation out;
  if (line == Secret::redacted()) {
    out.title = "The client's answer to a challenge (masked)";
    addParagraph("An answer to the server's 334 challenge: the user name, the password or a token, in base64. "
                 "SMTPc masks it in every transcript, because base64 is not encryption: anyone who reads the "
                 "line can decode it.", out);
    addReferences("RFC 4954 §4; RFC 4648 §4", out);
    return out;
  }
  if (line == "*") {
    out.title = "The client cancels the login";
    addParagraph("\"*\" in answer to a 334 cancels the AUTH exchange; the server answers 501.", out);
    addReferences("RFC 4954 §4", out);
    return out;
  }
  if (line == ".") {
    out.title = "The end of the message";
    addParagraph("A line holding a single \".\" ends the message sent after 354; the server's next reply says "
                 "whether it took the message.", out);
    addReferences("RFC 5321 §4.1.1.4; RFC 5321 §4.5.2", out);
    return out;
  }
  const std::vector<std::string> words = text::splitWords(line);
  if (!words.empty() && isKnownCommand(words.front())) {
    out = explainCommand(line);
    if (text::equalsIgnoreCase(words.front(), "AUTH") && words.size() > 2) {
      if (words[2] == Secret::redacted())
        addParagraph("The initial response is masked here: it carries the credentials.", out);
      else if (auto parts = describePayload(words[2]))
        addParagraph(*parts, out);
    }
    return out;
  }
  if (words.size() == 1 && looksLikeBase64(line)) {
    out.title = "A SASL answer in base64";
    const auto parts = describePayload(line);
    addParagraph(parts ? *parts : "An answer to the server's 334 challenge, in base64. SMTPc does not decode it "
                 "here: after LOGIN's \"Password:\" it is the password itself.", out);
    addReferences("RFC 4954 §4; RFC 4648 §4", out);
    return out;
  }
  return explainCommand(line);
}

LineExplanation explainTls(std::string_view line) {
  // session.cpp: "TLSv1.3 with TLS_AES_256_GCM_SHA384; the certificate for CN=... is valid and trusted"
  LineExplanation out{"TLS is up", {}, {}};
  const std::string upper = text::toUpper(line);
  std::string paragraph = "The handshake is done: everything from here on is encrypted (the transcript marks it "
                          "~> and <~).";
  if (upper.find("TLSV1.3") != std::string::npos) {
    paragraph += " TLS 1.3: the current version; every cipher it allows gives forward secrecy.";
    addReferences("RFC 8446", out);
  } else if (upper.find("TLSV1.2") != std::string::npos) {
    paragraph += " TLS 1.2: still accepted; safe with an ECDHE key exchange and an AEAD cipher (GCM, "
                 "CHACHA20-POLY1305).";
    addReferences("RFC 5246; RFC 9325", out);
  } else if (upper.find("TLSV1.1") != std::string::npos || upper.find("TLSV1 ") != std::string::npos ||
             upper.find("TLSV1.0") != std::string::npos) {
    paragraph += " TLS 1.0 and 1.1 are deprecated: the server should be updated.";
    addReferences("RFC 8996", out);
  }
  if (upper.find("GCM") != std::string::npos || upper.find("CHACHA20") != std::string::npos)
    paragraph += " The cipher is an AEAD (it encrypts and authenticates each record).";
  // TLS 1.2 names its key exchange in the cipher suite: (EC)DHE keeps past sessions safe if the
  // server's key leaks later; RSA key transport does not.
  if (upper.find("TLSV1.3") == std::string::npos && upper.find(" WITH ") != std::string::npos) {
    if (upper.find("DHE") != std::string::npos)
      paragraph += " The key exchange (EC)DHE gives forward secrecy.";
    else
      paragraph += " The key exchange is RSA key transport: no forward secrecy (a leaked server key would decrypt "
                   "recorded sessions).";
  }
  addParagraph(paragraph, out);
  if (upper.find("NOT VALID") != std::string::npos) {
    addParagraph("The certificate did NOT verify and was accepted only because invalid certificates were allowed: "
                 "the connection is encrypted, but to whom is not known (a man in the middle would look the "
                 "same).", out);
  } else if (upper.find("VALID AND TRUSTED") != std::string::npos) {
    addParagraph("The certificate chain leads to a trusted authority and names this server: the client knows whom "
                 "it talks to.", out);
  } else if (upper.find("NOT VERIFIED") != std::string::npos) {
    addParagraph("The certificate was not verified: encrypted, but the server's identity is not checked.", out);
  }
  addReferences("RFC 3207 §4.1; RFC 5280 §6; RFC 6125 §6", out);
  return out;
}

LineExplanation explainNote(std::string_view line, bool error) {
  LineExplanation out;
  const Row* row = findNote(line);
  if (row) {
    out.title = std::string(row->title);
    addParagraph(row->text, out);
    addReferences(row->references, out);
  } else {
    out.title = error ? "What went wrong" : "A note from SMTPc";
  }
  addParagraph(error ? "Lines marked *** are SMTPc's account of a problem: what happened and whose fault it is "
                       "(ours, the server's, the network's); the summary at the end says what to do."
                     : "Lines marked === are SMTPc's notes: they say what is happening and why, and never go "
                       "over the wire.", out);
  if (line.find("time") != std::string_view::npos && error) addReferences("RFC 5321 §4.5.3.2", out);
  // "... the user name or password (535)", "STARTTLS failed (454 4.7.0 ...)": the reply behind it.
  for (std::size_t open = line.find('('); open != std::string_view::npos; open = line.find('(', open + 1)) {
    const std::string_view code = line.substr(open + 1, 4);
    if (code.size() < 4 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) || (code[3] != ')' && code[3] != ' '))
      continue;
    if (const Row* reply = findReplyCode((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'))) {
      addParagraph("The server's reply behind it: " + std::string(code.substr(0, 3)) + " " + std::string(reply->title) +
                   ". " + std::string(reply->text), out);
      addReferences(reply->references, out);
      break;
    }
  }
  return out;
}

// swaks' prefixes (transcriptPrefix()): who wrote a typed line, in clear text or inside TLS.
struct Prefix {
  std::string_view text;
  TranscriptKind kind;
  bool encrypted;
};
constexpr Prefix kPrefixes[] = {
    {"<-", TranscriptKind::Server, false}, {"<~", TranscriptKind::Server, true},
    {"->", TranscriptKind::Client, false}, {"~>", TranscriptKind::Client, true},
    {"===", TranscriptKind::Info, false},  {"***", TranscriptKind::Error, false},
};

const Prefix* prefixOf(std::string_view line) {
  for (const auto& prefix : kPrefixes)
    if (line.substr(0, prefix.text.size()) == prefix.text) return &prefix;
  return nullptr;
}

std::string_view skipSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

}  // namespace
}  // namespace line_explain

LineExplanation explainLine(const TranscriptEntry& entry) {
  using namespace line_explain;
  switch (entry.kind) {
    case TranscriptKind::Client: return explainClient(entry.text);
    case TranscriptKind::Server: return explainServer(entry.text);
    case TranscriptKind::Tls: return explainTls(entry.text);
    case TranscriptKind::Info: return explainNote(entry.text, false);
    case TranscriptKind::Error: return explainNote(entry.text, true);
  }
  return explainNote(entry.text, false);
}

LineExplanation explainLine(std::string_view line) {
  using namespace line_explain;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  line = skipSpaces(line);
  // "  1.234 <-  250 ok": smtpc -v puts the seconds before the prefix.
  if (const std::size_t space = line.find(' '); space != std::string_view::npos &&
                                                line.substr(0, space).find('.') != std::string_view::npos &&
                                                line.substr(0, space).find_first_not_of("0123456789.") == std::string_view::npos &&
                                                prefixOf(skipSpaces(line.substr(space))))
    line = skipSpaces(line.substr(space));
  TranscriptEntry entry;
  if (const Prefix* prefix = prefixOf(line)) {
    entry = TranscriptEntry{prefix->kind, prefix->encrypted, Time{0}, std::string(skipSpaces(line.substr(prefix->text.size())))};
  } else {
    const bool reply = line.size() >= 3 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]);
    const bool tls = text::startsWithIgnoreCase(line, "TLSv1");
    entry = TranscriptEntry{reply ? TranscriptKind::Server : tls ? TranscriptKind::Tls : TranscriptKind::Client,
                            false, Time{0}, std::string(line)};
  }
  // "=== TLSv1.3 with ...": the session writes TLS facts with the notes' prefix.
  if (entry.kind == TranscriptKind::Info && text::startsWithIgnoreCase(entry.text, "TLSv1")) entry.kind = TranscriptKind::Tls;
  if (entry.text.empty()) {
    LineExplanation out{"An empty line", {}, {}};
    addParagraph("Type a line of an SMTP conversation, such as \"EHLO example.com\", \"250-PIPELINING\" or \"535 "
                 "5.7.8 Authentication credentials invalid\".", out);
    addReferences("RFC 5321 §4", out);
    return out;
  }
  return explainLine(entry);
}

std::string explanationText(const TranscriptEntry& entry) {
  const LineExplanation explanation = explainLine(entry);
  std::string text = explanation.title;
  if (!explanation.text.empty()) text += (text.empty() ? "" : "\n") + explanation.text;
  for (std::size_t i = 0; i < explanation.references.size(); ++i)
    text += (i == 0 ? "\nSee " : ", ") + explanation.references[i];
  return text;
}

}  // namespace smtpc
