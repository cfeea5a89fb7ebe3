/*
 * µC/SMTPc's SMTPc_SendMail example, for SMTPc's C API: one message, one call.
 *
 *   send_mail HOST PORT FROM TO [CA_FILE]
 *
 * STARTTLS is required and the server's certificate is verified (against the system's CAs, plus
 * CA_FILE if given). The login comes from the environment, so that it is never on a command line:
 * SMTPC_USER and SMTPC_PASSWORD (no SMTPC_USER: no login).
 *
 * Build against an installed SMTPc:  cc send_mail.c $(pkg-config --cflags --libs smtpc)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smtpc/smtp-c.h>

int main(int argc, char** argv) {
  SMTPc_MBOX from, to;
  SMTPc_MBOX* to_array[1];
  SMTPc_MSG msg;
  SMTPc_SECURE_CFG secure;
  SMTPc_ERR err;
  const char* text = "Hello,\r\n\r\nthis message was sent by SMTPc's C API (examples/c/send_mail.c).\r\n";

  if (argc < 5 || argc > 6) {
    fprintf(stderr, "usage: %s HOST PORT FROM TO [CA_FILE]\n", argv[0]);
    return 2;
  }

  /* The mailboxes: checked here, so a bad address never reaches the server. */
  SMTPc_SetMbox(&from, "SMTPc example", argv[3], &err);
  if (err != SMTPc_ERR_NONE) goto failed;
  SMTPc_SetMbox(&to, NULL, argv[4], &err);
  if (err != SMTPc_ERR_NONE) goto failed;

  /* The message: SMTPc_SetMsg clears it; then fill in what it carries. */
  SMTPc_SetMsg(&msg, &err);
  if (err != SMTPc_ERR_NONE) goto failed;
  to_array[0] = &to;
  msg.From = &from;
  msg.ToArray = to_array;
  msg.ToCount = 1;
  msg.Subject = "Hello from SMTPc_SendMail";
  msg.ContentBodyMsg = text;
  msg.ContentBodyMsgLen = strlen(text);

  /* STARTTLS, required; the name checked is the host's. */
  memset(&secure, 0, sizeof secure);
  secure.Mode = SMTPc_SECURE_STARTTLS;
  secure.CaFile = argc == 6 ? argv[5] : NULL;

  /* Connect, say EHLO, start TLS, log in, send, QUIT: all in one call. */
  SMTPc_SendMail(argv[1], (unsigned short)atoi(argv[2]), getenv("SMTPC_USER"), getenv("SMTPC_PASSWORD"),
                 &secure, &msg, &err);
  if (err != SMTPc_ERR_NONE) goto failed;
  printf("sent: %s\n", msg.MsgID);
  return 0;

failed:
  /* The error's name, and what went wrong in words (with the server's reply, if any). */
  fprintf(stderr, "%s: %s\n", SMTPc_ErrName(err), SMTPc_ErrExplanation());
  return 1;
}
