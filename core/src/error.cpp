#include "smtpc/error.h"

namespace smtpc {

namespace {

// The step column's words: a Step, or UnderWay (the step under way when it happened). Not every
// step has an error of its own, hence maybe_unused.
namespace step_column {
#define SMTPC_X(name, label, purpose) [[maybe_unused]] constexpr std::optional<Step> name = Step::name;
SMTPC_STEPS(SMTPC_X)
#undef SMTPC_X
constexpr std::optional<Step> UnderWay = std::nullopt;
}  // namespace step_column

struct ErrorEntry {
  std::string_view name;
  Fault fault;
  ExitClass exit;
  LegacyCode legacy;
  std::optional<Step> step;
  std::string_view explanation;
};
constexpr ErrorEntry kErrors[] = {
#define SMTPC_X(name, fault, exit, legacy, step, text) \
  {#name, Fault::fault, ExitClass::exit, LegacyCode::SMTPc_ERR_##legacy, step_column::step, text},
    SMTPC_ERROR_CODES(SMTPC_X)
#undef SMTPC_X
};

constexpr std::string_view kLegacyNames[] = {
#define SMTPC_X(name) #name,
    SMTPC_LEGACY_CODES(SMTPC_X)
#undef SMTPC_X
};

const ErrorEntry& entry(ErrorCode code) { return kErrors[static_cast<int>(code)]; }

}  // namespace

std::string_view errorCodeName(ErrorCode code) { return entry(code).name; }
std::string_view defaultExplanation(ErrorCode code) { return entry(code).explanation; }
Fault faultOf(ErrorCode code) { return entry(code).fault; }
ExitClass exitClassOf(ErrorCode code) { return entry(code).exit; }
LegacyCode legacyCodeOf(ErrorCode code) { return entry(code).legacy; }
std::optional<Step> failedStepOf(ErrorCode code) { return entry(code).step; }
std::string_view legacyCodeName(LegacyCode code) { return kLegacyNames[static_cast<int>(code)]; }

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
