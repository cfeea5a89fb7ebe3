// Plays an S:/C: transcript script against smtpc::Session, in memory, with a virtual clock.
// Plain C++ (no Qt) so the same scripts run natively under Qt Test and in wasm under Node.
//
// A script is a header of settings, then the conversation:
//   @security starttls          @user demo        @password secret     @token T
//   @token-scope S (the scope the token was granted, as a sign-in reports it)
//   @scram-nonce N (SCRAM's client nonce, for the RFCs' test vectors; otherwise random)
//   @auth plain                 @allow-plaintext  @quit-after auth     @ehlo client.example
//   @local-address 192.0.2.1    @policy send-to-accepted               @no-pipelining  @no-chunking
//   @timeout MS | @timeout-greeting MS | @timeout-data-block MS  ...   @window N
//   @max-line N                 @connect ok|refused|never             @manual
//   @hold-flush (writes are not reported flushed until F:)    @body-repeat N TEXT
//   @message FROM TO[,TO...]    @body TEXT (one line, LF added)        @body-raw ESCAPED
//   S: line     the server sends `line` CRLF (consecutive S: lines form one packet)
//   S~ bytes    the server sends escaped bytes as they are (\r \n \t \\ \xHH)
//   C: line     the client must have sent `line` CRLF next
//   T: ok | fail | badcert      the TLS handshake the client asked for ends so
//   X:          the server closes the connection
//   W: [MS]     time passes: to the session's deadline, or by MS; then onTimeout
//   N:          (with @manual) send the next @message      Q: quit   K: cancel   O: NOOP
//   D: N        the client has sent N more bytes (any content): they are taken   F: flush all writes
//   E:          the client has sent nothing more (yet): it waits for the server
//   =: outcome  expected outcomes, in order (ready, auth X, tls, rcpt A ok|refused,
//               message N ok|Code, finished ok|Code [after phase])
//   ?: text     the transcript must contain text       !: text   it must not
//   B: bar      the step bar (smtpc::Explainer) at the end: "Connect:done Greeting:done ..."
//   H: text     the diagnosis headline is text         Y: text   a suggestion contains text
//   U: text     not encrypted, and the diagnosis' warning contains text ("U: encrypted": it was, no
//               warning; "U: no warning": none, as after a failed handshake in a mode that needs TLS)
// Unless @manual, every @message is queued before start() and quit() follows, as sendMail does.
// The player also checks by itself that no password or token, plain or base64, reaches the
// transcript, and that the client sent nothing the script did not expect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace smtpc::testing {

struct ScriptResult {
  bool passed = false;
  std::string failure;                // why not, with the script line number
  std::vector<std::string> outcomes;  // what happened, in the `=:` vocabulary
  std::string transcript;             // swaks-style, as a person would read it
  // Step mode: each pause in order, "> " and the next command before a command, "< " and the
  // reply's code after a reply; the player goes on (Session::next) at each one.
  std::vector<std::string> pauses;
};

ScriptResult runScript(std::string_view script, bool byteAtATime, bool stepThrough = false);

}  // namespace smtpc::testing
