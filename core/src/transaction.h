// The message under way (private to the engine): what Session's transaction code
// (transaction.cpp) keeps between MAIL FROM and the reply to the final dot.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtpc/body.h"
#include "smtpc/session.h"

namespace smtpc {

struct Session::Transaction {
  std::size_t index = 0;
  OutgoingMessage message;
  std::string mailLine;
  std::vector<std::string> rcptLines;
  bool pipelined = false;      // MAIL and RCPTs sent in one batch
  bool dataPipelined = false;  // DATA in that batch too
  bool aborting = false;       // DATA was accepted after a failure: it is ended empty
  bool dsnOmitted = false;     // DSN asked, not offered, sent without as chosen (MessageResult::dsnOmitted)
  std::vector<RecipientResult> recipients;
  std::size_t accepted = 0;
  Error error;
  DotStuffer stuffer;
  std::string readBuffer;
  std::uint64_t sent = 0;
  std::optional<std::uint64_t> total;
  // CHUNKING (RFC 3030, transaction_chunks.cpp): the content goes in BDAT chunks, not after DATA.
  struct Chunk {
    std::size_t number = 0;     // 1, 2, ...: as an error names it
    std::uint64_t offset = 0;   // where it starts in the content as sent
    std::uint64_t size = 0;
    bool last = false;
  };
  bool chunking = false;         // BDAT in place of DATA
  bool binary = false;           // BODY=BINARYMIME: the content goes as it is, line ends and all
  bool chunksPipelined = false;  // several chunks in flight (PIPELINING); else each waits for a 250
  std::size_t chunkSize = 0;     // every chunk but the last
  std::string wire;              // content read and converted, not yet in a chunk
  bool readEnded = false;        // the source said it has no more
  bool lastSent = false;         // BDAT ... LAST went out
  std::uint64_t wireSent = 0;    // octets sent in chunks
  std::size_t chunksSent = 0;
  std::size_t unnoted = 0;       // chunks sent and not yet summarised in the transcript
  std::size_t quietReplies = 0;  // 250s to chunks before LAST, counted instead of shown
  std::deque<Chunk> inFlight;    // sent, not yet answered, oldest first
  // The next message, when its MAIL (RCPT, DATA) went out behind this one's final dot (RFC 2920
  // §3.1): it becomes the message under way when this one's reply comes.
  std::unique_ptr<Transaction> next;

  // Session's transaction code, here so that session.h stays the public face: the checks that
  // need the server's capabilities and the command lines (an error refuses the message locally),
  // the MAIL/RCPT/DATA batch, and pipelining the queue's next message behind this one's dot.
  Error prepare(Session& session);
  void sendEnvelope(Session& session);
  void pipelineNext(Session& session);
};

}  // namespace smtpc
