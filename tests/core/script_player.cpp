#include "script_player.h"

#include <charconv>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>

#include "smtpc/base64.h"
#include "secret_leaks.h"
#include "smtpc/explain.h"
#include "smtpc/session.h"

namespace smtpc::testing {

namespace {

std::string unescape(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 == in.size()) {
      out += in[i];
      continue;
    }
    const char c = in[++i];
    switch (c) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'x': {
        unsigned value = 0;
        std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
        out += static_cast<char>(value);
        i += 2;
        break;
      }
      default: out += c; break;
    }
  }
  return out;
}

std::string visible(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 200)) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  if (bytes.size() > 200) out += "...";
  return out;
}

struct Line {
  int number;
  std::string tag;  // "S:", "S~", "C:", ...
  std::string text;
};

class Player {
 public:
  ScriptResult run(std::string_view script, bool byteAtATime, bool stepThrough);

 private:
  bool parse(std::string_view script);
  bool header(const Line& line);
  void pump();
  void record(const Event& event);
  bool fail(int line, std::string why);

  ConnectParams params_;
  struct ScriptMessage {
    Envelope envelope;
    std::string body;
  };
  std::vector<ScriptMessage> messages_;
  OutgoingMessage outgoing(const ScriptMessage& m) const {
    return OutgoingMessage{m.envelope, std::make_shared<StringBody>(m.body)};
  }
  std::size_t nextMessage_ = 0;
  std::vector<Line> lines_;
  std::string connectMode_ = "ok";
  std::string localAddress_ = "192.0.2.10";
  bool manual_ = false;
  bool holdFlush_ = false;
  std::size_t unflushed_ = 0;
  bool byteAtATime_ = false;
  bool stepThrough_ = false;

  std::unique_ptr<Session> session_;
  std::unique_ptr<Explainer> explainer_;  // what the GUIs would show: the step bar, the diagnosis
  Time clock_{0};
  std::string clientBytes_;
  std::string clearWire_;  // everything the client sent outside TLS
  bool tlsRequested_ = false;
  bool closed_ = false;      // the engine asked to close the connection
  bool peerClosed_ = false;  // the script closed it first (X:): nothing left for the engine to close
  ScriptResult result_;
};

bool Player::fail(int line, std::string why) {
  if (result_.failure.empty()) result_.failure = "line " + std::to_string(line) + ": " + why;
  return false;
}

bool Player::header(const Line& line) {
  const std::string& key = line.tag;
  const std::string& value = line.text;
  auto number = [&](long long& out) {
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    return ec == std::errc() && end == value.data() + value.size();
  };
  long long n = 0;
  if (key == "@security") {
    auto mode = securityModeFromName(value);
    if (!mode) return fail(line.number, "unknown security mode " + value);
    params_.security = *mode;
  } else if (key == "@user") {
    params_.credentials.username = value;
  } else if (key == "@password") {
    params_.credentials.password = Secret(value);
  } else if (key == "@token") {
    params_.credentials.oauthToken = Secret(value);
  } else if (key == "@token-scope") {
    params_.credentials.oauthScope = value;
  } else if (key == "@scram-nonce") {  // the RFCs' test vectors need their client nonce
    params_.credentials.scramNonceForTests = value;
  } else if (key == "@auth") {
    std::string upper;
    for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto mechanism = mechanismFromName(upper);
    if (!mechanism) return fail(line.number, "unknown mechanism " + value);
    params_.authMechanism = *mechanism;
  } else if (key == "@allow-plaintext") {
    params_.allowPlaintextAuth = true;
  } else if (key == "@quit-after") {
    auto phase = phaseFromName(value);
    if (!phase) return fail(line.number, "unknown phase " + value);
    params_.quitAfter = *phase;
  } else if (key == "@ehlo") {
    params_.ehloName = value;
  } else if (key == "@local-address") {
    localAddress_ = value;
  } else if (key == "@policy") {
    if (value == "send-to-accepted") params_.recipientPolicy = RecipientPolicy::SendToAccepted;
    else if (value == "abort") params_.recipientPolicy = RecipientPolicy::AbortIfAnyRejected;
    else return fail(line.number, "unknown policy " + value);
  } else if (key == "@no-pipelining") {
    params_.usePipelining = false;
  } else if (key == "@no-chunking") {
    params_.useChunking = false;
  } else if (key == "@connect") {
    connectMode_ = value;
  } else if (key == "@manual") {
    manual_ = true;
  } else if (key == "@hold-flush") {
    holdFlush_ = true;
  } else if (key == "@window") {
    if (!number(n)) return fail(line.number, "bad number");
    params_.bodyWindow = static_cast<std::size_t>(n);
  } else if (key == "@max-line") {
    if (!number(n)) return fail(line.number, "bad number");
    params_.replyLimits.maxLineLength = static_cast<std::size_t>(n);
  } else if (key.rfind("@timeout", 0) == 0) {
    if (!number(n)) return fail(line.number, "bad number");
    const Duration d(n);
    Timeouts& t = params_.timeouts;
    if (key == "@timeout") t = Timeouts::uniform(d);
    else if (key == "@timeout-connect") t.connect = d;
    else if (key == "@timeout-greeting") t.greeting = d;
    else if (key == "@timeout-tls") t.tlsHandshake = d;
    else if (key == "@timeout-command") t.command = d;
    else if (key == "@timeout-data-block") t.dataBlock = d;
    else if (key == "@timeout-data-end") t.dataTermination = d;
    else return fail(line.number, "unknown timeout " + key);
  } else if (key == "@message") {
    ScriptMessage message;
    std::istringstream words(value);
    std::string from, to;
    words >> from >> to;
    message.envelope.from = from == "<>" ? "" : from;
    std::size_t start = 0;
    while (!to.empty()) {
      const std::size_t comma = to.find(',', start);
      message.envelope.recipients.push_back(to.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    messages_.push_back(std::move(message));
  } else if (key.rfind("@dsn-", 0) == 0) {
    // Delivery reports (RFC 3461) for the last @message: @dsn-notify success,failure  @dsn-ret hdrs
    // @dsn-envid TEXT (escaped)  @dsn-optional (send without if not offered)  @dsn-no-orcpt
    // @dsn-orcpt ADDRESS ORIGINAL (that recipient's ORCPT names ORIGINAL)  @dsn-notify-for ADDRESS LIST
    if (messages_.empty()) return fail(line.number, key + " before @message");
    DsnRequest& dsn = messages_.back().envelope.dsn;
    if (key == "@dsn-notify") {
      auto notify = DsnNotify::parse(value);
      if (!notify) return fail(line.number, notify.error().explanation());
      dsn.notify = *notify;
    } else if (key == "@dsn-ret") {
      auto ret = parseDsnReturn(value);
      if (!ret) return fail(line.number, ret.error().explanation());
      dsn.ret = *ret;
    } else if (key == "@dsn-envid") {
      dsn.envelopeId = unescape(value);
    } else if (key == "@dsn-optional") {
      dsn.ifNotOffered = IfDsnNotOffered::SendWithout;
    } else if (key == "@dsn-no-orcpt") {
      dsn.originalRecipients = false;
    } else if (key == "@dsn-notify-for") {  // ADDRESS LIST: that recipient's own NOTIFY
      const std::size_t space = value.find(' ');
      auto notify = DsnNotify::parse(value.substr(space + 1));
      if (!notify) return fail(line.number, notify.error().explanation());
      dsn.recipients.push_back(DsnRecipient{value.substr(0, space), *notify, {}});
    } else if (key == "@dsn-orcpt") {
      const std::size_t space = value.find(' ');
      dsn.recipients.push_back(DsnRecipient{value.substr(0, space), std::nullopt, value.substr(space + 1)});
    } else {
      return fail(line.number, "unknown setting " + key);
    }
  } else if (key == "@body-repeat") {
    if (messages_.empty()) return fail(line.number, "@body-repeat before @message");
    const std::size_t space = value.find(' ');
    long long count = 0;
    std::from_chars(value.data(), value.data() + space, count);
    const std::string text = value.substr(space + 1) + "\n";
    for (long long i = 0; i < count; ++i) messages_.back().body += text;
  } else if (key == "@body" || key == "@body-raw") {
    if (messages_.empty()) return fail(line.number, "@body before @message");
    messages_.back().body += key == "@body" ? value + "\n" : unescape(value);
  } else {
    return fail(line.number, "unknown setting " + key);
  }
  return true;
}

bool Player::parse(std::string_view script) {
  int number = 0;
  std::size_t pos = 0;
  bool inHeader = true;
  while (pos <= script.size()) {
    const std::size_t end = script.find('\n', pos);
    std::string_view raw = script.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? script.size() + 1 : end + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (raw.empty() || raw.front() == '#') continue;
    Line line;
    line.number = number;
    if (raw.front() == '@') {
      if (!inHeader) return fail(number, "a setting after the conversation started");
      const std::size_t space = raw.find(' ');
      line.tag = std::string(raw.substr(0, space));
      line.text = space == std::string_view::npos ? "" : std::string(raw.substr(space + 1));
      if (!header(line)) return false;
      continue;
    }
    inHeader = false;
    if (raw.size() < 2) return fail(number, "unreadable line");
    line.tag = std::string(raw.substr(0, 2));
    line.text = raw.size() > 3 ? std::string(raw.substr(3)) : std::string();
    if (raw.size() == 3 && raw[2] != ' ') return fail(number, "unreadable line");
    lines_.push_back(std::move(line));
  }
  return true;
}

void Player::record(const Event& event) {
  explainer_->onEvent(event);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TranscriptEntry>) {
          result_.transcript += std::string(transcriptPrefix(e)) + " " + e.text + "\n";
        } else if constexpr (std::is_same_v<T, SessionReady>) {
          result_.outcomes.push_back("ready");
        } else if constexpr (std::is_same_v<T, AuthSucceeded>) {
          result_.outcomes.push_back("auth " + std::string(mechanismName(e.mechanism)));
        } else if constexpr (std::is_same_v<T, TlsReady>) {
          result_.outcomes.push_back("tls");
        } else if constexpr (std::is_same_v<T, RecipientResult>) {
          result_.outcomes.push_back("rcpt " + e.address + (e.accepted ? " ok" : " refused"));
        } else if constexpr (std::is_same_v<T, MessageResult>) {
          result_.outcomes.push_back("message " + std::to_string(e.message) + " " +
                                     (e.error ? std::string(errorCodeName(e.error.code())) : "ok") +
                                     (e.dsnOmitted ? " without-dsn" : ""));
        } else if constexpr (std::is_same_v<T, Finished>) {
          std::string line = "finished " + (e.error ? std::string(errorCodeName(e.error.code())) : std::string("ok"));
          if (e.stoppedAfter != Phase::None) line += " after " + std::string(phaseName(e.stoppedAfter));
          result_.outcomes.push_back(line);
        }
      },
      event);
}

void Player::pump() {
  while (auto output = session_->poll()) {
    if (auto* connect = std::get_if<ConnectAction>(&*output)) {
      (void)connect;
      if (connectMode_ == "ok") session_->onConnected(clock_, ConnectionInfo{localAddress_, "198.51.100.25"});
      else if (connectMode_ == "refused") session_->onClosed(clock_, Error(ErrorCode::ConnectionRefused));
    } else if (auto* write = std::get_if<WriteAction>(&*output)) {
      clientBytes_ += write->bytes;
      if (!session_->tlsActive()) clearWire_ += write->bytes;
      if (holdFlush_) unflushed_ += write->bytes.size();
      else session_->onBytesFlushed(clock_, write->bytes.size());
    } else if (std::holds_alternative<StartTlsAction>(*output)) {
      tlsRequested_ = true;
    } else if (std::holds_alternative<CloseAction>(*output)) {
      closed_ = true;
    } else {
      const Event& event = std::get<Event>(*output);
      record(event);
      if (const auto* paused = std::get_if<Paused>(&event)) {
        const Pause& p = paused->pause;
        result_.pauses.push_back(p.where == PausePoint::BeforeCommand ? "> " + p.command
                                                                      : "< " + std::to_string(p.reply->code));
        session_->next(clock_);
      }
    }
  }
}

ScriptResult Player::run(std::string_view script, bool byteAtATime, bool stepThrough) {
  byteAtATime_ = byteAtATime;
  stepThrough_ = stepThrough;
  if (!parse(script)) return result_;
  params_.host = "mx.example.net";
  params_.stepThrough = stepThrough_;
  session_ = std::make_unique<Session>(params_);
  explainer_ = std::make_unique<Explainer>(params_, !messages_.empty());
  if (Error error = session_->start(clock_)) {
    fail(0, "start() failed: " + error.toString());
    return result_;
  }
  if (!manual_) {
    for (auto& message : messages_) {
      auto index = session_->send(clock_, outgoing(message));
      if (!index) result_.outcomes.push_back("refused " + std::string(errorCodeName(index.error().code())));
    }
    nextMessage_ = messages_.size();
    session_->quit(clock_);
  }
  pump();

  std::vector<std::string> expected;
  std::vector<std::string> mustContain, mustNotContain;
  std::vector<Line> explained;
  std::string packet;
  int packetLine = 0;  // the first S: line of the packet
  // Every server line a script writes must be read by the engine: a line sent to a session that
  // has already closed (or left unread behind the reply that closed it) means the script claims
  // a conversation that did not happen.
  auto sendPacket = [&]() -> bool {
    if (packet.empty()) return true;
    bool unread = false;
    if (byteAtATime_) {
      for (std::size_t i = 0; i < packet.size(); ++i) {
        if (session_->finished()) {
          // The engine may stop in the middle of the line that ended it (a line over the limit);
          // any whole line after that one was never read.
          const bool atLineStart = i == 0 || packet[i - 1] == '\n';
          const std::size_t endOfLine = packet.find('\n', i);
          unread = atLineStart || (endOfLine != std::string::npos && endOfLine + 1 < packet.size());
          break;
        }
        session_->receive(clock_, std::string_view(&packet[i], 1));
        pump();
      }
    } else {
      unread = session_->finished();
      session_->receive(clock_, packet);
      pump();
      // Whole lines left behind the reply that ended the session.
      unread = unread || (session_->finished() && session_->unreadBytes() > 0);
    }
    packet.clear();
    if (unread) return fail(packetLine, "the server's words from here on are never read: the session had closed");
    return true;
  };

  for (const Line& line : lines_) {
    if (line.tag != "S:" && line.tag != "S~" && !sendPacket()) return result_;
    if ((line.tag == "S:" || line.tag == "S~") && packet.empty()) packetLine = line.number;
    if (line.tag == "S:") {
      packet += line.text + "\r\n";
    } else if (line.tag == "S~") {
      packet += unescape(line.text);
    } else if (line.tag == "C:" || line.tag == "C~") {
      const std::string want = line.tag == "C:" ? line.text + "\r\n" : unescape(line.text);
      if (clientBytes_.compare(0, want.size(), want) != 0) {
        fail(line.number, "expected the client to send \"" + visible(want) + "\", but it sent \"" +
                              visible(clientBytes_) + "\"");
        return result_;
      }
      clientBytes_.erase(0, want.size());
    } else if (line.tag == "T:") {
      if (!tlsRequested_) {
        fail(line.number, "the client did not ask for a TLS handshake");
        return result_;
      }
      tlsRequested_ = false;
      if (line.text == "ok") {
        TlsInfo info;
        info.protocol = "TLSv1.3";
        info.cipher = "TLS_AES_128_GCM_SHA256";
        info.verified = true;
        info.chain.push_back(CertificateInfo{"CN=mx.example.net", "CN=Test CA", "", "", {"mx.example.net"}, "", ""});
        session_->onTlsEstablished(clock_, info);
      } else if (line.text == "badcert") {
        session_->onTlsFailed(clock_, Error(ErrorCode::CertificateInvalid, "The certificate is self-signed."));
      } else {
        session_->onTlsFailed(clock_, Error(ErrorCode::TlsHandshakeFailed));
      }
      pump();
    } else if (line.tag == "X:") {
      peerClosed_ = true;
      session_->onClosed(clock_);
      pump();
    } else if (line.tag == "W:") {
      if (line.text.empty()) {
        auto deadline = session_->nextDeadline();
        if (!deadline) {
          fail(line.number, "W: but the session has no deadline");
          return result_;
        }
        clock_ = *deadline;
      } else {
        long long ms = 0;
        std::from_chars(line.text.data(), line.text.data() + line.text.size(), ms);
        clock_ += Duration(ms);
      }
      session_->onTimeout(clock_);
      pump();
    } else if (line.tag == "N:") {
      if (nextMessage_ >= messages_.size()) {
        fail(line.number, "N: but no @message is left");
        return result_;
      }
      auto index = session_->send(clock_, outgoing(messages_[nextMessage_++]));
      if (!index) result_.outcomes.push_back("refused " + std::string(errorCodeName(index.error().code())));
      pump();
    } else if (line.tag == "D:") {
      long long count = 0;
      std::from_chars(line.text.data(), line.text.data() + line.text.size(), count);
      if (clientBytes_.size() < static_cast<std::size_t>(count)) {
        fail(line.number, "expected " + line.text + " bytes from the client, got " + std::to_string(clientBytes_.size()));
        return result_;
      }
      clientBytes_.erase(0, static_cast<std::size_t>(count));
    } else if (line.tag == "E:") {
      if (!clientBytes_.empty()) {
        fail(line.number, "expected the client to wait, but it sent \"" + visible(clientBytes_) + "\"");
        return result_;
      }
    } else if (line.tag == "F:") {
      const std::size_t count = unflushed_;
      unflushed_ = 0;
      session_->onBytesFlushed(clock_, count);
      pump();
    } else if (line.tag == "O:") {
      if (Error error = session_->noop(clock_)) result_.outcomes.push_back("noop " + std::string(errorCodeName(error.code())));
      pump();
    } else if (line.tag == "Q:") {
      session_->quit(clock_);
      pump();
    } else if (line.tag == "K:") {
      session_->cancel(clock_);
      pump();
    } else if (line.tag == "=:") {
      expected.push_back(line.text);
    } else if (line.tag == "?:") {
      mustContain.push_back(line.text);
    } else if (line.tag == "B:" || line.tag == "H:" || line.tag == "Y:" || line.tag == "U:") {
      explained.push_back(line);
    } else if (line.tag == "!:") {
      mustNotContain.push_back(line.text);
    } else {
      fail(line.number, "unknown line kind " + line.tag);
      return result_;
    }
  }
  if (!sendPacket()) return result_;

  if (!clientBytes_.empty()) {
    fail(lines_.empty() ? 0 : lines_.back().number,
         "the client sent more than the script expects: \"" + visible(clientBytes_) + "\"");
    return result_;
  }
  if (tlsRequested_ && !session_->finished()) return fail(0, "the client asked for TLS but the script never answered"), result_;
  if (!session_->finished()) return fail(0, "the session is still " + std::string(stateName(session_->state())) +
                                                " at the end of the script"), result_;
  if (!closed_ && !peerClosed_ && connectMode_ == "ok")
    return fail(0, "the session finished but never closed the connection"), result_;
  if (expected != result_.outcomes) {
    std::string want, got;
    for (auto& e : expected) want += "  " + e + "\n";
    for (auto& o : result_.outcomes) got += "  " + o + "\n";
    fail(0, "outcomes differ.\nexpected:\n" + want + "got:\n" + got);
    return result_;
  }
  for (const auto& text : mustContain)
    if (result_.transcript.find(text) == std::string::npos)
      return fail(0, "the transcript lacks \"" + text + "\""), result_;
  for (const auto& text : mustNotContain)
    if (result_.transcript.find(text) != std::string::npos)
      return fail(0, "the transcript contains \"" + text + "\""), result_;

  // What the step bar and the diagnosis would show (smtpc::Explainer).
  for (const auto& line : explained) {
    const Diagnosis diagnosis = explainer_->diagnosis();
    if (line.tag == "B:") {
      std::string bar;
      for (const auto& view : explainer_->steps())
        bar += (bar.empty() ? "" : " ") + std::string(stepName(view.step)) + ":" + std::string(stepStatusName(view.status));
      if (bar != line.text) return fail(line.number, "the step bar is \"" + bar + "\""), result_;
    } else if (line.tag == "H:") {
      if (diagnosis.headline != line.text)
        return fail(line.number, "the diagnosis headline is \"" + diagnosis.headline + "\""), result_;
    } else if (line.tag == "U:") {
      const bool as = line.text == "encrypted"    ? diagnosis.encrypted && diagnosis.warning.empty()
                      : line.text == "no warning" ? diagnosis.warning.empty()
                                                  : !diagnosis.encrypted && diagnosis.warning.find(line.text) != std::string::npos;
      if (!as)
        return fail(line.number, std::string("the diagnosis says ") + (diagnosis.encrypted ? "encrypted" : "not encrypted") +
                                     ", warning \"" + diagnosis.warning + "\""), result_;
    } else {
      bool found = false;
      for (const auto& suggestion : diagnosis.suggestions) found = found || suggestion.find(line.text) != std::string::npos;
      if (!found) {
        std::string all;
        for (const auto& suggestion : diagnosis.suggestions) all += "\n  " + suggestion;
        return fail(line.number, "no suggestion contains \"" + line.text + "\"; they are:" + all), result_;
      }
    }
  }

  // Secrets never reach the transcript in any encoding, nor the wire outside TLS unless the
  // script opted in (DESIGN.md rule 6). CRAM-MD5 answers count: they are crackable offline.
  std::vector<std::string> challenges;
  for (const Line& line : lines_)
    if (line.tag == "S:" && line.text.rfind("334 ", 0) == 0)
      if (auto decoded = base64::decode(line.text.substr(4))) challenges.push_back(*decoded);
  for (const Secret* secret : {&params_.credentials.password, &params_.credentials.oauthToken}) {
    if (secret->empty()) continue;
    const std::string leak = findSecret(result_.transcript, secret->reveal(), challenges);
    if (!leak.empty()) return fail(0, "a credential appears in the transcript as \"" + leak + "\""), result_;
    if (!params_.allowPlaintextAuth) {
      const std::string wire = findSecret(clearWire_, secret->reveal(), challenges);
      if (!wire.empty()) return fail(0, "a credential crossed the wire without TLS as \"" + wire + "\""), result_;
    }
  }
  result_.passed = true;
  return result_;
}

}  // namespace

ScriptResult runScript(std::string_view script, bool byteAtATime, bool stepThrough) {
  Player player;
  return player.run(script, byteAtATime, stepThrough);
}

}  // namespace smtpc::testing
