// The µC/SMTPc C API over the POSIX transport (posix::BlockingClient) and the MIME builder.
//
// Threads: the handle table is shared and guarded by one mutex, held only to look a handle up,
// add or remove it, never during I/O. Each connection has a mutex of its own, held for the whole
// of a call on it: a second thread calling on the same handle waits for the first. A connection
// runs its I/O in whatever thread holds that mutex (its poll loop has no thread of its own), so
// a handle can be opened, used and closed by different threads.
#include "smtpc/smtp-c.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

#include "blocking_client.h"
#include "smtpc/message.h"

using namespace smtpc;

namespace {

// A plain array, not a std::string: thread_local objects with destructors are destroyed before
// atexit handlers run, and a C program may well call SMTPc_Disconnect from one (fuzz_c_api did,
// and ASan saw the write into the freed string). Long explanations are cut at the end.
constexpr std::size_t kExplanationSize = 2048;
thread_local char lastExplanation[kExplanationSize];

void setExplanation(std::string_view text) {
  const std::size_t length = std::min(text.size(), kExplanationSize - 1);
  std::memcpy(lastExplanation, text.data(), length);
  lastExplanation[length] = '\0';
}
std::atomic<bool> allowPlaintext = false;
std::atomic<bool> useChunking = true;  // BDAT when the server offers CHUNKING (RFC 3030)
std::atomic<unsigned long> timeoutMs = 0;  // 0: RFC 5321's limits

struct Connection {
  std::mutex mutex;  // held for a whole call: one call at a time on a handle
  std::unique_ptr<posix::BlockingClient> client;  // guarded by mutex; null once disconnected
};
std::mutex connectionsMutex;
std::map<int, std::shared_ptr<Connection>> connections;  // guarded by connectionsMutex
int nextHandle = 1;                                      // guarded by connectionsMutex

// The connection behind a handle, or null. The table's lock is released before the caller takes
// the connection's: a thread never waits for a busy handle while holding the table.
std::shared_ptr<Connection> find(int handle) {
  std::lock_guard lock(connectionsMutex);
  const auto it = connections.find(handle);
  return it == connections.end() ? nullptr : it->second;
}

// A fixed-size field as text: up to its first NUL and never past its end, since a caller may fill
// it to the last byte (strncpy does) and the next field or the end of the object follows.
template <std::size_t N>
std::string boundedField(const char (&field)[N]) {
  return std::string(field, strnlen(field, N));
}

// The C code of each of core's legacy codes: built from core's list, so a name that smtp-c.h
// lacks does not compile, and an error's code is a column of core's error list (error.h).
constexpr SMTPc_ERR kLegacyCodes[] = {
#define SMTPC_X(name) name,
    SMTPC_LEGACY_CODES(SMTPC_X)
#undef SMTPC_X
};

SMTPc_ERR toLegacy(ErrorCode code) { return kLegacyCodes[static_cast<int>(legacyCodeOf(code))]; }

void report(SMTPc_ERR* err, const Error& error) {
  setExplanation(error ? error.toString() : std::string());
  if (err) *err = toLegacy(error.code());
}

void report(SMTPc_ERR* err, SMTPc_ERR code, std::string explanation) {
  setExplanation(explanation);
  if (err) *err = code;
}

void reportNoHandle(SMTPc_ERR* err) { report(err, SMTPc_ERR_INVALID_HANDLE, "No open connection has this handle."); }

// A whole file, with plain C++ I/O (the C API has no Qt to read it with).
std::optional<std::string> readWholeFile(const char* path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return std::move(content).str();
}

Result<ConnectParams> makeParams(const char* host, unsigned short port, const char* username, const char* password,
                                 const SMTPc_SECURE_CFG* secure) {
  if (!host) return Error(ErrorCode::NullArgument, "SMTPc_Connect: the host is NULL.");
  ConnectParams params;
  params.host = host;
  params.security = !secure ? SecurityMode::StartTlsIfOffered
                    : secure->Mode == SMTPc_SECURE_STARTTLS ? SecurityMode::StartTls
                                                            : SecurityMode::ImplicitTls;
  params.port = port ? port : (!secure ? 25 : defaultPort(params.security));
  if (username && *username) {
    params.credentials.username = username;
    params.credentials.password = Secret(password ? password : "");
  }
  params.allowPlaintextAuth = allowPlaintext.load();
  params.useChunking = useChunking.load();
  if (const unsigned long ms = std::min<unsigned long>(timeoutMs.load(), INT_MAX))
    params.timeouts = Timeouts::uniform(Duration(static_cast<std::int64_t>(ms)));
  if (secure) {
    if (secure->CommonName) params.tls.verifyName = secure->CommonName;
    if (secure->CaFile) {
      auto pem = readWholeFile(secure->CaFile);
      if (!pem)
        return Error(ErrorCode::InvalidArgument, std::string("The CA file ") + secure->CaFile + " cannot be read.");
      params.tls.caCertificatesPem = std::move(*pem);
    }
    if (secure->TrustCallback) {
      const SMTPc_TRUST_CALLBACK callback = secure->TrustCallback;
      void* context = secure->TrustContext;
      params.tls.trustCallback = [callback, context](const TlsInfo& info) {
        const std::string subject = info.chain.empty() ? std::string() : info.chain.front().subject;
        const std::string problem = info.verificationErrors.empty() ? std::string() : info.verificationErrors.front();
        return callback(context, subject.c_str(), problem.c_str()) != 0;
      };
    }
  }
  return params;
}

Result<Mailbox> mailbox(const SMTPc_MBOX* m, const char* field) {
  if (!m) return Error(ErrorCode::NullArgument, std::string(field) + " is NULL.");
  auto result = Mailbox::create(boundedField(m->NameDisp), boundedField(m->Addr));
  if (!result) return Error(result.error().code(), std::string(field) + ": " + result.error().explanation());
  return result;
}

Result<OutgoingMessage> makeMessage(SMTPc_MSG* msg) {
  if (!msg) return Error(ErrorCode::NullArgument, "The message is NULL.");
  Message m;
  auto from = mailbox(msg->From, "From");
  if (!from) return from.error();
  m.from = *from;
  struct List {
    SMTPc_MBOX** array;
    size_t count;
    std::vector<Mailbox>* into;
    const char* field;
  };
  for (const List& list : {List{msg->ToArray, msg->ToCount, &m.to, "To"}, List{msg->CCArray, msg->CCCount, &m.cc, "Cc"},
                           List{msg->BCCArray, msg->BCCCount, &m.bcc, "Bcc"}}) {
    if (list.count && !list.array) return Error(ErrorCode::NullArgument, std::string(list.field) + " array is NULL.");
    for (size_t i = 0; i < list.count; ++i) {
      auto mb = mailbox(list.array[i], list.field);
      if (!mb) return mb.error();
      list.into->push_back(*mb);
    }
  }
  if (msg->ReplyTo) {
    auto mb = mailbox(msg->ReplyTo, "Reply-To");
    if (!mb) return mb.error();
    m.replyTo.push_back(*mb);
  }
  if (msg->Sender) {
    auto mb = mailbox(msg->Sender, "Sender");
    if (!mb) return mb.error();
    m.sender = *mb;
  }
  if (msg->Subject) m.subject = msg->Subject;
  if (msg->ContentBodyMsg) m.text.assign(msg->ContentBodyMsg, msg->ContentBodyMsgLen);
  if (msg->ContentBodyHtml) m.html = msg->ContentBodyHtml;
  if (msg->AttachCount && !msg->AttachArray) return Error(ErrorCode::NullArgument, "AttachArray is NULL.");
  for (size_t i = 0; i < msg->AttachCount; ++i) {
    const SMTPc_ATTACH& a = msg->AttachArray[i];
    const std::string type = a.ContentType ? a.ContentType : "";
    if (a.Path) {
      auto attachment = Attachment::fromFile(a.Path, type, a.Name ? a.Name : "");
      if (!attachment) return Error(ErrorCode::BodyReadFailed, attachment.error().explanation());
      m.attachments.push_back(*attachment);
    } else {
      if (!a.Data && a.Size) return Error(ErrorCode::NullArgument, "An attachment's Data is NULL.");
      m.attachments.push_back(Attachment::fromMemory(a.Name ? a.Name : "attachment",
                                                     std::string(static_cast<const char*>(a.Data), a.Size), type));
    }
  }
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);  // tm_gmtoff: the offset in force now, summer time included
  auto composed = m.compose(DateTime{static_cast<std::int64_t>(now), static_cast<int>(local.tm_gmtoff / 60)});
  if (!composed) return composed.error();
  std::snprintf(msg->MsgID, sizeof msg->MsgID, "%s", (*composed)->messageId().c_str());
  return OutgoingMessage{m.envelope(), *composed};
}

// SMTPc_DSN as the envelope's request, checked as core checks it. Only the fields the caller's
// StructSize covers are read: the struct may grow, and an older caller's is shorter.
Result<DsnRequest> dsnRequest(const SMTPc_DSN& dsn) {
  if (dsn.StructSize < offsetof(SMTPc_DSN, SendWithoutIfNotOffered) + sizeof dsn.SendWithoutIfNotOffered)
    return Error(ErrorCode::InvalidArgument, "SMTPc_DSN: StructSize is not set; fill the request after SMTPc_SetDsn().");
  constexpr unsigned kKnown =
      SMTPc_DSN_NOTIFY_SUCCESS | SMTPc_DSN_NOTIFY_FAILURE | SMTPc_DSN_NOTIFY_DELAY | SMTPc_DSN_NOTIFY_NEVER;
  if (dsn.Notify & ~kKnown) return Error(ErrorCode::InvalidArgument, "SMTPc_DSN: Notify holds an unknown bit.");
  if (dsn.Ret != SMTPc_DSN_RET_DEFAULT && dsn.Ret != SMTPc_DSN_RET_FULL && dsn.Ret != SMTPc_DSN_RET_HDRS)
    return Error(ErrorCode::InvalidArgument, "SMTPc_DSN: Ret is not one of SMTPc_DSN_RET_*.");
  DsnRequest request;
  request.notify.success = (dsn.Notify & SMTPc_DSN_NOTIFY_SUCCESS) != 0;
  request.notify.failure = (dsn.Notify & SMTPc_DSN_NOTIFY_FAILURE) != 0;
  request.notify.delay = (dsn.Notify & SMTPc_DSN_NOTIFY_DELAY) != 0;
  request.notify.never = (dsn.Notify & SMTPc_DSN_NOTIFY_NEVER) != 0;
  request.ret = dsn.Ret == SMTPc_DSN_RET_FULL ? DsnReturn::Full
                : dsn.Ret == SMTPc_DSN_RET_HDRS ? DsnReturn::Headers
                                                : DsnReturn::Default;
  if (dsn.EnvId) request.envelopeId = dsn.EnvId;
  request.originalRecipients = dsn.NoOrcpt == 0;
  request.ifNotOffered = dsn.SendWithoutIfNotOffered ? IfDsnNotOffered::SendWithout : IfDsnNotOffered::Refuse;
  if (Error bad = request.check(); bad.isError()) return Error(bad.code(), "SMTPc_DSN: " + bad.explanation());
  return request;
}

}  // namespace

extern "C" {

int SMTPc_Connect(const char* host, unsigned short port, const char* username, const char* password,
                  const SMTPc_SECURE_CFG* secure_cfg, SMTPc_ERR* err) {
  auto params = makeParams(host, port, username, password, secure_cfg);
  if (!params) {
    report(err, params.error());
    return -1;
  }
  auto connection = std::make_shared<Connection>();
  connection->client = std::make_unique<posix::BlockingClient>();
  if (Error error = connection->client->connect(std::move(*params))) {
    report(err, error);
    return -1;
  }
  int handle = 0;
  {
    std::lock_guard lock(connectionsMutex);
    while (connections.count(nextHandle)) nextHandle = nextHandle == INT_MAX ? 1 : nextHandle + 1;
    handle = nextHandle;
    nextHandle = nextHandle == INT_MAX ? 1 : nextHandle + 1;
    connections[handle] = std::move(connection);
  }
  report(err, Error());
  return handle;
}

void SMTPc_SendMsg(int handle, SMTPc_MSG* msg, SMTPc_ERR* err) { SMTPc_SendMsgDsn(handle, msg, nullptr, err); }

void SMTPc_SendMsgDsn(int handle, SMTPc_MSG* msg, const SMTPc_DSN* dsn, SMTPc_ERR* err) {
  const auto connection = find(handle);
  if (!connection) return reportNoHandle(err);
  auto outgoing = makeMessage(msg);
  if (!outgoing) return report(err, outgoing.error());
  if (dsn) {
    auto request = dsnRequest(*dsn);
    if (!request) return report(err, request.error());
    outgoing.value().envelope.dsn = *request;
  }
  std::lock_guard lock(connection->mutex);  // waits for another thread's call on this handle
  if (!connection->client) return reportNoHandle(err);  // closed by another thread meanwhile
  report(err, connection->client->send(std::move(*outgoing)).error);
}

void SMTPc_Disconnect(int handle, SMTPc_ERR* err) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(connectionsMutex);
    auto it = connections.find(handle);
    if (it == connections.end()) return reportNoHandle(err);
    connection = std::move(it->second);
    connections.erase(it);
  }
  std::unique_ptr<posix::BlockingClient> client;
  {
    std::lock_guard lock(connection->mutex);  // a call under way in another thread ends first
    client = std::move(connection->client);
  }
  if (!client) return reportNoHandle(err);
  // µC/SMTPc overwrote errors here; the first error of the session is what QUIT reports.
  Error error = client->disconnect();
  report(err, error.code() == ErrorCode::Cancelled ? Error() : error);
}

void SMTPc_SendMail(const char* host, unsigned short port, const char* username, const char* password,
                    const SMTPc_SECURE_CFG* secure_cfg, SMTPc_MSG* msg, SMTPc_ERR* err) {
  auto params = makeParams(host, port, username, password, secure_cfg);
  if (!params) return report(err, params.error());
  auto outgoing = makeMessage(msg);
  if (!outgoing) return report(err, outgoing.error());
  posix::BlockingClient client;
  report(err, client.sendMail(std::move(*params), std::move(*outgoing)).error);
}

void SMTPc_SetMbox(SMTPc_MBOX* mbox, const char* name, const char* addr, SMTPc_ERR* err) {
  if (!mbox || !addr) return report(err, SMTPc_ERR_NULL_PTR, "SMTPc_SetMbox: the mailbox or the address is NULL.");
  if (strnlen(addr, SMTPc_MBOX_ADDR_SIZE + 1) > SMTPc_MBOX_ADDR_SIZE ||
      (name && strnlen(name, SMTPc_MBOX_NAME_SIZE + 1) > SMTPc_MBOX_NAME_SIZE))
    return report(err, SMTPc_ERR_STR_TOO_LONG, "SMTPc_SetMbox: the name or the address is too long for SMTPc_MBOX.");
  auto checked = Mailbox::create(name ? name : "", addr);
  if (!checked) return report(err, checked.error());
  std::snprintf(mbox->NameDisp, sizeof mbox->NameDisp, "%s", name ? name : "");
  std::snprintf(mbox->Addr, sizeof mbox->Addr, "%s", addr);
  report(err, Error());
}

void SMTPc_SetDsn(SMTPc_DSN* dsn, SMTPc_ERR* err) {
  if (!dsn) return report(err, SMTPc_ERR_NULL_PTR, "SMTPc_SetDsn: the request is NULL.");
  std::memset(dsn, 0, sizeof *dsn);
  dsn->StructSize = sizeof *dsn;
  report(err, Error());
}

void SMTPc_SetMsg(SMTPc_MSG* msg, SMTPc_ERR* err) {
  if (!msg) return report(err, SMTPc_ERR_NULL_PTR, "SMTPc_SetMsg: the message is NULL.");
  std::memset(msg, 0, sizeof *msg);
  report(err, Error());
}

void SMTPc_CfgAllowPlaintextAuth(int allow) { allowPlaintext = allow != 0; }

void SMTPc_CfgChunking(int use) { useChunking = use != 0; }

void SMTPc_CfgTimeout(unsigned long timeout_ms) { timeoutMs = timeout_ms; }

const char* SMTPc_ErrExplanation(void) { return lastExplanation; }

const char* SMTPc_ErrName(SMTPc_ERR err) {
  switch (err) {
#define SMTPC_NAME(code) \
  case code:             \
    return #code;
    SMTPC_NAME(SMTPc_ERR_NONE) SMTPC_NAME(SMTPc_ERR_NULL_PTR) SMTPC_NAME(SMTPc_ERR_INVALID_ARG)
    SMTPC_NAME(SMTPc_ERR_SOCK_CONN_FAILED) SMTPC_NAME(SMTPc_ERR_RX_FAILED) SMTPC_NAME(SMTPc_ERR_TX_FAILED)
    SMTPC_NAME(SMTPc_ERR_LINE_TOO_LONG) SMTPC_NAME(SMTPc_ERR_STR_TOO_LONG) SMTPC_NAME(SMTPc_ERR_REP)
    SMTPC_NAME(SMTPc_ERR_ENCODE) SMTPC_NAME(SMTPc_ERR_AUTH_FAILED) SMTPC_NAME(SMTPc_ERR_SECURE_NOT_AVAIL)
    SMTPC_NAME(SMTPc_ERR_HOST_NOT_FOUND) SMTPC_NAME(SMTPc_ERR_TIMEOUT) SMTPC_NAME(SMTPc_ERR_CONN_LOST)
    SMTPC_NAME(SMTPc_ERR_TLS_HANDSHAKE) SMTPC_NAME(SMTPc_ERR_CERT_INVALID) SMTPC_NAME(SMTPc_ERR_STARTTLS_NOT_OFFERED)
    SMTPC_NAME(SMTPc_ERR_AUTH_NOT_OFFERED) SMTPC_NAME(SMTPc_ERR_NO_COMMON_MECH)
    SMTPC_NAME(SMTPc_ERR_PLAINTEXT_AUTH_REFUSED) SMTPC_NAME(SMTPc_ERR_PROTOCOL) SMTPC_NAME(SMTPc_ERR_SENDER_REJECTED)
    SMTPC_NAME(SMTPc_ERR_RCPT_REJECTED) SMTPC_NAME(SMTPc_ERR_MSG_TOO_LARGE) SMTPC_NAME(SMTPc_ERR_MSG_REJECTED)
    SMTPC_NAME(SMTPc_ERR_SERVER_REFUSED) SMTPC_NAME(SMTPc_ERR_FILE) SMTPC_NAME(SMTPc_ERR_CANCELLED)
    SMTPC_NAME(SMTPc_ERR_INVALID_HANDLE)
#undef SMTPC_NAME
  }
  return "SMTPc_ERR_?";
}

}  // extern "C"
