/* The µC/SMTPc C API used from C (compiled as C11, not C++), against the sandbox:
 *   c_api_program STARTTLS_PORT TLS_PORT CA_FILE
 * Exits 0 when every step behaves as documented; prints what differed otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/smtp-c.h"

static int failures = 0;
#define EXPECT(cond, what)                                                               \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "c_api_program: %s (%s)\n", what, SMTPc_ErrExplanation());         \
      ++failures;                                                                        \
    }                                                                                    \
  } while (0)

static int trust_calls = 0;
static int trust_nothing(void* context, const char* subject, const char* problem) {
  (void)context;
  (void)subject;
  (void)problem;
  ++trust_calls;
  return 0;
}

static int open_at_exit = -1;
static void close_at_exit(void) {
  SMTPc_ERR err;
  SMTPc_Disconnect(open_at_exit, &err);
  if (err != SMTPc_ERR_NONE || strlen(SMTPc_ErrExplanation()) != 0) {
    fprintf(stderr, "c_api_program: Disconnect in an atexit handler: %s\n", SMTPc_ErrExplanation());
    _Exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const unsigned short starttls_port = (unsigned short)atoi(argv[1]);
  const unsigned short tls_port = (unsigned short)atoi(argv[2]);
  SMTPc_ERR err;

  SMTPc_MBOX from, to, bad;
  SMTPc_SetMbox(&from, "C Program", "c@example.org", &err);
  EXPECT(err == SMTPc_ERR_NONE, "SetMbox from");
  SMTPc_SetMbox(&to, "", "rcpt@example.net", &err);
  EXPECT(err == SMTPc_ERR_NONE, "SetMbox to");
  SMTPc_SetMbox(&bad, "x", "not an address", &err);
  EXPECT(err == SMTPc_ERR_INVALID_ARG, "SetMbox refuses a bad address");

  SMTPc_MBOX* recipients[] = {&to};
  static const char body[] = "Hello from C.\n.\nend";
  static const unsigned char data[] = {0, 1, 2, 255};
  SMTPc_ATTACH attachment = {"bytes.bin", NULL, data, sizeof data, NULL};
  SMTPc_MSG msg;
  SMTPc_SetMsg(&msg, &err);
  msg.From = &from;
  msg.ToArray = recipients;
  msg.ToCount = 1;
  msg.Subject = "From the C API";
  msg.ContentBodyMsg = body;
  msg.ContentBodyMsgLen = strlen(body);
  msg.AttachArray = &attachment;
  msg.AttachCount = 1;

  SMTPc_SECURE_CFG secure = {SMTPc_SECURE_STARTTLS, NULL, argv[3], NULL, NULL};
  int handle = SMTPc_Connect("127.0.0.1", starttls_port, "demo", "demo", &secure, &err);
  EXPECT(handle >= 0 && err == SMTPc_ERR_NONE, "Connect with STARTTLS");
  SMTPc_SendMsg(handle, &msg, &err);
  EXPECT(err == SMTPc_ERR_NONE, "SendMsg");
  EXPECT(strchr(msg.MsgID, '@') != NULL, "the Message-ID is given back");
  SMTPc_SendMsg(handle, &msg, &err);
  EXPECT(err == SMTPc_ERR_NONE, "SendMsg a second time on the same connection");
  SMTPc_Disconnect(handle, &err);
  EXPECT(err == SMTPc_ERR_NONE, "Disconnect");
  SMTPc_Disconnect(handle, &err);
  EXPECT(err == SMTPc_ERR_INVALID_HANDLE, "a closed handle is refused");

  handle = SMTPc_Connect("127.0.0.1", starttls_port, "demo", "wrong", &secure, &err);
  EXPECT(handle == -1 && err == SMTPc_ERR_AUTH_FAILED, "wrong password gives AUTH_FAILED");
  EXPECT(strstr(SMTPc_ErrExplanation(), "535") != NULL, "the explanation carries the 535 reply");

  SMTPc_SECURE_CFG untrusted = {SMTPc_SECURE_IMPLICIT, NULL, NULL, trust_nothing, NULL};
  SMTPc_SendMail("127.0.0.1", tls_port, "demo", "demo", &untrusted, &msg, &err);
  EXPECT(err == SMTPc_ERR_CERT_INVALID, "an untrusted certificate is refused");
  EXPECT(trust_calls == 1, "the trust callback was asked once");

  SMTPc_SECURE_CFG implicit = {SMTPc_SECURE_IMPLICIT, "localhost", argv[3], NULL, NULL};
  SMTPc_SendMail("localhost", tls_port, "demo", "demo", &implicit, &msg, &err);
  EXPECT(err == SMTPc_ERR_NONE, "SendMail over implicit TLS");

  SMTPc_SendMail("127.0.0.1", starttls_port, "demo", "demo", &secure, NULL, &err);
  EXPECT(err == SMTPc_ERR_NULL_PTR, "a NULL message is refused");

  if (failures == 0) printf("c_api_program: all checks passed\n");
  /* A handle still open when the program ends, closed from an atexit handler (as a C program
   * may): the call and its explanation must not touch thread-local objects already destroyed
   * (under AddressSanitizer that was a heap-use-after-free, found by fuzz_c_api). */
  open_at_exit = SMTPc_Connect("127.0.0.1", starttls_port, "demo", "demo", &secure, &err);
  EXPECT(open_at_exit >= 0 && err == SMTPc_ERR_NONE, "Connect for the atexit close");
  atexit(close_at_exit);
  return failures == 0 ? 0 : 1;
}
