// The µC/SMTPc C API (smtp-c.h) with random field contents: SMTPc_SetMbox, SMTPc_SetMsg and
// SMTPc_SendMsg, over a real loopback socket, to a scripted SMTP server running in a thread of
// this process.
//
// Why a socket and not core's ScriptedTransport: the C layer reaches a server only through its
// POSIX transport, so fuzzing what it does with the caller's structs means going through it. What is checked:
//  - each SMTPc_MBOX is its own heap block of exactly sizeof(SMTPc_MBOX) and the input may fill
//    NameDisp or Addr to the last byte with no NUL: AddressSanitizer reports any read past it;
//  - SMTPc_SetMbox stores exactly what it accepted;
//  - when a message is accepted, the server saw MAIL FROM and RCPT TO with exactly the fields'
//    text up to their first NUL or their end, and each command was one line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "smtpc/smtp-c.h"

namespace {

// What the server saw in the last transaction it accepted (DATA ended with 250).
struct Accepted {
  std::string mailFrom;
  std::vector<std::string> rcptTo;
  int count = 0;
};

// A single-connection-at-a-time SMTP server that accepts everything well-formed.
class ScriptedServer {
 public:
  ScriptedServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 4) != 0 || getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      std::abort();
    port_ = ntohs(address.sin_port);
    std::thread([this] { serve(); }).detach();  // lives as long as the process
  }
  std::uint16_t port() const { return port_; }
  Accepted accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  static void send(int fd, const std::string& text) {
    for (std::size_t sent = 0; sent < text.size();) {
      const ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  void serve() {
    for (;;) {
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      converse(fd);
      close(fd);
    }
  }

  void converse(int fd) {
    send(fd, "220 fuzz.example ESMTP\r\n");
    std::string buffer;
    bool inData = false;
    Accepted current;
    char chunk[65536];
    for (;;) {
      std::size_t end;
      while ((end = buffer.find("\r\n")) == std::string::npos) {
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      const std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (inData) {
        if (line == ".") {
          inData = false;
          {
            std::lock_guard lock(mutex_);
            current.count = accepted_.count + 1;
            accepted_ = current;
          }
          send(fd, "250 2.0.0 queued\r\n");
        }
        continue;
      }
      // A command line holding a bare CR or LF, or a NUL, would be an injection.
      if (line.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) std::abort();
      std::string verb = line.substr(0, line.find_first_of(" :"));
      std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::toupper(c); });
      if (verb == "EHLO") {
        send(fd, "250-fuzz.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n");
      } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
        if (verb == "RSET") current = {};
        send(fd, "250 OK\r\n");
      } else if (verb == "MAIL") {
        current = {};
        current.mailFrom = line;
        send(fd, "250 2.1.0 OK\r\n");
      } else if (verb == "RCPT") {
        current.rcptTo.push_back(line);
        send(fd, "250 2.1.5 OK\r\n");
      } else if (verb == "DATA") {
        inData = true;
        send(fd, "354 go ahead\r\n");
      } else if (verb == "QUIT") {
        send(fd, "221 bye\r\n");
        return;
      } else {
        send(fd, "500 5.5.2 not understood\r\n");
      }
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  Accepted accepted_;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() {
    if (!size_) return 0;
    --size_;
    return *data_++;
  }
  std::string bytes(std::size_t count) {
    count = std::min(count, size_);
    std::string out(reinterpret_cast<const char*>(data_), count);
    data_ += count;
    size_ -= count;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// The text of a fixed-size field as the C API must read it.
template <std::size_t N>
std::string bounded(const char (&field)[N]) {
  return std::string(field, strnlen(field, N));
}

// Fills a fixed-size field: a length byte of 0xF0 or more fills it to the last byte, no NUL.
template <std::size_t N>
void fill(char (&field)[N], Input& in, const std::string& suffix = {}) {
  const std::uint8_t length = in.byte();
  std::memset(field, 0, N);
  if (length >= 0xF0) {
    std::string text = in.bytes(N);
    text.resize(N, 'x');
    std::memcpy(field, text.data(), N);
  } else {
    const std::string text = (in.bytes(length % 72) + suffix).substr(0, N - 1);
    std::memcpy(field, text.data(), text.size());
  }
}

std::unique_ptr<SMTPc_MBOX> makeMailbox(Input& in) {
  auto mbox = std::make_unique<SMTPc_MBOX>();
  const std::uint8_t mode = in.byte() % 4;
  if (mode == 3) {  // through SMTPc_SetMbox, with C strings
    const std::string name = in.bytes(in.byte() % 80);
    const std::string address = in.bytes(in.byte() % 40) + "@example.org";
    std::memset(mbox.get(), 0x5a, sizeof *mbox);  // leftovers a NUL must hide
    SMTPc_ERR err = SMTPc_ERR_NONE;
    SMTPc_SetMbox(mbox.get(), name.c_str(), address.c_str(), &err);
    if (err == SMTPc_ERR_NONE &&
        (bounded(mbox->NameDisp) != name.c_str() || bounded(mbox->Addr) != address.c_str()))
      std::abort();
    return mbox;
  }
  fill(mbox->NameDisp, in);
  // Modes 1 and 2 give addresses that are often valid, so messages reach the server.
  fill(mbox->Addr, in, mode == 0 ? std::string() : std::string("@example.org"));
  return mbox;
}

bool startsWithPath(const std::string& line, const std::string& verb, const std::string& address) {
  const std::string expected = verb + "<" + address + ">";
  return line.compare(0, expected.size(), expected) == 0 &&
         (line.size() == expected.size() || line[expected.size()] == ' ');
}

ScriptedServer& server() {
  static ScriptedServer instance;
  return instance;
}

int handle = -1;

void disconnect() {
  if (handle < 0) return;
  SMTPc_ERR err;
  SMTPc_Disconnect(handle, &err);
  handle = -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  SMTPc_ERR err = SMTPc_ERR_NONE;
  SMTPc_SetMbox(nullptr, "x", "x@example.org", &err);
  if (err != SMTPc_ERR_NULL_PTR) std::abort();
  SMTPc_SetMsg(nullptr, &err);
  if (err != SMTPc_ERR_NULL_PTR) std::abort();

  std::vector<std::unique_ptr<SMTPc_MBOX>> mailboxes;
  auto from = makeMailbox(in);
  const std::uint8_t counts = in.byte();
  std::vector<SMTPc_MBOX*> to, cc, bcc;
  for (int i = 0; i < 1 + (counts & 3); ++i) to.push_back(mailboxes.emplace_back(makeMailbox(in)).get());
  for (int i = 0; i < ((counts >> 2) & 1); ++i) cc.push_back(mailboxes.emplace_back(makeMailbox(in)).get());
  for (int i = 0; i < ((counts >> 3) & 1); ++i) bcc.push_back(mailboxes.emplace_back(makeMailbox(in)).get());
  std::unique_ptr<SMTPc_MBOX> replyTo = counts & 0x10 ? makeMailbox(in) : nullptr;
  std::unique_ptr<SMTPc_MBOX> sender = counts & 0x20 ? makeMailbox(in) : nullptr;
  const std::string subject = in.bytes(in.byte() % 64);
  const std::string html = counts & 0x40 ? in.bytes(in.byte()) : std::string();
  const std::string body = in.bytes(in.byte() * 4);

  auto msg = std::make_unique<SMTPc_MSG>();
  std::memset(msg.get(), 0x5a, sizeof *msg);
  SMTPc_SetMsg(msg.get(), &err);
  if (err != SMTPc_ERR_NONE || msg->From || msg->ToCount || msg->MsgID[0]) std::abort();
  msg->From = from.get();
  msg->ToArray = to.data();
  msg->ToCount = to.size();
  msg->CCArray = cc.data();
  msg->CCCount = cc.size();
  msg->BCCArray = bcc.data();
  msg->BCCCount = bcc.size();
  msg->ReplyTo = replyTo.get();
  msg->Sender = sender.get();
  msg->Subject = subject.c_str();
  msg->ContentBodyMsg = body.data();
  msg->ContentBodyMsgLen = body.size();
  if (counts & 0x40) msg->ContentBodyHtml = html.c_str();

  if (handle < 0) {
    handle = SMTPc_Connect("127.0.0.1", server().port(), nullptr, nullptr, nullptr, &err);
    if (handle < 0) std::abort();  // the scripted server always answers
    static const bool registered = std::atexit(disconnect) == 0;  // before the QCoreApplication goes
    (void)registered;
  }
  const int before = server().accepted().count;
  SMTPc_SendMsg(handle, msg.get(), &err);
  if (err != SMTPc_ERR_NONE) {
    // The message may have been refused before the session saw it, or the session may have
    // ended: start afresh rather than guess which.
    disconnect();
    return 0;
  }
  const Accepted seen = server().accepted();
  if (seen.count != before + 1) std::abort();
  if (!std::strchr(msg->MsgID, '@') || strnlen(msg->MsgID, sizeof msg->MsgID) == sizeof msg->MsgID) std::abort();
  if (!startsWithPath(seen.mailFrom, "MAIL FROM:", bounded(from->Addr))) std::abort();
  std::set<std::string> expected;
  for (const auto* list : {&to, &cc, &bcc})
    for (const SMTPc_MBOX* m : *list) expected.insert(bounded(m->Addr));
  std::set<std::string> matched;
  for (const std::string& line : seen.rcptTo) {
    bool found = false;
    for (const std::string& address : expected)
      if (startsWithPath(line, "RCPT TO:", address)) {
        matched.insert(address);
        found = true;
      }
    if (!found) std::abort();
  }
  if (matched != expected) std::abort();
  return 0;
}
