// The message under way (private to the engine): what Session's transaction code
// (transaction.cpp) keeps between MAIL FROM and the reply to the final dot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smtpc/body.h"
#include "smtpc/session.h"

namespace smtpc {

struct Session::Transaction {
  std::size_t index = 0;
  OutgoingMessage message;
  std::vector<std::string> rcptLines;
  bool pipelined = false;      // MAIL and RCPTs sent in one batch
  bool dataPipelined = false;  // DATA in that batch too
  bool aborting = false;       // DATA was accepted after a failure: it is ended empty
  std::vector<RecipientResult> recipients;
  std::size_t accepted = 0;
  Error error;
  DotStuffer stuffer;
  std::string readBuffer;
  std::uint64_t sent = 0;
  std::optional<std::uint64_t> total;
};

}  // namespace smtpc
