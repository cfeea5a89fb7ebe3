// A whole Session fed arbitrary server bytes (in chunks chosen by the input, with TLS "succeeding"
// whenever asked and time jumping to deadlines). It must never crash or hang, must always end
// with exactly one Finished; without TLS no byte it writes may hold the password or token in any
// encoding a mechanism gives it (tests/common/secret_leaks.h), and no transcript line of its own
// may show them.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "secret_leaks.h"
#include "smtpc/base64.h"
#include "smtpc/session.h"

namespace {

constexpr char kPassword[] = "P4ssw0rd-fuzz";
constexpr char kToken[] = "ya29.fuzz-Token";

// The challenges a server sent ("334 <base64>" lines), decoded: CRAM-MD5 answers are derived from them.
std::vector<std::string> challengesIn(const std::string& fed) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = fed.find("334 ", pos)) != std::string::npos) {
    if (pos == 0 || fed[pos - 1] == '\n') {
      std::size_t end = fed.find_first_of("\r\n", pos);
      if (auto decoded = smtpc::base64::decode(fed.substr(pos + 4, end == std::string::npos ? std::string::npos : end - pos - 4)))
        out.push_back(*decoded);
    }
    pos += 4;
  }
  return out;
}

// Finds a form of a secret in `text` that the server did not itself send (a server's line, or an
// error quoting it, may hold anything). The forms depend only on the challenges fed so far, so
// they are worked out again only when more server bytes came (not for every event).
class LeakSearch {
 public:
  bool leaks(const std::string& text, const std::string& fed) {
    if (fed.size() != fedSize_) {
      fedSize_ = fed.size();
      const auto challenges = challengesIn(fed);
      forms_.clear();
      for (const char* secret : {kPassword, kToken})
        for (std::string& form : smtpc::testing::secretForms(secret, challenges))
          if (fed.find(form) == std::string::npos) forms_.push_back(std::move(form));
    }
    for (const std::string& form : forms_)
      if (text.find(form) != std::string::npos) return true;
    return false;
  }

 private:
  std::size_t fedSize_ = static_cast<std::size_t>(-1);
  std::vector<std::string> forms_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  using namespace smtpc;
  ConnectParams params;
  params.host = "mx.fuzz";
  params.security = static_cast<SecurityMode>(data[0] % 4);
  params.quitAfter = static_cast<Phase>((data[0] >> 2) % 7);
  params.usePipelining = data[0] & 0x20;
  params.recipientPolicy = (data[0] & 0x40) ? RecipientPolicy::SendToAccepted : RecipientPolicy::AbortIfAnyRejected;
  if (data[1] & 1) {
    params.credentials.username = "fuzzuser";
    params.credentials.password = Secret(kPassword);
  }
  params.authMechanism = static_cast<AuthMechanism>((data[1] >> 1) % 6);
  if (data[1] & 0x10) {
    params.credentials.username = "fuzzuser";
    params.credentials.oauthToken = Secret(kToken);
  }
  Session session(params);
  Time now{0};
  (void)session.start(now);
  (void)session.send(now, OutgoingMessage{{"a@example.org", {"b@example.net", "c@example.net"}},
                                          std::make_shared<StringBody>(".\nline\r\n..\rend")});
  session.quit(now);

  std::string fed;  // what the server has sent so far (chunk-length bytes are not part of it)
  std::string clearWire;  // what the client sent before TLS
  LeakSearch search;
  int finished = 0;
  bool tlsUp = false;
  auto drain = [&] {
    while (auto out = session.poll()) {
      if (std::holds_alternative<ConnectAction>(*out)) session.onConnected(now, {"192.0.2.1", "192.0.2.2"});
      if (auto* w = std::get_if<WriteAction>(&*out)) {
        if (!tlsUp) {
          clearWire += w->bytes;
          if (search.leaks(clearWire, fed)) std::abort();
        }
        session.onBytesFlushed(now, w->bytes.size());
      }
      if (std::holds_alternative<StartTlsAction>(*out)) {
        tlsUp = true;
        session.onTlsEstablished(now, TlsInfo{"TLSv1.3", "X", {}, true, {}, false});
      }
      if (auto* e = std::get_if<Event>(&*out)) {
        if (std::holds_alternative<Finished>(*e)) ++finished;
        if (auto* t = std::get_if<TranscriptEntry>(e); t && search.leaks(t->text, fed)) std::abort();
      }
    }
  };
  drain();
  std::size_t i = 2;
  while (i < size && !session.finished()) {
    const std::size_t chunk = 1 + data[i] % 64;
    ++i;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + i, std::min(chunk, size - i));
    i += bytes.size();
    fed.append(bytes);
    session.receive(now, bytes);
    drain();
  }
  // The server falls silent: timers must end the session.
  for (int rounds = 0; rounds < 20 && !session.finished(); ++rounds) {
    if (auto deadline = session.nextDeadline()) now = *deadline;
    else session.onClosed(now);
    session.onTimeout(now);
    drain();
  }
  if (!session.finished() || finished != 1) std::abort();
  return 0;
}
