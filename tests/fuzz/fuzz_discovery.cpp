// The discovery flow (smtpc/discovery.h) answered by the input: every DNS answer, document,
// confirmation and probe event, their order and the clock are chosen by the fuzzer's bytes,
// including answers to requests already cancelled or never made. The flow must never crash or
// hang, must end with exactly one Finished once it has had its answers (or its deadlines), and
// must never probe with credentials or with certificate checks off.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "smtpc/discovery.h"

namespace {

using namespace smtpc;
using namespace smtpc::discovery;

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  bool done() const { return at >= size; }
  std::string text(std::size_t most) {
    const std::size_t n = byte() % (most + 1);
    std::string out;
    for (std::size_t i = 0; i < n && !done(); ++i) out += static_cast<char>(byte());
    return out;
  }
  std::string host() {
    static const char* names[] = {"smtp.own.test", "mail.own.test", ".", "", "smtp.other.test.", "a..b", "x",
                                  "mx1.mailhost.test", "outlook.com", "smtp.gmail.com"};
    return byte() % 4 == 0 ? text(20) : names[byte() % 10];
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  Settings settings;
  settings.address = in.byte() % 8 == 0 ? in.text(30) : "alice@own.test";
  settings.plainHttp = static_cast<PlainHttp>(in.byte() % 3);
  settings.parallelProbes = in.byte() % 4;
  settings.probe = in.byte() % 8 != 0;
  Flow flow(settings, in.text(8), nullptr);
  Time now{0};
  flow.start(now);
  std::vector<int> ids;       // every request id seen (answered or not)
  std::vector<int> confirms;  // the questions for a person: the only waits without a deadline
  bool answeredPeople = false;
  int finished = 0;
  for (int round = 0; round < 2000; ++round) {
    while (auto out = flow.poll()) {
      if (const auto* q = std::get_if<DnsQuery>(&*out)) ids.push_back(q->id);
      if (const auto* g = std::get_if<HttpGet>(&*out)) ids.push_back(g->id);
      if (const auto* c = std::get_if<ConfirmPlainHttp>(&*out)) {
        ids.push_back(c->id);
        confirms.push_back(c->id);
      }
      if (const auto* p = std::get_if<Probe>(&*out)) {
        ids.push_back(p->id);
        if (!p->params.credentials.username.empty() || !p->params.tls.verifyPeer ||
            p->params.tls.acceptInvalidCertificate)
          std::abort();
      }
      if (std::holds_alternative<discovery::Finished>(*out)) ++finished;
    }
    if (finished > 1) std::abort();
    if (flow.finished()) break;
    if (in.done()) {
      // Out of input: only time passes, and the deadlines must end it.
      auto next = flow.nextDeadline();
      if (!next) {
        // Nothing with a deadline: only a person's answer may be awaited. Once every question
        // is answered, a flow still waiting on nothing would hang.
        if (answeredPeople) std::abort();
        for (int id : confirms) flow.onConfirmed(now, id, false);
        answeredPeople = true;
        continue;
      }
      now = std::max(now, *next);
      flow.onTimeout(now);
      continue;
    }
    now += Duration(in.byte() * 20);
    const int id = ids.empty() || in.byte() % 16 == 0 ? in.byte() : ids[in.byte() % ids.size()];
    switch (in.byte() % 8) {
      case 0: {
        DnsAnswer a;
        a.status = static_cast<DnsStatus>(in.byte() % 3);
        for (int i = in.byte() % 4; i > 0; --i)
          a.srv.push_back({in.byte(), static_cast<std::uint16_t>(in.byte() * 256 + in.byte()),
                           static_cast<std::uint16_t>(in.byte() * 256 + in.byte()), in.host()});
        for (int i = in.byte() % 3; i > 0; --i) a.mx.push_back({in.byte(), in.host()});
        a.error = in.text(10);
        flow.onDnsAnswer(now, id, a);
        break;
      }
      case 1: {
        DocumentAnswer a;
        a.status = in.byte() % 2 ? 200 : in.byte() * 3;
        a.nameNotFound = in.byte() % 2;
        if (in.byte() % 2) {
          ClientConfig c;
          for (int i = in.byte() % 4; i > 0; --i)
            c.outgoing.push_back({in.host(), in.text(6), in.byte() % 2 ? "SSL" : in.text(8), in.text(20), {in.text(10)}});
          a.config = c;
        }
        a.error = in.text(10);
        flow.onDocument(now, id, a);
        break;
      }
      case 2:
        flow.onConfirmed(now, id, in.byte() % 2);
        break;
      case 3: {
        TlsInfo info;
        info.verified = in.byte() % 4 != 0;
        info.protocol = "TLSv1.3";
        flow.onProbeEvent(now, id, Event(TlsReady{info}));
        break;
      }
      case 4: {
        Reply reply;
        reply.code = 250;
        reply.lines = {"hi", in.byte() % 2 ? "AUTH PLAIN LOGIN" : "STARTTLS", in.text(12)};
        flow.onProbeEvent(now, id, Event(CapabilitiesReceived{Capabilities::fromEhloReply(reply), in.byte() % 2 == 0}));
        break;
      }
      case 5: {
        const auto code = static_cast<ErrorCode>(in.byte() % 30);
        flow.onProbeEvent(now, id,
                          Event(smtpc::Finished{code == ErrorCode::None ? Error() : Error(code, in.text(10)), Phase::Ehlo}));
        break;
      }
      case 6:
        flow.onTimeout(now);
        break;
      case 7:
        if (in.byte() % 32 == 0) flow.cancel(now);
        break;
    }
  }
  while (auto out = flow.poll())
    if (std::holds_alternative<discovery::Finished>(*out)) ++finished;
  if (finished > 1 || (flow.finished() && finished != 1)) std::abort();
  if (flow.finished()) (void)toJson(settings.address, *flow.outcome(), flow.steps());
  return 0;
}
