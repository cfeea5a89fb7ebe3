#include "smtpc/error.h"

namespace smtpc {

namespace {
struct ErrorEntry {
  std::string_view name;
  Fault fault;
  std::string_view explanation;
};
constexpr ErrorEntry kErrors[] = {
#define SMTPC_X(name, fault, text) {#name, Fault::fault, text},
    SMTPC_ERROR_CODES(SMTPC_X)
#undef SMTPC_X
};
}  // namespace

std::string_view errorCodeName(ErrorCode code) { return kErrors[static_cast<int>(code)].name; }
std::string_view defaultExplanation(ErrorCode code) { return kErrors[static_cast<int>(code)].explanation; }
Fault faultOf(ErrorCode code) { return kErrors[static_cast<int>(code)].fault; }

std::string_view faultName(Fault fault) {
  switch (fault) {
    case Fault::Local: return "local";
    case Fault::Remote: return "server";
    case Fault::Network: return "network";
  }
  return "?";
}

bool Error::isTransient() const {
  if (reply_) return reply_->isTransient();
  return code_ == ErrorCode::Timeout || code_ == ErrorCode::ConnectionLost || code_ == ErrorCode::ServiceNotAvailable;
}

std::string Error::explanation() const {
  return explanation_.empty() ? std::string(defaultExplanation(code_)) : explanation_;
}

std::string Error::toString() const {
  std::string result(errorCodeName(code_));
  result += ": ";
  result += explanation();
  if (reply_) result += " [server: " + reply_->summary() + "]";
  return result;
}

}  // namespace smtpc
