// The discovery flow's inside (private to core): see discovery_flow.cpp.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smtpc/discovery.h"

namespace smtpc::discovery::detail {

// How much a source is trusted, most first: a working server from an earlier slot beats one
// from a later slot. The domain's own answers over HTTPS come right after SMTPc's table;
// answers any DNS spoofer could forge (SRV, MX, plain HTTP) after them; guesses last.
enum class Slot { Provider, Autoconfig, WellKnown, Ispdb, Srv, AutoconfigHttp, MxProvider, MxAutoconfig, MxIspdb, Guess, Count };
inline constexpr int kSlots = static_cast<int>(Slot::Count);

struct Pending {
  enum class Kind { Dns, Document, Confirm, Probe };
  int id = 0;
  Kind kind = Kind::Dns;
  Slot slot = Slot::Provider;
  Time asked{0};
  std::optional<Time> deadline;
  // Dns
  RecordType dnsType = RecordType::Srv;
  // Dns (the name), Document and Confirm (whose document)
  std::string domain;
  // Document and Confirm
  DocumentKind docKind = DocumentKind::Autoconfig;
  std::string url;
  bool plainHttp = false;
  bool viaMx = false;
  // Probe
  std::size_t entry = 0;
  std::optional<TlsInfo> tls;
  std::vector<std::string> auth;
  bool startTlsOffered = false;
  bool ehlo = false;
};

struct SlotState {
  int open = 0;           // lookups of this slot still unanswered
  bool answered = false;  // every lookup of this slot answered (or never needed)
};

struct Entry {
  Slot slot = Slot::Guess;
  int order = 0;  // as named, across all slots
  enum class Probing { Queued, InFlight, Done } probing = Probing::Queued;
  Tried tried;
};

struct State {
  Settings settings;
  std::string random;
  std::size_t randomAt = 0;
  PublicSuffixList noSuffixes;
  const PublicSuffixList* suffixes = nullptr;

  bool started = false;
  Time began{0};
  std::string address, domain;
  std::deque<Output> out;
  std::vector<Step> steps;
  std::map<int, Pending> pending;
  int nextId = 1;
  int nextOrder = 0;
  std::array<SlotState, kSlots> slots{};
  std::vector<Entry> entries;
  // What each slot named, in its own order (for disagreements).
  std::array<std::vector<std::string>, kSlots> named{};
  std::array<std::string, kSlots> slotLabel{};
  // The SRV answers, kept until both queries answered so the order never depends on which came first.
  std::vector<std::pair<SrvRecord, bool>> srv;  // record, implicit TLS
  bool srvNotOffered[2] = {false, false};       // [implicit] target "."
  bool guessed = false;
  std::optional<Outcome> outcome;

  void queue(Output output);
  // The pending request `id` of this kind, removed; nullopt when there is none to answer.
  std::optional<Pending> take(int id, Pending::Kind kind);
  std::uint32_t nextRandom();
  // A line of the transcript: the answer to `p` (its time taken), or a fact known at once.
  void record(Time now, const Pending& p, Source source, std::string query, std::string result, bool found);
  void note(Time now, Source source, std::string query, std::string result, bool found);
  int open(Pending p);
  void closeSlot(Slot slot);

  void consultTable(Time now, Slot slot, const std::string& name, bool viaMx);
  void askDocument(Time now, DocumentKind kind, const std::string& forDomain, Slot slot, bool plainHttp);
  void askDns(Time now, RecordType type, const std::string& name, Slot slot);
  void addCandidates(Slot slot, std::vector<Candidate> list);

  // discovery_answers.cpp
  void onSrv(Time now, const Pending& p, const DnsAnswer& answer);
  void onMx(Time now, const Pending& p, const DnsAnswer& answer);
  void onDocument(Time now, const Pending& p, const DocumentAnswer& answer);
  void onProbeFinished(Time now, const Pending& p, const Error& error);

  // discovery_decide.cpp
  void advance(Time now);
  void startProbe(Time now, std::size_t entry);
  void makeGuesses(Time now);
  void choose(Time now, std::size_t entry);
  void giveUp(Time now);
  void finish(Time now, Outcome outcome);
};

// 0: works and offers a login; 1: works without AUTH; 2: works, but port 25; 3: does not work.
int rank(const Entry& entry);

}  // namespace smtpc::discovery::detail
