/* The C API's row of tests/bench/run-native: connect, STARTTLS, AUTH, QUIT through libsmtpc, as a
 * C program would (SMTPc_Connect + SMTPc_Disconnect), so the whole process is what is timed.
 *   c_connect HOST PORT USER CA_FILE     (the password in SMTPC_BENCH_PASSWORD)
 * Exit status 0 when the session opened and closed without error. */
#include <stdio.h>
#include <stdlib.h>

#include "smtpc/smtp-c.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: c_connect HOST PORT USER CA_FILE (password in SMTPC_BENCH_PASSWORD)\n");
    return 2;
  }
  const char* password = getenv("SMTPC_BENCH_PASSWORD");
  SMTPc_SECURE_CFG secure = {SMTPc_SECURE_STARTTLS, NULL, argv[4], NULL, NULL};
  SMTPc_ERR err = SMTPc_ERR_NONE;
  int handle = SMTPc_Connect(argv[1], (unsigned short)atoi(argv[2]), argv[3], password ? password : "", &secure, &err);
  if (handle < 0) {
    fprintf(stderr, "c_connect: SMTPc_Connect failed (%d)\n", (int)err);
    return 1;
  }
  SMTPc_Disconnect(handle, &err);
  if (err != SMTPc_ERR_NONE) {
    fprintf(stderr, "c_connect: SMTPc_Disconnect reported %d\n", (int)err);
    return 1;
  }
  return 0;
}
