// Composes a message with FILE attached and streams it the way the engine sends it (MIME body
// read in 64 KiB pieces, dot-stuffed into a sink that discards), then prints JSON with the time,
// the throughput over the attachment's bytes, and the process's peak RSS.
//   mime_stream FILE
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "smtpc/body.h"
#include "smtpc/message.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mime_stream FILE\n");
    return 2;
  }
  using namespace smtpc;
  const auto start = std::chrono::steady_clock::now();
  Message m;
  m.from = *Mailbox::create("Sender", "a@example.org");
  m.to = {*Mailbox::create("", "b@example.net")};
  m.subject = "A large attachment";
  m.text = "See attached.";
  auto attachment = Attachment::fromFile(argv[1]);
  if (!attachment) {
    std::fprintf(stderr, "%s\n", attachment.error().toString().c_str());
    return 1;
  }
  m.attachments = {*attachment};
  auto body = m.compose(DateTime{1795911004, 0});
  if (!body || (*body)->prepare({}).isError()) return 1;
  DotStuffer stuffer;
  std::string chunk(64 * 1024, '\0'), wire;
  std::uint64_t sent = 0;
  for (;;) {
    auto n = (*body)->read(std::span<char>(chunk.data(), chunk.size()));
    if (!n) return 1;
    if (*n == 0) break;
    wire.clear();
    stuffer.process(std::string_view(chunk.data(), *n), wire);
    sent += wire.size();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const std::uint64_t input = (*attachment).content->size();
  std::printf("{\"seconds\": %.3f, \"input_mb_per_s\": %.1f, \"wire_bytes\": %llu, \"declared_size\": %llu, "
              "\"peak_rss_mb\": %.1f}\n",
              seconds, input / seconds / 1e6, static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(*(*body)->size()), usage.ru_maxrss / 1024.0);
  return 0;
}
