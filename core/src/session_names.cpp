// The session's tables: its states (from the state list in session.h), the security modes and the
// phases a run may stop after, with their names and defaults.
#include "smtpc/session.h"

namespace smtpc {

namespace {
struct StateEntry {
  std::string_view name;
  std::string_view description;
  Duration Timeouts::*timer;
  bool quitPossible;
  std::optional<Step> step;
};
constexpr StateEntry kStates[] = {
#define SMTPC_X(name, text, timer, quit, step) {#name, text, timer, quit, step},
    SMTPC_SESSION_STATES(SMTPC_X)
#undef SMTPC_X
};
const StateEntry& stateEntry(State state) { return kStates[static_cast<int>(state)]; }
}  // namespace

std::string_view stateName(State state) { return stateEntry(state).name; }
std::string_view stateDescription(State state) { return stateEntry(state).description; }
Duration timeoutFor(const Timeouts& timeouts, State state) {
  const auto timer = stateEntry(state).timer;
  return timer ? timeouts.*timer : Duration(0);
}
bool quitPossible(State state) { return stateEntry(state).quitPossible; }
std::optional<Step> stepOf(State state) { return stateEntry(state).step; }

namespace {
struct SecurityEntry {
  SecurityMode mode;
  std::string_view name;
  std::uint16_t port;
};
constexpr SecurityEntry kSecurity[] = {
    {SecurityMode::None, "none", 25},
    {SecurityMode::StartTlsIfOffered, "starttls-if-offered", 587},
    {SecurityMode::StartTls, "starttls", 587},
    {SecurityMode::ImplicitTls, "tls", 465},
};
struct PhaseEntry {
  Phase phase;
  std::string_view name;
};
constexpr PhaseEntry kPhases[] = {
    {Phase::None, "none"}, {Phase::Connect, "connect"}, {Phase::Tls, "tls"}, {Phase::Ehlo, "ehlo"},
    {Phase::Auth, "auth"}, {Phase::Mail, "mail"},       {Phase::Rcpt, "rcpt"},
};
}  // namespace

std::string_view securityModeName(SecurityMode mode) {
  for (const auto& entry : kSecurity)
    if (entry.mode == mode) return entry.name;
  return "?";
}
std::optional<SecurityMode> securityModeFromName(std::string_view name) {
  for (const auto& entry : kSecurity)
    if (entry.name == name) return entry.mode;
  return std::nullopt;
}
std::uint16_t defaultPort(SecurityMode mode) {
  for (const auto& entry : kSecurity)
    if (entry.mode == mode) return entry.port;
  return 25;
}
std::string_view phaseName(Phase phase) {
  for (const auto& entry : kPhases)
    if (entry.phase == phase) return entry.name;
  return "?";
}
std::optional<Phase> phaseFromName(std::string_view name) {
  for (const auto& entry : kPhases)
    if (entry.name == name) return entry.phase;
  return std::nullopt;
}

Timeouts Timeouts::uniform(Duration each) {
  Timeouts t;
  t.connect = t.tlsHandshake = t.greeting = t.command = t.mail = t.rcpt = each;
  t.dataInitiation = t.dataBlock = t.dataTermination = t.quit = each;
  return t;
}

}  // namespace smtpc
