// CHUNKING (RFC 3030) for the message transaction: when the server offers it, the content goes
// in BDAT chunks instead of DATA, the content and the final dot. Session's code, in a file of its
// own like transaction.cpp.
//
// - Each chunk says its size first ("BDAT 65536"), so nothing in the content is changed for the
//   wire (no dot-stuffing, §2) and the server scans for no end; the final chunk says LAST. Line
//   ends are still made CRLF, unless the content is binary and goes with BODY=BINARYMIME (§3).
// - Every chunk gets a reply (§2). With PIPELINING several chunks are in flight (§4.2), as many as
//   the flow-control window (ConnectParams::bodyWindow) lets out and at most 16 unanswered, 64 KiB
//   each; without it each waits for the previous one's 250, so a chunk is then the whole window.
// - A refused chunk fails the message: no further chunk goes (§2), the replies to those in flight
//   are awaited, then RSET clears the transaction. The error names the chunk and its octets.
// - The transcript sums the chunks up ("BDAT 65536 … ×15, BDAT 1234 LAST") and counts their 250s,
//   and step mode stops before the first chunk and after the LAST one's reply, not at each chunk.
// - The next queued message is not pipelined behind LAST (it is behind DATA's dot): if a chunk
//   fails the server's transaction is RSET first.
#include <algorithm>

#include "smtpc/command.h"
#include "smtpc/reply_code.h"
#include "smtpc/session.h"
#include "transaction.h"

namespace smtpc {

namespace {
constexpr std::size_t kChunk = 64 * 1024;  // with PIPELINING; as DATA streams its content
constexpr std::size_t kSmallestChunk = 512;
// Chunks sent and not yet answered, with PIPELINING. The flush window alone does not bound them
// (the kernel's socket buffers take megabytes on a fast link), and every chunk in flight after a
// refused one earns an error reply: Postfix hangs up after 20 (smtpd_hard_error_limit), and the
// refusal itself is then lost with the connection. 16 chunks are 1 MiB in flight.
constexpr std::size_t kMaxChunksInFlight = 16;
}  // namespace

void Session::startChunks() {
  Transaction& t = *transaction_;
  t.chunksPipelined = params_.usePipelining && !stepping_ && capabilities_.supportsPipelining();
  const std::size_t window = std::max(params_.bodyWindow, kSmallestChunk);
  t.chunkSize = t.chunksPipelined ? std::min(kChunk, window) : window;
  // One chunk's worth of the source (and one octet more, to know whether more follows), or less
  // for a message known to be smaller: a short message costs no large buffer.
  const std::uint64_t bufferSize = t.total ? std::min<std::uint64_t>(t.chunkSize + 1, *t.total + 1) : t.chunkSize + 1;
  t.readBuffer.resize(static_cast<std::size_t>(bufferSize));
  t.stuffer = DotStuffer(false);
  t.wire.clear();
  note(TranscriptKind::Info,
       "The server offers CHUNKING (RFC 3030): the message goes in BDAT chunks of counted size instead of DATA, so "
       "nothing in it is dot-stuffed and no line ends it" +
           std::string(t.binary ? "; its binary content goes unchanged (BODY=BINARYMIME, RFC 3030 §3)" : "") +
           (t.chunksPipelined ? "; several chunks in flight (PIPELINING)" : "; each chunk after the previous one's 250") +
           ".");
  bodyHeld_ = stepping_;  // step mode: the content waits for the learner like a command
  setState(State::Bdat);
}

// One chunk per call, as flow control allows: its command line and its octets in one write.
void Session::streamChunks() {
  Transaction& t = *transaction_;
  if (t.lastSent || t.error.isError()) return;
  if (!t.chunksPipelined && !t.inFlight.empty()) return;  // §4.2: without PIPELINING, one at a time
  if (t.inFlight.size() >= kMaxChunksInFlight) return;     // the next goes when a reply comes
  if (unflushed_ >= params_.bodyWindow) return;           // wait for onBytesFlushed
  // More than a chunk, or the end: a full chunk goes only when more follows, so LAST comes with
  // the final octets ("BDAT 0 LAST" only for an empty content).
  while (!t.readEnded && t.wire.size() <= t.chunkSize) {
    const std::size_t want = std::min(t.readBuffer.size(), t.chunkSize + 1 - t.wire.size());
    auto read = t.message.body->read(std::span<char>(t.readBuffer.data(), want));
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
      t.readEnded = true;
      if (!t.binary) t.stuffer.finish(t.wire);
      break;
    }
    const std::string_view piece(t.readBuffer.data(), *read);
    if (t.binary) t.wire.append(piece);
    else t.stuffer.process(piece, t.wire);
    t.sent += *read;
    post(MessageProgress{t.index, t.sent, t.total});
  }
  const bool last = t.readEnded && t.wire.size() <= t.chunkSize;
  const std::size_t size = last ? t.wire.size() : t.chunkSize;
  std::string out = command::bdat(size, last);
  out.append(t.wire, 0, size);
  t.wire.erase(0, size);
  t.inFlight.push_back(Transaction::Chunk{++t.chunksSent, t.wireSent, size, last});
  t.wireSent += size;
  pending_.push_back(Pending{State::Bdat, t.chunksSent});
  if (last) {
    t.lastSent = true;
    noteChunks(true);
    note(TranscriptKind::Info, "(message content: " + std::to_string(t.wireSent) + " octets in " +
                                   std::to_string(t.chunksSent) + (t.chunksSent == 1 ? " chunk" : " chunks") +
                                   ", not shown)");
    setState(State::DataEnd);
  } else {
    ++t.unnoted;
  }
  unflushed_ += out.size();
  // Ahead of the progress and transcript events just queued: the bytes go out first.
  outputs_.emplace_front(WriteAction{std::move(out)});
}

// The transcript's line for the chunks sent since the last one: "BDAT 65536 … ×15, BDAT 1234
// LAST". Every chunk but the last has the same size, so a count says it all.
void Session::noteChunks(bool withLast) {
  Transaction& t = *transaction_;
  std::string line;
  if (t.unnoted > 0)
    line = "BDAT " + std::to_string(t.chunkSize) + (t.unnoted > 1 ? " … ×" + std::to_string(t.unnoted) : "");
  if (withLast) line += (line.empty() ? "" : ", ") + std::string("BDAT ") + std::to_string(t.inFlight.back().size) + " LAST";
  t.unnoted = 0;
  if (!line.empty()) note(TranscriptKind::Client, std::move(line));
}

// A 250 to a chunk before LAST: counted, not shown (nor paused at in step mode).
bool Session::quietChunkReply(const Reply& reply) const {
  return transaction_ && !pending_.empty() && pending_.front().answers == State::Bdat && reply.isCompletion() &&
         !transaction_->inFlight.empty() && !transaction_->inFlight.front().last;
}

// Before any other answer to a chunk is shown: the chunks it may answer, and the 250s not shown.
void Session::noteBeforeChunkReply() {
  if (!transaction_ || pending_.empty() || pending_.front().answers != State::Bdat) return;
  Transaction& t = *transaction_;
  if (t.unnoted > 0) noteChunks(false);
  if (t.quietReplies > 0)
    note(TranscriptKind::Info, "(the server answered 250 to each of the " + std::to_string(t.quietReplies) +
                                   (t.quietReplies == 1 ? " chunk" : " chunks") +
                                   " before this reply; those replies are not shown)");
  t.quietReplies = 0;
}

void Session::onBdatReply(const Reply& reply, std::size_t chunk) {
  Transaction& t = *transaction_;
  if (t.inFlight.empty() || t.inFlight.front().number != chunk) return;  // cannot happen: pending_ matches
  const Transaction::Chunk answered = t.inFlight.front();
  t.inFlight.pop_front();
  if (!reply.isCompletion() && !t.error.isError()) {
    const std::string which =
        answered.size > 0 ? "chunk " + std::to_string(answered.number) + " (bytes " + std::to_string(answered.offset) +
                                "-" + std::to_string(answered.offset + answered.size - 1) + ")"
                          : "chunk " + std::to_string(answered.number) + " (the empty LAST chunk)";
    t.error = Error(reply.code == reply_code::ExceededStorage ? ErrorCode::MessageTooLarge : ErrorCode::MessageRejected,
                    "The server refused " + which + ": " + reply.summary(), reply);
  } else if (reply.isCompletion() && !answered.last) {
    ++t.quietReplies;
  }
  if (!t.inFlight.empty()) return;  // more answers to come
  if (t.error.isError()) {
    // RFC 3030 §2: no more chunks after a refusal, and the transaction is ended with RSET.
    failMessage(t.error);
    return;
  }
  if (!answered.last) return;  // the next chunk goes (poll)
  note(TranscriptKind::Info, "Message " + std::to_string(t.index + 1) + " accepted by the server.");
  finishMessage(reply);
}

}  // namespace smtpc
