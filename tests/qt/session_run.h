// Runs one whole session with QtClient (the asynchronous API, as the CLI and the GUI use it):
// connect, send the messages once ready, disconnect; collects what a test checks.
#pragma once

#include <QTest>
#include <string>
#include <vector>

#include "smtpc/qt/client.h"

struct SessionRun {
  smtpc::Finished finished;
  std::vector<smtpc::MessageResult> messages;
  std::string transcript;
  std::optional<smtpc::TlsInfo> tls;
  std::optional<smtpc::AuthMechanism> mechanism;
};

inline SessionRun runSession(smtpc::ConnectParams params, const std::vector<smtpc::OutgoingMessage>& messages = {},
                             int timeoutMs = 240000) {
  using namespace smtpc;
  SessionRun result;
  qt::QtClient client;
  bool done = false;
  QObject::connect(&client, &qt::QtClient::transcript, [&](const TranscriptEntry& e) {
    result.transcript += std::string(transcriptPrefix(e)) + " " + e.text + "\n";
  });
  QObject::connect(&client, &qt::QtClient::tlsEstablished, [&](const TlsInfo& info) { result.tls = info; });
  QObject::connect(&client, &qt::QtClient::authenticated, [&](AuthMechanism m) { result.mechanism = m; });
  QObject::connect(&client, &qt::QtClient::messageResult, [&](const MessageResult& r) { result.messages.push_back(r); });
  QObject::connect(&client, &qt::QtClient::ready, [&] {
    for (const auto& m : messages) (void)client.sendMessage(m);
    client.disconnectFromServer();
  });
  QObject::connect(&client, &qt::QtClient::finished, [&](const Finished& f) {
    result.finished = f;
    done = true;
  });
  if (Error error = client.connectToServer(params)) {
    result.finished.error = error;
  } else if (!QTest::qWaitFor([&] { return done; }, timeoutMs)) {
    client.cancel();
    result.finished.error = Error(ErrorCode::Timeout, "the test gave up waiting for the session");
  }
  return result;
}
