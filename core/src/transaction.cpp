// The message transaction of the SMTP engine (RFC 5321 §3.3, §4.1.1.2–§4.1.1.5): MAIL FROM, RCPT TO,
// DATA, the content and the final dot (or BDAT chunks: transaction_chunks.cpp), and RSET after a refusal; with PIPELINING (RFC 2920) for
// the envelope, SIZE (RFC 1870), 8BITMIME (RFC 6152) and SMTPUTF8 (RFC 6531) checked before MAIL.
//
// Same engine, same rules as session.cpp (this is Session's code, in a file of its own): a
// message-level refusal (sender, recipients, size, content) fails that message, RSETs, and the
// session goes on with the next one; a reply is handled by the state it answers.
#include <algorithm>

#include "smtpc/advice.h"
#include "smtpc/command.h"
#include "smtpc/reply_code.h"
#include "smtpc/session.h"
#include "transaction.h"

namespace smtpc {

namespace {
constexpr std::size_t kBodyChunk = 64 * 1024;
}  // namespace

void Session::rejectLocally(Error error) {
  note(TranscriptKind::Error, "Message " + std::to_string(transaction_->index + 1) + " not sent: " + error.explanation());
  record(error);
  post(MessageResult{transaction_->index, std::move(error), {}, std::nullopt, false});
  transaction_.reset();
  enterReady();
}

void Session::beginMessage() {
  transaction_ = std::make_unique<Transaction>();
  Transaction& t = *transaction_;
  t.index = queue_.front().first;
  t.message = std::move(queue_.front().second);
  queue_.pop_front();
  if (Error refused = t.prepare(*this); refused.isError()) {
    rejectLocally(std::move(refused));
    return;
  }
  t.sendEnvelope(*this);
  setState(State::Mail);
}

Error Session::Transaction::prepare(Session& session) {
  Transaction& t = *this;
  const Capabilities& capabilities = session.capabilities_;
  const ConnectParams& params = session.params_;
  const Envelope& envelope = t.message.envelope;
  BodySource& body = *t.message.body;

  if (Error prepared = body.prepare(capabilities); prepared.isError())
    return Error(ErrorCode::BodyReadFailed, prepared.explanation());
  t.total = body.size();
  const bool eightBit = body.isEightBit();
  // RFC 3030: BDAT when the server offers CHUNKING (unless turned off); a binary content goes as
  // it is only when it offers BINARYMIME too (§3), otherwise its line ends are made CRLF as for DATA.
  t.chunking = params.useChunking && capabilities.supportsChunking();
  t.binary = t.chunking && body.isBinary() && capabilities.supportsBinaryMime();
  bool utf8 = false;
  if (!envelope.from.empty()) utf8 = checkAddress(envelope.from)->needsSmtpUtf8;
  for (const auto& recipient : envelope.recipients) utf8 = utf8 || checkAddress(recipient)->needsSmtpUtf8;

  if (t.total && capabilities.maxSize() && *t.total > capabilities.maxSize())
    return Error(ErrorCode::MessageTooLarge, "The message is " + std::to_string(*t.total) +
                                                 " octets; the server accepts at most " +
                                                 std::to_string(capabilities.maxSize()) + " (its SIZE).");
  if (eightBit && !t.binary && !capabilities.supports8BitMime()) return Error(ErrorCode::EightBitNotSupported);
  if (utf8 && !capabilities.supportsSmtpUtf8()) return Error(ErrorCode::SmtpUtf8NotSupported);
  // RFC 3461: the DSN parameters only to a server that offers DSN; another would refuse them
  // (555) or, worse, ignore what the sender believes was asked.
  const DsnRequest& dsn = envelope.dsn;
  bool useDsn = false;
  t.dsnOmitted = false;
  if (dsn.requested()) {
    if (Error bad = dsn.check(); bad.isError()) return bad;
    if (capabilities.supportsDsn()) useDsn = true;
    else if (dsn.ifNotOffered == IfDsnNotOffered::SendWithout) t.dsnOmitted = true;
    else
      return Error(ErrorCode::DsnNotSupported, "The server does not offer DSN (RFC 3461): it cannot send delivery "
                                               "reports. " + std::string(advice::kSendWithoutDsn));
  }

  command::MailParameters parameters;
  if (capabilities.supportsSize() && t.total) parameters.size = t.total;
  parameters.body8BitMime = eightBit && !t.binary;
  parameters.bodyBinaryMime = t.binary;
  parameters.smtpUtf8 = utf8;
  if (useDsn) {
    parameters.dsnReturn = dsn.ret;
    parameters.dsnEnvelopeId = dsn.envelopeId;
  }
  auto mail = command::mailFrom(envelope.from, parameters);
  if (!mail) return mail.error();
  t.mailLine = std::move(*mail);
  t.rcptLines.clear();
  for (const auto& recipient : envelope.recipients) {
    command::RcptParameters dsnParameters;
    if (useDsn) {
      dsnParameters.notify = dsn.notifyFor(recipient);
      auto orcpt = dsn.originalRecipientFor(recipient);
      if (!orcpt) return orcpt.error();
      dsnParameters.originalRecipient = std::move(*orcpt);
    }
    auto rcpt = command::rcptTo(recipient, dsnParameters);
    if (!rcpt) return rcpt.error();
    t.rcptLines.push_back(std::move(*rcpt));
  }

  // RFC 2920 §3.1: MAIL, RCPT and DATA may go in one batch. With "abort if any is refused" and
  // several recipients, DATA waits for every RCPT reply: after a 354 the only way out is to
  // deliver or drop the line. With one recipient no partial acceptance can happen (if it is
  // refused, DATA is refused too, or ended empty and delivered to nobody), so DATA joins.
  // Step mode never pipelines: each command is watched on its own.
  t.pipelined = params.usePipelining && !session.stepping_ && capabilities.supportsPipelining() &&
                params.quitAfter != Phase::Mail;
  // BDAT never joins the batch: its chunk would be read and thrown away if every RCPT failed.
  t.dataPipelined = t.pipelined && !t.chunking && params.quitAfter != Phase::Rcpt &&
                    (params.recipientPolicy == RecipientPolicy::SendToAccepted || t.rcptLines.size() == 1);
  return {};
}

void Session::Transaction::sendEnvelope(Session& session) {
  const Transaction& t = *this;
  const Envelope& envelope = t.message.envelope;
  session.note(TranscriptKind::Info, "Message " + std::to_string(t.index + 1) + ": from <" + envelope.from +
                                         "> to " + std::to_string(envelope.recipients.size()) + " recipient(s)" +
                                         (t.pipelined ? ", commands pipelined (RFC 2920)" : ""));
  if (t.dsnOmitted)
    session.note(TranscriptKind::Info, "The server does not offer DSN (RFC 3461): message " +
                                           std::to_string(t.index + 1) +
                                           " goes without its delivery-report requests, as chosen; no report will come.");
  session.sendCommand(t.mailLine, State::Mail);
  if (t.pipelined)
    for (std::size_t i = 0; i < t.rcptLines.size(); ++i) session.sendCommand(t.rcptLines[i], State::Rcpt, i);
  if (t.dataPipelined) session.sendCommand(command::data(), State::Data);
}

void Session::onMailReply(const Reply& reply) {
  Transaction& t = *transaction_;
  if (!reply.isCompletion()) {
    ErrorCode code = ErrorCode::SenderRejected;
    std::string why = "The server refused the sender <" + t.message.envelope.from + ">: " + reply.text();
    if (reply.code == reply_code::ExceededStorage) {
      code = ErrorCode::MessageTooLarge;
      why = "The server refused the message's declared size: " + reply.text();
    } else if (reply.code == reply_code::AuthRequired) {
      // Before TLS, RFC 3207 §4's 530 asks for STARTTLS; otherwise RFC 4954 §6's asks for a login.
      why = tlsActive_ ? "The server requires a login before it accepts mail (530): give a user name and password."
                               : "The server requires a login before it accepts mail (530), and a login needs the "
                                 "connection encrypted first (RFC 3207 §4): use " + std::string(advice::kEncryptedModes) +
                                 " with a user name and password.";
    }
    t.error = Error(code, why, reply);
    if (!t.pipelined) {
      failMessage(t.error);
      return;
    }
    setState(State::Rcpt);  // the batch's RCPT (and DATA) replies are still to come
    return;
  }
  if (stopIf(Phase::Mail)) return;
  if (!t.pipelined) sendCommand(t.rcptLines[0], State::Rcpt, 0);
  setState(State::Rcpt);
}

void Session::onRcptReply(const Reply& reply, std::size_t index) {
  Transaction& t = *transaction_;
  const std::string& address = t.message.envelope.recipients[index];
  const bool accepted = reply.isCompletion() && !t.error.isError();
  RecipientResult result{t.index, address, reply, accepted};
  t.recipients.push_back(result);
  post(std::move(result));
  if (accepted) ++t.accepted;
  else if (!t.error.isError()) note(TranscriptKind::Error, "Recipient <" + address + "> refused: " + reply.text());

  if (index + 1 < t.rcptLines.size()) {
    if (!t.pipelined) sendCommand(t.rcptLines[index + 1], State::Rcpt, index + 1);
    return;
  }
  afterRecipients();
}

void Session::afterRecipients() {
  Transaction& t = *transaction_;
  const std::size_t total = t.rcptLines.size();
  if (!t.error.isError()) {
    const RecipientResult* firstRefused = nullptr;
    for (const auto& r : t.recipients)
      if (!r.accepted && !firstRefused) firstRefused = &r;
    if (t.accepted == 0) {
      t.error = Error(ErrorCode::RecipientsRejected,
                      total == 1 ? "The server refused the recipient: " + firstRefused->reply.text()
                                 : "The server refused all " + std::to_string(total) + " recipients.",
                      firstRefused->reply);
    } else if (t.accepted < total && params_.recipientPolicy == RecipientPolicy::AbortIfAnyRejected) {
      t.error = Error(ErrorCode::RecipientsRejected,
                      "The server refused " + std::to_string(total - t.accepted) + " of " + std::to_string(total) +
                          " recipients, so nothing was sent (first: <" + firstRefused->address + "> " +
                          firstRefused->reply.summary() + "). Remove them, or choose to send to those accepted.",
                      firstRefused->reply);
    }
  }
  if (t.dataPipelined) {
    setState(State::Data);  // DATA's reply is next in the batch
    return;
  }
  if (t.error.isError()) {
    failMessage(t.error);
    return;
  }
  if (stopIf(Phase::Rcpt)) return;
  if (t.accepted < total)
    note(TranscriptKind::Info, "Sending to the " + std::to_string(t.accepted) + " accepted recipient(s) only.");
  if (t.chunking) {
    startChunks();
    return;
  }
  sendCommand(command::data(), State::Data);
  setState(State::Data);
}

void Session::onDataReply(const Reply& reply) {
  Transaction& t = *transaction_;
  if (reply.code == reply_code::StartMailInput) {
    if (t.error.isError()) {
      // Only reachable in a pipelined batch in which no recipient was accepted: end the data at
      // once; with no recipient, nothing is delivered (RFC 2920 §3.1).
      note(TranscriptKind::Info, "The server started DATA although no recipient was accepted; ending it empty.");
      t.aborting = true;
      writeBuffer_ += ".\r\n";
      note(TranscriptKind::Client, ".");
      pending_.push_back(Pending{State::DataEnd, 0});
      setState(State::DataEnd);
      return;
    }
    note(TranscriptKind::Info, "The server waits for the message (354); it ends with a line holding a single \".\".");
    // A chunk, or less for a message known to be smaller (its size and one more octet, so that
    // the read that finds its end fits): a short message costs no 64 KB buffer.
    const std::uint64_t bufferSize = t.total ? std::min<std::uint64_t>(kBodyChunk, *t.total + 1) : kBodyChunk;
    t.readBuffer.resize(static_cast<std::size_t>(bufferSize));
    t.stuffer.reset();
    bodyHeld_ = stepping_;  // step mode: the content waits for the learner like a command
    setState(State::Body);
    return;
  }
  if (!t.error.isError())
    t.error = Error(reply.code == reply_code::ExceededStorage ? ErrorCode::MessageTooLarge : ErrorCode::ServerReply,
                    "The server refused DATA: " + reply.text(), reply);
  failMessage(t.error);
}

void Session::streamBody() {
  Transaction& t = *transaction_;
  if (unflushed_ >= params_.bodyWindow) return;  // wait for onBytesFlushed
  // One write per chunk, and the final dot in the same write as the content's last part: the
  // source is read until the buffer is full or it ends (a short read is not yet the end).
  std::string wire;
  std::size_t filled = 0;
  bool ended = false;
  while (filled < t.readBuffer.size()) {
    auto read = t.message.body->read(std::span<char>(t.readBuffer.data() + filled, t.readBuffer.size() - filled));
    if (!read) {
      const Error error(ErrorCode::BodyReadFailed,
                        "Reading the message failed while it was being sent: " + read.error().explanation() +
                            " The connection is closed so that the server drops the part sent.");
      t.error = error;
      record(error);
      note(TranscriptKind::Error, error.explanation());
      closeNow(true);
      return;
    }
    if (*read == 0) {
      ended = true;
      break;
    }
    filled += *read;
  }
  if (filled > 0) {
    wire.reserve(filled + filled / 32 + 16);
    t.stuffer.process(std::string_view(t.readBuffer.data(), filled), wire);
    t.sent += filled;
    post(MessageProgress{t.index, t.sent, t.total});
  }
  if (ended) {
    t.stuffer.finish(wire);
    note(TranscriptKind::Info, "(message content: " + std::to_string(t.sent) + " octets, not shown)");
    note(TranscriptKind::Client, ".");
    pending_.push_back(Pending{State::DataEnd, 0});
    setState(State::DataEnd);
    if (t.pipelined && !queue_.empty()) t.pipelineNext(*this);
  }
  unflushed_ += wire.size();
  // Ahead of the progress and transcript events just queued: the bytes go out first.
  outputs_.emplace_front(WriteAction{std::move(wire)});
}

// RFC 2920 §3.1: "the RSET/MAIL FROM sequence necessary to initiate a new message transaction can
// be placed in the same group as the final transfer of the headers and body of the previous
// message". The next message's batch follows this one's final dot in the same write, so a run of
// messages costs one round trip each instead of two; its replies come after the dot's, and
// finishMessage hands over to it. A message that would be refused locally (size, 8BITMIME, ...)
// is left queued: its refusal is reported in its turn, after this message's result.
void Session::Transaction::pipelineNext(Session& session) {
  auto& queue = session.queue_;
  auto candidate = std::make_unique<Transaction>();
  candidate->index = queue.front().first;
  candidate->message = std::move(queue.front().second);
  if (candidate->prepare(session).isError()) {
    queue.front().second = std::move(candidate->message);
    return;
  }
  queue.pop_front();
  candidate->sendEnvelope(session);
  next = std::move(candidate);
}

void Session::onDataEndReply(const Reply& reply) {
  Transaction& t = *transaction_;
  if (t.aborting) {
    finishMessage(reply);
    return;
  }
  if (reply.isCompletion()) {
    note(TranscriptKind::Info, "Message " + std::to_string(t.index + 1) + " accepted by the server.");
    finishMessage(reply);
    return;
  }
  t.error = Error(reply.code == reply_code::ExceededStorage ? ErrorCode::MessageTooLarge : ErrorCode::MessageRejected,
                  "The server refused the message after receiving it: " + reply.text(), reply);
  finishMessage(reply);
}

void Session::failMessage(Error error) {
  Transaction& t = *transaction_;
  if (!t.error.isError()) t.error = std::move(error);
  note(TranscriptKind::Error, "Message " + std::to_string(t.index + 1) + " not sent: " + t.error.explanation());
  record(t.error);
  post(MessageResult{t.index, t.error, t.recipients, t.error.reply(), t.dsnOmitted});
  transaction_.reset();
  // The transaction may be open on the server (MAIL accepted): RSET ends it (RFC 5321 §4.1.1.5).
  sendCommand(command::rset(), State::Rset);
  setState(State::Rset);
}

void Session::finishMessage(std::optional<Reply> reply) {
  Transaction& t = *transaction_;
  if (t.error.isError()) {
    note(TranscriptKind::Error, "Message " + std::to_string(t.index + 1) + " not delivered: " + t.error.explanation());
    record(t.error);
  }
  post(MessageResult{t.index, t.error, t.recipients, std::move(reply), t.dsnOmitted});
  std::unique_ptr<Transaction> next = std::move(t.next);
  transaction_ = std::move(next);
  if (transaction_) {
    setState(State::Mail);  // its batch went out behind the dot; its replies are next
    return;
  }
  enterReady();
}

void Session::onRsetReply(const Reply& reply) {
  if (!reply.isCompletion()) {
    // The server's transaction state is unknown now; stop. The message's own error stays first.
    fail(Error(ErrorCode::ServerReply, "The server refused RSET: " + reply.text(), reply));
    return;
  }
  enterReady();
}

void Session::abandonMessage(const Error& error) {
  Transaction& t = *transaction_;
  if (!t.error.isError()) t.error = error;
  post(MessageResult{t.index, t.error, t.recipients, t.error.reply(), t.dsnOmitted});
  // A message whose batch followed the dot is reported with the queue (failRemainingMessages).
  std::unique_ptr<Transaction> next = std::move(t.next);
  transaction_ = std::move(next);
}

void Session::failRemainingMessages() {
  const Error& cause = firstError_;
  auto notSent = [&](std::size_t index, std::vector<RecipientResult> recipients) {
    const ErrorCode code = cause.isError() ? cause.code() : ErrorCode::Cancelled;
    std::string why = cause.isError() ? "Not sent: " + cause.explanation()
                                      : "Not sent: the session stopped after " + std::string(phaseName(stoppedAfter_)) +
                                            ", as asked.";
    post(MessageResult{index, Error(code, why), std::move(recipients), std::nullopt, false});
  };
  if (transaction_) {
    notSent(transaction_->index, transaction_->recipients);
    if (transaction_->next) notSent(transaction_->next->index, {});
    transaction_.reset();
  }
  while (!queue_.empty()) {
    notSent(queue_.front().first, {});
    queue_.pop_front();
  }
}

}  // namespace smtpc
