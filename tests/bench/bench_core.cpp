// Core throughput: reply parsing, DATA dot-stuffing, base64, and the engine for a whole message.
// Not a pass/fail test: scripts in this folder print these figures beside the peers'.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "smtpc/base64.h"
#include "smtpc/body.h"
#include "smtpc/encoding.h"
#include "smtpc/message.h"
#include "smtpc/reply.h"
#include "smtpc/session.h"

namespace {

std::string repeat(const std::string& unit, std::size_t count) {
  std::string out;
  out.reserve(unit.size() * count);
  for (std::size_t i = 0; i < count; ++i) out += unit;
  return out;
}

// Many replies arriving in one read, as a pipelined batch does.
void parseReplies(benchmark::State& state, const std::string& unit, std::size_t repliesPerUnit) {
  const std::string wire = repeat(unit, 10000);
  smtpc::Reply reply;
  std::int64_t parsed = 0;
  for (auto _ : state) {
    smtpc::ReplyParser parser;
    parser.feed(wire);
    while (parser.next(reply) == smtpc::ReplyParser::Status::Complete) ++parsed;
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(parsed);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(wire.size()));
  state.counters["replies/unit"] = static_cast<double>(repliesPerUnit);
}

void BM_ReplySingleLine(benchmark::State& state) { parseReplies(state, "250 2.1.5 Ok\r\n", 1); }
void BM_ReplyEhlo(benchmark::State& state) {
  parseReplies(state,
               "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
               "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
               "250-DSN\r\n250 SMTPUTF8\r\n",
               1);
}

// A 4 MiB body in 64 KiB chunks, as the engine streams it.
void stuff(benchmark::State& state, const std::string& body) {
  std::string out;
  out.reserve(80 * 1024);
  for (auto _ : state) {
    smtpc::DotStuffer stuffer;
    for (std::size_t i = 0; i < body.size(); i += 65536) {
      out.clear();
      stuffer.process(std::string_view(body).substr(i, 65536), out);
      benchmark::DoNotOptimize(out.data());
    }
    out.clear();
    stuffer.finish(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}
void BM_DotStuffCrlfText(benchmark::State& state) {
  stuff(state, repeat("The quick brown fox jumps over the lazy dog; MIME lines are at most 76 chars.\r\n", 52000));
}
void BM_DotStuffBareLf(benchmark::State& state) {
  stuff(state, repeat("The quick brown fox jumps over the lazy dog; this text has Unix line ends.\n", 52000));
}
void BM_DotStuffBase64Lines(benchmark::State& state) {
  stuff(state, repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n", 55000));
}
void BM_DotStuffDots(benchmark::State& state) { stuff(state, repeat(".\r\n..\r\n.x\r\n", 400000)); }

void BM_Base64Encode(benchmark::State& state) {
  std::string input(1 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>(i * 2654435761u >> 13);
  std::string out(smtpc::base64::encodedSize(input.size()), '\0');
  for (auto _ : state) {
    smtpc::base64::encodeTo(input, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(input.size()));
}

// The builder's attachment path: base64 in 76-column lines, as MimeBody::read produces it.
void BM_MimeAttachment(benchmark::State& state) {
  std::string data(16 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 2654435761u >> 13);
  smtpc::Message m;
  m.from = *smtpc::Mailbox::create("", "a@example.org");
  m.to = {*smtpc::Mailbox::create("", "b@example.net")};
  m.attachments = {smtpc::Attachment::fromMemory("data.bin", data)};
  auto body = *m.compose(smtpc::DateTime{});
  std::string chunk(64 * 1024, '\0');
  for (auto _ : state) {
    (void)body->prepare({});
    while (*body->read(std::span<char>(chunk.data(), chunk.size())) > 0) benchmark::DoNotOptimize(chunk.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(data.size()));
}

// The engine alone for one 4 KB message on an open connection: MAIL, RCPT, DATA, content, end.
void BM_EngineMessage(benchmark::State& state) {
  using namespace smtpc;
  ConnectParams params;
  params.host = "mx";
  params.security = SecurityMode::None;
  params.ehloName = "bench";
  Session session(params);
  Time now{0};
  (void)session.start(now);
  auto drain = [&] {
    while (auto out = session.poll())
      if (auto* w = std::get_if<WriteAction>(&*out)) session.onBytesFlushed(now, w->bytes.size());
  };
  drain();
  session.onConnected(now, {"127.0.0.1", "127.0.0.1"});
  session.receive(now, "220 mx\r\n");
  drain();
  session.receive(now, "250-mx\r\n250 PIPELINING\r\n");
  drain();
  const std::string body = repeat("Subject: x\r\n\r\n" + std::string(4000, 'a') + "\r\n", 1);
  for (auto _ : state) {
    (void)session.send(now, OutgoingMessage{{"a@example.org", {"b@example.net"}}, std::make_shared<StringBody>(body)});
    drain();
    session.receive(now, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    drain();
    session.receive(now, "354 go\r\n");
    drain();
    session.receive(now, "250 2.0.0 Ok: queued\r\n");
    drain();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_ReplySingleLine);
BENCHMARK(BM_ReplyEhlo);
BENCHMARK(BM_DotStuffCrlfText);
BENCHMARK(BM_DotStuffBareLf);
BENCHMARK(BM_DotStuffBase64Lines);
BENCHMARK(BM_DotStuffDots);
BENCHMARK(BM_Base64Encode);
BENCHMARK(BM_MimeAttachment);
BENCHMARK(BM_EngineMessage);
BENCHMARK_MAIN();
